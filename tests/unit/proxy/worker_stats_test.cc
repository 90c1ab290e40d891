// WorkerStats: counters keyed by name survive snapshots, absent runtimes live while referenced,
// hosts leaving service are reported once.
#include "proxy/worker_stats.h"

#include <gtest/gtest.h>

#include "proxy/admin_overrides.h"
#include "proxy/snapshot.h"

namespace baton::proxy {
namespace {

conf::HostSpec hostSpec(const std::string& address, bool draining = false) {
  conf::HostSpec h;
  h.address = address;
  h.draining = draining;
  return h;
}

std::shared_ptr<const conf::ConfigSpec> configWith(std::vector<conf::HostSpec> hosts,
                                                   const std::string& cluster = "web") {
  auto config = std::make_shared<conf::ConfigSpec>();
  conf::ClusterSpec c;
  c.name = cluster;
  c.hosts = std::move(hosts);
  config->clusters.push_back(c);
  conf::VirtualHostSpec vhost;
  vhost.name = "site";
  vhost.domains = {"*"};
  conf::RouteSpec route;
  route.prefix = "/";
  route.cluster = cluster;
  vhost.routes.push_back(route);
  config->vhosts.push_back(vhost);
  return config;
}

SnapshotPtr snapshotOf(std::shared_ptr<const conf::ConfigSpec> config, uint64_t generation,
                       const ProxySnapshot* previous = nullptr) {
  auto built = buildSnapshot(std::move(config), generation, previous, 1);
  EXPECT_TRUE(built.has_value()) << (built ? "" : built.error().detail);
  return *built;
}

TEST(WorkerStats, CountersSurviveASnapshotThatKeepsTheHost) {
  WorkerStats stats;
  std::vector<HostRuntime*> left;
  auto first = snapshotOf(configWith({hostSpec("127.0.0.1:1000"), hostSpec("127.0.0.1:1001")}), 1);
  EXPECT_EQ(stats.attach(first, left), nullptr);
  stats.host(0, 1)->traffic().record(200, 1, 2, std::chrono::microseconds(5));
  stats.route(0)->traffic.record(200, 1, 2, std::chrono::microseconds(5));

  // The new config drops the first host: the second moves to index 0, its counters follow.
  auto second = snapshotOf(configWith({hostSpec("127.0.0.1:1001")}), 2, first.get());
  // The snapshot kept until now is handed back (a worker frees it off its thread).
  EXPECT_EQ(stats.attach(second, left), first);
  EXPECT_TRUE(left.empty());
  EXPECT_EQ(stats.host(0, 0)->traffic().total(), 1u);
  EXPECT_EQ(stats.route(0)->traffic.total(), 1u);
  const WorkerReport report = stats.report();
  ASSERT_EQ(report.clusters.size(), 1u);
  EXPECT_EQ(report.clusters[0].hosts.size(), 1u) << "the dropped, idle host is forgotten";
}

TEST(WorkerStats, RouteCountersSurviveASnapshotThatKeepsTheRouteTable) {
  WorkerStats stats;
  std::vector<HostRuntime*> left;
  auto first = snapshotOf(configWith({hostSpec("127.0.0.1:1000")}), 1);
  EXPECT_EQ(stats.attach(first, left), nullptr);
  RouteRuntime* route = stats.route(0);
  route->traffic.record(200, 1, 2, std::chrono::microseconds(5));
  // Only the hosts change: the snapshot keeps the route table object.
  auto second = snapshotOf(configWith({hostSpec("127.0.0.1:1001")}), 2, first.get());
  ASSERT_EQ(second->routes, first->routes);
  EXPECT_EQ(stats.attach(second, left), first);
  EXPECT_EQ(stats.route(0), route);
  EXPECT_EQ(stats.findRoute("site|/"), route) << "kept through the prune";
  EXPECT_EQ(stats.route(0)->traffic.total(), 1u);
  // A new route table (another prefix): the old route's runtime goes, the new one is fresh.
  auto third_config = std::make_shared<conf::ConfigSpec>(*configWith({hostSpec("127.0.0.1:1001")}));
  third_config->vhosts[0].routes[0].prefix = "/api";
  auto third = snapshotOf(third_config, 3, second.get());
  EXPECT_EQ(stats.attach(third, left), second);
  EXPECT_EQ(stats.findRoute("site|/"), nullptr);
  EXPECT_EQ(stats.findRoute("site|/api"), nullptr) << "made on first use";
  EXPECT_EQ(stats.route(0)->traffic.total(), 0u);
  EXPECT_NE(stats.findRoute("site|/api"), nullptr);
}

TEST(WorkerStats, ARouteGetsCountersOnFirstUseAndKeepsThemAcrossRouteTables) {
  WorkerStats stats;
  std::vector<HostRuntime*> left;
  auto first = snapshotOf(configWith({hostSpec("127.0.0.1:1000")}), 1);
  (void)stats.attach(first, left);
  EXPECT_EQ(stats.findRoute("site|/"), nullptr) << "no request yet: nothing allocated";
  EXPECT_TRUE(stats.report().routes.empty());
  stats.route(0)->traffic.record(200, 1, 2, std::chrono::microseconds(5));
  ASSERT_EQ(stats.report().routes.size(), 1u);

  // A new route table that keeps the used route and adds one: the used one follows its id, the
  // new one waits for its first use.
  auto second_config =
      std::make_shared<conf::ConfigSpec>(*configWith({hostSpec("127.0.0.1:1000")}));
  conf::RouteSpec api;
  api.prefix = "/api";
  api.cluster = "web";
  second_config->vhosts[0].routes = {api, second_config->vhosts[0].routes[0]};
  auto second = snapshotOf(second_config, 2, first.get());
  ASSERT_NE(second->routes, first->routes);
  (void)stats.attach(second, left);
  EXPECT_EQ(stats.findRoute("site|/api"), nullptr);
  EXPECT_EQ(stats.route(1)->traffic.total(), 1u) << "site|/ moved to index 1 with its counters";
  EXPECT_EQ(stats.route(0)->traffic.total(), 0u);
  EXPECT_EQ(stats.findRoute("site|/api"), stats.route(0));
}

TEST(WorkerStats, AClusterGetsCountersOnFirstUseAndKeepsThemByName) {
  WorkerStats stats;
  std::vector<HostRuntime*> left;
  auto first = snapshotOf(configWith({hostSpec("127.0.0.1:1000")}), 1);
  (void)stats.attach(first, left);
  EXPECT_EQ(stats.findCluster("web"), nullptr) << "no request yet: nothing allocated";
  stats.cluster(0)->no_host = 2;
  EXPECT_EQ(stats.findCluster("web"), stats.cluster(0));
  // Another cluster object of the same name (its hosts changed): the counters follow the name.
  auto second = snapshotOf(configWith({hostSpec("127.0.0.1:1001")}), 2, first.get());
  ASSERT_NE(second->clusters[0], first->clusters[0]);
  (void)stats.attach(second, left);
  EXPECT_EQ(stats.cluster(0)->no_host, 2u);
  // The same cluster object again: the table is kept, its counters with it.
  (void)stats.attach(second, left);
  EXPECT_EQ(stats.cluster(0)->no_host, 2u);
  ASSERT_EQ(stats.report().clusters.size(), 1u);
}

TEST(WorkerStats, AListenerAddedBackKeepsTheCountersItsConnectionsStillHold) {
  WorkerStats stats;
  EXPECT_TRUE(stats.report().listeners.empty());
  stats.listenerAdded("port_10001");
  EXPECT_TRUE(stats.report().listeners.empty()) << "made on the first connection, not before";
  StatsRef<ListenerRuntime> held(stats.listener("port_10001"));
  ++held->accepted;
  stats.listenerGone("port_10001");  // removed while a connection lives on
  stats.listenerAdded("port_10001");
  held = StatsRef<ListenerRuntime>();  // that connection ends
  std::vector<HostRuntime*> left;
  (void)stats.attach(snapshotOf(configWith({hostSpec("127.0.0.1:1000")}), 1), left);  // prunes
  const WorkerReport report = stats.report();
  ASSERT_EQ(report.listeners.size(), 1u);
  EXPECT_EQ(report.listeners[0].accepted, 1u);
}

TEST(WorkerStats, AConnectionOfARemovedListenerDoesNotBringItsCountersBack) {
  WorkerStats stats;
  StatsRef<ListenerRuntime> accepted(stats.listener("port_10001"));
  stats.listenerGone("port_10001");
  // The codec that connection hands over to looks its counters up after the removal.
  StatsRef<ListenerRuntime> codec(stats.listener("port_10001"));
  EXPECT_EQ(codec.get(), accepted.get());
  accepted = StatsRef<ListenerRuntime>();
  codec = StatsRef<ListenerRuntime>();
  std::vector<HostRuntime*> left;
  (void)stats.attach(snapshotOf(configWith({hostSpec("127.0.0.1:1000")}), 1), left);  // prunes
  EXPECT_TRUE(stats.report().listeners.empty()) << "forgotten once nothing holds them";
}

TEST(WorkerStats, AHostGetsCountersOnlyOnceARequestFinishes) {
  WorkerStats stats;
  std::vector<HostRuntime*> left;
  auto snapshot =
      snapshotOf(configWith({hostSpec("127.0.0.1:1000"), hostSpec("127.0.0.1:1001")}), 1);
  (void)stats.attach(snapshot, left);
  EXPECT_EQ(stats.host(0, 0)->trafficIfAny(), nullptr) << "no request yet: nothing allocated";
  stats.host(0, 1)->traffic().record(503, 3, 4, std::chrono::microseconds(7));

  const WorkerReport report = stats.report();
  ASSERT_EQ(report.clusters.size(), 1u);
  ASSERT_EQ(report.clusters[0].hosts.size(), 2u);
  for (const HostReport& host : report.clusters[0].hosts) {
    const bool used = host.address == "127.0.0.1:1001";
    EXPECT_EQ(host.traffic.total(), used ? 1u : 0u) << host.address;
    EXPECT_EQ(host.traffic.requests[4], used ? 1u : 0u) << host.address;
    EXPECT_EQ(host.traffic.bytes_in, used ? 3u : 0u) << host.address;
  }
}

TEST(WorkerStats, AnAbsentHostStaysWhileAStreamHoldsIt) {
  WorkerStats stats;
  std::vector<HostRuntime*> left;
  auto first = snapshotOf(configWith({hostSpec("127.0.0.1:1000")}), 1);
  (void)stats.attach(first, left);
  StatsRef<HostRuntime> held(stats.host(0, 0));
  held->in_flight = 1;
  auto second = snapshotOf(configWith({hostSpec("127.0.0.1:2000")}), 2);
  (void)stats.attach(second, left);
  WorkerReport report = stats.report();
  ASSERT_EQ(report.clusters[0].hosts.size(), 1u) << "the new host is not used yet";
  bool saw_absent = false;
  for (const auto& h : report.clusters[0].hosts) {
    if (h.address == "127.0.0.1:1000") {
      saw_absent = true;
      EXPECT_FALSE(h.present);
      EXPECT_EQ(h.in_flight, 1u);
    }
  }
  EXPECT_TRUE(saw_absent);
  held = StatsRef<HostRuntime>();
  (void)stats.attach(second, left);  // next snapshot prunes it
  EXPECT_TRUE(stats.report().clusters[0].hosts.empty());
}

TEST(WorkerStats, HostsLeavingServiceAreReportedOnce) {
  WorkerStats stats;
  std::vector<HostRuntime*> left;
  auto config = configWith({hostSpec("127.0.0.1:1000"), hostSpec("127.0.0.1:1001")});
  auto base = snapshotOf(config, 1);
  (void)stats.attach(base, left);
  EXPECT_TRUE(left.empty());

  AdminOverrides overrides;
  overrides.setHostState("web", "127.0.0.1:1001", upstream::AdminState::Draining);
  auto drained = applyOverrides(base, overrides, 2);
  (void)stats.attach(drained, left);
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0]->address, "127.0.0.1:1001");
  EXPECT_EQ(left[0]->state, upstream::AdminState::Draining);

