// The verdict of baton's active health check on one host: the N-consecutive state machine with
// a grace period for new hosts, and the jitter of probe times. Pure (the caller passes the
// time), so the flip timing is unit-tested with simulated time.
//
// Rules (HAProxy's rise/fall, Marathon's grace):
// - a host starts Unchecked, routable, like a host without a check (Marathon already vouched
//   for it, or the operator configured it); with a grace period it shows as Grace until then;
// - unhealthy_threshold failures in a row take it out (Unhealthy); healthy_threshold passes in
//   a row bring it back; a single result never flips it;
// - failures before the first pass and within the grace period are recorded but not counted.
//
// Threading: the health thread (proxy/health/health_checker), like everything it holds.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "conf/config_spec.h"

namespace baton::proxy::health {

using Clock = std::chrono::steady_clock;

enum class HealthState : uint8_t { Unchecked, Grace, Healthy, Unhealthy };
std::string_view healthStateName(HealthState state);  // "unchecked", "grace", ...

class HostHealth {
 public:
  // `added`: when the host was first seen; failures until added + grace are not counted.
  HostHealth(Clock::time_point added, conf::Duration grace) : grace_until_(added + grace) {}

  // One probe result. Returns true when routable() changed.
  bool record(bool passed, Clock::time_point now, const conf::HealthCheckSpec& spec);

  bool routable() const { return state_ != HealthState::Unhealthy; }
  HealthState state(Clock::time_point now) const;
  // Length of the current streak of passes (healthy) or failures (unhealthy) counted so far.
  uint32_t consecutive() const { return passes_ > 0 ? passes_ : failures_; }
  bool lastPassed() const { return passes_ > 0; }

 private:
  HealthState state_ = HealthState::Unchecked;
  Clock::time_point grace_until_;
  uint32_t passes_ = 0;
  uint32_t failures_ = 0;
  bool ever_passed_ = false;
};

// The delay before the first probe of a new host: spread over one interval (`unit` in [0, 1))
// so hosts added together (a Marathon resync, a reload) are not probed in one burst.
conf::Duration firstProbeDelay(conf::Duration interval, double unit);
// The delay between two probes of one host: interval ± 10 % (`unit` in [0, 1)), never < 1 ms.
conf::Duration nextProbeDelay(conf::Duration interval, double unit);

}  // namespace baton::proxy::health
