// parley-conform PROTOCOL [options]: runs a protocol's conformance suite against the built-in reference
// implementation, a running server (--target) or a command it starts (--launch).
#include <atomic>
#include <csignal>
#include <filesystem>
#include <fnmatch.h>
#include <fstream>
#include <iostream>
#include <regex>
#include <sstream>
#include <unistd.h>

#include "conformance/engine/baseline.hpp"
#include "conformance/engine/report.hpp"
#include "conformance/engine/report_html.hpp"
#include "conformance/engine/selection.hpp"
#include "conformance/engine/runner.hpp"
#include "conformance/engine/suite.hpp"
#include "conformance/engine/suite_files.hpp"
#include "conformance/engine/target_options.hpp"
#include "conformance/engine/traffic_capture.hpp"
#include "impl/cli/args.hpp"
#include "impl/core/crypto/x509.hpp"
#include "impl/core/key_store.hpp"

namespace {

constexpr const char* usage = R"(usage: parley-conform PROTOCOL [options]
       parley-conform keys --out DIR --users NAME[,NAME...] [--bits N]
       parley-conform certs --out DIR [--name HOST] [--days N]

Runs PROTOCOL's conformance suite and prints a report by rule. Every step of a case is attributed to one
rule: a failed step FAILs its own rule only, and the rules it kept from being checked are BLOCKED (named).
Exit code: 0 when no rule FAILs or is FLAKY and no case ERRORs (with --baseline: no rule is worse than
the baseline says); 1 otherwise; 2 for usage errors; 3 when the target cannot be tested (unreachable,
another protocol, a client that cannot start, or down mid-run and not restartable); 130 when interrupted
(Ctrl-C: launched processes are stopped and the partial report is written). The same whatever report
options are given.

protocols:
  itp          text lines over TCP
  securechat   JSON over WebSocket; uses RSA keys (see --keys)
  multiparty   binary MTP frames over TCP, AES-GCM; uses RSA keys and a server key (see --keys)
  sslmessager  text lines over TLS with password logins (see --user)
  peerchat     a TCP rendezvous server, then UDP chats between peers (client-role cases play the other
               peer on 127.0.0.2); a --launch server may use {port_timeout} {register} {maxconn}, a client
               command {dir} (for {dir}/{name}.key and .contacts) {keepalive} {peer_timeout} {connect_timeout}

certs: writes a self-signed TLS certificate for HOST (default 127.0.0.1, also its subjectAltName) to
DIR/server.crt and its RSA key to DIR/server.key, and prints the SPKI pin clients can use.

keys: writes an RSA key pair per user into DIR (<name>.pem private, mode 0600, and <name>.public.pem),
the key store layout securechat and multiparty servers read (multiparty: include the user "server").
--bits defaults to 2048.

target (default: the built-in reference server, a fresh one per case):
  --target HOST:PORT     a server that is already running; cases that need an empty server are skipped,
                         timer cases need --real-time
  --launch 'CMD'         start the implementation under test; CMD may use {port} (required), and the
                         timing placeholders {ping} {pong} (itp), {status} (multiparty), in
                         milliseconds, to let timer cases run fast; {keys} and {users}: see --keys
  --fresh                with --launch: a new instance for every case (default: one shared instance,
                         plus a private one for cases that need it)
  --role server|client   what --launch starts (default server). A client command gets {port} (the
                         engine's listening port) and {name}; it reads the user's commands on stdin.
                         Rules are judged on the wire; Parley's JSON events on stdout, if it prints
                         them, also judge what the user is shown (else those rules are SKIP)
  --type-delay MS        client role: type a command only once the client has read all the engine sent
                         it and been quiet this long, as a person would (default 50; a case may ask for 0)
  --no-events            client role: the client prints no Parley JSON events; event checks are skipped and
                         rules only events can show are SKIP (without it the engine finds out in its
                         first client case)
  --real-time            use the spec's own timings (itp: PING 10 s, pong timeout 3 s; multiparty:
                         status interval 30 s)
  --keys DIR             securechat, multiparty: the private keys (<name>.pem, or the original's
                         <name>.private.pem) of the users the target trusts; at least 3 (multiparty:
                         also server.public.pem or server.pem). Without it the engine makes 5 users
                         (alice bob carol dave erin, and a multiparty server key) for the run; a --launch
                         or client command names their directory {keys} and the multiparty users file
                         {users}
  --user NAME:PASSWORD   sslmessager: an account the target knows (repeat it; at least 3). Without it the
                         engine makes 5 accounts, and a --launch command names their users file {users},
                         and the run's certificate and key {cert} and {key}
  --time-scale F         stretch every deadline by F, for slow targets (default 1)
  --ready REGEX          with --launch: the server is ready when its output (stdout or stderr) matches
                         REGEX (default: when it completes a connection, retried with backoff for 10 s)
  --ready-delay MS       with --launch: the server is ready MS milliseconds after it starts
  --profile NAME         the profile the target offers, instead of the one the preflight detects
                         (peerchat: v1 or v2); cases of profiles it lacks are SKIP

selection and output:
  --list                 list the cases a run (with this selection) would run and their rules, then exit
  --case GLOB[,GLOB]     run only the cases whose id matches
  --rule GLOB[,GLOB]     only these rules: run the cases that check them, report and judge only them
  --level LEVEL[,LEVEL]  only rules of these levels: must, should, may
  --section N[,N]        only rules stated in these spec sections (6.2 is 6.2 and 6.2.x); the selectors
                         combine: --level must --section 6 is the MUST rules of section 6
  -j N, --jobs N         run N cases in parallel (default 4; peerchat 16)
  --strict               a broken SHOULD rule is a FAIL, not a WARN
  --repeat N             run every case N times; a rule whose verdict differs between runs is FLAKY
  --report-json FILE     write the report as JSON
  --junit FILE           write the report as JUnit XML: one test per rule (classname PROTOCOL.SECTION),
                         the failing case's wire log in system-out; BLOCKED, SKIP, NOT-IMPL and known
                         failures are skipped tests
  --html FILE            write the report as one self-contained HTML page: rules filtered by verdict and
                         level, each broken rule's cases with their wire log as a timeline per connection
  --markdown FILE        write a short Markdown summary (for $GITHUB_STEP_SUMMARY): counts, failing rules
                         with one line of evidence, changes against the baseline
  --baseline FILE        judge against known verdicts: only a rule worse than FILE says fails the run;
                         known failures are marked, rules now better are reported ("update the baseline")
  --write-baseline FILE  write every judged rule's verdict to FILE (RULE VERDICT [reason] lines; reasons
                         of unchanged verdicts are kept)
  --pcap FILE            write the traffic of the engine's own sockets as one pcap capture: a TCP stream
                         per connection (TLS records, WebSocket frames as sent), UDP datagrams; open it
                         in Wireshark and filter by a case's ports
  --keylog FILE          write the TLS secrets of the engine's connections (SSLKEYLOGFILE format), so
                         Wireshark decrypts the capture: tshark -r CAP -o tls.keylog_file:FILE
  --record-corpus DIR    write the bytes each case sent, as seeds for the hub fuzzer
  --cases DIR            load cases from DIR instead of the built-in ones
  --rules FILE           load rules from FILE instead of the built-in ones
  --coverage             check that every MUST/SHOULD rule is covered by a case, then exit
  --no-color             plain console output
)";

