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

std::string client_crash_report::text() const {
  if (sanitizer) return "printed a sanitizer report: " + evidence;
  return evidence.empty() ? ending : ending + " after an uncaught exception: " + evidence;
}

std::string sanitizer_report_line(const std::string& output) {
  static const std::regex sanitizer(R"(ERROR: (Address|Leak|Memory|Thread)Sanitizer|runtime error:)");
  return first_line_matching(output, sanitizer);
}

client_crash_report client_crash(cli::process& client, const std::string& log) {
  if (auto line = sanitizer_report_line(log); !line.empty())
    return {.crashed = true, .sanitizer = true, .ending = client.describe_exit(), .evidence = line};
  if (client.running()) return {};
  auto code = client.exit_code();
  if (!code || *code == 0) return {};
  bool by_crash_signal = *code > 128 && crash_signal(*code - 128);
  if (client.killed_by_signal()) {
    // SIGTERM and SIGKILL come from outside (the engine stops clients with them), not from a defect.
    if (!by_crash_signal) return {};
    return {.crashed = true, .ending = client.describe_exit()};
  }
  if (by_crash_signal)
    return {.crashed = true,
            .ending = client.describe_exit() + " (the shell's report of signal " + std::to_string(*code - 128) + ")"};
  static const std::regex uncaught(
      R"(Traceback \(most recent call last\)|Exception in thread "|^panic: |panicked at|terminate called after throwing|Unhandled(PromiseRejection| exception)|^\s*throw \w+;|^Uncaught )");
  if (auto line = first_line_matching(log, uncaught); !line.empty())
    return {.crashed = true, .ending = client.describe_exit(), .evidence = line};
  return {};
}

}  // namespace parley::conform
