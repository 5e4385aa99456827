// securechat (spec/securechat/spec.md) for parley-load: JSON messages over WebSocket. A user joins with a
// JoinMessage signed with the run's RSA key (every user's key store entry holds its public half), and is in
// at the WelcomeMessage. A PublicMessage reaches every other user as RoutedPublicMessage. rtt mode times a
// PrivateMessage to a user who is not joined against the ErrorMessage that answers it with its id.
#include <random>
#include <stdexcept>

#include "bench/load/dialect.hpp"
#include "impl/core/crypto/sign.hpp"
#include "impl/core/encoding.hpp"
#include "impl/net/ws_frames.hpp"

namespace parley::load {
namespace {

bool contains(std::string_view s, std::string_view what) { return s.find(what) != std::string_view::npos; }

// The string value of the member `quoted_key` (with its quotes: "\"text\"") in a flat JSON object whose
// values hold no escaped quote (parley-load's texts and names never do); nullopt when it is not there.
std::optional<std::string_view> string_field(std::string_view json, std::string_view quoted_key) {
  auto at = json.find(quoted_key);
  if (at == std::string_view::npos) return std::nullopt;
  at = json.find_first_not_of(" \t", at + quoted_key.size());
  if (at == std::string_view::npos || json[at] != ':') return std::nullopt;
  at = json.find_first_not_of(" \t", at + 1);
  if (at == std::string_view::npos || json[at] != '"') return std::nullopt;
  auto end = json.find('"', at + 1);
  if (end == std::string_view::npos) return std::nullopt;
  return json.substr(at + 1, end - at - 1);
}

class securechat final : public dialect {
public:
  explicit securechat(const dialect_settings& s) : mask_(std::random_device{}()) {
    auto key = core::pkey::from_private_pem(s.key_pem);
    if (!key || key->type() != core::key_type::rsa) throw std::runtime_error("securechat needs an RSA private key");
    key_ = *key;
    nobody_ = s.name_prefix + "-offline";
  }

  std::string greeting(const std::string& host, unsigned short port) const override {
    return net::ws_frames::upgrade_request(host, port);
  }
  bool take_greeting_answer(std::string& in, std::string& problem) const override {
    return net::ws_frames::take_upgrade_answer(in, problem);
  }
  std::optional<std::string_view> next_unit(std::size_t, const std::string& in, std::size_t& begin,
                                            std::string& partial, std::string&, std::string& problem) override {
    return net::ws_frames::next_message(in, begin, partial, problem);
  }

  // SC-JOIN-03: the signed bytes are {"name": "<name>"} exactly.
  std::string login(std::size_t, const std::string& name) override {
    std::string signed_bytes = "{\"name\": \"" + name + "\"}";
    auto signature = core::sign(key_, core::signature_scheme::rsa_pkcs1_sha256, as_bytes(signed_bytes));
    if (!signature) throw std::runtime_error("cannot sign the join of " + name);
    std::string out;
    frame(out, "{\"_command\": \"JoinMessage\", \"id\": \"join-" + name + "\", \"name\": \"" + name +
                   "\", \"signature\": \"" + core::to_hex(*signature) + "\"}");
    return out;
  }
  bool logged_in(std::string_view message, const std::string&) const override {
    return string_field(message, "\"_command\"") == "WelcomeMessage";
  }
  bool refused(std::string_view message) const override {
    return string_field(message, "\"_command\"") == "ErrorMessage";
  }
  void append_broadcast(std::string& out, std::size_t, std::string_view body) override {
    message_ = "{\"_command\": \"PublicMessage\", \"id\": \"m\", \"text\": \"";
    message_.append(body).append("\"}");
    frame(out, message_);
  }
  std::optional<std::string_view> relayed(std::string_view message) const override {
    if (!contains(message, "\"RoutedPublicMessage\"")) return std::nullopt;
    return string_field(message, "\"text\"");
  }
  bool answer_probe(std::string&, std::string_view) const override { return false; }
  void append_request(std::size_t, std::string& out, std::string_view token) override {
    frame(out, "{\"_command\": \"PrivateMessage\", \"id\": \"" + std::string(token) + "\", \"to_name\": \"" +
                   nobody_ + "\", \"encrypted_text\": \"00\"}");
  }
  bool is_reply(std::string_view message, std::string_view token) const override {
    return string_field(message, "\"_command\"") == "ErrorMessage" && string_field(message, "\"ref_message_id\"") == token;
  }

private:
  void frame(std::string& out, std::string_view json) const { net::ws_frames::append_text_frame(out, json, mask_); }

  core::pkey key_;
  std::string nobody_;
  std::uint32_t mask_;
  std::string message_;  // reused: no allocation per message
};

}  // namespace

std::unique_ptr<dialect> make_securechat_dialect(const dialect_settings& settings) {
  return std::make_unique<securechat>(settings);
}

}  // namespace parley::load
