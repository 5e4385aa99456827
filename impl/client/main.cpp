// parley-client PROTOCOL [flags]: Parley's reference clients, interactive or scripted.
#include <iostream>

#include "impl/cli/args.hpp"
#include "impl/client/programs.hpp"

namespace {

constexpr const char* usage = R"(usage: parley-client PROTOCOL --name NAME [options]

protocols:
  itp         text lines over TCP (default port 1337)
  securechat  JSON over WebSocket (default port 8765); needs --key
  multiparty  binary MTP frames over TCP (default port 5150); needs --key and --server-key
  sslmessager text lines over TLS (default port 18443); a password, and --pin, --ca or --insecure
  peerchat    a rendezvous over TCP (default port 6969), then chats straight to the peer over UDP

options:
  --name NAME        user name to log in with (required)
  --host HOST        server address (default 127.0.0.1)
  --port N           server port (default: the protocol's)
  --key PEM          private RSA key to use; itp default: a fresh 2048-bit key for this run;
                     securechat, multiparty: required, the key whose public half the server's key store holds
  --server-key PEM   multiparty: the server's public key (or a PEM holding its key pair), pinned: the
                     login fails unless the server proves it holds the private half
  --password-file F  sslmessager: the password is the first line of F (default: prompted without echo)
  --pin sha256:HEX   sslmessager: trust the server whose certificate's public key has this SHA-256
                     (the server prints it at start)
  --ca PEM           sslmessager: trust only these certificates, and check the host name
  --insecure         sslmessager: do not verify the server at all (warns; for the original server)
                     (peerchat: --pin, --ca and --insecure with --tls)
  --script FILE|-    read commands from FILE or standard input instead of a terminal, and print
                     every event as one JSON object per line; at end of input the client quits
  --log-wire         print every line sent and received to stderr (multiparty: each chunk as hex)
  --fault NAME       plant one deliberate client bug, to prove the client-role conformance cases can fail
  --list-faults      list the protocol's client faults (name, what it does, the rules it breaks) and exit
  --help             this text

options (peerchat):
  --bind ADDR        local address of the connection, and so of the UDP ports (two clients on one host:
                     127.0.0.1 and 127.0.0.2); default: chosen by the OS
  --v1               speak peerchat/1 only: plain HELLO, no key registered
  --identity FILE    Ed25519 key, made on first use (default ~/.config/parley/peerchat/NAME.key)
  --contacts FILE    trusted keys, `name ed25519:HEX` per line (default ~/.config/parley/peerchat/NAME.contacts)
  --accept-new-key   a peer whose key changed is warned about, then trusted (default: the chat is refused)
  --tls              connect over TLS (with --pin, --ca or --insecure; default the system's trust store)
  --keepalive MS     keep-alive after MS of not sending (default 5000)
  --peer-timeout MS  end a chat after MS without a valid datagram (default 20000)
  --connect-timeout MS  give up connecting or the handshake after MS (default 30000)
  --udp-loss PCT     testing aid: drop PCT percent of datagrams sent and received, at random

commands (itp):
  TEXT               broadcast TEXT to everyone
  /users             list the users online
  /pm NAME TEXT      private message, end-to-end encrypted (session key via PM_SESSIONKEY)
  /keys              the public keys received so far, with their SHA-256 fingerprints
  /raw LINE          send LINE as it is (for poking at servers)
  /sleep MS          pause the script for MS milliseconds (script mode)
  /quit              leave

commands (securechat):
  TEXT               public message to everyone else
  /pm NAME TEXT      private message, RSA-encrypted to NAME's key (at most 245 bytes for RSA-2048)
  /users             the users online, as the server announced them
  /keys              their public keys' SHA-256 fingerprints
  /raw JSON          send JSON as it is (for poking at servers)
  /sleep MS          pause the script for MS milliseconds (script mode)
  /quit              LeaveMessage, then close

commands (multiparty; SID is a session's 16 hex digits, as shown):
  /init NAME...      create a session and invite NAMEs (1 to 16 users of the directory)
  /accept SID        accept an invitation
  /decline SID       decline an invitation
  /msg SID TEXT      send TEXT to the session's members, one end-to-end encrypted part each
                     (at most 2048 bytes)
  /close SID         close a session you created
  /status [NAME]     ask whether the server (or NAME) is online
  /users             the directory: names and uids
  /sessions          the sessions known, with their state
  /sleep MS          pause the script for MS milliseconds (script mode)
  /quit              close the connection

commands (peerchat):
  TEXT               send TEXT to the current chat (held until it connects)
  /users             the other users online
  /chat NAME         ask the server for a chat with NAME
  /close             end the current chat (three Close datagrams)
  /whois NAME        the fingerprint of NAME's stored key
  /trust NAME        forget NAME's stored key, so that the next one is accepted
  /sleep MS          pause the script for MS milliseconds (script mode)
  /quit              close the chat, then CLOSE to the server

commands (sslmessager):
  @NAME TEXT         send TEXT to NAME (also /msg NAME TEXT)
  /to NAME           send the lines typed after it to NAME
  /sleep MS          pause the script for MS milliseconds (script mode)
  /quit              END, then close (waits up to 2 s for the server's answer)
)";

}  // namespace

int main(int argc, char** argv) {
  using namespace parley;
  std::vector<std::string> argv_list(argv + 1, argv + argc);
  try {
    if (argv_list.empty() || argv_list[0] == "--help" || argv_list[0] == "-h") {
      std::cout << usage;
      return argv_list.empty() ? 2 : 0;
    }
    std::string protocol = argv_list[0];
    argv_list.erase(argv_list.begin());
    cli::args args(argv_list, {"--log-wire", "--help", "--insecure", "--v1", "--accept-new-key", "--tls", "--list-faults"}, {"--name", "--host", "--port", "--key", "--script", "--server-key",
                                                                    "--password-file", "--pin", "--ca", "--bind", "--identity", "--contacts",
                                                                    "--keepalive", "--peer-timeout", "--connect-timeout", "--udp-loss", "--fault"});
    if (args.has("--help")) {
      std::cout << usage;
      return 0;
    }
    if (!args.positional().empty()) throw cli::usage_error("unexpected argument '" + args.positional()[0] + "'");
    if (protocol == "itp") return client_main::run_itp(args);
    if (protocol == "securechat") return client_main::run_securechat(args);
    if (protocol == "multiparty") return client_main::run_multiparty(args);
    if (protocol == "sslmessager") return client_main::run_sslmessager(args);
    if (protocol == "peerchat") return client_main::run_peerchat(args);
    throw cli::usage_error("unknown protocol '" + protocol + "'");
  } catch (const cli::usage_error& e) {
    std::cerr << "parley-client: " << e.what() << "\n(parley-client --help lists the options)\n";
    return 2;
  }
}
