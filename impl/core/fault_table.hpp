// The shape of every protocol's table of planted faults (`parley-server P --fault NAME`): each fault's
// enum value, its command-line name and what it breaks. Protocols keep their own enum and table.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace parley::core {

// How a fault shows in a conformance run.
enum class fault_kind {
  exact,    // its rules FAIL in every run
  racy,     // a race: its rules break only some of the time; --repeat shows them FLAKY
  variant,  // a legitimate variant of the protocol (a profile such as peerchat/1 only): breaks no rule
  fuzz,     // reachable only by fuzzing (a boundary value behind valid crypto or state): no conformance case
            // triggers it, so the suite passes against it; parley-fuzz must find it
};

template <class Fault>
struct fault_info {
  Fault value;
  std::string_view name;
  std::string_view description;
  // The spec rules the fault breaks, space-separated: the fault matrix checks that a conformance run
  // against the faulty implementation FAILs exactly these and no other rule.
  std::string_view rules = {};
  fault_kind kind = fault_kind::exact;
};

// `--list-faults`: one line per fault, "name TAB description TAB rules", and TAB "racy", "variant" or
// "fuzz" for those kinds.
template <class Fault>
std::string fault_listing(std::span<const fault_info<Fault>> table) {
  std::string out;
  for (const auto& f : table) {
    out.append(f.name).append("\t").append(f.description).append("\t").append(f.rules);
    if (f.kind == fault_kind::racy) out.append("\tracy");
    if (f.kind == fault_kind::variant) out.append("\tvariant");
    if (f.kind == fault_kind::fuzz) out.append("\tfuzz");
    out.append("\n");
  }
  return out;
}

// The trigger of the "13-byte name holding a digit" faults that only fuzzing reaches: a value no
// conformance case sends (the engine's names are 3, 10, 14 and 15 bytes), but one that parley-fuzz's
// boundary lengths make.
inline bool fuzz_trigger_name(std::string_view name) noexcept {
  if (name.size() != 13) return false;
  for (char c : name)
    if (c >= '0' && c <= '9') return true;
  return false;
}

template <class Fault>
std::optional<Fault> find_fault(std::span<const fault_info<Fault>> table, std::string_view name) noexcept {
  for (const auto& f : table)
    if (f.name == name) return f.value;
  return std::nullopt;
}

}  // namespace parley::core
