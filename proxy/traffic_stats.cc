#include "proxy/traffic_stats.h"

namespace baton::proxy {

size_t statusClassIndex(uint16_t status) {
  if (status >= 100 && status < 600) return status / 100 - 1;
  return 5;
}

std::string_view statusClassLabel(size_t index) {
  static constexpr std::array<std::string_view, kStatusClasses> kLabels{"1xx", "2xx", "3xx",
                                                                        "4xx", "5xx", "other"};
  return index < kLabels.size() ? kLabels[index] : "other";
}

void LatencyHistogram::record(std::chrono::microseconds elapsed) {
  const uint64_t us = elapsed.count() < 0 ? 0 : static_cast<uint64_t>(elapsed.count());
  const double seconds = static_cast<double>(us) / 1e6;
  size_t i = 0;
  while (i < kBounds && seconds > kBoundsSeconds[i]) ++i;
  ++buckets[i];
  ++count;
  sum_us += us;
}

void LatencyHistogram::merge(const LatencyHistogram& other) {
  for (size_t i = 0; i < buckets.size(); ++i) buckets[i] += other.buckets[i];
  count += other.count;
  sum_us += other.sum_us;
}

double LatencyHistogram::quantileSeconds(double q) const {
  if (count == 0) return 0;
  const double rank = q * static_cast<double>(count);
  uint64_t seen = 0;
  for (size_t i = 0; i < kBounds; ++i) {
    seen += buckets[i];
    if (static_cast<double>(seen) >= rank) return kBoundsSeconds[i];
  }
  return kBoundsSeconds[kBounds - 1];
}

void TrafficCounters::record(uint16_t status, uint64_t in, uint64_t out,
                             std::chrono::microseconds elapsed) {
  ++requests[statusClassIndex(status)];
  bytes_in += in;
  bytes_out += out;
  latency.record(elapsed);
}

void TrafficCounters::merge(const TrafficCounters& other) {
  for (size_t i = 0; i < requests.size(); ++i) requests[i] += other.requests[i];
  bytes_in += other.bytes_in;
  bytes_out += other.bytes_out;
  latency.merge(other.latency);
}

uint64_t TrafficCounters::total() const {
  uint64_t sum = 0;
  for (uint64_t n : requests) sum += n;
  return sum;
}

std::string_view shedReasonName(ShedReason reason) {
  switch (reason) {
    case ShedReason::WorkerLimit:
      return "worker_limit";
    case ShedReason::ProcessLimit:
      return "process_limit";
    case ShedReason::FdReserve:
      return "fd_reserve";
    case ShedReason::Overload:
      return "overload";
    case ShedReason::Draining:
      return "draining";
    case ShedReason::OutOfFds:
      return "out_of_fds";
  }
  return "unknown";
}

void SheddingCounters::merge(const SheddingCounters& o) {
  for (size_t i = 0; i < connections.size(); ++i) connections[i] += o.connections[i];
  accept_pauses += o.accept_pauses;
  requests += o.requests;
  idle_closed += o.idle_closed;
  overload_episodes += o.overload_episodes;
  overloaded_workers += o.overloaded_workers;
}

}  // namespace baton::proxy
