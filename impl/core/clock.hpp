// Time for the sans-IO cores. Hubs and agents never read a clock: the host passes `now` in, which is what
// makes timer rules testable in microseconds and fuzzable with a virtual clock.
#pragma once

#include <chrono>

namespace parley {

using clock_type = std::chrono::steady_clock;
using time_point = clock_type::time_point;
using millis = std::chrono::milliseconds;

}  // namespace parley
