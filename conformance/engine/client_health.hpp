// Whether a launched client crashed. A spec may ask a client to end its session on a protocol error and
// tell its user, so an exit, even with a non-zero code, is not by itself a crash; these are:
//   - death by a signal (SIGSEGV, SIGABRT, ...), directly or as the shell that ran it reports it (128 + N);
//   - a sanitizer report (AddressSanitizer, UBSan, ...), even from a client still running;
//   - a non-zero exit after the trace of an uncaught exception (Python, Java, Go, Rust, Node, C++).
#pragma once

#include <string>

#include "impl/cli/process.hpp"

namespace parley::conform {

struct client_crash_report {
  bool crashed = false;
  bool sanitizer = false;  // a sanitizer's report (the client may still run)
  std::string ending;      // how it ended: "was killed by signal 11 (SIGSEGV)", "exited with code 1"
  std::string evidence;    // the telling line of its output: the sanitizer's, or the uncaught exception's
  // For a verdict: "was killed by signal 11 (SIGSEGV)", "printed a sanitizer report: ...",
  // "exited with code 1 after an uncaught exception: ...".
  std::string text() const;
};

// `log` is what the client wrote to stderr (its log file).
client_crash_report client_crash(cli::process& client, const std::string& log);

// The first line of `output` that opens a sanitizer report (AddressSanitizer, LeakSanitizer, ..., UBSan's
// "runtime error:"); "" when there is none. The fuzz oracle reads a server's output with it too.
std::string sanitizer_report_line(const std::string& output);

}  // namespace parley::conform
