#include "conformance/adapters/multiparty/sender_watch.hpp"

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "conformance/engine/relay_trace.hpp"

namespace parley::conform::multiparty_watch {
namespace {

// "<type> sid=<hex> uid=<hex> | <payload, escaped>" (mp::line_of), in its parts.
struct frame_line {
  std::string type, uid, payload;
};

std::optional<frame_line> read_line(const std::string& text) {
  auto type_end = text.find(" sid=");
  auto uid_at = text.find(" uid=");
  auto bar = text.find(" | ");
  if (type_end == std::string::npos || uid_at == std::string::npos || bar == std::string::npos || uid_at > bar)
    return std::nullopt;
  return frame_line{text.substr(0, type_end), text.substr(uid_at + 5, bar - uid_at - 5), text.substr(bar + 3)};
}

// The parts of a msg_req payload: its lines "<uidhex> <part64>", escaped, so LF shows as the two
// characters \n.
std::vector<std::string> parts_of(const std::string& escaped_payload) {
  std::vector<std::string> parts;
  std::size_t at = 0;
  while (at < escaped_payload.size()) {
    auto end = escaped_payload.find("\\n", at);
    std::string line = escaped_payload.substr(at, end == std::string::npos ? std::string::npos : end - at);
    if (auto sp = line.find(' '); sp != std::string::npos && sp + 1 < line.size()) parts.push_back(line.substr(sp + 1));
    if (end == std::string::npos) break;
    at = end + 2;
  }
  return parts;
}

class sender_watcher : public session_watcher {
public:
  void sent(const std::string&, std::string_view) override {}  // sealed: sent_sealed says what it held

  void sent_sealed(const std::string& conn, const std::string& message) override {
    auto f = read_line(message);
    if (!f) return;
    if (f->type == "login_req") login_uid_[conn] = f->uid;
    if (f->type == "msg_req")
      for (auto& part : parts_of(f->payload)) parts_[conn].insert(std::move(part));
  }

  void received(const std::string& conn, const std::string& message) override {
    auto f = read_line(message);
    if (!f) return;
    // A login_res the engine could open and key from answers the connection's login_req.
    if (f->type == "login_res" && login_uid_.contains(conn)) uids_[conn] = login_uid_[conn];
    if (f->type == "msg_req")
      for (auto& part : parts_of(f->payload)) forwards_.push_back({f->uid, std::move(part)});
  }

  // Each forwarded part is traced to the connections that sent it. One of them is logged in under the
  // forward's uid: all is well. Else one is logged in under another uid: the server named the wrong
  // sender. A part no logged-in connection of the session sent (another client of a shared server) is
  // not judged.
  std::vector<finding> verdicts() override {
    std::vector<finding> out;
    for (const auto& f : forwards_) {
      auto origin = trace_relay(f.part, f.uid, parts_, uids_, [](const std::string&) { return true; }, "logged in as uid");
      if (origin.rightful || origin.other.empty()) continue;
      const std::string& other = origin.other;
      out.push_back({"MP-MSG-04", "the server forwarded a msg_req line with uid " + f.uid + ", but connection " +
                                      other + " sent it: its recipient opens the part as from another user"});
    }
    return out;
  }

private:
  struct forward {
    std::string uid, part;
  };
  std::map<std::string, std::string> login_uid_;              // conn -> the uid of its latest login_req
  std::map<std::string, std::string> uids_;                   // conn -> the uid it is logged in as
  std::map<std::string, std::set<std::string>> parts_;        // conn -> the parts its msg_reqs carried
  std::vector<forward> forwards_;
};

}  // namespace

std::unique_ptr<session_watcher> make_sender_watcher() { return std::make_unique<sender_watcher>(); }

}  // namespace parley::conform::multiparty_watch
