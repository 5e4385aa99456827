// std::visit with one lambda per alternative: std::visit(overloaded{[](const A&) {...}, ...}, v).
#pragma once

namespace parley::core {

template <class... F>
struct overloaded : F... {
  using F::operator()...;
};
template <class... F>
overloaded(F...) -> overloaded<F...>;  // clang 14 does not deduce aggregates by itself

}  // namespace parley::core
