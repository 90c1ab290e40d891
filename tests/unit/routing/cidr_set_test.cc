#include "routing/cidr_set.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include <cstring>

namespace baton::routing {
namespace {

sockaddr_storage addr(const char* text) {
  sockaddr_storage ss{};
  auto* v4 = reinterpret_cast<sockaddr_in*>(&ss);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&ss);
  if (inet_pton(AF_INET, text, &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
  } else {
    EXPECT_EQ(inet_pton(AF_INET6, text, &v6->sin6_addr), 1) << text;
    v6->sin6_family = AF_INET6;
  }
  return ss;
}

bool has(const CidrSet& set, const char* text) {
  const sockaddr_storage ss = addr(text);
  return set.contains(reinterpret_cast<const sockaddr*>(&ss));
}

TEST(CidrSetTest, MatchesV4V6AndMapped) {
  auto set = CidrSet::create({"127.0.0.1/32", "10.0.0.0/8", "fd00::/8"});
  ASSERT_TRUE(set.has_value()) << set.error().detail;
  EXPECT_TRUE(has(*set, "127.0.0.1"));
  EXPECT_FALSE(has(*set, "127.0.0.2"));
  EXPECT_TRUE(has(*set, "10.255.0.1"));
  EXPECT_TRUE(has(*set, "::ffff:10.1.2.3"));
  EXPECT_TRUE(has(*set, "fd12::1"));
  EXPECT_FALSE(has(*set, "fe80::1"));
  EXPECT_FALSE(set->contains(nullptr));
}

TEST(CidrSetTest, BareAddressesAndZeroPrefix) {
  auto set = CidrSet::create({"::1", "0.0.0.0/0"});
  ASSERT_TRUE(set.has_value());
  EXPECT_TRUE(has(*set, "::1"));
  EXPECT_TRUE(has(*set, "192.0.2.1"));
  EXPECT_FALSE(has(*set, "::2"));
}

TEST(CidrSetTest, RefusesBadEntries) {
  for (const char* bad : {"10.0.0.1/8", "10.0.0.0/33", "x", "1.2.3.4/", "::1/129", "fd00::1/8"}) {
    auto set = CidrSet::create({bad});
    EXPECT_FALSE(set.has_value()) << bad;
  }
  EXPECT_TRUE(CidrSet::create({}).value().empty());
}

}  // namespace
}  // namespace baton::routing
