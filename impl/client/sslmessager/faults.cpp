#include "impl/client/sslmessager/faults.hpp"

#include <array>

namespace parley::sslmessager {
namespace {

constexpr std::array<client_fault_info, 18> table{{
    {client_fault::hello_first, "hello-first", "greets the server with HELLO <name> before its AUTH", "SSLM-CLIENT-01"},
    {client_fault::msg_before_accept, "msg-before-accept", "sends what its user types at once, before ACCEPT came", "SSLM-CLIENT-02"},
    {client_fault::any_accept, "any-accept", "takes an ACCEPT for another name as its own and goes on", "SSLM-CLIENT-02"},
    {client_fault::target_as_sender, "target-as-sender", "writes the target's name as the sender of a MSG", "SSLM-CLIENT-03"},
    {client_fault::keep_line_feed, "keep-line-feed", "keeps the typed line feed in the text (MSG t s text\\n \\r\\n, as the original client)", "SSLM-CLIENT-03"},
    {client_fault::no_length_check, "no-length-check", "sends texts over 4000 bytes instead of refusing them", "SSLM-CLIENT-03"},
    {client_fault::send_empty, "send-empty", "sends an empty MSG to the current target for an empty line", "SSLM-CLIENT-03"},
    {client_fault::close_on_cnt, "close-on-cnt", "ends the session when the server says the target is not online", "SSLM-CLIENT-04"},
    {client_fault::answer_check, "answer-check", "answers every CHECK with a CHECK of its own", "SSLM-CLIENT-05"},
    {client_fault::quit_without_end, "quit-without-end", "quits by closing the connection, without END", "SSLM-CLIENT-06"},
    {client_fault::no_quit_timeout, "no-quit-timeout", "after its END, waits for the server's answer for ever", "SSLM-CLIENT-06"},
    {client_fault::ignore_end, "ignore-end", "stays connected after the server's END (unless it answers its own)", "SSLM-CLIENT-07"},
    {client_fault::strict_accept, "strict-accept", "refuses an ACCEPT with fields after the name, as one for another name", "SSLM-CLIENT-08"},
    {client_fault::close_on_unknown, "close-on-unknown", "ends the session on a server line it does not understand", "SSLM-CLIENT-08"},
    {client_fault::no_space_before_crlf, "no-space-before-crlf", "ends its lines with CR LF but no SP before them", "SSLM-FRAME-01"},
    {client_fault::crlf_only, "crlf-only", "takes only CR LF as a line end: a bare LF stays in the line", "SSLM-FRAME-03"},
    {client_fault::no_line_limit, "no-line-limit", "passes over a server line of more than 4096 bytes instead of closing", "SSLM-FRAME-08"},
    {client_fault::crash_on_garbage, "crash-on-garbage",
     "aborts on a server line of a command it reads (ACCEPT, RELAY, CNT, CHECK) whose fields it cannot read", "SSLM-CLIENT-10"},
}};

}  // namespace

std::span<const client_fault_info> all_client_faults() noexcept { return table; }

std::optional<client_fault> client_fault_from_name(std::string_view name) noexcept {
  return core::find_fault<client_fault>(table, name);
}

}  // namespace parley::sslmessager
