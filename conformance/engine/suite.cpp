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
#include "conformance/engine/process.hpp"
#include "conformance/engine/target.hpp"

namespace parley::conform {
namespace {

enum class suspicion { none, target_down, fresh_reset };

struct job {
  std::size_t index;
  int run;
};

std::string join(const std::vector<std::string>& items, const std::string& separator = ", ") {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : separator) + item;
  return out;
}

// The launch command controls timing when it has a placeholder for a timing variable: {ping}, {pong}, ...
bool launch_controls_timing(const adapter& a, const std::string& command) {
  for (const auto& [name, value] : a.fast_timing().vars)
    if (command.find("{" + name + "}") != std::string::npos) return true;
  return false;
}

class suite {
public:
  suite(const adapter& a, const std::vector<test_case>& cases, const rule_book& rules, const run_settings& s)
      : adapter_(a), cases_(cases), rules_(rules), settings_(s) {}

  run_report run(int jobs);

private:
  bool uses_target() const {
    return settings_.kind != target_kind::builtin && settings_.test_servers &&
           std::any_of(cases_.begin(), cases_.end(), [](const test_case& c) { return c.role == role::server; });
  }
  bool interrupted() const { return settings_.interrupted && settings_.interrupted->load(); }

  std::string preflight(run_report& report);
  case_result run_case(const test_case& c, int run, suspicion& suspect, bool retried = false);
  void settle(std::vector<std::pair<job, suspicion>> suspects, std::vector<case_result>& results);
  void settle_death(const std::vector<std::pair<job, suspicion>>& suspects, std::vector<case_result>& results);
  void settle_fresh(const job& j, std::vector<case_result>& results);

  // --profile NAME: the target offers the profiles up to NAME (the adapter lists them fullest last).
  std::vector<std::string> forced_profiles() const {
    auto all = adapter_.profiles();
    auto at = std::find(all.begin(), all.end(), settings_.profile);
    return {all.begin(), at == all.end() ? all.end() : at + 1};
  }
  std::string level_of(const test_case& c) const;
  std::string skip_reason(const test_case& c) const;
  case_result not_run(const test_case& c, int run, verdict v, const std::string& why) const;
  std::string shared_target(unsigned short& port);
  bool restart_shared(const std::string& why);
  void note(const std::string& text) {
    std::lock_guard lock(notes_mutex_);
    notes_.push_back(text);
  }
  void save_record(const std::string& id, const std::string& bytes) const;

  const adapter& adapter_;
  const std::vector<test_case>& cases_;
  const rule_book& rules_;
  const run_settings& settings_;

  std::mutex shared_mutex_;
  std::unique_ptr<launched_target> shared_;
  std::string shared_problem_;
  int restarts_ = 0;

  std::atomic<bool> target_down_{false};
  std::string down_reason_;
  std::vector<std::string> profiles_;
  connect_pacer pacer_;
  bool pacing_confirmed_ = false;
  int pacing_rejected_ = 0;

