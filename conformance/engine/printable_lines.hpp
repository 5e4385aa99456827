// A framer for text protocols whose lines end at LF: each line is handed on through core::printable, so a
// CR before the LF shows as \r and cases check the exact terminator. Used by sslmessager and peerchat.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "conformance/engine/adapter.hpp"
#include "impl/core/encoding.hpp"

namespace parley::conform {

class printable_lines final : public message_framer {
public:
  // More than `limit` bytes without an LF is an error: the peer is not sending lines at all.
  explicit printable_lines(std::size_t limit) : limit_(limit) {}

  void feed(std::string_view bytes) override { pending_.append(bytes); }
  std::optional<std::string> next(std::string& error) override {
    auto lf = pending_.find('\n');
    if (lf == std::string::npos) {
      if (pending_.size() > limit_) error = "more than " + std::to_string(limit_) + " bytes without a line ending";
      return std::nullopt;
    }
    std::string line = pending_.substr(0, lf);
    pending_.erase(0, lf + 1);
    return core::printable(line);
  }
  bool renders_printable() const override { return true; }

private:
  std::size_t limit_;
  std::string pending_;
};

}  // namespace parley::conform
