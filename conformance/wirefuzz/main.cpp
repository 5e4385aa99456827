// parley-fuzz PROTOCOL [options]: fuzzes a server (or, with --role client, a client) of PROTOCOL over the
// wire with mutations of the conformance cases' own exchanges, and writes every finding as a conformance
// case that parley-conform replays.
#include <atomic>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fnmatch.h>
#include <fstream>
#include <iostream>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "conformance/engine/selection.hpp"
#include "conformance/engine/suite_files.hpp"
#include "conformance/engine/target_options.hpp"
#include "conformance/wirefuzz/campaign.hpp"
#include "impl/cli/args.hpp"

namespace {

constexpr const char* usage = R"(usage: parley-fuzz PROTOCOL [options]

Fuzzes a server of PROTOCOL over the wire (--role client: a client). Each session is one of PROTOCOL's
conformance cases (server-role ones, or client-role ones with --role client) with its
messages mutated at every layer: bytes, framing (terminators, splits, merged writes, sizes), grammar
(tokens, names and numbers at their bounds, another user's name) and state (steps dropped, repeated,
swapped, moved to another connection, a login skipped). Protocol steps are mutated in their arguments and
built when the session runs, so a mutated securechat join is signed again and a mutated multiparty frame
sealed again. After every session the target is judged: did it die (crash), print a sanitizer report,
stop serving new users (hang), grow past a memory bound (leak), or break a rule in what it sent
(violation)? A client, launched afresh for every session, is judged for crashes (a signal, an uncaught
exception's trace, a sanitizer report) and violations. Each new finding is minimized, written as a case
under OUT/cases/, and replayed as `parley-conform PROTOCOL --cases OUT/cases` would replay it.

Exit code: 0 nothing found; 1 a finding was made; 2 usage error; 3 the target cannot be fuzzed
(unreachable, does not start, does not serve a new user before the first session); 130 interrupted.

target (default: Parley's reference server, parley-server PROTOCOL, launched beside parley-fuzz):
  --target HOST:PORT     a server that is already running (a crash ends the run: it cannot be restarted,
                         and its findings are not minimized)
  --launch 'CMD'         start the server under test; CMD takes {port} and the placeholders parley-conform
                         documents ({keys}, {users}, {cert}, {key}, timing); restarted after each crash,
                         and started afresh for every trial of a minimization
  --fault NAME           with the default target: plant this fault in the reference server
                         (parley-server PROTOCOL --list-faults lists them), or with --role client in
                         the reference client (parley-client PROTOCOL --list-faults)
  --role server|client   what is fuzzed (default server). With client, --launch 'CMD' starts the client
                         under test for each session, as for parley-conform --role client ({port},
                         {name}, the protocol's placeholders); without it, Parley's reference client
  --ready, --ready-delay, --keys, --user, --profile, --time-scale
                         as for parley-conform (parley-conform --help)

campaign:
  --seconds N            fuzz for N seconds (default 300), then minimize and write the findings
  --runs N               stop after N sessions
  --seed N               the run's seed (default: from the clock; printed). With -j 1 the same seed
                         mutates the same sessions in the same order
  -j N, --jobs N         N workers, each with its own launched target (default 1)
  --max-findings N       stop once N distinct findings are made
  --max-rss MB           a launched target's memory bound (default: 4 x its size after 25 sessions
                         + 64 MiB)
  --no-minimize          write findings as found
  --out DIR              where findings go (default parley-fuzz-findings): DIR/cases/ID.yaml, and beside
                         it ID.json (details), ID.log (wire log, target output), ID.record (the session's
                         bytes as a seed for Parley's hub fuzzers)
  --cases DIR            seed from the cases in DIR instead of the built-in ones
  --case GLOB[,GLOB]     seed only from these cases
  --rule, --level, --section
                         seed only from the cases that check these rules (as for parley-conform)
  --report-json FILE     write the run's summary and findings as JSON
  --quiet                no live status line
  --verbose              one line per session on stderr: its seed case, its mutations, how long it took
)";

// The seeds: the role's cases that need neither the protocol's timers nor a long flood.
std::vector<parley::conform::test_case> seed_cases(const std::string& protocol, const parley::cli::args& args,
                                                   const parley::conform::rule_book& rules,
                                                   const parley::conform::run_settings& settings, parley::conform::role wanted_role) {
  using namespace parley::conform;
  std::vector<test_case> seeds;
  for (auto& c : cases_for(protocol, args.get_or("--cases", ""))) {
    if (c.role != wanted_role || c.timers || c.slow) continue;
    if (!c.profile.empty() && !settings.profile.empty() && c.profile > settings.profile) continue;
    if (auto globs = args.get("--case")) {
      bool wanted = false;
      for (const auto& g : split_commas(*globs)) wanted = wanted || fnmatch(g.c_str(), c.id.c_str(), 0) == 0;
      if (!wanted) continue;
    }
    seeds.push_back(std::move(c));
  }
  rule_selection selection = selection_from(args);
  if (!selection.empty()) seeds = cases_checking(seeds, selected_rules(rules, selection));
  if (seeds.empty())
    throw parley::cli::usage_error(std::string("no ") + (wanted_role == role::server ? "server" : "client") +
                                   "-role case to seed from (check --case, --rule, --cases)");
  return seeds;
}

std::string shell_quote(const std::string& text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

int run(const std::string& protocol, const parley::cli::args& args) {
  using namespace parley::conform;
  using namespace parley::wirefuzz;
  auto factory = adapters().find(protocol);
  if (factory == adapters().end()) throw parley::cli::usage_error("unknown protocol '" + protocol + "'");
  auto adapter = factory->second();
  bool client_role = args.get_or("--role", "server") == "client";

  run_settings settings;
  settings.bin_dir = own_directory();
  std::string target_name = apply_target_options(args, *adapter, settings);
  if (args.has("--fault") && (settings.kind != target_kind::builtin || !settings.client_command.empty()))
    throw parley::cli::usage_error("--fault plants a fault in the reference server or client: not with --target or --launch");
  if (client_role) {
    settings.test_servers = false;
    settings.test_clients = true;
    if (settings.client_command.empty())
      target_name = "parley-client " + protocol + (args.has("--fault") ? " --fault " + *args.get("--fault") : "");
  } else if (settings.kind == target_kind::builtin) {
    auto server = std::filesystem::path(settings.bin_dir) / "parley-server";
    if (!std::filesystem::exists(server))
      throw parley::cli::usage_error(server.string() + " is missing: give --launch or --target");
    settings.kind = target_kind::launch;
    settings.launch_command = shell_quote(server.string()) + " " + protocol + " " + adapter->reference_server_arguments();
    if (auto f = args.get("--fault")) settings.launch_command += " --fault " + shell_quote(*f);
    target_name = "parley-server " + protocol + (args.has("--fault") ? " --fault " + *args.get("--fault") : "");
  }
  rule_book rules = rules_for(protocol);
  auto seeds = seed_cases(protocol, args, rules, settings, client_role ? role::client : role::server);

  campaign_options options;
  options.seconds = static_cast<double>(args.number("--seconds", 300, 1, 7 * 24 * 3600));
  options.runs = static_cast<std::size_t>(args.number("--runs", 0, 0, 1'000'000'000));
  options.seed = args.has("--seed")
                     ? static_cast<std::uint64_t>(args.number("--seed", 1, 0, std::numeric_limits<long long>::max()))
                     : static_cast<std::uint64_t>(std::chrono::system_clock::now().time_since_epoch().count() % 1'000'000'007);
  options.jobs = static_cast<int>(args.number("--jobs", 1, 1, 64));
  options.max_findings = static_cast<std::size_t>(args.number("--max-findings", 0, 0, 1'000'000));
  options.max_rss_kb = static_cast<long>(args.number("--max-rss", 0, 0, 1'000'000)) * 1024;
  options.minimize = !args.has("--no-minimize");
  options.out_dir = args.get_or("--out", "parley-fuzz-findings");
  options.status_line = !args.has("--quiet");
  options.verbose = args.has("--verbose");
  options.client_role = client_role;

  // The reference client with a fault, as a replay launches it: before prepare, which may give the fuzzer's
  // own launches a file of the run's (itp's key) that is gone once the run ends.
  std::string replay_client = settings.client_command;
  if (auto f = args.get("--fault"); f && client_role)
    replay_client = adapter->reference_client_command(settings.bin_dir) + " --fault " + shell_quote(*f);

  auto log_dir = std::filesystem::temp_directory_path() / ("parley-fuzz-" + std::to_string(getpid()));
  std::filesystem::create_directories(log_dir);
  settings.log_dir = log_dir.string();
  if (auto problem = adapter->prepare(settings); !problem.empty()) {
    std::cerr << "parley-fuzz: " << problem << "\n";
    return 2;
  }
  // The reference client with a fault: its command once the adapter has made what it needs (itp's key).
  if (auto f = args.get("--fault"); f && client_role)
    settings.client_command = adapter->reference_client_command(settings.bin_dir) + " --fault " + shell_quote(*f);
  // The replay starts the target as the fuzzer did; the keys and accounts a launched target gets through
  // its placeholders are made afresh by parley-conform.
  std::string replay = "parley-conform " + protocol + " --cases " + shell_quote(options.out_dir + "/cases");
  if (client_role) replay += " --role client";
  if (client_role && !replay_client.empty()) replay += " --launch " + shell_quote(replay_client);
  if (settings.kind == target_kind::launch) replay += " --launch " + shell_quote(settings.launch_command);
  if (settings.kind == target_kind::address) replay += " --target " + *args.get("--target");
  if (auto k = args.get("--keys")) replay += " --keys " + shell_quote(*k);
  for (const auto& u : args.all("--user")) replay += " --user " + shell_quote(u);
  options.replay_command = replay;
  stop_on_interrupt(settings);

  std::cerr << "parley-fuzz: " << protocol << " against " << target_name << ", " << seeds.size()
            << " seed cases, seed " << options.seed << ", " << options.seconds << " s\n";
  campaign_result result = run_campaign(*adapter, settings, seeds, rules, options);

  nlohmann::json report = {{"protocol", protocol},
                           {"target", target_name},
                           {"seed", options.seed},
                           {"seconds", result.seconds},
                           {"sessions", result.sessions},
                           {"sessions_per_second", result.seconds > 0 ? static_cast<double>(result.sessions) / result.seconds : 0},
                           {"interrupted", result.interrupted},
                           {"target_problem", result.target_problem},
                           {"findings", nlohmann::json::array()}};
  for (const auto& f : result.findings) report["findings"].push_back(nlohmann::json::parse(finding_json(f, -1)));
  if (auto f = args.get("--report-json")) std::ofstream(*f) << report.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";

  std::error_code ignored;
  std::filesystem::remove_all(log_dir, ignored);
  if (!result.target_problem.empty()) {
    std::cerr << "parley-fuzz: the target cannot be fuzzed: " << result.target_problem << "\n";
    return 3;
  }
  std::cout << protocol << ": " << result.sessions << " sessions in " << static_cast<long long>(result.seconds) << " s ("
            << report["sessions_per_second"].get<double>() << "/s), " << result.findings.size() << " finding"
            << (result.findings.size() == 1 ? "" : "s") << "\n";
  for (const auto& f : result.findings)
    std::cout << "  " << f.what.key.kind << "  " << f.what.key.rule << "  " << f.case_file << "\n    " << f.what.detail
              << "\n    replay: " << f.replay << "\n";
  if (!result.findings.empty()) std::cout << "replay them all: " << options.replay_command << "\n";
  if (result.interrupted) return 130;
  return result.findings.empty() ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  std::vector<std::string> list(argv + 1, argv + argc);
  for (auto& a : list)
    if (a == "-j") a = "--jobs";
  try {
    if (list.empty() || list[0] == "--help" || list[0] == "-h") {
      std::cout << usage;
      return list.empty() ? 2 : 0;
    }
    std::string protocol = list[0];
    list.erase(list.begin());
    auto args = parley::conform::with_target_flags(
        list, {"--no-minimize", "--quiet", "--verbose", "--help"},
        {"--seconds", "--runs", "--seed", "--jobs", "--max-findings", "--max-rss", "--out", "--cases", "--case", "--rule",
         "--level", "--section", "--report-json", "--fault"});
    if (args.has("--help")) {
      std::cout << usage;
      return 0;
    }
    if (!args.positional().empty()) throw parley::cli::usage_error("unexpected argument '" + args.positional()[0] + "'");
    return run(protocol, args);
  } catch (const parley::cli::usage_error& e) {
    std::cerr << "parley-fuzz: " << e.what() << "\n(parley-fuzz --help lists the options)\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "parley-fuzz: " << e.what() << "\n";
    return 2;
  }
}
