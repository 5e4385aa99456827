// Latencies in a fixed log-linear histogram (32 steps per doubling, so any quantile is within about 2 %):
// recording is an increment, nothing allocates while the load runs, and p50/p99/max come out at the end.
#pragma once

#include <array>
#include <bit>
#include <cstdint>

namespace parley::load {

class latency_histogram {
public:
  void record(std::uint64_t ns) {
    ++counts_[bucket_of(ns)];
    ++total_;
    if (ns > max_) max_ = ns;
  }
  std::uint64_t count() const { return total_; }
  std::uint64_t max_ns() const { return max_; }
  // The smallest latency that at least `share` (0..1] of the samples do not exceed; 0 with no samples.
  std::uint64_t quantile_ns(double share) const {
    if (total_ == 0) return 0;
    auto wanted = static_cast<std::uint64_t>(share * static_cast<double>(total_) + 0.5);
    if (wanted == 0) wanted = 1;
    std::uint64_t seen = 0;
    for (std::size_t b = 0; b < counts_.size(); ++b) {
      seen += counts_[b];
      if (seen >= wanted) return upper_of(b) < max_ ? upper_of(b) : max_;
    }
    return max_;
  }

private:
  static constexpr unsigned steps_log2 = 5;  // 32 steps per doubling
  static constexpr std::size_t buckets = 64 << steps_log2;

  static std::size_t bucket_of(std::uint64_t ns) {
    if (ns < (1u << steps_log2)) return static_cast<std::size_t>(ns);
    unsigned top = 63 - static_cast<unsigned>(std::countl_zero(ns));  // ns >= 32: top >= 5
    unsigned shift = top - steps_log2;
    return (static_cast<std::size_t>(shift + 1) << steps_log2) + ((ns >> shift) & ((1u << steps_log2) - 1));
  }
  // The largest latency that falls in bucket b.
  static std::uint64_t upper_of(std::size_t b) {
    if (b < (1u << steps_log2)) return b;
    unsigned shift = static_cast<unsigned>(b >> steps_log2) - 1;
    std::uint64_t step = b & ((1u << steps_log2) - 1);
    return ((((std::uint64_t{1} << steps_log2) | step) + 1) << shift) - 1;
  }

  std::array<std::uint64_t, buckets> counts_{};
  std::uint64_t total_ = 0;
  std::uint64_t max_ = 0;
};

}  // namespace parley::load
