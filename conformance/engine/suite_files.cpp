#include "conformance/engine/suite_files.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "conformance/engine/embedded.hpp"

namespace parley::conform {
namespace {

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

rule_book rules_for(const std::string& protocol, const std::string& rules_file) {
  if (!rules_file.empty()) return load_rules(read_text(rules_file), rules_file);
  std::string key = "spec/" + protocol + "/rules.json";
  auto it = embedded_files().find(key);
  if (it == embedded_files().end()) throw std::runtime_error("no rules for protocol " + protocol);
  return load_rules(it->second, key);
}

std::vector<test_case> cases_for(const std::string& protocol, const std::string& cases_dir) {
  std::vector<test_case> all;
  if (!cases_dir.empty()) {
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::directory_iterator(cases_dir))
      if (entry.path().extension() == ".yaml" || entry.path().extension() == ".yml") files.push_back(entry.path());
    std::sort(files.begin(), files.end());
    for (const auto& f : files)
      for (auto& c : load_cases(read_text(f), f.string())) all.push_back(std::move(c));
  } else {
    std::string prefix = "conformance/cases/" + protocol + "/";
    for (const auto& [path, text] : embedded_files())  // std::map: sorted by path
      if (path.starts_with(prefix))
        for (auto& c : load_cases(text, path)) all.push_back(std::move(c));
  }
  return all;
}

}  // namespace parley::conform
