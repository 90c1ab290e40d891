// Load-balancing policies. One instance per (worker, cluster snapshot): it is only ever used
// from that worker's event loop, so its mutable state (weights, outstanding counts, RNG) needs
// no locks. Each policy lives in its own file:
//   round_robin.cc    — smooth weighted round-robin (nginx's algorithm)
//   least_request.cc  — least outstanding requests, weighted, ties broken round-robin
//   power_of_two.cc   — two random hosts (weighted draw), pick the one with fewer outstanding
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "upstream/cluster.h"

namespace baton::upstream {

// Hosts already tried for one request (connect failures); pick() never returns them.
class TriedHosts {
 public:
  void add(uint32_t index) { tried_.push_back(index); }
  bool contains(uint32_t index) const {
    for (uint32_t i : tried_)
      if (i == index) return true;
    return false;
  }
  size_t size() const { return tried_.size(); }

 private:
  std::vector<uint32_t> tried_;  // tiny (<= connect_attempts), linear scan beats a set
};

class LoadBalancer {
 public:
  virtual ~LoadBalancer() = default;
  // Picks an Active host not in `tried`; nullptr when none is left (-> NoHealthyHost / 503).
  virtual const Host* pick(const TriedHosts& tried) = 0;
  // The stream calls these around each upstream request so policies can count load.
  void onRequestStart(const Host& host) { ++outstanding_[host.index]; }
  void onRequestEnd(const Host& host) { --outstanding_[host.index]; }
  uint32_t outstanding(uint32_t index) const { return outstanding_[index]; }

 protected:
  explicit LoadBalancer(std::shared_ptr<const Cluster> cluster)
      : cluster_(std::move(cluster)), outstanding_(cluster_->hosts().size(), 0) {}
  // The one eligibility rule every policy applies: Active and not yet tried for this request.
  static bool eligible(const Host& host, const TriedHosts& tried) {
    return host.admin_state == AdminState::Active && !tried.contains(host.index);
  }
  std::shared_ptr<const Cluster> cluster_;
  std::vector<uint32_t> outstanding_;
};

// `seed` makes random policies deterministic in tests; workers pass a per-thread seed.
std::unique_ptr<LoadBalancer> createLoadBalancer(std::shared_ptr<const Cluster> cluster,
                                                 uint64_t seed);

}  // namespace baton::upstream
