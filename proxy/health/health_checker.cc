#include "proxy/health/health_checker.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <unordered_set>

#include "proxy/core/clock.h"
#include "proxy/core/log.h"
#include "proxy/core/string_keyed.h"
#include "proxy/tls/client_context.h"

namespace baton::proxy::health {

struct HealthChecker::Target {
  Target(ClusterChecks& owner, std::string_view host_address, Clock::time_point now,
         conf::Duration grace)
      : cluster(&owner), address(host_address), health(now, grace) {}
  ClusterChecks* cluster;  // the owner: stable (heap), outlives its targets
  std::string address;
  upstream::HostSockaddr addr{};  // the host's, with the check's port applied
  socklen_t addr_len = 0;
  HostHealth health;
  std::unique_ptr<Probe> probe;
  std::string detail;
  int64_t checked_unix_ms = 0;
  bool scheduled = false;  // has an entry in due_

  void setAddress(const upstream::Host& host, const conf::HealthCheckSpec& spec) {
    addr = host.sockaddr;
    addr_len = host.sockaddr_len;
    if (!spec.port) return;
    if (addr.sa.sa_family == AF_INET) addr.v4.sin_port = htons(*spec.port);
    if (addr.sa.sa_family == AF_INET6) addr.v6.sin6_port = htons(*spec.port);
  }
  ProbeTarget probeTarget(const conf::HealthCheckSpec& spec) const {
    ProbeTarget t;
    std::memcpy(&t.addr, &addr, std::min<size_t>(addr_len, sizeof addr));
    t.len = addr_len;
    t.host_header = spec.host_header.empty() ? address : spec.host_header;
    return t;
  }
};

struct HealthChecker::ClusterChecks {
  std::string name;
  conf::HealthCheckSpec spec;
  core::StringMap<std::unique_ptr<Target>> targets;  // by host address
  uint64_t epoch = 1;  // bumped when a host's routability flips or hosts come and go
  std::array<uint64_t, kProbeOutcomes> outcomes{};
};

HealthChecker::HealthChecker(core::EventLoop& loop, std::function<void()> on_change)
    : loop_(loop),
      on_change_(std::move(on_change)),
      random_(std::random_device{}()),
      timer_(loop, [this] { onTimer(); }) {}

HealthChecker::~HealthChecker() {
  stop();
}

void HealthChecker::stop() {
  due_.clear();
  timer_.cancel();
  armed_for_ = Clock::time_point::max();
  clusters_.clear();  // probes close as their targets go
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
  std::vector<std::unique_ptr<Target>> leaving;
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
    core::StringMap<std::unique_ptr<Target>> targets;
    targets.reserve(cluster->hosts().size());
    for (const upstream::Host& host : cluster->hosts()) {
      if (targets.contains(host.address)) continue;  // one probe per address
      std::unique_ptr<Target> target;
      if (auto found = checks->targets.find(host.address); found != checks->targets.end()) {
        target = std::move(found->second);
      }
      if (!target) target = std::make_unique<Target>(*checks, host.address, now, spec->grace);
      target->setAddress(host, *spec);
      if (!target->scheduled && !target->probe) {
        schedule(*target, firstProbeDelay(spec->interval, unit()));
      }
      targets.emplace(host.address, std::move(target));
    }
    // A forgotten host that was out changes nothing the next apply() would not recompute; the
    // epoch bump keeps memoised copies honest anyway.
    if (targets.size() != checks->targets.size()) ++checks->epoch;
    for (auto& [address, target] : checks->targets) {
      if (target) leaving.push_back(std::move(target));
    }
    checks->targets = std::move(targets);
    next.emplace(cluster->name(), std::move(checks));
  }
  for (auto& [name, checks] : clusters_) {
    if (!checks) continue;  // kept: moved to `next`
    for (auto& [address, target] : checks->targets) leaving.push_back(std::move(target));
  }
  unschedule(leaving);
  clusters_ = std::move(next);
}  // `leaving` goes here: its probes close

void HealthChecker::schedule(Target& target, conf::Duration delay) {
  const auto at = Clock::now() + delay;
  due_.push_back(Due{at, &target});
  std::push_heap(due_.begin(), due_.end(), std::greater<>{});
  target.scheduled = true;
  if (at < armed_for_) armTimer();
}

void HealthChecker::armTimer() {
  if (due_.empty()) {
    timer_.cancel();
    armed_for_ = Clock::time_point::max();
    return;
  }
  armed_for_ = due_.front().at;
  const auto wait = std::chrono::ceil<std::chrono::milliseconds>(armed_for_ - Clock::now());
  timer_.arm(std::max(wait, std::chrono::milliseconds(0)));
}

void HealthChecker::onTimer() {
  const auto now = Clock::now();
  while (!due_.empty() && due_.front().at <= now) {
    std::pop_heap(due_.begin(), due_.end(), std::greater<>{});
    Target* target = due_.back().target;
    due_.pop_back();
    target->scheduled = false;
    startProbe(*target);  // never calls back from here: results come from the loop
  }
  armTimer();
}

void HealthChecker::unschedule(const std::vector<std::unique_ptr<Target>>& leaving) {
  std::unordered_set<const Target*> gone;
  for (const auto& target : leaving) {
    if (target->scheduled) gone.insert(target.get());
  }
  if (gone.empty()) return;
  std::erase_if(due_, [&gone](const Due& due) { return gone.contains(due.target); });
  std::make_heap(due_.begin(), due_.end(), std::greater<>{});
  armTimer();
}

void HealthChecker::startProbe(Target& target) {
  const ClusterChecks& cluster = *target.cluster;
  const tls::ClientContext* tls =
      cluster.spec.protocol == conf::HealthCheckProtocol::Https ? tlsContext() : nullptr;
  target.probe =
      std::make_unique<Probe>(loop_, target.probeTarget(cluster.spec), cluster.spec, tls,
                              [this, &target](ProbeResult result) { onResult(target, result); });
}

void HealthChecker::onResult(Target& target, ProbeResult result) {
  loop_.deferDelete(std::move(target.probe));  // we are inside its callback
  ClusterChecks& cluster = *target.cluster;
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
