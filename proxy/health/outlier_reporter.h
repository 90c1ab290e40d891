// Passive outlier ejection, the stream's entry point: Worker::outliers().record(host, event).
// The event goes into the host's streak (HostRuntime::outlier); a streak that reached its
// threshold, or the first success of a host back from an ejection, is handed to the sink, which
// posts it to the control thread (Server -> OutlierDetector).
//
// Threading: one per worker, worker thread only. record() costs a few compares on a cluster
// without detection (thresholds 0) and allocates only when it reports.
#pragma once

#include <functional>
#include <utility>

#include "proxy/health/outlier_streak.h"
#include "proxy/worker_stats.h"

namespace baton::proxy::health {

class OutlierReporter {
 public:
  using Sink = std::function<void(OutlierReport)>;

  // Before the worker's thread starts (no sink: nothing is reported).
  void setSink(Sink sink) { sink_ = std::move(sink); }

  void record(const StatsRef<HostRuntime>& host, OutlierEvent event) {
    HostRuntime* runtime = host.get();
    if (runtime == nullptr) return;
    const auto signal = runtime->outlier.record(event);
    if (signal && sink_) sink_(OutlierReport{runtime->cluster, runtime->address, *signal});
  }
  void recordStatus(const StatsRef<HostRuntime>& host, int status) {
    record(host, outlierEventOfStatus(status));
  }

 private:
  Sink sink_;
};

}  // namespace baton::proxy::health