  left.clear();
  (void)stats.attach(applyOverrides(base, overrides, 3), left);
  EXPECT_TRUE(left.empty()) << "still draining: not reported again";
  overrides.setHostState("web", "127.0.0.1:1001", upstream::AdminState::Active);
  (void)stats.attach(applyOverrides(base, overrides, 4), left);
  EXPECT_TRUE(left.empty());
  EXPECT_EQ(stats.host(0, 1)->state, upstream::AdminState::Active);
}

TEST(WorkerStats, AHostGetsARuntimeOnItsFirstUse) {
  WorkerStats stats;
  std::vector<HostRuntime*> left;
  auto config = std::make_shared<conf::ConfigSpec>(
      *configWith({hostSpec("127.0.0.1:1000"), hostSpec("127.0.0.1:1001")}));
  config->clusters[0].outlier.consecutive_failures = 3;
  auto snapshot = snapshotOf(config, 1);
  (void)stats.attach(snapshot, left);
  EXPECT_TRUE(stats.report().clusters.empty()) << "nothing used yet: not even the cluster's";

  HostRuntime* used = stats.host(0, 1);
  EXPECT_EQ(used->name, "127.0.0.1:1001");
  EXPECT_EQ(used->cluster, "web");
  EXPECT_EQ(used->outlier.failure_threshold, 3u) << "the cluster's settings, from its first use";
  EXPECT_EQ(stats.host(0, 1), used) << "made once";
  ASSERT_EQ(stats.report().clusters[0].hosts.size(), 1u);

  // The same snapshot again (a resync that changed nothing): the runtime stays linked.
  (void)stats.attach(snapshot, left);
  EXPECT_EQ(stats.host(0, 1), used);
  // A new cluster object with the host at another index finds it by name.
  auto moved = snapshotOf(configWith({hostSpec("127.0.0.1:1001")}), 2, snapshot.get());
  (void)stats.attach(moved, left);
  EXPECT_EQ(stats.host(0, 0), used);
  EXPECT_EQ(stats.report().clusters[0].hosts.size(), 1u);
}

