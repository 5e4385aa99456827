#include "impl/core/errc.hpp"

#include <string>

namespace parley::core {
namespace {

class category final : public std::error_category {
public:
  const char* name() const noexcept override { return "parley.core"; }
  std::string message(int value) const override {
    switch (static_cast<errc>(value)) {
      case errc::invalid_hex: return "invalid hex string";
      case errc::invalid_base64: return "invalid base64 string";
      case errc::line_too_long: return "line longer than the limit";
      case errc::crypto_failure: return "cryptographic operation failed";
      case errc::authentication_failed: return "authentication failed";
      case errc::invalid_key: return "invalid or unacceptable key";
      case errc::key_not_found: return "key not found";
      case errc::io_failure: return "file could not be read or written";
    }
    return "unknown core error";
  }
};

}  // namespace

const std::error_category& core_category() noexcept {
  static const category instance;
  return instance;
}

}  // namespace parley::core
