#include "impl/proto/itp/errc.hpp"

#include <string>

namespace parley::itp {
namespace {

class category final : public std::error_category {
public:
  const char* name() const noexcept override { return "parley.itp"; }
  std::string message(int value) const override {
    switch (static_cast<errc>(value)) {
      case errc::unknown_command: return "unknown command";
      case errc::missing_argument: return "missing argument";
      case errc::line_too_long: return "line too long";
      case errc::invalid_key: return "public key is not base64 DER of an RSA key of 1024 to 4096 bits";
      case errc::invalid_token: return "malformed session key or message token";
      case errc::decrypt_failed: return "could not decrypt or authenticate";
    }
    return "unknown itp error";
  }
};

}  // namespace

const std::error_category& itp_category() noexcept {
  static const category instance;
  return instance;
}

}  // namespace parley::itp
