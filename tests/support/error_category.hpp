// tests/support/error_category.hpp — the walk each error category's test makes over its
// enum, as Beast's test/beast/http/error.cpp does for http::error: every enumerator has
// the category's name, a message of its own (not empty, not another's), and comes back
// as itself through std::error_code and the category's equivalence.
// Include after <ostream> and <doctest/doctest.h>: the checks report through doctest.
#pragma once

#include <doctest/doctest.h>

#include <set>
#include <string>
#include <string_view>
#include <system_error>

namespace test_support {

// Walks `Errc` from 0 (`ok`, which is no error) up to the first value whose message is
// `unknown`: a value the category's switch does not name (g++ -Wswitch makes every
// enumerator named). `last` is the enum's last enumerator, so the walk is known to have
// reached it.
template <class Errc>
void walk_error_category(const std::error_category& category, std::string_view name, Errc last, std::string_view unknown) {
  std::set<std::string> messages;
  int v = 0;
  for (; v < 1000; ++v) {
    const auto e = static_cast<Errc>(v);
    const std::error_code ec = e;  // through is_error_code_enum and make_error_code
    if (ec.message() == unknown) break;
    CAPTURE(v);
    CAPTURE(ec.message());
    CHECK(&ec.category() == &category);
    CHECK(std::string_view(ec.category().name()) == name);
    CHECK(ec.value() == v);
    CHECK(ec == e);
    CHECK(static_cast<bool>(ec) == (v != 0));
    CHECK_FALSE(ec.message().empty());
    CHECK_MESSAGE(messages.insert(ec.message()).second, "two enumerators share the message");
    CHECK(category.equivalent(v, category.default_error_condition(v)));
    CHECK(category.equivalent(ec, v));
    CHECK_FALSE(category.equivalent(ec, v + 1));
  }
  CHECK_MESSAGE(v > static_cast<int>(last), "the walk ended before the last enumerator: one has no message");
  CHECK(std::error_code(v, category).message() == unknown);
}

}  // namespace test_support
