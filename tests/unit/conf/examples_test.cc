// Every file in conf/examples/ must load: the examples are documentation that cannot rot.
#include <gtest/gtest.h>

#include <filesystem>

#include "conf/loader.h"

namespace baton::conf {
namespace {

namespace fs = std::filesystem;

// tests/unit/conf/examples_test.cc -> conf/examples
fs::path examplesDir() {
  return fs::path(__FILE__).parent_path().parent_path().parent_path().parent_path() / "conf" /
         "examples";
}

TEST(Examples, EveryExampleLoads) {
  size_t count = 0;
  for (const auto& entry : fs::directory_iterator(examplesDir())) {
    if (entry.path().extension() != ".toml") continue;
    ++count;
    auto spec = loadConfigFile(entry.path().string());
    EXPECT_TRUE(spec.has_value()) << entry.path() << ": " << spec.error().detail;
  }
  EXPECT_GE(count, 4u);
}

TEST(Examples, DemoIsWhatTheReadmePromises) {
  auto spec = loadConfigFile((examplesDir() / "demo.toml").string());
  ASSERT_TRUE(spec.has_value()) << spec.error().detail;
  ASSERT_EQ(spec->listeners.size(), 1u);
  EXPECT_EQ(spec->listeners[0].address, "127.0.0.1:8080");
  ASSERT_EQ(spec->clusters.size(), 2u);
  EXPECT_EQ(spec->clusters[0].name, "blue");
  EXPECT_EQ(spec->clusters[0].hosts[0].address, "127.0.0.1:8081");
  EXPECT_EQ(spec->clusters[1].name, "green");
  EXPECT_EQ(spec->clusters[1].hosts[0].address, "127.0.0.1:8082");
  ASSERT_EQ(spec->vhosts.size(), 1u);
  EXPECT_EQ(spec->vhosts[0].domains, std::vector<std::string>{"*"});
  ASSERT_EQ(spec->vhosts[0].routes.size(), 2u);
  EXPECT_EQ(spec->vhosts[0].routes[0].prefix, "/green");
  EXPECT_EQ(spec->vhosts[0].routes[0].cluster, "green");
  EXPECT_EQ(spec->vhosts[0].routes[1].prefix, "/");
  EXPECT_EQ(spec->vhosts[0].routes[1].cluster, "blue");
  EXPECT_EQ(spec->server.access_log.path, "stdout");
  EXPECT_EQ(spec->server.access_log.format, AccessLogFormat::Text);
}

TEST(Examples, MultiVhostUsesEveryPolicy) {
  auto spec = loadConfigFile((examplesDir() / "multi_vhost.toml").string());
  ASSERT_TRUE(spec.has_value()) << spec.error().detail;
  EXPECT_EQ(spec->clusters[0].policy, LbPolicyKind::LeastRequest);
  EXPECT_EQ(spec->clusters[1].policy, LbPolicyKind::PowerOfTwo);
  EXPECT_EQ(spec->clusters[2].policy, LbPolicyKind::RoundRobin);
  EXPECT_EQ(spec->vhosts.size(), 3u);
}

}  // namespace
}  // namespace baton::conf
