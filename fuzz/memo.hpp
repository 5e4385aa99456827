// A memo for the pure, costly steps a fuzz target must not pay per input: an RSA decrypt or verify, an
// Ed25519 verify. The harness keeps the answers for what it prepares itself (its signed logins and joins),
// so a seed that repeats them costs a lookup; an input that makes something new pays the real operation
// once. Those learned answers are bounded: past the bound they are all forgotten at once, so a long run's
// memory stays flat and the kept ones never go.
#pragma once

#include <cstddef>
#include <string>
#include <unordered_map>
#include <utility>

namespace parley::fuzz {

template <class Value>
class memo {
public:
  explicit memo(std::size_t bound = 4096) : bound_(bound) {}

  void keep(std::string key, Value value) { kept_.insert_or_assign(std::move(key), std::move(value)); }

  // The value for `key`, from `compute()` the first time. A copy: a later miss may forget the entry.
  template <class Compute>
  Value get(const std::string& key, Compute compute) {
    if (auto it = kept_.find(key); it != kept_.end()) return it->second;
    if (auto it = learned_.find(key); it != learned_.end()) return it->second;
    if (learned_.size() >= bound_) learned_.clear();
    return learned_.emplace(key, compute()).first->second;
  }

private:
  std::size_t bound_;
  std::unordered_map<std::string, Value> kept_, learned_;
};

}  // namespace parley::fuzz
