// How parley-load speaks a line protocol: the lines that log a user in, the lines that send a message to
// everyone, how a relayed message and a keep-alive look when they arrive. One per protocol; `irc` is there
// so the same workload can be measured against an IRC server (ngIRCd) beside the reference servers.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

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
};

class dialect {
public:
  virtual ~dialect() = default;
  // Sent once the connection is up, before the login (a WebSocket upgrade); "" for none.
  virtual std::string greeting(const std::string& /*host*/, unsigned short /*port*/) const { return {}; }
  // Consumes the answer to the greeting from `in`: true once it is whole and right; false with `problem`
  // set when it is wrong, with `problem` empty while it is incomplete.
  virtual bool take_greeting_answer(std::string& /*in*/, std::string& /*problem*/) const { return true; }
  // The next unit the server sent, from `begin` in `in` (which moves past it): a line without its
  // terminator, or a WebSocket message (`partial` holds one that came in fragments). nullopt when more
  // bytes are needed, or with `problem` set when the bytes cannot be read.
  virtual std::optional<std::string_view> next_unit(const std::string& in, std::size_t& begin, std::string& partial,
                                                    std::string& problem) const;
  // What a connection sends right after it connects to become user `name`.
  virtual std::string login(const std::string& name) const = 0;
  // Whether `line` (terminator removed) completes the login of `name`.
  virtual bool logged_in(std::string_view line, const std::string& name) const = 0;
  // A refusal of the login, which ends the run with the line as the reason.
  virtual bool refused(std::string_view line) const = 0;
  // Whether the connection speaks TLS (sslmessager; peerchat with --tls).
  virtual bool tls() const { return false; }
  // Whether the server relays messages between users, so that fanout and all-to-all mean something
  // (peerchat's rendezvous server does not: its users chat peer to peer).
  virtual bool relays() const { return true; }
  // Appends what user `sender` sends so that `body` reaches every other user: one line, or one per
  // receiver where the protocol has no broadcast (sslmessager's MSG names its target).
  virtual void append_broadcast(std::string& out, std::size_t sender, std::string_view body) const = 0;
  // The body of a message relayed from another user; nullopt for any other line.
  virtual std::optional<std::string_view> relayed(std::string_view line) const = 0;
  // Appends the answer a keep-alive probe needs (itp PING, IRC PING; nothing for sslmessager's CHECK);
  // false when `line` is none.
  virtual bool answer_probe(std::string& out, std::string_view line) const = 0;
  // A request the server answers to its sender alone, and whether `line` is that answer (rtt mode).
  virtual void append_request(std::string& out, std::string_view token) const = 0;
  virtual bool is_reply(std::string_view line, std::string_view token) const = 0;
};

// "itp", "securechat", "sslmessager", "peerchat" or "irc"; nullptr for any other name. With `idle` an IRC user registers without
// joining the channel (an itp login is announced to everyone whatever the mode).
std::unique_ptr<dialect> make_dialect(const std::string& protocol, const dialect_settings& settings);
// securechat's (bench/load/securechat_dialect.cpp); throws std::runtime_error for a key it cannot use.
std::unique_ptr<dialect> make_securechat_dialect(const dialect_settings& settings);

}  // namespace parley::load
