#include "conformance/adapters/sslmessager/relay_watch.hpp"

#include <set>
#include <utility>

#include "conformance/engine/line_watch.hpp"
#include "conformance/engine/relay_trace.hpp"

namespace parley::conform::sslmessager_watch {
namespace {

class relay_watcher : public session_watcher {
public:
  void sent(const std::string& conn, std::string_view bytes) override {
    for (const auto& line : lines_.add(conn, bytes)) {
      auto w = words_of(line, 3);
      if (w.size() == 3 && w[0] == "MSG") msgs_[conn].insert({w[1], w[2]});
      if (!w.empty() && w[0] == "AUTH") authenticating_.insert(conn);
    }
  }

  void received(const std::string& conn, const std::string& message) override {
    auto w = words_of(message, 3);
    if (w.size() >= 2 && w[0] == "ACCEPT") names_[conn] = w[1];
    if (w.size() == 3 && w[0] == "RELAY") relays_.emplace_back(w[1], w[2]);
  }

  // Each RELAY is traced to the connections that sent a MSG with its target and sender. One of them logged
  // in as that sender: all is well. Else one logged in as someone else: the server took a forged sender.
  // Else one that never sent an AUTH: the server relayed a MSG sent before AUTH. A RELAY no connection of the
  // session explains (another client of a shared server) is not judged.
  std::vector<finding> verdicts() override {
    std::vector<finding> out;
    for (const auto& [target, sender] : relays_) {
      // A connection that sent an AUTH may have been accepted unread (it was closed before its answer came).
      auto origin = trace_relay(std::pair{target, sender}, sender, msgs_, names_,
                                [&](const std::string& conn) { return authenticating_.contains(conn); }, "logged in as");
      if (origin.rightful) continue;
      const std::string& forger = origin.other;
      const std::string& anonymous = origin.anonymous;
      if (!forger.empty())
        out.push_back({"SSLM-MSG-02", "the server relayed 'RELAY " + target + " " + sender + " ...', sent as " + sender +
                                          " by connection " + forger + ": it accepted a forged sender"});
      else if (!anonymous.empty())
        out.push_back({"SSLM-AUTH-01", "the server relayed 'RELAY " + target + " " + sender +
                                           " ...', a MSG that connection " + anonymous + " sent before any ACCEPT"});
    }
    return out;
  }

private:
  written_lines lines_;
  std::map<std::string, std::set<std::pair<std::string, std::string>>> msgs_;  // conn -> (target, sender)
  std::map<std::string, std::string> names_;                                    // conn -> accepted name
  std::set<std::string> authenticating_;                                        // conns that sent an AUTH
  std::vector<std::pair<std::string, std::string>> relays_;                     // (target, sender)
};

}  // namespace

std::unique_ptr<session_watcher> make_relay_watcher() { return std::make_unique<relay_watcher>(); }

}  // namespace parley::conform::sslmessager_watch
