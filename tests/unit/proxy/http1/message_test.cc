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

}  // namespace
}  // namespace baton::proxy::http1
