// Header lookups.
#include "proxy/http1/message.h"

#include <gtest/gtest.h>

namespace baton::proxy::http1 {
namespace {

TEST(MessageTest, Lookups) {
  const HeaderList hs = {{"Host", "a"}, {"X-A", "1"}, {"x-a", "2"}};
  EXPECT_TRUE(equalsIgnoreCase("Content-Length", "content-LENGTH"));
  EXPECT_FALSE(equalsIgnoreCase("Host", "Hosts"));
  EXPECT_FALSE(equalsIgnoreCase("a_b", "a-b"));
  ASSERT_NE(findHeader(hs, "X-a"), nullptr);
  EXPECT_EQ(*findHeader(hs, "X-a"), "1");
  EXPECT_EQ(findHeader(hs, "missing"), nullptr);
  EXPECT_EQ(countHeader(hs, "x-A"), 2u);
  RequestHead h;
  EXPECT_FALSE(h.hasBody());
  h.content_length = 0;
  EXPECT_FALSE(h.hasBody());
  h.content_length = 1;
  EXPECT_TRUE(h.hasBody());
}

// The per-thread stock of header lists: a recycled list comes back empty with its capacity (its
// strings gone), an oversized one is not kept, and the caller's list is left empty either way.
TEST(MessageTest, HeaderListsAreRecycledEmptyWithTheirCapacity) {
  HeaderList a = takeHeaderList(16);
  EXPECT_TRUE(a.empty());
  EXPECT_GE(a.capacity(), 16u);
  a.push_back({"X-Long-Name-Beyond-SSO", std::string(100, 'v')});
  const HeaderField* storage = a.data();
  recycleHeaderList(a);
  EXPECT_TRUE(a.empty());
  HeaderList b = takeHeaderList(4);
  EXPECT_TRUE(b.empty());
  EXPECT_EQ(b.data(), storage);  // the same vector, not a new allocation
  EXPECT_GE(b.capacity(), 16u);
  b.resize(1);
  EXPECT_TRUE(b[0].name.empty() && b[0].value.empty());  // a fresh field, not the old strings

  HeaderList huge;
  huge.reserve(1000);
  recycleHeaderList(huge);  // too big to keep: left as it was
  EXPECT_EQ(huge.capacity(), 1000u);
  HeaderList c = takeHeaderList(2);
  EXPECT_NE(c.data(), huge.data());
  EXPECT_LT(c.capacity(), 1000u);
}

}  // namespace
}  // namespace baton::proxy::http1
