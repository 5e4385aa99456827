// The FAILnn codes of the itp wire and the texts the reference server sends with them. The code is
// normative; the text is informative (ITP-ERR-01), and follows the course server where it has one.
#pragma once

#include <optional>
#include <string_view>

namespace parley::itp {

enum class fail_code : int {
  unknown_command = 0,     // FAIL00, also for a command missing its argument
  name_in_use = 1,         // FAIL01 another session uses the name
  invalid_username = 2,    // FAIL02
  login_required = 3,      // FAIL03
  already_logged_in = 4,   // FAIL04 this connection already sent a successful IDENT
  pong_without_ping = 5,   // FAIL05
  only_user = 6,           // FAIL06 USERS when alone
  unknown_user = 7,        // FAIL07 recipient not logged in
  message_to_self = 8,     // FAIL08
};

inline constexpr int max_fail_code = 8;

std::string_view default_text(fail_code code) noexcept;
std::optional<fail_code> fail_code_from_int(int value) noexcept;

}  // namespace parley::itp
