// Asset pinning decisions (routing/pinning.h): classification, the version choice rule by rule
// and their precedence, retry order, the deterministic per-path pick and the pin cookie.
#include "routing/pinning.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace baton::routing::pin {
namespace {

ClassifyRules defaultRules() {
  return ClassifyRules::from(conf::PinningSpec{});
}

RequestFacts get(std::string_view path) {
  RequestFacts f;
  f.method = "GET";
  f.path = path;
  return f;
}

struct V {
  std::string id;
  uint32_t serving;
  uint32_t hosts;
};

GroupView makeView(std::vector<V> versions, int cdn = 0,
                   conf::PinMode mode = conf::PinMode::Assets) {
  GroupView view;
  view.group = "shop";
  view.mode = mode;
  for (auto& v : versions) view.versions.push_back({v.id, v.serving, v.hosts});
  view.cdn_version = cdn;
  view.in_cutover = true;
  view.active = true;
  return view;
}

uint64_t bit(int i) {
  return uint64_t{1} << i;
}

TEST(PinReason, Names) {
  EXPECT_EQ(reasonName(Reason::None), "-");
  EXPECT_EQ(reasonName(Reason::Token), "token");
  EXPECT_EQ(reasonName(Reason::Etag), "etag");
  EXPECT_EQ(reasonName(Reason::Header), "header");
  EXPECT_EQ(reasonName(Reason::Cookie), "cookie");
  EXPECT_EQ(reasonName(Reason::Map), "map");
  EXPECT_EQ(reasonName(Reason::Cdn), "cdn");
  EXPECT_EQ(reasonName(Reason::Hash), "hash");
  EXPECT_EQ(reasonName(Reason::Fallback), "fallback");
  EXPECT_EQ(reasonName(Reason::Retry), "retry");
}

TEST(PinClassify, RulesLowerCaseSuffixes) {
  conf::PinningSpec spec;
  spec.asset_suffixes = {".JS", ".Css"};
  const ClassifyRules rules = ClassifyRules::from(spec);
  EXPECT_EQ(rules.asset_suffixes, (std::vector<std::string>{".js", ".css"}));
  EXPECT_EQ(rules.asset_prefixes, spec.asset_prefixes);
  EXPECT_EQ(rules.hashed_prefixes, spec.hashed_prefixes);
  EXPECT_EQ(rules.hashed_min_hex, 8u);
}

TEST(PinClassify, Traffic) {
  RequestFacts marked;
  marked.cdn_marked = true;
  const RequestFacts plain;
  EXPECT_EQ(classifyTraffic(conf::CdnOrigin::Auto, marked), Traffic::Cdn);
  EXPECT_EQ(classifyTraffic(conf::CdnOrigin::Auto, plain), Traffic::Direct);
  EXPECT_EQ(classifyTraffic(conf::CdnOrigin::Yes, plain), Traffic::Cdn);
  EXPECT_EQ(classifyTraffic(conf::CdnOrigin::No, marked), Traffic::Direct);
}

TEST(PinClassify, DocumentBySecFetchDest) {
  const ClassifyRules rules = defaultRules();
  RequestFacts f = get("/shop/cart");
  EXPECT_EQ(classifyKind(f, rules), Kind::Other);
  f.sec_fetch_dest = "document";
  EXPECT_EQ(classifyKind(f, rules), Kind::Document);
  f.sec_fetch_dest = "Document";
  EXPECT_EQ(classifyKind(f, rules), Kind::Document);
  f.sec_fetch_dest = "script";
  EXPECT_EQ(classifyKind(f, rules), Kind::Other);
}

TEST(PinClassify, DocumentByAcceptPreference) {
  const ClassifyRules rules = defaultRules();
  RequestFacts f = get("/shop/cart");
  auto kind = [&](std::string_view accept) {
    f.accept = accept;
    return classifyKind(f, rules);
  };
  // A browser navigation.
  EXPECT_EQ(kind("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"),
            Kind::Document);
  EXPECT_EQ(kind("application/xhtml+xml"), Kind::Document);
  EXPECT_EQ(kind("TEXT/HTML"), Kind::Document);
  // HTML preferred by q even when not first.
  EXPECT_EQ(kind("application/json;q=0.5, text/html"), Kind::Document);
  EXPECT_EQ(kind("*/*;q=0.1, text/html;level=1;Q=0.9"), Kind::Document);
  // Not preferred: first of equal q wins, or a lower q, or q=0.
  EXPECT_EQ(kind("application/json, text/html"), Kind::Other);
  EXPECT_EQ(kind("text/html;q=0.5, */*;q=0.9"), Kind::Other);
  EXPECT_EQ(kind("text/html;q=0"), Kind::Other);
  EXPECT_EQ(kind("*/*"), Kind::Other);
  EXPECT_EQ(kind(""), Kind::Other);
  // A malformed q never makes a range preferred.
  EXPECT_EQ(kind("text/html;q=2, image/png;q=0.1"), Kind::Other);
}

TEST(PinClassify, DocumentByPathEnding) {
  const ClassifyRules rules = defaultRules();
  EXPECT_EQ(classifyKind(get("/"), rules), Kind::Document);
  EXPECT_EQ(classifyKind(get("/docs/"), rules), Kind::Document);
  EXPECT_EQ(classifyKind(get("/index.html"), rules), Kind::Document);
  EXPECT_EQ(classifyKind(get("/INDEX.HTM"), rules), Kind::Document);
  // Under an asset prefix, an HTML file is still a document.
  EXPECT_EQ(classifyKind(get("/static/page.html"), rules), Kind::Document);
}

TEST(PinClassify, AssetBySuffixCaseInsensitive) {
  const ClassifyRules rules = defaultRules();
  EXPECT_EQ(classifyKind(get("/app.js"), rules), Kind::Asset);
  EXPECT_EQ(classifyKind(get("/APP.JS"), rules), Kind::Asset);
  EXPECT_EQ(classifyKind(get("/style.Css"), rules), Kind::Asset);
  EXPECT_EQ(classifyKind(get("/f/x.woff2"), rules), Kind::Asset);
  EXPECT_EQ(classifyKind(get("/m.wasm"), rules), Kind::Asset);
  EXPECT_EQ(classifyKind(get("/app.jsx"), rules), Kind::Other);
  EXPECT_EQ(classifyKind(get("/js"), rules), Kind::Other);
  // The suffix beats a navigation signal: a browser opening app.js still gets the script.
  RequestFacts f = get("/app.js");
  f.sec_fetch_dest = "document";
  f.accept = "text/html";
  EXPECT_EQ(classifyKind(f, rules), Kind::Asset);
}

TEST(PinClassify, AssetByPrefix) {
  const ClassifyRules rules = defaultRules();
  EXPECT_EQ(classifyKind(get("/assets/logo"), rules), Kind::Asset);
  EXPECT_EQ(classifyKind(get("/static/fonts/x"), rules), Kind::Asset);
  EXPECT_EQ(classifyKind(get("/_next/static/chunks/x"), rules), Kind::Asset);
  EXPECT_EQ(classifyKind(get("/assetsx/logo"), rules), Kind::Other);
  EXPECT_EQ(classifyKind(get("/ASSETS/logo"), rules), Kind::Other);  // paths are case-sensitive
  // A navigation under a prefix is a document (an SPA route).
  RequestFacts f = get("/static/page");
  f.accept = "text/html";
  EXPECT_EQ(classifyKind(f, rules), Kind::Document);
}

TEST(PinClassify, OnlyGetAndHead) {
  const ClassifyRules rules = defaultRules();
  RequestFacts f = get("/app.js");
  f.method = "HEAD";
  EXPECT_EQ(classifyKind(f, rules), Kind::Asset);
  f.method = "POST";
  EXPECT_EQ(classifyKind(f, rules), Kind::Other);
  f.method = "get";  // methods are case-sensitive
  EXPECT_EQ(classifyKind(f, rules), Kind::Other);
  f = get("/index.html");
  f.method = "PUT";
  EXPECT_EQ(classifyKind(f, rules), Kind::Other);
}

TEST(PinClassify, HashedPaths) {
  const ClassifyRules rules = defaultRules();
  EXPECT_TRUE(isHashedPath("/assets/app.aaaa1111.js", rules));
  EXPECT_TRUE(isHashedPath("/main-3f9a0c1d.css", rules));
  EXPECT_TRUE(isHashedPath("/chunk_DEADBEEF12.js", rules));
  EXPECT_TRUE(isHashedPath("/3f9a0c1d4e.js", rules));  // the run starts the segment
  EXPECT_TRUE(isHashedPath("/x/3f9a0c1d", rules));     // and ends it
  EXPECT_TRUE(isHashedPath("/_next/static/x.js", rules));
  EXPECT_FALSE(isHashedPath("/style.css", rules));
  EXPECT_FALSE(isHashedPath("/app.3f9a0c1.js", rules));      // 7 hex digits
  EXPECT_FALSE(isHashedPath("/app.3f9a0c1dz.js", rules));    // not delimited: one token
  EXPECT_FALSE(isHashedPath("/aaaa1111/style.css", rules));  // not the last segment
  EXPECT_FALSE(isHashedPath("/assets/", rules));
  EXPECT_FALSE(isHashedPath("/x/_next/static/a.js", rules));  // a prefix, not a substring
  ClassifyRules longer = rules;
  longer.hashed_min_hex = 12;
  EXPECT_FALSE(isHashedPath("/main-3f9a0c1d.css", longer));
  longer.hashed_min_hex = 0;  // the hex rule off; prefixes still count
  EXPECT_FALSE(isHashedPath("/main-3f9a0c1d.css", longer));
  EXPECT_TRUE(isHashedPath("/_next/static/x.js", longer));
}

TEST(PinGroupView, LiveIndex) {
  const GroupView view = makeView({{"v1", 0, 0}, {"v2", 1, 1}, {"v3", 0, 2}});
  EXPECT_EQ(view.liveIndex("v1"), -1);  // known but no host
  EXPECT_EQ(view.liveIndex("v2"), 1);
  EXPECT_EQ(view.liveIndex("v3"), 2);  // draining only is live
  EXPECT_EQ(view.liveIndex("v4"), -1);
  EXPECT_EQ(view.liveIndex(""), -1);
}

// ---- chooseVersion ----------------------------------------------------------------------

class ChooseTest : public ::testing::Test {
 protected:
  GroupView view = makeView({{"v1", 2, 2}, {"v2", 2, 2}}, 0, conf::PinMode::Full);
  RequestFacts facts = get("/assets/app.js");
  PathKnowledge known;
  int etag = -1;
  Choice choose(Traffic traffic, Kind kind = Kind::Asset) {
    return chooseVersion(view, traffic, kind, facts, known, etag, "dpl");
  }
};

TEST_F(ChooseTest, InactiveOrOffIsUnpinned) {
  view.active = false;
  EXPECT_EQ(choose(Traffic::Direct).version, -1);
  EXPECT_EQ(choose(Traffic::Direct).reason, Reason::None);
  view.active = true;
  view.mode = conf::PinMode::Off;
  EXPECT_EQ(choose(Traffic::Cdn).version, -1);
  view.mode = conf::PinMode::Assets;
  view.versions[0].hosts = view.versions[0].serving = 0;
  view.versions[1].hosts = view.versions[1].serving = 0;
  EXPECT_EQ(choose(Traffic::Cdn).version, -1);
  EXPECT_EQ(choose(Traffic::Direct).reason, Reason::None);
}

TEST_F(ChooseTest, TokenFirst) {
  facts.query = "a=1&dpl=v2&b";
  facts.deployment_header = "v1";
  facts.pin_cookie = "v1";
  known.has = bit(0);
  etag = 0;
  for (Traffic t : {Traffic::Direct, Traffic::Cdn}) {
    const Choice c = choose(t);
    EXPECT_EQ(c.version, 1);
    EXPECT_EQ(c.reason, Reason::Token);
    EXPECT_FALSE(c.fallback);
  }
}

TEST_F(ChooseTest, TokenExactNameAndValue) {
  facts.query = "xdpl=v2&dpl2=v2&DPL=v2";
  EXPECT_NE(choose(Traffic::Cdn).reason, Reason::Token);
  facts.query = "dpl=v2x";
  EXPECT_NE(choose(Traffic::Cdn).reason, Reason::Token);
  facts.query = "dpl";
  EXPECT_NE(choose(Traffic::Cdn).reason, Reason::Token);
  facts.query = "dpl=v2";
  EXPECT_EQ(choose(Traffic::Cdn).reason, Reason::Token);
  EXPECT_EQ(chooseVersion(view, Traffic::Cdn, Kind::Asset, facts, known, -1, "").reason,
            Reason::Cdn);  // no token parameter configured
}

TEST_F(ChooseTest, UnknownOrDeadTokenIgnored) {
  facts.query = "dpl=v9";
  EXPECT_EQ(choose(Traffic::Cdn).reason, Reason::Cdn);
  view.versions[1].hosts = view.versions[1].serving = 0;
  facts.query = "dpl=v2";
  const Choice c = choose(Traffic::Direct);
  EXPECT_EQ(c.reason, Reason::Hash);
  EXPECT_EQ(c.version, 0);
}

TEST_F(ChooseTest, EtagAfterTokenBeforeEverythingElse) {
  etag = 1;
  facts.deployment_header = "v1";
  facts.pin_cookie = "v1";
  known.has = bit(0);
  EXPECT_EQ(choose(Traffic::Direct).reason, Reason::Etag);
  EXPECT_EQ(choose(Traffic::Direct).version, 1);
  EXPECT_EQ(choose(Traffic::Cdn).reason, Reason::Etag);
  EXPECT_EQ(choose(Traffic::Cdn).version, 1);
  facts.query = "dpl=v1";
  EXPECT_EQ(choose(Traffic::Cdn).reason, Reason::Token);
  // An etag version with no host is ignored.
  facts.query = "";
  view.versions[1].hosts = view.versions[1].serving = 0;
  EXPECT_EQ(choose(Traffic::Cdn).reason, Reason::Cdn);
}

TEST_F(ChooseTest, DirectHeaderBeforeCookie) {
  facts.deployment_header = " v2 ";
  facts.pin_cookie = "v1";
  known.has = bit(0);
  EXPECT_EQ(choose(Traffic::Direct).reason, Reason::Header);
  EXPECT_EQ(choose(Traffic::Direct).version, 1);
  facts.deployment_header = "nope";
  EXPECT_EQ(choose(Traffic::Direct).reason, Reason::Cookie);
  EXPECT_EQ(choose(Traffic::Direct).version, 0);
  // The CDN never uses either.
  facts.deployment_header = "v2";
  EXPECT_EQ(choose(Traffic::Cdn).reason, Reason::Cdn);
}

TEST_F(ChooseTest, CookieBeforeMapBeforeHash) {
  facts.pin_cookie = "v2";
  known.has = bit(0);
  EXPECT_EQ(choose(Traffic::Direct).reason, Reason::Cookie);
  EXPECT_EQ(choose(Traffic::Direct).version, 1);
  facts.pin_cookie = "";
  EXPECT_EQ(choose(Traffic::Direct).reason, Reason::Map);
  EXPECT_EQ(choose(Traffic::Direct).version, 0);
  known.has = 0;
  EXPECT_EQ(choose(Traffic::Direct).reason, Reason::Hash);
}

TEST_F(ChooseTest, CookieOnlyInModeFull) {
  facts.pin_cookie = "v2";
  EXPECT_EQ(choose(Traffic::Direct).reason, Reason::Cookie);
  view.mode = conf::PinMode::Assets;
  EXPECT_NE(choose(Traffic::Direct).reason, Reason::Cookie);
  view.mode = conf::PinMode::Full;
  facts.pin_cookie = "v9";  // a dead version's cookie: ignored
  EXPECT_NE(choose(Traffic::Direct).reason, Reason::Cookie);
}

TEST_F(ChooseTest, DirectMapWhenExactlyOneVersionHasThePath) {
  known.has = bit(1);
  EXPECT_EQ(choose(Traffic::Direct).reason, Reason::Map);
  EXPECT_EQ(choose(Traffic::Direct).version, 1);
  known.has = bit(0) | bit(1);  // both: the map decides nothing
  EXPECT_EQ(choose(Traffic::Direct).reason, Reason::Hash);
  known.has = bit(0) | bit(1);
  known.lacks = 0;
  known.has = bit(1);
  view.versions[1].hosts = view.versions[1].serving = 0;  // the one that has it is gone
  EXPECT_EQ(choose(Traffic::Direct).reason, Reason::Hash);
  EXPECT_EQ(choose(Traffic::Direct).version, 0);
}

TEST_F(ChooseTest, DirectHashSkipsVersionsKnownToLack) {
  for (int i = 0; i < 50; ++i) {
    const std::string path = "/assets/p" + std::to_string(i) + ".js";
    facts.path = path;
    known.lacks = bit(0);
    EXPECT_EQ(choose(Traffic::Direct).version, 1) << path;
    known.lacks = bit(1);
    EXPECT_EQ(choose(Traffic::Direct).version, 0) << path;
    known.lacks = bit(0) | bit(1);  // everyone lacks it: still some version
    EXPECT_GE(choose(Traffic::Direct).version, 0) << path;
  }
}

TEST_F(ChooseTest, CdnVersionUnlessMapSaysItLacks) {
  view.cdn_version = 0;
  EXPECT_EQ(choose(Traffic::Cdn).reason, Reason::Cdn);
  EXPECT_EQ(choose(Traffic::Cdn).version, 0);
  known.has = bit(1);  // the map alone does not move CDN traffic off the CDN version
  EXPECT_EQ(choose(Traffic::Cdn).reason, Reason::Cdn);
  known.lacks = bit(0);
  EXPECT_EQ(choose(Traffic::Cdn).reason, Reason::Map);
  EXPECT_EQ(choose(Traffic::Cdn).version, 1);
  known.has = 0;  // no map answer: hashed over the others
  EXPECT_EQ(choose(Traffic::Cdn).reason, Reason::Hash);
  EXPECT_EQ(choose(Traffic::Cdn).version, 1);
}

TEST_F(ChooseTest, CdnHashExcludesTheCdnVersionThatLacks) {
  view = makeView({{"v1", 2, 2}, {"v2", 2, 2}, {"v3", 2, 2}}, 1);
  known.lacks = bit(1);
  for (int i = 0; i < 100; ++i) {
    const std::string path = "/assets/p" + std::to_string(i) + ".js";
    facts.path = path;
    const Choice c = choose(Traffic::Cdn);
    EXPECT_EQ(c.reason, Reason::Hash);
    EXPECT_NE(c.version, 1);
  }
}

TEST_F(ChooseTest, NoCdnVersionHashes) {
  view.cdn_version = -1;
  EXPECT_EQ(choose(Traffic::Cdn).reason, Reason::Hash);
  known.has = bit(1);
  EXPECT_EQ(choose(Traffic::Cdn).reason, Reason::Map);
}

TEST_F(ChooseTest, HeldCdnVersionKeepsEverythingOnTheDrainingBuild) {
  view.versions[0].serving = 0;  // v1 draining only, still the CDN version (flip held)
  view.cdn_version = 0;
  for (Kind kind : {Kind::Asset, Kind::Document, Kind::Other}) {
    facts.path = kind == Kind::Document ? "/index.html" : "/app.js";
    const Choice c = choose(Traffic::Cdn, kind);
    EXPECT_EQ(c.version, 0);
    EXPECT_EQ(c.reason, Reason::Cdn);
    EXPECT_FALSE(c.fallback);
  }
}

TEST_F(ChooseTest, DrainingVersionKeepsAssetsButNotDocuments) {
  view.versions[0].serving = 0;  // v1 draining only
  facts.path = "/index.html";
  // A cookie naming the draining version.
  facts.pin_cookie = "v1";
  Choice c = choose(Traffic::Direct, Kind::Document);
  EXPECT_EQ(c.version, 1);
  EXPECT_EQ(c.reason, Reason::Fallback);
  c = choose(Traffic::Direct, Kind::Asset);
  EXPECT_EQ(c.version, 0);
  EXPECT_EQ(c.reason, Reason::Cookie);
}

TEST_F(ChooseTest, FallbackPrefersAServingVersionNotKnownToLack) {
  view = makeView({{"v1", 0, 1}, {"v2", 1, 1}, {"v3", 1, 1}}, 0, conf::PinMode::Full);
  facts.path = "/old.html";
  facts.pin_cookie = "v1";
  known.lacks = bit(1);
  Choice c = choose(Traffic::Direct, Kind::Document);
  EXPECT_EQ(c.version, 2);
  EXPECT_EQ(c.reason, Reason::Fallback);
  // Every serving version lacks it: the draining one is the document's only chance.
  known.lacks = bit(1) | bit(2);
  c = choose(Traffic::Direct, Kind::Document);
  EXPECT_EQ(c.version, 0);
  EXPECT_EQ(c.reason, Reason::Cookie);
  EXPECT_TRUE(c.fallback);
}

TEST_F(ChooseTest, NothingServingKeepsTheChoiceMarkedFallback) {
  view.versions[0].serving = 0;
  view.versions[1].serving = 0;
  view.cdn_version = -1;
  facts.path = "/index.html";
  const Choice c = choose(Traffic::Direct, Kind::Document);
  EXPECT_GE(c.version, 0);
  EXPECT_EQ(c.reason, Reason::Hash);
  EXPECT_TRUE(c.fallback);
}

TEST_F(ChooseTest, HashIsStablePerPathAndSurvivesOtherVersionsLeaving) {
  view = makeView({{"v1", 1, 1}, {"v2", 1, 1}, {"v3", 1, 1}}, -1);
  std::vector<int> first;
  for (int i = 0; i < 300; ++i) {
    const std::string path = "/assets/f" + std::to_string(i) + ".js";
    facts.path = path;
    first.push_back(choose(Traffic::Direct).version);
    EXPECT_EQ(choose(Traffic::Direct).version, first.back());  // repeated / ranged: same one
  }
  // v3 leaves: only its paths move (rendezvous hashing).
  view.versions[2].hosts = view.versions[2].serving = 0;
  for (int i = 0; i < 300; ++i) {
    const std::string path = "/assets/f" + std::to_string(i) + ".js";
    facts.path = path;
    const int now = choose(Traffic::Direct).version;
    if (first[i] != 2) {
      EXPECT_EQ(now, first[i]) << path;
    }
    EXPECT_NE(now, 2);
  }
}

int countPicks(const GroupView& view, int version, int paths) {
  int n = 0;
  for (int i = 0; i < paths; ++i) {
    const std::string path = "/static/file-" + std::to_string(i) + ".js";
    RequestFacts f = get(path);
    n += chooseVersion(view, Traffic::Direct, Kind::Asset, f, {}, -1, "dpl").version == version;
  }
  return n;
}

TEST(PinHash, EqualVersionsSplitEvenly) {
  const GroupView view = makeView({{"a1b2c3d4e5", 2, 2}, {"f6a7b8c9d0", 2, 2}});
  const int first = countPicks(view, 0, 1000);
  EXPECT_GT(first, 430);
  EXPECT_LT(first, 570);
}

TEST(PinHash, WeightedByServingHosts) {
  const GroupView view = makeView({{"a1b2c3d4e5", 3, 3}, {"f6a7b8c9d0", 1, 4}});
  const int first = countPicks(view, 0, 1000);  // expected 750
  EXPECT_GT(first, 700);
  EXPECT_LT(first, 800);
}

TEST(PinHash, DrainingOnlyVersionsWeightedByHosts) {
  const GroupView view = makeView({{"a1b2c3d4e5", 0, 3}, {"f6a7b8c9d0", 0, 1}}, -1);
  const int first = countPicks(view, 0, 1000);
  EXPECT_GT(first, 700);
  EXPECT_LT(first, 800);
  // A serving version takes every pick from draining ones.
  const GroupView mixed = makeView({{"a1b2c3d4e5", 0, 3}, {"f6a7b8c9d0", 1, 1}}, -1);
  EXPECT_EQ(countPicks(mixed, 1, 200), 200);
}

TEST(PinHash, KnownValuesAreStableAcrossBuilds) {
  // Every worker and every baton process must agree: pin a few picks (no std::hash anywhere).
  const GroupView view = makeView({{"v1", 1, 1}, {"v2", 1, 1}}, -1);
  std::string picks;
  for (int i = 0; i < 16; ++i) {
    const std::string path = "/p" + std::to_string(i);
    RequestFacts f = get(path);
    picks += static_cast<char>(
        '0' + chooseVersion(view, Traffic::Direct, Kind::Asset, f, {}, -1, "").version);
  }
  // Cross-checked with an independent Python rendering of FNV-1a + splitmix64 + -ln(u) scores.
  EXPECT_EQ(picks, "0101111100111110");
}

// ---- retryOrder -------------------------------------------------------------------------

TEST(PinRetry, NewestFirstSkippingTriedDeadAndLacking) {
  const GroupView view =
      makeView({{"v1", 1, 1}, {"v2", 0, 0}, {"v3", 0, 2}, {"v4", 1, 1}, {"v5", 1, 1}});
  PathKnowledge known;
  EXPECT_EQ(retryOrder(view, bit(0), known, 2), (std::vector<int>{4, 3}));
  EXPECT_EQ(retryOrder(view, bit(4), known, 2), (std::vector<int>{3, 2}));
  EXPECT_EQ(retryOrder(view, bit(4), known, 5), (std::vector<int>{3, 2, 0}));  // v2: no host
  known.lacks = bit(3);
  EXPECT_EQ(retryOrder(view, bit(4), known, 2), (std::vector<int>{2, 0}));
  known.has = bit(0);  // having does not reorder: newest first is the rule
  EXPECT_EQ(retryOrder(view, bit(4), known, 2), (std::vector<int>{2, 0}));
  EXPECT_TRUE(retryOrder(view, bit(4), known, 0).empty());
  EXPECT_TRUE(retryOrder(view, bit(0) | bit(2) | bit(3) | bit(4), {}, 2).empty());
}

// ---- pinCookie ----------------------------------------------------------------------------

TEST(PinCookie, Format) {
  EXPECT_EQ(pinCookie("baton_pin", "v2", std::chrono::seconds(3600), false),
            "baton_pin=v2; Path=/; Max-Age=3600; HttpOnly; SameSite=Lax");
  EXPECT_EQ(pinCookie("p", "a1b2c3d4e5", std::chrono::hours(1), true),
            "p=a1b2c3d4e5; Path=/; Max-Age=3600; HttpOnly; SameSite=Lax; Secure");
}

}  // namespace
}  // namespace baton::routing::pin

