#include "bench/load/dialect.hpp"

#include <vector>

namespace parley::load {
namespace {

bool starts(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

// itp (spec/itp/spec.md): IDENT logs in, BCST reaches every other user as "BCST <from> <text>" and its
// sender as "OK BCST <text>", which also serves as the round trip of rtt mode.
class itp final : public dialect {
public:
  std::string login(std::size_t, const std::string& name) override { return "IDENT " + name + "\n"; }
  bool logged_in(std::string_view line, const std::string& name) const override {
    return line.size() == 9 + name.size() && starts(line, "OK IDENT ") && line.substr(9) == name;
  }
  bool refused(std::string_view line) const override { return starts(line, "FAIL") || starts(line, "DSCN"); }
  void append_broadcast(std::string& out, std::size_t, std::string_view body) override {
    out.append("BCST ").append(body).push_back('\n');
  }
  std::optional<std::string_view> relayed(std::string_view line) const override {
    if (!starts(line, "BCST ")) return std::nullopt;
    auto space = line.find(' ', 5);
    if (space == std::string_view::npos) return std::nullopt;
    return line.substr(space + 1);
  }
  bool answer_probe(std::string& out, std::string_view line) const override {
    if (line != "PING") return false;
    out.append("PONG\n");
    return true;
  }
  void append_request(std::size_t, std::string& out, std::string_view token) override { append_broadcast(out, 0, token); }
  bool is_reply(std::string_view line, std::string_view token) const override {
    return starts(line, "OK BCST ") && line.substr(8) == token;
  }
};

// sslmessager (spec/sslmessager/spec.md) over TLS: AUTH with the run's password, ACCEPT means in. MSG names
// one target, so a message to everyone is one MSG per other user, each relayed as "RELAY target sender
// text". A MSG to a user who is not online is answered "CNT <user not online>" to its sender alone: the
// round trip of rtt mode. CHECK is a probe that wants no answer.
class sslmessager final : public dialect {
public:
  explicit sslmessager(const dialect_settings& s) : password_(s.password) {
    for (std::size_t i = 0; i < s.clients; ++i) names_.push_back(user_name(s.name_prefix, i));
    nobody_ = s.name_prefix + "-offline";
  }
  bool tls() const override { return true; }
  std::string login(std::size_t, const std::string& name) override { return "AUTH " + name + " " + password_ + "\r\n"; }
  // The reference server, like the original, ends its lines with a space before CR LF.
  bool logged_in(std::string_view line, const std::string& name) const override {
    if (!starts(line, "ACCEPT ")) return false;
    auto rest = line.substr(7);
    while (!rest.empty() && rest.back() == ' ') rest.remove_suffix(1);
    return rest == name;
  }
  bool refused(std::string_view line) const override { return starts(line, "END"); }
  void append_broadcast(std::string& out, std::size_t sender, std::string_view body) override {
    for (std::size_t i = 0; i < names_.size(); ++i)
      if (i != sender) out.append("MSG ").append(names_[i]).append(" ").append(names_[sender]).append(" ").append(body).append("\r\n");
  }
  std::optional<std::string_view> relayed(std::string_view line) const override {
    if (!starts(line, "RELAY ")) return std::nullopt;
    auto target_end = line.find(' ', 6);
    if (target_end == std::string_view::npos) return std::nullopt;
    auto sender_end = line.find(' ', target_end + 1);
    if (sender_end == std::string_view::npos) return std::nullopt;
    auto text = line.substr(sender_end + 1);
    if (!text.empty() && text.back() == ' ') text.remove_suffix(1);  // the space before CR LF (see logged_in)
    return text;
  }
  bool answer_probe(std::string&, std::string_view line) const override { return line == "CHECK"; }
  void append_request(std::size_t, std::string& out, std::string_view token) override {
    out.append("MSG ").append(nobody_).append(" ").append(names_.at(0)).append(" ").append(token).append("\r\n");
  }
  bool is_reply(std::string_view line, std::string_view) const override { return starts(line, "CNT "); }

private:
  std::string password_;
  std::vector<std::string> names_;
  std::string nobody_;
};

// peerchat's rendezvous server (spec/peerchat/spec.md, §3-5): REGISTER logs in, answered "REGISTERED <name>
// OK". The server relays no messages (two users chat peer to peer over UDP once it has introduced them), so
// only hold and rtt apply; the round trip is HELLO, answered HELLO in every state. With --tls the
// connections speak TLS, as a server started with --tls-cert does.
class peerchat final : public dialect {
public:
  explicit peerchat(bool tls) : tls_(tls) {}
  bool tls() const override { return tls_; }
  bool relays() const override { return false; }
  std::string login(std::size_t, const std::string& name) override { return "REGISTER " + name + "\n"; }
  bool logged_in(std::string_view line, const std::string& name) const override {
    return line.size() == 14 + name.size() && starts(line, "REGISTERED ") && line.substr(11, name.size()) == name &&
           line.substr(11 + name.size()) == " OK";
  }
  bool refused(std::string_view line) const override { return starts(line, "ERROR"); }
  void append_broadcast(std::string&, std::size_t, std::string_view) override {}
  std::optional<std::string_view> relayed(std::string_view) const override { return std::nullopt; }
  bool answer_probe(std::string&, std::string_view) const override { return false; }
  void append_request(std::size_t, std::string& out, std::string_view) override { out.append("HELLO\n"); }
  bool is_reply(std::string_view line, std::string_view) const override { return line == "HELLO"; }

private:
  bool tls_;
};

// IRC (RFC 2812) as ngIRCd speaks it: NICK and USER, then JOIN of one channel; the end of its NAMES list
// (366) means the user is in. PRIVMSG to the channel reaches every other member; PING is answered by the
// server with PONG and carries the token back. Users that only idle join no channel (every JOIN is
// announced to every member, which for thousands of users is a storm, not an idle server): the end of the
// MOTD (376, or 422 without one) after registration means they are in.
class irc final : public dialect {
public:
  explicit irc(bool joins) : joins_(joins) {}
  std::string login(std::size_t, const std::string& name) override {
    return "NICK " + name + "\r\nUSER " + name + " 0 * :parley-load\r\n" + (joins_ ? "JOIN #load\r\n" : "");
  }
  bool logged_in(std::string_view line, const std::string&) const override {
    auto command = command_of(line);
    return joins_ ? command == "366" : command == "376" || command == "422";
  }
  bool refused(std::string_view line) const override {
    auto command = command_of(line);
    return command == "ERROR" || command == "433" || command == "465";
  }
  void append_broadcast(std::string& out, std::size_t, std::string_view body) override {
    out.append("PRIVMSG #load :").append(body).append("\r\n");
  }
  std::optional<std::string_view> relayed(std::string_view line) const override {
    if (!starts(line, ":")) return std::nullopt;
    auto at = line.find(" PRIVMSG #load :");
    if (at == std::string_view::npos) return std::nullopt;
    return line.substr(at + 16);
  }
  bool answer_probe(std::string& out, std::string_view line) const override {
    if (!starts(line, "PING ")) return false;
    out.append("PONG ").append(line.substr(5)).append("\r\n");
    return true;
  }
  void append_request(std::size_t, std::string& out, std::string_view token) override {
    out.append("PING :").append(token).append("\r\n");
  }
  bool is_reply(std::string_view line, std::string_view token) const override {
    return command_of(line) == "PONG" && line.size() > token.size() && line.substr(line.size() - token.size()) == token;
  }

private:
  bool joins_;
  // The command (or numeric reply) of a line, after the ":prefix" a server puts first; the text after it may
  // hold any number ("Highest connection count: 433").
  static std::string_view command_of(std::string_view line) {
    if (starts(line, ":")) {
      auto space = line.find(' ');
      if (space == std::string_view::npos) return {};
      line.remove_prefix(space + 1);
    }
    return line.substr(0, line.find(' '));
  }
};

}  // namespace

std::optional<std::string_view> dialect::next_unit(std::size_t, const std::string& in, std::size_t& begin, std::string&,
                                                  std::string&, std::string&) {
  auto end = in.find('\n', begin);
  if (end == std::string::npos) return std::nullopt;
  std::string_view line(in.data() + begin, end - begin);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  begin = end + 1;
  return line;
}

std::string user_name(const std::string& prefix, std::size_t index) {
  auto digits = std::to_string(index);
  return prefix + std::string(digits.size() < 5 ? 5 - digits.size() : 0, '0') + digits;
}

std::unique_ptr<dialect> make_dialect(const std::string& protocol, const dialect_settings& settings) {
  if (protocol == "itp") return std::make_unique<itp>();
  if (protocol == "sslmessager") return std::make_unique<sslmessager>(settings);
  if (protocol == "securechat") return make_securechat_dialect(settings);
  if (protocol == "multiparty") return make_multiparty_dialect(settings);
  if (protocol == "peerchat") return std::make_unique<peerchat>(settings.tls);
  if (protocol == "irc") return std::make_unique<irc>(!settings.idle);
  return nullptr;
}

}  // namespace parley::load
