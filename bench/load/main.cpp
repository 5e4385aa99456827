// parley-load: drives a chat server (itp, securechat, multiparty, sslmessager, peerchat, or IRC) with N
// logged-in connections and reports deliveries/s, latency, errors (every delivery is checked for sender,
// sequence and text) and the target's CPU and memory.
#include <sys/resource.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include "bench/load/dialect.hpp"
#include "bench/load/launch_files.hpp"
#include "bench/load/run.hpp"
#include "bench/load/target_process.hpp"
#include "impl/cli/args.hpp"
#include "impl/core/crypto/pkey.hpp"
#include "impl/core/key_store.hpp"

namespace {
using namespace parley;

constexpr const char* usage_text =
    "usage: parley-load PROTOCOL (--target HOST:PORT | --launch 'CMD {port}') [options]\n"
    "  PROTOCOL            itp, securechat (WebSocket), multiparty (a message to everyone is a msg_req per\n"
    "                      session of 16 receivers, each answered by every receiver), sslmessager (TLS; a\n"
    "                      message to everyone is one MSG per other user), peerchat (the rendezvous\n"
    "                      server: REGISTER; hold and rtt only, since it relays no messages), or irc (to\n"
    "                      measure an IRC server such as ngIRCd the same way)\n"
    "  --mode M            fanout (one sender, everyone else receives; default), all-to-all (everyone sends\n"
    "                      to everyone), hold (N idle connections, half logged in; IRC users join no\n"
    "                      channel), rtt (request/reply)\n"
    "  --clients N         connections (default 50)\n"
    "  --messages N        per sender (rtt: round trips; default 10000, multiparty: as many as a connection's\n"
    "                      65,535 frames allow, at most 10000)\n"
    "  --size N            bytes of each message's text (default 64)\n"
    "  --window N          a sender's messages not yet delivered to every receiver (default 64)\n"
    "  --hold-seconds S    hold: how long the connections stay (default 5)\n"
    "  --timeout S         the whole run, logins included (default 120)\n"
    "  --pid P             the target's process, for its CPU time and memory (implied by --launch)\n"
    "  --password P        sslmessager: every user's password (default parley-load); the users are\n"
    "                      ld00000, ld00001, ...; a --launch command gets {cert}, {key} and {users}, files\n"
    "                      made for the run that let them in\n"
    "  --key PEM           securechat: the RSA private key every user signs its join with (the users'\n"
    "                      public keys on the target are its public half); with --launch and no --key a\n"
    "                      fresh one, and {keys} is a key store made for the run\n"
    "  --keys DIR          multiparty: the users' private keys (<name>.pem) and the server's public key\n"
    "                      (server.public.pem or server.pem) that the target's directory holds; with\n"
    "                      --launch and no --keys, fresh RSA-2048 keys (about 0.2 s each), and {keys} and\n"
    "                      {users} are the key store and users file made for the run\n"
    "  --tls               peerchat: the server speaks TLS (not verified); a --launch command gets {cert}\n"
    "                      and {key}, a certificate and key made for the run\n"
    "  --json FILE         the summary as JSON (- for standard output)\n"
    "  --quiet             no progress on standard error\n"
    "exit status: 0 the run completed without delivery errors; 1 errors or an incomplete run; 2 usage\n";

std::string json_escape(const std::string& s) {
  std::string out;
  for (char ch : s) {
    if (ch == '"' || ch == '\\') out += '\\';
    if (static_cast<unsigned char>(ch) < 0x20) {
      char buffer[8];
      std::snprintf(buffer, sizeof buffer, "\\u%04x", ch);
      out += buffer;
      continue;
    }
    out += ch;
  }
  return out;
}

double own_cpu_seconds() {
  rusage r{};
  getrusage(RUSAGE_SELF, &r);
  return static_cast<double>(r.ru_utime.tv_sec + r.ru_stime.tv_sec) +
         static_cast<double>(r.ru_utime.tv_usec + r.ru_stime.tv_usec) / 1e6;
}

load::mode mode_named(const std::string& name) {
  if (name == "fanout") return load::mode::fanout;
  if (name == "all-to-all") return load::mode::all_to_all;
  if (name == "hold") return load::mode::hold;
  if (name == "rtt") return load::mode::rtt;
  throw cli::usage_error("--mode must be fanout, all-to-all, hold or rtt, not " + name);
}

// securechat's signing key: --key's file, or for --launch a fresh RSA-2048 key.
std::string securechat_key(const cli::args& a) {
  if (auto path = a.get("--key")) {
    auto text = core::read_file(*path);
    if (!text) throw cli::usage_error("cannot read --key " + *path);
    return *text;
  }
  if (!a.get("--launch")) throw cli::usage_error("securechat against --target needs --key PEM");
  auto key = core::pkey::generate_rsa(2048);
  if (!key) throw std::runtime_error("cannot make an RSA key");
  return key->private_pem();
}

// multiparty's keys: the users' private keys and the server's key from --keys, or for --launch fresh ones.
void multiparty_keys(const cli::args& a, load::dialect_settings& said, bool quiet) {
  if (auto dir = a.get("--keys")) {
    core::key_store store(*dir);
    for (std::size_t i = 0; i < said.clients; ++i) {
      auto name = load::user_name(said.name_prefix, i);
      auto key = store.load_private(name);
      if (!key) throw cli::usage_error("--keys " + *dir + " has no private key for " + name + " (" + name + ".pem)");
      said.user_keys.push_back(std::move(*key));
    }
    // A launched server needs the private key; a target only its public half, which the login pins.
    if (auto server = store.load_private("server")) said.server_key = std::move(*server);
    else if (a.get("--launch")) throw cli::usage_error("--keys " + *dir + " needs server.pem, the private key, for --launch");
    else if (auto pub = store.load_public("server")) said.server_key = std::move(pub->key);
    else throw cli::usage_error("--keys " + *dir + " has no server.public.pem or server.pem");
    return;
  }
  if (!a.get("--launch")) throw cli::usage_error("multiparty against --target needs --keys DIR");
  if (!quiet) std::cerr << "parley-load: making " << said.clients + 1 << " RSA-2048 keys\n";
  for (std::size_t i = 0; i <= said.clients; ++i) {
    auto key = core::pkey::generate_rsa(2048);
    if (!key) throw std::runtime_error("cannot make an RSA key");
    if (i == said.clients) said.server_key = std::move(*key);
    else said.user_keys.push_back(std::move(*key));
  }
}

int run_main(int argc, char** argv) {
  cli::args a(std::vector<std::string>(argv + 1, argv + argc), {"--quiet", "--help", "--tls"},
              {"--target", "--launch", "--mode", "--clients", "--messages", "--size", "--window", "--hold-seconds",
               "--timeout", "--pid", "--json", "--password", "--key", "--keys"});
  if (a.has("--help")) {
    std::cout << usage_text;
    return 0;
  }
  if (a.positional().size() != 1) throw cli::usage_error("name one PROTOCOL");
  bool quiet = a.has("--quiet");
  load::run_options o;
  o.mode = mode_named(a.get_or("--mode", "fanout"));
  o.clients = static_cast<std::size_t>(a.number("--clients", 50, 1, 200000));
  o.messages = static_cast<std::size_t>(a.number("--messages", 10000, 1, 1000000000));
  o.size = static_cast<std::size_t>(a.number("--size", 64, 32, 4000));
  o.window = static_cast<std::size_t>(a.number("--window", 64, 1, 100000));
  o.hold_seconds = a.real("--hold-seconds", 5, 0, 86400);
  o.timeout_seconds = a.real("--timeout", 120, 1, 86400);
  pid_t pid = static_cast<pid_t>(a.number("--pid", 0, 0, 1 << 30));

  load::dialect_settings said;
  said.clients = o.clients;
  said.name_prefix = o.name_prefix;
  said.password = a.get_or("--password", "parley-load");
  said.idle = o.mode == load::mode::hold;
  const std::string& protocol = a.positional()[0];
  said.tls = a.has("--tls");
  if (said.tls && protocol != "peerchat") throw cli::usage_error("--tls is for peerchat (sslmessager always speaks TLS)");
  if (protocol == "securechat") said.key_pem = securechat_key(a);
  said.senders = o.mode == load::mode::fanout ? 1 : o.mode == load::mode::all_to_all ? o.clients : 0;
  if (a.get("--keys") && protocol != "multiparty") throw cli::usage_error("--keys is for multiparty (securechat takes --key)");
  if (protocol == "multiparty") multiparty_keys(a, said, quiet);
  auto speech = load::make_dialect(protocol, said);
  if (!speech)
    throw cli::usage_error("unknown protocol " + protocol + " (itp, securechat, multiparty, sslmessager, peerchat or irc)");
  if (auto most = speech->most_clients(); most && o.clients > *most)
    throw cli::usage_error(protocol + " can have at most " + std::to_string(*most) + " users in a run");
  if (auto most = speech->most_messages(said.senders, o.clients)) {
    if (!a.get("--messages")) o.messages = std::min(o.messages, *most);
    if (o.messages > *most)
      throw cli::usage_error(protocol + ": at most " + std::to_string(*most) + " --messages in this mode with " +
                             std::to_string(o.clients) + " clients (a connection carries at most 65,535 frames)");
  }
  if (!speech->relays() && (o.mode == load::mode::fanout || o.mode == load::mode::all_to_all))
    throw cli::usage_error(protocol + "'s server relays no messages (its users chat peer to peer): use --mode hold or rtt");
  if (a.get("--target").has_value() == a.get("--launch").has_value())
    throw cli::usage_error("give either --target HOST:PORT or --launch 'CMD {port}'");

  std::unique_ptr<load::launch_files> target_files;
  std::unique_ptr<load::launched_target> launched;
  if (auto command = a.get("--launch")) {
    target_files = std::make_unique<load::launch_files>(protocol, said);
    std::string problem;
    launched = std::make_unique<load::launched_target>(target_files->fill(*command), problem);
    if (!problem.empty()) {
      std::cerr << "parley-load: " << problem << "\n";
      return 1;
    }
    o.port = launched->port();
    pid = launched->pid();
  } else {
    const auto& target = *a.get("--target");
    auto colon = target.rfind(':');
    if (colon == std::string::npos) throw cli::usage_error("--target must be HOST:PORT");
    o.host = target.substr(0, colon);
    o.port = static_cast<unsigned short>(std::stoul(target.substr(colon + 1)));
  }

  // Thousands of connections need as many descriptors: the soft limit goes up to the hard one.
  rlimit files{};
  if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    setrlimit(RLIMIT_NOFILE, &files);
  }
  // The target's memory before the connections, and its CPU time (and ours) from the moment all are logged
  // in: the logins (an sslmessager one is a deliberately slow scrypt) are not the traffic measured.
  std::optional<load::process_usage> before, ready;
  if (pid > 0) before = load::usage_of(pid);
  double own_ready = own_cpu_seconds();
  auto result = load::run(
      o, *speech,
      [&](std::uint64_t delivered) {
        if (!quiet) std::cerr << "parley-load: " << delivered << " deliveries\n";
      },
      [&] {
        if (pid > 0) ready = load::usage_of(pid);
        own_ready = own_cpu_seconds();
      });
  double own_cpu = own_cpu_seconds() - own_ready;
  std::optional<load::process_usage> after;
  if (pid > 0) after = load::usage_of(pid);

