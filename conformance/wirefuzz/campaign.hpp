// A fuzz campaign: workers (one target each) mutate the seed cases and run them as sessions until the
// time or the number of runs is spent, the oracle judges the target after each, and every new finding is
// kept once (the same kind, rule and signature fold into it). Then each finding is minimized on fresh
// targets, written as a case, and replayed through the conformance engine to check it shows the same.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "conformance/engine/adapter.hpp"
#include "conformance/engine/case.hpp"
#include "conformance/engine/rules.hpp"
#include "conformance/engine/runner.hpp"
#include "conformance/wirefuzz/finding.hpp"

namespace parley::wirefuzz {

struct campaign_options {
  double seconds = 300;
  std::size_t runs = 0;          // 0: no limit but time
  std::uint64_t seed = 1;
  int jobs = 1;
  std::size_t max_findings = 0;  // stop once this many distinct findings are made (0: never)
  long max_rss_kb = 0;           // 0: four times the target's size after warm-up, plus 64 MiB
  bool minimize = true;
  std::string out_dir = "parley-fuzz-findings";
  std::string replay_command;    // how a user replays the written cases (printed in each case file)
  bool status_line = true;       // a live line on stderr (a terminal: rewritten in place)
  bool verbose = false;          // one line per session on stderr: its seed case, mutations and duration
  bool client_role = false;      // the seeds are client-role cases: each session launches its own client
};

struct campaign_result {
  std::size_t sessions = 0;
  double seconds = 0;
  std::vector<fuzz_finding> findings;
  std::string target_problem;    // set when the target could not be started or reached: exit 3
  bool interrupted = false;
};

campaign_result run_campaign(const conform::adapter& a, const conform::run_settings& settings,
                             const std::vector<conform::test_case>& seeds, const conform::rule_book& rules,
                             const campaign_options& options);

}  // namespace parley::wirefuzz
