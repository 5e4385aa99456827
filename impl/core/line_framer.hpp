// Splits a TCP byte stream into lines. Bytes arrive in arbitrary chunks (ITP-FRAME-02/03); the framer keeps
// what has no terminator yet and refuses to keep more than `max_line` bytes of it, so a peer that never sends
// a newline costs bounded memory.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "impl/core/errc.hpp"
#include "impl/core/result.hpp"

namespace parley::core {

struct line_framer_options {
  std::size_t max_line = 1024;     // bytes per line, terminator excluded
  // Treat "\r" not followed by "\n" as a terminator too. A CRLF split between two reads then yields the
  // line and an empty line, so users of this mode ignore empty lines.
  bool lone_cr_terminates = false;
};

struct framed_line {
  std::string text;        // without the terminator
  std::string terminator;  // "\n", "\r\n" or "\r"
};

class line_framer {
public:
  explicit line_framer(line_framer_options options = {}) : options_(options) {}

  // Appends received bytes. Never fails: limits are checked by next().
  void feed(std::string_view data) { pending_.append(data); }

  // The next complete line; std::nullopt when more bytes are needed; errc::line_too_long when a line
  // (complete or not) exceeds max_line. After that error the framer is poisoned: the stream has lost
  // its framing and every later call returns the same error.
  result<std::optional<framed_line>> next();

  // Bytes received that do not yet form a line.
  std::size_t pending_size() const noexcept { return pending_.size() - consumed_; }

private:
  line_framer_options options_;
  std::string pending_;
  std::size_t consumed_ = 0;
  bool poisoned_ = false;
};

}  // namespace parley::core
