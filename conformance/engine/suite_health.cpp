// The target's health during a run: the preflight, the shared launched instance and its restarts, and the
// settling of suspects when a target stops serving or resets connections opened close together (see
// suite.cpp's header comment for the whole story).
#include <algorithm>
#include <thread>

#include "conformance/engine/case_run.hpp"
#include "conformance/engine/suite_run.hpp"

namespace parley::conform::detail {

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
                   target_alive(adapter_, "127.0.0.1", shared_->port(), shared_.get(), settings_.time_scale, &pacer_);
    if (!serving && !restart_shared("it had stopped accepting connections")) {
      down_reason_ = shared_problem_;
      target_down_ = true;
      slot(j) = not_run(c, j.run, verdict::error, "target down: " + shared_problem_);
      continue;
    }
    suspicion again = suspicion::none;
    case_result r = run_case(c, j.run, again);
    if (!shared_ || !target_alive(adapter_, "127.0.0.1", shared_->port(), shared_.get(), settings_.time_scale, &pacer_)) {
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
      !target_alive(adapter_, "127.0.0.1", shared_->port(), shared_.get(), settings_.time_scale, &pacer_))
    restart_shared("it had stopped accepting connections");
}

void suite::settle_fresh(const job& j, std::vector<case_result>& results) {
  const test_case& c = cases_[j.index];
  case_result& out = results[static_cast<std::size_t>(j.run) * cases_.size() + j.index];
  if (pacing_rejected_ >= 2) {
    suspicion ignored;
    out = run_case(c, j.run, ignored);
    out.notes.push_back("rerun alone");
    return;
  }
  if (pacing_confirmed_) {
    // Paced, and still a connection ended before its first byte: on a loaded machine the target may
    // accept two paced connects back to back. Rerun alone at the pace, then at a wider one that stays.
    case_result r;
    for (millis gap : {pacer_.gap(), std::max(pacer_.gap(), widest_pace)}) {
      if (gap != pacer_.gap()) {
        pacer_.set_gap(gap);
        note("case " + c.id + " lost a fresh connection though paced; the rest of the run paces connects " +
             std::to_string(gap.count()) + " ms apart");
      }
      suspicion again = suspicion::none;
      r = run_case(c, j.run, again);
      r.notes.push_back("rerun alone with connects paced " + std::to_string(gap.count()) + " ms apart");
      if (again != suspicion::fresh_reset) break;
    }
    out = std::move(r);
    return;
  }
  std::string first_failure = out.message;
  for (millis gap : {millis(150), widest_pace}) {
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

}  // namespace parley::conform::detail
