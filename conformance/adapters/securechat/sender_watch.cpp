#include "conformance/adapters/securechat/sender_watch.hpp"

#include <map>
#include <set>
#include <variant>

#include "conformance/engine/relay_trace.hpp"
#include "impl/proto/securechat/codec.hpp"

namespace parley::conform::securechat_watch {
namespace {

namespace sc = parley::securechat;

// The message a text decodes to, if it is one (a mutated message that is not is no relay's source).
const sc::message* decoded_message(const sc::decoded& d) {
  auto* e = std::get_if<sc::envelope>(&d);
  return e ? &e->body : nullptr;
}

class sender_watcher : public session_watcher {
public:
  explicit sender_watcher(join_verifier verify) : verify_(std::move(verify)) {}

  // A WebSocket connection writes one message per send, so `bytes` is one message's text.
  void sent(const std::string& conn, std::string_view bytes) override {
    auto d = sc::decode(bytes);
    const sc::message* m = decoded_message(d);
    if (!m) return;
    if (auto* j = std::get_if<sc::msg::join>(m)) {
      last_join_[conn] = j->name;
      std::optional<bool> valid = verify_ ? verify_(j->name, j->signature) : std::nullopt;
      unanswered_joins_[conn].push_back({j->name, valid.value_or(true)});
    }
    if (auto* p = std::get_if<sc::msg::public_text>(m)) publics_[conn].insert(p->text);
    if (auto* p = std::get_if<sc::msg::private_text>(m)) privates_[conn].insert(p->to_name + '\n' + p->encrypted_text);
  }

  void received(const std::string& conn, const std::string& message) override {
    auto d = sc::decode(message);
    const sc::message* m = decoded_message(d);
    if (!m) return;
    // A Welcome answers the connection's latest join: its name is the connection's from now on.
    if (std::holds_alternative<sc::msg::welcome>(*m) && last_join_.contains(conn)) {
      names_[conn] = last_join_[conn];
      judge_welcome(conn);
    }
    if (auto* r = std::get_if<sc::msg::routed_public>(m)) relays_.push_back({true, r->from_name, r->text});
    if (auto* r = std::get_if<sc::msg::routed_private>(m))
      relays_.push_back({false, r->from_name, r->to_name + '\n' + r->encrypted_text});
  }

  // Each relay is traced to the connections that sent its text. One of them joined under the relay's
  // from_name: all is well. Else one joined under another name: the server named the wrong sender. Else one
  // that never sent a join: the server routed what an anonymous connection sent. A relay no connection of the
  // session explains (another client of a shared server) is not judged.
  std::vector<finding> verdicts() override {
    std::vector<finding> out = std::move(welcomed_bad_joins_);
    for (const auto& r : relays_) {
      // A connection that sent a join may have been welcomed unread (it was closed before the answer came).
      auto origin = trace_relay(r.text, r.from, r.is_public ? publics_ : privates_, names_,
                                [&](const std::string& conn) { return last_join_.contains(conn); }, "joined as");
      if (origin.rightful) continue;
      const std::string& other = origin.other;
      const std::string& anonymous = origin.anonymous;
      std::string what = r.is_public ? "RoutedPublicMessage" : "RoutedPrivateMessage";
      if (!other.empty())
        out.push_back({r.is_public ? "SC-PUB-02" : "SC-PRIV-02",
                       "the server routed a " + what + " from_name " + r.from + ", but connection " + other + " sent it"});
      else if (!anonymous.empty())
        out.push_back({"SC-JOIN-02", "the server routed a " + what + " of what connection " + anonymous +
                                         " sent without having joined"});
    }
    return out;
  }

private:
  struct sent_join {
    std::string name;
    bool may_be_welcomed;  // its signature verifies, or the watcher cannot tell
  };

  // A Welcome answers one of the joins the connection sent since the last one; which, the watcher cannot
  // know. Only when none of them may be welcomed did the server accept a signature it must refuse.
  void judge_welcome(const std::string& conn) {
    auto joins = std::move(unanswered_joins_[conn]);
    unanswered_joins_.erase(conn);
    if (joins.empty()) return;
    for (const auto& j : joins)
      if (j.may_be_welcomed) return;
    welcomed_bad_joins_.push_back({"SC-JOIN-04", "the server welcomed connection " + conn + " after a JoinMessage for " +
                                                     joins.back().name + " whose signature does not verify with " +
                                                     joins.back().name + "'s public key: it must answer Invalid signature and close"});
  }

  struct relay {
    bool is_public;
    std::string from, text;  // private: to_name LF encrypted_text
  };
  std::map<std::string, std::string> last_join_;                  // conn -> the name of its latest JoinMessage
  std::map<std::string, std::string> names_;                      // conn -> joined name
  std::map<std::string, std::set<std::string>> publics_, privates_;  // conn -> what it sent
  std::vector<relay> relays_;
  join_verifier verify_;
  std::map<std::string, std::vector<sent_join>> unanswered_joins_;  // conn -> joins sent since its last Welcome
  std::vector<finding> welcomed_bad_joins_;
};

}  // namespace

std::unique_ptr<session_watcher> make_sender_watcher(join_verifier verify) {
  return std::make_unique<sender_watcher>(std::move(verify));
}

}  // namespace parley::conform::securechat_watch
