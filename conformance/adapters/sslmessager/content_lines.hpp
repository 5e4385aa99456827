// How the engine reads an sslmessager peer: as the spec's receiver does (spec §4.2). A message ends at an
// LF; a CR before it and then one SP are removed, and cases match what is left, the content (`ACCEPT aaa`
// for `ACCEPT aaa \r\n`). Bytes that stop arriving without an LF become a message once more bytes come
// after the fragment timeout (SSLM-FRAME-05). Empty messages are ignored (SSLM-FRAME-07).
//
// The exact form a sender must write, `<content> SP CR LF` (SSLM-FRAME-01), is checked here once per
// connection: a line without the SP, with a bare LF, without any line ending, or with a CR inside is one
// finding against SSLM-FRAME-01, so one defect of form is one FAIL and not a failure of every case that
// reads a line.
//
// Reading a client under test, one defect is the client's own: a MSG whose text holds the user's line
// feed (the original client sends `MSG bbb aaa hello\n \r\n`). The receiver reads `MSG bbb aaa hello`
// and an empty message, so cases match the text as typed; the line break is one finding against
// SSLM-CLIENT-03 (a client never sends CR or LF in a text), not against SSLM-FRAME-01. It is told from a
// bare LF terminator by what follows it in the same read (one message is one write): the rest of the
// message, an empty content or a piece that is no client command.
#pragma once

#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "conformance/engine/adapter.hpp"
#include "impl/core/clock.hpp"
#include "impl/core/encoding.hpp"
#include "impl/proto/sslmessager/message.hpp"

namespace parley::conform {

class sslmessager_lines final : public message_framer {
public:
  // More than `limit` bytes without an LF is an error: the peer is not sending lines at all.
  // `reads_client`: the peer is a client under test (its MSG texts are SSLM-CLIENT-03's).
  explicit sslmessager_lines(std::size_t limit, bool reads_client = false) : limit_(limit), reads_client_(reads_client) {}

  void feed(std::string_view bytes) override {
    auto now = clock_type::now();
    // Held bytes followed by silence for the fragment timeout were a whole message (SSLM-FRAME-05).
    if (!pending_.empty() && now - last_feed_ >= sslmessager::fragment_timeout) take(std::exchange(pending_, {}), "");
    last_feed_ = now;
    pending_.append(bytes);
  }

  std::optional<std::string> next(std::string& error) override {
    for (auto lf = pending_.find('\n'); lf != std::string::npos; lf = pending_.find('\n')) {
      bool crlf = lf > 0 && pending_[lf - 1] == '\r';
      std::string body = pending_.substr(0, crlf ? lf - 1 : lf);
      pending_.erase(0, lf + 1);
      if (text_line_break(body, crlf)) continue;
      take(std::move(body), crlf ? "\r\n" : "\n");
    }
    if (pending_.size() > limit_) error = "more than " + std::to_string(limit_) + " bytes without a line ending";
    if (ready_.empty()) return std::nullopt;
    std::string content = std::move(ready_.front());
    ready_.pop_front();
    return content;
  }

  std::vector<finding> take_findings() override { return std::exchange(findings_, {}); }
  bool renders_printable() const override { return true; }

  // Whether the peer's session is open: an ACCEPT was read and no END since (adapter::farewell).
  bool logged_in() const { return logged_in_; }
  bool reads_client() const { return reads_client_; }

private:
  // A client's MSG cut by a CR or LF of its text (see the top): hands on what the receiver reads and
  // reports SSLM-CLIENT-03. False when `body` is no such line.
  bool text_line_break(std::string& body, bool crlf) {
    bool proper_end = crlf && !body.empty() && body.back() == ' ';
    if (!reads_client_ || proper_end || !body.starts_with("MSG ")) return false;
    auto lf = pending_.find('\n');
    if (lf == std::string::npos) return false;  // nothing of the same write follows: a terminator's form
    std::string rest = pending_.substr(0, lf);
    if (!rest.empty() && rest.back() == '\r') rest.pop_back();
    if (!rest.empty() && rest.back() == ' ') rest.pop_back();
    bool command = rest.starts_with("MSG ") || rest.starts_with("AUTH ") || rest == "END";
    if (command) return false;
    std::string shown = core::printable(body) + (crlf ? "\\r\\n" : "\\n") + core::printable(pending_.substr(0, lf + 1));
    pending_.erase(0, lf + 1);
    report_text(shown, crlf ? "a line break (CR LF)" : "a line break (LF)");
    // The cases see what the receiver reads: the message up to the break (one SP removed), then the rest
    // as a message of its own unless it is empty (SSLM-FRAME-03, -07).
    if (!body.empty() && body.back() == ' ') body.pop_back();
    deliver(core::printable(body));
    if (!rest.empty()) deliver(core::printable(rest));
    return true;
  }

  void deliver(std::string content) {
    if (content.starts_with("ACCEPT ")) logged_in_ = true;
    if (content == "END" || content.starts_with("END ")) logged_in_ = false;
    ready_.push_back(std::move(content));
  }

  // One message: its bytes before the line ending, and that ending ("" for a fragment that stopped).
  void take(std::string body, std::string_view ending) {
    std::string line = core::printable(body) + core::printable(ending);
    std::string defect;
    if (ending.empty()) {
      if (!body.empty() && body.back() == '\r') body.pop_back();
      defect = "it has no line ending (no further byte came for 200 ms)";
    } else if (ending == "\n") {
      defect = "it ends with a bare LF, not CR LF";
    }
    if (!body.empty() && body.back() == ' ') body.pop_back();
    else if (defect.empty()) defect = "it has no SP before CR LF";
    if (defect.empty() && body.find('\r') != std::string::npos) {
      if (reads_client_ && body.starts_with("MSG ")) report_text(line, "a CR");
      else defect = "its content holds a CR";
    }
    if (!defect.empty()) report(line, defect);
    if (body.empty()) return;  // SSLM-FRAME-07: an empty message is ignored
    deliver(core::printable(body));
  }

  void report_text(const std::string& shown_line, const std::string& what) {
    if (text_reported_) return;
    text_reported_ = true;
    findings_.push_back({"SSLM-CLIENT-03", "'" + shown_line + "': the text of this MSG holds " + what +
                                               "; a client never sends CR or LF in a text"});
  }

  void report(const std::string& shown_line, const std::string& defect) {
    if (reported_) return;  // the first defect of form on a connection is enough
    reported_ = true;
    findings_.push_back({"SSLM-FRAME-01", "'" + shown_line + "': " + defect +
                                              " (every message is written as <content> SP CR LF)"});
  }

  std::size_t limit_;
  std::string pending_;
  time_point last_feed_{};
  std::deque<std::string> ready_;
  std::vector<finding> findings_;
  bool reported_ = false;
  bool text_reported_ = false;
  bool logged_in_ = false;
  bool reads_client_ = false;
};

}  // namespace parley::conform
