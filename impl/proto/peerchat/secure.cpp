// peerchat/2's handshake and records (spec §8.4-8.5). The identity (long-term key) lives in identity.cpp.
#include "impl/proto/peerchat/secure.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>

#include "impl/core/crypto/chacha.hpp"
#include "impl/core/crypto/digest.hpp"
#include "impl/proto/peerchat/datagram.hpp"

namespace parley::peerchat {
namespace {

constexpr std::uint8_t kind_hello = 0x01;
constexpr std::uint8_t kind_sealed = 0x02;
constexpr std::size_t eph_size = 32;
constexpr std::size_t hello_fixed = 2 + eph_size + 1;  // marker, kind, eph, name_len
constexpr std::size_t sealed_header = 2 + 8;           // marker, kind, seq: also the associated data
constexpr std::size_t auth_body = 1 + 32 + 64;         // flags, pk, sig
constexpr std::uint64_t seq_limit = std::uint64_t{1} << 32;  // PC-REC-02

using eph_key = ephemeral_public;

struct pkey_deleter {
  void operator()(EVP_PKEY* k) const noexcept { EVP_PKEY_free(k); }
};
using pkey_ptr = std::unique_ptr<EVP_PKEY, pkey_deleter>;
struct pctx_deleter {
  void operator()(EVP_PKEY_CTX* c) const noexcept { EVP_PKEY_CTX_free(c); }
};
using pctx_ptr = std::unique_ptr<EVP_PKEY_CTX, pctx_deleter>;

void put_u64(std::string& out, std::uint64_t value) {
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>((value >> shift) & 0xFF));
}

std::uint64_t get_u64(std::string_view in) {
  std::uint64_t value = 0;
  for (std::size_t i = 0; i < 8; ++i) value = (value << 8) | static_cast<std::uint8_t>(in[i]);
  return value;
}

std::array<std::uint8_t, 12> nonce_for(std::uint64_t seq) {
  std::array<std::uint8_t, 12> nonce{};
  for (std::size_t i = 0; i < 8; ++i) nonce[4 + i] = static_cast<std::uint8_t>(seq >> (56 - 8 * i));
  return nonce;
}

std::string auth_message(const bytes& transcript, std::uint8_t side) {
  std::string message = "peerchat/2 auth";
  message += as_chars(transcript);
  message.push_back(static_cast<char>(side));
  return message;
}

// The sliding window of PC-REPLAY-01: the highest seq accepted and which of the 64 below it were seen.
class replay_guard {
public:
  bool fresh(std::uint64_t seq) const noexcept {
    if (seq == 0) return false;  // numbering starts at 1
    if (seq > highest_) return true;
    std::uint64_t back = highest_ - seq;
    return back < replay_window && !(seen_ & (std::uint64_t{1} << back));
  }
  void accept(std::uint64_t seq) noexcept {
    if (seq > highest_) {
      std::uint64_t shift = seq - highest_;
      seen_ = shift >= replay_window ? 0 : seen_ << shift;
      highest_ = seq;
    }
    seen_ |= std::uint64_t{1} << (highest_ - seq);
  }

private:
  std::uint64_t highest_ = 0;
  std::uint64_t seen_ = 0;  // bit n: highest_ - n was accepted
};

}  // namespace

struct ephemeral_key::impl {
  pkey_ptr key;
};

ephemeral_key ephemeral_key::generate() {
  ephemeral_key made;
  pctx_ptr ctx(EVP_PKEY_CTX_new_id(EVP_PKEY_X25519, nullptr));
  EVP_PKEY* key = nullptr;
  if (!ctx || EVP_PKEY_keygen_init(ctx.get()) != 1 || EVP_PKEY_keygen(ctx.get(), &key) != 1) return made;
  auto owned = std::make_shared<impl>(impl{pkey_ptr(key)});
  std::size_t size = made.public_.size();
  if (EVP_PKEY_get_raw_public_key(key, made.public_.data(), &size) != 1 || size != made.public_.size()) {
    made.public_ = {};
    return made;
  }
  made.impl_ = std::move(owned);
  return made;
}

// OpenSSL refuses to derive the all-zero secret of a small-order point, which is the check PC-HS-03 asks
// for; on_hello tests for it explicitly too, so the rule does not depend on that behaviour.
bytes ephemeral_key::agree(const ephemeral_public& peer) const {
  if (!impl_) return {};
  pkey_ptr theirs(EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, nullptr, peer.data(), peer.size()));
  pctx_ptr ctx(EVP_PKEY_CTX_new(impl_->key.get(), nullptr));
  std::size_t size = 32;
  bytes secret(size);
  if (!theirs || !ctx || EVP_PKEY_derive_init(ctx.get()) != 1 || EVP_PKEY_derive_set_peer(ctx.get(), theirs.get()) != 1 ||
      EVP_PKEY_derive(ctx.get(), secret.data(), &size) != 1 || size != 32)
    return {};
  return secret;
}

