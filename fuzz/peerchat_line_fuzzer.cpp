// Fuzzes peerchat's rendezvous codec (impl/proto/peerchat/rendezvous.hpp).
//
// Input: [mode] then a byte stream, cut at LF as core::line_framer would cut it (one CR before the LF
// dropped). mode % 4 picks what every line is checked for, so that each input pays for one family of
// checks and libFuzzer keeps inputs per family (the seeds spell the mode as '0'..'3'):
//   0 client lines: parse_client_line and its round trip.
//   1 server lines: parse_server_line and the line builders.
//   2 names and addresses: the line and each of its fields through valid_name, the line through
//     start_chat_address.
//   3 keys: each field that starts with "ed25519:" through parse_public_key, and the stream's first 32
//     bytes formatted as a key.
//
// Invariants: a client line parses only under one of the seven exact commands, its fields hold no SP and
// are non-empty where the grammar says so, and format() gives one LF-terminated line that parses back to
// the same value; a known server line rebuilt with its *_line() builder parses back to the same value; a
// name that valid_name accepts obeys the grammar (checked here by a separate oracle); an accepted key has
// one spelling (format_public_key gives back the field) and a well-formed fingerprint; a normalised
// address that is an IP address is a fixpoint.
#include <arpa/inet.h>

#include <cctype>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz/check.hpp"
#include "impl/proto/peerchat/rendezvous.hpp"

