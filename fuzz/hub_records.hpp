// The record stream the hub fuzzers share (fuzz/README.md): byte 0 picks a planted fault (0: none), then
// records [op][conn][len:2 big-endian], each followed by `len` payload bytes when its op takes a payload.
// Reading the format in one place keeps every hub fuzzer's inputs, and the recorded corpora, the same.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "impl/core/clock.hpp"
#include "impl/core/fault_table.hpp"
#include "impl/core/hub.hpp"

namespace parley::fuzz {

// The fault byte 0 selects from the hub's fault table, or nullopt for "none".
template <class Fault>
std::optional<Fault> planted_fault(const std::uint8_t* data, std::size_t size,
                                   std::span<const core::fault_info<Fault>> faults) {
  // The choice is among the faults before the first one only parley-fuzz is meant to find: those come
  // after every fault a case catches in each table (and only faults outside the hub, such as
  // sslmessager's TLS ones, after them), so the committed seeds keep choosing the faults they were
  // recorded with.
  std::size_t count = 0;
  while (count < faults.size() && faults[count].kind != core::fault_kind::fuzz) ++count;
  std::size_t choice = size > 0 ? data[0] % (count + 1) : 0;
  if (choice == 0) return std::nullopt;
  return faults[choice - 1].value;
}

struct hub_record {
  int op = 0;           // the op byte modulo the fuzzer's op count
  int conn = 0;         // the connection byte modulo the fuzzer's connection count
  std::size_t len = 0;  // the length field, cut to what is left of the input
  std::string_view payload;
};

class hub_records {
public:
  // `takes_payload(op)` says which ops are followed by their payload bytes.
  hub_records(const std::uint8_t* data, std::size_t size, int ops, int connections, bool (*takes_payload)(int op))
      : data_(data), size_(size), at_(size > 0 ? 1 : 0), ops_(ops), connections_(connections),
        takes_payload_(takes_payload) {}

  std::optional<hub_record> next() {
    if (at_ + 4 > size_) return std::nullopt;
    hub_record r;
    r.op = data_[at_] % ops_;
    r.conn = data_[at_ + 1] % connections_;
    r.len = std::min<std::size_t>(std::size_t(data_[at_ + 2]) << 8 | data_[at_ + 3], size_ - at_ - 4);
    at_ += 4;
    r.payload = std::string_view(reinterpret_cast<const char*>(data_ + at_), takes_payload_(r.op) ? r.len : 0);
    at_ += r.payload.size();
    return r;
  }

private:
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t at_;
  int ops_;
  int connections_;
  bool (*takes_payload_)(int op);
};

// Fires the hub's timers that are due at `now`, as the host would; at most 64 rounds, so a hub that keeps
// asking to be woken in the past cannot hang the fuzzer.
template <class Hub>
void fire_due_timers(Hub& hub, time_point now, core::actions& out) {
  for (int guard = 0; guard < 64; ++guard) {
    auto wake = hub.next_wake();
    if (!wake || *wake > now) break;
    hub.on_timer(now, out);
  }
}

}  // namespace parley::fuzz
