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
  // A WebSocket connection writes one message per send, so `bytes` is one message's text.
  void sent(const std::string& conn, std::string_view bytes) override {
    auto d = sc::decode(bytes);
    const sc::message* m = decoded_message(d);
    if (!m) return;
    if (auto* j = std::get_if<sc::msg::join>(m)) last_join_[conn] = j->name;
    if (auto* p = std::get_if<sc::msg::public_text>(m)) publics_[conn].insert(p->text);
    if (auto* p = std::get_if<sc::msg::private_text>(m)) privates_[conn].insert(p->to_name + '\n' + p->encrypted_text);
  }

  void received(const std::string& conn, const std::string& message) override {
    auto d = sc::decode(message);
    const sc::message* m = decoded_message(d);
    if (!m) return;
    // A Welcome answers the connection's latest join: its name is the connection's from now on.
    if (std::holds_alternative<sc::msg::welcome>(*m) && last_join_.contains(conn)) names_[conn] = last_join_[conn];
    if (auto* r = std::get_if<sc::msg::routed_public>(m)) relays_.push_back({true, r->from_name, r->text});
    if (auto* r = std::get_if<sc::msg::routed_private>(m))
      relays_.push_back({false, r->from_name, r->to_name + '\n' + r->encrypted_text});
  }

  // Each relay is traced to the connections that sent its text. One of them joined under the relay's
  // from_name: all is well. Else one joined under another name: the server named the wrong sender. Else one
  // that never sent a join: the server routed what an anonymous connection sent. A relay no connection of the
  // session explains (another client of a shared server) is not judged.
  std::vector<finding> verdicts() override {
    std::vector<finding> out;
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
  struct relay {
    bool is_public;
    std::string from, text;  // private: to_name LF encrypted_text
  };
  std::map<std::string, std::string> last_join_;                  // conn -> the name of its latest JoinMessage
  std::map<std::string, std::string> names_;                      // conn -> joined name
  std::map<std::string, std::set<std::string>> publics_, privates_;  // conn -> what it sent
  std::vector<relay> relays_;
};

}  // namespace

std::unique_ptr<session_watcher> make_sender_watcher() { return std::make_unique<sender_watcher>(); }

}  // namespace parley::conform::securechat_watch
