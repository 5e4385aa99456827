// Executes the steps of each case against a provisioned target, and runs the suite in parallel.
#include <algorithm>
#include <atomic>
#include <numeric>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <regex>
#include <thread>

#include "conformance/engine/process.hpp"
#include "conformance/engine/runner.hpp"

namespace parley::conform {
namespace {

// An implementation under test that the engine started (--launch), ready to accept connections.
struct launched {
  std::unique_ptr<process> proc;
  unsigned short port = 0;
  std::string log_path;
};

std::string replace_all(std::string text, const std::string& key, const std::string& value) {
  for (auto at = text.find(key); at != std::string::npos; at = text.find(key, at + value.size()))
    text.replace(at, key.size(), value);
  return text;
}

std::string tail_of(const std::string& path, std::size_t max = 4000) {
  std::ifstream in(path, std::ios::binary);
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return all.size() > max ? "..." + all.substr(all.size() - max) : all;
}

// The launch command controls timing when it has a placeholder for a timing variable: {ping}, {pong}, ...
bool launch_controls_timing(const adapter& a, const std::string& command) {
  for (const auto& [name, value] : a.fast_timing().vars)
    if (command.find("{" + name + "}") != std::string::npos) return true;
  return false;
}

std::string launch_once(const adapter& a, const run_settings& s, const timing& t, launched& out, const std::string& tag,
                        bool& port_lost) {
  out.port = free_port();
  std::string command = replace_all(s.launch_command, "{port}", std::to_string(out.port));
  for (const auto& [name, value] : a.placeholders()) command = replace_all(command, "{" + name + "}", value);
  for (const auto& [name, value] : t.vars)
    command = replace_all(command, "{" + name + "}", std::to_string(static_cast<long long>(value)));
  out.log_path = s.log_dir + "/target-" + tag + ".log";
  out.proc = std::make_unique<process>(command, false, false, out.log_path);
  // Ready when it accepts a TCP connection; give up if it exits or takes too long.
  auto deadline = clock_type::now() + millis(static_cast<long long>(10000 * s.time_scale));
  while (clock_type::now() < deadline) {
    if (!out.proc->running()) {
      // Most often the port was taken between choosing it and the target binding it (an outgoing
      // connection of this very engine may have been given it): the caller tries another port.
      port_lost = tail_of(out.log_path).find("in use") != std::string::npos;
      return "the implementation under test exited (code " + std::to_string(out.proc->exit_code().value_or(-1)) +
             ") before accepting connections: " + command;
    }
    if (auto probe = net::connect_tcp("127.0.0.1", out.port, clock_type::now() + millis(200))) {
      (*probe)->close();
      return {};
    }
    std::this_thread::sleep_for(millis(20));
  }
  return "the implementation under test did not accept connections on port " + std::to_string(out.port) +
         " within 10 s: " + command;
}

std::string launch(const adapter& a, const run_settings& s, const timing& t, launched& out, const std::string& tag) {
  for (int attempt = 1;; ++attempt) {
    bool port_lost = false;
    std::string problem = launch_once(a, s, t, out, tag, port_lost);
    if (problem.empty() || !port_lost || attempt == 3) return problem;
  }
}

// Runs one step; "" on success, else the failure text. Throws case_error for malformed steps.
std::string execute(const step& s, case_context& ctx) {
  const adapter& a = ctx.protocol();
  if (s.op.find('.') != std::string::npos) {
    if (!s.op.starts_with(a.protocol() + ".")) throw case_error("step " + s.op + " belongs to another protocol");
    return a.run_step(s, ctx);
  }
  if (s.op == "connect") return ctx.connect(s.conn, ctx.deadline(s.within, 5000), ctx.substitute(s.from));
  if (s.op == "send" || s.op == "send_raw") {
    std::string text = ctx.substitute(s.text);
    std::string bytes;
    if (s.op == "send") bytes = a.encode(text);
    else
      for (std::size_t i = 0; i < s.repeat; ++i) bytes += text;
    return ctx.send(s.conn, bytes, s.split_at, millis(static_cast<long long>(ctx.ms(s.gap, 50))));
  }
  if (s.op == "expect") {
    std::vector<std::string> patterns;
    for (const auto& m : s.matches) patterns.push_back(ctx.substitute(m, true));
    std::optional<time_point> not_before;
    if (!s.not_before.empty())
      not_before = clock_type::now() + std::chrono::microseconds(static_cast<long long>(ctx.ms(s.not_before, 0) * 1000));
    std::vector<std::string> skip;
    for (const auto& m : s.skip) skip.push_back(ctx.substitute(m, true));
    return ctx.expect(s.conn, patterns, ctx.deadline(s.within, 2000), s.capture, s.icase, not_before, skip);
  }
  if (s.op == "expect_silence") return ctx.expect_silence(s.conn, ctx.deadline(s.within, 300));
  if (s.op == "expect_close") return ctx.expect_close(s.conn, s.close_kind, ctx.deadline(s.within, 2000));
  if (s.op == "close" || s.op == "reset") return ctx.close(s.conn, s.op == "reset");
  if (s.op == "wait") {
    std::this_thread::sleep_until(ctx.deadline(s.within, 0));
    return {};
  }
  if (s.op == "accept") return ctx.accept(s.conn, ctx.deadline(s.within, 5000));
  if (s.op == "launch_client") return ctx.launch_client(ctx.substitute(s.text));
  if (s.op == "client_input") {
    std::string line = ctx.substitute(s.text);
    ctx.note("client", '>', line);
    if (!ctx.client() || !ctx.client()->write_stdin(line + "\n")) return "the client under test is not running";
    return {};
  }
  if (s.op == "close_client_input") {
    if (ctx.client()) ctx.client()->close_stdin();
    return {};
  }
  if (s.op == "expect_event" || s.op == "expect_no_event") {
    if (!ctx.client()) throw case_error(s.op + " without launch_client");
    std::regex re(ctx.substitute(s.matches.front(), true));
    bool wanted = s.op == "expect_event";
    auto until = ctx.deadline(s.within, wanted ? 2000 : 300);
    while (auto line = ctx.client()->read_line(until)) {
      ctx.note("client", '<', *line);
      if (std::regex_search(*line, re))
        return wanted ? std::string{} : "the client showed " + *line + ", which it must not";
    }
    return wanted ? "the client never showed an event matching /" + s.matches.front() + "/" : std::string{};
  }
  throw case_error("unknown operation " + s.op);
}

}  // namespace

std::string_view name_of(verdict v) {
  switch (v) {
    case verdict::pass: return "PASS";
    case verdict::warn: return "WARN";
    case verdict::skip: return "SKIP";
    case verdict::fail: return "FAIL";
    case verdict::error: return "ERROR";
  }
  return "?";
}

namespace {

class suite {
public:
  suite(const adapter& a, const rule_book& rules, const run_settings& s) : adapter_(a), rules_(rules), settings_(s) {}

