#include "conformance/wirefuzz/campaign.hpp"

#include <pthread.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

#include "conformance/engine/suite.hpp"
#include "conformance/engine/traffic_capture.hpp"
#include "conformance/wirefuzz/minimize.hpp"
#include "conformance/wirefuzz/model.hpp"
#include "conformance/wirefuzz/mutate.hpp"
#include "conformance/wirefuzz/oracle.hpp"
#include "conformance/wirefuzz/session.hpp"
#include "conformance/wirefuzz/target.hpp"

namespace parley::wirefuzz {
namespace {

// A thread with a stack large enough for std::regex on what a fuzzed target may send (its matcher
// recurses per character of the subject), joined by wait().
class big_stack_thread {
public:
  explicit big_stack_thread(std::function<void()> body) : body_(std::move(body)) {
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 512u << 20);  // address space only: pages are touched as used
    started_ = pthread_create(&thread_, &attr, &big_stack_thread::enter, this) == 0;
    pthread_attr_destroy(&attr);
    if (!started_) body_();  // no thread: run here rather than not at all
  }
  void wait() {
    if (started_) pthread_join(thread_, nullptr);
    started_ = false;
  }
  ~big_stack_thread() { wait(); }

private:
  static void* enter(void* self) {
    static_cast<big_stack_thread*>(self)->body_();
    return nullptr;
  }
  std::function<void()> body_;
  pthread_t thread_{};
  bool started_ = false;
};

// The 4 characters of a session's user names, from the run's chance (as the engine makes them).
std::string suffix_from(fuzz_random& r) { return r.text(4, conform::user_suffix_alphabet); }

class campaign {
public:
  campaign(const conform::adapter& a, const conform::run_settings& s, const std::vector<conform::test_case>& seeds,
           const conform::rule_book& rules, const campaign_options& o)
      : adapter_(a), settings_(s), seeds_(seeds), rules_(rules), options_(o), mutator_(a, model_for(a)) {}

  campaign_result run();

private:
  void work(int index);
  void report_status(bool final);
  bool done() const {
    return stop_ || (settings_.interrupted && settings_.interrupted->load()) ||
           clock_type::now() >= until_ || (options_.runs > 0 && sessions_ >= options_.runs);
  }
  void keep(fuzz_finding f);
  // Whether `c` shows finding `key` again on a fresh launched target (or on the running --target).
  bool reproduces(const conform::test_case& c, const finding_key& key, fuzz_target* shared);
  void finish(fuzz_finding& f);

  const conform::adapter& adapter_;
  const conform::run_settings& settings_;
  const std::vector<conform::test_case>& seeds_;
  const conform::rule_book& rules_;
  const campaign_options& options_;
  mutator mutator_;

