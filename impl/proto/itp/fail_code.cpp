#include "impl/proto/itp/fail_code.hpp"

namespace parley::itp {

std::string_view default_text(fail_code code) noexcept {
  switch (code) {
    case fail_code::unknown_command: return "Unknown command";
    case fail_code::name_in_use: return "User already logged in";
    case fail_code::invalid_username: return "Username has an invalid format or length";
    case fail_code::login_required: return "Please log in first";
    case fail_code::already_logged_in: return "User cannot login twice";
    case fail_code::pong_without_ping: return "Pong without ping";
    case fail_code::only_user: return "You are the only connected user";
    case fail_code::unknown_user: return "User does not exist";
    case fail_code::message_to_self: return "Cannot send a private message to yourself";
  }
  return "Error";
}

std::optional<fail_code> fail_code_from_int(int value) noexcept {
  if (value < 0 || value > max_fail_code) return std::nullopt;
  return static_cast<fail_code>(value);
}

}  // namespace parley::itp
