// Shrinks a session that shows a finding while it still shows the same one: fewest steps first (delta
// debugging over the step list), then fewest tokens and bytes in what the steps write.
#pragma once

#include <chrono>
#include <functional>

#include "conformance/engine/case.hpp"

namespace parley::wirefuzz {

struct minimize_budget {
  int trials = 200;
  std::chrono::seconds time{90};
};

// `reproduces` runs a candidate (on a fresh target) and says whether it shows the same finding.
conform::test_case minimize(conform::test_case session, const std::function<bool(const conform::test_case&)>& reproduces,
                            minimize_budget budget, int* trials_used = nullptr);

}  // namespace parley::wirefuzz