  time_point started_{}, until_{};
  std::atomic<std::size_t> sessions_{0};
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  std::map<finding_key, std::size_t> index_;
  campaign_result result_;
  std::unique_ptr<fuzz_target> address_target_;  // --target: the one every worker uses
};

void campaign::keep(fuzz_finding f) {
  std::lock_guard lock(mutex_);
  if (auto it = index_.find(f.what.key); it != index_.end()) {
    ++result_.findings[it->second].duplicates;
    return;
  }
  index_[f.what.key] = result_.findings.size();
  std::cerr << (options_.status_line && isatty(STDERR_FILENO) ? "\r\033[K" : "") << "parley-fuzz: finding "
            << result_.findings.size() + 1 << ": " << f.what.key.kind << " (" << f.what.key.rule << ") after "
            << f.execution << " sessions: " << f.what.detail << "\n";
  result_.findings.push_back(std::move(f));
  if (options_.max_findings > 0 && result_.findings.size() >= options_.max_findings) stop_ = true;
}

void campaign::work(int index) {
  fuzz_random r(options_.seed + static_cast<std::uint64_t>(index) * 0x9e3779b97f4a7c15ull);
  std::unique_ptr<fuzz_target> own;
  fuzz_target* target = address_target_.get();
  if (!target && !options_.client_role) {
    own = std::make_unique<fuzz_target>(adapter_, settings_, "worker" + std::to_string(index));
    if (auto problem = own->start(); !problem.empty()) {
      std::lock_guard lock(mutex_);
      result_.target_problem = problem + "\n" + own->output_tail(2000);
      stop_ = true;
      return;
    }
    target = own.get();
  }
  oracle judge(adapter_, settings_);
  memory_watch memory{.max_rss_kb = options_.max_rss_kb};
  while (!done()) {
    const conform::test_case& seed = r.pick(seeds_);
    conform::test_case session = seed;
    auto session_seed = r.next();
    fuzz_random mutation_chance(session_seed);
    auto mutations = mutator_.mutate(session, mutation_chance);
    session.suffix = suffix_from(mutation_chance);  // kept with a finding: its case replays the same names
    auto session_started = clock_type::now();
    // A client-role session has no target: it launches its client and listens (host and port unused).
    auto outcome = run_session(adapter_, settings_, session, target ? target->host() : std::string{},
                               target ? target->port() : 0, session.suffix);
    if (done() && settings_.interrupted && settings_.interrupted->load()) break;
    std::size_t execution = ++sessions_;
    auto session_ms = std::chrono::duration_cast<millis>(clock_type::now() - session_started).count();
    auto verdict = target ? judge.judge(*target, outcome, suffix_from(mutation_chance), &memory)
                          : judge.judge_client(outcome);
    if (options_.verbose) {
      std::string line = "session " + std::to_string(execution) + " (worker " + std::to_string(index) + "): " + seed.id +
                         ", " + std::to_string(session_ms) + " ms (judged in " +
                         std::to_string(std::chrono::duration_cast<millis>(clock_type::now() - session_started).count() - session_ms) +
                         " ms), " + std::to_string(outcome.failed_steps) + " steps failed, " +
                         std::to_string(outcome.unrunnable_steps) + " not run";
      for (const auto& m : mutations) line += "\n    " + m;
      std::lock_guard lock(mutex_);
      std::cerr << line << "\n";
    }
    if (!verdict) continue;
    fuzz_finding f{.what = *verdict,
                   .session = session,
                   .seed_case = seed.id,
                   .mutations = mutations,
                   .session_seed = session_seed,
                   .execution = execution,
                   .at_seconds = std::chrono::duration<double>(clock_type::now() - started_).count(),
                   .wire = std::move(outcome.wire),
                   .record = std::move(outcome.record),
                   .target_output = target ? target->output_tail(4000) : outcome.client_log};
    // A client lives and ends with its session; a server that died, hangs or grew is replaced.
    bool target_hurt = target && f.what.key.kind != "violation";
    keep(std::move(f));
    if (!target_hurt) continue;
    // The target died, hangs or grew: a fresh one for the next sessions (a --target cannot be restarted).
    if (!own) {
      std::lock_guard lock(mutex_);
      result_.target_problem.clear();
      stop_ = true;
      return;
    }
    memory = memory_watch{.max_rss_kb = options_.max_rss_kb};
    if (auto problem = own->start(); !problem.empty()) {
      std::lock_guard lock(mutex_);
      result_.target_problem = "the target could not be restarted: " + problem;
      stop_ = true;
      return;
    }
  }
}

void campaign::report_status(bool final) {
  double elapsed = std::chrono::duration<double>(clock_type::now() - started_).count();
  std::size_t n = sessions_;
  std::size_t found;
  {
    std::lock_guard lock(mutex_);
    found = result_.findings.size();
  }
  char line[200];
  std::snprintf(line, sizeof line, "sessions %zu  %.1f/s  findings %zu  %.0f s  seed %llu", n,
                elapsed > 0 ? static_cast<double>(n) / elapsed : 0.0, found, elapsed,
                static_cast<unsigned long long>(options_.seed));
  if (isatty(STDERR_FILENO)) std::cerr << "\r\033[K" << line << (final ? "\n" : "") << std::flush;
  else std::cerr << line << "\n";
}

bool campaign::reproduces(const conform::test_case& c, const finding_key& key, fuzz_target* shared) {
  oracle judge(adapter_, settings_);
  if (options_.client_role) {
    auto verdict = judge.judge_client(run_session(adapter_, settings_, c, {}, 0, c.suffix));
    return verdict && verdict->key == key;
  }
  std::unique_ptr<fuzz_target> fresh;
  fuzz_target* target = shared;
  if (!target) {
    fresh = std::make_unique<fuzz_target>(adapter_, settings_, "minimize");
    if (!fresh->start().empty()) return false;
    target = fresh.get();
  }
  fuzz_random r(key.signature.size());
  auto outcome = run_session(adapter_, settings_, c, target->host(), target->port(), c.suffix);
  auto verdict = judge.judge(*target, outcome, suffix_from(r), nullptr);
  return verdict && verdict->key == key;
}

void campaign::finish(fuzz_finding& f) {
  const finding_key key = f.what.key;
  f.steps_before = f.session.steps.size();
  // A --target that died or hangs cannot be started afresh for each trial: such findings stay as found.
  bool fresh_targets = settings_.kind == conform::target_kind::launch || options_.client_role;
  fuzz_target* shared = fresh_targets ? nullptr : address_target_.get();
  bool can_try = (fresh_targets || key.kind == "violation") && key.kind != "leak";
  if (options_.minimize && can_try) {
    std::function<bool(const conform::test_case&)> test = [&](const conform::test_case& c) {
      return reproduces(c, key, shared);
    };
    f.session = minimize(f.session, test, {}, &f.minimize_trials);
  }
  write_finding(f, adapter_, options_.out_dir, options_.replay_command);

  // The written case, replayed as parley-conform replays it: it must break the finding's rule.
  if (!can_try) {
    f.replay = key.kind == "leak" ? "not checked: a leak shows over many sessions, not in one case"
                                  : "not checked: a --target cannot be restarted for the replay";
  } else {
    conform::run_settings replay = settings_;
    replay.fresh = true;
    replay.interrupted = nullptr;
    // It runs once per finding and only confirms it: three times the time for every wait, so a relay that
    // a loaded machine delivers late still lands in the case's last look (a forwarded msg_req came after
    // the 300 ms a watched case drains, and a real finding read "not reproduced" in CI).
    replay.time_scale = settings_.time_scale * 3;
    // The replay's traffic, as the bytes on the wire for Wireshark or tshark: ID.pcap, and ID.keylog
    // where TLS needs its secrets to be read.
    std::ostringstream keylog;
    conform::traffic_capture capture(true, &keylog);
    replay.tap = &capture;
    auto report = conform::run_suite(adapter_, {finding_case(f, adapter_)}, rules_, replay, 1);
    namespace fs = std::filesystem;
    std::ofstream pcap(fs::path(options_.out_dir) / (f.id + ".pcap"), std::ios::binary);
    capture.write_pcap(pcap);
    if (!keylog.str().empty()) std::ofstream(fs::path(options_.out_dir) / (f.id + ".keylog")) << keylog.str();
    f.replay = "not reproduced: ";
    for (const auto& r : report.cases)
      for (const auto& rr : r.results)
        if (rr.rule == key.rule && (rr.outcome == conform::verdict::fail || rr.outcome == conform::verdict::warn))
          f.replay = "reproduced: " + std::string(conform::name_of(rr.outcome)) + " " + rr.rule + ": " + rr.message;
    if (f.replay.starts_with("not"))
      for (const auto& r : report.cases) f.replay += r.message;
    if (!report.target_error.empty()) f.replay += report.target_error;
  }
  std::ofstream(std::filesystem::path(options_.out_dir) / (f.id + ".json")) << finding_json(f) << "\n";
}

campaign_result campaign::run() {
  started_ = clock_type::now();
  until_ = started_ + std::chrono::milliseconds(static_cast<long long>(options_.seconds * 1000));
  if (settings_.kind == conform::target_kind::address) {
    address_target_ = std::make_unique<fuzz_target>(adapter_, settings_, "target");
    if (auto problem = address_target_->start(); !problem.empty()) {
      result_.target_problem = problem;
      return result_;
    }
  }
  std::vector<std::unique_ptr<big_stack_thread>> workers;
  for (int i = 0; i < options_.jobs; ++i) workers.push_back(std::make_unique<big_stack_thread>([this, i] { work(i); }));
  auto next_status = clock_type::now();
  bool tty = isatty(STDERR_FILENO);
  while (!done()) {
    if (options_.status_line && clock_type::now() >= next_status) {
      report_status(false);
      next_status = clock_type::now() + std::chrono::seconds(tty ? 1 : 10);
    }
    std::this_thread::sleep_for(millis(100));
  }
  stop_ = true;
  for (auto& w : workers) w->wait();
  result_.sessions = sessions_;
  result_.seconds = std::chrono::duration<double>(clock_type::now() - started_).count();
  result_.interrupted = settings_.interrupted && settings_.interrupted->load();
  if (options_.status_line) report_status(true);
  if (!result_.target_problem.empty()) return result_;
  for (auto& f : result_.findings) {
    if (settings_.interrupted && settings_.interrupted->load()) break;
    std::cerr << "parley-fuzz: minimizing and writing " << f.what.key.kind << " (" << f.what.key.rule << ")...\n";
    big_stack_thread([&] { finish(f); }).wait();
    std::cerr << "parley-fuzz: " << f.case_file << ": " << f.session.steps.size() << " steps (from " << f.steps_before
              << "), replay " << f.replay << "\n";
  }
  return result_;
}

}  // namespace

campaign_result run_campaign(const conform::adapter& a, const conform::run_settings& settings,
                             const std::vector<conform::test_case>& seeds, const conform::rule_book& rules,
                             const campaign_options& options) {
  campaign c(a, settings, seeds, rules, options);
  return c.run();
}

}  // namespace parley::wirefuzz