TEST(WorkerStats, AHostOutOfServiceGetsARuntimeAtOnce) {
  WorkerStats stats;
  std::vector<HostRuntime*> left;
  auto snapshot = snapshotOf(
      configWith({hostSpec("127.0.0.1:1000"), hostSpec("127.0.0.1:1001", /*draining=*/true)}), 1);
  const auto before = std::chrono::steady_clock::now();
  (void)stats.attach(snapshot, left);
  ASSERT_EQ(left.size(), 1u) << "its pooled connections are closed, its drain deadline starts";
  EXPECT_EQ(left[0]->name, "127.0.0.1:1001");
  EXPECT_EQ(left[0]->state, upstream::AdminState::Draining);
  EXPECT_GE(left[0]->left_active_at, before);
  int counted = 0;
  stats.forEachHost([&](const std::string&, const HostRuntime& host) {
    EXPECT_EQ(host.name, "127.0.0.1:1001");
    ++counted;
  });
  EXPECT_EQ(counted, 1) << "the Active, unused host has none";
}

TEST(WorkerStats, RejectedRingKeepsTheNewest) {
  WorkerStats stats;
  for (int i = 0; i < 100; ++i) {
    stats.noteRejected(RejectedEntry{i, "l", "127.0.0.1", 400, "BadRequest", std::to_string(i)});
  }
  const WorkerReport report = stats.report();
  ASSERT_EQ(report.rejected.size(), 64u);
  EXPECT_EQ(report.rejected.front().unix_ms, 36);
  EXPECT_EQ(report.rejected.back().unix_ms, 99);
}

