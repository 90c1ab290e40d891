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

// The word-at-a-time comparison against a byte-at-a-time reference: every pair of bytes at every
// offset of short and word-crossing lengths (capitals, the bytes next to 'A'-'Z' and 'a'-'z',
// obs-text, a byte differing only in 0x20).
TEST(MessageTest, EqualsIgnoreCaseMatchesAByteLoopForEveryBytePair) {
  const auto lower = [](unsigned char c) { return (c >= 'A' && c <= 'Z') ? c + 32 : c; };
  for (size_t len : {1u, 7u, 8u, 9u, 14u, 16u, 17u}) {
    for (size_t at = 0; at < len; ++at) {
      std::string a(len, 'k');
      std::string b(len, 'K');
      for (int x = 0; x < 256; ++x) {
        for (int y = 0; y < 256; ++y) {
          a[at] = static_cast<char>(x);
          b[at] = static_cast<char>(y);
          const bool expected =
              lower(static_cast<unsigned char>(x)) == lower(static_cast<unsigned char>(y));
          if (equalsIgnoreCaseSameSize(a, b) != expected) {
            FAIL() << "len " << len << " at " << at << " bytes " << x << " " << y;
          }
        }
      }
    }
  }
  EXPECT_TRUE(equalsIgnoreCase("TRANSFER-ENCODING", "transfer-encoding"));
  EXPECT_FALSE(equalsIgnoreCase("transfer-encodinG", "transfer-encodinh"));
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
