// The case context: variables, timing, the connections a case opens or accepts and what it writes on them,
// attribution and findings, the end of a case's sessions, and a launched client. Reading and the checks
// on what arrives are in case_reading.cpp.
#include "conformance/engine/runner.hpp"

#include <algorithm>
#include <atomic>
#include <fstream>
#include <mutex>
#include <random>
#include <thread>

#include "impl/cli/process.hpp"
#include "impl/core/encoding.hpp"

namespace parley::conform {
namespace {

std::string regex_escape(std::string_view text) {
  static const std::string special = R"(\^$.|?*+()[]{}/)";
  std::string out;
  for (char c : text) {
    if (special.find(c) != std::string::npos) out += '\\';
    out += c;
  }
  return out;
}

// With a capture (--pcap), a connection's wire log names its ends, to find its stream in the capture.
std::string ends_of(const net::stream& s, const run_settings& settings) {
  return settings.tap ? " (" + s.local() + " <-> " + s.peer() + ")" : std::string{};
}

std::string random_suffix() {
  static std::mutex m;
  static std::mt19937 gen(std::random_device{}());
  std::lock_guard lock(m);
  std::string s;
  std::string_view alphabet = user_suffix_alphabet;
  for (int i = 0; i < 4; ++i) s += alphabet[gen() % alphabet.size()];
  return s;
}

}  // namespace

// By default a target speaks the protocol when a connection of its transport completes (a TLS or a
// WebSocket handshake); adapters whose protocol lets them tell more override this.
identity adapter::identify(case_context& ctx) const {
  if (auto f = ctx.connect("preflight", ctx.deadline({}, 5000)); !f.empty()) return {f, {}, {}};
  return {};
}

case_context::case_context(const adapter& a, const run_settings& s, const timing& t, std::string host,
                           unsigned short port)
    : adapter_(a), settings_(s), timing_(t), host_(std::move(host)), port_(port), started_(clock_type::now()),
      last_record_(started_) {
  // Unique user names per case, so cases never collide on a shared target: ${alice} = alice_k3f9.
  use_suffix(random_suffix());
  for (const auto& [name, value] : timing_.vars) vars_[name] = std::to_string(static_cast<long long>(value));
}

void case_context::use_suffix(const std::string& suffix) {
  for (const char* user : {"alice", "bob", "carol", "dave", "erin"}) vars_[user] = std::string(user) + "_" + suffix;
  vars_["suffix"] = suffix;
  // Names at the edges of the username rule, still unique per case (ITP-IDENT-02 style cases).
  vars_["name3"] = suffix.substr(0, 3);
  vars_["name14"] = "u" + suffix + "_abcdefgh";
  vars_["name15"] = vars_["name14"] + "x";
}

case_context::~case_context() = default;

void case_context::take_watch_findings() {
  if (!watcher_) return;
  for (auto& f : watcher_->verdicts()) finding(f.rule, f.message);
}

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

void case_context::note(const std::string& conn, char direction, std::string_view printable_text) {
  double at = std::chrono::duration<double, std::milli>(clock_type::now() - started_).count();
  wire_.push_back({at, conn, direction, std::string(printable_text)});
}

void case_context::begin_step(const std::string& rule, bool keepalives_visible) {
  step_rule_ = rule;
  keepalives_visible_ = keepalives_visible;
  blame_.clear();
  trouble_ = {};
}

std::string case_context::blame(const std::string& rule, std::string failure) {
  if (!failure.empty()) blame_ = rule;
  return failure;
}

std::string case_context::take_blame() { return std::exchange(blame_, {}); }

void case_context::finding(const std::string& rule, const std::string& message) {
  for (const auto& f : findings_)
    if (f.rule == rule) return;
  note("engine", '*', "finding against " + rule + ": " + message);
  findings_.push_back({rule, message});
}

std::vector<conform::finding> case_context::take_findings() { return std::exchange(findings_, {}); }

// A step failed because a connection is gone or could not be made: remember which, for the runner's
// health check (a dead target, or one that resets connections opened close together).
std::string case_context::lost(const std::string& name, std::string failure) {
  trouble_.lost = true;
  trouble_.conn = name;
  auto it = conns_.find(name);
  trouble_.fresh = it == conns_.end() ||
                   (it->second.received == 0 && clock_type::now() - it->second.opened < std::chrono::seconds(1));
  return failure;
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
  if (before_connect) before_connect();
  auto connecting = clock_type::now();  // the peer's timers start no sooner (a TLS handshake comes after accept)
  auto stream = from.empty() ? adapter_.connect(host_, port_, deadline, settings_.tap)
                             : adapter_.connect_from(host_, port_, from, deadline, settings_.tap);
  if (!stream) {
    note(name, '*', "connect failed: " + stream.error().message());
    conns_.erase(name);
    return lost(name, "could not connect to " + host_ + ":" + std::to_string(port_) + ": " + stream.error().message());
  }
  connection c;
  c.stream = std::move(*stream);
  c.framer = adapter_.make_framer_for(true);
  c.index = static_cast<int>(conns_.size());
  c.serial = connections_made_++;
  c.opened = clock_type::now();
  c.last_sent = connecting;
  c.ours = true;
  conns_.insert_or_assign(name, std::move(c));
  note(name, '*', (from.empty() ? std::string("connected") : "connected from " + from) +
                      ends_of(*conns_.at(name).stream, settings_));
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
    note(name, '>', shown(piece));
    record(1, c.index, piece);
    if (watcher_) watcher_->sent(watch_key(name, c), piece);
    if (auto f = write_on(name, c, piece, false); !f.empty()) return f;
    from = cut;
    if (from < bytes.size() && gap.count() > 0) {
      auto slept = clock_type::now();
      std::this_thread::sleep_for(gap);
      // Pieces paced on purpose may meet a timer of the peer (sslmessager takes an unended fragment after
      // 200 ms): a loaded machine that wakes the engine far too late has not sent what the case says, so
      // a failure of the case is the machine's; it is run again.
      auto late = std::chrono::duration_cast<millis>(clock_type::now() - slept - gap);
      if (late > millis(100))
        retry("the engine sent a piece " + std::to_string(late.count()) + " ms later than its " +
              std::to_string(gap.count()) + " ms gap (a busy machine)");
    }
  }
  return {};
}

