// RSA keys for unit tests: one 2048-bit key per name, made on first use and shared by every test of the
// binary, since generating them is what makes a crypto test slow.
#pragma once

#include <map>
#include <string>

#include "impl/core/crypto/pkey.hpp"

namespace parley::core::testing {

inline const pkey& key_of(const std::string& name) {
  static std::map<std::string, pkey> keys;
  auto it = keys.find(name);
  if (it == keys.end()) it = keys.emplace(name, *pkey::generate_rsa(2048)).first;
  return it->second;
}

// A key's public half alone, as a peer holds it.
inline pkey public_of(const pkey& key) { return *pkey::from_public_pem(key.public_pem()); }

}  // namespace parley::core::testing
