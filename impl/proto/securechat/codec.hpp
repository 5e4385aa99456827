// JSON text <-> securechat messages. Parsing never throws and checks every field; writing produces what
// the original (Python's json.dumps) produces, byte for byte (SC-MSG-07).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "impl/proto/securechat/message.hpp"

namespace parley::securechat {

enum class decode_error {
  invalid_json,     // not JSON at all, or nested deeper than max_depth
  not_an_object,    // JSON, but not an object
  bad_envelope,     // `_command` or `id` missing or not a string, or `id` beyond its limit
  unknown_command,  // `_command` names no message
  bad_field,        // a field missing, of the wrong type, or beyond its limit
};

struct decode_failure {
  decode_error kind;
  // The message's id when it is readable (a string, even one beyond the 1..64 limit): ErrorMessage's
  // ref_message_id (SC-ERR-01).
  std::optional<std::string> id;
  std::string command;  // `_command` when it is a string, so a hub can treat a broken JoinMessage as a join
  std::string field;    // bad_field: the first field found wrong
  std::string detail;   // what exactly is wrong, for the ErrorMessage text and logs
};

using decoded = std::variant<envelope, decode_failure>;

decoded decode(std::string_view text);

// One JSON object as Python's json.dumps writes it: `_command`, `id`, then the fields in spec order,
// separators ", " and ": ", every non-ASCII character as \uXXXX.
std::string encode(const envelope& e);

// "JoinMessage", ... : the `_command` of a message.
std::string_view command_name(const message& m);

// A JSON string literal as json.dumps writes it (with the quotes). Invalid UTF-8 becomes U+FFFD.
std::string python_json_string(std::string_view utf8);

}  // namespace parley::securechat
