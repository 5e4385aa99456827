// Whether a launched client crashed. A spec may ask a client to end its session on a protocol error and
// tell its user, so an exit, even with a non-zero code, is not by itself a crash; these are:
//   - death by a signal (SIGSEGV, SIGABRT, ...), directly or as the shell that ran it reports it (128 + N);
//   - a sanitizer report (AddressSanitizer, UBSan, ...), even from a client still running;
//   - a non-zero exit after the trace of an uncaught exception (Python, Java, Go, Rust, Node, C++).
#pragma once

#include <string>

#include "conformance/engine/process.hpp"

namespace parley::conform {

// "" when the client has not crashed (it runs, or it ended as a client may); else what happened, for a
// verdict: "was killed by signal 11 (SIGSEGV)", "printed a sanitizer report: ...".
// `log` is what the client wrote to stderr (its log file).
std::string client_crash(process& client, const std::string& log);

}  // namespace parley::conform