  double rate = result.seconds > 0 ? static_cast<double>(result.delivered) / result.seconds : 0;
  double target_cpu = ready && after ? after->cpu_seconds - ready->cpu_seconds : -1;
  // hold: the memory of the idle connections; the other modes: after the traffic.
  std::size_t rss = o.mode == load::mode::hold && ready ? ready->rss_kib : after ? after->rss_kib : 0;
  auto us = [](std::uint64_t ns) { return static_cast<double>(ns) / 1000.0; };

  std::ostringstream summary;
  summary << "parley-load " << a.positional()[0] << " " << a.get_or("--mode", "fanout") << ": " << o.clients
          << " connections, " << result.logged_in << " logged in\n";
  if (o.mode != load::mode::hold) {
    summary << "  " << result.delivered << " deliveries in " << result.seconds << " s: " << static_cast<long long>(rate)
            << " per second\n";
    summary << "  latency p50 " << us(result.latency.quantile_ns(0.5)) << " us, p99 " << us(result.latency.quantile_ns(0.99))
            << " us, max " << us(result.latency.max_ns()) << " us\n";
  }
  summary << "  errors: " << result.errors << "\n";
  for (const auto& e : result.error_samples) summary << "    " << e << "\n";
  if (target_cpu >= 0 && result.delivered > 0)
    summary << "  target CPU " << target_cpu << " s (" << target_cpu * 1e6 / static_cast<double>(result.delivered)
            << " us per delivery)\n";
  // Per connection: what the connections added to the target, beside what it held before them.
  std::size_t rss_before = before ? before->rss_kib : 0;
  double rss_per_connection =
      rss > rss_before ? static_cast<double>(rss - rss_before) / static_cast<double>(o.clients) : 0;
  if (rss > 0)
    summary << "  target RSS " << rss << " KiB, " << rss_before << " KiB before the connections (" << rss_per_connection
            << " KiB per connection)\n";
  summary << "  parley-load CPU " << own_cpu << " s over the run\n";
  if (!result.failure.empty()) summary << "  INCOMPLETE: " << result.failure << "\n";
  std::cout << summary.str();

