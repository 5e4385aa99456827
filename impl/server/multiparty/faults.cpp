#include "impl/server/multiparty/faults.hpp"

#include <array>

namespace parley::multiparty {
namespace {

constexpr std::array<fault_info, 16> table{{
    {fault::skip_tag_check, "skip-tag-check", "accepts frames whose GCM tag is wrong", "MP-CRYPTO-05"},
    {fault::accept_replay, "accept-replay", "accepts frames whose sqn is not the previous one plus 1", "MP-MTP-07"},
    {fault::ignore_uid, "ignore-uid", "accepts frames whose uid is not the logged-in user's", "MP-MTP-09"},
    {fault::accept_stale_login, "accept-stale-login", "accepts login timestamps however far from its clock",
     "MP-LOGIN-09"},
    {fault::accept_replayed_login, "accept-replayed-login", "accepts a login_req whose tk an earlier login used",
     "MP-LOGIN-12"},
    {fault::reuse_sid, "reuse-sid", "hands out the sid of a closed session again", "MP-INIT-03"},
    {fault::forward_to_nonmember, "forward-to-nonmember", "forwards message parts to users who are not members",
     "MP-MSG-03"},
    {fault::alter_part, "alter-part", "changes one character of every message part it forwards", "MP-MSG-04"},
    {fault::no_invite, "no-invite", "creates sessions but never sends invite_req", "MP-INVITE-01"},
    {fault::anyone_may_close, "anyone-may-close", "lets any member close a session, not only its creator",
     "MP-CLOSE-01"},
    {fault::msg_after_close, "msg-after-close", "keeps routing messages in closed sessions", "MP-CLOSE-03"},
    {fault::no_status_check, "no-status-check", "never sends status_req to a silent client", "MP-STATUS-03"},
    {fault::offline_status_lies, "offline-status-lies", "answers every status question about a user with Online",
     "MP-STATUS-02"},
    {fault::skip_sqn, "skip-sqn", "numbers its frames after the login_res from 3, never sending sqn 2", "MP-MTP-07"},
    {fault::forward_claimed_uid, "forward-claimed-uid",
     "takes a msg_req that claims another member's uid as that member's, and forwards it so", "MP-MTP-09"},
    {fault::crash_on_255_byte_answer, "crash-on-255-byte-answer",
     "the process exits (status 1) on a validly sealed invite_res whose answer is exactly 255 bytes",
     "MP-CONN-04", core::fault_kind::fuzz},
}};

}  // namespace

std::span<const fault_info> all_faults() noexcept { return table; }

std::optional<fault> fault_from_name(std::string_view name) noexcept { return core::find_fault(all_faults(), name); }

}  // namespace parley::multiparty
