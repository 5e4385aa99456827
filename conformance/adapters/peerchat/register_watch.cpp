#include "conformance/adapters/peerchat/register_watch.hpp"

#include <deque>
#include <map>
#include <optional>
#include <set>

#include "conformance/engine/line_watch.hpp"
#include "impl/proto/peerchat/rendezvous.hpp"

namespace parley::conform::peerchat_watch {
namespace {

namespace pc = parley::peerchat;

class register_watcher : public session_watcher {
public:
  void sent(const std::string& conn, std::string_view bytes) override {
    for (auto& line : lines_.add(conn, bytes))
      if (line.starts_with("REGISTER ")) pending_[conn].push_back(std::move(line));
  }

  void received(const std::string& conn, const std::string& message) override {
    if (message == "HELLO " + std::string(pc::version2)) greeted_v2_.insert(conn);
    // Success is REGISTERED <name> OK (the original) or REGISTER <name> OK (the seed's spelling).
    auto fields = pc::split_fields(message);
    if (fields.size() != 3 || (fields[0] != "REGISTERED" && fields[0] != "REGISTER") || fields[2] != "OK") return;
    // Answers come in the order of the commands, but other commands' answers come between them, so the
    // success is matched by its name. Of the REGISTER lines for that name still unanswered, one succeeded:
    // only when none of them may succeed is the success a violation.
    auto& lines = pending_[conn];
    std::optional<finding> violation;
    std::size_t last = 0;
    bool any = false, one_may_succeed = false;
    for (std::size_t i = 0; i < lines.size(); ++i) {
      auto sent_fields = pc::split_fields(lines[i]);
      if (sent_fields.size() < 2 || sent_fields[1] != fields[1]) continue;
      any = true;
      last = i;
      violation = judge(conn, lines[i], sent_fields);
      if (!violation) one_may_succeed = true;
    }
    if (!any) return;
    if (!one_may_succeed) findings_.push_back(*violation);
    lines.erase(lines.begin(), lines.begin() + static_cast<std::ptrdiff_t>(last) + 1);
  }

  std::vector<finding> verdicts() override { return std::move(findings_); }

private:
  // What is wrong with `line` having been answered with success on `conn`; nullopt: nothing.
  std::optional<finding> judge(const std::string& conn, const std::string& line,
                               const std::vector<std::string_view>& fields) const {
    std::string said = "the server registered '" + (line.size() > 120 ? line.substr(0, 120) + "..." : line) +
                       "' on connection " + conn + ": ";
    if (fields.size() > 3) return finding{"PC-ERR-02", said + "a REGISTER with an extra field must get ERROR Bad_syntax"};
    if (!pc::valid_name(fields[1]))
      return finding{"PC-REG-04", said + "the name is outside the grammar and must get ERROR Invalid_name"};
    // A peerchat/1 server ignores the key field, as the original does; only a peerchat/2 one checks it.
    if (fields.size() == 3 && greeted_v2_.contains(conn) && !pc::parse_public_key(fields[2]))
      return finding{"PC-KEY-02", said + "the key is not ed25519:<64 lower-case hex> of a curve point and must get "
                                         "ERROR Bad_key"};
    return std::nullopt;
  }

  written_lines lines_;
  std::map<std::string, std::deque<std::string>> pending_;  // conn -> REGISTER lines not yet answered
  std::set<std::string> greeted_v2_;                        // conns the server answered HELLO peerchat/2
  std::vector<finding> findings_;
};

}  // namespace

std::unique_ptr<session_watcher> make_register_watcher() { return std::make_unique<register_watcher>(); }

}  // namespace parley::conform::peerchat_watch
