// The peerchat rendezvous lines (spec §3-§5): one line, terminator already removed by core::line_framer,
// to a message and back. Pure; shared by the hub, the client agent, the conformance adapter and the fuzzers.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "impl/core/result.hpp"
#include "impl/proto/peerchat/errc.hpp"

namespace parley::peerchat {

inline constexpr unsigned short default_port = 6969;      // PC-CONN-01
inline constexpr std::size_t max_line = 512;              // bytes incl. LF (PC-LINE-03)
inline constexpr std::size_t max_name = 32;               // PC-REG-04
inline constexpr unsigned first_chat_port = 40000;        // PC-PORT-01
inline constexpr unsigned last_chat_port = 59999;
inline constexpr int max_rounds = 20;                     // PC-PORT-04
inline constexpr std::string_view version2 = "peerchat/2";  // HELLO argument (PC-HELLO-02)

using public_key = std::array<std::uint8_t, 32>;  // raw Ed25519 (RFC 8032)

// 1..32 of [A-Za-z0-9_.-], not STARTUSERS or ENDUSERS (PC-REG-04).
bool valid_name(std::string_view name) noexcept;
// A line's fields. They are separated by exactly one SP (spec §3), so "a  b" has an empty middle field and
// "a " an empty last one: both are kept, and the callers decide that an empty field is Bad_syntax (PC-ERR-02).
std::vector<std::string_view> split_fields(std::string_view line);
bool valid_chat_port(unsigned port) noexcept;

// "ed25519:" + 64 lower-case hex digits whose bytes are a valid Ed25519 point; errc::bad_key otherwise.
result<public_key> parse_public_key(std::string_view field);
std::string format_public_key(const public_key& key);
// SHA-256 of the raw key, first 16 bytes as hex in groups of four digits: "3d40 17c3 ...".
std::string fingerprint(const public_key& key);

// --- client to server -------------------------------------------------------------------------------
enum class client_command { hello, register_user, list_users, chat, accept_port, refuse_port, close };

struct client_line {
  client_command command = client_command::hello;
  std::string argument;           // HELLO's argument; REGISTER's and CHAT's name; ERROR's code
  std::string key;                // REGISTER's optional second field, unchecked (the hub checks, PC-REG order)
  std::optional<unsigned> port;   // OK <n>
};

// errc::unknown_command (PC-LINE-04) or errc::bad_syntax (PC-ERR-02). Names and keys are not validated
// here, because the hub must check them in the order of spec §5.2.
result<client_line> parse_client_line(std::string_view line);
std::string format(const client_line& line);  // with "\n"

// --- server to client -------------------------------------------------------------------------------
enum class server_command { hello, registered, start_users, end_users, ok, port, start_chat, close, error, other };

struct server_line {
  server_command command = server_command::other;
  std::string text;      // HELLO's argument, REGISTERED's name, ERROR's code, or the whole line for `other`
  unsigned port = 0;     // PORT, STARTCHAT
  std::string address;   // STARTCHAT
  std::string name;      // STARTCHAT: the other user
  std::optional<public_key> key;  // STARTCHAT's fifth field, when valid
};

// Dispatches on the exact first word (PC-CLI-01); accepts the seed's `REGISTER u OK` as `registered`
// (PC-CLI-02). Never fails: a line it does not know, a user name inside a list among them, is `other`.
server_line parse_server_line(std::string_view line);

std::string hello_line(bool version2);                       // "HELLO\n" / "HELLO peerchat/2\n"
std::string registered_line(std::string_view name);          // "REGISTERED <name> OK\n"
std::string port_line(unsigned port);                        // "PORT <n>\n"
std::string start_chat_line(std::string_view address, unsigned port, std::string_view name,
                            const std::optional<public_key>& key);
std::string error_line(std::string_view code);               // "ERROR <code>\n"

// The ERROR codes of spec §4.1.
namespace code {
inline constexpr std::string_view operation_unknown = "Operation_unknown";
inline constexpr std::string_view bad_syntax = "Bad_syntax";
inline constexpr std::string_view invalid_name = "Invalid_name";
inline constexpr std::string_view bad_key = "Bad_key";
inline constexpr std::string_view user_exists = "User_exists";
inline constexpr std::string_view already_auth = "Already_auth";
inline constexpr std::string_view not_registered = "Not_registered";
inline constexpr std::string_view user_not_online = "User_not_online";
inline constexpr std::string_view self_chat = "Self_chat";
inline constexpr std::string_view user_busy = "User_busy";
inline constexpr std::string_view max_retries = "Max_PortAgree_Retries_Exceded";  // the original's spelling
inline constexpr std::string_view chat_aborted = "Chat_aborted";
inline constexpr std::string_view line_too_long = "Line_too_long";
inline constexpr std::string_view server_full = "Server_full";
inline constexpr std::string_view port_unavailable = "Port_unavailable";  // a client's refusal (PC-CLI-03)
}  // namespace code

// The IP text of an endpoint as STARTCHAT carries it: IPv4-mapped IPv6 as dotted decimal (PC-START-02).
// `peer` is the host's "address:port" / "[v6]:port" form; returns the address part normalised.
std::string start_chat_address(std::string_view peer);

}  // namespace parley::peerchat
