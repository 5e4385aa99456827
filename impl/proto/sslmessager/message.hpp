// sslmessager's messages (spec/sslmessager/spec.md §4-§5): how a byte stream becomes messages — CRLF (or
// LF) terminated, or a fragment that stopped arriving, as the original sends one message per TLS record
// without a terminator — and the grammar of what each side sends. Written as `<content> SP CR LF`.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "impl/core/clock.hpp"

namespace parley::sslmessager {

inline constexpr unsigned short default_port = 18443;
inline constexpr std::size_t max_message = 4096;  // terminator included (SSLM-FRAME-08)
inline constexpr std::size_t max_text = 4000;     // a RELAY of the longest MSG still fits (SSLM-MSG-08)
inline constexpr millis fragment_timeout{200};    // SSLM-FRAME-05

// The bytes a sender writes for one message: content, one SP, CR LF (SSLM-FRAME-01).
std::string wire(std::string_view content);

// Splits a received byte stream into message contents (terminator and one trailing SP removed, empty
// messages dropped) per §4.2. Holds at most max_message bytes.
class message_reader {
public:
  enum class status { ok, too_long };
  explicit message_reader(millis fragment = fragment_timeout) : fragment_(fragment) {}

  // Appends `bytes` received at `now`; complete messages go to `out`. too_long: the stream must end, and
  // the reader drops what it held and delivers nothing more (the bytes after an overlong message cannot be
  // told apart into messages, so none of them is one).
  status feed(std::string_view bytes, time_point now, std::vector<std::string>& out);
  // When held bytes have waited a fragment timeout, they become one message.
  void on_timer(time_point now, std::vector<std::string>& out);
  // The end of the stream: held bytes become one final message (SSLM-FRAME-06).
  void finish(std::vector<std::string>& out);
  std::optional<time_point> deadline() const;
  std::size_t held() const noexcept { return held_.size(); }

private:
  void deliver(std::string content, std::vector<std::string>& out);
  status overlong();
  std::string held_;
  time_point last_byte_{};
  millis fragment_;
  bool overlong_ = false;
};

// What a wire log shows instead of a password: always the same, so not even its length shows.
inline constexpr std::string_view password_mask = "<hidden>";

// For wire logs: replaces the password of a connection's first line (its AUTH) with password_mask,
// whatever the chunks it arrives in (SSLM-USERS-04). One per server; it remembers at most `max_pending`
// unfinished first lines.
class auth_redactor {
public:
  std::string operator()(std::uint64_t conn, std::string_view chunk);

private:
  static constexpr std::size_t max_pending = 4096;
  // For connections whose first line has not ended: the spaces seen so far, up to 2 ("AUTH name "), then
  // 3 once the mask stands for the field being read.
  std::map<std::uint64_t, int> state_;
  std::set<std::uint64_t> done_;
};

// How a client's wire log shows a chunk: printable, and an AUTH line's password replaced by password_mask.
std::string loggable(std::string_view chunk);

// What a client sends.
namespace client_msg {
struct auth {
  std::string name, password;
};
struct msg {
  std::string target, sender, text;
};
struct end {};
// Not one of the above: an unknown or lower-case command, a wrong field count, a CR inside.
struct malformed {
  std::string why;
};
}  // namespace client_msg
using client_message = std::variant<client_msg::auth, client_msg::msg, client_msg::end, client_msg::malformed>;
client_message parse_client(std::string_view content);

// What a server sends.
namespace server_msg {
struct accept {
  std::string name;
};
struct relay {
  std::string target, sender, text;
};
struct cnt {};
struct check {};
struct end {
  bool violation = false;  // the "*" of END * <reason>
  std::string reason;      // without the angle brackets
};
struct unknown {
  std::string content;
};
}  // namespace server_msg
using server_message =
    std::variant<server_msg::accept, server_msg::relay, server_msg::cnt, server_msg::check, server_msg::end, server_msg::unknown>;
server_message parse_server(std::string_view content);

// The server's END lines (§5.4), as content (without SP CR LF).
namespace end_text {
inline constexpr std::string_view bad_login = "END <incorrect username or password>";
inline constexpr std::string_view already_online = "END <user already online>";
inline constexpr std::string_view end_accepted = "END <end accepted>";
inline constexpr std::string_view bad_protocol = "END * <incorrect protocol>";
inline constexpr std::string_view bad_sender = "END * <incorrect sender>";
inline constexpr std::string_view too_long = "END * <message too long>";
inline constexpr std::string_view login_timeout = "END * <login timeout>";
}  // namespace end_text
inline constexpr std::string_view cnt_text = "CNT <user not online>";

}  // namespace parley::sslmessager
