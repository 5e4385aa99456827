// Reading a password from the terminal without echo, for the programs that ask for one (sslmessager's
// client and adduser). Throws usage_error when standard input is not a terminal: the caller then names
// the flag or pipe to use instead.
#pragma once

#include <string>

namespace parley::cli {

// Prints `prompt` on stderr, reads one line with echo off, and restores the terminal.
std::string read_secret(const std::string& prompt, const std::string& not_a_terminal_hint);

}  // namespace parley::cli
