#include "conformance/adapters/itp/broadcast_watch.hpp"

#include <set>
#include <utility>

#include "conformance/engine/line_watch.hpp"
#include "conformance/engine/relay_trace.hpp"

namespace parley::conform::itp_watch {
namespace {

// "WORD rest": the rest after the first space ("" when there is none).
std::string rest_after_word(const std::string& line) {
  auto sp = line.find(' ');
  return sp == std::string::npos ? std::string{} : line.substr(sp + 1);
}

class sender_watcher : public session_watcher {
public:
  void sent(const std::string& conn, std::string_view bytes) override {
    for (const auto& line : lines_.add(conn, bytes)) {
      if (line.starts_with("BCST ")) broadcasts_[conn].insert(rest_after_word(line));
      // PM <to> <body>: the body is what the recipient's NPM carries.
      if (line.starts_with("PM ")) pms_[conn].insert(rest_after_word(rest_after_word(line)));
    }
  }

  void received(const std::string& conn, const std::string& message) override {
    if (message.starts_with("OK IDENT ")) names_[conn] = message.substr(9);
    bool bcst = message.starts_with("BCST ");
    if (!bcst && !message.starts_with("NPM ")) return;
    std::string from_and_text = rest_after_word(message);
    auto sp = from_and_text.find(' ');
    if (sp == std::string::npos) return;
    relays_.push_back({bcst, from_and_text.substr(0, sp), from_and_text.substr(sp + 1)});
  }

  // Each relay is traced to the connections that sent its text. One of them logged in under the name the
  // relay gives: all is well. Else one logged in under another name: the server named the wrong sender. A
  // relay no connection of the session explains (another client of a shared server) is not judged.
  std::vector<finding> verdicts() override {
    std::vector<finding> out;
    for (const auto& r : relays_) {
      // What a connection with no name sent is not judged here.
      auto origin = trace_relay(r.text, r.from, r.broadcast ? broadcasts_ : pms_, names_,
                                [](const std::string&) { return true; }, "logged in as");
      if (origin.rightful || origin.other.empty()) continue;
      const std::string& other = origin.other;
      std::string what = r.broadcast ? "BCST" : "NPM";
      out.push_back({r.broadcast ? "ITP-BCST-02" : "ITP-PM-01",
                     "the server relayed a " + what + " as from " + r.from + ", but connection " + other + " sent it"});
    }
    return out;
  }

private:
  struct relay {
    bool broadcast;
    std::string from, text;
  };
  written_lines lines_;
  std::map<std::string, std::set<std::string>> broadcasts_, pms_;  // conn -> texts / bodies it sent
  std::map<std::string, std::string> names_;                       // conn -> logged-in name
  std::vector<relay> relays_;
};

}  // namespace

std::unique_ptr<session_watcher> make_sender_watcher() { return std::make_unique<sender_watcher>(); }

}  // namespace parley::conform::itp_watch