  case_result run(const test_case& c) {
    case_result r{c.id, c.rules, c.faults, c.description, level_of(c), verdict::pass, {}, 0, c.file, 0, {}, {}};
    auto started = clock_type::now();
    if (auto why = skip_reason(c); !why.empty()) {
      r.outcome = verdict::skip;
      r.message = why;
      return r;
    }
    bool controllable = settings_.kind == target_kind::builtin ||
                        (settings_.kind == target_kind::launch && launch_controls_timing(adapter_, settings_.launch_command));
    // Short timings only for the cases that wait for timers; the others must never see a timer fire.
    timing t = (c.timers && controllable && !settings_.real_time) ? adapter_.fast_timing() : adapter_.real_timing();

    std::unique_ptr<builtin_server> builtin;
    launched own;
    std::string host = settings_.host;
    unsigned short port = settings_.port;
    std::string target_log;
    bool shared_target = false;  // other cases talk to the same server at the same time
    if (c.role == role::server) {
      if (settings_.kind == target_kind::builtin) {
        builtin = adapter_.start_builtin(t);  // every case gets its own: cheap, and nothing leaks between cases
        host = "127.0.0.1";
        port = builtin->port();
      } else if (settings_.kind == target_kind::launch) {
        bool own_instance = settings_.fresh || c.fresh || c.timers;
        std::string problem = own_instance ? launch(adapter_, settings_, t, own, c.id) : shared(port);
        if (!problem.empty()) {
          r.outcome = verdict::error;
          r.message = problem;
          r.target_output = own.log_path.empty() ? "" : tail_of(own.log_path);
          return r;
        }
        host = "127.0.0.1";
        if (own_instance) port = own.port;
        shared_target = !own_instance;
        target_log = own_instance ? own.log_path : shared_.log_path;
      } else {
        shared_target = true;  // --target: a server every case uses
      }
    }

    case_context ctx(adapter_, settings_, t, host, port);
    ctx.filter_noise = c.role == role::server;
    if (auto problem = adapter_.begin_case(ctx, shared_target); !problem.empty()) {
      r.outcome = verdict::error;
      r.message = problem;
      return r;
    }
    try {
      if (c.role == role::client) {
        if (auto problem = ctx.listen(); !problem.empty()) throw case_error(problem);
      }
      for (const auto& s : c.steps) {
        std::string failure = execute(s, ctx);
        if (failure.empty()) continue;
        r.failed_step = s.line;
        r.message = failure;
        r.outcome = failure_verdict(r.level);
        break;
      }
    } catch (const case_error& e) {
      r.outcome = verdict::error;
      r.message = e.what();
    } catch (const std::regex_error& e) {
      r.outcome = verdict::error;
      r.message = std::string("bad regular expression in the case: ") + e.what();
    } catch (const std::exception& e) {  // e.g. a step argument of the wrong YAML type
      r.outcome = verdict::error;
      r.message = std::string("the case could not run: ") + e.what();
    }
    // A target that died explains many failures: say so.
    if (r.outcome != verdict::pass) {
      process* p = own.proc ? own.proc.get() : (c.role == role::server ? shared_.proc.get() : nullptr);
      if (p && !p->running())
        r.message += " [the implementation under test exited with code " + std::to_string(p->exit_code().value_or(-1)) + "]";
      if (!target_log.empty()) r.target_output = tail_of(target_log);
    }
    if (ctx.client()) ctx.client()->stop();
    ctx.close_all();
    adapter_.end_case(ctx);
    r.wire = ctx.take_wire();
    // Only server-role cases: there the engine's bytes are what a server hub receives.
    if (!settings_.record_dir.empty() && c.role == role::server) save_record(c.id, ctx.take_record());
    r.ms = std::chrono::duration<double, std::milli>(clock_type::now() - started).count();
    return r;
  }

private:
  std::string level_of(const test_case& c) const {
    std::string level = "MAY";
    for (const auto& id : c.rules) {
      const rule* r = rules_.find(id);
      if (!r) continue;
      if (r->level == "MUST") return "MUST";
      if (r->level == "SHOULD") level = "SHOULD";
    }
    return level;
  }

