#include "impl/client/itp/faults.hpp"

#include <array>

#include "impl/core/crypto/aes.hpp"
#include "impl/core/encoding.hpp"

namespace parley::itp {
namespace {

constexpr std::array<client_fault_info, 17> table{{
    {client_fault::ident_before_init, "ident-before-init", "sends IDENT as soon as it connects, before the server's INIT", "ITP-CLIENT-01"},
    {client_fault::no_pong, "no-pong", "never answers PING", "ITP-CLIENT-02"},
    {client_fault::no_pubkey, "no-pubkey", "never announces its public key after OK IDENT", "ITP-CLIENT-03"},
    {client_fault::cr_line_ends, "cr-line-ends", "ends its lines with a lone CR", "ITP-CLIENT-04"},
    {client_fault::quit_without_waiting, "quit-without-waiting", "closes right after QUIT, without waiting for the answer", "ITP-CLIENT-05"},
    {client_fault::close_on_unknown_line, "close-on-unknown-line", "closes the connection on a server line it does not know", "ITP-CLIENT-06"},
    {client_fault::trim_typed_text, "trim-typed-text", "trims the spaces around a typed broadcast text", "ITP-CLIENT-07"},
    {client_fault::no_line_limit, "no-line-limit", "sends a typed text however long its line gets", "ITP-CLIENT-08"},
    {client_fault::refuse_small_keys, "refuse-small-keys", "refuses other users' RSA keys under 2048 bits", "ITP-CRYPTO-01"},
    {client_fault::session_key_every_pm, "session-key-every-pm", "sends a new session key before every PM", "ITP-CRYPTO-02"},
    {client_fault::unprefixed_session_key, "unprefixed-session-key", "sends session key tokens without their oaep256. prefix", "ITP-CRYPTO-03"},
    {client_fault::fixed_nonce, "fixed-nonce", "seals every PM body under the same GCM nonce", "ITP-CRYPTO-04"},
    {client_fault::legacy_authenticated, "legacy-authenticated", "shows PMs read with legacy tokens as authenticated", "ITP-CRYPTO-05"},
    {client_fault::show_undecryptable, "show-undecryptable", "shows a PM body that fails to decrypt as a message", "ITP-CRYPTO-06"},
    {client_fault::keep_keys_of_leavers, "keep-keys-of-leavers", "keeps a user's keys after LEFT, so a returning user gets no new session key", "ITP-CRYPTO-07"},
    {client_fault::no_acks, "no-acks", "never acknowledges PM_PUBKEY or PM_SESSIONKEY", "ITP-CRYPTO-08"},
    {client_fault::crash_on_13_digit_name, "crash-on-13-digit-name",
     "aborts on a server line (OK IDENT, JOINED, LEFT, BCST) that names a user of exactly 13 bytes with a digit",
     "ITP-CLIENT-06", core::fault_kind::fuzz},
}};

}  // namespace

std::span<const client_fault_info> all_client_faults() noexcept { return table; }

std::optional<client_fault> client_fault_from_name(std::string_view name) noexcept {
  return core::find_fault<client_fault>(table, name);
}

result<std::string> seal_body_with_fixed_nonce(const session_key& key, std::string_view from, std::string_view to,
                                               std::string_view text) {
  bytes nonce(core::gcm_nonce_size, 0);
  std::string aad = "itp-pm " + std::string(from) + " " + std::string(to);
  auto sealed = core::aes_gcm_seal(key.key, nonce, as_bytes(aad), as_bytes(text));
  if (!sealed) return sealed.error();
  nonce.insert(nonce.end(), sealed->begin(), sealed->end());
  return std::string(body_prefix) + core::to_base64(nonce);
}

}  // namespace parley::itp
