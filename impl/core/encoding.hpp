// Hex and base64 (RFC 4648, standard alphabet, padded). Decoders are strict: any character outside the
// alphabet, bad padding or non-canonical trailing bits is an error, so one value has one encoding.
#pragma once

#include "impl/core/bytes.hpp"
#include "impl/core/errc.hpp"
#include "impl/core/result.hpp"

namespace parley::core {

std::string to_hex(byte_view data);
// Accepts upper and lower case. errc::invalid_hex on odd length or a non-hex character.
result<bytes> from_hex(std::string_view text);

std::string to_base64(byte_view data);
// errc::invalid_base64 unless `text` is canonical padded base64 (the empty string decodes to nothing).
result<bytes> from_base64(std::string_view text);

// Wire bytes made safe for logs and terminals: \n, \r and \\ named, other control characters and
// bytes >= 0x7f as \xNN, so a peer cannot inject escape sequences or fake log lines.
std::string printable(std::string_view bytes);

}  // namespace parley::core
