// Load-balancing policies. One instance per (worker, cluster snapshot): it is only ever used
// from that worker's event loop, so its mutable state (weights, outstanding counts, RNG) needs
// no locks. Each policy lives in its own file:
//   round_robin.cc    — smooth weighted round-robin (nginx's algorithm)
//   least_request.cc  — least outstanding requests, weighted, ties broken round-robin
//   power_of_two.cc   — two random hosts (weighted draw), pick the one with fewer outstanding
//   source_hash.cc    — the client address picks the host (weighted rendezvous hashing)
#pragma once

#include <cstdint>
#include <memory>
#include <span>
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
  std::span<const uint32_t> indices() const { return tried_; }

 private:
  std::vector<uint32_t> tried_;  // tiny (<= connect_attempts), linear scan beats a set
};

// What a pick may depend on besides the balancer's own state. Small and built per pick.
struct PickContext {
  // hashClientAddress() of the client's IP (direct peer); only SourceHash reads it.
  uint64_t client_hash = 0;
  // Asset pinning: only hosts of this version (Host::version) are eligible; kNoVersion = any.
  uint16_t version = Host::kNoVersion;
};

class LoadBalancer {
 public:
  virtual ~LoadBalancer() = default;
  // Picks a routable host not in `tried`; nullptr when none is left (-> NoHealthyHost / 503).
  const Host* pick(const TriedHosts& tried, const PickContext& ctx = {}) {
    return choose(tried, ctx);
  }
  // The stream calls these around each upstream request so policies can count load.
  void onRequestStart(const Host& host) { ++outstanding_[host.index]; }
  void onRequestEnd(const Host& host) { --outstanding_[host.index]; }
  uint32_t outstanding(uint32_t index) const { return outstanding_[index]; }

 protected:
  // The policy. Called only through pick() (the one place to add common checks later).
  virtual const Host* choose(const TriedHosts& tried, const PickContext& ctx) = 0;
  explicit LoadBalancer(std::shared_ptr<const Cluster> cluster)
      : cluster_(std::move(cluster)), outstanding_(cluster_->hosts().size(), 0) {}
  // The one eligibility rule every policy applies: routable (Active and healthy), of the pinned
  // version (if any), and not yet tried for this request.
  static bool eligible(const Host& host, const TriedHosts& tried, const PickContext& ctx) {
    return host.routable() && versionMatches(host, ctx) && !tried.contains(host.index);
  }
  static bool versionMatches(const Host& host, const PickContext& ctx) {
    return ctx.version == Host::kNoVersion || host.version == ctx.version;
  }
  std::shared_ptr<const Cluster> cluster_;
  std::vector<uint32_t> outstanding_;
};

// A stable 64-bit hash of a client IP address (IPv4, IPv6; a v4-mapped v6 address hashes like
// its IPv4 form), the same on every worker and every baton instance. Other families: 0.
uint64_t hashClientAddress(const sockaddr* addr);

// `seed` makes random policies deterministic in tests; workers pass a per-thread seed.
std::unique_ptr<LoadBalancer> createLoadBalancer(std::shared_ptr<const Cluster> cluster,
                                                 uint64_t seed);

}  // namespace baton::upstream
