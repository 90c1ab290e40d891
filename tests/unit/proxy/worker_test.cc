// Worker: a snapshot the worker replaces, or the last reference a stream kept, is freed on the
// reclaimer's thread, not on the worker's (at Marathon scale that is tens of milliseconds of
// destructors a resync, taken from requests).
#include "proxy/worker.h"

#include <gtest/gtest.h>
#include <pthread.h>

#include <memory>
#include <string>

#include "proxy/core/event_loop.h"
#include "proxy/core/reclaimer.h"

namespace baton::proxy {
namespace {

SnapshotPtr snapshotWithOneCluster(uint64_t generation) {
  auto config = std::make_shared<conf::ConfigSpec>();
  conf::ClusterSpec cluster;
  cluster.name = "shop_10000";
  conf::HostSpec host;
  host.address = "127.0.0.1:31000";
  cluster.hosts = {host};
  config->clusters.push_back(cluster);
  auto built = buildSnapshot(config, generation, nullptr, 1);
  EXPECT_TRUE(built.has_value()) << built.error().detail;
  return *built;
}

std::string currentThreadName() {
  char name[32] = {};
  pthread_getname_np(pthread_self(), name, sizeof name);
  return name;
}

TEST(Worker, AReplacedSnapshotIsFreedOnTheReclaimersThread) {
  core::Reclaimer reclaimer;
  std::string freed_on;
  // The first snapshot, with a deleter that notes the thread it runs on.
  SnapshotPtr first(new ProxySnapshot(*snapshotWithOneCluster(1)),
                    [&freed_on](const ProxySnapshot* snapshot) {
                      freed_on = currentThreadName();
                      delete snapshot;
                    });
  std::weak_ptr<const ProxySnapshot> watch = first;
  core::EventLoop control;
  Worker worker(0, {}, std::move(first), reclaimer);
  worker.start();
  worker.reconfigure(snapshotWithOneCluster(2), {});
  // The worker applies posts in order: once its stats come back, the new snapshot is applied.
  worker.collectStats(control, [&](WorkerReport) { control.stop(); });
  control.run();
  reclaimer.drain();
  EXPECT_TRUE(watch.expired());
  EXPECT_EQ(freed_on, "baton-reclaim");
  worker.drain([] {});
  worker.join();
}

TEST(Worker, TheLastReferenceAStreamLetsGoOfIsFreedOnTheReclaimersThread) {
  core::Reclaimer reclaimer;
  Worker worker(0, {}, snapshotWithOneCluster(1), reclaimer);
  std::string freed_on;
  SnapshotPtr kept(new ProxySnapshot(*snapshotWithOneCluster(2)),
                   [&freed_on](const ProxySnapshot* snapshot) {
                     freed_on = currentThreadName();
                     delete snapshot;
                   });
  SnapshotPtr other = kept;
  worker.releaseSnapshot(std::move(kept));  // not the last: nothing handed over
  reclaimer.drain();
  EXPECT_EQ(freed_on, "");
  worker.releaseSnapshot(std::move(other));  // the last
  reclaimer.drain();
  EXPECT_EQ(freed_on, "baton-reclaim");
  worker.releaseSnapshot(nullptr);
}

}  // namespace
}  // namespace baton::proxy
