// The shape of every protocol's table of planted faults (`parley-server P --fault NAME`): each fault's
// enum value, its command-line name and what it breaks. Protocols keep their own enum and table.
#pragma once

#include <optional>
#include <span>
#include <string_view>

namespace parley::core {

template <class Fault>
struct fault_info {
  Fault value;
  std::string_view name;
  std::string_view description;
};

template <class Fault>
std::optional<Fault> find_fault(std::span<const fault_info<Fault>> table, std::string_view name) noexcept {
  for (const auto& f : table)
    if (f.name == name) return f.value;
  return std::nullopt;
}

}  // namespace parley::core