struct secure_session::impl {
  const identity& me;
  std::string my_name;
  std::string peer_name;
  session_crypto crypto;
  std::optional<ephemeral_key> eph;
  eph_key my_eph{};
  std::string my_hello;
  std::optional<eph_key> peer_eph;
  // Derived once both HELLOs are known (PC-HS-03).
  bytes transcript;
  std::array<std::uint8_t, 32> send_key{};
  std::array<std::uint8_t, 32> receive_key{};
  // The two keys ready for records, each keyed once (set with the keys above).
  std::optional<core::chacha20_poly1305_key> sealer, opener;
  std::uint8_t my_side = 0;
  std::uint64_t send_seq = 1;
  replay_guard replay;
  std::optional<public_key> proved;    // the key of the last verified AUTH
  bool accepted = false;
  bool confirmed = false;

  impl(const identity& who, std::string mine, std::string peer, session_crypto how)
      : me(who), my_name(std::move(mine)), peer_name(std::move(peer)), crypto(std::move(how)) {}
  impl(const impl&) = default;

  ~impl() {  // PC-REC-04: nothing of this chat's keys outlives it
    OPENSSL_cleanse(send_key.data(), send_key.size());
    OPENSSL_cleanse(receive_key.data(), receive_key.size());
  }

  result<secure_event> on_hello(std::string_view datagram);
  result<secure_event> on_sealed(std::string_view datagram);
  result<secure_event> on_record(std::uint8_t type, std::string_view body);
  result<std::string> seal(record_type type, std::string_view body);
};

secure_session::secure_session(const identity& me, std::string my_name, std::string peer_name, session_crypto crypto)
    : impl_(std::make_unique<impl>(me, std::move(my_name), std::move(peer_name), std::move(crypto))) {
  auto& how = impl_->crypto;
  if (!how.sign) how.sign = [](const identity& who, std::string_view message) { return who.sign(message); };
  if (!how.verify) how.verify = verify_signature;
  if (!how.agree) how.agree = [](const ephemeral_key& own, const ephemeral_public& peer) { return own.agree(peer); };
  impl_->eph = ephemeral_key::generate();
  impl_->my_eph = impl_->eph->public_bytes();
  auto& hello = impl_->my_hello;
  hello.push_back(static_cast<char>(v2_marker));
  hello.push_back(static_cast<char>(kind_hello));
  hello.append(as_chars(impl_->my_eph));
  std::size_t name_size = std::min<std::size_t>(impl_->my_name.size(), 255);
  hello.push_back(static_cast<char>(name_size));
  hello.append(impl_->my_name, 0, name_size);
}

secure_session::~secure_session() = default;
secure_session::secure_session(secure_session&&) noexcept = default;
secure_session::secure_session(const secure_session& other) : impl_(std::make_unique<impl>(*other.impl_)) {}

const std::string& secure_session::hello() const noexcept { return impl_->my_hello; }
bool secure_session::has_keys() const noexcept { return !impl_->transcript.empty(); }
bool secure_session::connected() const noexcept { return impl_->accepted; }
bool secure_session::peer_confirmed() const noexcept { return impl_->confirmed; }
std::uint64_t secure_session::next_seq() const noexcept { return impl_->send_seq; }

void secure_session::accept_peer() {
  if (impl_->proved) impl_->accepted = true;
}

result<std::string> secure_session::auth() {
  if (!has_keys()) return errc::no_keys;
  std::string body;
  body.push_back(static_cast<char>(impl_->accepted ? 1 : 0));
  body.append(as_chars(impl_->me.public_key_bytes()));
  auto signature = impl_->crypto.sign(impl_->me, auth_message(impl_->transcript, impl_->my_side));
  body.append(as_chars(signature));
  return impl_->seal(record_type::auth, body);
}

result<std::string> secure_session::seal(record_type type, std::string_view body) {
  if (type == record_type::auth) return auth();
  if (!impl_->accepted) return errc::not_connected;
  if (type == record_type::msg && body.size() > max_text) return errc::malformed_datagram;
  if (type != record_type::msg) body = {};
  return impl_->seal(type, body);
}

result<std::string> secure_session::impl::seal(record_type type, std::string_view body) {
  if (!sealer) return errc::no_keys;
  if (send_seq >= seq_limit) return errc::exhausted;
  std::string datagram;
  datagram.push_back(static_cast<char>(v2_marker));
  datagram.push_back(static_cast<char>(kind_sealed));
  put_u64(datagram, send_seq);
  std::string plain;
  plain.push_back(static_cast<char>(type));
  plain.append(body);
  auto nonce = nonce_for(send_seq);
  auto sealed = sealer->seal(nonce, as_bytes(datagram), as_bytes(plain));
  if (!sealed) return sealed.error();
  ++send_seq;  // PC-REC-02: every record, AUTH resends included, takes a new number
  datagram.append(as_chars(*sealed));
  return datagram;
}