// Whether FILE can be written: it is, or its directory is, writable. Nothing is created.
bool writable(const std::string& file) {
  std::filesystem::path path(file);
  if (std::filesystem::exists(path)) return access(file.c_str(), W_OK) == 0 && !std::filesystem::is_directory(path);
  auto dir = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
  return std::filesystem::is_directory(dir) && access(dir.c_str(), W_OK) == 0;
}

parley::conform::baseline read_baseline(const std::string& file) {
  std::ifstream in(file);
  if (!in) throw parley::cli::usage_error("--baseline " + file + ": cannot read it");
  std::stringstream text;
  text << in.rdbuf();
  return parley::conform::parse_baseline(text.str(), file);  // a malformed line: exit 2, naming it
}

// parley-conform keys: the key pairs that tests and users need (securechat's key store layout).
int make_keys(const parley::cli::args& args) {
  auto out = args.get("--out");
  auto users = args.get("--users");
  if (!out || !users) throw parley::cli::usage_error("keys needs --out DIR and --users NAME[,NAME...]");
  int bits = static_cast<int>(args.number("--bits", 2048, 2048, 8192));
  std::filesystem::create_directories(*out);
  parley::core::key_store store(*out);
  for (const auto& name : parley::conform::split_commas(*users)) {
    if (!parley::core::key_store::valid_name(name) || name.ends_with(".public") || name.ends_with(".private"))
      throw parley::cli::usage_error("'" + name + "' cannot be a user name (letters, digits, _ . - and no leading dot)");
    auto key = parley::core::pkey::generate_rsa(bits);
    if (!key) {
      std::cerr << "parley-conform: RSA key generation failed\n";
      return 1;
    }
    if (auto ec = store.save(name, *key)) {
      std::cerr << "parley-conform: cannot write " << name << "'s keys to " << *out << ": " << ec.message() << "\n";
      return 1;
    }
    std::cout << (std::filesystem::path(*out) / (name + ".pem")).string() << "  "
              << (std::filesystem::path(*out) / (name + ".public.pem")).string() << "  sha256:" << key->fingerprint()
              << "\n";
  }
  return 0;
}

