// The bytes of one wire unit a hub sends, immutable and shared: a broadcast is encoded once and every
// receiver's queue holds the same bytes (the host writes them from there), instead of one copy per receiver.
#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace parley::core {

class payload {
public:
  payload() = default;
  // Implicit: a hub that sends a fresh string per receiver still just passes the string.
  payload(std::string bytes) : bytes_(std::make_shared<const std::string>(std::move(bytes))) {}  // NOLINT
  payload(const char* bytes) : payload(std::string(bytes)) {}                                   // NOLINT

  const std::string& str() const noexcept { return bytes_ ? *bytes_ : nothing(); }
  operator const std::string&() const noexcept { return str(); }  // NOLINT: reads like the string it is
  operator std::string_view() const noexcept { return str(); }    // NOLINT
  const char* data() const noexcept { return str().data(); }
  std::size_t size() const noexcept { return str().size(); }

private:
  static const std::string& nothing() noexcept {
    static const std::string none;
    return none;
  }
  std::shared_ptr<const std::string> bytes_;
};

}  // namespace parley::core
