// peerchat/2 on UDP (spec §8.4-8.5): the signed X25519 handshake and the ChaCha20-Poly1305 records with a
// replay window. Sans-IO: datagrams in, datagrams and events out; no clock (the caller paces resends).
// The contact-list decision (PC-TRUST) is the caller's: the session reports the key a peer proved and
// waits for accept_peer() before it counts as connected.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "impl/core/bytes.hpp"
#include "impl/core/result.hpp"
#include "impl/proto/peerchat/errc.hpp"
#include "impl/proto/peerchat/rendezvous.hpp"

namespace parley::peerchat {

inline constexpr std::uint8_t v2_marker = 0xB2;  // first byte of every peerchat/2 datagram (PC-HS-01)
inline constexpr std::size_t replay_window = 64; // PC-REPLAY-01

// A long-term Ed25519 key pair (PC-KEY-01).
class identity {
public:
  static result<identity> generate();
  // Reads a PEM private key from `path`, or generates one and writes it with mode 0600.
  static result<identity> load_or_create(const std::string& path);
  const public_key& public_key_bytes() const noexcept { return public_; }
  std::array<std::uint8_t, 64> sign(std::string_view message) const;

  identity(identity&&) noexcept;
  identity& operator=(identity&&) noexcept;
  ~identity();

private:
  identity();
  struct impl;
  std::unique_ptr<impl> impl_;
  public_key public_{};
};

bool verify_signature(const public_key& key, std::string_view message, std::string_view signature64);

using ephemeral_public = std::array<std::uint8_t, 32>;  // an X25519 public key, as HELLO carries it

// The X25519 key pair of one chat (PC-HS-02), used once to agree on the chat's keys. Copies share it.
class ephemeral_key {
public:
  // A fresh key pair. Should OpenSSL fail to make one, the public half is all zeros and agree() fails,
  // which the caller sees as a handshake that never completes.
  static ephemeral_key generate();
  const ephemeral_public& public_bytes() const noexcept { return public_; }
  // X25519 with the peer's public key; empty when OpenSSL refuses it (PC-HS-03: a small-order point).
  bytes agree(const ephemeral_public& peer) const;

private:
  struct impl;
  std::shared_ptr<const impl> impl_;
  ephemeral_public public_{};
};

// A session's public-key operations. The defaults are the real ones (identity::sign, verify_signature,
// ephemeral_key::agree); each is a pure function of its arguments, so a fuzzer can memoize them and spend
// its time on the handshake's and the records' parsing instead of on Ed25519 and X25519.
struct session_crypto {
  std::function<std::array<std::uint8_t, 64>(const identity& me, std::string_view message)> sign;
  std::function<bool(const public_key& key, std::string_view message, std::string_view signature64)> verify;
  std::function<bytes(const ephemeral_key& own, const ephemeral_public& peer)> agree;
};

enum class record_type : std::uint8_t { auth = 1, msg = 2, close = 3, keepalive = 4 };

// What one received datagram did.
struct secure_event {
  enum class kind {
    nothing,        // valid but nothing to report (a repeated HELLO, our own flag echo)
    keys_ready,     // both HELLOs seen; auth() can now be sent
    peer_proved,    // the peer's AUTH verified: call accept_peer() or reject (peer_key holds its key)
    msg,            // text holds the message (only when connected)
    close,          // the peer ended the chat
    keepalive,
  } what = kind::nothing;
  std::string text;
  public_key peer_key{};
  bool peer_confirmed = false;  // the peer's AUTH had bit 0 set: it has accepted us
};

class secure_session {
public:
  // Whether the proved key is acceptable (STARTCHAT's key, the contact list) is the caller's decision.
  secure_session(const identity& me, std::string my_name, std::string peer_name, session_crypto crypto = {});
  ~secure_session();
  secure_session(secure_session&&) noexcept;
  // An independent session in the same state (the ephemeral key shared): what a fuzzer starts each input
  // from instead of generating keys again.
  secure_session(const secure_session& other);
  secure_session& operator=(const secure_session&) = delete;

  // Our HELLO datagram (same bytes every time: one ephemeral key per chat, PC-HS-02).
  const std::string& hello() const noexcept;
  bool has_keys() const noexcept;
  // A fresh SEALED AUTH record (new seq each call, PC-REC-02); flags bit 0 = we accepted the peer.
  // errc::no_keys before keys_ready.
  result<std::string> auth();
  // MSG (text <= max_text bytes), CLOSE, KEEPALIVE records. errc::not_connected before accept_peer().
  result<std::string> seal(record_type type, std::string_view body = {});

  // Every received datagram from the peer's address. An error says why it was dropped (PC-REPLAY-02);
  // the session's state is then unchanged.
  result<secure_event> receive(std::string_view datagram);

  // The caller trusts the key of the last peer_proved event: the session is connected (PC-HS-06).
  void accept_peer();
  bool connected() const noexcept;         // we accepted the peer
  bool peer_confirmed() const noexcept;    // the peer's AUTH said it accepted us, or it sent MSG/KEEPALIVE/CLOSE
  std::uint64_t next_seq() const noexcept; // for tests and the conformance engine's replay checks

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace parley::peerchat
