// A std::string_view that refuses to bind to a temporary std::string.
//
// Fields that view text owned elsewhere (upstream::Host's address, name and task id view the
// conf::HostSpec their cluster keeps alive) are a lifetime contract g++ 12 does not check:
// `host.name = std::string(...)` or `host.name = makeName()` compiles, and the view dangles at
// the end of the statement. BorrowedString is a string_view in every other respect (it derives
// from one), so reading code is unchanged; only building one from an rvalue std::string is a
// compile error. A string_view argument is still taken as given: whoever holds a view already
// made the lifetime decision, and names the type to pass one.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

// In a namespace of its own, with nothing else in it: a call taking a BorrowedString argument
// finds functions by argument-dependent lookup in the class's namespace, and baton::core's
// string_view functions (stableHash, ...) would then collide with callers' own.
namespace baton::core::borrowed {

class BorrowedString : public std::string_view {
 public:
  constexpr BorrowedString() noexcept = default;
  // consteval: only a pointer known at compile time (a literal), never a temporary's c_str().
  consteval BorrowedString(const char* text) : std::string_view(text) {}  // NOLINT: literals
  BorrowedString(std::nullptr_t) = delete;
  // Explicit: a view already made its lifetime decision, but saying so keeps `cond ? borrowed :
  // view` unambiguous (the result is then the view).
  constexpr explicit BorrowedString(std::string_view view) noexcept : std::string_view(view) {}
  BorrowedString(const std::string& owner) noexcept  // NOLINT: an lvalue outlives the call
      : std::string_view(owner) {}
  // The point of the type: the string would be destroyed at the end of the full expression.
  BorrowedString(std::string&&) = delete;
  BorrowedString(const std::string&&) = delete;
};

}  // namespace baton::core::borrowed

namespace baton::core {
using borrowed::BorrowedString;
}  // namespace baton::core
