// The itp wire codec: one line (terminator already removed by core::line_framer) to a message and back.
// Pure and allocation-bounded by the line; shared by the server hub, the client agent, the conformance
// adapter and the fuzzers.
#pragma once

#include <string>
#include <string_view>

#include "impl/core/result.hpp"
#include "impl/proto/itp/errc.hpp"
#include "impl/proto/itp/message.hpp"

namespace parley::itp {

inline constexpr std::size_t default_max_line = 1024;  // ITP-FRAME-05, the course server's limit
inline constexpr unsigned short default_port = 1337;   // ITP-CONN-03

// ^[A-Za-z0-9_]{3,14}$ (ITP-IDENT-02).
bool valid_username(std::string_view name) noexcept;

// errc::unknown_command for an unknown or lower-case command (ITP-CMD-02), errc::missing_argument when the
// grammar's argument is absent or empty.
result<client_message> parse_client_line(std::string_view line);
// errc::unknown_command for a line this codec does not know.
result<server_message> parse_server_line(std::string_view line);

// One line including its "\n" terminator (ITP-FRAME-04 / ITP-CLIENT-04).
std::string serialize(const client_message& message);
std::string serialize(const server_message& message);

}  // namespace parley::itp
