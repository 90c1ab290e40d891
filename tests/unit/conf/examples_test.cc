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
  EXPECT_GE(count, 5u);
}

TEST(Examples, DemoIsWhatTheReadmePromises) {
  auto spec = loadConfigFile((examplesDir() / "demo.toml").string());
  ASSERT_TRUE(spec.has_value()) << spec.error().detail;
  EXPECT_TRUE(spec->listeners.empty());  // every listener comes from the app list
  ASSERT_EQ(spec->marathon.urls.size(), 1u);
  // A relative file: URL is resolved against the config file's directory.
  EXPECT_EQ(spec->marathon.urls[0], "file:" + (examplesDir() / "demo_apps.json").string());
  EXPECT_EQ(spec->marathon.bind_address, "127.0.0.1");
  EXPECT_EQ(spec->marathon.http_port, 8080);
  EXPECT_EQ(spec->marathon.app_id_port, 9091);
  EXPECT_EQ(spec->admin.http_address, "127.0.0.1:9090");
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

TEST(Examples, MarathonNeedsNoHttpListener) {
  const fs::path path = examplesDir() / "marathon.toml";
  auto spec = loadConfigFile(path.string());
  ASSERT_TRUE(spec.has_value()) << spec.error().detail;
  EXPECT_EQ(spec->marathon.urls, (std::vector<std::string>{"http://marathon-1.mesos:8080",
                                                           "http://marathon-2.mesos:8080"}));
  EXPECT_EQ(spec->marathon.groups, std::vector<std::string>{"external"});
  EXPECT_TRUE(spec->marathon.health_check);
  EXPECT_EQ(spec->marathon.http_port, 80);
  EXPECT_EQ(spec->marathon.app_id_port, 9091);
  EXPECT_EQ(spec->admin.http_address, "127.0.0.1:9090");
  ASSERT_EQ(spec->listeners.size(), 1u);
  EXPECT_EQ(spec->listeners[0].kind, ListenerKind::Tcp);
  EXPECT_EQ(spec->listeners[0].tcp_cluster, "postgres");
  EXPECT_EQ(spec->clusters.at(0).policy, LbPolicyKind::SourceHash);
  EXPECT_TRUE(spec->vhosts.empty());
}

TEST(Examples, FullSetsTheNewKeys) {
  auto spec = loadConfigFile((examplesDir() / "full.toml").string());
  ASSERT_TRUE(spec.has_value()) << spec.error().detail;
  EXPECT_EQ(spec->admin.http_address, "127.0.0.1:9090");
  ASSERT_EQ(spec->listeners.size(), 4u);
  EXPECT_EQ(spec->listeners[2].route_by, RouteBy::AppIdHeader);
  EXPECT_EQ(spec->listeners[3].kind, ListenerKind::Tcp);
  EXPECT_EQ(spec->clusters.at(0).sticky_cookie, "mesosphere_server_id");
  EXPECT_TRUE(spec->clusters.at(0).timeouts.tunnel_idle.has_value());
  const RouteSpec& api = spec->vhosts.at(0).routes.at(0);
  ASSERT_TRUE(api.basic_auth.has_value());
  EXPECT_EQ(api.basic_auth->users.at(0).user, "ops");
  EXPECT_TRUE(api.hsts);
  EXPECT_EQ(spec->vhosts.at(1).scope, "app-ids");
}

}  // namespace
}  // namespace baton::conf
