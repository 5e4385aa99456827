// The lines a client under test sends, read as a lenient server reads them (ITP-FRAME-01, ITP-FRAME-06):
// LF, CR LF and a lone CR all end a line, so every case sees the client's commands whatever its line
// ends. A lone CR is the client's defect (ITP-CLIENT-04: LF or CR LF), reported once as a finding, so one
// defect of form is one FAIL and not a failure of every case that reads a line.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "conformance/engine/adapter.hpp"
#include "impl/core/line_framer.hpp"

namespace parley::conform::itp_lines {

class client_lines final : public message_framer {
public:
  // A client's line may be long (PM_PUBKEY of a 4096-bit key); ITP-CLIENT-08's cases read its length.
  client_lines() : framer_({.max_line = 256 * 1024, .lone_cr_terminates = true}) {}

  void feed(std::string_view bytes) override { framer_.feed(bytes); }

  std::optional<std::string> next(std::string& error) override {
    for (;;) {
      auto line = framer_.next();
      if (!line) {
        error = "a line longer than 256 KiB";
        return std::nullopt;
      }
      if (!*line) return std::nullopt;
      bool after_cr = std::exchange(cr_at_end_, false);
      // A CR that ended the bytes read so far may be the first half of a CR LF split between reads:
      // the LF then comes as an empty line, which is no line at all.
      if (after_cr && (*line)->text.empty() && (*line)->terminator == "\n") continue;
      if (after_cr) lone_cr();  // the byte after that CR was not an LF
      if ((*line)->terminator == "\r") {
        if (framer_.pending_size() == 0) cr_at_end_ = true;  // not known yet
        else lone_cr();
      }
      return std::move((*line)->text);
    }
  }

  std::vector<finding> take_findings() override { return std::exchange(findings_, {}); }

private:
  void lone_cr() {
    if (lone_crs_++ == 0)
      findings_.push_back({"ITP-CLIENT-04", "a client line ended in a lone CR; a client ends its lines with LF or CR LF"});
  }

  core::line_framer framer_;
  bool cr_at_end_ = false;
  int lone_crs_ = 0;
  std::vector<finding> findings_;
};

}  // namespace parley::conform::itp_lines
