// The case context's reading side: messages framed as they arrive on every connection (so a wire log
// shows them when they came), the expect family of checks, keep-alives passed over, and the drain that
// collects a failed case's evidence.
#include "conformance/engine/runner.hpp"

#include <poll.h>

#include <algorithm>
#include <regex>
#include <thread>

#include "conformance/engine/peer_queue.hpp"
#include "impl/cli/process.hpp"

#include "impl/core/encoding.hpp"

namespace parley::conform {
namespace {

std::string describe_end(net::read_status s) {
  switch (s) {
    case net::read_status::closed: return "the connection was closed by the peer (FIN)";
    case net::read_status::reset: return "the connection was reset by the peer (RST)";
    case net::read_status::error: return "the connection failed";
    default: return "the connection ended";
  }
}

std::string quote(std::string_view text) { return "'" + core::printable(text) + "'"; }

}  // namespace

bool case_context::interrupted() const { return settings_.interrupted && settings_.interrupted->load(); }

bool case_context::read_more(connection& c, const std::string& name, time_point deadline) {
  if (c.end != net::read_status::data) return false;
  sweep(&c);
  // In slices while a run can be interrupted, so Ctrl-C never waits out a long step.
  if (settings_.interrupted) deadline = std::min(deadline, clock_type::now() + millis(100));
  auto got = c.stream->read_some(deadline);
  if (got.status == net::read_status::timeout) return false;
  absorb(c, name, std::move(got));
  return true;
}

void case_context::absorb(connection& c, const std::string& name, net::read_result got) {
  if (got.status != net::read_status::data) {
    c.end = got.status;
    note(name, '*', describe_end(got.status));
    return;
  }
  c.received += got.data.size();
  c.last_activity = clock_type::now();
  c.framer->feed(got.data);
  std::string error;
  bool printable = c.framer->renders_printable();
  while (auto message = c.framer->next(error)) {
    std::string shown = printable ? *message : core::printable(*message);
    if (filter_noise && adapter_.is_noise(*message, *this)) {
      note(name, '~', "another case's traffic: " + shown);
      continue;
    }
    note(name, '<', shown);
    if (watcher_) watcher_->received(watch_key(name, c), *message);
    c.inbox.emplace_back(clock_type::now(), std::move(*message));
  }
  for (auto& f : c.framer->take_findings()) finding(f.rule, f.message + " (on " + name + ")");
  if (!error.empty() && c.framing_error.empty()) {
    c.framing_error = error;
    // The bytes say whose they were: the target's own, cut wrong, or another program's on this port.
    std::string_view start(got.data.data(), std::min<std::size_t>(got.data.size(), 48));
    note(name, '*', "framing error: " + error + " (the read that broke it: " + std::to_string(got.data.size()) +
                        " bytes, beginning " + core::printable(start) + ")");
  }
}

void case_context::sweep(const connection* except) {
  std::vector<pollfd> fds;
  std::vector<std::pair<const std::string*, connection*>> which;
  for (auto& [name, c] : conns_) {
    if (&c == except || c.end != net::read_status::data) continue;
    int fd = c.stream->native_handle();
    if (fd < 0) continue;
    fds.push_back({fd, POLLIN, 0});
    which.emplace_back(&name, &c);
  }
  if (fds.empty() || poll(fds.data(), fds.size(), 0) <= 0) return;
  for (std::size_t i = 0; i < fds.size(); ++i) {
    if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
    // A short deadline: readable may be half a TLS record, whose read then stays in flight for later.
    auto got = which[i].second->stream->read_some(clock_type::now() + millis(2));
    if (got.status != net::read_status::timeout) absorb(*which[i].second, *which[i].first, std::move(got));
  }
}

bool case_context::pass_over_keepalive(connection& c, const std::string& name, const std::string& message) {
  // Keep-alives come from a server under test; on a connection a client made to the engine they are the
  // client's own lines, which its cases judge.
  if (keepalives_visible_ || !c.ours) return false;
  auto answer = adapter_.keepalive_answer(*c.framer, message);
  if (!answer) return false;
  note(name, '~', "keep-alive, answered and passed over (the step is not about it)");
  if (!answer->empty()) {
    note(name, '>', core::printable(*answer));
    record(1, c.index, *answer);
    c.stream->write(*answer, clock_type::now() + millis(static_cast<long long>(2000 * settings_.time_scale)));
  }
  return true;
}

// The next message for a step: "" and the message, or the failure (the connection ended or broke, or
// nothing came by the deadline). Keep-alives the step is not about are answered and passed over.
std::string case_context::next_message(connection& c, const std::string& name, time_point deadline,
                                       const std::string& wanted, std::pair<time_point, std::string>& out) {
  time_point step_start = clock_type::now();
  for (;;) {
    while (c.inbox.empty()) {
      if (interrupted()) return "interrupted";
      if (!c.framing_error.empty()) return "expected " + wanted + " on " + name + ", but the stream broke: " + c.framing_error;
      if (c.end != net::read_status::data) return lost(name, "expected " + wanted + " on " + name + ", but " + describe_end(c.end));
      if (!read_more(c, name, deadline) && clock_type::now() >= deadline) {
        auto waited = std::chrono::duration_cast<millis>(clock_type::now() - step_start).count();
        return "expected " + wanted + " on " + name + ", but nothing arrived within " + std::to_string(waited) + " ms";
      }
    }
    out = std::move(c.inbox.front());
    c.inbox.pop_front();
    if (!pass_over_keepalive(c, name, out.second)) return {};
  }
}

std::string case_context::expect(const std::string& name, const std::vector<std::string>& patterns, time_point deadline,
                                 const std::vector<std::string>& capture, bool icase,
                                 std::optional<time_point> not_before, const std::vector<std::string>& skip) {
  connection& c = conn(name);
  std::string wanted;
  for (const auto& p : patterns) wanted += (wanted.empty() ? "/" : " or /") + p + "/";
  auto flags = std::regex::ECMAScript | (icase ? std::regex::icase : std::regex::ECMAScript);
  for (;;) {
    std::pair<time_point, std::string> next;
    if (auto f = next_message(c, name, deadline, wanted, next); !f.empty()) return f;
    const auto& [arrived, message] = next;
    bool skipped = std::any_of(skip.begin(), skip.end(), [&](const std::string& p) {
      return std::regex_search(message, std::regex(p, flags));
    });
    if (skipped) {
      note(name, '~', "passed over: " + core::printable(message));
      continue;
    }
    for (const auto& p : patterns) {
      std::smatch m;
      std::regex re(p, flags);
      if (!std::regex_search(message, m, re)) continue;
      if (not_before && arrived < *not_before) {
        auto early = std::chrono::duration_cast<millis>(*not_before - arrived).count();
        return "got " + quote(message) + " on " + name + " " + std::to_string(early) + " ms too early";
      }
      c.last_matched = arrived;
      for (std::size_t i = 0; i < capture.size() && i + 1 < m.size(); ++i) vars_[capture[i]] = m[i + 1].str();
      return {};
    }
    return "expected " + wanted + " on " + name + ", got " + quote(message);
  }
}

std::string case_context::expect_count(const std::string& name, const std::string& pattern, std::size_t count,
                                       time_point deadline) {
  connection& c = conn(name);
  std::regex re(pattern, std::regex::ECMAScript);  // once: a flood of answers must not compile it each time
  for (std::size_t i = 0; i < count; ++i) {
    std::string which = "message " + std::to_string(i + 1) + " of " + std::to_string(count) + " /" + pattern + "/";
    std::pair<time_point, std::string> next;
    if (auto f = next_message(c, name, deadline, which, next); !f.empty()) return f;
    if (!std::regex_search(next.second, re))
      return "expected message " + std::to_string(i + 1) + " of " + std::to_string(count) + " on " + name + " to match /" +
             pattern + "/, got " + quote(next.second);
  }
  return {};
}


std::string case_context::expect_silence(const std::string& name, time_point until) {
  connection& c = conn(name);
  for (;;) {
    while (!c.inbox.empty() && pass_over_keepalive(c, name, c.inbox.front().second)) c.inbox.pop_front();
    if (!c.inbox.empty()) return "expected nothing on " + name + ", got " + quote(c.inbox.front().second);
    if (c.end != net::read_status::data)
      return lost(name, "expected the connection " + name + " to stay open, but " + describe_end(c.end));
    if (clock_type::now() >= until) return {};
    if (interrupted()) return "interrupted";
    read_more(c, name, until);
  }
}

std::string case_context::expect_none(const std::string& name, const std::vector<std::string>& patterns,
                                      time_point until, bool icase) {
  connection& c = conn(name);
  auto flags = std::regex::ECMAScript | (icase ? std::regex::icase : std::regex::ECMAScript);
  std::vector<std::regex> res;
  for (const auto& p : patterns) res.emplace_back(p, flags);
  std::size_t checked = 0;
  for (;;) {
    for (; checked < c.inbox.size(); ++checked) {
      const std::string& message = c.inbox[checked].second;
      for (std::size_t i = 0; i < res.size(); ++i)
        if (std::regex_search(message, res[i]))
          return "expected no message matching /" + patterns[i] + "/ on " + name + ", got " + quote(message);
    }
    if (c.end != net::read_status::data || clock_type::now() >= until) return {};
    if (interrupted()) return "interrupted";
    read_more(c, name, until);
  }
}

std::string case_context::expect_close(const std::string& name, const std::string& kind, time_point deadline,
                                       const std::vector<std::string>& skip) {
  connection& c = conn(name);
  auto skipped = [&](const std::string& message) {
    return std::any_of(skip.begin(), skip.end(), [&](const std::string& p) { return std::regex_search(message, std::regex(p)); });
  };
  for (;;) {
    while (!c.inbox.empty() && pass_over_keepalive(c, name, c.inbox.front().second)) c.inbox.pop_front();
    while (!c.inbox.empty() && skipped(c.inbox.front().second)) {
      note(name, '~', "passed over: " + quote(c.inbox.front().second));
      c.inbox.pop_front();
    }
    if (!c.inbox.empty()) return "expected " + name + " to be closed, got " + quote(c.inbox.front().second);
    if (c.end != net::read_status::data) break;
    if (interrupted()) return "interrupted";
    if (!read_more(c, name, deadline) && clock_type::now() >= deadline)
      return "expected " + name + " to be closed, but it stayed open (no answer before the deadline)";
  }
  if (kind == "fin" && c.end != net::read_status::closed) return "expected a FIN on " + name + ", but " + describe_end(c.end);
  if (kind == "rst" && c.end != net::read_status::reset) return "expected a RST on " + name + ", but " + describe_end(c.end);
  return {};
}

void case_context::drain(time_point deadline) {
  for (;;) {
    std::vector<pollfd> fds;
    std::vector<std::pair<const std::string*, connection*>> which;
    for (auto& [name, c] : conns_) {
      int fd = c.end == net::read_status::data ? c.stream->native_handle() : -1;
      if (fd < 0) continue;
      fds.push_back({fd, POLLIN, 0});
      which.emplace_back(&name, &c);
    }
    auto left = std::chrono::duration_cast<millis>(deadline - clock_type::now()).count();
    if (fds.empty() || left <= 0 || poll(fds.data(), fds.size(), static_cast<int>(left)) <= 0) return;
    for (std::size_t i = 0; i < fds.size(); ++i) {
      if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      auto got = which[i].second->stream->read_some(clock_type::now() + millis(2));
      if (got.status != net::read_status::timeout) absorb(*which[i].second, *which[i].first, std::move(got));
    }
  }
}


std::string case_context::type_line(const std::string& line, millis delay) {
  if (!client_) return "the client under test is not running";
  if (delay.count() > 0) {
    auto cap = clock_type::now() + millis(static_cast<long long>(5000 * settings_.time_scale));
    time_point output_moved = std::max(clock_type::now() - delay, last_typed_);
    unsigned short our_port = static_cast<unsigned short>(std::stoul(get("port").empty() ? "0" : get("port")));
    for (;;) {
      time_point latest = output_moved;
      bool unread = false;
      for (auto& [name, c] : conns_) {
        if (c.ours || c.end != net::read_status::data) continue;
        latest = std::max(latest, c.last_activity);
        auto colon = c.stream->peer().rfind(':');
        if (colon == std::string::npos) continue;
        auto peer_port = static_cast<unsigned short>(std::stoul(c.stream->peer().substr(colon + 1)));
        unread = unread || unread_by_peer(peer_port, our_port).value_or(0) > 0;
      }
      auto now = clock_type::now();
      if (!unread && now - latest >= delay) break;
      if (now >= cap || interrupted()) {
        note("client", '*', "typed after waiting 5 s: the client never went quiet");
        break;
      }
      std::this_thread::sleep_for(millis(5));
      sweep(nullptr);  // what arrives meanwhile is read into the inboxes (and the wire log) as it comes
      if (client_->poll_output()) output_moved = clock_type::now();
    }
  }
  note("client", '>', core::printable(line));
  last_typed_ = clock_type::now();
  if (!client_->write_stdin(line + "\n")) return "the client under test is not running";
  return {};
}

}  // namespace parley::conform
