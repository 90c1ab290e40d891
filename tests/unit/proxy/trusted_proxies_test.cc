#include "proxy/trusted_proxies.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include <cstring>
#include <string>

namespace baton::proxy {
namespace {

sockaddr_storage v4(const char* text) {
  sockaddr_storage ss{};
  auto* sin = reinterpret_cast<sockaddr_in*>(&ss);
  sin->sin_family = AF_INET;
  EXPECT_EQ(inet_pton(AF_INET, text, &sin->sin_addr), 1) << text;
  return ss;
}

sockaddr_storage v6(const char* text) {
  sockaddr_storage ss{};
  auto* sin6 = reinterpret_cast<sockaddr_in6*>(&ss);
  sin6->sin6_family = AF_INET6;
  EXPECT_EQ(inet_pton(AF_INET6, text, &sin6->sin6_addr), 1) << text;
  return ss;
}

bool contains(const TrustedProxies& t, const sockaddr_storage& ss) {
  return t.contains(reinterpret_cast<const sockaddr*>(&ss));
}

TEST(TrustedProxiesTest, EmptyListTrustsNobody) {
  auto t = TrustedProxies::create({});
  ASSERT_TRUE(t.has_value());
  EXPECT_TRUE(t->empty());
  EXPECT_FALSE(contains(*t, v4("127.0.0.1")));
  EXPECT_FALSE(contains(*t, v6("::1")));
}

TEST(TrustedProxiesTest, V4Ranges) {
  auto t = TrustedProxies::create({"10.0.0.0/8", "192.168.1.0/24", "127.0.0.1"});
  ASSERT_TRUE(t.has_value()) << t.error().detail;
  EXPECT_FALSE(t->empty());
  EXPECT_TRUE(contains(*t, v4("10.0.0.0")));
  EXPECT_TRUE(contains(*t, v4("10.255.255.255")));
  EXPECT_FALSE(contains(*t, v4("11.0.0.0")));
  EXPECT_FALSE(contains(*t, v4("9.255.255.255")));
  EXPECT_TRUE(contains(*t, v4("192.168.1.77")));
  EXPECT_FALSE(contains(*t, v4("192.168.2.1")));
  EXPECT_TRUE(contains(*t, v4("127.0.0.1")));
  EXPECT_FALSE(contains(*t, v4("127.0.0.2")));
}

TEST(TrustedProxiesTest, ZeroPrefixMatchesEverythingInItsFamily) {
  auto t = TrustedProxies::create({"0.0.0.0/0"});
  ASSERT_TRUE(t.has_value());
  EXPECT_TRUE(contains(*t, v4("1.2.3.4")));
  EXPECT_FALSE(contains(*t, v6("2001:db8::1")));
  auto t6 = TrustedProxies::create({"::/0"});
  ASSERT_TRUE(t6.has_value());
  EXPECT_TRUE(contains(*t6, v6("2001:db8::1")));
}

TEST(TrustedProxiesTest, V6Ranges) {
  auto t = TrustedProxies::create({"::1/128", "fd00::/8", "2001:db8:abc8::/45"});
  ASSERT_TRUE(t.has_value()) << t.error().detail;
  EXPECT_TRUE(contains(*t, v6("::1")));
  EXPECT_FALSE(contains(*t, v6("::2")));
  EXPECT_TRUE(contains(*t, v6("fd12:3456::1")));
  EXPECT_FALSE(contains(*t, v6("fe80::1")));
  EXPECT_TRUE(contains(*t, v6("2001:db8:abcf:ffff::1")));  // /45: third group abc8..abcf
  EXPECT_FALSE(contains(*t, v6("2001:db8:abd0::1")));
  EXPECT_FALSE(contains(*t, v4("127.0.0.1")));
}

TEST(TrustedProxiesTest, V4MappedV6PeerMatchesV4Range) {
  auto t = TrustedProxies::create({"10.0.0.0/8"});
  ASSERT_TRUE(t.has_value());
  EXPECT_TRUE(contains(*t, v6("::ffff:10.1.2.3")));
  EXPECT_FALSE(contains(*t, v6("::ffff:11.1.2.3")));
}

TEST(TrustedProxiesTest, V4MappedRangeIsStoredAsV4) {
  auto t = TrustedProxies::create({"::ffff:10.0.0.0/104"});
  ASSERT_TRUE(t.has_value()) << t.error().detail;
  EXPECT_TRUE(contains(*t, v4("10.9.9.9")));
  EXPECT_TRUE(contains(*t, v6("::ffff:10.9.9.9")));
  EXPECT_FALSE(contains(*t, v4("11.0.0.1")));
}

TEST(TrustedProxiesTest, NullAndOtherFamilies) {
  auto t = TrustedProxies::create({"0.0.0.0/0", "::/0"});
  ASSERT_TRUE(t.has_value());
  EXPECT_FALSE(t->contains(nullptr));
  sockaddr_storage ss{};
  ss.ss_family = AF_UNIX;
  EXPECT_FALSE(contains(*t, ss));
}

TEST(TrustedProxiesTest, RefusesBadEntries) {
  for (const char* bad :
       {"", "/8", "10.0.0.0/", "10.0.0.0/33", "10.0.0.0/-1", "10.0.0.0/8x", "10.0.0.1/8", "10.0.0",
        "example.com", "::1/129", "fe80::1/10", "10.0.0.0/0008", " 10.0.0.0/8", "10.0.0.0/ 8"}) {
    auto t = TrustedProxies::create({"127.0.0.1", bad});
    ASSERT_FALSE(t.has_value()) << '"' << bad << '"';
    EXPECT_EQ(t.error().code, core::ErrorCode::ConfigInvalid);
    EXPECT_NE(t.error().detail.find(std::string("\"") + bad + "\""), std::string::npos)
        << t.error().detail;
  }
}

}  // namespace
}  // namespace baton::proxy
