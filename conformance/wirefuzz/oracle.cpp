#include "conformance/wirefuzz/oracle.hpp"

#include <regex>
#include <sstream>
#include <thread>

#include "conformance/engine/client_health.hpp"

namespace parley::wirefuzz {

std::string normalize(std::string text) {
  static const std::regex user("(alice|bob|carol|dave|erin|pr)_?[a-z0-9]{4}");
  text = std::regex_replace(text, user, "$1_*");
  for (char& c : text)
    if (c >= '0' && c <= '9') c = '#';
  if (text.size() > 160) text.resize(160);
  return text;
}

std::string last_words(const std::string& output) {
  std::istringstream in(output);
  std::string line, last, telling;
  static const std::regex frame(R"(^\s*#0 .* in (\S+))");
  static const std::regex fatal(R"((fatal|panic|SUMMARY: |runtime error:|Exception|Traceback|Segmentation fault|Aborted))",
                                std::regex::icase);
  bool in_traceback = false;
  std::string exception;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    last = line;
    std::smatch m;
    if (std::regex_search(line, m, frame)) return "in " + m[1].str();
    // A Python traceback ends with the exception's own line, the first unindented one after its header.
    if (line.starts_with("Traceback (most recent call last)")) {
      in_traceback = true;
      continue;
    }
    if (in_traceback && line[0] != ' ') {
      exception = line;
      in_traceback = false;
    }
    if (telling.empty() && std::regex_search(line, fatal)) telling = line;
  }
  if (!exception.empty()) return exception;
  return telling.empty() ? last : telling;
}

std::optional<judgement> oracle::judge(fuzz_target& target, const session_outcome& outcome, const std::string& suffix,
                                       memory_watch* memory) {
  const std::string independence = adapter_.independence_rule().empty() ? "liveness" : adapter_.independence_rule();
  std::string output = target.new_output();
  if (!conform::sanitizer_report_line(output).empty()) {
    std::string words = last_words(output);
    return judgement{{"sanitizer", independence, normalize(words)}, "the target printed a sanitizer report: " + words};
  }
  auto died = [&]() -> std::optional<judgement> {
    if (target.running()) return std::nullopt;
    std::string status = target.exit_status();
    std::string words = last_words(output + target.new_output());
    return judgement{{"crash", independence, normalize(status + (words.empty() ? "" : ": " + words))},
                     "the target " + status + (words.empty() ? "" : "; its last words: " + words)};
  };
  if (auto d = died()) return d;

  std::string problem = probe(adapter_, settings_, target.host(), target.port(), suffix);
  if (!problem.empty()) {
    // Once more after a pause: a target busy with the session's last connections deserves a second look.
    std::this_thread::sleep_for(millis(static_cast<long long>(300 * settings_.time_scale)));
    if (auto d = died()) return d;
    problem = probe(adapter_, settings_, target.host(), target.port(), suffix);
    if (auto d = died()) return d;
    if (!problem.empty())
      return judgement{{"hang", independence, "serves no new user"},
                       "the target is running but serves no new user: " + problem};
  }

  // Served after the session but not during it: the session blocked the server while it lasted.
  if (!outcome.stalled.empty() && problem.empty())
    return judgement{{"hang", independence, stall_signature},
                     "the target served no new user while this session's connections were open: " + outcome.stalled +
                         " (it did once they were closed)"};

  if (!outcome.findings.empty()) {
    const auto& f = outcome.findings.front();
    return judgement{{"violation", f.rule, normalize(f.rule)}, f.message};
  }

  if (memory && target.launched() && ++memory->sessions % memory->every == 0) {
    long rss = target.rss_kb();
    if (memory->baseline_kb == 0) {
      memory->baseline_kb = rss;
    } else {
      long bound = memory->max_rss_kb > 0 ? memory->max_rss_kb : memory->baseline_kb * 4 + 64 * 1024;
      if (rss > bound)
        return judgement{{"leak", independence, "resident memory past its bound"},
                         "the target's resident memory grew from " + std::to_string(memory->baseline_kb / 1024) +
                             " MiB to " + std::to_string(rss / 1024) + " MiB (bound " + std::to_string(bound / 1024) +
                             " MiB) over " + std::to_string(memory->sessions) + " sessions"};
    }
  }
  return std::nullopt;
}

std::optional<judgement> oracle::judge_client(const session_outcome& outcome) const {
  if (const auto& crash = outcome.client_crash; crash.crashed) {
    const std::string rule =
        adapter_.client_robustness_rule().empty() ? "liveness" : adapter_.client_robustness_rule();
    std::string words = last_words(outcome.client_log);
    std::string signature = crash.sanitizer ? words : crash.ending + (words.empty() ? "" : ": " + words);
    return judgement{{crash.sanitizer ? "sanitizer" : "crash", rule, normalize(signature)},
                     "the client " + crash.text() + (words.empty() || crash.sanitizer ? "" : "; its last words: " + words)};
  }
  if (!outcome.findings.empty()) {
    const auto& f = outcome.findings.front();
    return judgement{{"violation", f.rule, normalize(f.rule)}, f.message};
  }
  return std::nullopt;
}

}  // namespace parley::wirefuzz
