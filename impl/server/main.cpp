// parley-server PROTOCOL [flags]: Parley's reference servers.
#include <csignal>
#include <iostream>
#include <thread>

#include <pthread.h>
#include <sys/resource.h>

#include "impl/server/host/host.hpp"
#include "impl/server/programs.hpp"

namespace parley::server_main {
namespace {

constexpr const char* usage = R"(usage: parley-server PROTOCOL [options]

protocols:
  itp         text lines over TCP (default port 1337)
  securechat  JSON over WebSocket, signed join, end-to-end encrypted private messages (default port 8765)
  multiparty  binary MTP frames over TCP, AES-GCM, sessions with invites (default port 5150)
  sslmessager text lines over TLS, password login, relay (default port 18443)
  peerchat    text lines over TCP or TLS, rendezvous for UDP peer chats (default port 6969)

common options:
  --bind ADDR            address to listen on (default 127.0.0.1; 0.0.0.0 for every interface)
  --port N               TCP port (default: the protocol's; 0 picks a free port)
  --log-wire             log every connection, every chunk received and every message sent, to stderr
  --max-connections N    at most N connections (default 1024); past it the oldest connection that has not
                         logged in is closed to make room, and only when all have logged in is one refused
  --max-per-address N    at most N connections from one address (default 256), made room for the same way
  --max-total-output B   bytes queued for all connections together (default 268435456); past it the
                         connections with the most queued are closed (one connection's own bound: 4 MiB)
  --fault NAME           plant one deliberate bug, to prove conformance cases can fail
  --list-faults          list the faults of PROTOCOL and exit
  --help                 this text

itp options:
  --ping-interval MS     PING this long after login and then periodically (default 10000)
  --pong-timeout MS      disconnect when PONG has not arrived this long after PING (default 3000)
  --max-line BYTES       longest accepted line, terminator excluded (default 1024)
  --login-timeout MS     DSCN Login timeout for a connection not logged in this long after it opened (default 60000)

securechat options:
  --keys DIR             the key store: <name>.public.pem (or <name>.pem) per user who may join (required)
  --login-timeout MS     close a connection that has not joined this long after it opened (default 60000)

multiparty options:
  --keys DIR             the key store: server.pem (the server's private key) and each user's public key (required)
  --users FILE           who may log in, one name per line, in directory order; # comments (required)
  --status-interval MS   send status_req to a client silent this long (default 30000); a connection that
                         has not logged in within this plus 3000 ms is closed

sslmessager options:
  --cert PEM             the server's certificate (required; it may also hold the key)
  --key PEM              the server's private key (default: the --cert file, which may hold both)
  --users FILE           the users file: name:scrypt:N:r:p:salt:hash lines (required)
  --check-interval MS    send CHECK to every online user this often (default 60000)
  --login-timeout MS     end a connection that has not logged in this long after it opened (default 120000)
parley-server sslmessager adduser --users FILE --name NAME [--replace] [--scrypt-n N]
                         add a user (the password is read from stdin, or prompted twice without echo);
                         the file is created with mode 0600 and replaced whole

peerchat options:
  --port-timeout MS      abort a negotiation when an answer to PORT takes this long (default 10000)
  --register-timeout MS  close a connection that has not registered this long after it opened (default 60000)
  --tls-cert PEM         with --tls-key: speak TLS only, with this certificate chain (its pin goes to stderr)
  --tls-key PEM          the certificate's private key
  (--max-connections N: when all N have registered a newcomer gets ERROR Server_full and is closed;
   otherwise the oldest connection not registered is closed to make room)
)";

}  // namespace

int serve(core::hub& hub, const char* protocol, const cli::args& args, unsigned short default_port,
          host::host_options options, std::size_t over_limit) {
  options.bind = args.get_or("--bind", "127.0.0.1");
  options.port = static_cast<unsigned short>(args.number("--port", default_port, 0, 65535));
  options.log_wire = args.has("--log-wire");
  options.max_connections = static_cast<std::size_t>(args.number("--max-connections", 1024, 1, 1'000'000)) + over_limit;
  options.max_per_address = static_cast<std::size_t>(args.number("--max-per-address", 256, 1, 1'000'000));
  options.max_total_output =
      static_cast<std::size_t>(args.number("--max-total-output", 256LL * 1024 * 1024, 64 * 1024, 1LL << 40));

  // --max-connections sockets must fit under the open-file limit, whose soft value is often 1024.
  if (rlimit files{}; getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    setrlimit(RLIMIT_NOFILE, &files);
  }

  // Signals are taken by one thread with sigwait, so stopping never runs inside a signal handler.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  auto server = host::server::start(hub, options);
  if (!server) {
    std::cerr << "parley-server: cannot listen on " << options.bind << ":" << options.port << ": "
              << server.error().message() << "\n";
    return 2;
  }
  std::cout << "parley-server " << protocol << " listening on " << options.bind << ":" << (*server)->port()
            << std::endl;
  std::thread waiter([&] {
    int sig = 0;
    sigwait(&signals, &sig);
    (*server)->stop();
  });
  (*server)->run();
  // run() returned without a signal only on a fatal error; wake the waiter so it can be joined.
  pthread_kill(waiter.native_handle(), SIGTERM);
  waiter.join();
  return 0;
}

}  // namespace parley::server_main

int main(int argc, char** argv) {
  using namespace parley;
  std::vector<std::string> argv_list(argv + 1, argv + argc);
  try {
    if (argv_list.empty() || argv_list[0] == "--help" || argv_list[0] == "-h") {
      std::cout << server_main::usage;
      return argv_list.empty() ? 2 : 0;
    }
    std::string protocol = argv_list[0];
    argv_list.erase(argv_list.begin());
    cli::args args(argv_list, {"--log-wire", "--list-faults", "--help", "--replace"},
                   {"--bind", "--port", "--max-connections", "--max-per-address", "--max-total-output", "--fault", "--ping-interval", "--pong-timeout",
                    "--max-line", "--keys", "--users", "--status-interval", "--cert", "--key",
                    "--check-interval", "--login-timeout", "--name", "--scrypt-n", "--port-timeout",
                    "--register-timeout", "--tls-cert", "--tls-key"});
    if (args.has("--help")) {
      std::cout << server_main::usage;
      return 0;
    }
    if (protocol == "sslmessager") return server_main::run_sslmessager(args);  // has a subcommand: adduser
    if (!args.positional().empty()) throw cli::usage_error("unexpected argument '" + args.positional()[0] + "'");
    if (protocol == "itp") return server_main::run_itp(args);
    if (protocol == "securechat") return server_main::run_securechat(args);
    if (protocol == "multiparty") return server_main::run_multiparty(args);
    if (protocol == "peerchat") return server_main::run_peerchat(args);
    throw cli::usage_error("unknown protocol '" + protocol + "'");
  } catch (const cli::usage_error& e) {
    std::cerr << "parley-server: " << e.what() << "\n(parley-server --help lists the options)\n";
    return 2;
  }
}