namespace {

using namespace parley::peerchat;

constexpr std::string_view client_words[] = {"HELLO", "REGISTER", "LISTUSERS", "CHAT", "OK", "ERROR", "CLOSE"};

// The name grammar of spec §4, written independently of valid_name so that the two can disagree.
bool name_oracle(std::string_view name) {
  constexpr std::string_view allowed = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-";
  if (name.size() < 1 || name.size() > 32) return false;
  if (name.find_first_not_of(allowed) != std::string_view::npos) return false;
  return name != "STARTUSERS" && name != "ENDUSERS";
}

std::string_view first_word(std::string_view line) { return line.substr(0, line.find(' ')); }

bool same(const client_line& a, const client_line& b) {
  return a.command == b.command && a.argument == b.argument && a.key == b.key && a.port == b.port;
}

bool same(const server_line& a, const server_line& b) {
  return a.command == b.command && a.text == b.text && a.port == b.port && a.address == b.address &&
         a.name == b.name && a.key == b.key;
}

// A formatted line without its LF, checked to be exactly one line.
std::string_view one_line(const std::string& formatted) {
  PARLEY_FUZZ_CHECK(!formatted.empty() && formatted.back() == '\n', "a formatted line lacks its LF");
  std::string_view content(formatted.data(), formatted.size() - 1);
  PARLEY_FUZZ_CHECK(content.find('\n') == std::string_view::npos, "a formatted line holds a second LF");
  return content;
}

void check_client(std::string_view line) {
  auto parsed = parse_client_line(line);
  std::string_view word = first_word(line);
  bool known = false;
  for (auto w : client_words) known = known || w == word;
  if (!parsed) {
    // PC-LINE-04 for anything but the seven commands; PC-ERR-02 only for those that take fixed fields.
    bool fixed_fields = word == "REGISTER" || word == "CHAT" || word == "LISTUSERS" || word == "CLOSE";
    PARLEY_FUZZ_CHECK(parsed.error() == (fixed_fields ? errc::bad_syntax : errc::unknown_command),
                      "a client line was refused with the wrong error");
    PARLEY_FUZZ_CHECK(known || parsed.error() == errc::unknown_command, "an unknown command was not unknown");
    return;
  }
  PARLEY_FUZZ_CHECK(known, "a client line parsed under an unknown or lower-case command");
  const client_line& c = *parsed;
  switch (c.command) {
    case client_command::register_user:
    case client_command::chat:
      PARLEY_FUZZ_CHECK(!c.argument.empty() && c.argument.find(' ') == std::string::npos,
                        "REGISTER/CHAT kept an empty field or one with a SP");
      PARLEY_FUZZ_CHECK(c.key.find(' ') == std::string::npos, "REGISTER's key field holds a SP");
      PARLEY_FUZZ_CHECK(c.command == client_command::register_user || c.key.empty(), "CHAT has a key");
      break;
    case client_command::accept_port:
      PARLEY_FUZZ_CHECK(!c.port || *c.port <= 65535, "OK carries a port beyond 65535");
      PARLEY_FUZZ_CHECK(c.port.has_value() == (line.size() > 2), "OK <n> and bare OK were confused");
      break;
    case client_command::list_users:
    case client_command::close:
      PARLEY_FUZZ_CHECK(line == word, "LISTUSERS/CLOSE accepted trailing text");
      break;
    case client_command::hello:
    case client_command::refuse_port:
      break;
  }
  // Round trip: the formatted line is one line and parses to the same value; formatting is then a fixpoint.
  std::string formatted = format(c);
  auto again = parse_client_line(one_line(formatted));
  PARLEY_FUZZ_CHECK(again && same(*again, c), "format(parse(line)) does not parse back to the same line");
  PARLEY_FUZZ_CHECK(format(*again) == formatted, "format() is not a fixpoint");
}

void check_server(std::string_view line) {
  server_line s = parse_server_line(line);
  std::string rebuilt;
  switch (s.command) {
    case server_command::other:
      PARLEY_FUZZ_CHECK(s.text == line, "an unknown server line was not kept whole");
      return;
    case server_command::hello:
      // Only the two HELLOs a server may send have a builder.
      if (s.text.empty() || s.text == version2) rebuilt = hello_line(!s.text.empty());
      break;
    case server_command::registered:
      PARLEY_FUZZ_CHECK(!s.text.empty() && s.text.find(' ') == std::string::npos, "REGISTERED with a bad name");
      rebuilt = registered_line(s.text);
      break;
    case server_command::port:
      PARLEY_FUZZ_CHECK(s.port <= 65535, "PORT beyond 65535");
      PARLEY_FUZZ_CHECK(valid_chat_port(s.port) == (s.port >= 40000 && s.port <= 59999), "valid_chat_port is off");
      rebuilt = port_line(s.port);
      break;
    case server_command::start_chat:
      PARLEY_FUZZ_CHECK(s.port <= 65535 && !s.address.empty() && !s.name.empty(), "STARTCHAT with a bad field");
      rebuilt = start_chat_line(s.address, s.port, s.name, s.key);
      break;
    case server_command::error:
      rebuilt = error_line(s.text);
      break;
    case server_command::start_users:
    case server_command::end_users:
    case server_command::ok:
    case server_command::close:
      PARLEY_FUZZ_CHECK(s.text.empty() && line == first_word(line), "a bare server word kept text");
      return;
  }
  if (rebuilt.empty()) return;
  server_line again = parse_server_line(one_line(rebuilt));
  PARLEY_FUZZ_CHECK(same(again, s), "a server line rebuilt by its builder does not parse back the same");
}

void check_key(std::string_view field) {
  auto key = parse_public_key(field);
  if (!key) {
    PARLEY_FUZZ_CHECK(key.error() == errc::bad_key, "a key was refused with the wrong error");
    return;
  }
  PARLEY_FUZZ_CHECK(format_public_key(*key) == field, "an accepted key has a second spelling");
  auto again = parse_public_key(format_public_key(*key));
  PARLEY_FUZZ_CHECK(again && *again == *key, "a formatted key does not parse back");
  std::string print = fingerprint(*key);
  PARLEY_FUZZ_CHECK(print.size() == 39, "a fingerprint is not 8 groups of 4 hex digits");
  for (std::size_t i = 0; i < print.size(); ++i)
    PARLEY_FUZZ_CHECK(i % 5 == 4 ? print[i] == ' ' : std::isxdigit(static_cast<unsigned char>(print[i])) != 0,
                      "a fingerprint has a stray character");
}

void check_name(std::string_view field) {
  PARLEY_FUZZ_CHECK(valid_name(field) == name_oracle(field), "valid_name disagrees with the grammar");
}

bool is_address(const std::string& text) {
  unsigned char buffer[16];
  return inet_pton(AF_INET, text.c_str(), buffer) == 1 || inet_pton(AF_INET6, text.c_str(), buffer) == 1;
}

void check_address(std::string_view peer) {
  if (peer.find('\0') != std::string_view::npos) return;  // a host's peer text never holds a NUL
  std::string address = start_chat_address(peer);
  PARLEY_FUZZ_CHECK(address.find('%') == std::string::npos, "a zone survived in a STARTCHAT address");
  if (is_address(address))
    PARLEY_FUZZ_CHECK(start_chat_address(address) == address, "a normalised address is not a fixpoint");
}

// Calls `check` on each field of `line` (split at SP).
template <class Check>
void each_field(std::string_view line, Check check) {
  for (;;) {
    auto space = line.find(' ');
    check(line.substr(0, space));
    if (space == std::string_view::npos) return;
    line.remove_prefix(space + 1);
  }
}

void check_line(unsigned mode, std::string_view line) {
  switch (mode) {
    case 0: check_client(line); break;
    case 1: check_server(line); break;
    case 2:
      check_name(line);
      check_address(line);
      each_field(line, check_name);
      break;
    default:
      each_field(line, [](std::string_view field) {
        if (field.starts_with("ed25519:")) check_key(field);
      });
      break;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  unsigned mode = data[0] % 4;
  std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  // Any 32 bytes, formatted as a key: either refused as not a point, or back with the same bytes.
  if (mode == 3 && bytes.size() >= 32) {
    public_key raw{};
    for (std::size_t i = 0; i < raw.size(); ++i) raw[i] = static_cast<std::uint8_t>(bytes[i]);
    auto parsed = parse_public_key(format_public_key(raw));
    PARLEY_FUZZ_CHECK(!parsed || *parsed == raw, "a key came back with other bytes");
  }
  // Lines as the framer hands them over: cut at LF, one CR before it dropped, and the unterminated tail
  // too (the hub never sees it as a line, but the parsers must not care where it came from).
  while (!bytes.empty()) {
    auto lf = bytes.find('\n');
    std::string_view line = bytes.substr(0, lf);
    if (lf != std::string_view::npos && line.ends_with('\r')) line.remove_suffix(1);
    check_line(mode, line);
    if (lf == std::string_view::npos) break;
    bytes.remove_prefix(lf + 1);
  }
  return 0;
}
