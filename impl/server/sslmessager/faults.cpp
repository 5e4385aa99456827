#include "impl/server/sslmessager/faults.hpp"

#include <array>

namespace parley::sslmessager {
namespace {

// The fourth field: the rules the fault breaks (spec/sslmessager/rules.json), which the fault matrix checks
// are exactly the rules a conformance run against it FAILs.
constexpr std::array<fault_info, 17> table{{
    {fault::spoofable_sender, "spoofable-sender", "relays MSG with whatever sender name the client wrote",
     "SSLM-MSG-02"},
    {fault::unknown_user_kills_all, "unknown-user-kills-all",
     "an AUTH for an unknown user ends every connection, its own without an answer", "SSLM-AUTH-04 SSLM-CONN-03"},
    {fault::accept_second_login, "accept-second-login", "accepts a login of a user who is already online",
     "SSLM-AUTH-05"},
    {fault::silent_before_auth, "silent-before-auth", "ignores a MSG before AUTH instead of END * <incorrect protocol>",
     "SSLM-AUTH-01"},
    {fault::no_cnt, "no-cnt", "says nothing when the target of a MSG is offline", "SSLM-MSG-04"},
    {fault::no_check, "no-check", "never sends CHECK", "SSLM-CHECK-01"},
    // An empty text's RELAY then has one space before CR LF, not the two SSLM-MSG-07 asks for.
    {fault::no_trailing_space, "no-trailing-space", "ends its lines with \\r\\n but no space before them",
     "SSLM-FRAME-01 SSLM-MSG-07"},
    {fault::end_to_wrong_socket, "end-to-wrong-socket", "sends a protocol error's END to the user the line names",
     "SSLM-ERR-02"},
    {fault::keep_name_after_drop, "keep-name-after-drop", "keeps a user online after its connection dropped",
     "SSLM-END-02"},
    {fault::no_fragments, "no-fragments", "ignores a message that never gets a line ending", "SSLM-FRAME-05"},
    {fault::no_end_reply, "no-end-reply", "closes on a client's END without END <end accepted>", "SSLM-END-01"},
    {fault::relay_to_everyone, "relay-to-everyone", "relays each MSG for an online user to every online user",
     "SSLM-MSG-05"},
    {fault::no_framing, "no-framing",
     "takes each TLS read as one message: no line splitting, no fragment timer (as the original)",
     "SSLM-FRAME-04 SSLM-FRAME-05"},
    {fault::unknown_user_kills_listener, "unknown-user-kills-listener",
     "refuses an unknown user, then stops accepting connections; open sessions go on",
     "SSLM-CONN-03"},
    {fault::crash_on_13_digit_user, "crash-on-13-digit-user",
     "the process exits (status 1) on an AUTH whose user name is 13 bytes holding a digit, known or not",
     "SSLM-CONN-03", core::fault_kind::fuzz},
    {fault::accept_legacy_tls, "accept-legacy-tls", "completes a handshake with a client that offers only TLS 1.0 and 1.1",
     "SSLM-TLS-02"},
    {fault::ask_client_certificate, "ask-client-certificate",
     "asks every client for a certificate during the handshake, and goes on without one", "SSLM-TLS-04"},
}};

}  // namespace

std::span<const fault_info> all_faults() noexcept { return table; }

std::optional<fault> fault_from_name(std::string_view name) noexcept { return core::find_fault(all_faults(), name); }

}  // namespace parley::sslmessager
