#include "proxy/health/host_health.h"

#include <algorithm>

namespace baton::proxy::health {

std::string_view healthStateName(HealthState state) {
  switch (state) {
    case HealthState::Unchecked:
      return "unchecked";
    case HealthState::Grace:
      return "grace";
    case HealthState::Healthy:
      return "healthy";
    case HealthState::Unhealthy:
      return "unhealthy";
  }
  return "unchecked";
}

bool HostHealth::record(bool passed, Clock::time_point now, const conf::HealthCheckSpec& spec) {
  const bool was_routable = routable();
  if (passed) {
    failures_ = 0;
    ++passes_;
    ever_passed_ = true;
    if (state_ != HealthState::Unhealthy || passes_ >= spec.healthy_threshold) {
      state_ = HealthState::Healthy;
    }
    return routable() != was_routable;
  }
  passes_ = 0;
  // Marathon's grace: a starting task may fail until it first passes or the grace ends.
  if (!ever_passed_ && now < grace_until_) return false;
  ++failures_;
  if (failures_ >= spec.unhealthy_threshold) state_ = HealthState::Unhealthy;
  return routable() != was_routable;
}

HealthState HostHealth::state(Clock::time_point now) const {
  if (state_ == HealthState::Unchecked && now < grace_until_) return HealthState::Grace;
  return state_;
}

conf::Duration firstProbeDelay(conf::Duration interval, double unit) {
  const auto ms = static_cast<int64_t>(static_cast<double>(interval.count()) * unit);
  return conf::Duration(std::clamp<int64_t>(ms, 1, std::max<int64_t>(interval.count(), 1)));
}

conf::Duration nextProbeDelay(conf::Duration interval, double unit) {
  const double factor = 0.9 + 0.2 * unit;
  const auto ms = static_cast<int64_t>(static_cast<double>(interval.count()) * factor);
  return conf::Duration(std::max<int64_t>(ms, 1));
}

}  // namespace baton::proxy::health
