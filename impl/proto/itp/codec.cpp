#include "impl/proto/itp/codec.hpp"

#include <algorithm>

namespace parley::itp {
namespace {

struct split_result {
  std::string_view head, rest;
  bool has_rest;
};

// "CMD rest of line" -> {"CMD", "rest of line"}. Only the first space separates, so the rest is byte-exact.
split_result split_first(std::string_view line) {
  auto space = line.find(' ');
  if (space == std::string_view::npos) return {line, {}, false};
  return {line.substr(0, space), line.substr(space + 1), true};
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return (x >= 'a' && x <= 'z' ? x - 32 : x) == (y >= 'a' && y <= 'z' ? y - 32 : y);
         });
}

// "to rest" where both parts must be non-empty.
bool split_target(std::string_view rest, std::string& to, std::string& body) {
  auto [head, tail, has_tail] = split_first(rest);
  if (head.empty() || !has_tail || tail.empty()) return false;
  to.assign(head);
  body.assign(tail);
  return true;
}

// "a:b:c" -> {a, b, c}; every field is kept, empty ones too ("a::" has three), so that serializing the
// list gives the same text back. Only the empty string is the empty list.
std::vector<std::string> split_names(std::string_view list) {
  std::vector<std::string> names;
  if (list.empty()) return names;
  for (;;) {
    auto colon = list.find(':');
    names.emplace_back(list.substr(0, colon));
    if (colon == std::string_view::npos) return names;
    list.remove_prefix(colon + 1);
  }
}

result<server_message> parse_ok(std::string_view rest) {
  auto [what, args, has_args] = split_first(rest);
  if (what == "IDENT" && has_args) return server_message{s2c::ok_ident{std::string(args)}};
  if (what == "BCST" && has_args) return server_message{s2c::ok_bcst{std::string(args)}};
  if (what == "USERS" && has_args) return server_message{s2c::ok_users{split_names(args)}};
  if (what == "PM" || what == "PRIVATE_MESSAGE") {
    s2c::ok_pm ok{.long_form = what != "PM"};
    if (split_target(args, ok.to, ok.body)) return server_message{std::move(ok)};
  }
  if (what == "PM_PUBKEY") return server_message{s2c::ok_pubkey{}};
  if (what == "PM_SESSIONKEY") return server_message{s2c::ok_sessionkey{std::string(args)}};
  if (iequals(what, "GOODBYE")) return server_message{s2c::ok_goodbye{std::string(what)}};
  return server_message{s2c::ok_other{std::string(rest)}};
}

std::string line(std::string_view a) { return std::string(a) + "\n"; }
std::string line(std::string_view a, std::string_view b) { return std::string(a) + " " + std::string(b) + "\n"; }
std::string line(std::string_view a, std::string_view b, std::string_view c) {
  return std::string(a) + " " + std::string(b) + " " + std::string(c) + "\n";
}

}  // namespace

bool valid_username(std::string_view name) noexcept {
  return name.size() >= 3 && name.size() <= 14 && std::all_of(name.begin(), name.end(), [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
         });
}

result<client_message> parse_client_line(std::string_view text) {
  auto [command, rest, has_rest] = split_first(text);
  // IDENT keeps whatever follows, even nothing: a bad or missing name is FAIL02, not FAIL00 (course server).
  if (command == "IDENT") return client_message{c2s::ident{std::string(rest)}};
  if (command == "USERS") return client_message{c2s::users{}};
  if (command == "PONG") return client_message{c2s::pong{}};
  if (command == "QUIT") return client_message{c2s::quit{}};
  if (command == "BCST") {
    if (rest.empty()) return errc::missing_argument;
    return client_message{c2s::bcst{std::string(rest)}};
  }
  if (command == "PM" || command == "PRIVATE_MESSAGE") {
    c2s::pm pm{.long_form = command != "PM"};
    if (!split_target(rest, pm.to, pm.body)) return errc::missing_argument;
    return client_message{std::move(pm)};
  }
  if (command == "PM_PUBKEY") {
    if (rest.empty()) return errc::missing_argument;
    return client_message{c2s::pubkey{std::string(rest)}};
  }
  if (command == "PM_SESSIONKEY") {
    c2s::sessionkey sk;
    if (!split_target(rest, sk.to, sk.key)) return errc::missing_argument;
    return client_message{std::move(sk)};
  }
  if (command == "OK" && (rest == "PM_PUBKEY" || rest == "PM_SESSIONKEY"))
    return client_message{c2s::ack{std::string(rest)}};
  return errc::unknown_command;
}

