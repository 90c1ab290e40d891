// gatherFacts (routing/pinning_facts.inl) and sharedFreshness (routing/pinning.h).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "routing/pinning.h"

namespace baton::routing::pin {
namespace {

struct Field {
  std::string name;
  std::string value;
};
using Fields = std::vector<Field>;

RequestFacts gather(const Fields& fields, std::string_view header = "x-deployment-id",
                    std::string_view cookie = "baton_pin") {
  return gatherFacts("GET", "/a.js", "dpl=v1", fields, header, cookie);
}

TEST(PinFacts, CopiesTheRequestLine) {
  const RequestFacts f = gather({});
  EXPECT_EQ(f.method, "GET");
  EXPECT_EQ(f.path, "/a.js");
  EXPECT_EQ(f.query, "dpl=v1");
  EXPECT_FALSE(f.cdn_marked);
  EXPECT_FALSE(f.range);
}

TEST(PinFacts, ReadsFieldsCaseInsensitivelyFirstWins) {
  const RequestFacts f = gather({{"SEC-FETCH-DEST", "document"},
                                 {"sec-fetch-dest", "script"},
                                 {"aCCept", "text/html"},
                                 {"Accept", "*/*"},
                                 {"If-None-Match", "\"e1\""},
                                 {"if-none-match", "\"e2\""},
                                 {"X-Deployment-ID", "v2"},
                                 {"x-deployment-id", "v3"},
                                 {"RANGE", "bytes=0-1"}});
  EXPECT_EQ(f.sec_fetch_dest, "document");
  EXPECT_EQ(f.accept, "text/html");
  EXPECT_EQ(f.if_none_match, "\"e1\"");
  EXPECT_EQ(f.deployment_header, "v2");
  EXPECT_TRUE(f.range);
  EXPECT_FALSE(f.cdn_marked);
}

TEST(PinFacts, ConfiguredHeaderName) {
  EXPECT_EQ(gather({{"X-Build", "b7"}}, "x-build").deployment_header, "b7");
  EXPECT_EQ(gather({{"X-Build", "b7"}}, "").deployment_header, "");
  EXPECT_EQ(gather({{"X-Deployment-Id", "b7"}}, "x-build").deployment_header, "");
}

TEST(PinFacts, CookieSearchedInEveryCookieField) {
  EXPECT_EQ(gather({{"Cookie", "a=1; baton_pin=v2; b=3"}}).pin_cookie, "v2");
  EXPECT_EQ(gather({{"Cookie", "a=1"}, {"cookie", "b=2;baton_pin=\"v3\""}}).pin_cookie, "v3");
  EXPECT_EQ(gather({{"Cookie", "baton_pin=v1"}, {"Cookie", "baton_pin=v2"}}).pin_cookie, "v1");
  EXPECT_EQ(gather({{"Cookie", "Baton_Pin=v1; xbaton_pin=v2; baton_pin2=v3"}}).pin_cookie, "");
  EXPECT_EQ(gather({{"Cookie", "baton_pin=v1"}}, "x", "").pin_cookie, "");
  EXPECT_EQ(gather({{"Cookie", "baton_pin="}}).pin_cookie, "");
}

TEST(PinFacts, CdnMarks) {
  for (const char* mark : {"CDN-Loop", "X-Varnish", "x-amz-cf-id", "CF-Ray", "Fastly-FF",
                           "Akamai-Origin-Hop", "X-Azure-FDID"}) {
    EXPECT_TRUE(gather({{"Host", "h"}, {mark, "1"}}).cdn_marked) << mark;
  }
  for (const char* via :
       {"1.1 varnish (Varnish/7.1)", "1.1 abc.cloudfront.net (CloudFront)", "1.1 google",
        "1.1 akamai.net(ghost) (AkamaiGHost)", "1.1 cache-fra1 (Fastly)", "1.1 Cloudflare",
        "1.0 proxy (squid/5.7)", "1.1 BunnyCDN-DE1"}) {
    EXPECT_TRUE(gather({{"Via", via}}).cdn_marked) << via;
  }
  EXPECT_FALSE(gather({{"Via", "1.1 baton"}}).cdn_marked);
  // Any Via naming a CDN counts, not only the first.
  EXPECT_TRUE(gather({{"Via", "1.1 baton"}, {"VIA", "1.1 VARNISH"}}).cdn_marked);
  EXPECT_FALSE(gather({{"X-Forwarded-For", "1.2.3.4"}, {"User-Agent", "curl"}}).cdn_marked);
}

TEST(PinFacts, WorksOverAnyContainer) {
  struct Item {
    std::string_view name, value;
  };
  const Item items[] = {{"Accept", "text/html"}, {"CF-Ray", "x"}};
  const RequestFacts f = gatherFacts("HEAD", "/", "", items, "x-deployment-id", "baton_pin");
  EXPECT_EQ(f.accept, "text/html");
  EXPECT_TRUE(f.cdn_marked);
}

// ---- sharedFreshness ----------------------------------------------------------------------

constexpr std::string_view kDate = "Sun, 06 Nov 1994 08:49:37 GMT";

std::optional<int64_t> fresh(std::string_view cc, std::string_view expires = "",
                             std::string_view date = "", std::string_view age = "") {
  return sharedFreshness(cc, expires, date, age);
}

TEST(PinFreshness, MaxAgeAndSMaxage) {
  EXPECT_EQ(fresh("max-age=60"), 60);
  EXPECT_EQ(fresh("public, max-age=300"), 300);
  EXPECT_EQ(fresh("max-age=60, s-maxage=600"), 600);  // s-maxage wins for a shared cache
  EXPECT_EQ(fresh("S-MAXAGE=5, Max-Age=60"), 5);
  EXPECT_EQ(fresh("max-age=\"120\""), 120);
  EXPECT_EQ(fresh(" max-age = 30 "), 30);
  EXPECT_EQ(fresh("max-age=0"), 0);
  EXPECT_EQ(fresh("max-age=abc"), 0);  // invalid: stale
  EXPECT_EQ(fresh("max-age=-5"), 0);
  EXPECT_EQ(fresh("max-age=99999999999999999999"), int64_t{1} << 31);
  EXPECT_EQ(fresh("max-age=10, max-age=20"), 10);  // first one
}

TEST(PinFreshness, NotStorableOrNoLifetime) {
  EXPECT_EQ(fresh(""), std::nullopt);
  EXPECT_EQ(fresh("public"), std::nullopt);
  EXPECT_EQ(fresh("no-store, max-age=60"), std::nullopt);
  EXPECT_EQ(fresh("max-age=60, PRIVATE"), std::nullopt);
  EXPECT_EQ(fresh("no-cache, s-maxage=60"), std::nullopt);
  // Field-qualified forms keep the response storable.
  EXPECT_EQ(fresh("private=\"Set-Cookie, X-A\", max-age=60"), 60);
  EXPECT_EQ(fresh("no-cache=\"Set-Cookie\", max-age=60"), 60);
  // A quoted value with a comma and an escaped quote does not split directives.
  EXPECT_EQ(fresh("ext=\"a, no-store \\\" x\", max-age=7"), 7);
  EXPECT_EQ(fresh("no-storex, max-age=8"), 8);
}

TEST(PinFreshness, ExpiresMinusDate) {
  EXPECT_EQ(fresh("", "Sun, 06 Nov 1994 08:50:37 GMT", kDate), 60);
  EXPECT_EQ(fresh("public", "Mon, 07 Nov 1994 08:49:37 GMT", kDate), 86400);
  EXPECT_EQ(fresh("max-age=5", "Mon, 07 Nov 1994 08:49:37 GMT", kDate), 5);  // max-age wins
  EXPECT_EQ(fresh("", "Sun, 06 Nov 1994 08:48:37 GMT", kDate), 0);           // in the past
  EXPECT_EQ(fresh("", "0", kDate), 0);                                       // invalid
  EXPECT_EQ(fresh("", "Sunday, 06-Nov-94 08:49:37 GMT", kDate), 0);          // obsolete form
  EXPECT_EQ(fresh("", "Sun, 06 Nov 1994 08:49:37 UTC", kDate), 0);
  EXPECT_EQ(fresh("", "Sun, 06 Nov 1994 25:49:37 GMT", kDate), 0);
  EXPECT_EQ(fresh("", "Sun, 06 Foo 1994 08:49:37 GMT", kDate), 0);
  EXPECT_EQ(fresh("", "Sun, 06 Nov 1994 08:50:37 GMT", ""), std::nullopt);  // no Date
  EXPECT_EQ(fresh("no-store", "Sun, 06 Nov 1994 08:50:37 GMT", kDate), std::nullopt);
  // Across a leap day and a year.
  EXPECT_EQ(fresh("", "Fri, 01 Mar 2024 00:00:00 GMT", "Wed, 28 Feb 2024 00:00:00 GMT"), 2 * 86400);
  EXPECT_EQ(fresh("", "Mon, 01 Jan 2024 00:00:00 GMT", "Sun, 31 Dec 2023 23:59:59 GMT"), 1);
}

TEST(PinFreshness, AgeSubtracts) {
  EXPECT_EQ(fresh("max-age=60", "", "", "20"), 40);
  EXPECT_EQ(fresh("max-age=60", "", "", "90"), 0);  // clamped
  EXPECT_EQ(fresh("max-age=60", "", "", "x"), 60);  // invalid Age ignored
  EXPECT_EQ(fresh("", "Sun, 06 Nov 1994 08:50:37 GMT", kDate, "10"), 50);
}

}  // namespace
}  // namespace baton::routing::pin
