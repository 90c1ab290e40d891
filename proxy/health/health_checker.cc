#include "proxy/health/health_checker.h"

#include <chrono>

#include "proxy/core/clock.h"
#include "proxy/core/log.h"
#include "proxy/tls/client_context.h"

namespace baton::proxy::health {

struct HealthChecker::Target {
  Target(core::EventLoop& loop, Clock::time_point now, conf::Duration grace,
         std::function<void(Target&)> on_timer)
      : health(now, grace),
        timer(loop, [this, on_timer = std::move(on_timer)] { on_timer(*this); }) {}
  std::string address;
  ProbeTarget probe_target;
  HostHealth health;
  core::Timer timer;
  std::unique_ptr<Probe> probe;
  std::string detail;
  int64_t checked_unix_ms = 0;
};

struct HealthChecker::ClusterChecks {
  std::string name;
  conf::HealthCheckSpec spec;
  std::unordered_map<std::string, std::unique_ptr<Target>> targets;  // by host address
  uint64_t epoch = 1;  // bumped when a host's routability flips or hosts come and go
  std::array<uint64_t, kProbeOutcomes> outcomes{};
};

namespace {

// The host's address with the check's port, if it names one.
ProbeTarget probeTarget(const upstream::Host& host, const conf::HealthCheckSpec& spec) {
  ProbeTarget t;
  t.addr = host.sockaddr;
  t.len = host.sockaddr_len;
  if (spec.port) {
    if (t.addr.ss_family == AF_INET) {
      reinterpret_cast<sockaddr_in*>(&t.addr)->sin_port = htons(*spec.port);
    } else if (t.addr.ss_family == AF_INET6) {
      reinterpret_cast<sockaddr_in6*>(&t.addr)->sin6_port = htons(*spec.port);
    }
  }
  t.host_header = spec.host_header.empty() ? host.address : spec.host_header;
  return t;
}

}  // namespace

HealthChecker::HealthChecker(core::EventLoop& loop, std::function<void()> on_change)
    : loop_(loop), on_change_(std::move(on_change)), random_(std::random_device{}()) {}

HealthChecker::~HealthChecker() {
  stop();
}

void HealthChecker::stop() {
  clusters_.clear();  // timers cancel and probes close as their owners go
}

double HealthChecker::unit() {
  return std::uniform_real_distribution<double>(0.0, 1.0)(random_);
}

const tls::ClientContext* HealthChecker::tlsContext() {
  if (tls_) return tls_.get();
  tls::ClientOptions options;
  options.verify = false;  // Marathon's HTTPS checks do not verify either
  options.alpn = {"http/1.1"};
  auto ctx = tls::ClientContext::create(options);
  if (!ctx) {
    core::logf(core::LogLevel::Error, "health checks: %s", ctx.error().detail.c_str());
    return nullptr;
  }
  tls_ = std::move(*ctx);
  return tls_.get();
}

void HealthChecker::sync(const Clusters& clusters) {
  std::unordered_map<std::string, std::unique_ptr<ClusterChecks>> next;
  const auto now = Clock::now();
  for (const auto& cluster : clusters) {
    const auto& spec = cluster->healthCheck();
    if (!spec) continue;
    std::unique_ptr<ClusterChecks> checks;
    if (auto found = clusters_.find(cluster->name()); found != clusters_.end()) {
      checks = std::move(found->second);
    } else {
      checks = std::make_unique<ClusterChecks>();
      checks->name = cluster->name();
    }
    checks->spec = *spec;
    // Timer callbacks reach their cluster through this pointer: stable (heap), and the timers
    // die with their targets, which die with it.
    ClusterChecks* raw = checks.get();
    std::unordered_map<std::string, std::unique_ptr<Target>> targets;
    for (const upstream::Host& host : cluster->hosts()) {
      std::unique_ptr<Target> target;
      if (auto found = checks->targets.find(host.address); found != checks->targets.end()) {
        target = std::move(found->second);
      }
      if (!target) {
        target = std::make_unique<Target>(loop_, now, spec->grace,
                                          [this, raw](Target& t) { startProbe(*raw, t); });
        target->address = host.address;
      }
      target->probe_target = probeTarget(host, *spec);
      if (!target->timer.armed() && !target->probe) {
        schedule(*target, firstProbeDelay(spec->interval, unit()));
      }
      targets.emplace(host.address, std::move(target));
    }
    // A forgotten host that was out changes nothing the next apply() would not recompute; the
    // epoch bump keeps memoised copies honest anyway.
    if (targets.size() != checks->targets.size()) ++checks->epoch;
    checks->targets = std::move(targets);
    next.emplace(cluster->name(), std::move(checks));
  }
  clusters_ = std::move(next);
}

void HealthChecker::schedule(Target& target, conf::Duration delay) {
  target.timer.arm(delay);
}

void HealthChecker::startProbe(ClusterChecks& cluster, Target& target) {
  const tls::ClientContext* tls =
      cluster.spec.protocol == conf::HealthCheckProtocol::Https ? tlsContext() : nullptr;
  target.probe = std::make_unique<Probe>(
      loop_, target.probe_target, cluster.spec, tls,
      [this, &cluster, &target](ProbeResult result) { onResult(cluster, target, result); });
}

void HealthChecker::onResult(ClusterChecks& cluster, Target& target, ProbeResult result) {
  loop_.deferDelete(std::move(target.probe));  // we are inside its callback
  ++cluster.outcomes[static_cast<size_t>(result.outcome)];
  target.detail = std::move(result.detail);
  target.checked_unix_ms = core::unixNowMs();
  const bool flipped = target.health.record(result.passed(), Clock::now(), cluster.spec);
  schedule(target, nextProbeDelay(cluster.spec.interval, unit()));
  if (!flipped) return;
  core::logf(core::LogLevel::Info, "health: %s %s is now %s (%s)", cluster.name.c_str(),
             target.address.c_str(), target.health.routable() ? "healthy" : "unhealthy",
             target.detail.c_str());
  ++cluster.epoch;
  on_change_();
}

std::shared_ptr<const Verdicts> HealthChecker::verdicts(const Verdicts* previous,
                                                        bool& changed) const {
  auto out = std::make_shared<Verdicts>();
  out->reserve(clusters_.size());
  changed = false;
  for (const auto& [name, checks] : clusters_) {
    std::shared_ptr<const ClusterVerdict> before;
    if (previous != nullptr) {
      if (auto found = previous->find(name); found != previous->end()) before = found->second;
    }
    if (before && before->epoch == checks->epoch) {
      out->emplace(name, before);
      continue;
    }
    auto verdict = std::make_shared<ClusterVerdict>();
    verdict->epoch = checks->epoch;
    for (const auto& [address, target] : checks->targets) {
      if (!target->health.routable()) verdict->unroutable.insert(address);
    }
    changed = changed ||
              (before ? before->unroutable != verdict->unroutable : !verdict->unroutable.empty());
    out->emplace(name, std::move(verdict));
  }
  return out;
}

void HealthChecker::fillStatus(admin::EdgeStatus& status) const {
  const auto now = Clock::now();
  for (admin::ClusterStatus& cluster : status.clusters) {
    auto found = clusters_.find(cluster.name);
    if (found == clusters_.end()) continue;
    const ClusterChecks& checks = *found->second;
    cluster.health_checked = true;
    for (size_t i = 0; i < kProbeOutcomes; ++i) {
      cluster.health_checks.emplace_back(probeOutcomeName(static_cast<ProbeOutcome>(i)),
                                         checks.outcomes[i]);
    }
    for (admin::HostStatus& host : cluster.hosts) {
      auto target = checks.targets.find(host.address);
      if (target == checks.targets.end()) continue;
      const Target& t = *target->second;
      host.health = std::string(healthStateName(t.health.state(now)));
      host.health_consecutive = t.health.consecutive();
      host.health_detail = t.detail;
      host.health_checked_unix_ms = t.checked_unix_ms;
    }
  }
}

}  // namespace baton::proxy::health
