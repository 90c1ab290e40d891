// Route-action rewrites: strip_prefix on segment boundaries (whatever the client's spelling),
// HAProxy's REVPROXY Location regex, and the https redirect target.
#include "routing/rewrite.h"

#include <gtest/gtest.h>

#include "routing/request_target.h"
#include "routing/route_table.h"

namespace baton::routing {
namespace {

TEST(PrefixSegmentsTest, CountsNonEmptySegments) {
  EXPECT_EQ(prefixSegments("/"), 0u);
  EXPECT_EQ(prefixSegments("/app"), 1u);
  EXPECT_EQ(prefixSegments("/a/b"), 2u);
}

TEST(StripPathSegmentsTest, Examples) {
  EXPECT_EQ(stripPathSegments("/app/x?q", 1), "/x?q");
  EXPECT_EQ(stripPathSegments("/app", 1), "/");
  EXPECT_EQ(stripPathSegments("/app/", 1), "/");
  EXPECT_EQ(stripPathSegments("/app?q=1", 1), "/?q=1");
  EXPECT_EQ(stripPathSegments("/a/b/c/d", 2), "/c/d");
  EXPECT_EQ(stripPathSegments("/x?a/b", 0), "/x?a/b");
  EXPECT_EQ(stripPathSegments("/app/x?/y", 1), "/x?/y");  // a '/' in the query is not a segment
}

// What the stream does: match the strip prefix on the route key, count on the forwarded bytes.
std::string strip(std::string_view target, std::string_view prefix, bool merge = false) {
  auto parsed = parseRequestTarget(target, false);
  EXPECT_TRUE(parsed.has_value());
  auto normalised = normalizeRoutePrefix(prefix);
  EXPECT_TRUE(normalised.has_value());
  auto forward = renderForwardTarget(*parsed, ForwardOptions{conf::RawByteMode::Forward, merge});
  EXPECT_TRUE(forward.has_value());
  if (!prefixMatches(*normalised, parsed->route_key)) return *forward;
  return stripPathSegments(*forward, prefixSegments(*normalised));
}

TEST(StripPathSegmentsTest, OnSegmentBoundaryOnly) {
  EXPECT_EQ(strip("/apple/x", "/app"), "/apple/x");
  EXPECT_EQ(strip("/app/x", "/app"), "/x");
}

TEST(StripPathSegmentsTest, FollowsTheClientsSpelling) {
  EXPECT_EQ(strip("/%61pp/x", "/app"), "/x");   // routed as /app, stripped as /app
  EXPECT_EQ(strip("//app//x", "/app"), "//x");  // slashes kept as sent (no merge)
  EXPECT_EQ(strip("/电影/x", "/电影"), "/x");   // raw bytes in the prefix
  EXPECT_EQ(strip("/a/./b/c", "/a/b"), "/c");   // dot segments resolved first
}

TEST(RewriteLocationTest, HostAndOptionalPortBecomeTheReplacement) {
  EXPECT_EQ(rewriteLocation("http://app.example.com/login", "app.example.com", "/"), "/login");
  EXPECT_EQ(rewriteLocation("https://APP.example.com:8443/a/b?c", "app.example.com", "/app/"),
            "/app/a/b?c");
  EXPECT_EQ(rewriteLocation("HTTP://app.example.com/", "app.example.com", "/x/"), "/x/");
}

TEST(RewriteLocationTest, RelativePathsMatchTooLikeTheRegex) {
  // "(https?://host(:[0-9]+)?)?(/.*)": the scheme+host part is optional.
  EXPECT_EQ(rewriteLocation("/login", "app.example.com", "/app/"), "/app/login");
}

TEST(RewriteLocationTest, OtherValuesAreLeftAlone) {
  EXPECT_FALSE(rewriteLocation("http://other.com/login", "app.example.com", "/"));
  EXPECT_FALSE(rewriteLocation("http://app.example.com.evil/x", "app.example.com", "/"));
  EXPECT_FALSE(rewriteLocation("http://app.example.com", "app.example.com", "/"));
  EXPECT_FALSE(rewriteLocation("http://app.example.com:/x", "app.example.com", "/"));
  EXPECT_FALSE(rewriteLocation("login", "app.example.com", "/"));
  EXPECT_FALSE(rewriteLocation("ftp://app.example.com/x", "app.example.com", "/"));
}

TEST(HttpsLocationTest, DropsThePortKeepsTargetAsSent) {
  EXPECT_EQ(httpsLocation("Shop.example.com:8080", "/a/b?c=%20"),
            "https://shop.example.com/a/b?c=%20");
  EXPECT_EQ(httpsLocation("[::1]:80", "/"), "https://[::1]/");
  EXPECT_EQ(httpsLocation("h", "http://h:81/x?y"), "https://h/x?y");
  EXPECT_EQ(httpsLocation("h", "http://h:81"), "https://h/");
  EXPECT_EQ(httpsLocation("h", "http://h?y"), "https://h/?y");
}

}  // namespace
}  // namespace baton::routing