result<server_message> parse_server_line(std::string_view text) {
  auto [command, rest, has_rest] = split_first(text);
  if (command == "INIT") return server_message{s2c::init{std::string(rest)}};
  if (command == "OK" && has_rest) return parse_ok(rest);
  if (command == "PING") return server_message{s2c::ping{}};
  if (command == "JOINED" && !rest.empty()) return server_message{s2c::joined{std::string(rest)}};
  if (command == "LEFT" && !rest.empty()) return server_message{s2c::left{std::string(rest)}};
  if (command == "DSCN") return server_message{s2c::dscn{std::string(rest)}};
  if (command == "BCST") {
    s2c::bcst b;
    if (split_target(rest, b.from, b.text)) return server_message{std::move(b)};
    return errc::missing_argument;
  }
  if (command == "NPM" || command == "RECEIVE_PRIVATE_MSG") {
    s2c::npm n{.long_form = command != "NPM"};
    if (split_target(rest, n.from, n.body)) return server_message{std::move(n)};
    return errc::missing_argument;
  }
  if (command == "PM_PUBKEY" || command == "PM_SESSIONKEY") {
    std::string from, key;
    if (!split_target(rest, from, key)) return errc::missing_argument;
    if (command == "PM_PUBKEY") return server_message{s2c::pubkey{std::move(from), std::move(key)}};
    return server_message{s2c::sessionkey{std::move(from), std::move(key)}};
  }
  if (command.size() == 6 && command.starts_with("FAIL") && command[4] >= '0' && command[4] <= '9' &&
      command[5] >= '0' && command[5] <= '9')
    return server_message{s2c::fail{(command[4] - '0') * 10 + (command[5] - '0'), std::string(rest)}};
  return errc::unknown_command;
}

std::string serialize(const client_message& message) {
  return std::visit(
      [](const auto& m) -> std::string {
        using T = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<T, c2s::ident>) return line("IDENT", m.name);
        else if constexpr (std::is_same_v<T, c2s::bcst>) return line("BCST", m.text);
        else if constexpr (std::is_same_v<T, c2s::users>) return line("USERS");
        else if constexpr (std::is_same_v<T, c2s::pm>) return line(m.long_form ? "PRIVATE_MESSAGE" : "PM", m.to, m.body);
        else if constexpr (std::is_same_v<T, c2s::pubkey>) return line("PM_PUBKEY", m.key);
        else if constexpr (std::is_same_v<T, c2s::sessionkey>) return line("PM_SESSIONKEY", m.to, m.key);
        else if constexpr (std::is_same_v<T, c2s::pong>) return line("PONG");
        else if constexpr (std::is_same_v<T, c2s::quit>) return line("QUIT");
        else return line("OK", m.what);
      },
      message);
}

std::string serialize(const server_message& message) {
  return std::visit(
      [](const auto& m) -> std::string {
        using T = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<T, s2c::init>) return line("INIT", m.text);
        else if constexpr (std::is_same_v<T, s2c::ok_ident>) return line("OK", "IDENT", m.name);
        else if constexpr (std::is_same_v<T, s2c::ok_bcst>) return line("OK", "BCST", m.text);
        else if constexpr (std::is_same_v<T, s2c::ok_users>) {
          std::string list;
          for (std::size_t i = 0; i < m.names.size(); ++i) list += (i == 0 ? "" : ":") + m.names[i];
          return line("OK", "USERS", list);
        } else if constexpr (std::is_same_v<T, s2c::ok_pm>)
          return "OK " + line(m.long_form ? "PRIVATE_MESSAGE" : "PM", m.to, m.body);
        else if constexpr (std::is_same_v<T, s2c::ok_pubkey>) return line("OK", "PM_PUBKEY");
        else if constexpr (std::is_same_v<T, s2c::ok_sessionkey>) return line("OK", "PM_SESSIONKEY", m.to);
        else if constexpr (std::is_same_v<T, s2c::ok_goodbye>) return line("OK", m.text);
        else if constexpr (std::is_same_v<T, s2c::ok_other>) return line("OK", m.rest);
        else if constexpr (std::is_same_v<T, s2c::joined>) return line("JOINED", m.name);
        else if constexpr (std::is_same_v<T, s2c::left>) return line("LEFT", m.name);
        else if constexpr (std::is_same_v<T, s2c::bcst>) return line("BCST", m.from, m.text);
        else if constexpr (std::is_same_v<T, s2c::npm>) return line(m.long_form ? "RECEIVE_PRIVATE_MSG" : "NPM", m.from, m.body);
        else if constexpr (std::is_same_v<T, s2c::pubkey>) return line("PM_PUBKEY", m.from, m.key);
        else if constexpr (std::is_same_v<T, s2c::sessionkey>) return line("PM_SESSIONKEY", m.from, m.key);
        else if constexpr (std::is_same_v<T, s2c::ping>) return line("PING");
        else if constexpr (std::is_same_v<T, s2c::dscn>) return line("DSCN", m.reason);
        else {
          std::string code = "FAIL";
          code += static_cast<char>('0' + (m.code / 10) % 10);
          code += static_cast<char>('0' + m.code % 10);
          return line(code, m.text);
        }
      },
      message);
}

}  // namespace parley::itp
