#include "proxy/core/borrowed_string.h"

#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <string_view>
#include <type_traits>

#include "proxy/core/string_keyed.h"

namespace baton::core {
namespace {

std::string makeName() {
  return "shop_10_0_0_1_31000_long_enough_for_the_heap";
}

// What the type is for: these lines would compile with a plain string_view and dangle.
static_assert(!std::is_constructible_v<BorrowedString, std::string>);
static_assert(!std::is_constructible_v<BorrowedString, std::string&&>);
static_assert(!std::is_constructible_v<BorrowedString, const std::string&&>);
static_assert(!std::is_assignable_v<BorrowedString&, std::string>);
static_assert(!std::is_assignable_v<BorrowedString&, decltype(makeName())>);
// And what it still takes: storage that outlives the statement, views, literals.
static_assert(std::is_assignable_v<BorrowedString&, std::string&>);
static_assert(std::is_assignable_v<BorrowedString&, const std::string&>);
static_assert(std::is_constructible_v<BorrowedString, std::string_view>);  // explicitly
static_assert(!std::is_convertible_v<std::string_view, BorrowedString>);
// (A runtime const char*, such as a temporary's c_str(), is refused too: that constructor is
// consteval, which a type trait cannot see.)
static_assert(!std::is_constructible_v<BorrowedString, std::nullptr_t>);
static_assert(std::is_convertible_v<BorrowedString, std::string_view>);
static_assert(sizeof(BorrowedString) == sizeof(std::string_view));

TEST(BorrowedStringTest, ReadsAsTheStringItViews) {
  const std::string owner = makeName();
  BorrowedString view = owner;
  EXPECT_EQ(view.data(), owner.data());
  EXPECT_EQ(view, owner);
  EXPECT_EQ(view, "shop_10_0_0_1_31000_long_enough_for_the_heap");
  EXPECT_EQ(view.substr(0, 4), "shop");
  EXPECT_TRUE(view.starts_with("shop_"));
  std::ostringstream out;
  out << view;
  EXPECT_EQ(out.str(), owner);
  EXPECT_EQ(std::string(view), owner);
}

TEST(BorrowedStringTest, LooksUpStringKeyedContainers) {
  StringMap<int> counts;
  counts.emplace("10.0.0.1:31000", 7);
  const std::string address = "10.0.0.1:31000";
  const BorrowedString view = address;
  const auto found = counts.find(view);
  ASSERT_NE(found, counts.end());
  EXPECT_EQ(found->second, 7);
  EXPECT_EQ(slotFor(counts, view), 7);
}

TEST(BorrowedStringTest, DefaultIsEmptyAndComparesByContent) {
  BorrowedString empty;
  BorrowedString literal = "web";  // a literal is fine: it lives for the whole program
  EXPECT_EQ(literal, "web");
  EXPECT_TRUE(empty.empty());
  const std::string a = "web";
  const std::string b = "web";
  EXPECT_EQ(BorrowedString(a), BorrowedString(b));
  EXPECT_NE(BorrowedString(a), BorrowedString("api"));
}

}  // namespace
}  // namespace baton::core
