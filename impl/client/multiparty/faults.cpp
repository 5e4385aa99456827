#include "impl/client/multiparty/faults.hpp"

#include <array>


namespace parley::multiparty {
namespace {

constexpr std::array<client_fault_info, 15> table{{
    {client_fault::send_before_login, "send-before-login",
     "sends a command typed during the login at once, sealed under tk, before the login_res", "MP-CLIENT-01"},
    {client_fault::any_login_res_type, "any-login-res-type",
     "takes a first server frame of any type that opens under tk as the login_res", "MP-CLIENT-01"},
    {client_fault::stale_timestamp, "stale-timestamp", "puts a timestamp five minutes old in its login_req", "MP-CLIENT-02"},
    {client_fault::skip_request_hash, "skip-request-hash",
     "does not check that the login_res's request_hash is the hash of its login_req", "MP-CLIENT-03"},
    {client_fault::ignore_bad_login_res, "ignore-bad-login-res",
     "passes over a login_res whose tag does not verify and waits for another, instead of closing", "MP-CLIENT-03"},
    {client_fault::trust_directory_uids, "trust-directory-uids",
     "does not check that every directory uid is the hash of its key", "MP-CLIENT-04"},
    {client_fault::skip_bad_frames, "skip-bad-frames",
     "passes over a server frame it must refuse (bad tag, wrong sqn, init_req, unknown type or sender) instead of "
     "closing", "MP-CLIENT-05"},
    {client_fault::no_status_answer, "no-status-answer", "never answers the server's status_req", "MP-CLIENT-06"},
    {client_fault::answer_any_invitation, "answer-any-invitation",
     "sends invite_res for any SID typed, invited or not, as often as typed", "MP-CLIENT-07"},
    {client_fault::ok_undecrypted, "ok-undecrypted", "answers 'OK' to a part it could not decrypt", "MP-CLIENT-08"},
    {client_fault::one_key_for_all, "one-key-for-all", "encrypts every part of a message to the first recipient's key",
     "MP-CLIENT-09"},
    {client_fault::send_long_text, "send-long-text", "sends a text of more than 2048 bytes instead of refusing it",
     "MP-CLIENT-09"},
    {client_fault::answer_status_res, "answer-status-res",
     "answers a status_res from the server as if it were a status_req", "MP-CLIENT-10"},
    {client_fault::keep_closed_session, "keep-closed-session",
     "ignores a close notification: does not say so and still sends to the session", "MP-CLIENT-12"},
    {client_fault::crash_on_garbage, "crash-on-garbage",
     "aborts on an invite_req that is not uid lines or a msg_req whose lines are not parts", "MP-CLIENT-13"},
}};

}  // namespace

std::span<const client_fault_info> all_client_faults() noexcept { return table; }

std::optional<client_fault> client_fault_from_name(std::string_view name) noexcept {
  return core::find_fault<client_fault>(table, name);
}

result<login_response> open_login_res_with(client_fault fault, byte_view tk, byte_view frame) {
  return open_login_res(tk, frame, {.type = fault != client_fault::any_login_res_type,
                                    .uids = fault != client_fault::trust_directory_uids});
}

}  // namespace parley::multiparty
