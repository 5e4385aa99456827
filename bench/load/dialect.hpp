// How parley-load speaks a line protocol: the lines that log a user in, the line that sends a message to
// everyone, how a relayed message and a keep-alive look when they arrive. One per protocol; `irc` is there
// so the same workload can be measured against an IRC server (ngIRCd) beside the reference servers.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace parley::load {

class dialect {
public:
  virtual ~dialect() = default;
  // What a connection sends right after it connects to become user `name`.
  virtual std::string login(const std::string& name) const = 0;
  // Whether `line` (terminator removed) completes the login of `name`.
  virtual bool logged_in(std::string_view line, const std::string& name) const = 0;
  // A refusal of the login, which ends the run with the line as the reason.
  virtual bool refused(std::string_view line) const = 0;
  // Appends the line that sends `body` to every other user.
  virtual void append_broadcast(std::string& out, std::string_view body) const = 0;
  // The body of a message relayed from another user; nullopt for any other line.
  virtual std::optional<std::string_view> relayed(std::string_view line) const = 0;
  // Appends the answer a keep-alive probe needs (itp PING, IRC PING); false when `line` is none.
  virtual bool answer_probe(std::string& out, std::string_view line) const = 0;
  // A request the server answers to its sender alone, and whether `line` is that answer (rtt mode).
  virtual void append_request(std::string& out, std::string_view token) const = 0;
  virtual bool is_reply(std::string_view line, std::string_view token) const = 0;
};

// "itp" or "irc"; nullptr for any other name. `idle`: the users will only idle (hold mode), so an IRC user
// registers without joining the channel; an itp login is announced to everyone whatever the mode.
std::unique_ptr<dialect> make_dialect(const std::string& protocol, bool idle);

}  // namespace parley::load
