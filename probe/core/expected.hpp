// probe/core/expected.hpp — a value, or why there is none: the part of C++23's
// std::expected that probe/ uses, under the same names (g++ 12 ships std::expected only
// with -std=c++23). Moving to C++23 turns this header into two using-declarations.
//
//   expected<dns_target, target_error> parse_dns_target(std::string_view text);
//   if (auto t = parse_dns_target(text)) use(*t); else say(t.error().message());
//
// The error is a std::error_code, or a small type that carries one (target_error), or
// the one-line reason a user reads when the reason is made of several parts (a file name
// and what the system said). Results never throw: reading the value of an error, or the
// error of a value, is a bug (asserted).
#pragma once

#include <cassert>
#include <optional>
#include <type_traits>
#include <utility>
#include <variant>

namespace probe {

// What a function returns instead of its value: `return unexpected(reason);`.
template <class E>
class unexpected {
 public:
  explicit unexpected(E e) : error_(std::move(e)) {}
  const E& error() const& noexcept { return error_; }
  E&& error() && noexcept { return std::move(error_); }

 private:
  E error_;
};
template <class E>
unexpected(E) -> unexpected<E>;

template <class T, class E>
class expected {
 public:
  using value_type = T;
  using error_type = E;

  expected() requires std::is_default_constructible_v<T> : v_(std::in_place_index<0>) {}
  expected(const T& value) : v_(std::in_place_index<0>, value) {}
  expected(T&& value) : v_(std::in_place_index<0>, std::move(value)) {}
  template <class G>
  expected(unexpected<G> e) : v_(std::in_place_index<1>, std::move(e).error()) {}

  bool has_value() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return has_value(); }

  T& value() & noexcept {
    assert(has_value());
    return *std::get_if<0>(&v_);
  }
  const T& value() const& noexcept {
    assert(has_value());
    return *std::get_if<0>(&v_);
  }
  T&& value() && noexcept { return std::move(value()); }
  T& operator*() & noexcept { return value(); }
  const T& operator*() const& noexcept { return value(); }
  T&& operator*() && noexcept { return std::move(*this).value(); }
  T* operator->() noexcept { return &value(); }
  const T* operator->() const noexcept { return &value(); }

  const E& error() const& noexcept {
    assert(!has_value());
    return *std::get_if<1>(&v_);
  }
  E&& error() && noexcept {
    assert(!has_value());
    return std::move(*std::get_if<1>(&v_));
  }

 private:
  std::variant<T, E> v_;
};

// Success without a value, or the error: `expected<void, E> f(); if (auto r = f(); !r) …`.
template <class E>
class expected<void, E> {
 public:
  using value_type = void;
  using error_type = E;

  expected() = default;
  template <class G>
  expected(unexpected<G> e) : error_(std::in_place, std::move(e).error()) {}

  bool has_value() const noexcept { return !error_.has_value(); }
  explicit operator bool() const noexcept { return has_value(); }

  const E& error() const& noexcept {
    assert(!has_value());
    return *error_;
  }
  E&& error() && noexcept {
    assert(!has_value());
    return std::move(*error_);
  }

 private:
  std::optional<E> error_;
};

}  // namespace probe
