// Loader: asset pinning — the [pinning] section, listener / vhost cdn_origin, cluster pin_group
// / pin_mode / pin_versions / pin_cache_cap and a host's version. Every refusal is checked as
// the exact "FILE:LINE: KEY: message".
#include <gtest/gtest.h>

#include "conf/loader.h"
#include "tests/unit/conf/loader_test_util.h"

namespace baton::conf {
namespace {

using std::chrono::milliseconds;
using test::base;
using test::errorOf;
using test::load;

// ---- [pinning] ----

TEST(PinningSection, DefaultsWhenAbsent) {
  const ConfigSpec spec = load(base());
  EXPECT_EQ(spec.pinning, PinningSpec{});
  EXPECT_EQ(spec.pinning.token_param, "dpl");
  EXPECT_EQ(spec.pinning.header, "x-deployment-id");
  EXPECT_EQ(spec.pinning.max_retries, 2u);
  EXPECT_FALSE(spec.listeners.at(0).cdn_origin.has_value());
  EXPECT_FALSE(spec.vhosts.at(0).cdn_origin.has_value());
  EXPECT_FALSE(spec.clusters.at(0).pin.has_value());
  EXPECT_EQ(spec.clusters.at(0).hosts.at(0).version, "");
}

TEST(PinningSection, EveryKey) {
  const ConfigSpec spec = load(base() + R"([pinning]
token_param = "build"
header = "X-Build-Id"
cookie = "pin"
cookie_ttl = "10m"
grace = "0s"
max_retries = 8
map_entries = 500
negative_ttl = "5s"
cache_cap = false
cdn_origin = "yes"
asset_suffixes = [".JS", "-min.css"]
asset_prefixes = ["/a/", "/b"]
hashed_min_hex = 12
hashed_prefixes = ["/build/"]
)");
  const PinningSpec& p = spec.pinning;
  EXPECT_EQ(p.token_param, "build");
  EXPECT_EQ(p.header, "x-build-id");  // stored lower-case
  EXPECT_EQ(p.cookie, "pin");
  EXPECT_EQ(p.cookie_ttl, milliseconds(600'000));
  EXPECT_EQ(p.grace, milliseconds(0));
  EXPECT_EQ(p.max_retries, 8u);
  EXPECT_EQ(p.map_entries, 500u);
  EXPECT_EQ(p.negative_ttl, milliseconds(5'000));
  EXPECT_FALSE(p.cache_cap);
  EXPECT_EQ(p.cdn_origin, CdnOrigin::Yes);
  EXPECT_EQ(p.asset_suffixes, (std::vector<std::string>{".js", "-min.css"}));
  EXPECT_EQ(p.asset_prefixes, (std::vector<std::string>{"/a/", "/b"}));
  EXPECT_EQ(p.hashed_min_hex, 12u);
  EXPECT_EQ(p.hashed_prefixes, (std::vector<std::string>{"/build/"}));
}

TEST(PinningSection, EmptyListsTurnClassesOff) {
  const ConfigSpec spec = load(base() + R"([pinning]
asset_prefixes = []
hashed_prefixes = []
)");
  EXPECT_TRUE(spec.pinning.asset_prefixes.empty());
  EXPECT_TRUE(spec.pinning.hashed_prefixes.empty());
  EXPECT_FALSE(spec.pinning.asset_suffixes.empty());  // untouched default
}

// Line 14 is "[pinning]", the key is on line 15.
std::string pinningError(std::string_view line) {
  return errorOf(base() + "[pinning]\n" + std::string(line) + "\n");
}

TEST(PinningSectionErrors, UnknownKeyAndWrongTypes) {
  EXPECT_EQ(pinningError("retries = 1"),
            "t.toml:15: pinning.retries: unknown key (expected one of: token_param, header, "
            "cookie, cookie_ttl, grace, max_retries, map_entries, negative_ttl, cache_cap, "
            "cdn_origin, asset_suffixes, asset_prefixes, hashed_min_hex, hashed_prefixes)");
  EXPECT_EQ(pinningError("cache_cap = \"yes\""),
            "t.toml:15: pinning.cache_cap: expected a boolean, got string");
  EXPECT_EQ(errorOf("pinning = 1\n" + base()),
            "t.toml:1: pinning: expected a table ([pinning]), got integer");
}

TEST(PinningSectionErrors, Ranges) {
  EXPECT_EQ(pinningError("max_retries = 9"), "t.toml:15: pinning.max_retries: must be 0..8, got 9");
  EXPECT_EQ(pinningError("hashed_min_hex = 3"),
            "t.toml:15: pinning.hashed_min_hex: must be 4..64, got 3");
  EXPECT_EQ(pinningError("hashed_min_hex = 65"),
            "t.toml:15: pinning.hashed_min_hex: must be 4..64, got 65");
  EXPECT_EQ(pinningError("cookie_ttl = \"0s\""),
            "t.toml:15: pinning.cookie_ttl: must be greater than 0");
  EXPECT_EQ(pinningError("grace = \"15\"").substr(0, 26), "t.toml:15: pinning.grace: ");
  EXPECT_EQ(pinningError("cdn_origin = \"maybe\""),
            "t.toml:15: pinning.cdn_origin: unknown value \"maybe\" (expected one of \"auto\", "
            "\"yes\", \"no\")");
}

TEST(PinningSectionErrors, Names) {
  EXPECT_EQ(pinningError("token_param = \"a b\""),
            "t.toml:15: pinning.token_param: query parameter name must be 1..64 of "
            "[A-Za-z0-9._~-], got \"a b\"");
  EXPECT_EQ(pinningError("token_param = \"\""),
            "t.toml:15: pinning.token_param: query parameter name must be 1..64 of "
            "[A-Za-z0-9._~-], got \"\"");
  EXPECT_EQ(pinningError("header = \"X:Id\""),
            "t.toml:15: pinning.header: invalid header name \"X:Id\": expected 1..64 of "
            "letters, digits and !#$%&'*+-.^_`|~");
  EXPECT_EQ(pinningError("cookie = \"a;b\""),
            "t.toml:15: pinning.cookie: invalid cookie name \"a;b\": expected 1..64 of letters, "
            "digits and !#$%&'*+-.^_`|~");
}

TEST(PinningSectionErrors, Paths) {
  EXPECT_EQ(pinningError("asset_suffixes = [\".js\", \"a/b\"]"),
            "t.toml:15: pinning.asset_suffixes[1]: suffix must be 1..64 visible ASCII bytes "
            "without '/', '?' or '#', got \"a/b\"");
  EXPECT_EQ(pinningError("asset_suffixes = [\"\"]"),
            "t.toml:15: pinning.asset_suffixes[0]: suffix must be 1..64 visible ASCII bytes "
            "without '/', '?' or '#', got \"\"");
  EXPECT_EQ(pinningError("asset_prefixes = [\"assets/\"]"),
            "t.toml:15: pinning.asset_prefixes[0]: route prefix \"assets/\" must start with "
            "\"/\"");
  EXPECT_EQ(pinningError("hashed_prefixes = [\"/x?y\"]"),
            "t.toml:15: pinning.hashed_prefixes[0]: route prefix \"/x?y\" contains a control "
            "byte, space, '?' or '#'");
}

// ---- listener / vhost cdn_origin ----

TEST(CdnOriginKey, ListenerAndVhost) {
  std::string text = base();
  text.insert(text.find("\n\n[[cluster]]"), "\ncdn_origin = \"no\"");
  text.insert(text.find("domains = [\"*\"]"), "cdn_origin = \"yes\"\n");
  const ConfigSpec spec = load(text);
  EXPECT_EQ(spec.listeners.at(0).cdn_origin, CdnOrigin::No);
  EXPECT_EQ(spec.vhosts.at(0).cdn_origin, CdnOrigin::Yes);
}

TEST(VhostAssetPatterns, OverrideThePinningOnes) {
  std::string text = base();
  text.insert(text.find("domains = [\"*\"]"),
              "pin_asset_suffixes = [\".JS\", \".bundle\"]\npin_asset_prefixes = [\"/cdn/\"]\n");
  const ConfigSpec spec = load(text);
  EXPECT_EQ(spec.vhosts.at(0).pin_asset_suffixes, (std::vector<std::string>{".js", ".bundle"}));
  EXPECT_EQ(spec.vhosts.at(0).pin_asset_prefixes, (std::vector<std::string>{"/cdn/"}));
  EXPECT_FALSE(load(base()).vhosts.at(0).pin_asset_suffixes.has_value());
}

TEST(VhostAssetPatterns, Errors) {
  std::string text = base();
  text.insert(text.find("domains = [\"*\"]"), "pin_asset_suffixes = [\"a/b\"]\n");
  EXPECT_EQ(errorOf(text),
            "t.toml:11: vhost[0].pin_asset_suffixes[0]: suffix must be 1..64 visible ASCII bytes "
            "without '/', '?' or '#', got \"a/b\"");
  text = base();
  text.insert(text.find("domains = [\"*\"]"), "pin_asset_prefixes = \"/x/\"\n");
  EXPECT_NE(errorOf(text).find("t.toml:11: vhost[0].pin_asset_prefixes: expected an array"),
            std::string::npos)
      << errorOf(text);
}

TEST(CdnOriginKeyErrors, ValuesAndTcpListener) {
  std::string text = base();
  text.insert(text.find("\n\n[[cluster]]"), "\ncdn_origin = \"true\"");
  EXPECT_EQ(errorOf(text),
            "t.toml:4: listener[0].cdn_origin: unknown value \"true\" (expected one of \"auto\", "
            "\"yes\", \"no\")");
  text = base();
  text.insert(text.find("domains = [\"*\"]"), "cdn_origin = 1\n");
  EXPECT_EQ(errorOf(text), "t.toml:11: vhost[0].cdn_origin: expected a string, got integer");
  EXPECT_EQ(errorOf(base() + R"([[listener]]
name = "db"
address = "127.0.0.1:5432"
kind = "tcp"
cluster = "web"
cdn_origin = "yes"
)"),
            "t.toml:19: listener[1].cdn_origin: only for kind = \"http\"");
}

// ---- cluster pin_group / pin_mode / pin_versions / pin_cache_cap, host version ----

// Lines 14..: a pinned cluster (hosts on line 19..20).
constexpr std::string_view kPinned = R"([[cluster]]
name = "shop"
pin_group = "shop"
pin_mode = "full"
pin_versions = ["v1", "2024.06-rc_1"]
hosts = [{ address = "127.0.0.1:9101", version = "v1" },
         { address = "127.0.0.1:9102", version = "2024.06-rc_1" },
         "127.0.0.1:9103"]
)";

TEST(ClusterPin, GroupModeVersionsAndHostVersions) {
  const ConfigSpec spec = load(base() + std::string(kPinned));
  const ClusterSpec& c = spec.clusters.at(1);
  ASSERT_TRUE(c.pin.has_value());
  EXPECT_EQ(c.pin->group, "shop");
  EXPECT_EQ(c.pin->mode, PinMode::Full);
  EXPECT_FALSE(c.pin->cache_cap.has_value());  // [pinning] cache_cap applies
  ASSERT_EQ(c.pin->versions.size(), 2u);
  EXPECT_EQ(c.pin->versions[0], (PinVersionSpec{"v1", "", "", ""}));  // oldest first
  EXPECT_EQ(c.pin->versions[1].id, "2024.06-rc_1");
  EXPECT_EQ(c.hosts.at(0).version, "v1");
  EXPECT_EQ(c.hosts.at(1).version, "2024.06-rc_1");
  EXPECT_EQ(c.hosts.at(2).version, "");  // no version: only unpinned requests
}

TEST(ClusterPin, ModeDefaultsToAssetsAndCacheCap) {
  std::string text = base() + std::string(kPinned);
  text.replace(text.find("pin_mode = \"full\""), 17, "pin_cache_cap = false");
  const ConfigSpec spec = load(text);
  EXPECT_EQ(spec.clusters.at(1).pin->mode, PinMode::Assets);
  EXPECT_EQ(spec.clusters.at(1).pin->cache_cap, false);
}

TEST(ClusterPinErrors, GroupAndVersionsComeTogether) {
  std::string text = base() + std::string(kPinned);
  text.erase(text.find("pin_group = \"shop\"\n"), 19);
  EXPECT_EQ(errorOf(text), "t.toml:17: cluster[1].pin_versions: requires pin_group");
  text = base() + std::string(kPinned);
  const size_t at = text.find("pin_versions = ");
  text.erase(at, text.find("hosts = [", at) - at);
  EXPECT_EQ(errorOf(text), "t.toml:16: cluster[1].pin_group: requires pin_versions");
  for (const char* key : {"pin_mode = \"off\"", "pin_cache_cap = true"}) {
    const std::string name = std::string(key).substr(0, std::string(key).find(' '));
    EXPECT_EQ(
        errorOf(base() + "[[cluster]]\nname = \"x\"\nhosts = [\"127.0.0.1:1\"]\n" + key + "\n"),
        "t.toml:17: cluster[1]." + name + ": requires pin_group")
        << key;
  }
}

TEST(ClusterPinErrors, Values) {
  std::string text = base() + std::string(kPinned);
  text.replace(text.find("\"full\""), 6, "\"sticky\"");
  EXPECT_EQ(errorOf(text),
            "t.toml:17: cluster[1].pin_mode: unknown value \"sticky\" (expected one of \"off\", "
            "\"assets\", \"full\")");
  text = base() + std::string(kPinned);
  text.replace(text.find("pin_group = \"shop\""), 18, "pin_group = \"a/b\"");
  EXPECT_EQ(errorOf(text),
            "t.toml:16: cluster[1].pin_group: name must be 1..64 of [A-Za-z0-9_.-], got \"a/b\"");
}

TEST(ClusterPinErrors, VersionIds) {
  const auto with = [](std::string_view versions) {
    std::string text = base() + std::string(kPinned);
    const size_t at = text.find("[\"v1\", \"2024.06-rc_1\"]");
    text.replace(at, std::string_view("[\"v1\", \"2024.06-rc_1\"]").size(), versions);
    return errorOf(text);
  };
  EXPECT_EQ(with("[]"), "t.toml:18: cluster[1].pin_versions: at least one version id required");
  EXPECT_EQ(with("[\"v1\", \"v2\", \"v1\", \"2024.06-rc_1\"]"),
            "t.toml:18: cluster[1].pin_versions[2]: duplicate version id \"v1\" "
            "(cluster[1].pin_versions[0])");
  EXPECT_EQ(with("[\"v1\", \"a b\"]"),
            "t.toml:18: cluster[1].pin_versions[1]: version id must be 1..64 of [A-Za-z0-9._-], "
            "got \"a b\"");
  EXPECT_EQ(with("[\"" + std::string(65, 'a') + "\"]"),
            "t.toml:18: cluster[1].pin_versions[0]: version id must be 1..64 of [A-Za-z0-9._-], "
            "got \"" +
                std::string(65, 'a') + "\"");
  EXPECT_EQ(with("\"v1\""), "t.toml:18: cluster[1].pin_versions: expected an array, got string");
}

TEST(ClusterPinErrors, HostVersionMustBeListed) {
  std::string text = base() + std::string(kPinned);
  const std::string listed = "version = \"2024.06-rc_1\" }";
  text.replace(text.find(listed), listed.size(), "version = \"v3\" }");
  EXPECT_EQ(errorOf(text),
            "t.toml:20: cluster[1].hosts[1].version: unknown version \"v3\" (not in "
            "pin_versions)");
  text = base() + std::string(kPinned);
  text.replace(text.find("version = \"v1\""), 14, "version = \"v 1\"");
  EXPECT_EQ(errorOf(text),
            "t.toml:19: cluster[1].hosts[0].version: version id must be 1..64 of "
            "[A-Za-z0-9._-], got \"v 1\"");
  EXPECT_EQ(errorOf(base() + R"([[cluster]]
name = "x"
hosts = ["127.0.0.1:1",
         { address = "127.0.0.1:2", version = "v1" }]
)"),
            "t.toml:17: cluster[1].hosts[1].version: requires pin_group");
}

}  // namespace
}  // namespace baton::conf
