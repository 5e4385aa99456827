#include "conformance/engine/runner.hpp"

#include <algorithm>
#include <atomic>
#include <fstream>
#include <mutex>
#include <random>
#include <regex>
#include <thread>

#include "conformance/engine/process.hpp"
#include "impl/core/encoding.hpp"

namespace parley::conform {
namespace {

constexpr double default_within_ms = 2000;
constexpr double default_silence_ms = 300;

std::string regex_escape(std::string_view text) {
  static const std::string special = R"(\^$.|?*+()[]{}/)";
  std::string out;
  for (char c : text) {
    if (special.find(c) != std::string::npos) out += '\\';
    out += c;
  }
  return out;
}

std::string random_suffix() {
  static std::mutex m;
  static std::mt19937 gen(std::random_device{}());
  static constexpr char alphabet[] = "abcdefghijkmnpqrstuvwxyz23456789";
  std::lock_guard lock(m);
  std::string s;
  for (int i = 0; i < 4; ++i) s += alphabet[gen() % (sizeof alphabet - 1)];
  return s;
}

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

case_context::case_context(const adapter& a, const run_settings& s, const timing& t, std::string host,
                           unsigned short port)
    : adapter_(a), settings_(s), timing_(t), host_(std::move(host)), port_(port), started_(clock_type::now()),
      last_record_(started_) {
  // Unique user names per case, so cases never collide on a shared target: ${alice} = alice_k3f9.
  std::string suffix = random_suffix();
  for (const char* user : {"alice", "bob", "carol", "dave", "erin"}) vars_[user] = std::string(user) + "_" + suffix;
  vars_["suffix"] = suffix;
  // Names at the edges of the username rule, still unique per case (ITP-IDENT-02 style cases).
  vars_["name3"] = suffix.substr(0, 3);
  vars_["name14"] = "u" + suffix + "_abcdefgh";
  vars_["name15"] = vars_["name14"] + "x";
  for (const auto& [name, value] : timing_.vars) vars_[name] = std::to_string(static_cast<long long>(value));
}

case_context::~case_context() = default;

std::string case_context::get(const std::string& name) const {
  auto it = vars_.find(name);
  return it == vars_.end() ? std::string{} : it->second;
}

std::string case_context::substitute(const std::string& text, bool regex) const {
  std::string out;
  for (std::size_t i = 0; i < text.size();) {
    if (text.compare(i, 2, "${") == 0) {
      auto end = text.find('}', i);
      if (end == std::string::npos) throw case_error("unterminated ${ in '" + text + "'");
      std::string name = text.substr(i + 2, end - i - 2);
      auto it = vars_.find(name);
      if (it == vars_.end()) throw case_error("unknown variable ${" + name + "}");
      out += regex ? regex_escape(it->second) : it->second;
      i = end + 1;
    } else {
      out += text[i++];
    }
  }
  return out;
}

double case_context::ms(const duration_expr& d, double fallback) const { return evaluate(d, timing_.vars, fallback); }

time_point case_context::deadline(const duration_expr& d, double fallback_ms) const {
  double scaled = ms(d, fallback_ms) * settings_.time_scale;
  return clock_type::now() + std::chrono::microseconds(static_cast<long long>(scaled * 1000));
}

void case_context::note(const std::string& conn, char direction, std::string_view text) {
  double at = std::chrono::duration<double, std::milli>(clock_type::now() - started_).count();
  wire_.push_back({at, conn, direction, core::printable(text)});
}

connection& case_context::conn(const std::string& name) {
  auto it = conns_.find(name);
  if (it == conns_.end()) throw case_error("connection '" + name + "' is used before it is opened");
  return it->second;
}

void case_context::record(int op, int conn_index, std::string_view data) {
  if (settings_.record_dir.empty()) return;
  // Time passes in the fuzzer only through explicit records: mirror the real gaps between events.
  auto gap = std::chrono::duration_cast<millis>(clock_type::now() - last_record_).count();
  last_record_ = clock_type::now();
  if (gap >= 7) {
    std::size_t units = std::min<std::size_t>(static_cast<std::size_t>(gap / 7), 0xffff);
    record_ += static_cast<char>(3);
    record_ += static_cast<char>(0);
    record_ += static_cast<char>(units >> 8);
    record_ += static_cast<char>(units & 0xff);
  }
  do {
    std::size_t len = std::min<std::size_t>(data.size(), 0xffff);
    record_ += static_cast<char>(op);
    record_ += static_cast<char>(conn_index);
    record_ += static_cast<char>(len >> 8);
    record_ += static_cast<char>(len & 0xff);
    record_.append(data.substr(0, len));
    data.remove_prefix(len);
  } while (!data.empty());
}

std::string case_context::take_record() { return std::move(record_); }

std::string case_context::connect(const std::string& name, time_point deadline, const std::string& from) {
  auto stream = from.empty() ? adapter_.connect(host_, port_, deadline) : adapter_.connect_from(host_, port_, from, deadline);
  if (!stream) {
    note(name, '*', "connect failed: " + stream.error().message());
    return "could not connect to " + host_ + ":" + std::to_string(port_) + ": " + stream.error().message();
  }
  connection c;
  c.stream = std::move(*stream);
  c.framer = adapter_.make_framer();
  c.index = static_cast<int>(conns_.size());
  conns_.insert_or_assign(name, std::move(c));
  note(name, '*', from.empty() ? std::string("connected") : "connected from " + from);
  record(0, conns_.at(name).index, {});
  return {};
}

std::string case_context::send(const std::string& name, std::string_view bytes, const std::vector<std::size_t>& split_at,
                               millis gap) {
  connection& c = conn(name);
  std::size_t from = 0;
  std::vector<std::size_t> cuts = split_at;
  cuts.push_back(bytes.size());
  for (std::size_t cut : cuts) {
    cut = std::min(cut, bytes.size());
    if (cut <= from) continue;
    std::string_view piece = bytes.substr(from, cut - from);
    note(name, '>', piece.size() > 512 ? std::string(piece.substr(0, 64)) + "... (" + std::to_string(piece.size()) + " bytes)"
                                       : std::string(piece));
    record(1, c.index, piece);
    if (auto ec = c.stream->write(piece, clock_type::now() + millis(static_cast<long long>(5000 * settings_.time_scale))))
      return "sending failed: " + ec.message();
    from = cut;
    if (from < bytes.size() && gap.count() > 0) std::this_thread::sleep_for(gap);
  }
  return {};
}

bool case_context::read_more(connection& c, const std::string& name, time_point deadline) {
  if (c.end != net::read_status::data) return false;
  auto got = c.stream->read_some(deadline);
  if (got.status == net::read_status::timeout) return false;
  if (got.status != net::read_status::data) {
    c.end = got.status;
    note(name, '*', describe_end(got.status));
    return true;
  }
  c.framer->feed(got.data);
  std::string error;
  while (auto message = c.framer->next(error)) {
    if (filter_noise && adapter_.is_noise(*message, *this)) {
      note(name, '~', "another case's traffic: " + *message);
      continue;
    }
    note(name, '<', *message);
    c.inbox.emplace_back(clock_type::now(), std::move(*message));
  }
  if (!error.empty() && c.framing_error.empty()) {
    c.framing_error = error;
    note(name, '*', "framing error: " + error);
  }
  return true;
}

std::string case_context::expect(const std::string& name, const std::vector<std::string>& patterns, time_point deadline,
                                 const std::vector<std::string>& capture, bool icase,
                                 std::optional<time_point> not_before, const std::vector<std::string>& skip) {
  connection& c = conn(name);
  std::string wanted;
  for (const auto& p : patterns) wanted += (wanted.empty() ? "/" : " or /") + p + "/";
  time_point step_start = clock_type::now();
  auto flags = std::regex::ECMAScript | (icase ? std::regex::icase : std::regex::ECMAScript);
  for (;;) {
  while (c.inbox.empty()) {
    if (!c.framing_error.empty()) return "expected " + wanted + " on " + name + ", but the stream broke: " + c.framing_error;
    if (c.end != net::read_status::data) return "expected " + wanted + " on " + name + ", but " + describe_end(c.end);
    if (!read_more(c, name, deadline) && clock_type::now() >= deadline) {
      auto waited = std::chrono::duration_cast<millis>(clock_type::now() - step_start).count();
      return "expected " + wanted + " on " + name + ", but nothing arrived within " + std::to_string(waited) + " ms";
    }
  }
  auto [arrived, message] = c.inbox.front();
  c.inbox.pop_front();
  bool skipped = std::any_of(skip.begin(), skip.end(), [&](const std::string& p) {
    return std::regex_search(message, std::regex(p, flags));
  });
  if (skipped) {
    note(name, '~', "passed over: " + message);
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
    while (c.inbox.empty()) {
      std::string which = "message " + std::to_string(i + 1) + " of " + std::to_string(count) + " /" + pattern + "/ on " + name;
      if (!c.framing_error.empty()) return "expected " + which + ", but the stream broke: " + c.framing_error;
      if (c.end != net::read_status::data) return "expected " + which + ", but " + describe_end(c.end);
      if (!read_more(c, name, deadline) && clock_type::now() >= deadline) return "expected " + which + ", but it did not arrive in time";
    }
    std::string message = std::move(c.inbox.front().second);
    c.inbox.pop_front();
    if (!std::regex_search(message, re))
      return "expected message " + std::to_string(i + 1) + " of " + std::to_string(count) + " on " + name + " to match /" +
             pattern + "/, got " + quote(message);
  }
  return {};
}

bool case_context::is_case_user(std::string_view name) const {
  for (const char* var : {"alice", "bob", "carol", "dave", "erin", "name3", "name14", "name15"}) {
    auto it = vars_.find(var);
    if (it != vars_.end() && it->second == name) return true;
  }
  return false;
}

std::string case_context::expect_silence(const std::string& name, time_point until) {
  connection& c = conn(name);
  for (;;) {
    if (!c.inbox.empty()) return "expected nothing on " + name + ", got " + quote(c.inbox.front().second);
    if (c.end != net::read_status::data) return "expected the connection " + name + " to stay open, but " + describe_end(c.end);
    if (clock_type::now() >= until) return {};
    read_more(c, name, until);
  }
}

std::string case_context::expect_close(const std::string& name, const std::string& kind, time_point deadline) {
  connection& c = conn(name);
  for (;;) {
    if (!c.inbox.empty()) return "expected " + name + " to be closed, got " + quote(c.inbox.front().second);
    if (c.end != net::read_status::data) break;
    if (!read_more(c, name, deadline) && clock_type::now() >= deadline)
      return "expected " + name + " to be closed, but it stayed open (no answer before the deadline)";
  }
  if (kind == "fin" && c.end != net::read_status::closed) return "expected a FIN on " + name + ", but " + describe_end(c.end);
  if (kind == "rst" && c.end != net::read_status::reset) return "expected a RST on " + name + ", but " + describe_end(c.end);
  return {};
}

std::string case_context::close(const std::string& name, bool reset) {
  connection& c = conn(name);
  note(name, '*', reset ? "engine resets the connection (RST)" : "engine closes the connection (FIN)");
  if (reset) c.stream->reset();
  else c.stream->close();
  record(2, c.index, {});
  c.end = net::read_status::error;
  return {};
}

void case_context::close_all() {
  for (auto& [name, c] : conns_) {
    if (c.end != net::read_status::data) continue;
    c.stream->close();
    c.end = net::read_status::error;
  }
}

std::string case_context::listen() {
  auto l = adapter_.listen("127.0.0.1");
  if (!l) return "cannot listen: " + l.error().message();
  listener_ = std::move(*l);
  set("port", std::to_string(listener_->port()));
  return {};
}

std::string case_context::accept(const std::string& name, time_point deadline) {
  if (!listener_) throw case_error("accept in a case that is not client-role");
  auto s = listener_->accept(deadline);
  if (!s) return "the client did not connect (" + s.error().message() + ")";
  connection c;
  c.stream = std::move(*s);
  c.framer = adapter_.make_framer();
  c.index = static_cast<int>(conns_.size());
  conns_.insert_or_assign(name, std::move(c));
  note(name, '*', "client connected");
  return {};
}

std::string case_context::launch_client(const std::string& user) {
  std::string command = settings_.client_command.empty() ? adapter_.reference_client_command(settings_.bin_dir)
                                                         : settings_.client_command;
  std::map<std::string, std::string> values = {{"{port}", get("port")}, {"{name}", user}};
  for (const auto& [key, value] : adapter_.placeholders()) values["{" + key + "}"] = value;
  // A client's own timers (peerchat's keep-alive) follow the case's timing like a launched server's.
  for (const auto& [key, value] : timing_.vars) values["{" + key + "}"] = std::to_string(static_cast<long long>(value));
  for (const auto& [key, value] : values) {
    for (auto at = command.find(key); at != std::string::npos; at = command.find(key, at + value.size()))
      command.replace(at, key.size(), value);
  }
  note("client", '*', "launch: " + command);
  client_ = std::make_unique<process>(command, true, true, settings_.log_dir + "/client-" + user + ".log");
  return {};
}

}  // namespace parley::conform
