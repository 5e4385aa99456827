#include "conformance/engine/selection.hpp"

#include <fnmatch.h>

#include <algorithm>
#include <cctype>

namespace parley::conform {
namespace {

std::string upper(std::string text) {
  for (auto& c : text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return text;
}

// The number of a section title: "6.2" of "6.2 Login: IDENT".
std::string section_number(const std::string& section) { return section.substr(0, section.find(' ')); }

bool any_of(const std::vector<std::string>& wanted, auto matches) {
  return wanted.empty() || std::any_of(wanted.begin(), wanted.end(), matches);
}

}  // namespace

bool selects(const rule_selection& s, const rule& r) {
  std::string number = section_number(r.section);
  return any_of(s.rule_globs, [&](const std::string& g) { return fnmatch(g.c_str(), r.id.c_str(), 0) == 0; }) &&
         any_of(s.levels, [&](const std::string& l) { return upper(l) == r.level; }) &&
         any_of(s.sections, [&](const std::string& want) {
           std::string w = want.ends_with('.') ? want.substr(0, want.size() - 1) : want;
           return number == w || number.starts_with(w + ".");
         });
}

rule_book selected_rules(const rule_book& rules, const rule_selection& s) {
  rule_book out;
  out.protocol = rules.protocol;
  for (const auto& r : rules.rules)
    if (selects(s, r)) out.rules.push_back(r);
  return out;
}

std::vector<test_case> cases_checking(const std::vector<test_case>& cases, const rule_book& selected) {
  std::vector<test_case> out;
  for (const auto& c : cases)
    if (std::any_of(c.rules.begin(), c.rules.end(), [&](const std::string& id) { return selected.find(id); }))
      out.push_back(c);
  return out;
}

}  // namespace parley::conform
