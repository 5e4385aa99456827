#include "conformance/engine/client_health.hpp"

#include <csignal>
#include <regex>
#include <sstream>

namespace parley::conform {

namespace {

// The first line that matches `re`, trimmed to a readable length.
std::string first_line_matching(const std::string& text, const std::regex& re) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (std::regex_search(line, re)) return line.size() > 200 ? line.substr(0, 200) + "..." : line;
  return {};
}

bool crash_signal(int signal) {
  return signal == SIGSEGV || signal == SIGABRT || signal == SIGBUS || signal == SIGFPE || signal == SIGILL ||
         signal == SIGTRAP || signal == SIGSYS;
}

}  // namespace

std::string client_crash(process& client, const std::string& log) {
  static const std::regex sanitizer(R"(ERROR: (Address|Leak|Memory|Thread)Sanitizer|runtime error:)");
  if (auto line = first_line_matching(log, sanitizer); !line.empty()) return "printed a sanitizer report: " + line;
  if (client.running()) return {};
  std::string status = client.describe_exit();
  auto code = client.exit_code();
  if (status.starts_with("was killed by signal")) {
    // SIGTERM and SIGKILL come from outside (the engine stops clients with them), not from a defect.
    if (code && crash_signal(*code - 128)) return status;
    return {};
  }
  if (!code || *code == 0) return {};
  if (*code > 128 && crash_signal(*code - 128)) return status + " (the shell's report of signal " + std::to_string(*code - 128) + ")";
  static const std::regex uncaught(
      R"(Traceback \(most recent call last\)|Exception in thread "|^panic: |panicked at|terminate called after throwing|Unhandled(PromiseRejection| exception)|^\s*throw \w+;|^Uncaught )");
  if (auto line = first_line_matching(log, uncaught); !line.empty()) {
    // The exception's own line (the last of a Python trace) says most; the marker line says what it is.
    return status + " after an uncaught exception: " + line;
  }
  return {};
}

}  // namespace parley::conform
