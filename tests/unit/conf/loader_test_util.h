// Shared by the conf loader tests: a small valid config to patch, and helpers that load text as
// "t.toml" and return the spec or the error detail.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <string_view>

#include "conf/loader.h"

namespace baton::conf::test {

// Lines 1..13: a valid config most tests append to or patch.
inline constexpr std::string_view kBase = R"([[listener]]
name = "http"
address = "127.0.0.1:8080"

[[cluster]]
name = "web"
hosts = ["127.0.0.1:9001"]

[[vhost]]
name = "site"
domains = ["*"]
[[vhost.route]]
cluster = "web"
)";

inline std::string base() {
  return std::string(kBase);
}

// The line number of the first key after base() and a one-line section header.
inline std::string lineAfterBase() {
  return std::to_string(std::count(kBase.begin(), kBase.end(), '\n') + 2);
}

// kBase with `extra` appended to the [[cluster]] table (lines 5..7; extra starts at line 8).
inline std::string withClusterKeys(const std::string& extra) {
  std::string text = base();
  const std::string anchor = "hosts = [\"127.0.0.1:9001\"]\n";
  text.insert(text.find(anchor) + anchor.size(), extra);
  return text;
}

// Loads `text` as "t.toml" and returns the error detail, or "OK".
inline std::string errorOf(std::string_view text) {
  auto r = loadConfigString(text, "t.toml");
  if (r) return "OK";
  EXPECT_EQ(r.error().code, core::ErrorCode::ConfigInvalid);
  EXPECT_EQ(r.error().source, core::ErrorSource::Config);
  return r.error().detail;
}

inline ConfigSpec load(std::string_view text, const std::string& name = "t.toml") {
  auto r = loadConfigString(text, name);
  EXPECT_TRUE(r.has_value()) << r.error().detail;
  return r.value_or(ConfigSpec{});
}

}  // namespace baton::conf::test
