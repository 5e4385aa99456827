// How parley-load speaks a line protocol: the lines that log a user in, the lines that send a message to
// everyone, how a relayed message and a keep-alive look when they arrive. One per protocol; `irc` is there
// so the same workload can be measured against an IRC server (ngIRCd) beside the reference servers.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "impl/core/crypto/pkey.hpp"

namespace parley::load {

// The name of user `index`: the prefix and five digits (ld00000, ld00001, ...).
std::string user_name(const std::string& prefix, std::size_t index);

// What a dialect needs to know of the run.
struct dialect_settings {
  std::size_t clients = 0;
  std::string name_prefix = "ld";
  std::string password;  // sslmessager: every user's
  std::string key_pem;   // securechat: the private key every user signs its join with
  bool idle = false;     // hold mode: the users will only idle
  bool tls = false;      // peerchat: the server speaks TLS (--tls)
  std::size_t senders = 0;  // relay modes: users 0 .. senders-1 send, every user receives from the others
  std::vector<core::pkey> user_keys;  // multiparty: user i's private key
  core::pkey server_key;              // multiparty: the server's key (its public half is pinned)
};

// Calls about one connection carry its index: a protocol whose frames are sealed under keys made at the
// login and numbered per connection (multiparty) keeps that state per index; the line protocols ignore it.
class dialect {
public:
  virtual ~dialect() = default;
  // Sent once the connection is up, before the login (a WebSocket upgrade); "" for none.
  virtual std::string greeting(const std::string& /*host*/, unsigned short /*port*/) const { return {}; }
  // Consumes the answer to the greeting from `in`: true once it is whole and right; false with `problem`
  // set when it is wrong, with `problem` empty while it is incomplete.
  virtual bool take_greeting_answer(std::string& /*in*/, std::string& /*problem*/) const { return true; }
  // The next unit connection `index` received, from `begin` in `in` (which moves past it): a line without
  // its terminator, a WebSocket message (`partial` holds one that came in fragments), or a multiparty
  // frame's type and plaintext. What the protocol answers by itself and the run need not see (multiparty's
  // invite_res, msg_res and status_res) is appended to `out` and passed over. nullopt when more bytes are
  // needed, or with `problem` set when the bytes cannot be read or the server refused something.
  virtual std::optional<std::string_view> next_unit(std::size_t index, const std::string& in, std::size_t& begin,
                                                    std::string& partial, std::string& out, std::string& problem);
  // What connection `index` sends right after it connects to become user `name`.
  virtual std::string login(std::size_t index, const std::string& name) = 0;
  // Whether `line` (terminator removed) completes the login of `name`.
  virtual bool logged_in(std::string_view line, const std::string& name) const = 0;
  // A refusal of the login, which ends the run with the line as the reason.
  virtual bool refused(std::string_view line) const = 0;
  // Whether the connection speaks TLS (sslmessager; peerchat with --tls).
  virtual bool tls() const { return false; }
  // Whether the server relays messages between users, so that fanout and all-to-all mean something
  // (peerchat's rendezvous server does not: its users chat peer to peer).
  virtual bool relays() const { return true; }
  // The most users a run can have (multiparty: the directory must fit in one login_res); nullopt: no limit.
  virtual std::optional<std::size_t> most_clients() const { return std::nullopt; }
  // The most messages per sender (rtt: round trips) a run of `clients` users, `senders` of them sending,
  // can carry (multiparty: a connection carries at most 65,535 frames each way); nullopt: no limit.
  virtual std::optional<std::size_t> most_messages(std::size_t /*senders*/, std::size_t /*clients*/) const {
    return std::nullopt;
  }
  // Relay modes, once every user is logged in: what connection `index` sends to be able to reach the others
  // (multiparty: the init_reqs of its sessions), and whether every connection is ready.
  virtual void begin_setup(std::size_t /*index*/, std::string& /*out*/) {}
  virtual bool set_up() const { return true; }
  // Appends what user `sender` sends so that `body` reaches every other user: one line, or one per
  // receiver where the protocol has no broadcast (sslmessager's MSG names its target).
  virtual void append_broadcast(std::string& out, std::size_t sender, std::string_view body) = 0;
  // The body of a message relayed from another user; nullopt for any other line.
  virtual std::optional<std::string_view> relayed(std::string_view line) const = 0;
  // Appends the answer a keep-alive probe needs (itp PING, IRC PING; nothing for sslmessager's CHECK);
  // false when `line` is none.
  virtual bool answer_probe(std::string& out, std::string_view line) const = 0;
  // A request connection `index` sends that the server answers to it alone, and whether `line` is that
  // answer (rtt mode).
  virtual void append_request(std::size_t index, std::string& out, std::string_view token) = 0;
  virtual bool is_reply(std::string_view line, std::string_view token) const = 0;
};

// "itp", "securechat", "multiparty", "sslmessager", "peerchat" or "irc"; nullptr for any other name. With
// `idle` an IRC user registers without joining the channel (an itp login is announced to everyone whatever
// the mode).
std::unique_ptr<dialect> make_dialect(const std::string& protocol, const dialect_settings& settings);
// securechat's (bench/load/securechat_dialect.cpp); throws std::runtime_error for a key it cannot use.
std::unique_ptr<dialect> make_securechat_dialect(const dialect_settings& settings);
// multiparty's (bench/load/multiparty_dialect.cpp); throws std::runtime_error for keys it cannot use.
std::unique_ptr<dialect> make_multiparty_dialect(const dialect_settings& settings);

}  // namespace parley::load
