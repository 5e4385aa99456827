// What a session did to the target, judged after it ends: the target died (crash: its exit status, its
// last words), printed a sanitizer report, stopped serving new users while alive (hang), grew past its
// memory bound (leak), or broke a rule in what it sent (violation, with the rule). Each finding has a key
// by which findings of the same defect fold into one.
#pragma once

#include <optional>
#include <string>

#include "conformance/engine/adapter.hpp"
#include "conformance/engine/runner.hpp"
#include "conformance/wirefuzz/session.hpp"
#include "conformance/wirefuzz/target.hpp"

namespace parley::wirefuzz {

struct finding_key {
  std::string kind;       // crash, sanitizer, hang, leak, violation
  std::string rule;       // the rule it breaks
  std::string signature;  // what tells this defect from another of the same kind and rule
  auto operator<=>(const finding_key&) const = default;
};

struct judgement {
  finding_key key;
  std::string detail;  // what was seen, for people
};

// Memory: a sample every `every` sessions; the first is the baseline. The bound is max_rss_kb, else four
// times the baseline plus 64 MiB.
struct memory_watch {
  long max_rss_kb = 0;
  int every = 25;
  long baseline_kb = 0;
  int sessions = 0;
};

class oracle {
public:
  oracle(const conform::adapter& a, const conform::run_settings& s) : adapter_(a), settings_(s) {}
  // Judges the target after `outcome`; nullopt when all is well. `suffix` names the probe's user.
  std::optional<judgement> judge(fuzz_target& target, const session_outcome& outcome, const std::string& suffix,
                                 memory_watch* memory);
  // Judges a client-role session, whose client lived and ended with it: a crash (a signal, an uncaught
  // exception, a sanitizer report) breaks the adapter's client robustness rule; a message of the client's
  // that broke a rule of form is a violation. No hang: what a client should still do after a mutated
  // session depends on the state it was left in, which a generic probe cannot know.
  std::optional<judgement> judge_client(const session_outcome& outcome) const;

private:
  const conform::adapter& adapter_;
  const conform::run_settings& settings_;
};

// The signature of a hang seen only while the session's connections were open.
inline constexpr const char* stall_signature = "serves no new user while a session is open";

// Digits and the engine's generated user names blanked, so that one defect has one signature.
std::string normalize(std::string text);
// The line of a target's output that says most about how it died: a sanitizer's first frame or summary,
// a "fatal"/"panic"/exception line, else the last line.
std::string last_words(const std::string& output);

}  // namespace parley::wirefuzz
