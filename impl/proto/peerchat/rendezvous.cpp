#include "impl/proto/peerchat/rendezvous.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/bn.h>
#include <openssl/evp.h>

#include <array>
#include <vector>

#include "impl/core/crypto/digest.hpp"
#include "impl/core/encoding.hpp"

namespace parley::peerchat {
namespace {

constexpr std::string_view key_prefix = "ed25519:";


struct command_split {
  std::string_view word, rest;
  bool has_rest = false;
};

command_split split_command(std::string_view line) {
  auto space = line.find(' ');
  if (space == std::string_view::npos) return {line, {}, false};
  return {line.substr(0, space), line.substr(space + 1), true};
}

bool all_non_empty(const std::vector<std::string_view>& fields) {
  for (auto f : fields)
    if (f.empty()) return false;
  return true;
}

// Decimal digits only, at most 65535; anything else is no port.
std::optional<unsigned> parse_port_number(std::string_view text) {
  if (text.empty() || text.size() > 5) return std::nullopt;
  unsigned value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  if (value > 65535) return std::nullopt;
  return value;
}

// The curve's constants, made once: p = 2^255 - 19 and d = -121665/121666 mod p. Read-only after that, so
// threads may share them.
struct curve_constants {
  BIGNUM* p = BN_new();
  BIGNUM* d = BN_new();
  bool ok = false;

  curve_constants() {
    BN_CTX* ctx = BN_CTX_new();
    BIGNUM* t = BN_new();
    ok = ctx && t && p && d && BN_set_bit(p, 255) && BN_sub_word(p, 19) && BN_set_word(t, 121666) &&
         BN_mod_inverse(t, t, p, ctx) && BN_set_word(d, 121665) && BN_mod_mul(d, d, t, p, ctx) && BN_sub(d, p, d);
    BN_free(t);
    BN_CTX_free(ctx);
  }
};

// RFC 8032 §5.1.3 point decoding: y < p and (y^2 - 1) / (d y^2 + 1) is a square mod p, with x = 0 not
// marked negative. OpenSSL 3 imports any 32 bytes as a raw Ed25519 key and only fails at verification,
// so this is what makes "decodes as a point" (PC-KEY-02) a real check.
bool decodes_as_point(const public_key& key) {
  static const curve_constants curve;
  if (!curve.ok) return false;
  auto y_le = key;
  bool x_negative = (y_le[31] & 0x80) != 0;
  y_le[31] &= 0x7f;
  BN_CTX* ctx = BN_CTX_new();
  if (!ctx) return false;
  BN_CTX_start(ctx);
  BIGNUM* y = BN_CTX_get(ctx);
  BIGNUM* t = BN_CTX_get(ctx);
  BIGNUM* u = BN_CTX_get(ctx);
  BIGNUM* v = BN_CTX_get(ctx);
  bool point = false;
  if (v && BN_lebin2bn(y_le.data(), static_cast<int>(y_le.size()), y) && BN_cmp(y, curve.p) < 0) {
    bool ok = BN_mod_sqr(t, y, curve.p, ctx) && BN_copy(u, t) && BN_sub_word(u, 1) &&  // u = y^2 - 1 (y^2 < p)
              BN_mod_mul(v, curve.d, t, curve.p, ctx) && BN_add_word(v, 1);           // v = d y^2 + 1, never 0 mod p
    if (ok && BN_is_zero(u)) {
      point = !x_negative;  // x = 0 has no negative form
    } else if (ok) {
      // u / v is a square exactly when u v is (1/v = v (1/v)^2), and for a prime p the Kronecker symbol is
      // Legendre's: no inverse and no exponentiation needed. u = -1 wraps: y^2 = 0 gives p - 1.
      if (BN_is_negative(u)) ok = BN_add(u, u, curve.p);
      point = ok && BN_mod_mul(t, u, v, curve.p, ctx) && BN_kronecker(t, curve.p, ctx) == 1;
    }
  }
  BN_CTX_end(ctx);
  BN_CTX_free(ctx);
  return point;
}

bool lower_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

}  // namespace

std::vector<std::string_view> split_fields(std::string_view text) {
  std::vector<std::string_view> fields;
  for (;;) {
    auto space = text.find(' ');
    fields.push_back(text.substr(0, space));
    if (space == std::string_view::npos) return fields;
    text.remove_prefix(space + 1);
  }
}

bool valid_name(std::string_view name) noexcept {
  if (name.empty() || name.size() > max_name) return false;
  // PC-REG-04: these two would end a user list early in a client that reads it.
  if (name == "STARTUSERS" || name == "ENDUSERS") return false;
  for (char c : name) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
              c == '.' || c == '-';
    if (!ok) return false;
  }
  return true;
}

