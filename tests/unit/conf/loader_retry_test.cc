// [[cluster]] retry, retry_budget, max_connections/max_pending/max_requests and the route's
// retry and timeouts (issue 8, items 3 and 4).
#include <gtest/gtest.h>

#include <string>

#include "conf/loader.h"
#include "tests/unit/conf/loader_test_util.h"

namespace baton::conf {
namespace {

using std::chrono::milliseconds;
using test::base;
using test::errorOf;
using test::load;
using test::withClusterKeys;

// kBase with `extra` appended to the route (extra starts at line 14).
std::string withRouteKeys(const std::string& extra) {
  return base() + extra;
}

TEST(LoaderRetry, DefaultsRetryResetsOnlyWithinABudgetAndNoLimits) {
  const ConfigSpec spec = load(base());
  const ClusterSpec& c = spec.clusters[0];
  EXPECT_TRUE(c.retry.on_reset);
  EXPECT_TRUE(c.retry.statuses.empty());
  EXPECT_EQ(c.retry.retries, 2u);
  EXPECT_EQ(c.retry.replay_buffer, 64u * 1024);
  EXPECT_EQ(c.retry_budget.percent, 20u);
  EXPECT_EQ(c.retry_budget.min_retries, 10u);
  EXPECT_EQ(c.limits, CircuitLimitsSpec{});
  EXPECT_FALSE(spec.vhosts[0].routes[0].retry.has_value());
  EXPECT_EQ(spec.vhosts[0].routes[0].timeouts, TimeoutOverrides{});
}

TEST(LoaderRetry, EveryClusterKey) {
  const ConfigSpec spec = load(withClusterKeys(
      "retry = { on = [\"reset\", \"gateway-error\", \"500\"], retries = 3, replay_buffer = "
      "\"8KiB\" }\n"
      "retry_budget = { percent = 50, min_retries = 2, window = \"30s\" }\n"
      "max_connections = 100\nmax_pending = 10\nmax_requests = 200\n"));
  const ClusterSpec& c = spec.clusters[0];
  EXPECT_TRUE(c.retry.on_reset);
  EXPECT_EQ(c.retry.statuses, (std::vector<uint16_t>{500, 502, 503, 504}));
  EXPECT_EQ(c.retry.retries, 3u);
  EXPECT_EQ(c.retry.replay_buffer, 8u * 1024);
  EXPECT_EQ(c.retry_budget.percent, 50u);
  EXPECT_EQ(c.retry_budget.min_retries, 2u);
  EXPECT_EQ(c.retry_budget.window, milliseconds(30'000));
  EXPECT_EQ(c.limits.max_connections, 100u);
  EXPECT_EQ(c.limits.max_pending, 10u);
  EXPECT_EQ(c.limits.max_requests, 200u);
}

TEST(LoaderRetry, ListingOnReplacesTheDefault) {
  EXPECT_FALSE(load(withClusterKeys("retry = { on = [] }\n")).clusters[0].retry.on_reset);
  const ConfigSpec spec = load(withClusterKeys("retry = { on = [\"5xx\"] }\n"));
  EXPECT_FALSE(spec.clusters[0].retry.on_reset);
  EXPECT_EQ(spec.clusters[0].retry.statuses.size(), 100u);
  EXPECT_EQ(spec.clusters[0].retry.statuses.front(), 500);
}

TEST(LoaderRetry, RouteRetryAndTimeouts) {
  const ConfigSpec spec = load(withRouteKeys(
      "retry = { on = [\"503\"], retries = 1 }\n"
      "timeouts = { upstream_connect = \"1s\", upstream_first_byte = \"2s\", body_idle = "
      "\"3s\" }\n"));
  const RouteSpec& r = spec.vhosts[0].routes[0];
  ASSERT_TRUE(r.retry.has_value());
  EXPECT_FALSE(r.retry->on_reset);
  EXPECT_EQ(r.retry->statuses, (std::vector<uint16_t>{503}));
  EXPECT_EQ(r.retry->retries, 1u);
  EXPECT_EQ(r.timeouts.upstream_connect, milliseconds(1'000));
  EXPECT_EQ(r.timeouts.upstream_first_byte, milliseconds(2'000));
  EXPECT_EQ(r.timeouts.body_idle, milliseconds(3'000));
}

TEST(LoaderRetry, ErrorsNameFileLineAndKey) {
  EXPECT_EQ(errorOf(withClusterKeys("retry = { on = [\"reset\", \"404\"] }\n")),
            "t.toml:8: cluster[0].retry.on[1]: invalid retry condition \"404\": expected "
            "\"reset\", \"5xx\", \"gateway-error\" or a status 500..599");
  EXPECT_EQ(errorOf(withClusterKeys("retry = { retries = 9 }\n")),
            "t.toml:8: cluster[0].retry.retries: must be 0..8, got 9");
  EXPECT_EQ(errorOf(withClusterKeys("retry_budget = { percent = 101 }\n")),
            "t.toml:8: cluster[0].retry_budget.percent: must be 0..100, got 101");
  EXPECT_EQ(errorOf(withClusterKeys("max_requests = -1\n")),
            "t.toml:8: cluster[0].max_requests: must be 0..10000000, got -1");
  EXPECT_EQ(errorOf(withRouteKeys("retry = { budget = 1 }\n")).substr(0, 48),
            "t.toml:14: vhost[0].route[0].retry.budget: unkno");
  EXPECT_EQ(errorOf(withRouteKeys("timeouts = { tunnel_idle = \"1s\" }\n")).substr(0, 55),
            "t.toml:14: vhost[0].route[0].timeouts.tunnel_idle: unkn");
}

TEST(LoaderUpstreamTls, ServerNameOnlyForH2AndNormalised) {
  const ConfigSpec spec =
      load(withClusterKeys("protocol = \"h2\"\ntls_server_name = \"GRPC.Svc.Internal\"\n"));
  EXPECT_EQ(spec.clusters[0].tls_server_name, "grpc.svc.internal");
  EXPECT_EQ(errorOf(withClusterKeys("tls_server_name = \"grpc.svc.internal\"\n")),
            "t.toml:8: cluster[0].tls_server_name: only with protocol = \"h2\"");
  EXPECT_EQ(
      errorOf(withClusterKeys("protocol = \"h2\"\ntls_server_name = \"a b\"\n")).substr(0, 36),
      "t.toml:9: cluster[0].tls_server_name");
}

}  // namespace
}  // namespace baton::conf
