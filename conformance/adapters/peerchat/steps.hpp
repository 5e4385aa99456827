// The peerchat adapter's steps (spec/peerchat/spec.md §13), as free functions over the case context: the
// rendezvous side (rendezvous_steps.cpp) and the UDP peer (udp_steps.cpp), with the state they share.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "conformance/adapters/peerchat/udp_peer.hpp"
#include "conformance/engine/runner.hpp"
#include "impl/proto/peerchat/secure.hpp"

namespace parley::conform::peerchat_engine {

namespace pc = parley::peerchat;

// The engine's UDP peer lives on a second loopback address, so that it and the client under test (bound to
// 127.0.0.1, the address it reaches the engine from) can both use port n (spec R10).
inline constexpr const char* engine_peer_ip = "127.0.0.2";
inline constexpr const char* client_ip = "127.0.0.1";
// A sender that is neither peer, for the wrong-address checks of PC-UDP-01/-08.
inline constexpr const char* stranger_ip = "127.0.0.3";

// Per-case state the steps share, kept in case_context::objects().
struct chat_state {
  std::shared_ptr<udp_peer> peer;
  std::map<std::string, std::shared_ptr<pc::identity>> identities;  // the engine's users' long-term keys
  std::string peer_name;      // the engine's user in the chat
  std::string client_name;    // the implementation's user
  std::optional<pc::public_key> client_key;  // from the client's REGISTER
  bool version2 = false;      // the engine answered HELLO peerchat/2
  std::vector<std::unique_ptr<net::udp_socket>> squatters;  // ports held so the client cannot bind them
};

// A step argument, substituted; without it the fallback, or a case_error when there is none.
std::string arg(const step& s, const case_context& ctx, const char* key, const char* fallback = nullptr);
bool flag(const step& s, const char* key, bool fallback = false);
// A number or duration expression (`keepalive + 1000`).
double number(const step& s, const case_context& ctx, const char* key, double fallback);
chat_state& state(case_context& ctx);
pc::identity& identity_of(chat_state& st, const std::string& label);
udp_peer& peer_of(case_context& ctx, const step& s);

// How the engine, as a client of the server under test, accepts PORT <port>: as a peerchat/2 client
// ("OK <port>") unless the target offers peerchat/1 only, which gets "OK" twice like the original client
// sends it (PC-CLI-03, spec §12 R7).
std::string acceptance(const case_context& ctx, const std::string& port);

// Rendezvous side: the engine as clients of a server under test, or as the server of a client under test.
std::string register_user(const step& s, case_context& ctx);
std::string accept_port(const step& s, case_context& ctx);
std::string check(const step& s, case_context& ctx);
std::string refuse_rounds(const step& s, case_context& ctx);
std::string fill(const step& s, case_context& ctx);
std::string greet(const step& s, case_context& ctx);
std::string start_chat(const step& s, case_context& ctx);
std::string offer_taken_port(const step& s, case_context& ctx);

// UDP side: the engine as the other peer of the client's chat.
std::string impair(const step& s, case_context& ctx);
std::string udp_send(const step& s, case_context& ctx);
std::string udp_expect(const step& s, case_context& ctx);
std::string udp_silence(const step& s, case_context& ctx);
std::string udp_rate(const step& s, case_context& ctx);
std::string handshake(const step& s, case_context& ctx);
std::string seal(const step& s, case_context& ctx);
std::string replay(const step& s, case_context& ctx);

}  // namespace parley::conform::peerchat_engine
