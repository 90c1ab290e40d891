#include <gtest/gtest.h>

#include "conf/loader.h"

namespace baton::conf {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

TEST(ParseDuration, AcceptsEachUnit) {
  EXPECT_EQ(parseDuration("250ms").value(), milliseconds(250));
  EXPECT_EQ(parseDuration("10s").value(), seconds(10));
  EXPECT_EQ(parseDuration("2m").value(), minutes(2));
  EXPECT_EQ(parseDuration("1h").value(), hours(1));
  EXPECT_EQ(parseDuration("0s").value(), milliseconds(0));
}

TEST(ParseDuration, RefusesMalformed) {
  for (const char* bad : {"10", "10 s", " 10s", "10s ", "-1s", "+1s", "1.5s", "s", "", "10S",
                          "10sec", "1d", "10us", "1h30m", "0x10s"}) {
    auto r = parseDuration(bad);
    ASSERT_FALSE(r.has_value()) << bad;
    EXPECT_EQ(r.error().code, core::ErrorCode::ConfigInvalid);
    EXPECT_NE(r.error().detail.find("invalid duration"), std::string::npos) << r.error().detail;
  }
}

TEST(ParseDuration, RefusesOverflow) {
  auto r = parseDuration("99999999999999999999ms");  // > uint64
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().detail.find("too large"), std::string::npos);
  r = parseDuration("9223372036854775807h");  // fits uint64 as a number, not as milliseconds
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().detail.find("too large"), std::string::npos);
  EXPECT_EQ(parseDuration("9223372036854775807ms").value().count(), INT64_MAX);
}

TEST(ParseSize, AcceptsBinaryUnits) {
  EXPECT_EQ(parseSize("512").value(), 512u);
  EXPECT_EQ(parseSize("0").value(), 0u);
  EXPECT_EQ(parseSize("8KiB").value(), 8u * 1024);
  EXPECT_EQ(parseSize("1MiB").value(), 1024u * 1024);
  EXPECT_EQ(parseSize("1GiB").value(), 1024ull * 1024 * 1024);
  EXPECT_EQ(parseSize("2TiB").value(), 2ull << 40);
}

TEST(ParseSize, RefusesDecimalUnitsAndMalformed) {
  for (const char* bad : {"1TB", "1KB", "1MB", "1GB", "1kib", "1K", "1 KiB", "-1", "1.5MiB", "KiB",
                          "", "1B", "0x10"}) {
    auto r = parseSize(bad);
    ASSERT_FALSE(r.has_value()) << bad;
    EXPECT_NE(r.error().detail.find("invalid size"), std::string::npos) << r.error().detail;
  }
}

TEST(ParseSize, RefusesOverflow) {
  EXPECT_FALSE(parseSize("18446744073709551616").has_value());  // 2^64
  EXPECT_FALSE(parseSize("16777216TiB").has_value());           // 2^64 bytes
  EXPECT_EQ(parseSize("16777215TiB").value(), 16777215ull << 40);
  EXPECT_EQ(parseSize("18446744073709551615").value(), UINT64_MAX);
}

}  // namespace
}  // namespace baton::conf
