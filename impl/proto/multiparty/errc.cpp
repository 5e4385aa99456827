#include "impl/proto/multiparty/errc.hpp"

#include <string>

namespace parley::multiparty {
namespace {

class category final : public std::error_category {
public:
  const char* name() const noexcept override { return "parley.multiparty"; }
  std::string message(int value) const override {
    switch (static_cast<errc>(value)) {
      case errc::bad_version: return "unsupported protocol version";
      case errc::bad_length: return "len does not match the frame";
      case errc::unknown_type: return "unknown message type";
      case errc::bad_tag: return "the GCM tag does not verify";
      case errc::bad_login: return "malformed or undecryptable login message";
      case errc::bad_signature: return "the login signature does not verify";
      case errc::stale_login: return "the login timestamp is too far from the server's clock";
      case errc::bad_payload: return "malformed payload";
      case errc::decrypt_failed: return "the message part does not decrypt";
    }
    return "unknown multiparty error";
  }
};

}  // namespace

const std::error_category& multiparty_category() noexcept {
  static const category instance;
  return instance;
}

}  // namespace parley::multiparty
