#include "conformance/engine/target_options.hpp"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <regex>

namespace parley::conform {

const std::set<std::string> target_flags = {"--fresh", "--real-time", "--no-events"};
const std::set<std::string> target_options = {"--target", "--launch", "--role", "--time-scale", "--keys", "--user",
                                              "--profile", "--ready", "--ready-delay", "--type-delay"};

cli::args with_target_flags(std::vector<std::string> argv, std::set<std::string> flags, std::set<std::string> options) {
  flags.insert(target_flags.begin(), target_flags.end());
  options.insert(target_options.begin(), target_options.end());
  return cli::args(std::move(argv), std::move(flags), std::move(options));
}

std::vector<std::string> split_commas(const std::string& text) {
  std::vector<std::string> out;
  std::size_t from = 0;
  while (from <= text.size()) {
    auto comma = text.find(',', from);
    out.push_back(text.substr(from, comma - from));
    if (comma == std::string::npos) break;
    from = comma + 1;
  }
  return out;
}

rule_selection selection_from(const cli::args& args) {
  rule_selection s;
  if (auto r = args.get("--rule")) s.rule_globs = split_commas(*r);
  if (auto l = args.get("--level")) {
    s.levels = split_commas(*l);
    for (const auto& level : s.levels)
      if (!std::regex_match(level, std::regex("must|should|may", std::regex::icase)))
        throw cli::usage_error("--level is must, should or may, not '" + level + "'");
  }
  if (auto n = args.get("--section")) {
    s.sections = split_commas(*n);
    for (const auto& section : s.sections)
      if (!std::regex_match(section, std::regex("[0-9]+(\\.[0-9]+)*\\.?")))
        throw cli::usage_error("--section takes a section number such as 6 or 6.2, not '" + section + "'");
  }
  return s;
}

std::string profile_named(const adapter& a, const std::string& name) {
  std::string known;
  for (const auto& p : a.profiles()) {
    auto slash = p.rfind('/');
    std::string short_form = slash == std::string::npos ? p : "v" + p.substr(slash + 1);
    if (name == p || name == short_form) return p;
    known += (known.empty() ? "" : ", ") + p + " (" + short_form + ")";
  }
  if (known.empty()) throw cli::usage_error(a.protocol() + " has no profiles; --profile does not apply");
  throw cli::usage_error("--profile " + name + " is not one of " + known);
}

namespace {
std::atomic<bool> interrupted{false};
}  // namespace

void stop_on_interrupt(run_settings& settings) {
  settings.interrupted = &interrupted;
  struct sigaction on_stop {};
  on_stop.sa_handler = [](int) {
    if (interrupted.exchange(true)) _exit(130);
  };
  sigemptyset(&on_stop.sa_mask);
  sigaction(SIGINT, &on_stop, nullptr);
  sigaction(SIGTERM, &on_stop, nullptr);
}

std::string own_directory() {
  std::error_code ec;
  auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string(".") : self.parent_path().string();
}

std::string apply_target_options(const cli::args& args, const adapter& a, run_settings& settings) {
  settings.real_time = args.has("--real-time");
  settings.fresh = args.has("--fresh");
  settings.time_scale = args.real("--time-scale", 1.0, 0.1, 100.0);
  std::string role = args.get_or("--role", "server");
  if (role != "server" && role != "client") throw cli::usage_error("--role is server or client");
  std::string target_name = "the built-in reference implementation";
  if (args.has("--target") && args.has("--launch")) throw cli::usage_error("--target and --launch exclude each other");
  if (auto t = args.get("--target")) {
    if (role == "client") throw cli::usage_error("--target is a server; use --launch with --role client");
    if (!net::split_host_port(*t, settings.host, settings.port))
      throw cli::usage_error("--target must be HOST:PORT, not '" + *t + "'");
    settings.kind = target_kind::address;
    settings.test_clients = false;
    target_name = *t;
  } else if (auto l = args.get("--launch")) {
    if (role == "server") {
      if (l->find("{port}") == std::string::npos) throw cli::usage_error("--launch needs {port} in the command");
      settings.kind = target_kind::launch;
      settings.launch_command = *l;
      settings.test_clients = false;
    } else {
      settings.client_command = *l;
      settings.test_servers = false;
    }
    target_name = "'" + *l + "'";
  }
  settings.type_delay_ms = static_cast<double>(args.number("--type-delay", 50, 0, 10000));
  settings.no_events = args.has("--no-events");
  if (auto p = args.get("--profile")) settings.profile = profile_named(a, *p);
  settings.ready_regex = args.get_or("--ready", "");
  if (!settings.ready_regex.empty()) {
    try {
      std::regex check(settings.ready_regex);
    } catch (const std::regex_error& e) {
      throw cli::usage_error("--ready is not a regular expression: " + std::string(e.what()));
    }
  }
  if (args.has("--ready-delay")) settings.ready_delay_ms = static_cast<double>(args.number("--ready-delay", 0, 0, 600000));
  if ((args.has("--ready") || args.has("--ready-delay")) && settings.kind != target_kind::launch)
    throw cli::usage_error("--ready and --ready-delay are for a server started with --launch");
  settings.keys_dir = args.get_or("--keys", "");
  settings.accounts = args.all("--user");
  return target_name;
}

}  // namespace parley::conform
