#include "impl/proto/sslmessager/message.hpp"

#include <algorithm>
#include <array>

#include "impl/core/encoding.hpp"

namespace parley::sslmessager {
namespace {

// At most four fields, in place: every message received is split, and a vector cost an allocation each.
struct field_list {
  std::array<std::string_view, 4> items{};
  std::size_t count = 0;
  std::size_t size() const noexcept { return count; }
  std::string_view operator[](std::size_t i) const noexcept { return items[i]; }
};

// Splits "a b c" at single spaces into at most `parts` (1 to 4) fields; the last takes the rest, spaces
// included.
field_list fields(std::string_view s, std::size_t parts) {
  field_list out;
  while (out.count + 1 < parts) {
    auto sp = s.find(' ');
    if (sp == std::string_view::npos) break;
    out.items[out.count++] = s.substr(0, sp);
    s.remove_prefix(sp + 1);
  }
  out.items[out.count++] = s;
  return out;
}

bool is_token(std::string_view s) { return !s.empty() && s.find(' ') == std::string_view::npos; }

}  // namespace

std::string wire(std::string_view content) { return std::string(content) + " \r\n"; }

message_reader::status message_reader::feed(std::string_view bytes, time_point now, std::vector<std::string>& out) {
  if (overlong_) return status::too_long;
  held_.append(bytes);
  last_byte_ = now;
  // Delivered messages are dropped from the front once, at the end: erasing each in turn would move the
  // rest of a chunk of many short messages again for every one of them.
  std::size_t start = 0;
  for (auto lf = held_.find('\n', start); lf != std::string::npos; lf = held_.find('\n', start)) {
    if (lf - start >= max_message) return overlong();  // the LF itself is beyond the 4096th byte
    deliver(held_.substr(start, lf - start), out);
    start = lf + 1;
  }
  held_.erase(0, start);
  return held_.size() > max_message ? overlong() : status::ok;
}

message_reader::status message_reader::overlong() {
  overlong_ = true;
  held_.clear();
  return status::too_long;
}

void message_reader::on_timer(time_point now, std::vector<std::string>& out) {
  if (!held_.empty() && now >= last_byte_ + fragment_) finish(out);
}

void message_reader::finish(std::vector<std::string>& out) {
  if (held_.empty()) return;
  std::string content = std::move(held_);
  held_.clear();
  deliver(std::move(content), out);
}

std::optional<time_point> message_reader::deadline() const {
  if (held_.empty()) return std::nullopt;
  return last_byte_ + fragment_;
}

void message_reader::deliver(std::string content, std::vector<std::string>& out) {
  if (!content.empty() && content.back() == '\r') content.pop_back();
  if (!content.empty() && content.back() == ' ') content.pop_back();
  if (content.empty()) return;  // SSLM-FRAME-07: the original client sends " \r\n" after every text
  out.push_back(std::move(content));
}

std::string auth_redactor::operator()(std::uint64_t conn, std::string_view chunk) {
  if (done_.contains(conn)) return core::printable(chunk);
  if (!state_.contains(conn) && state_.size() >= max_pending) state_.erase(state_.begin());
  int& state = state_[conn];
  std::string shown;
  for (std::size_t i = 0; i < chunk.size(); ++i) {
    char c = chunk[i];
    if (c == '\n' || c == '\r') {
      state_.erase(conn);
      if (done_.size() >= max_pending) done_.erase(done_.begin());
      done_.insert(conn);
      return core::printable(shown) + core::printable(chunk.substr(i));
    }
    if (c == ' ') {
      state = std::min(state + 1, 2);  // a field after the password gets its own mask
      shown += c;
    } else if (state < 2) {
      shown += c;  // "AUTH name " stays readable
    } else if (state == 2) {
      shown += password_mask;
      state = 3;
    }
  }
  return core::printable(shown);
}

std::string loggable(std::string_view chunk) {
  if (!chunk.starts_with("AUTH ")) return core::printable(chunk);
  auth_redactor redact;
  return redact(0, chunk);
}

client_message parse_client(std::string_view content) {
  if (content.find('\r') != std::string_view::npos) return client_msg::malformed{"a CR inside the message"};
  auto [command, rest] = [&] {
    auto sp = content.find(' ');
    return sp == std::string_view::npos ? std::pair{content, std::string_view{}}
                                        : std::pair{content.substr(0, sp), content.substr(sp + 1)};
  }();
  bool has_rest = content.size() > command.size();
  if (command == "AUTH") {
    auto f = fields(rest, 3);
    if (!has_rest || f.size() != 2 || !is_token(f[0]) || !is_token(f[1]))
      return client_msg::malformed{"AUTH takes exactly a name and a password"};
    return client_msg::auth{std::string(f[0]), std::string(f[1])};
  }
  if (command == "MSG") {
    auto f = fields(rest, 3);
    if (!has_rest || f.size() < 2 || !is_token(f[0]) || !is_token(f[1]))
      return client_msg::malformed{"MSG takes a target, a sender and a text"};
    return client_msg::msg{std::string(f[0]), std::string(f[1]), f.size() == 3 ? std::string(f[2]) : std::string()};
  }
  if (command == "END") return client_msg::end{};  // anything after END is ignored (§5.2)
  return client_msg::malformed{"unknown command '" + std::string(command.substr(0, 32)) + "'"};
}

server_message parse_server(std::string_view content) {
  // A CR inside the content makes the message malformed (SSLM-FRAME-03): it is no RELAY to show.
  if (content.find('\r') != std::string_view::npos) return server_msg::unknown{std::string(content)};
  auto f = fields(content, 4);
  // Extra fields after the name are tolerated: later versions of the original append a token.
  if (f[0] == "ACCEPT" && f.size() >= 2 && is_token(f[1])) return server_msg::accept{std::string(f[1])};
  if (f[0] == "RELAY" && f.size() >= 3 && is_token(f[1]) && is_token(f[2]))
    return server_msg::relay{std::string(f[1]), std::string(f[2]), f.size() == 4 ? std::string(f[3]) : std::string()};
  if (content == "CNT <user not online>" || content.starts_with("CNT <")) return server_msg::cnt{};
  if (content == "CHECK") return server_msg::check{};
  if (f[0] == "END") {
    std::string_view rest = content.size() > 3 ? content.substr(4) : std::string_view{};
    server_msg::end e;
    if (rest.starts_with("* ")) {
      e.violation = true;
      rest.remove_prefix(2);
    }
    if (rest.size() >= 2 && rest.front() == '<' && rest.back() == '>') rest = rest.substr(1, rest.size() - 2);
    e.reason = std::string(rest);
    return e;
  }
  return server_msg::unknown{std::string(content)};
}

}  // namespace parley::sslmessager
