// Private to the engine: the run of a suite (suite.cpp: scheduling and single cases; suite_health.cpp: the
// preflight, the shared launched target, and what happens when a target stops serving or resets fresh
// connections).
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "conformance/engine/adapter.hpp"
#include "conformance/engine/case.hpp"
#include "conformance/engine/case_run.hpp"
#include "conformance/engine/rules.hpp"
#include "conformance/engine/runner.hpp"
#include "conformance/engine/target.hpp"
#include "conformance/engine/verdict.hpp"

namespace parley::conform::detail {
enum class suspicion { none, target_down, fresh_reset };
// The widest pause between connects the engine tries on a target that resets connections opened close
// together (the first tried is 150 ms): past it, a lost fresh connection is the case's finding.
inline constexpr millis widest_pace{1000};

struct job {
  std::size_t index;
  int run;
};

inline std::string join(const std::vector<std::string>& items, const std::string& separator = ", ") {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : separator) + item;
  return out;
}

// The launch command controls timing when it has a placeholder for a timing variable: {ping}, {pong}, ...
inline bool launch_controls_timing(const adapter& a, const std::string& command) {
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
  void judge_client_health(case_context& ctx, const test_case& c, steps_outcome& o, case_result& r);
  // Runs the events probe (a case marked events_probe, else the first client-role case) alone, first, and
  // learns whether the client under test prints JSON events. Returns the probe's index, or -1.
  long probe_client_events(std::vector<case_result>& results, std::vector<bool>& done);
  bool client_cannot_start(const case_result& first, run_report& report) const;

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

  std::atomic<bool> events_off_{false};
  std::atomic<bool> client_printed_events_{false};

  std::mutex notes_mutex_;
  std::vector<std::string> notes_;
};

}  // namespace parley::conform::detail