  if (auto path = a.get("--json")) {
    std::ostringstream j;
    j << "{\"protocol\":\"" << json_escape(a.positional()[0]) << "\",\"mode\":\"" << a.get_or("--mode", "fanout")
      << "\",\"clients\":" << o.clients << ",\"logged_in\":" << result.logged_in << ",\"size\":" << o.size
      << ",\"window\":" << o.window << ",\"sent\":" << result.sent << ",\"delivered\":" << result.delivered
      << ",\"seconds\":" << result.seconds << ",\"per_second\":" << rate
      << ",\"latency_us\":{\"p50\":" << us(result.latency.quantile_ns(0.5))
      << ",\"p99\":" << us(result.latency.quantile_ns(0.99)) << ",\"max\":" << us(result.latency.max_ns())
      << "},\"errors\":" << result.errors << ",\"error_samples\":[";
    for (std::size_t i = 0; i < result.error_samples.size(); ++i)
      j << (i ? "," : "") << "\"" << json_escape(result.error_samples[i]) << "\"";
    j << "],\"target_cpu_seconds\":" << (target_cpu >= 0 ? std::to_string(target_cpu) : "null")
      << ",\"target_rss_kib\":" << (rss > 0 ? std::to_string(rss) : "null")
      << ",\"target_rss_before_kib\":" << (before ? std::to_string(rss_before) : "null")
      << ",\"rss_per_connection_kib\":" << rss_per_connection << ",\"load_cpu_seconds\":" << own_cpu
      << ",\"failure\":" << (result.failure.empty() ? "null" : "\"" + json_escape(result.failure) + "\"") << "}\n";
    if (*path == "-") {
      std::cout << j.str();
    } else {
      std::ofstream file(*path);
      file << j.str();
      if (!file) {
        std::cerr << "parley-load: cannot write " << *path << "\n";
        return 1;
      }
    }
  }
  return result.failure.empty() && result.errors == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run_main(argc, argv);
  } catch (const cli::usage_error& e) {
    std::cerr << "parley-load: " << e.what() << "\n" << usage_text;
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "parley-load: " << e.what() << "\n";
    return 2;
  }
}
