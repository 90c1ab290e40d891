// Traffic counters shared by the data plane (each worker owns its own copies, plain integers,
// no atomics: one thread writes them) and the admin model (the control thread merges the copies
// every worker sends back; see proxy/admin/status.h).
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace baton::proxy {

// Requests by HTTP status class: 0 = 1xx ... 4 = 5xx, 5 = "other" (no status sent: the client
// went away first, logged as 499).
inline constexpr size_t kStatusClasses = 6;
size_t statusClassIndex(uint16_t status);
std::string_view statusClassLabel(size_t index);  // "1xx" .. "5xx", "other"

// Request latency (start of the request head to the end of the response), Prometheus-style
// buckets. Counts are per bucket (not cumulative); renderers accumulate.
struct LatencyHistogram {
  static constexpr size_t kBounds = 13;
  // Upper bounds in seconds; the bucket after the last is +Inf.
  static constexpr std::array<double, kBounds> kBoundsSeconds{
      0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0};
  std::array<uint64_t, kBounds + 1> buckets{};
  uint64_t count = 0;
  uint64_t sum_us = 0;

  void record(std::chrono::microseconds elapsed);
  void merge(const LatencyHistogram& other);
  // Upper bound (seconds) of the bucket holding quantile `q` (0..1); 0 when empty; the last
  // finite bound when the quantile falls in +Inf. Coarse on purpose: for dashboards.
  double quantileSeconds(double q) const;
};

// A listener's TLS handshakes (per worker, merged on the control thread).
struct TlsCounters {
  uint64_t handshakes = 0;  // completed
  uint64_t failures = 0;    // failed, timed out, or no certificate to start with
  void merge(const TlsCounters& o) {
    handshakes += o.handshakes;
    failures += o.failures;
  }
};

// A listener's HTTP/2 connections, added when each connection ends (per worker, merged on the
// control thread). Field meanings as http2::SessionStats.
struct Http2Counters {
  uint64_t streams = 0;
  uint64_t resets_received = 0;
  uint64_t stream_errors_sent = 0;
  uint64_t refused_streams = 0;
  uint64_t goaway_no_error = 0;
  uint64_t goaway_protocol_error = 0;
  uint64_t goaway_enhance_your_calm = 0;
  uint64_t goaway_other = 0;
  void merge(const Http2Counters& o) {
    streams += o.streams;
    resets_received += o.resets_received;
    stream_errors_sent += o.stream_errors_sent;
    refused_streams += o.refused_streams;
    goaway_no_error += o.goaway_no_error;
    goaway_protocol_error += o.goaway_protocol_error;
    goaway_enhance_your_calm += o.goaway_enhance_your_calm;
    goaway_other += o.goaway_other;
  }
};

// A cluster's retries beyond connect failures, and its circuit breaking (issue 8).
struct ResilienceCounters {
  uint64_t resent = 0;            // requests sent again after a reset or a retried status
  uint64_t budget_exhausted = 0;  // re-sends the retry budget refused (the failure was answered)
  // Requests answered 503 at once, by limit: max_connections, max_pending, max_requests.
  std::array<uint64_t, 3> overflow{};

  void merge(const ResilienceCounters& o) {
    resent += o.resent;
    budget_exhausted += o.budget_exhausted;
    for (size_t i = 0; i < overflow.size(); ++i) overflow[i] += o.overflow[i];
  }
};

// Load shedding (issue 5, [limits]): connections refused at accept, by reason, and what a
// process over its buffer budget sheds. Each worker counts on its own thread; the admin model
// sums them (/metrics baton_connections_shed_total and friends, `show info`, /status).
enum class ShedReason : uint8_t {
  WorkerLimit,   // [limits] max_connections on the accepting worker
  ProcessLimit,  // [limits] max_connections_total
  FdReserve,     // fewer than [limits] fd_reserve descriptors would be left
  Overload,      // the process is over [limits] buffer_budget
  Draining,      // the worker was draining (upgrade, shutdown)
  OutOfFds,      // accept() failed (EMFILE/ENFILE): clients waiting in the queue accepted, closed
};
inline constexpr size_t kShedReasons = 6;
std::string_view shedReasonName(ShedReason reason);  // "worker_limit", ... (metric label)

struct SheddingCounters {
  std::array<uint64_t, kShedReasons> connections{};  // refused at accept, by ShedReason
  uint64_t accept_pauses = 0;       // accept() failed: the listener paused for 100 ms
  uint64_t requests = 0;            // request heads answered 503 while over the buffer budget
  uint64_t idle_closed = 0;         // idle connections closed on going over the budget
  uint64_t overload_episodes = 0;   // times a worker went over the budget
  uint64_t overloaded_workers = 0;  // gauge: workers over the budget when asked

  void count(ShedReason reason) { ++connections[static_cast<size_t>(reason)]; }
  void merge(const SheddingCounters& o);
};

struct TrafficCounters {
  std::array<uint64_t, kStatusClasses> requests{};
  uint64_t bytes_in = 0;   // request body bytes from clients
  uint64_t bytes_out = 0;  // response body bytes to clients
  LatencyHistogram latency;

  void record(uint16_t status, uint64_t in, uint64_t out, std::chrono::microseconds elapsed);
  void merge(const TrafficCounters& other);
  uint64_t total() const;
};

}  // namespace baton::proxy
