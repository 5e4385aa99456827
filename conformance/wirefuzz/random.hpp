// The one source of chance in a parley-fuzz run: seeded, so that a run (with -j 1) is the same run again
// from the same --seed.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace parley::wirefuzz {

class fuzz_random {
public:
  explicit fuzz_random(std::uint64_t seed) : gen_(seed) {}
  std::uint64_t next() { return gen_(); }
  // A number in [0, n); 0 when n is 0.
  std::size_t below(std::size_t n) { return n == 0 ? 0 : static_cast<std::size_t>(gen_() % n); }
  bool chance(double p) { return std::uniform_real_distribution<double>(0, 1)(gen_) < p; }
  template <class T>
  const T& pick(const std::vector<T>& items) {
    return items[below(items.size())];
  }
  // `n` characters drawn from `alphabet`.
  std::string text(std::size_t n, const std::string& alphabet) {
    std::string out;
    for (std::size_t i = 0; i < n; ++i) out += alphabet[below(alphabet.size())];
    return out;
  }

private:
  std::mt19937_64 gen_;
};

}  // namespace parley::wirefuzz
