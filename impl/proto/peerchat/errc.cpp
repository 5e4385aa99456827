#include "impl/proto/peerchat/errc.hpp"

#include <string>

namespace parley::peerchat {
namespace {

class category final : public std::error_category {
public:
  const char* name() const noexcept override { return "parley.peerchat"; }
  std::string message(int value) const override {
    switch (static_cast<errc>(value)) {
      case errc::unknown_command: return "unknown command";
      case errc::bad_syntax: return "missing, empty or extra field";
      case errc::invalid_name: return "invalid user name";
      case errc::bad_key: return "public key is not ed25519:<64 lower-case hex> of a valid point";
      case errc::malformed_datagram: return "malformed datagram";
      case errc::too_short: return "peerchat/2 datagram too short";
      case errc::unknown_kind: return "not a peerchat/2 datagram of a known kind";
      case errc::wrong_peer: return "HELLO from another user or with another ephemeral key";
      case errc::no_keys: return "sealed record before the handshake";
      case errc::bad_tag: return "record does not authenticate";
      case errc::replayed: return "record replayed or too old";
      case errc::bad_record: return "record of unknown type or wrong length";
      case errc::bad_signature: return "AUTH signature does not verify";
      case errc::not_connected: return "peer not accepted yet";
      case errc::weak_secret: return "X25519 gave the all-zero secret";
      case errc::exhausted: return "record sequence numbers exhausted";
    }
    return "unknown peerchat error";
  }
};

}  // namespace

const std::error_category& peerchat_category() noexcept {
  static const category instance;
  return instance;
}

}  // namespace parley::peerchat