bool valid_chat_port(unsigned port) noexcept { return port >= first_chat_port && port <= last_chat_port; }

namespace {

// PC-KEY-02 names OpenSSL's raw import; it checks only the length, so the point is decoded too. Both cost
// microseconds, and one key is checked several times in a row (a STARTCHAT line parsed, then its key field,
// then the rebuilt line), so the last few answers are kept: the check is a pure function of the 32 bytes.
bool usable_key(const public_key& key) {
  struct answer {
    public_key key{};
    bool usable = false;
    bool filled = false;
  };
  thread_local std::array<answer, 4> recent;
  thread_local std::size_t next_slot = 0;
  for (const auto& a : recent)
    if (a.filled && a.key == key) return a.usable;
  EVP_PKEY* pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, key.data(), key.size());
  bool usable = pkey != nullptr;
  EVP_PKEY_free(pkey);
  usable = usable && decodes_as_point(key);
  recent[next_slot] = {key, usable, true};
  next_slot = (next_slot + 1) % recent.size();
  return usable;
}

}  // namespace

result<public_key> parse_public_key(std::string_view field) {
  if (!field.starts_with(key_prefix)) return errc::bad_key;
  auto hex = field.substr(key_prefix.size());
  if (hex.size() != 64) return errc::bad_key;
  for (char c : hex)
    if (!lower_hex(c)) return errc::bad_key;  // PC-KEY-02: lower case only, one key has one spelling
  auto raw = core::from_hex(hex);
  if (!raw || raw->size() != 32) return errc::bad_key;
  public_key key{};
  std::copy(raw->begin(), raw->end(), key.begin());
  if (!usable_key(key)) return errc::bad_key;
  return key;
}

std::string format_public_key(const public_key& key) {
  return std::string(key_prefix) + core::to_hex(key);
}

std::string fingerprint(const public_key& key) {
  auto hex = core::to_hex(byte_view(core::sha256(key)).first(16));
  std::string out;
  for (std::size_t i = 0; i < hex.size(); i += 4) {
    if (i) out += ' ';
    out.append(hex, i, 4);
  }
  return out;
}

// --- client to server -------------------------------------------------------------------------------

result<client_line> parse_client_line(std::string_view line) {
  auto [word, rest, has_rest] = split_command(line);
  client_line out;
  if (word == "HELLO") {
    // PC-HELLO-02: any argument is allowed; the hub compares it with "peerchat/2".
    out.command = client_command::hello;
    out.argument = rest;
    return out;
  }
  if (word == "REGISTER" || word == "CHAT") {
    // PC-ERR-02: a missing, empty or extra field.
    if (!has_rest) return errc::bad_syntax;
    auto fields = split_fields(rest);
    std::size_t max_fields = word == "REGISTER" ? 2 : 1;
    if (fields.size() > max_fields || !all_non_empty(fields)) return errc::bad_syntax;
    out.command = word == "REGISTER" ? client_command::register_user : client_command::chat;
    out.argument = fields[0];
    if (fields.size() == 2) out.key = fields[1];
    return out;
  }
  if (word == "LISTUSERS" || word == "CLOSE") {
    // The grammar gives these no field. Ignoring trailing text would accept lines the spec does not
    // define, so an argument is Bad_syntax, as for REGISTER and CHAT (PC-ERR-02's principle).
    if (has_rest) return errc::bad_syntax;
    out.command = word == "CLOSE" ? client_command::close : client_command::list_users;
    return out;
  }
  if (word == "OK") {
    // PC-PORT-03/06: `OK` accepts whatever round is pending; `OK <n>` only round n. An `OK` whose field is
    // not a port number is still an answer-shaped line, but for port 0, which no round ever offers, so
    // the hub ignores it as an OK for another port.
    out.command = client_command::accept_port;
    if (has_rest) out.port = parse_port_number(rest).value_or(0);
    return out;
  }
  if (word == "ERROR") {
    // PC-PORT-03: "a line beginning with ERROR refuses", whatever follows.
    out.command = client_command::refuse_port;
    out.argument = rest;
    return out;
  }
  // PC-LINE-04: empty, unknown, other case, or a word only the server sends.
  return errc::unknown_command;
}

std::string format(const client_line& line) {
  std::string out;
  switch (line.command) {
    case client_command::hello:
      out = "HELLO";
      if (!line.argument.empty()) out += ' ' + line.argument;
      break;
    case client_command::register_user:
      out = "REGISTER " + line.argument;
      if (!line.key.empty()) out += ' ' + line.key;
      break;
    case client_command::list_users: out = "LISTUSERS"; break;
    case client_command::chat: out = "CHAT " + line.argument; break;
    case client_command::accept_port:
      out = "OK";
      if (line.port) out += ' ' + std::to_string(*line.port);
      break;
    case client_command::refuse_port:
      out = "ERROR";
      if (!line.argument.empty()) out += ' ' + line.argument;
      break;
    case client_command::close: out = "CLOSE"; break;
  }
  out += '\n';
  return out;
}