result<secure_event> secure_session::receive(std::string_view datagram) {
  if (datagram.size() > max_datagram) return errc::malformed_datagram;  // dropped unopened (PC-UDP-04)
  if (datagram.size() < 2) return errc::too_short;
  if (static_cast<std::uint8_t>(datagram[0]) != v2_marker) return errc::unknown_kind;
  auto kind = static_cast<std::uint8_t>(datagram[1]);
  if (kind == kind_hello) return impl_->on_hello(datagram);
  if (kind == kind_sealed) return impl_->on_sealed(datagram);
  return errc::unknown_kind;
}

result<secure_event> secure_session::impl::on_hello(std::string_view datagram) {
  if (datagram.size() < hello_fixed) return errc::too_short;
  auto name_size = static_cast<std::uint8_t>(datagram[hello_fixed - 1]);
  if (datagram.size() != hello_fixed + name_size) return errc::malformed_datagram;
  if (datagram.substr(hello_fixed) != peer_name) return errc::wrong_peer;
  eph_key theirs{};
  std::copy_n(datagram.begin() + 2, eph_size, theirs.begin());
  if (peer_eph) {  // PC-HS-02: the first HELLO fixed the key; a repeat is harmless, another key is not
    if (*peer_eph != theirs) return errc::wrong_peer;
    return secure_event{};
  }
  if (theirs == my_eph) return errc::wrong_peer;  // our own HELLO reflected back under the peer's name

  auto secret = eph ? crypto.agree(*eph, theirs) : bytes{};
  if (secret.empty() || std::all_of(secret.begin(), secret.end(), [](std::uint8_t b) { return b == 0; }))
    return errc::weak_secret;

  bool mine_low = my_eph < theirs;
  std::string_view low = mine_low ? std::string_view(my_hello) : datagram;
  std::string_view high = mine_low ? datagram : std::string_view(my_hello);
  std::string transcript_input = "peerchat/2 transcript";
  transcript_input += low;
  transcript_input += high;
  auto th = core::sha256(as_bytes(transcript_input));
  auto keys = core::hkdf_sha256(secret, th, as_bytes("peerchat/2 keys"), 64);
  OPENSSL_cleanse(secret.data(), secret.size());
  if (!keys) return keys.error();
  auto first = keys->begin();
  auto second = keys->begin() + 32;
  std::copy_n(mine_low ? first : second, 32, send_key.begin());
  std::copy_n(mine_low ? second : first, 32, receive_key.begin());
  sealer.emplace(send_key);
  opener.emplace(receive_key);
  OPENSSL_cleanse(keys->data(), keys->size());
  my_side = mine_low ? 0 : 1;
  transcript = std::move(th);
  peer_eph = theirs;
  eph.reset();  // the ephemeral private key has done its only job
  return secure_event{secure_event::kind::keys_ready, {}, {}, false};
}

result<secure_event> secure_session::impl::on_sealed(std::string_view datagram) {
  if (datagram.size() < sealed_header + 1 + core::chacha_tag_size) return errc::too_short;
  if (transcript.empty() || !opener) return errc::no_keys;
  std::uint64_t seq = get_u64(datagram.substr(2, 8));
  if (!replay.fresh(seq)) return errc::replayed;
  auto nonce = nonce_for(seq);
  auto plain = opener->open(nonce, as_bytes(datagram.substr(0, sealed_header)), as_bytes(datagram.substr(sealed_header)));
  if (!plain) return errc::bad_tag;
  std::string_view text = as_chars(*plain);
  auto event = on_record(static_cast<std::uint8_t>(text[0]), text.substr(1));
  OPENSSL_cleanse(plain->data(), plain->size());
  if (event) replay.accept(seq);  // the window moves only for records that were used (PC-REPLAY-01)
  return event;
}

result<secure_event> secure_session::impl::on_record(std::uint8_t type, std::string_view body) {
  using kind = secure_event::kind;
  switch (static_cast<record_type>(type)) {
    case record_type::auth: {
      if (body.size() != auth_body) return errc::bad_record;
      public_key key{};
      std::copy_n(body.begin() + 1, key.size(), key.begin());
      std::uint8_t their_side = my_side ^ 1;
      if (!crypto.verify(key, auth_message(transcript, their_side), body.substr(33)))
        return errc::bad_signature;
      if (accepted && proved && *proved != key) return errc::wrong_peer;  // settled: no second identity
      bool says_accepted = (static_cast<std::uint8_t>(body[0]) & 1) != 0;
      proved = key;
      if (says_accepted) confirmed = true;
      return secure_event{kind::peer_proved, {}, key, says_accepted};
    }
    case record_type::msg:
      if (body.size() > max_text) return errc::bad_record;
      if (!accepted) return errc::not_connected;
      confirmed = true;
      return secure_event{kind::msg, std::string(body), {}, false};
    case record_type::close:
    case record_type::keepalive:
      if (!body.empty()) return errc::bad_record;
      if (!accepted) return errc::not_connected;
      confirmed = true;
      return secure_event{type == 3 ? kind::close : kind::keepalive, {}, {}, false};
  }
  return errc::bad_record;
}

}  // namespace parley::peerchat
