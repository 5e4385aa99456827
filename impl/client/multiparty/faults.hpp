// Deliberate bugs the reference client can plant (`parley-client multiparty --fault NAME`), so that every
// client-role conformance case can be shown to fail. Each breaks exactly the rules its table entry
// declares. Never enabled by default.
#pragma once

#include <optional>
#include <span>
#include <string_view>

#include "impl/core/fault_table.hpp"
#include "impl/core/result.hpp"
#include "impl/proto/multiparty/login.hpp"

namespace parley::multiparty {

enum class client_fault {
  none,
  send_before_login,    // a command typed during the login goes out at once, under tk (MP-CLIENT-01)
  any_login_res_type,   // a first frame of any type that opens under tk is taken as the login_res (MP-CLIENT-01)
  stale_timestamp,      // the login_req's timestamp is five minutes old (MP-CLIENT-02)
  skip_request_hash,    // the login_res's request_hash is not compared (MP-CLIENT-03)
  ignore_bad_login_res, // a login_res whose tag fails is passed over, not a reason to close (MP-CLIENT-03)
  trust_directory_uids, // directory uids are not checked against their keys (MP-CLIENT-04)
  skip_bad_frames,      // a server frame it must refuse is passed over instead of closing (MP-CLIENT-05)
  no_status_answer,     // the server's status_req goes unanswered (MP-CLIENT-06)
  answer_any_invitation,// /accept and /decline answer any SID, any number of times (MP-CLIENT-07)
  ok_undecrypted,       // a part it cannot open is answered 'OK' (MP-CLIENT-08)
  one_key_for_all,      // every part is encrypted to the first recipient's key (MP-CLIENT-09)
  send_long_text,       // a text over 2048 bytes is sent, not refused (MP-CLIENT-09)
  answer_status_res,    // a status_res from the server is answered like a status_req (MP-CLIENT-10)
  keep_closed_session,  // a close notification changes nothing: not shown, the session still offered (MP-CLIENT-12)
  crash_on_garbage,     // aborts on an invite_req or msg_req whose payload it cannot parse (MP-CLIENT-13)
};

using client_fault_info = core::fault_info<client_fault>;

std::span<const client_fault_info> all_client_faults() noexcept;
std::optional<client_fault> client_fault_from_name(std::string_view name) noexcept;

// The login_res as a client with `fault` reads it: open_login_res, except that any_login_res_type takes a
// frame of any type and trust_directory_uids takes every directory line's uid as it comes.
result<login_response> open_login_res_with(client_fault fault, byte_view tk, byte_view frame);

}  // namespace parley::multiparty
