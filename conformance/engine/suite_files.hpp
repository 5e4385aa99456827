// Finds a protocol's rules and cases: the embedded copies by default, or files on disk when asked.
#pragma once

#include <string>
#include <vector>

#include "conformance/engine/case.hpp"
#include "conformance/engine/rules.hpp"

namespace parley::conform {

rule_book rules_for(const std::string& protocol, const std::string& rules_file = {});
// Every case of the protocol, in file order then document order. `cases_dir` overrides the embedded set.
std::vector<test_case> cases_for(const std::string& protocol, const std::string& cases_dir = {});

}  // namespace parley::conform