// --- server to client -------------------------------------------------------------------------------

server_line parse_server_line(std::string_view line) {
  server_line out;
  out.text = line;  // kept for `other`; replaced below for the lines this parser knows
  auto [word, rest, has_rest] = split_command(line);
  auto fields = has_rest ? split_fields(rest) : std::vector<std::string_view>{};

  if (word == "HELLO") {
    out.command = server_command::hello;
    out.text = rest;
    return out;
  }
  // PC-CLI-02: the seed's `REGISTER u OK` is a success too.
  if ((word == "REGISTERED" || word == "REGISTER") && fields.size() == 2 && !fields[0].empty() &&
      fields[1] == "OK") {
    out.command = server_command::registered;
    out.text = fields[0];
    return out;
  }
  if (!has_rest) {
    if (word == "STARTUSERS") out.command = server_command::start_users;
    else if (word == "ENDUSERS") out.command = server_command::end_users;
    else if (word == "OK") out.command = server_command::ok;
    else if (word == "CLOSE") out.command = server_command::close;
    else if (word == "ERROR") out.command = server_command::error;
    if (out.command != server_command::other) out.text.clear();
    return out;
  }
  if (word == "ERROR") {
    out.command = server_command::error;
    out.text = rest;
    return out;
  }
  if (word == "PORT" && fields.size() == 1) {
    if (auto port = parse_port_number(fields[0])) {
      out.command = server_command::port;
      out.port = *port;
      out.text.clear();
    }
    return out;
  }
  if (word == "STARTCHAT" && (fields.size() == 3 || fields.size() == 4) && all_non_empty(fields)) {
    auto port = parse_port_number(fields[1]);
    if (!port) return out;
    out.command = server_command::start_chat;
    out.text.clear();
    out.address = fields[0];
    out.port = *port;
    out.name = fields[2];
    // PC-KEY-02: a fifth field that is not a valid key is treated as absent; the trust rules decide.
    if (fields.size() == 4)
      if (auto key = parse_public_key(fields[3])) out.key = *key;
    return out;
  }
  return out;
}

std::string hello_line(bool v2) {
  return v2 ? "HELLO " + std::string(version2) + "\n" : std::string("HELLO\n");
}

std::string registered_line(std::string_view name) { return "REGISTERED " + std::string(name) + " OK\n"; }

std::string port_line(unsigned port) { return "PORT " + std::to_string(port) + "\n"; }

std::string start_chat_line(std::string_view address, unsigned port, std::string_view name,
                            const std::optional<public_key>& key) {
  std::string out = "STARTCHAT " + std::string(address) + ' ' + std::to_string(port) + ' ' + std::string(name);
  if (key) out += ' ' + format_public_key(*key);
  out += '\n';
  return out;
}

std::string error_line(std::string_view code) { return "ERROR " + std::string(code) + "\n"; }

std::string start_chat_address(std::string_view peer) {
  std::string host;
  if (peer.starts_with('[')) {
    auto close = peer.find(']');
    host = peer.substr(1, close == std::string_view::npos ? std::string_view::npos : close - 1);
  } else {
    // "a.b.c.d:port"; a bare IPv6 text without brackets has several colons and is taken whole.
    auto colon = peer.rfind(':');
    bool one_colon = colon != std::string_view::npos && peer.find(':') == colon;
    host = one_colon ? peer.substr(0, colon) : peer;
  }
  auto zone = host.find('%');  // a link-local zone is local to the server's host, never useful to a peer
  if (zone != std::string::npos) host.resize(zone);

  in_addr v4{};
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1) return host;
  in6_addr v6{};
  if (inet_pton(AF_INET6, host.c_str(), &v6) != 1) return host;  // not an address: passed on unchanged
  char text[INET6_ADDRSTRLEN] = {};
  // PC-START-02: an IPv4-mapped IPv6 address is written as IPv4.
  if (IN6_IS_ADDR_V4MAPPED(&v6)) {
    std::copy(v6.s6_addr + 12, v6.s6_addr + 16, reinterpret_cast<std::uint8_t*>(&v4.s_addr));
    inet_ntop(AF_INET, &v4, text, sizeof text);
  } else {
    inet_ntop(AF_INET6, &v6, text, sizeof text);  // glibc writes the RFC 5952 form
  }
  return text;
}

}  // namespace parley::peerchat
