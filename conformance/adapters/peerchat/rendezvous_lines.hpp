// The framer of peerchat's rendezvous lines: a line ends at LF, and one CR before it is removed, as the
// spec's receiver reads it (PC-LINE-02). On a connection to a server under test a CR LF terminator breaks
// PC-LINE-01 ("a single LF, never CR LF"): it is reported once, as a finding against PC-LINE-01, instead of
// failing every case that reads a line. A client's CR LF breaks no rule (the server removes the CR), so
// on connections from a client under test it is removed silently.
//
// It also remembers whether the server has ended the session itself (CLOSE, Line_too_long, Server_full),
// so that the engine's farewell is not sent to a session that is already over.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "conformance/engine/adapter.hpp"
#include "impl/core/encoding.hpp"

namespace parley::conform::peerchat_engine {

class rendezvous_lines final : public message_framer {
public:
  // `from_server`: the lines come from a server under test (PC-LINE-01 binds them). More than `limit`
  // bytes without an LF is an error: the peer is not sending lines at all.
  rendezvous_lines(std::size_t limit, bool from_server) : limit_(limit), from_server_(from_server) {}

  void feed(std::string_view bytes) override { pending_.append(bytes); }

  std::optional<std::string> next(std::string& error) override {
    auto lf = pending_.find('\n');
    if (lf == std::string::npos) {
      if (pending_.size() > limit_) error = "more than " + std::to_string(limit_) + " bytes without a line ending";
      return std::nullopt;
    }
    std::string line = pending_.substr(0, lf);
    pending_.erase(0, lf + 1);
    if (line.ends_with('\r')) {
      line.pop_back();
      if (from_server_ && !reported_crlf_) {
        reported_crlf_ = true;
        findings_.push_back({"PC-LINE-01", "the server ended a line with CR LF ('" + core::printable(line + "\r\n") +
                                               "'); the cases read its lines without the CR"});
      }
    }
    if (line == "CLOSE" || line == "ERROR Line_too_long" || line == "ERROR Server_full") ended_by_server_ = true;
    return core::printable(line);
  }

  std::vector<finding> take_findings() override { return std::exchange(findings_, {}); }
  bool renders_printable() const override { return true; }

  // The server wrote a line after which it closes the connection: the session needs no farewell.
  bool ended_by_server() const { return ended_by_server_; }

private:
  std::size_t limit_;
  bool from_server_;
  std::string pending_;
  bool reported_crlf_ = false;
  bool ended_by_server_ = false;
  std::vector<finding> findings_;
};

}  // namespace parley::conform::peerchat_engine
