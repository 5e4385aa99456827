// A value or the std::error_code that explains why there is none. The codecs and hubs never throw
// (ARCHITECTURE: errors), so every fallible function in them returns one of these.
#pragma once

#include <system_error>
#include <utility>
#include <variant>

namespace parley {

template <class T>
class result {
public:
  result(T value) : state_(std::move(value)) {}
  result(std::error_code error) : state_(error) {}
  template <class E>
    requires std::is_error_code_enum_v<E>
  result(E error) : state_(make_error_code(error)) {}

  bool has_value() const noexcept { return state_.index() == 0; }
  explicit operator bool() const noexcept { return has_value(); }

  T& value() & { return std::get<0>(state_); }
  const T& value() const& { return std::get<0>(state_); }
  T&& value() && { return std::get<0>(std::move(state_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  // The error; an empty error_code when there is a value.
  std::error_code error() const noexcept {
    return has_value() ? std::error_code{} : std::get<1>(state_);
  }

private:
  std::variant<T, std::error_code> state_;
};

}  // namespace parley