time_point case_context::timer_origin(const std::string& name) {
  const connection& c = conn(name);
  return std::max(c.last_sent, c.case_matched);
}

void case_context::timer_restarts_at_last_match(const std::string& name) {
  connection& c = conn(name);
  c.case_matched = c.last_matched;
}

std::string case_context::send_below(const std::string& name, std::string_view bytes, std::string_view carried) {
  connection& c = conn(name);
  note(name, '>', "a frame of " + std::to_string(bytes.size()) + " bytes built by hand, carrying " + shown(carried));
  // Not recorded for --record-corpus: its hub records hold messages, and this is not one.
  if (watcher_) watcher_->sent(watch_key(name, c), carried);
  return write_on(name, c, bytes, true);
}

// What the log shows of a write: all of it, or its start and size when it is long.
std::string case_context::shown(std::string_view bytes) {
  return bytes.size() > 512 ? core::printable(bytes.substr(0, 64)) + "... (" + std::to_string(bytes.size()) + " bytes)"
                            : core::printable(bytes);
}

// One write on `c`, on its message layer or under it. A failed write fails every later one on the
// connection too, with the first error.
std::string case_context::write_on(const std::string& name, connection& c, std::string_view bytes, bool below) {
  c.last_activity = c.last_sent = clock_type::now();
  if (!c.write_error.empty()) return lost(name, "sending on " + name + " failed: " + c.write_error + " (an earlier write)");
  auto deadline = clock_type::now() + millis(static_cast<long long>(5000 * settings_.time_scale));
  if (auto ec = below ? c.stream->write_below(bytes, deadline) : c.stream->write(bytes, deadline)) {
    c.write_error = ec.message();
    return lost(name, "sending on " + name + " failed: " + ec.message());
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

std::string case_context::close(const std::string& name, bool reset) {
  connection& c = conn(name);
  note(name, '*', reset ? "engine resets the connection (RST)" : "engine closes the connection (FIN)");
  if (reset) c.stream->reset();
  else c.stream->close();
  record(2, c.index, {});
  c.end = net::read_status::error;
  return {};
}

void case_context::end_sessions(bool polite) {
  // Farewells first, to every connection at once, then the closes: one round trip for the lot.
  auto until = clock_type::now() + millis(static_cast<long long>(300 * settings_.time_scale));
  bool said = false;
  for (auto& [name, c] : conns_) {
    if (c.end != net::read_status::data || !polite || !c.ours) continue;
    std::string bye = adapter_.farewell(*c.framer);
    if (bye.empty()) continue;
    note(name, '>', core::printable(bye) + "  (the engine's polite farewell at the end of the case)");
    record(1, c.index, bye);
    said = !c.stream->write(bye, until) || said;
  }
  if (said) {
    // Wait for the target to close the sessions it was asked to end; what it says meanwhile is logged.
    for (auto& [name, c] : conns_)
      while (c.end == net::read_status::data && c.ours && clock_type::now() < until)
        if (!read_more(c, name, until)) break;
  }
  for (auto& [name, c] : conns_) {
    if (c.end != net::read_status::data) continue;
    if (polite && c.ours) c.stream->close_gracefully(std::max(until, clock_type::now() + millis(50)));
    else c.stream->close();
    c.end = net::read_status::error;
  }
}

std::string case_context::listen() {
  auto l = adapter_.listen("127.0.0.1", settings_.tap);
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
  c.framer = adapter_.make_framer_for(false);
  c.index = static_cast<int>(conns_.size());
  c.serial = connections_made_++;
  c.opened = c.last_sent = clock_type::now();
  conns_.insert_or_assign(name, std::move(c));
  note(name, '*', "client connected" + ends_of(*conns_.at(name).stream, settings_));
  return {};
}

std::string case_context::launch_client(const std::string& user) {
  std::string command = settings_.client_command.empty() ? adapter_.reference_client_command(settings_.bin_dir)
                                                         : settings_.client_command;
  std::map<std::string, std::string> values = {{"{port}", get("port")}, {"{name}", user}};
  for (const auto& [key, value] : adapter_.placeholders()) values["{" + key + "}"] = value;
  // A client's own timers (peerchat's keep-alive) follow the case's timing like a launched server's.
  for (const auto& [key, value] : timing_.vars) values["{" + key + "}"] = std::to_string(static_cast<long long>(value));
  for (const auto& [key, value] : values) command = cli::replace_all(std::move(command), key, value);
  note("client", '*', "launch: " + command);
  // One log per launch: cases that launch the same user must not read each other's output.
  static std::atomic<unsigned> launches{0};
  client_log_ = settings_.log_dir + "/client-" + user + "-" + std::to_string(++launches) + ".log";
  client_ = std::make_unique<cli::process>(command, true, true, client_log_);
  return {};
}

std::string case_context::client_output_tail(std::size_t max) const {
  if (client_log_.empty()) return {};
  std::ifstream in(client_log_, std::ios::binary);
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return all.size() > max ? "..." + all.substr(all.size() - max) : all;
}

}  // namespace parley::conform
