#include "impl/proto/sslmessager/users.hpp"

#include <charconv>
#include <optional>
#include <vector>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include "impl/core/crypto/digest.hpp"
#include "impl/core/encoding.hpp"
#include "impl/core/errc.hpp"

namespace parley::sslmessager {
namespace {

template <class T>
std::optional<T> decimal(std::string_view s) {
  T v{};
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  for (auto at = s.find(sep); at != std::string_view::npos; at = s.find(sep)) {
    out.push_back(s.substr(0, at));
    s.remove_prefix(at + 1);
  }
  out.push_back(s);
  return out;
}

}  // namespace

bool valid_name(std::string_view name) noexcept {
  if (name.empty() || name.size() > 32) return false;
  for (char c : name)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-'))
      return false;
  return true;
}

bool valid_password(std::string_view password) noexcept {
  if (password.empty() || password.size() > 128) return false;
  for (unsigned char c : password)
    if (!((c >= 0x21 && c <= 0x7e) || c >= 0x80)) return false;
  return true;
}

bool valid_params(const scrypt_params& p) noexcept {
  bool power_of_two = p.n != 0 && (p.n & (p.n - 1)) == 0;
  return power_of_two && p.n >= 16384 && p.n <= 1048576 && p.r >= 1 && p.r <= 32 && p.p >= 1 && p.p <= 16 &&
         128 * p.n * p.r <= 256ull * 1024 * 1024;
}

result<bytes> scrypt_hash(std::string_view password, byte_view salt, const scrypt_params& params) {
  EVP_KDF* kdf = EVP_KDF_fetch(nullptr, "SCRYPT", nullptr);
  if (!kdf) return core::errc::crypto_failure;
  EVP_KDF_CTX* ctx = EVP_KDF_CTX_new(kdf);
  EVP_KDF_free(kdf);
  if (!ctx) return core::errc::crypto_failure;
  std::uint64_t n = params.n, maxmem = 2ull * 128 * params.n * params.r * params.p + (1 << 20);
  std::uint32_t r = params.r, p = params.p;
  OSSL_PARAM list[] = {
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PASSWORD, const_cast<char*>(password.data()), password.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, const_cast<std::uint8_t*>(salt.data()), salt.size()),
      OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_N, &n),
      OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_R, &r),
      OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_P, &p),
      OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_MAXMEM, &maxmem),
      OSSL_PARAM_construct_end()};
  bytes out(hash_size);
  int ok = EVP_KDF_derive(ctx, out.data(), out.size(), list);
  EVP_KDF_CTX_free(ctx);
  if (ok != 1) return core::errc::crypto_failure;
  return out;
}

result<user_entry> make_entry(const std::string& name, std::string_view password, const scrypt_params& params) {
  if (!valid_name(name) || !valid_password(password) || !valid_params(params)) return std::make_error_code(std::errc::invalid_argument);
  user_entry e{name, params, core::random_bytes(16), {}};
  auto h = scrypt_hash(password, e.salt, params);
  if (!h) return h.error();
  e.hash = std::move(*h);
  return e;
}

std::string format_entry(const user_entry& e) {
  return e.name + ":scrypt:" + std::to_string(e.params.n) + ":" + std::to_string(e.params.r) + ":" +
         std::to_string(e.params.p) + ":" + core::to_base64(e.salt) + ":" + core::to_base64(e.hash);
}

bool verify_password(const user_entry& e, std::string_view password) {
  if (!valid_password(password)) return false;
  auto h = scrypt_hash(password, e.salt, e.params);
  return h && h->size() == e.hash.size() && CRYPTO_memcmp(h->data(), e.hash.data(), h->size()) == 0;
}

users_file parse_users(std::string_view text) {
  users_file f;
  int number = 0;
  for (auto line : split(text, '\n')) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line.front() == '#') continue;
    auto where = "line " + std::to_string(number) + ": ";
    auto p = split(line, ':');
    if (p.size() != 7 || p[1] != "scrypt") {
      f.problem = where + "expected name:scrypt:N:r:p:salt:hash";
      return f;
    }
    auto n = decimal<std::uint64_t>(p[2]);
    auto r = decimal<std::uint32_t>(p[3]);
    auto par = decimal<std::uint32_t>(p[4]);
    auto salt = core::from_base64(p[5]);
    auto hash = core::from_base64(p[6]);
    if (!valid_name(p[0])) f.problem = where + "'" + std::string(p[0]) + "' is not a valid name";
    else if (!n || !r || !par || !valid_params({*n, *r, *par}))
      f.problem = where + "scrypt parameters out of bounds (N a power of two 16384-1048576, r 1-32, p 1-16)";
    else if (!salt || salt->size() < 16 || salt->size() > 64) f.problem = where + "the salt must be 16 to 64 bytes of base64";
    else if (!hash || hash->size() != hash_size) f.problem = where + "the hash must be 32 bytes of base64";
    else if (f.users.contains(std::string(p[0]))) f.problem = where + "'" + std::string(p[0]) + "' is listed twice";
    if (!f.problem.empty()) return f;
    f.users[std::string(p[0])] = {std::string(p[0]), {*n, *r, *par}, std::move(*salt), std::move(*hash)};
  }
  return f;
}

}  // namespace parley::sslmessager
