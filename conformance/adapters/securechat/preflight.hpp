// What the securechat preflight (adapter::identify) makes of a target before the first case: a WebSocket
// handshake, then one JoinMessage signed for a user of the run. A securechat server answers a join with
// WelcomeMessage or ErrorMessage (spec §6.1, SC-JOIN-02..08). Anything else — no WebSocket handshake (an
// HTTP or itp server), no answer, an answer that is no securechat message (an echo) — is one clear problem
// (exit 3) instead of a FAIL per case.
#pragma once

#include <string>
#include <system_error>

#include <nlohmann/json.hpp>

#include "conformance/engine/adapter.hpp"
#include "impl/core/encoding.hpp"

namespace parley::conform::securechat_preflight {

// A connect that failed before any peer spoke (nothing listens, no route, no answer in time), as opposed
// to a peer that answered the WebSocket handshake with something else.
inline bool unreachable(std::error_code ec) {
  return ec == std::errc::connection_refused || ec == std::errc::host_unreachable ||
         ec == std::errc::network_unreachable || ec == std::errc::address_not_available ||
         ec == std::errc::timed_out;
}

inline identity connect_problem(std::error_code ec, const std::string& where) {
  if (unreachable(ec)) return {"could not connect to " + where + ": " + ec.message(), {}, {}};
  return {"not a securechat server: " + where +
              " accepts TCP connections, but the WebSocket opening handshake failed (" + ec.message() +
              "); securechat is JSON over WebSocket (SC-CONN-01)",
          {}, {}};
}

struct join_answer {
  identity verdict;
  bool welcomed = false;  // the engine holds a session to leave
};

// The answer to the preflight's JoinMessage for `user`.
inline join_answer judge(const net::read_result& got, const std::string& user, const std::string& where) {
  using json = nlohmann::json;
  const std::string expected = " (a securechat server answers a JoinMessage with WelcomeMessage or ErrorMessage)";
  if (got.status == net::read_status::timeout)
    return {{"not a securechat server? " + where + " completed a WebSocket handshake, but sent no answer to a "
                 "JoinMessage within 3 s" + expected, {}, {}}};
  if (got.status != net::read_status::data)
    return {{"not a securechat server? " + where + " completed a WebSocket handshake, but ended the connection "
                 "without answering a JoinMessage" + expected, {}, {}}};
  json j = json::parse(got.data, nullptr, false);
  auto text_of = [&j](const char* member) {
    if (!j.is_object()) return std::string{};
    auto it = j.find(member);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string{};
  };
  std::string command = text_of("_command");
  std::string shown = core::printable(std::string_view(got.data).substr(0, 160));
  if (command == "WelcomeMessage") return {{}, true};
  if (command == "ErrorMessage") {
    std::string text = text_of("text");
    // The one answer that says the run is set up wrongly rather than that the target is broken (SC-JOIN-06).
    if (text == "No public key found for user")
      return {{"the target does not know the user '" + user + "': it answered the preflight's JoinMessage with "
                   "'No public key found for user'. Start it with a key store that holds the public keys of the users "
                   "whose private keys are in --keys (with --launch, pass {keys} to it)", {}, {}}};
    return {{{}, {}, "the preflight's join as " + user + " was refused ('" + text + "'); if every join is, the "
                     "target may hold other keys than those in --keys"}};
  }
  // Server messages that may come first from a server that breaks SC-WELCOME-01: still securechat.
  for (const char* server_type : {"AddUserMessage", "RemoveUserMessage", "RoutedPublicMessage", "RoutedPrivateMessage"})
    if (command == server_type) return {{{}, {}, "the target answered the preflight's JoinMessage with " + command}};
  for (const char* client_type : {"JoinMessage", "LeaveMessage", "PublicMessage", "PrivateMessage"})
    if (command == client_type)
      return {{"not a securechat server: " + where + " answered a JoinMessage with a " + command + " ('" + shown +
                   "'), which only clients send: an echo?" + expected, {}, {}}};
  return {{"not a securechat server: " + where + " answered a JoinMessage with '" + shown +
               "', which is no securechat server message" + expected, {}, {}}};
}

}  // namespace parley::conform::securechat_preflight
