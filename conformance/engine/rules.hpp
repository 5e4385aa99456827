// spec/<p>/rules.json: the numbered rules a report is organised by.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace parley::conform {

struct rule {
  std::string id, level, summary, seed_section;
  bool testable = true;
  std::string untestable_reason;
  std::string section;  // the spec's numbered section the rule is stated in ("6.2 Login: IDENT")
};

struct rule_book {
  std::string protocol;
  std::vector<rule> rules;  // in the file's order
  const rule* find(const std::string& id) const;
};

// Throws std::runtime_error with the origin on malformed JSON or a rule without id/level.
rule_book load_rules(const std::string& json_text, const std::string& origin);

}  // namespace parley::conform
