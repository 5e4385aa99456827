// Deliberate bugs the reference client can plant (`parley-client sslmessager --fault NAME`), so that every
// client-role case of the conformance suite can be shown to fail. Each breaks exactly the rules its table
// entry declares. Never enabled by default.
#pragma once

#include <optional>
#include <span>
#include <string_view>

#include "impl/core/fault_table.hpp"

namespace parley::sslmessager {

enum class client_fault {
  none,
  hello_first,          // greets with HELLO before AUTH (SSLM-CLIENT-01)
  msg_before_accept,    // sends typed lines before ACCEPT came (SSLM-CLIENT-02)
  any_accept,           // takes an ACCEPT for another name as its own (SSLM-CLIENT-02)
  target_as_sender,     // writes the target's name as the sender of a MSG (SSLM-CLIENT-03)
  keep_line_feed,       // keeps the typed line feed in the text, as the original client (SSLM-CLIENT-03)
  no_length_check,      // sends texts over 4000 bytes (SSLM-CLIENT-03)
  send_empty,           // sends an empty MSG for an empty line (SSLM-CLIENT-03)
  close_on_cnt,         // ends the session when told the target is offline (SSLM-CLIENT-04)
  answer_check,         // answers CHECK with CHECK (SSLM-CLIENT-05)
  quit_without_end,     // quits by closing, without END (SSLM-CLIENT-06)
  no_quit_timeout,      // after its END, waits for the server's answer for ever (SSLM-CLIENT-06)
  ignore_end,           // stays after the server's END, unless it answers the client's own (SSLM-CLIENT-07)
  strict_accept,        // refuses an ACCEPT with fields after the name (SSLM-CLIENT-08)
  close_on_unknown,     // ends the session on a line it does not understand (SSLM-CLIENT-08)
  no_space_before_crlf, // ends its lines with CR LF but no SP before them (SSLM-FRAME-01)
  crlf_only,            // takes only CR LF as a line end: a bare LF stays in the line (SSLM-FRAME-03)
  no_line_limit,        // passes over a line of more than 4096 bytes instead of closing (SSLM-FRAME-08)
  crash_on_garbage,     // aborts on a known command whose fields it cannot read (SSLM-CLIENT-10)
};

using client_fault_info = core::fault_info<client_fault>;

std::span<const client_fault_info> all_client_faults() noexcept;
std::optional<client_fault> client_fault_from_name(std::string_view name) noexcept;

}  // namespace parley::sslmessager
