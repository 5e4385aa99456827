// Why a multiparty frame or payload was refused. Frame errors close the connection (spec: error table);
// payload errors become the error text of a *_res.
#pragma once

#include <system_error>

namespace parley::multiparty {

enum class errc {
  bad_version = 1,   // major version is not 1
  bad_length,        // len disagrees with the frame, or is below 36
  unknown_type,      // typ is none of the twelve
  bad_tag,           // the GCM tag does not verify (wrong key, tampered header or payload)
  bad_login,         // login_req/login_res malformed, undecryptable, or its checks failed
  bad_signature,     // the login signature does not verify
  stale_login,       // the login timestamp is outside the accepted window
  bad_payload,       // a payload that does not follow its grammar
  decrypt_failed,    // an end-to-end message part that does not decrypt with the recipient's key
};

const std::error_category& multiparty_category() noexcept;
inline std::error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), multiparty_category()}; }

}  // namespace parley::multiparty

template <>
struct std::is_error_code_enum<parley::multiparty::errc> : std::true_type {};
