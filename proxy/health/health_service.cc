#include "proxy/health/health_service.h"

#include "proxy/core/stop_signals.h"

namespace baton::proxy::health {

HealthService::HealthService(core::EventLoop& control, std::function<void()> on_change)
    : control_(control),
      on_change_(std::move(on_change)),
      checker_(std::make_unique<HealthChecker>(loop_, [this] { schedulePublish(); })),
      verdicts_(std::make_shared<Verdicts>()) {
  thread_ = std::thread([this] {
    core::blockStopSignals();
    loop_.run();
  });
}

HealthService::~HealthService() {
  stop();
}

void HealthService::stop() {
  if (stopped_) return;
  stopped_ = true;
  loop_.post([this] {
    checker_->stop();  // probes close on the thread that runs them
    loop_.stop();
  });
  if (thread_.joinable()) thread_.join();
}

void HealthService::sync(const Clusters& clusters) {
  if (stopped_) return;
  loop_.post([this, clusters] {
    checker_->sync(clusters);
    schedulePublish();  // new checks, forgotten hosts
  });
}

HealthService::Clusters HealthService::apply(const Clusters& clusters) {
  std::shared_ptr<const Verdicts> verdicts;
  {
    std::lock_guard lock(mutex_);
    verdicts = verdicts_;
  }
  return applier_.apply(clusters, *verdicts);
}

void HealthService::fillStatus(admin::EdgeStatus status,
                               std::function<void(admin::EdgeStatus)> done) {
  applier_.fillStatus(status);
  if (stopped_) {
    done(std::move(status));
    return;
  }
  loop_.post([this, status = std::move(status), done = std::move(done)]() mutable {
    checker_->fillStatus(status);
    control_.post([status = std::move(status), done = std::move(done)]() mutable {
      done(std::move(status));
    });
  });
}

// Flips come in bursts (a backend going down fails every probe of its hosts within an
// interval, a resync adds thousands of hosts): one map per pass of the loop.
void HealthService::schedulePublish() {
  if (publish_pending_) return;
  publish_pending_ = true;
  loop_.post([this] { publish(); });
}

void HealthService::publish() {
  publish_pending_ = false;
  std::shared_ptr<const Verdicts> previous;
  {
    std::lock_guard lock(mutex_);
    previous = verdicts_;
  }
  bool changed = false;
  auto next = checker_->verdicts(previous.get(), changed);
  {
    std::lock_guard lock(mutex_);
    verdicts_ = std::move(next);
  }
  if (changed) control_.post(on_change_);
}

}  // namespace baton::proxy::health