// parley-conform certs: a self-signed server certificate for TLS protocols (sslmessager): DIR/server.crt,
// DIR/server.key (mode 0600), and the pins a client can use.
int make_certs(const parley::cli::args& args) {
  auto out = args.get("--out");
  if (!out) throw parley::cli::usage_error("certs needs --out DIR");
  std::string name = args.get_or("--name", "127.0.0.1");
  int days = static_cast<int>(args.number("--days", 365, 1, 3650));
  auto key = parley::core::pkey::generate_rsa(2048);
  auto cert = key ? parley::core::make_self_signed_certificate(*key, name, days) : parley::result<std::string>(key.error());
  if (!cert) {
    std::cerr << "parley-conform: cannot make a certificate: " << cert.error().message() << "\n";
    return 1;
  }
  std::filesystem::create_directories(*out);
  auto crt = std::filesystem::path(*out) / "server.crt";
  auto pem = std::filesystem::path(*out) / "server.key";
  std::ofstream(crt) << *cert;
  {
    std::ofstream f(pem);
    f << key->private_pem();
  }
  std::filesystem::permissions(pem, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  std::cout << crt.string() << "  " << pem.string() << "  for " << name << ", " << days << " days\n"
            << "pin sha256:" << *parley::core::public_key_pin(*cert) << "  (SPKI: parley-client sslmessager --pin)\n";
  return 0;
}

int run(const std::string& protocol, const parley::cli::args& args) {
  using namespace parley::conform;
  auto factory = adapters().find(protocol);
  if (factory == adapters().end()) throw parley::cli::usage_error("unknown protocol '" + protocol + "'");
  auto adapter = factory->second();
  rule_book rules = rules_for(protocol, args.get_or("--rules", ""));
  std::vector<test_case> cases = cases_for(protocol, args.get_or("--cases", ""));

  if (args.has("--coverage")) {
    coverage c = check_coverage(rules, cases);
    for (const auto& id : c.uncovered) std::cout << "not covered: " << id << "\n";
    for (const auto& u : c.unknown) std::cout << "unknown rule: " << u << "\n";
    std::cout << cases.size() << " cases, " << rules.rules.size() << " rules, " << c.uncovered.size()
              << " uncovered MUST/SHOULD rules\n";
    return c.uncovered.empty() && c.unknown.empty() ? 0 : 1;
  }
  if (auto globs = args.get("--case")) {
    std::vector<test_case> chosen;
    for (auto& c : cases)
      for (const auto& g : split_commas(*globs))
        if (fnmatch(g.c_str(), c.id.c_str(), 0) == 0) {
          chosen.push_back(c);
          break;
        }
    if (chosen.empty()) throw parley::cli::usage_error("no case matches --case " + *globs);
    cases = std::move(chosen);
  }
  rule_selection selection = selection_from(args);
  rule_book reported = rules;  // the rules the reports and the exit code speak of
  if (!selection.empty()) {
    reported = selected_rules(rules, selection);
    if (reported.rules.empty()) throw parley::cli::usage_error("no rule of " + protocol + " matches the selection");
    cases = cases_checking(cases, reported);
    if (cases.empty()) throw parley::cli::usage_error("no case checks the selected rules (they may be untestable)");
  }
  if (args.has("--list")) {
    if (!selection.empty()) std::cout << cases.size() << " cases check the " << reported.rules.size() << " selected rules\n";
    for (const auto& c : cases) {
      std::cout << c.id << "  [" << (c.role == role::server ? "server" : "client") << "]";
      for (const auto& r : c.rules) std::cout << " " << r;
      std::cout << "\n    " << c.description << "\n";
    }
    return 0;
  }

  run_settings settings;
  settings.bin_dir = own_directory();
  settings.strict = args.has("--strict");
  settings.record_dir = args.get_or("--record-corpus", "");
  std::string target_name = apply_target_options(args, *adapter, settings);
  settings.repeat = static_cast<int>(args.number("--repeat", 1, 1, 1000));
  // A report that cannot be written is a mistake to hear about now, not after the run.
  for (const char* flag : {"--report-json", "--junit", "--html", "--markdown", "--write-baseline", "--pcap", "--keylog"})
    if (auto f = args.get(flag); f && !writable(*f))
      throw parley::cli::usage_error(std::string(flag) + " " + *f + ": cannot write there");

  auto log_dir = std::filesystem::temp_directory_path() / ("parley-conform-" + std::to_string(getpid()));
  std::filesystem::create_directories(log_dir);
  settings.log_dir = log_dir.string();

  baseline expected;
  if (auto f = args.get("--baseline")) expected = read_baseline(*f);

  if (auto problem = adapter->prepare(settings); !problem.empty()) {
    std::cerr << "parley-conform: " << problem << "\n";
    return 2;
  }

  stop_on_interrupt(settings);  // Ctrl-C: the report written so far is marked interrupted (exit 130)

  // --pcap, --keylog: the engine's sockets tell a capture what they carry (without them: no tap, no cost).
  // Key log lines are written as they come; the capture once the run ends, interrupted or not.
  std::ofstream keylog;
  if (auto f = args.get("--keylog")) keylog.open(*f, std::ios::trunc);
  std::unique_ptr<traffic_capture> capture;
  if (args.has("--pcap") || args.has("--keylog")) {
    capture = std::make_unique<traffic_capture>(args.has("--pcap"), keylog.is_open() ? &keylog : nullptr);
    settings.tap = capture.get();
  }

  int jobs = static_cast<int>(args.number("--jobs", adapter->default_jobs(), 1, 64));
  auto started = parley::clock_type::now();
  run_report report = run_suite(*adapter, cases, rules, settings, jobs);
  if (auto f = args.get("--pcap")) {
    std::ofstream out(*f, std::ios::binary | std::ios::trunc);
    capture->write_pcap(out);
  }
  report.protocol = protocol;
  report.target = target_name;
  report.seconds = std::chrono::duration<double>(parley::clock_type::now() - started).count();

  auto verdicts = rule_verdicts(reported, report.cases, report.repeat);
  if (auto f = args.get("--baseline")) {
    report.baseline_file = *f;
    report.baseline = compare_with_baseline(verdicts, expected, settings.strict);
  }
  bool color = !args.has("--no-color") && isatty(STDOUT_FILENO);
  print_console(std::cout, reported, report, color);
  if (auto f = args.get("--report-json")) std::ofstream(*f) << to_json(reported, report);
  if (auto f = args.get("--junit")) std::ofstream(*f) << to_junit(reported, report);
  if (auto f = args.get("--html")) std::ofstream(*f) << to_html(reported, report);
  if (auto f = args.get("--markdown")) std::ofstream(*f) << to_markdown(reported, report);
  // A run that judged nothing (the target could not be tested, or Ctrl-C) must not become the baseline.
  if (auto f = args.get("--write-baseline"); f && report.target_error.empty() && !report.interrupted) {
    baseline previous = std::filesystem::exists(*f) ? read_baseline(*f) : baseline{};
    std::ofstream(*f) << format_baseline(verdicts, previous, "parley-conform baseline: " + protocol + " against " + target_name);
  }
  std::error_code ignored;
  std::filesystem::remove_all(log_dir, ignored);
  return exit_code(reported, report);
}

}  // namespace

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);  // a client under test that dies must not take the engine with it
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
    if (protocol == "keys") return make_keys(parley::cli::args(list, {}, {"--out", "--users", "--bits"}));
    if (protocol == "certs") return make_certs(parley::cli::args(list, {}, {"--out", "--name", "--days"}));
    auto args = parley::conform::with_target_flags(
        list, {"--list", "--strict", "--coverage", "--no-color", "--help"},
        {"--case", "--jobs", "--report-json", "--junit", "--record-corpus", "--cases", "--rules", "--repeat", "--rule",
         "--level", "--section", "--markdown", "--baseline", "--write-baseline", "--html", "--pcap", "--keylog"});
    if (args.has("--help")) {
      std::cout << usage;
      return 0;
    }
    if (!args.positional().empty()) throw parley::cli::usage_error("unexpected argument '" + args.positional()[0] + "'");
    return run(protocol, args);
  } catch (const parley::cli::usage_error& e) {
    std::cerr << "parley-conform: " << e.what() << "\n(parley-conform --help lists the options)\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "parley-conform: " << e.what() << "\n";
    return 2;
  }
}
