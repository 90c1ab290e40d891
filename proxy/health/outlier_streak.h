// Passive outlier ejection, the worker's half: one host's streak of failed requests as one
// worker saw them. The stream records what happened (proxy/stream.cc); when the streak reaches
// the cluster's threshold the worker tells the control thread once (OutlierDetector decides)
// and counts again from zero, so a host that could not be ejected (the percent cap) is reported
// again after as many failures more, never on every failure.
//
// Threading: lives in the worker's HostRuntime (proxy/worker_stats.h); worker thread only.
// record() is the whole request-path cost: a few integer compares, no allocation.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "conf/config_spec.h"

namespace baton::proxy::health {

// What a request told about its host.
enum class OutlierEvent : uint8_t {
  ConnectFailure,  // refused, unreachable, connect timeout, reset before the request was sent
  Reset,           // reset or protocol error after the request was sent, before the response
  GatewayError,    // 502, 503, 504 from the host
  ServerError,     // another 5xx from the host
  Success,         // any other response status
};

// What the worker posts to the control thread.
enum class OutlierSignal : uint8_t {
  ConsecutiveFailures,  // consecutive_failures reached (connect failures, resets, 502-504)
  Consecutive5xx,       // consecutive_5xx reached
  Success,              // the first success of a host back from an ejection
};

struct OutlierReport {
  std::string cluster;
  std::string address;
  OutlierSignal signal = OutlierSignal::ConsecutiveFailures;
};

struct OutlierStreak {
  // From the worker's current snapshot (WorkerStats::attach): 0 = that kind is not counted.
  uint32_t failure_threshold = 0;
  uint32_t x5xx_threshold = 0;
  // The snapshot marks the host as back from an ejection: report its next success.
  bool recovering = false;
  uint32_t failures = 0;
  uint32_t x5xx = 0;

  // The settings of `spec` and the host's snapshot flag; streaks are kept.
  void configure(const conf::OutlierSpec& spec, bool host_recovering) {
    failure_threshold = spec.consecutive_failures;
    x5xx_threshold = spec.consecutive_5xx;
    recovering = host_recovering && spec.enabled();
  }

  // One request's result. Returns what to report, if anything.
  std::optional<OutlierSignal> record(OutlierEvent event) {
    switch (event) {
      case OutlierEvent::Success:
        failures = 0;
        x5xx = 0;
        if (!recovering) return std::nullopt;
        recovering = false;  // once per recovery
        return OutlierSignal::Success;
      case OutlierEvent::ConnectFailure:
      case OutlierEvent::Reset:
        return countFailure();
      case OutlierEvent::GatewayError:
        if (auto signal = count5xx()) {
          failures = 0;
          return signal;
        }
        return countFailure();
      case OutlierEvent::ServerError:
        failures = 0;  // the host answered: not a gateway failure (Envoy's rule)
        return count5xx();
    }
    return std::nullopt;
  }

 private:
  std::optional<OutlierSignal> countFailure() {
    if (failure_threshold == 0 || ++failures < failure_threshold) return std::nullopt;
    failures = 0;
    return OutlierSignal::ConsecutiveFailures;
  }
  std::optional<OutlierSignal> count5xx() {
    if (x5xx_threshold == 0 || ++x5xx < x5xx_threshold) return std::nullopt;
    x5xx = 0;
    return OutlierSignal::Consecutive5xx;
  }
};

// 5xx status -> event; other statuses are successes.
inline OutlierEvent outlierEventOfStatus(int status) {
  if (status == 502 || status == 503 || status == 504) return OutlierEvent::GatewayError;
  if (status >= 500 && status <= 599) return OutlierEvent::ServerError;
  return OutlierEvent::Success;
}

}  // namespace baton::proxy::health