TEST(EscapeExcerpt, PrintableAsciiOnly) {
  EXPECT_EQ(escapeExcerpt("GET /\xe4\xb8\xad HTTP/1.1\r\n"), "GET /\\xe4\\xb8\\xad HTTP/1.1\\r\\n");
  EXPECT_EQ(escapeExcerpt("a\\b"), "a\\\\b");
  EXPECT_EQ(escapeExcerpt(std::string(10, 'x'), 4), "xxxx...");
}

TEST(TrafficCounters, StatusClassesAndQuantiles) {
  TrafficCounters t;
  t.record(204, 0, 0, std::chrono::microseconds(500));
  t.record(503, 0, 0, std::chrono::milliseconds(30));
  t.record(0, 0, 0, std::chrono::seconds(20));
  EXPECT_EQ(t.requests[1], 1u);
  EXPECT_EQ(t.requests[4], 1u);
  EXPECT_EQ(t.requests[5], 1u);
  EXPECT_EQ(t.total(), 3u);
  EXPECT_DOUBLE_EQ(t.latency.quantileSeconds(0.3), 0.001);
  EXPECT_DOUBLE_EQ(t.latency.quantileSeconds(0.6), 0.05);
  EXPECT_DOUBLE_EQ(t.latency.quantileSeconds(1.0), 10.0) << "+Inf reports the last bound";
  EXPECT_EQ(t.latency.buckets.back(), 1u);
}

}  // namespace
}  // namespace baton::proxy
