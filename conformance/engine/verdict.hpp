// Verdicts, rule levels and case results: what the runner produces and the reports print.
#pragma once

#include <string>
#include <vector>

namespace parley::conform {

enum class verdict { pass, warn, skip, fail, error };
std::string_view name_of(verdict v);

struct wire_entry {
  double at_ms;      // since the case started
  std::string conn;  // connection name, or "client" for the client's output
  char direction;    // '>' engine sent, '<' engine received, '*' an event (close, launch, note)
  std::string text;  // printable
};

struct case_result {
  std::string id;
  std::vector<std::string> rules;
  std::vector<std::string> faults;  // reference-server faults this case is meant to catch
  std::string description;
  std::string level;  // strongest level among the rules: MUST, SHOULD or MAY
  verdict outcome = verdict::pass;
  std::string message;   // why it did not pass: expected vs. arrived, or the skip reason
  int failed_step = 0;   // line in the case file
  std::string file;
  double ms = 0;
  std::vector<wire_entry> wire;
  std::string target_output;  // the tail of a launched implementation's stderr, when it failed
};

}  // namespace parley::conform
