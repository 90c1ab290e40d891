// Active health checks on their own thread. The probes of a large Marathon cluster (100,000
// tasks: ~100,000 connects per interval, ~2 s of CPU) ran on the control thread, where they
// delayed resyncs and admin answers; here they run on a thread of their own with its own event
// loop, and the control thread only reads the verdicts they produce.
//
// The control thread hands over each set of clusters it is about to publish (sync, posted),
// applies the latest verdicts to them (apply, no waiting: a verdict the health thread has not
// published yet is simply not there, like a host not yet probed) and asks for the per-host
// details when it builds a status (fillStatus, answered on the control loop). The health thread
// publishes a new immutable Verdicts map, at most once per pass of its loop, and posts
// `on_change` to the control loop when a host's routability flipped.
//
// Threading: every public method is for the control thread. The HealthChecker it owns is used
// only on the health thread; the verdicts are shared as an immutable map under a mutex taken
// once per publish and once per apply (never on the request path).
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "proxy/admin/status.h"
#include "proxy/core/event_loop.h"
#include "proxy/health/health_checker.h"
#include "proxy/health/health_verdicts.h"

namespace baton::proxy::health {

class HealthService {
 public:
  using Clusters = std::vector<std::shared_ptr<const upstream::Cluster>>;

  // `control`: the control thread's loop, where `on_change` and status answers are posted.
  // Starts the health thread.
  HealthService(core::EventLoop& control, std::function<void()> on_change);
  ~HealthService();  // stop()
  HealthService(const HealthService&) = delete;
  HealthService& operator=(const HealthService&) = delete;

  // The clusters about to be published: the health thread starts probing new hosts, forgets
  // gone ones, takes a changed check's new settings (keeping the verdicts).
  void sync(const Clusters& clusters);
  // `clusters` with Host::healthy set from the latest verdicts.
  Clusters apply(const Clusters& clusters);
  // Fills the health fields of `status` (per-host verdicts on the health thread, the panic flags
  // here) and calls `done` with it on the control loop; at once after stop().
  void fillStatus(admin::EdgeStatus status, std::function<void(admin::EdgeStatus)> done);
  // Stops every probe and timer and joins the thread (shutdown). Idempotent.
  void stop();

 private:
  void schedulePublish();  // health thread
  void publish();          // health thread

  core::EventLoop& control_;
  std::function<void()> on_change_;
  core::EventLoop loop_;  // the health thread's
  std::unique_ptr<HealthChecker> checker_;
  bool publish_pending_ = false;  // health thread
  mutable std::mutex mutex_;
  std::shared_ptr<const Verdicts> verdicts_;  // guarded by mutex_
  VerdictApplier applier_;                    // control thread
  std::thread thread_;
  bool stopped_ = false;  // control thread
};

}  // namespace baton::proxy::health
