#include "impl/cli/args.hpp"

#include <charconv>

namespace parley::cli {

args::args(std::vector<std::string> argv, std::set<std::string> flags, std::set<std::string> options) {
  for (std::size_t i = 0; i < argv.size(); ++i) {
    const std::string& arg = argv[i];
    if (!arg.starts_with("--")) {
      positional_.push_back(arg);
      continue;
    }
    std::string name = arg;
    std::optional<std::string> inline_value;
    if (auto eq = arg.find('='); eq != std::string::npos) {
      name = arg.substr(0, eq);
      inline_value = arg.substr(eq + 1);
    }
    if (flags.contains(name)) {
      if (inline_value) throw usage_error(name + " takes no value");
      present_.insert(name);
    } else if (options.contains(name)) {
      if (!inline_value) {
        if (i + 1 >= argv.size()) throw usage_error(name + " needs a value");
        inline_value = argv[++i];
      }
      values_[name] = *inline_value;
      all_[name].push_back(*inline_value);
      present_.insert(name);
    } else {
      throw usage_error("unknown option " + name);
    }
  }
}

std::optional<std::string> args::get(const std::string& option) const {
  auto it = values_.find(option);
  if (it == values_.end()) return std::nullopt;
  return it->second;
}

std::string args::get_or(const std::string& option, std::string fallback) const {
  return get(option).value_or(std::move(fallback));
}

long long args::number(const std::string& option, long long fallback, long long min, long long max) const {
  auto text = get(option);
  if (!text) return fallback;
  long long value = 0;
  auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (ec != std::errc{} || end != text->data() + text->size() || value < min || value > max)
    throw usage_error(option + " must be a whole number from " + std::to_string(min) + " to " + std::to_string(max) +
                      ", not '" + *text + "'");
  return value;
}

double args::real(const std::string& option, double fallback, double min, double max) const {
  auto text = get(option);
  if (!text) return fallback;
  double value = 0;
  auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (ec != std::errc{} || end != text->data() + text->size() || value < min || value > max)
    throw usage_error(option + " must be a number from " + std::to_string(min) + " to " + std::to_string(max));
  return value;
}

}  // namespace parley::cli
