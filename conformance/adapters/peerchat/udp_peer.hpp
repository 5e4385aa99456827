// The engine's side of a peerchat chat (spec §7-§8): one UDP socket on a loopback alias, the address of the
// implementation's peer, an impairment layer that drops, duplicates and reorders the engine's own datagrams,
// and, for peerchat/2, the engine's secure_session. Datagrams are rendered as text for the cases' regexes.
#pragma once

#include <deque>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <system_error>

#include "impl/core/clock.hpp"
#include "impl/net/stream.hpp"
#include "impl/proto/peerchat/secure.hpp"

namespace parley::conform::peerchat_engine {

// Applied to what the engine sends only: the implementation's datagrams are what the case observes.
struct impairment {
  double drop = 0;       // probability that a datagram is not sent
  double duplicate = 0;  // probability that it is sent twice
  double reorder = 0;    // probability that it is held back and sent after the next one
  // Never more than this many dropped in a row: a case checks that a chat survives loss, not a cut link,
  // and with independent drops a correct client would fail a case now and then (all ten of a case's
  // Connects lost, or held back behind a lost one, about once in 70 runs).
  int max_drops_in_a_row = 2;
};

struct received {
  std::string rendered;  // what cases match, see render()
  std::string bytes;
  std::string from_ip;
  time_point at;
  std::optional<parley::peerchat::secure_event> event;  // peerchat/2: what the engine's session made of it
  std::error_code dropped;  // peerchat/2: why the engine's session refused it (the client's defect)
  bool foreign = false;     // not from the client's address and port n (PC-UDP-01)
  bool off_layout = false;  // peerchat/1: not in the original's exact layout (PC-UDP-02, or -04 when oversized)
};

class udp_peer {
public:
  udp_peer(std::unique_ptr<net::udp_socket> socket, std::string local_ip, std::string remote_ip, unsigned short port);

  const std::string& local_ip() const noexcept { return local_ip_; }
  unsigned short port() const noexcept { return port_; }
  void impair(const impairment& i) { impairment_ = i; }

  // Sends through the impairment layer; `note` says what happened to each copy, for the wire log.
  std::string send(const std::string& bytes, std::string& note);
  // Sends exactly once, never impaired (the case's deliberate injections).
  std::string send_raw(const std::string& bytes);
  std::optional<received> receive(time_point deadline);

  // peerchat/2: the engine's session (made by the case's start_chat step) and the last SEALED it sent.
  std::unique_ptr<parley::peerchat::secure_session> session;
  std::string last_sealed;
  bool authenticated = false;  // the engine accepted the implementation's AUTH

private:
  std::string render(const std::string& bytes, received& r);
  std::string flush_held();

  std::unique_ptr<net::udp_socket> socket_;
  std::string local_ip_, remote_ip_;
  unsigned short port_;
  impairment impairment_;
  std::optional<std::string> held_;
  time_point held_since_{};
  int drops_in_a_row_ = 0;
  std::mt19937_64 random_{std::random_device{}()};
};

}  // namespace parley::conform::peerchat_engine
