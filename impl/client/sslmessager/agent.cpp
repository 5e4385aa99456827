#include "impl/client/sslmessager/agent.hpp"

#include <cstdlib>

#include "impl/core/overloaded.hpp"
#include "impl/proto/sslmessager/users.hpp"

namespace parley::sslmessager {
namespace {

constexpr const char* help_text = "commands: @NAME TEXT | /msg NAME TEXT | /to NAME, then TEXT | /quit";

event make(std::string type, std::vector<std::pair<std::string, std::string>> fields = {}) {
  return {std::move(type), std::move(fields), {}};
}

std::pair<std::string_view, std::string_view> split_word(std::string_view line) {
  auto sp = line.find(' ');
  if (sp == std::string_view::npos) return {line, {}};
  return {line.substr(0, sp), line.substr(sp + 1)};
}

// A line that starts with a command this client reads but whose fields it cannot read (`RELAY` alone,
// `ACCEPT` without a name): the trigger of the crash-on-garbage fault. Unknown commands are not, since
// SSLM-CLIENT-08's case sends some that later originals use.
bool unreadable_known_command(std::string_view content, const server_message& parsed) {
  if (!std::holds_alternative<server_msg::unknown>(parsed)) return false;
  auto word = split_word(content).first;
  return word == "ACCEPT" || word == "RELAY" || word == "CNT" || word == "CHECK";
}

}  // namespace

void agent::on_open(agent_output& out) {
  if (faulty(client_fault::hello_first)) send("HELLO " + options_.name, out);
  send("AUTH " + options_.name + " " + options_.password, out);  // SSLM-CLIENT-01
}

void agent::send(std::string_view content, agent_output& out) {
  // SSLM-FRAME-01: content SP CR LF.
  out.sends.push_back(faulty(client_fault::no_space_before_crlf) ? std::string(content) + "\r\n" : wire(content));
}

void agent::on_data(std::string_view bytes, time_point now, agent_output& out) {
  if (finished_) return;
  std::string kept;
  if (faulty(client_fault::crlf_only)) {  // SSLM-FRAME-03: a bare LF ends a message too
    for (char c : bytes) {
      kept += c == '\n' && last_byte_ != '\r' ? '\x01' : c;
      last_byte_ = c;
    }
    bytes = kept;
  }
  std::vector<std::string> messages;
  auto status = reader_.feed(bytes, now, messages);
  for (const auto& m : messages) {
    if (finished_) return;
    handle(m, now, out);
  }
  if (status == message_reader::status::too_long && faulty(client_fault::no_line_limit)) {
    reader_ = message_reader{};  // SSLM-FRAME-08: a client closes instead
    return;
  }
  if (status == message_reader::status::too_long && !finished_) {
    out.events.push_back(make("error", {{"code", "frame"}, {"text", "the server sent a line over 4096 bytes"}}));
    close(out);
  }
}

void agent::handle(const std::string& content, time_point now, agent_output& out) {
  server_message parsed = parse_server(content);
  // SSLM-CLIENT-10: no server line crashes the client; the fault dies of one it cannot read.
  if (faulty(client_fault::crash_on_garbage) && unreadable_known_command(content, parsed)) std::abort();
  std::visit(core::overloaded{
                 [&](const server_msg::accept& a) {
                   if (logged_in_) return;  // a repeated ACCEPT changes nothing
                   bool other = a.name != options_.name && !faulty(client_fault::any_accept);
                   // SSLM-CLIENT-08: fields after the name are a later original's token, not another name.
                   if (faulty(client_fault::strict_accept) && content != "ACCEPT " + options_.name) other = true;
                   if (other) {  // SSLM-CLIENT-02
                     out.events.push_back(make("error", {{"code", "login"}, {"text", "the server accepted '" + a.name + "', not " + options_.name}}));
                     return close(out);
                   }
                   logged_in_ = true;
                   out.events.push_back(make("logged_in", {{"name", a.name}}));
                 },
                 [&](const server_msg::relay& r) {
                   out.events.push_back(make("message", {{"from", r.sender}, {"to", r.target}, {"text", r.text}}));
                 },
                 [&](const server_msg::cnt&) {
                   out.events.push_back(make("offline", {{"name", last_target_}}));
                   if (faulty(client_fault::close_on_cnt)) close(out);  // SSLM-CLIENT-04: the session goes on
                 },
                 [&](const server_msg::check&) {  // SSLM-CLIENT-05: never answered
                   if (faulty(client_fault::answer_check)) send("CHECK", out);
                 },
                 [&](const server_msg::end& e) {
                   // SSLM-CLIENT-07: shown, nothing more sent, closed.
                   if (faulty(client_fault::ignore_end) && !quit_deadline_) return;
                   ended_cleanly_ = true;
                   out.events.push_back(make(quit_deadline_ ? "goodbye" : "ended",
                                             {{"reason", e.reason}, {"violation", e.violation ? "true" : "false"}}));
                   close(out);
                 },
                 [&](const server_msg::unknown&) {  // SSLM-CLIENT-08: later originals send more
                   if (faulty(client_fault::close_on_unknown)) {
                     out.events.push_back(make("error", {{"code", "protocol"}, {"text", "the server sent '" + content + "'"}}));
                     close(out);
                   }
                 },
             },
             parsed);
  if (logged_in_ && !finished_) {
    while (!queued_.empty() && !finished_) {
      std::string line = std::move(queued_.front());
      queued_.pop_front();
      run_command(line, now, out);
    }
  }
}

void agent::on_command(std::string_view line, time_point now, agent_output& out) {
  if (finished_) return;
  // /quit too: a script's end must not cut its own login short (SSLM-CLIENT-02: no MSG before ACCEPT).
  if (!logged_in_ && !faulty(client_fault::msg_before_accept)) {
    queued_.emplace_back(line);
    return;
  }
  run_command(line, now, out);
}

void agent::run_command(std::string_view line, time_point now, agent_output& out) {
  if (quit_deadline_) return;
  auto [verb, rest] = split_word(line);
  if (line.empty()) {  // no MSG for an empty line (SSLM-CLIENT-03)
    if (faulty(client_fault::send_empty) && !target_.empty()) send_text(target_, "", out);
    return;
  }
  if (verb == "/quit") {
    if (!logged_in_ || faulty(client_fault::quit_without_end)) {  // SSLM-CLIENT-06: END first
      out.events.push_back(make("goodbye"));
      return close(out);
    }
    send("END", out);
    quit_deadline_ = now + quit_wait;
    return;
  }
  if (verb == "/help") return out.events.push_back(make("help", {{"text", help_text}}));
  if (verb == "/to") {
    if (!valid_name(rest)) return out.events.push_back(make("error", {{"code", "usage"}, {"text", "/to NAME"}}));
    target_ = std::string(rest);
    return out.events.push_back(make("target", {{"name", target_}}));
  }
  if (verb == "/msg" || (verb.size() > 1 && verb.front() == '@')) {
    std::string_view target = verb == "/msg" ? split_word(rest).first : verb.substr(1);
    std::string_view text = verb == "/msg" ? split_word(rest).second : rest;
    if (!valid_name(target)) return out.events.push_back(make("error", {{"code", "usage"}, {"text", "@NAME TEXT or /msg NAME TEXT"}}));
    return send_text(std::string(target), text, out);
  }
  if (verb.starts_with('/')) return out.events.push_back(make("error", {{"code", "usage"}, {"text", "unknown command; " + std::string(help_text)}}));
  if (target_.empty()) return out.events.push_back(make("error", {{"code", "usage"}, {"text", "no target: /to NAME first, or @NAME TEXT"}}));
  send_text(target_, line, out);
}

void agent::send_text(const std::string& target, std::string_view text, agent_output& out) {
  // SSLM-CLIENT-03: the typed line, unchanged, under the client's own name; refused, never cut, when long.
  if (text.size() > max_text && !faulty(client_fault::no_length_check))
    return out.events.push_back(make("error", {{"code", "usage"}, {"text", "a message is at most 4000 bytes; this one is " + std::to_string(text.size())}}));
  if (text.find_first_of("\r\n") != std::string_view::npos)
    return out.events.push_back(make("error", {{"code", "usage"}, {"text", "a message is one line"}}));
  last_target_ = target;
  const std::string& sender = faulty(client_fault::target_as_sender) ? target : options_.name;
  std::string kept = faulty(client_fault::keep_line_feed) ? "\n" : "";
  send("MSG " + target + " " + sender + " " + std::string(text) + kept, out);
}

void agent::on_timer(time_point now, agent_output& out) {
  if (finished_) return;
  std::vector<std::string> messages;
  reader_.on_timer(now, messages);
  for (const auto& m : messages) {
    if (finished_) return;
    handle(m, now, out);
  }
  if (quit_deadline_ && now >= *quit_deadline_ && !finished_ && !faulty(client_fault::no_quit_timeout)) {  // SSLM-CLIENT-06
    out.events.push_back(make("goodbye"));
    close(out);
  }
}

std::optional<time_point> agent::next_wake() const {
  if (finished_) return std::nullopt;
  auto wake = reader_.deadline();
  if (quit_deadline_ && (!wake || *quit_deadline_ < *wake) && !faulty(client_fault::no_quit_timeout)) wake = quit_deadline_;
  return wake;
}

void agent::on_closed(agent_output& out) {
  if (finished_) return;
  std::vector<std::string> last;
  reader_.finish(last);  // an END without terminator just before the close
  for (const auto& m : last)
    if (!finished_) handle(m, {}, out);  // no command can follow: the connection is gone
  if (finished_) return;
  finished_ = true;
  if (quit_deadline_) {
    ended_cleanly_ = true;
    out.events.push_back(make("goodbye"));
  } else {
    out.events.push_back(make("disconnected", {{"reason", "the connection was lost without an END line"}}));
  }
}

void agent::close(agent_output& out) {
  finished_ = true;
  out.close = true;
}

}  // namespace parley::sslmessager
