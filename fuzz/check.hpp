// Invariant checks for fuzz targets: a violated invariant aborts with a message, so libFuzzer (and the
// replay runner) report it as a crash with the input that caused it.
#pragma once

#include <cstdio>
#include <cstdlib>

#define PARLEY_FUZZ_CHECK(condition, message)                                               \
  do {                                                                                      \
    if (!(condition)) {                                                                     \
      std::fprintf(stderr, "fuzz invariant violated: %s (%s:%d)\n", message, __FILE__, __LINE__); \
      std::abort();                                                                         \
    }                                                                                       \
  } while (0)
