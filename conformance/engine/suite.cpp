// Schedules the cases of a run over worker threads and keeps an eye on the target's health.
//
// When a case fails because a connection was lost, the engine asks whether the target still serves. If
// not, it stops starting cases, lets the running ones finish, and settles the suspects alone: under
// --launch it restarts the target and reruns each suspect by itself, so the case that kills the target is
// named and charged (and the others get their own verdicts); against --target it reports the target down
// once and every later case is ERROR. A target that is alive but ended a connection before it delivered a
// byte may be one that resets connections opened close together: the suspect is rerun alone with connects
// paced apart, and if that cures it the pacing stays and the defect is one finding.
#include "conformance/engine/suite.hpp"

#include <algorithm>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <numeric>
#include <thread>

#include "conformance/engine/case_run.hpp"
#include "impl/cli/process.hpp"
#include "conformance/engine/suite_run.hpp"
#include "conformance/engine/target.hpp"
#include "impl/core/encoding.hpp"

namespace parley::conform {
namespace detail {

std::string suite::level_of(const test_case& c) const {
  std::string level = "MAY";
  for (const auto& id : c.rules) {
    const rule* r = rules_.find(id);
    if (!r || r->level == "MUST") return "MUST";
    if (r->level == "SHOULD") level = "SHOULD";
  }
  return level;
}

namespace {
// " {name}" for each of `names` that `command` does not hold as a placeholder.
std::string missing_placeholders(const std::string& command, const std::vector<std::string>& names) {
  std::string missing;
  for (const auto& name : names)
    if (command.find("{" + name + "}") == std::string::npos) missing += " {" + name + "}";
  return missing;
}
}  // namespace

std::string suite::skip_reason(const test_case& c) const {
  if (c.role == role::server && !settings_.test_servers) return "server-role case; the target is a client";
  if (c.role == role::client && !settings_.test_clients) return "client-role case; the target is a server";
  // A client's profile is not detected: --profile says it (a peerchat/1-only client: --profile v1).
  if (!c.profile.empty() && !profiles_.empty() &&
      std::find(profiles_.begin(), profiles_.end(), c.profile) == profiles_.end())
    return "needs " + c.profile + "; the target offers " + join(profiles_, " and ") + " only";
  if (c.role == role::server && settings_.kind == target_kind::address) {
    if (c.fresh) return "needs a server nobody else uses: run with --launch instead of --target";
    if (c.timers && !settings_.real_time) return "waits for the protocol's timers: add --real-time";
  }
  if (c.role == role::client && c.timers && !settings_.client_command.empty() && !settings_.real_time) {
    std::string missing = missing_placeholders(settings_.client_command, adapter_.client_timing());
    if (!missing.empty())
      return "waits for the client's timers: add --real-time, or put" + missing + " in the client's --launch command";
  }
  if (c.role == role::server && !c.timer_vars.empty() && settings_.kind == target_kind::launch &&
      !settings_.real_time && launch_controls_timing(adapter_, settings_.launch_command)) {
    std::string missing = missing_placeholders(settings_.launch_command, c.timer_vars);
    if (!missing.empty()) return "waits for a timer the --launch command does not set: add --real-time, or put" + missing + " in it";
  }
  if (c.role == role::server && c.timers && settings_.kind == target_kind::launch && !settings_.real_time &&
      !launch_controls_timing(adapter_, settings_.launch_command)) {
    std::string names;
    for (const auto& [name, v] : adapter_.fast_timing().vars) names += " {" + name + "}";
    return "waits for the protocol's timers: add --real-time, or put" + names + " in the --launch command";
  }
  return {};
}

case_result suite::not_run(const test_case& c, int run, verdict v, const std::string& why) const {
  case_result r;
  r.id = c.id;
  r.faults = c.faults;
  r.description = c.description;
  r.level = level_of(c);
  r.file = c.file;
  r.run = run;
  r.outcome = v;
  r.message = why;
  r.rules = c.rules;
  for (const auto& id : step_rules(c, adapter_))
    if (std::find(r.rules.begin(), r.rules.end(), id) == r.rules.end()) r.rules.push_back(id);
  for (const auto& id : r.rules) r.results.push_back({id, v, why, {}, 0});
  return r;
}


case_result suite::run_case(const test_case& c, int run, suspicion& suspect, bool retried) {
  suspect = suspicion::none;
  if (auto why = skip_reason(c); !why.empty()) return not_run(c, run, verdict::skip, why);
  if (c.role == role::server && target_down_) return not_run(c, run, verdict::error, "target down: " + down_reason_);
  if (interrupted()) return not_run(c, run, verdict::error, "interrupted before the case started");

  case_result r = not_run(c, run, verdict::pass, {});
  auto rules_of_steps = step_rules(c, adapter_);
  auto started = clock_type::now();
  bool controllable = settings_.kind == target_kind::builtin ||
                      (settings_.kind == target_kind::launch && launch_controls_timing(adapter_, settings_.launch_command));
  // Short timings only for the cases that wait for timers; the others must never see a timer fire.
  timing t = (c.timers && controllable && !settings_.real_time) ? adapter_.fast_timing() : adapter_.real_timing();

  std::unique_ptr<builtin_server> builtin;
  std::unique_ptr<launched_target> own;
  std::string host = settings_.host;
  unsigned short port = settings_.port;
  bool shared = false;  // other cases talk to the same server at the same time
  bool external = c.role == role::server && settings_.kind != target_kind::builtin;
  if (c.role == role::server) {
    if (settings_.kind == target_kind::builtin) {
      builtin = adapter_.start_builtin(t);  // every case gets its own: cheap, and nothing leaks between cases
      host = "127.0.0.1";
      port = builtin->port();
    } else if (settings_.kind == target_kind::launch) {
      bool own_instance = settings_.fresh || c.fresh || c.timers;
      std::string tag = c.id + (settings_.repeat > 1 ? "-run" + std::to_string(run + 1) : "");
      std::string problem = own_instance ? launched_target::start(adapter_, settings_, t, tag, own) : shared_target(port);
      if (!problem.empty()) {
        case_result e = not_run(c, run, verdict::error, problem);
        if (own) e.target_output = own->output_tail();
        return e;
      }
      host = "127.0.0.1";
      if (own_instance) port = own->port();
      shared = !own_instance;
    } else {
      shared = true;  // --target: a server every case uses
    }
  }

  case_context ctx(adapter_, settings_, t, host, port);
  if (!c.suffix.empty()) ctx.use_suffix(c.suffix);
  if (c.watch) ctx.watch_sessions();
  ctx.filter_noise = c.role == role::server;
  ctx.events_off = events_off_;
  // Pacing is per server: a case's own instance only sees the case's own connects.
  connect_pacer own_pacer;
  own_pacer.set_gap(pacer_.gap());
  own_pacer.note_connect();  // its readiness probe
  connect_pacer& pacer = own ? own_pacer : pacer_;
  if (external) ctx.before_connect = [&pacer] { pacer.wait_turn(); };
  ctx.set("profile", profiles_.empty() ? std::string{} : profiles_.back());
  if (auto problem = adapter_.begin_case(ctx, shared); !problem.empty()) return not_run(c, run, verdict::error, problem);

  steps_outcome o;
  if (c.role == role::client) {
    if (auto problem = ctx.listen(); !problem.empty()) {
      o.failure = problem;
      o.harness_error = true;
    }
  }
  if (o.failure.empty()) o = run_steps(c, rules_of_steps, ctx, settings_.interrupted);

  if (c.role == role::client) judge_client_health(ctx, c, o, r);
  launched_target* watched = own ? own.get() : (shared && settings_.kind == target_kind::launch ? shared_.get() : nullptr);
  if (!o.failure.empty() && !o.harness_error) {
    // Evidence: what the case's other connections had received by now.
    ctx.drain(clock_type::now() + millis(static_cast<long long>(100 * settings_.time_scale)));
    if (own && !own->running()) {
      r.notes.push_back("the implementation under test " + own->exit_status() + " during this case");
    } else if (external && ctx.trouble().lost) {
      bool alive = target_alive(adapter_, host, port, watched, settings_.time_scale, &pacer);
      // An instance of the case's own that stopped serving was stopped by the case: nothing to settle.
      if (!alive && own) r.notes.push_back("the implementation under test stopped accepting connections during this case");
      else if (!alive) suspect = suspicion::target_down;
      // Once pacing is confirmed, still suspected while it can widen (settle_fresh says why).
      else if (ctx.trouble().fresh && pacing_rejected_ < 2 && !(pacing_confirmed_ && pacer_.gap() >= widest_pace))
        suspect = suspicion::fresh_reset;
    }
  }
  // A watched case is judged on what its last steps set off too (a relay on its way to another connection).
  if (c.watch && o.failure.empty()) ctx.drain(ctx.deadline({}, 300));
  ctx.end_sessions(c.role == role::server);
  ctx.take_watch_findings();
  if (ctx.client()) ctx.client()->stop();
  adapter_.end_case(ctx);

  // The case asked to be run once more: the target still holds a user it needed (it gets other users), or
  // the machine was too busy for the engine to pace what it sent.
  if (!ctx.retry_reason().empty() && !o.failure.empty()) {
    note(ctx.retry_reason());
    if (!retried) {
      case_result again = run_case(c, run, suspect, true);
      again.notes.push_back("run again: " + ctx.retry_reason());
      return again;
    }
  }
  attribute(r, c, rules_of_steps, o, ctx.take_findings(), rules_, settings_.strict, &adapter_);
  if (!r.notes.empty()) r.message += " [" + join(r.notes, "; ") + "]";
  if (r.outcome != verdict::pass && watched) r.target_output = watched->output_tail();
  if (r.outcome != verdict::pass && c.role == role::client && r.target_output.empty())
    r.target_output = ctx.client_output_tail();
  r.wire = ctx.take_wire();
  // Only server-role cases: there the engine's bytes are what a server hub receives.
  if (!settings_.record_dir.empty() && c.role == role::server) save_record(c.id, ctx.take_record());
  r.ms = std::chrono::duration<double, std::milli>(clock_type::now() - started).count();
  return r;
}

run_report suite::run(int jobs) {
  run_report report;
  report.repeat = std::max(1, settings_.repeat);
  report.strict = settings_.strict;
  profiles_ = settings_.profile.empty() ? adapter_.profiles() : forced_profiles();
  if (uses_target()) {
    if (auto problem = preflight(report); !problem.empty()) {
      report.target_error = problem;
      report.notes.insert(report.notes.begin(), notes_.begin(), notes_.end());
      if (shared_) shared_->stop();
      return report;
    }
  }
  report.profiles = profiles_;

  // Cases that wait for timers take the longest: they start first, so they do not end the run alone.
  std::vector<std::size_t> order(cases_.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_partition(order.begin(), order.end(), [&](std::size_t i) { return cases_[i].timers || cases_[i].slow; });
  std::vector<case_result> results(cases_.size() * static_cast<std::size_t>(report.repeat));
  std::vector<bool> done(results.size(), false);
  long probe = probe_client_events(results, done);
  if (probe >= 0 && client_cannot_start(results[static_cast<std::size_t>(probe)], report)) {
    if (shared_) shared_->stop();
    return report;
  }
  std::vector<job> work;
  for (int run = 0; run < report.repeat; ++run)
    for (std::size_t i : order)
      if (run > 0 || static_cast<long>(i) != probe) work.push_back({i, run});

  std::mutex m;
  std::condition_variable changed;
  std::size_t next = 0;
  int in_flight = 0;
  bool paused = false;
  std::vector<std::pair<job, suspicion>> suspects;
  auto worker = [&] {
    std::unique_lock lock(m);
    for (;;) {
      changed.wait(lock, [&] { return interrupted() || next >= work.size() || !paused; });
      if (interrupted() || next >= work.size()) return;
      job j = work[next++];
      ++in_flight;
      lock.unlock();
      suspicion why = suspicion::none;
      case_result r = run_case(cases_[j.index], j.run, why);
      lock.lock();
      --in_flight;
      std::size_t slot = static_cast<std::size_t>(j.run) * cases_.size() + j.index;
      results[slot] = std::move(r);
      done[slot] = true;
      if (why != suspicion::none) {
        suspects.emplace_back(j, why);
        paused = true;  // no new case until the target's health is settled
      }
      if (paused && in_flight == 0) {
        auto batch = std::exchange(suspects, {});
        lock.unlock();
        settle(std::move(batch), results);  // alone: every other worker is waiting
        lock.lock();
        paused = false;
        changed.notify_all();
      }
    }
  };
  std::vector<std::thread> workers;
  for (int i = 1; i < std::max(1, jobs); ++i) workers.emplace_back(worker);
  worker();
  for (auto& w : workers) w.join();

  for (std::size_t i = 0; i < results.size(); ++i)
    if (done[i]) report.cases.push_back(std::move(results[i]));
  report.interrupted = interrupted();
  report.target_down = target_down_;
  report.notes.insert(report.notes.end(), notes_.begin(), notes_.end());
  if (shared_) shared_->stop();
  return report;
}

namespace {

// How judge_client_health ends the message of a case whose launched client exited before it connected.
constexpr std::string_view never_connected = " before it connected";

bool client_never_connected(const case_result& r) {
  return r.outcome == verdict::error && r.message.ends_with(never_connected);
}

}  // namespace

long suite::probe_client_events(std::vector<case_result>& results, std::vector<bool>& done) {
  events_off_ = settings_.no_events;
  // The reference client prints Parley's events. A launched client's first case runs alone, first: it shows
  // whether the client prints events (--no-events says so at once) and whether it starts at all.
  if (settings_.client_command.empty() || !settings_.test_clients) return -1;
  long probe = -1;
  for (std::size_t i = 0; i < cases_.size() && probe < 0; ++i)
    if (cases_[i].role == role::client && cases_[i].events_probe && skip_reason(cases_[i]).empty()) probe = static_cast<long>(i);
  for (std::size_t i = 0; i < cases_.size() && probe < 0; ++i)
    if (cases_[i].role == role::client && skip_reason(cases_[i]).empty()) probe = static_cast<long>(i);
  if (probe < 0) return -1;
  const test_case& c = cases_[static_cast<std::size_t>(probe)];
  suspicion ignored;
  case_result r = run_case(c, 0, ignored);
  // A client that never connected printed nothing to judge events by either.
  if (!events_off_ && !client_printed_events_ && !client_never_connected(r)) {
    events_off_ = true;
    note("the client printed no JSON events in case " + c.id + ": the event checks are skipped, and rules only they "
         "can show are SKIP (--no-events says so at once)");
    r = run_case(c, 0, ignored);  // judged again, without its event checks
  }
  results[static_cast<std::size_t>(probe)] = std::move(r);
  done[static_cast<std::size_t>(probe)] = true;
  return probe;
}

// A launched client that exits before it connects in the first client case (a bad command line, a missing
// file) would do so in every case: like an unreachable server, that is one ERROR for the run (exit code 3),
// with the client's status and output, not an ERROR per case.
bool suite::client_cannot_start(const case_result& first, run_report& report) const {
  if (!client_never_connected(first)) return false;
  report.target_error = first.message + " (case " + first.id + ")";
  report.notes.insert(report.notes.begin(), notes_.begin(), notes_.end());
  if (!first.target_output.empty()) report.notes.push_back("its output (tail):\n" + first.target_output);
  return true;
}

// A launched client's health is evidence: one that exits before it connects cannot be judged (ERROR with its
// status and output); one that dies during a case crashed on what the failing step was about.
void suite::judge_client_health(case_context& ctx, const test_case& c, steps_outcome& o, case_result& r) {
  cli::process* client = ctx.client();
  if (!client) return;
  // What the client printed and no step read goes into the wire log too; any event line in it tells the
  // run that this client prints events at all.
  while (client->poll_output()) {
  }
  while (auto line = client->read_line(clock_type::now())) ctx.note("client", '<', core::printable(*line));
  for (const auto& w : ctx.wire())
    if (w.conn == "client" && w.direction == '<' && w.text.starts_with("{") &&
        w.text.find("\"event\"") != std::string::npos)
      client_printed_events_ = true;
  if (o.failure.empty() || o.harness_error) return;
  // A client may still be on its way out. One that ended the connection the failed step read is most
  // likely dying: an interpreter takes a while to print its trace and exit on a loaded machine, so it gets
  // up to 2 s (scaled); a client still connected, 300 ms (scaled), since a live one costs the whole wait.
  auto until = ctx.deadline({}, ctx.trouble().lost ? 2000 : 300);
  while (client->running() && clock_type::now() < until) std::this_thread::sleep_for(millis(10));
  if (client->running()) return;
  std::string status = client->describe_exit();
  bool before_connecting = o.failed_index >= 0 && c.steps[static_cast<std::size_t>(o.failed_index)].op == "accept";
  if (before_connecting) {
    o.harness_error = true;
    o.failure = "the client " + status + std::string(never_connected);
    return;
  }
  std::string what = status == "exited with code 0" ? "the client exited (code 0) during the case"
                                                    : "the client crashed: it " + status;
  r.notes.push_back(what);
}

void suite::save_record(const std::string& id, const std::string& bytes) const {
  if (bytes.empty()) return;
  std::filesystem::create_directories(settings_.record_dir);
  // A leading zero byte: the hub fuzzers read their first byte as the fault selector (0: none).
  std::ofstream(settings_.record_dir + "/conform-" + id, std::ios::binary) << '\0' << bytes;
}

}  // namespace detail

run_report run_suite(const adapter& a, const std::vector<test_case>& cases, const rule_book& rules,
                     const run_settings& settings, int jobs) {
  detail::suite s(a, cases, rules, settings);
  return s.run(jobs);
}

}  // namespace parley::conform