  verdict failure_verdict(const std::string& level) const {
    if (level == "MUST" || (level == "SHOULD" && settings_.strict)) return verdict::fail;
    return verdict::warn;
  }

  std::string skip_reason(const test_case& c) const {
    if (c.role == role::server && !settings_.test_servers) return "server-role case; the target is a client";
    if (c.role == role::client && !settings_.test_clients) return "client-role case; the target is a server";
    if (c.role == role::server && settings_.kind == target_kind::address) {
      if (c.fresh) return "needs a server nobody else uses: run with --launch instead of --target";
      if (c.timers && !settings_.real_time) return "waits for the protocol's timers: add --real-time";
    }
    if (c.role == role::server && c.timers && settings_.kind == target_kind::launch && !settings_.real_time &&
        !launch_controls_timing(adapter_, settings_.launch_command)) {
      std::string names;
      for (const auto& [name, v] : adapter_.fast_timing().vars) names += " {" + name + "}";
      return "waits for the protocol's timers: add --real-time, or put" + names + " in the --launch command";
    }
    return {};
  }

  std::string shared(unsigned short& port) {
    std::lock_guard lock(shared_mutex_);
    if (!shared_.proc) shared_problem_ = launch(adapter_, settings_, adapter_.real_timing(), shared_, "shared");
    port = shared_.port;
    return shared_problem_;
  }

  void save_record(const std::string& id, const std::string& bytes) {
    if (bytes.empty()) return;
    std::filesystem::create_directories(settings_.record_dir);
    // A leading zero byte: the hub fuzzers read their first byte as the fault selector (0: none).
    std::ofstream(settings_.record_dir + "/conform-" + id, std::ios::binary) << '\0' << bytes;
  }

  const adapter& adapter_;
  const rule_book& rules_;
  const run_settings& settings_;
  std::mutex shared_mutex_;
  launched shared_;
  std::string shared_problem_;
};

}  // namespace

std::vector<case_result> run_suite(const adapter& a, const std::vector<test_case>& cases, const rule_book& rules,
                                   const run_settings& settings, int jobs) {
  suite s(a, rules, settings);
  std::vector<case_result> results(cases.size());
  // Cases that wait for timers take the longest: they start first, so they do not end the run alone.
  // Results keep the cases' own order.
  std::vector<std::size_t> order(cases.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_partition(order.begin(), order.end(), [&](std::size_t i) { return cases[i].timers || cases[i].slow; });
  std::atomic<std::size_t> next{0};
  auto worker = [&] {
    for (std::size_t k = next++; k < order.size(); k = next++) results[order[k]] = s.run(cases[order[k]]);
  };
  std::vector<std::thread> workers;
  for (int i = 1; i < std::max(1, jobs); ++i) workers.emplace_back(worker);
  worker();
  for (auto& w : workers) w.join();
  return results;
}

}  // namespace parley::conform
