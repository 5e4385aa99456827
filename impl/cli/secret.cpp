#include "impl/cli/secret.hpp"

#include <iostream>
#include <termios.h>
#include <unistd.h>

#include "impl/cli/args.hpp"

namespace parley::cli {

std::string read_secret(const std::string& prompt, const std::string& not_a_terminal_hint) {
  if (!isatty(STDIN_FILENO)) throw usage_error(not_a_terminal_hint);
  termios old{};
  tcgetattr(STDIN_FILENO, &old);
  termios quiet = old;
  quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
  tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
  std::cerr << prompt << std::flush;
  std::string line;
  std::getline(std::cin, line);
  tcsetattr(STDIN_FILENO, TCSANOW, &old);
  std::cerr << "\n";
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

}  // namespace parley::cli
