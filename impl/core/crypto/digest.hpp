// Hashes, HKDF and randomness.
#pragma once

#include "impl/core/bytes.hpp"
#include "impl/core/errc.hpp"
#include "impl/core/result.hpp"

namespace parley::core {

bytes sha256(byte_view data);

// RFC 5869 HKDF with SHA-256. errc::crypto_failure when `length` exceeds 255 * 32.
result<bytes> hkdf_sha256(byte_view secret, byte_view salt, byte_view info, std::size_t length);

// Bytes from OpenSSL's CSPRNG. Aborts the process if the CSPRNG fails: continuing with predictable keys
// or nonces would be worse than stopping.
bytes random_bytes(std::size_t count);

// Constant-time comparison (for tags and MACs computed outside OpenSSL).
bool equal_constant_time(byte_view a, byte_view b) noexcept;

}  // namespace parley::core
