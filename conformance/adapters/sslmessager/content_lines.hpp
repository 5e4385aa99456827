// How the engine reads an sslmessager peer: as the spec's receiver does (spec §4.2). A message ends at an
// LF; a CR before it and then one SP are removed, and cases match what is left, the content (`ACCEPT aaa`
// for `ACCEPT aaa \r\n`). Bytes that stop arriving without an LF become a message once more bytes come
// after the fragment timeout (SSLM-FRAME-05). Empty messages are ignored (SSLM-FRAME-07).
//
// The exact form a sender must write, `<content> SP CR LF` (SSLM-FRAME-01), is checked here once per
// connection: a line without the SP, with a bare LF, without any line ending, or with a CR inside is one
// finding against SSLM-FRAME-01, so one defect of form is one FAIL and not a failure of every case that
// reads a line.
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
  explicit sslmessager_lines(std::size_t limit) : limit_(limit) {}

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

private:
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
    if (defect.empty() && body.find('\r') != std::string::npos) defect = "its content holds a CR";
    if (!defect.empty()) report(line, defect);
    if (body.empty()) return;  // SSLM-FRAME-07: an empty message is ignored
    std::string content = core::printable(body);
    if (content.starts_with("ACCEPT ")) logged_in_ = true;
    if (content == "END" || content.starts_with("END ")) logged_in_ = false;
    ready_.push_back(std::move(content));
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
  bool logged_in_ = false;
};

}  // namespace parley::conform