namespace baton::routing::pin {
namespace {

// ---- manifests (rule 5's preload) -------------------------------------------------------

std::shared_ptr<const PathSet> manifestOf(std::initializer_list<const char*> paths) {
  auto set = std::make_shared<PathSet>();
  for (const char* p : paths) set->insert(p);
  return set;
}

TEST(PinManifest, ListedIsHasUnlistedHashedIsLacks) {
  GroupView view = makeView({{"v1", 1, 1}, {"v2", 1, 1}, {"v3", 1, 1}});
  view.versions[0].manifest = manifestOf({"/assets/app.aaaa1111.js", "/style.css"});
  view.versions[1].manifest = manifestOf({"/assets/app.bbbb2222.js", "/style.css"});
  // v3 has no manifest: nothing is said of it.
  PathKnowledge known;
  addManifestKnowledge(view, "/assets/app.bbbb2222.js", /*hashed=*/true, known);
  EXPECT_EQ(known.has, bit(1));
  EXPECT_EQ(known.lacks, bit(0));
  known = {};
  addManifestKnowledge(view, "/style.css", false, known);
  EXPECT_EQ(known.has, bit(0) | bit(1));
  EXPECT_EQ(known.lacks, 0u);
  // Unhashed and unlisted: a manifest may not list every file a build serves.
  known = {};
  addManifestKnowledge(view, "/favicon.ico", false, known);
  EXPECT_EQ(known.has | known.lacks, 0u);
}

TEST(PinManifest, ListedOverridesALearnedMissAndNeverUnlearnsAHit) {
  GroupView view = makeView({{"v1", 1, 1}, {"v2", 1, 1}});
  view.versions[0].manifest = manifestOf({"/a.1234abcd.js"});
  view.versions[1].manifest = manifestOf({});
  PathKnowledge known{/*has=*/bit(1), /*lacks=*/bit(0)};
  addManifestKnowledge(view, "/a.1234abcd.js", true, known);
  EXPECT_EQ(known.has, bit(0) | bit(1));
  EXPECT_EQ(known.lacks, 0u);
}

TEST(PinManifest, CdnRequestGoesStraightToTheBuildThatListsIt) {
  GroupView view = makeView({{"v1", 1, 1}, {"v2", 1, 1}}, /*cdn=*/0);
  view.versions[0].manifest = manifestOf({"/assets/app.aaaa1111.js"});
  view.versions[1].manifest = manifestOf({"/assets/app.bbbb2222.js"});
  PathKnowledge known;
  addManifestKnowledge(view, "/assets/app.bbbb2222.js", true, known);
  RequestFacts facts;
  facts.method = "GET";
  facts.path = "/assets/app.bbbb2222.js";
  const Choice c = chooseVersion(view, Traffic::Cdn, Kind::Asset, facts, known, -1, "dpl");
  EXPECT_EQ(c.version, 1);
  EXPECT_EQ(c.reason, Reason::Map);
}

}  // namespace
}  // namespace baton::routing::pin
