// Sticky cookie helpers: finding the cookie among others, removing it for the upstream
// (`indirect`), and the Set-Cookie / Cache-Control pair (`insert nocache`).
#include "proxy/sticky_cookie.h"

#include <gtest/gtest.h>

namespace baton::proxy {
namespace {

using http1::HeaderList;

constexpr std::string_view kName = "mesosphere_server_id";

TEST(FindCookieTest, FindsAmongOthersAndAcrossFields) {
  HeaderList h = {{"Cookie", "a=1; mesosphere_server_id=84c5b17305; b=2"}};
  EXPECT_EQ(findCookie(h, kName), "84c5b17305");
  h = {{"Cookie", "a=1"}, {"cookie", "mesosphere_server_id=abc"}};
  EXPECT_EQ(findCookie(h, kName), "abc");
  h = {{"Cookie", "xmesosphere_server_id=1;mesosphere_server_id = v ;"}};
  EXPECT_EQ(findCookie(h, kName), "v");
  h = {{"Cookie", "Mesosphere_Server_Id=1"}};  // names are case-sensitive
  EXPECT_EQ(findCookie(h, kName), "");
  EXPECT_EQ(findCookie({}, kName), "");
}

TEST(RemoveCookieTest, RemovesOnlyThatCookie) {
  HeaderList h = {{"Host", "x"}, {"Cookie", "a=1; mesosphere_server_id=v; b=2"}};
  removeCookie(h, kName);
  ASSERT_EQ(h.size(), 2u);
  EXPECT_EQ(h[1].value, "a=1; b=2");
}

TEST(RemoveCookieTest, DropsAFieldLeftEmpty) {
  HeaderList h = {{"Cookie", "mesosphere_server_id=v"}, {"Cookie", "c=3"}, {"Accept", "*/*"}};
  removeCookie(h, kName);
  ASSERT_EQ(h.size(), 2u);
  EXPECT_EQ(h[0].name, "Cookie");
  EXPECT_EQ(h[0].value, "c=3");
  EXPECT_EQ(h[1].name, "Accept");
}

TEST(RemoveCookieTest, LeavesOtherFieldsByteIdentical) {
  HeaderList h = {{"Cookie", "a=1;b=2"}, {"X-Note", "mesosphere_server_id=v"}};
  removeCookie(h, kName);
  EXPECT_EQ(h[0].value, "a=1;b=2");  // not rewritten: nothing removed
  EXPECT_EQ(h[1].value, "mesosphere_server_id=v");
}

TEST(AddStickyCookieTest, SetsCookieAndPrivateCacheControl) {
  HeaderList h = {{"Content-Type", "text/plain"}};
  addStickyCookie(h, kName, "84c5b17305");
  ASSERT_EQ(h.size(), 3u);
  EXPECT_EQ(h[1].name, "Set-Cookie");
  EXPECT_EQ(h[1].value, "mesosphere_server_id=84c5b17305; path=/");
  EXPECT_EQ(h[2].name, "Cache-Control");
  EXPECT_EQ(h[2].value, "private");
}

TEST(AddStickyCookieTest, KeepsTheUpstreamsCacheControl) {
  HeaderList h = {{"cache-control", "no-store"}};
  addStickyCookie(h, kName, "v");
  ASSERT_EQ(h.size(), 2u);
  EXPECT_EQ(h[0].value, "no-store");
  EXPECT_EQ(h[1].name, "Set-Cookie");
}

}  // namespace
}  // namespace baton::proxy
