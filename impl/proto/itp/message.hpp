// itp messages in both directions (spec/itp/spec.md, "Message grammar"). A line is a command token, then
// arguments separated by single spaces; the last argument of BCST and PM is the rest of the line.
#pragma once

#include <string>
#include <variant>
#include <vector>

#include "impl/proto/itp/fail_code.hpp"

namespace parley::itp {

// Client to server.
namespace c2s {
struct ident { std::string name; };            // may be empty or malformed: the hub answers FAIL02
struct bcst { std::string text; };
struct users {};
struct pm {
  std::string to, body;
  bool long_form = false;  // sent as PRIVATE_MESSAGE, the seed's synonym (ITP-PM-05)
};
struct pubkey { std::string key; };
struct sessionkey { std::string to, key; };
struct pong {};
struct quit {};
struct ack { std::string what; };  // "OK PM_PUBKEY" / "OK PM_SESSIONKEY" from a recipient (ITP-CMD-05)
}  // namespace c2s

using client_message = std::variant<c2s::ident, c2s::bcst, c2s::users, c2s::pm, c2s::pubkey, c2s::sessionkey,
                                    c2s::pong, c2s::quit, c2s::ack>;

// Server to client.
namespace s2c {
struct init { std::string text; };
struct ok_ident { std::string name; };
struct ok_bcst { std::string text; };
struct ok_users { std::vector<std::string> names; };
struct ok_pm {
  std::string to, body;
  bool long_form = false;
};
struct ok_pubkey {};
struct ok_sessionkey { std::string to; };
struct ok_goodbye { std::string text; };  // "Goodbye" or "GOODBYE"
struct ok_other { std::string rest; };     // an OK this codec does not know; clients ignore it
struct joined { std::string name; };
struct left { std::string name; };
struct bcst { std::string from, text; };
struct npm {
  std::string from, body;
  bool long_form = false;  // RECEIVE_PRIVATE_MSG
};
struct pubkey { std::string from, key; };
struct sessionkey { std::string from, key; };
struct ping {};
struct dscn { std::string reason; };
struct fail {
  int code;  // kept as a number: a client must survive codes it does not know
  std::string text;
};
}  // namespace s2c

using server_message =
    std::variant<s2c::init, s2c::ok_ident, s2c::ok_bcst, s2c::ok_users, s2c::ok_pm, s2c::ok_pubkey, s2c::ok_sessionkey,
                 s2c::ok_goodbye, s2c::ok_other, s2c::joined, s2c::left, s2c::bcst, s2c::npm, s2c::pubkey,
                 s2c::sessionkey, s2c::ping, s2c::dscn, s2c::fail>;

}  // namespace parley::itp
