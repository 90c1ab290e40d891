// Asset manifests: the bundlers' formats, plain text, what is skipped, malformed JSON.
#include "discovery/model/asset_manifest.h"

#include <gtest/gtest.h>

namespace baton::discovery {
namespace {

using Paths = std::vector<std::string>;

Paths parse(std::string_view body) {
  auto parsed = parseAssetManifest(body);
  EXPECT_TRUE(parsed.has_value()) << (parsed ? "" : parsed.error().detail);
  return parsed ? *parsed : Paths{};
}

TEST(AssetManifest, CreateReactAppManifestTakesValuesNotKeys) {
  EXPECT_EQ(parse(R"({"files": {"main.js": "/static/js/main.1a2b3c4d.js",
                                "main.css": "/static/css/main.5e6f7a8b.css",
                                "index.html": "/index.html"},
                      "entrypoints": ["static/js/main.1a2b3c4d.js"]})"),
            (Paths{"/index.html", "/static/css/main.5e6f7a8b.css", "/static/js/main.1a2b3c4d.js"}));
}

TEST(AssetManifest, ViteManifestRelativeFilesMadeAbsolute) {
  const Paths paths = parse(R"({"src/main.ts": {"file": "assets/main-4f3c2a1b.js",
                                                "src": "src/main.ts", "isEntry": true,
                                                "css": ["assets/main-9a8b7c6d.css"]}})");
  EXPECT_EQ(paths,
            (Paths{"/assets/main-4f3c2a1b.js", "/assets/main-9a8b7c6d.css", "/src/main.ts"}));
}

TEST(AssetManifest, PlainTextOnePathPerLine) {
  EXPECT_EQ(parse("/assets/app.aaaa1111.js\r\nassets/app.css\n\n  /x.png  \n"),
            (Paths{"/assets/app.aaaa1111.js", "/assets/app.css", "/x.png"}));
}

TEST(AssetManifest, SkipsUrlsAndNonPaths) {
  EXPECT_EQ(parse(R"(["https://cdn.example/x.js", "//cdn.example/y.js", "has space.js",
                      "/ok.js", "/q.js?v=1", "./rel.js", 42, true, null])"),
            (Paths{"/ok.js", "/rel.js"}));
}

TEST(AssetManifest, EmptyBodyIsEmpty) {
  EXPECT_TRUE(parse("").empty());
  EXPECT_TRUE(parse(" \n").empty());
}

TEST(AssetManifest, MalformedJsonIsAnError) {
  const auto parsed = parseAssetManifest(R"({"files": [)");
  ASSERT_FALSE(parsed.has_value());
  EXPECT_NE(parsed.error().detail.find("manifest is not valid JSON"), std::string::npos);
}

TEST(AssetManifest, BoundedNumberOfPaths) {
  std::string body = "[";
  for (size_t i = 0; i < kMaxManifestPaths + 10; ++i) {
    body += (i ? ",\"/f" : "\"/f") + std::to_string(i) + ".js\"";
  }
  body += "]";
  EXPECT_EQ(parse(body).size(), kMaxManifestPaths);
}

}  // namespace
}  // namespace baton::discovery
