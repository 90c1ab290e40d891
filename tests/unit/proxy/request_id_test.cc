#include "proxy/request_id.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace baton::proxy {
namespace {

bool isLowerHex(const std::string& s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

TEST(RequestIdTest, ThirtyTwoLowerHexChars) {
  RequestIdGenerator gen(42);
  for (int i = 0; i < 100; ++i) {
    const std::string id = gen.next();
    ASSERT_EQ(id.size(), 32u);
    EXPECT_TRUE(isLowerHex(id)) << id;
    EXPECT_TRUE(isAcceptableRequestId(id));
  }
}

TEST(RequestIdTest, UniqueOverManyCalls) {
  RequestIdGenerator gen(7);
  std::set<std::string> seen;
  for (int i = 0; i < 10000; ++i) EXPECT_TRUE(seen.insert(gen.next()).second);
}

TEST(RequestIdTest, DeterministicPerSeedAndDistinctAcrossSeeds) {
  RequestIdGenerator a(1), b(1), c(2);
  const std::string first = a.next();
  EXPECT_EQ(first, b.next());
  EXPECT_NE(first, c.next());
}

TEST(RequestIdTest, ZeroSeedWorks) {
  RequestIdGenerator gen(0);
  EXPECT_NE(gen.next(), std::string(32, '0'));
}

TEST(RequestIdTest, BufferOverloadMatchesStringOverload) {
  RequestIdGenerator a(9), b(9);
  std::array<char, RequestIdGenerator::kLength> buf;
  a.next(buf);
  EXPECT_EQ(std::string(buf.data(), buf.size()), b.next());
}

TEST(RequestIdTest, AcceptableIds) {
  EXPECT_TRUE(isAcceptableRequestId("a"));
  EXPECT_TRUE(isAcceptableRequestId("f81d4fae-7dec-11d0-a765-00a0c91e6bf6"));
  EXPECT_TRUE(isAcceptableRequestId(std::string(200, 'x')));
  EXPECT_TRUE(isAcceptableRequestId("!~"));
}

TEST(RequestIdTest, UnacceptableIds) {
  EXPECT_FALSE(isAcceptableRequestId(""));
  EXPECT_FALSE(isAcceptableRequestId(std::string(201, 'x')));
  EXPECT_FALSE(isAcceptableRequestId("a b"));
  EXPECT_FALSE(isAcceptableRequestId("a\tb"));
  EXPECT_FALSE(isAcceptableRequestId("a\r\nX-Evil: 1"));
  EXPECT_FALSE(isAcceptableRequestId(std::string("a\0b", 3)));
  EXPECT_FALSE(isAcceptableRequestId("\x7f"));
  EXPECT_FALSE(isAcceptableRequestId("caf\xc3\xa9"));
}

TEST(RequestIdTest, StartsWithTheInstanceId) {
  RequestIdGenerator gen(3, 0x0badf00du);
  for (int i = 0; i < 10; ++i) {
    const std::string id = gen.next();
    ASSERT_EQ(id.size(), 32u);
    EXPECT_EQ(id.substr(0, 8), "0badf00d");
    EXPECT_TRUE(isLowerHex(id)) << id;
  }
  // The default prefix is this process's instance id.
  RequestIdGenerator mine(3);
  EXPECT_EQ(mine.next().substr(0, 8), thisInstance().id);
}

TEST(RequestIdTest, InstancesOfOneTaskShareAnIdOthersDiffer) {
  const auto a = instanceIdentityFor("baton.6f0d2a1c-1d2e-11ef-9c4b-0242ac110002");
  const auto b = instanceIdentityFor("baton.6f0d2a1c-1d2e-11ef-9c4b-0242ac110002");
  const auto c = instanceIdentityFor("baton.7a3e9b20-1d2e-11ef-9c4b-0242ac110002");
  EXPECT_EQ(a.id, b.id);
  EXPECT_NE(a.id, c.id);
  EXPECT_EQ(a.id.size(), 8u);
  EXPECT_TRUE(isLowerHex(a.id));
  EXPECT_EQ(a.task_id, "baton.6f0d2a1c-1d2e-11ef-9c4b-0242ac110002");
  // No task id: random per process (two draws differ with overwhelming probability).
  const auto r1 = instanceIdentityFor("");
  const auto r2 = instanceIdentityFor("");
  EXPECT_TRUE(r1.task_id.empty());
  EXPECT_NE(r1.id, r2.id);
}

TEST(RequestIdTest, UniqueAcrossInstancesWithTheSameSeed) {
  // Two instances whose workers happened to draw the same seed still never collide.
  RequestIdGenerator a(5, 1), b(5, 2);
  EXPECT_NE(a.next(), b.next());
}

}  // namespace
}  // namespace baton::proxy
