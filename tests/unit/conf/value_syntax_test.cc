#include "conf/value_syntax.h"

#include <gtest/gtest.h>

namespace baton::conf {
namespace {

TEST(ListenerAddress, AcceptsNumericForms) {
  for (const char* ok :
       {"127.0.0.1:8080", "0.0.0.0:80", "[::1]:8080", "[::]:0", ":8080", ":0", "127.0.0.1:65535"}) {
    EXPECT_TRUE(checkListenerAddress(ok).has_value()) << ok;
  }
}

TEST(ListenerAddress, RefusesBadForms) {
  for (const char* bad : {"localhost:80", "127.0.0.1", "127.0.0.1:", "127.0.0.1:65536",
                          "127.0.0.1:-1", "127.0.0.1:80a", "::1:80", "[127.0.0.1]:80", "[::1]80",
                          "[::1:80", "", ":", "1.2.3:80", "127.0.0.1:080000", " 127.0.0.1:80"}) {
    EXPECT_FALSE(checkListenerAddress(bad).has_value()) << bad;
  }
}

TEST(HostAddress, RefusesWildcardAndPortZero) {
  EXPECT_TRUE(checkHostAddress("127.0.0.1:9001").has_value());
  EXPECT_TRUE(checkHostAddress("[fd00::1]:9001").has_value());
  EXPECT_FALSE(checkHostAddress(":9001").has_value());
  EXPECT_FALSE(checkHostAddress("127.0.0.1:0").has_value());
  EXPECT_FALSE(checkHostAddress("backend.local:9001").has_value());
}

TEST(Cidr, NormalisesAndChecksHostBits) {
  EXPECT_EQ(normaliseCidr("10.0.0.0/8").value(), "10.0.0.0/8");
  EXPECT_EQ(normaliseCidr("192.168.1.7").value(), "192.168.1.7/32");
  EXPECT_EQ(normaliseCidr("::1").value(), "::1/128");
  EXPECT_EQ(normaliseCidr("fd00::/8").value(), "fd00::/8");
  EXPECT_EQ(normaliseCidr("0.0.0.0/0").value(), "0.0.0.0/0");
  EXPECT_FALSE(normaliseCidr("10.0.0.1/8").has_value());
  EXPECT_FALSE(normaliseCidr("10.0.0.0/33").has_value());
  EXPECT_FALSE(normaliseCidr("10.0.0.0/").has_value());
  EXPECT_FALSE(normaliseCidr("10.0.0.0/8/8").has_value());
  EXPECT_FALSE(normaliseCidr("fd00::/129").has_value());
  EXPECT_FALSE(normaliseCidr("example.com/8").has_value());
  EXPECT_FALSE(normaliseCidr("").has_value());
}

TEST(Domain, AcceptsExactWildcardDefaultAndLowercases) {
  EXPECT_EQ(normaliseDomain("*").value(), "*");
  EXPECT_EQ(normaliseDomain("Example.COM").value(), "example.com");
  EXPECT_EQ(normaliseDomain("*.example.com").value(), "*.example.com");
  EXPECT_EQ(normaliseDomain("xn--bcher-kva.example").value(), "xn--bcher-kva.example");
  EXPECT_EQ(normaliseDomain("localhost").value(), "localhost");
}

TEST(Domain, RefusesBadForms) {
  for (const char* bad :
       {"", "example.com:80", "a..b", ".example.com", "example.com.", "*.", "**.example.com",
        "a.*.com", "*example.com", "exa mple.com", "bücher.example"}) {
    EXPECT_FALSE(normaliseDomain(bad).has_value()) << bad;
  }
}

TEST(RoutePrefix, Checks) {
  EXPECT_TRUE(checkRoutePrefix("/").has_value());
  EXPECT_TRUE(checkRoutePrefix("/api/v1").has_value());
  EXPECT_TRUE(checkRoutePrefix("/电影").has_value());
  EXPECT_TRUE(checkRoutePrefix("/%E7%94%B5").has_value());
  EXPECT_FALSE(checkRoutePrefix("api").has_value());
  EXPECT_FALSE(checkRoutePrefix("").has_value());
  EXPECT_FALSE(checkRoutePrefix("/a b").has_value());
  EXPECT_FALSE(checkRoutePrefix("/a?b").has_value());
  EXPECT_FALSE(checkRoutePrefix("/a#b").has_value());
  EXPECT_FALSE(checkRoutePrefix("/a\tb").has_value());
  EXPECT_FALSE(checkRoutePrefix("/a\x7f").has_value());
}

}  // namespace
}  // namespace baton::conf