  std::mutex notes_mutex_;
  std::vector<std::string> notes_;
};

std::string suite::level_of(const test_case& c) const {
  std::string level = "MAY";
  for (const auto& id : c.rules) {
    const rule* r = rules_.find(id);
    if (!r || r->level == "MUST") return "MUST";
    if (r->level == "SHOULD") level = "SHOULD";
  }
  return level;
}

std::string suite::skip_reason(const test_case& c) const {
  if (c.role == role::server && !settings_.test_servers) return "server-role case; the target is a client";
  if (c.role == role::client && !settings_.test_clients) return "client-role case; the target is a server";
  if (c.role == role::server && !c.profile.empty() && !profiles_.empty() &&
      std::find(profiles_.begin(), profiles_.end(), c.profile) == profiles_.end())
    return "needs " + c.profile + "; the target offers " + join(profiles_, " and ") + " only";
  if (c.role == role::server && settings_.kind == target_kind::address) {
    if (c.fresh) return "needs a server nobody else uses: run with --launch instead of --target";
    if (c.timers && !settings_.real_time) return "waits for the protocol's timers: add --real-time";
  }
  if (c.role == role::client && c.timers && !settings_.client_command.empty() && !settings_.real_time) {
    std::string missing;
    for (const auto& name : adapter_.client_timing())
      if (settings_.client_command.find("{" + name + "}") == std::string::npos) missing += " {" + name + "}";
    if (!missing.empty())
      return "waits for the client's timers: add --real-time, or put" + missing + " in the client's --launch command";
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

std::string suite::shared_target(unsigned short& port) {
  std::lock_guard lock(shared_mutex_);
  if (!shared_ && shared_problem_.empty()) {
    shared_problem_ = launched_target::start(adapter_, settings_, adapter_.real_timing(), "shared", shared_);
    pacer_.note_connect();  // its readiness probe
  }
  port = shared_ ? shared_->port() : 0;
  return shared_problem_;
}

bool suite::restart_shared(const std::string& why) {
  std::lock_guard lock(shared_mutex_);
  if (++restarts_ > 10) {
    shared_problem_ = "the target was restarted 10 times; the engine gave up";
    return false;
  }
  if (shared_) shared_->stop();
  shared_problem_ = launched_target::start(adapter_, settings_, adapter_.real_timing(),
                                           "shared-restart" + std::to_string(restarts_), shared_);
  pacer_.note_connect();
  if (!shared_problem_.empty()) return false;
  note("restarted the target (" + why + ")");
  return true;
}

// Before case 1: is the target there, and does it speak the protocol? One clear ERROR instead of one FAIL
// per case. Also learns the profiles it offers.
std::string suite::preflight(run_report& report) {
  std::string host = settings_.host;
  unsigned short port = settings_.port;
  std::unique_ptr<launched_target> probe_instance;
  if (settings_.kind == target_kind::launch) {
    host = "127.0.0.1";
    // The shared instance is the one the cases use; with --fresh a temporary one answers the preflight.
    std::string problem = settings_.fresh
                              ? launched_target::start(adapter_, settings_, adapter_.real_timing(), "preflight", probe_instance)
                              : shared_target(port);
    if (settings_.fresh && probe_instance) port = probe_instance->port();
    if (!problem.empty()) {
      launched_target* lt = settings_.fresh ? probe_instance.get() : shared_.get();
      if (lt) report.notes.push_back("output of the implementation under test (tail):\n" + lt->output_tail());
      return problem;
    }
  }
  identity id;
  std::string log;
  // A connection lost before its first byte may be a target that resets connections opened close together
  // (the readiness probe was one): such a target gets more tries, further apart.
  for (int attempt = 1;; ++attempt) {
    case_context ctx(adapter_, settings_, adapter_.real_timing(), host, port);
    if (auto problem = adapter_.begin_case(ctx, true); !problem.empty()) return problem;
    id = adapter_.identify(ctx);
    bool fresh_loss = ctx.trouble().lost && ctx.trouble().fresh;
    ctx.end_sessions(true);
    adapter_.end_case(ctx);
    log.clear();
    for (const auto& w : ctx.take_wire()) log += "    " + w.conn + " " + w.direction + " " + w.text + "\n";
    if (id.problem.empty() || !fresh_loss || attempt == 3) break;
    std::this_thread::sleep_for(millis(300 * attempt));
  }
  if (probe_instance) probe_instance->stop();
  if (!id.problem.empty()) {
    if (!log.empty()) report.notes.push_back("the preflight's wire log:\n" + log);
    return id.problem;
  }
  if (!settings_.profile.empty()) {
    profiles_ = forced_profiles();
    std::string detected = id.profiles.empty() ? std::string{} : id.profiles.back();
    note("profile " + settings_.profile + " (--profile)" +
         (!detected.empty() && detected != settings_.profile ? "; the preflight found the target offers " + detected : ""));
  } else {
    profiles_ = id.profiles.empty() ? adapter_.profiles() : id.profiles;
    if (!id.note.empty()) note(id.note);
  }
  return {};
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
  ctx.filter_noise = c.role == role::server;
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

  launched_target* watched = own ? own.get() : (shared && settings_.kind == target_kind::launch ? shared_.get() : nullptr);
  if (!o.failure.empty() && !o.harness_error) {
    // Evidence: what the case's other connections had received by now.
    ctx.drain(clock_type::now() + millis(static_cast<long long>(100 * settings_.time_scale)));
    if (own && !own->running()) {
      r.notes.push_back("the implementation under test " + own->exit_status() + " during this case");
    } else if (external && ctx.trouble().lost) {
      bool alive = target_alive(adapter_, host, port, watched, settings_.time_scale);
      // An instance of the case's own that stopped serving was stopped by the case: nothing to settle.
      if (!alive && own) r.notes.push_back("the implementation under test stopped accepting connections during this case");
      else if (!alive) suspect = suspicion::target_down;
      else if (ctx.trouble().fresh && !pacing_confirmed_ && pacing_rejected_ < 2) suspect = suspicion::fresh_reset;
    }
  }
  ctx.end_sessions(c.role == role::server);
  if (ctx.client()) ctx.client()->stop();
  adapter_.end_case(ctx);

  // The case learned that the target still holds a user it needed: once more, with other users.
  if (!ctx.retry_reason().empty() && !o.failure.empty()) {
    note(ctx.retry_reason());
    if (!retried) {
      case_result again = run_case(c, run, suspect, true);
      again.notes.push_back("run again: " + ctx.retry_reason());
      return again;
    }
  }
  attribute(r, c, rules_of_steps, o, ctx.take_findings(), rules_, settings_.strict);
  if (!r.notes.empty()) r.message += " [" + join(r.notes, "; ") + "]";
  if (r.outcome != verdict::pass && watched) r.target_output = watched->output_tail();
  r.wire = ctx.take_wire();
  // Only server-role cases: there the engine's bytes are what a server hub receives.
  if (!settings_.record_dir.empty() && c.role == role::server) save_record(c.id, ctx.take_record());
  r.ms = std::chrono::duration<double, std::milli>(clock_type::now() - started).count();
  return r;
}

void suite::settle(std::vector<std::pair<job, suspicion>> suspects, std::vector<case_result>& results) {
  bool death = std::any_of(suspects.begin(), suspects.end(), [](auto& s) { return s.second == suspicion::target_down; });
  if (death) return settle_death(suspects, results);
  for (const auto& [j, why] : suspects) settle_fresh(j, results);
}

void suite::settle_death(const std::vector<std::pair<job, suspicion>>& suspects, std::vector<case_result>& results) {
  std::vector<std::string> ids;
  for (const auto& [j, why] : suspects) ids.push_back(cases_[j.index].id);
  std::string during = ids.size() == 1 ? "case " + ids[0] : "cases " + join(ids) + ", which ran at the same time";
  auto slot = [&](const job& j) -> case_result& { return results[static_cast<std::size_t>(j.run) * cases_.size() + j.index]; };

  if (settings_.kind != target_kind::launch) {
    // Nothing to restart: one finding, and every later case is ERROR "target down".
    down_reason_ = "the target stopped accepting connections during " + during;
    target_down_ = true;
    note(down_reason_ + "; every later case is ERROR");
    if (suspects.size() == 1) {
      slot(suspects[0].first).notes.push_back("the target stopped accepting connections during this case");
      slot(suspects[0].first).message += " [the target stopped accepting connections during this case]";
    } else {
      for (const auto& [j, why] : suspects)
        slot(j) = not_run(cases_[j.index], j.run, verdict::error,
                          "the target stopped accepting connections while " + during +
                              "; rerun with -j 1 to tell which case stopped it");
    }
    return;
  }

  std::string status = shared_ ? shared_->exit_status() : std::string{};
  std::string tail = shared_ ? shared_->output_tail() : std::string{};
  note("the target stopped accepting connections during " + during + (status.empty() ? "" : " (it " + status + ")"));
  // Each suspect alone on a fresh instance: the one after which the target is dead again is the culprit.
  for (const auto& [j, why] : suspects) {
    const test_case& c = cases_[j.index];
    bool serving = !target_down_ && shared_ &&
                   target_alive(adapter_, "127.0.0.1", shared_->port(), shared_.get(), settings_.time_scale);
    if (!serving && !restart_shared("it had stopped accepting connections")) {
      down_reason_ = shared_problem_;
      target_down_ = true;
      slot(j) = not_run(c, j.run, verdict::error, "target down: " + shared_problem_);
      continue;
    }
    suspicion again = suspicion::none;
    case_result r = run_case(c, j.run, again);
    if (!shared_ || !target_alive(adapter_, "127.0.0.1", shared_->port(), shared_.get(), settings_.time_scale)) {
      std::string now_status = shared_ ? shared_->exit_status() : std::string{};
      std::string what = "the target stopped accepting connections during this case, run alone" +
                         (now_status.empty() ? std::string{} : " (it " + now_status + ")");
      r.notes.push_back(what);
      r.message += " [" + what + "]";
      if (shared_) r.target_output = shared_->output_tail();
      // It died, yet every step passed (e.g. at the case's polite farewell): that is still this case's doing.
      if (r.outcome == verdict::pass) {
        std::string rule = adapter_.independence_rule().empty() ? r.rules.front() : adapter_.independence_rule();
        r.results.push_back({rule, broken(rules_, rule, settings_.strict), what, {}, 0});
        r.outcome = verdict::fail;
      }
      note("case " + c.id + ", run alone, stopped the target: charged to it");
    } else {
      r.notes.push_back("rerun alone after the target was restarted");
      if (r.outcome != verdict::pass && r.target_output.empty()) r.target_output = tail;
    }
    slot(j) = std::move(r);
  }
  if (!target_down_ && shared_ &&
      !target_alive(adapter_, "127.0.0.1", shared_->port(), shared_.get(), settings_.time_scale))
    restart_shared("it had stopped accepting connections");
}

void suite::settle_fresh(const job& j, std::vector<case_result>& results) {
  const test_case& c = cases_[j.index];
  case_result& out = results[static_cast<std::size_t>(j.run) * cases_.size() + j.index];
  if (pacing_confirmed_ || pacing_rejected_ >= 2) {
    suspicion ignored;
    out = run_case(c, j.run, ignored);
    out.notes.push_back("rerun alone with connects paced " + std::to_string(pacer_.gap().count()) + " ms apart");
    return;
  }
  std::string first_failure = out.message;
  for (millis gap : {millis(150), millis(1000)}) {
    pacer_.set_gap(gap);
    suspicion again = suspicion::none;
    case_result r = run_case(c, j.run, again);
    if (again == suspicion::fresh_reset) continue;
    // Pacing cured it: the target resets connections opened close together. One finding, for the run.
    pacing_confirmed_ = true;
    std::string what = "the target ends connections opened in quick succession before they deliver a byte (case " +
                       c.id + ": " + first_failure + "); rerun alone with connects " + std::to_string(gap.count()) +
                       " ms apart, it did not";
    note(what + "; the rest of the run paces connects " + std::to_string(gap.count()) + " ms apart");
    std::string rule = adapter_.independence_rule();
    if (!rule.empty()) {
      r.results.push_back({rule, broken(rules_, rule, settings_.strict), what, {}, 0});
      if (std::find(r.rules.begin(), r.rules.end(), rule) == r.rules.end()) r.rules.push_back(rule);
      if (severity(r.results.back().outcome) > severity(r.outcome)) r.outcome = r.results.back().outcome;
    }
    r.notes.push_back("rerun alone with connects paced " + std::to_string(gap.count()) + " ms apart");
    out = std::move(r);
    return;
  }
  // Not a matter of pacing: the failure stands as the case found it.
  pacer_.set_gap(millis(0));
  ++pacing_rejected_;
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
  std::vector<job> work;
  for (int run = 0; run < report.repeat; ++run)
    for (std::size_t i : order) work.push_back({i, run});

  std::vector<case_result> results(cases_.size() * static_cast<std::size_t>(report.repeat));
  std::vector<bool> done(results.size(), false);
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

void suite::save_record(const std::string& id, const std::string& bytes) const {
  if (bytes.empty()) return;
  std::filesystem::create_directories(settings_.record_dir);
  // A leading zero byte: the hub fuzzers read their first byte as the fault selector (0: none).
  std::ofstream(settings_.record_dir + "/conform-" + id, std::ios::binary) << '\0' << bytes;
}

}  // namespace

run_report run_suite(const adapter& a, const std::vector<test_case>& cases, const rule_book& rules,
                     const run_settings& settings, int jobs) {
  suite s(a, cases, rules, settings);
  return s.run(jobs);
}

}  // namespace parley::conform
