// A strict command-line parser shared by parley-server, parley-client and parley-conform: every flag
// must be known, every value must parse, and the error names the flag. Exceptions are allowed here
// (ARCHITECTURE: only in main() and configuration loading); they never cross into the cores.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace parley::cli {

struct usage_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class args {
public:
  // `flags` take no value; `options` take one ("--port 1337" or "--port=1337").
  args(std::vector<std::string> argv, std::set<std::string> flags, std::set<std::string> options);

  bool has(const std::string& flag) const { return present_.contains(flag); }
  // The last value given for `option`; all() has every one, for options that may be repeated.
  std::optional<std::string> get(const std::string& option) const;
  std::vector<std::string> all(const std::string& option) const {
    auto it = all_.find(option);
    return it == all_.end() ? std::vector<std::string>{} : it->second;
  }
  std::string get_or(const std::string& option, std::string fallback) const;
  // Throws usage_error unless the value is an integer in [min, max].
  long long number(const std::string& option, long long fallback, long long min, long long max) const;
  double real(const std::string& option, double fallback, double min, double max) const;
  const std::vector<std::string>& positional() const { return positional_; }

private:
  std::map<std::string, std::string> values_;
  std::map<std::string, std::vector<std::string>> all_;
  std::set<std::string> present_;
  std::vector<std::string> positional_;
};

}  // namespace parley::cli
