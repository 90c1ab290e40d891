// The health thread's verdicts as the control thread reads them, and how the control thread
// applies them to the clusters it publishes.
//
// ClusterVerdict: per checked cluster, the host addresses its check keeps out of rotation. The
// health thread (health_service.h) publishes an immutable Verdicts map whenever one changes; an
// unchanged cluster keeps its very ClusterVerdict object, so the applier's memo holds.
//
// VerdictApplier::apply: the clusters with Host::healthy set from the verdicts, like operator
// overrides: a copy of each checked cluster with a flag to change (the cluster itself when every
// host already has its flag), memoised by (cluster object, verdict object) so that nothing is
// copied (and no balancer state is lost) while nothing flips. Panic
// (Cluster::panic()): when no Active host of a cluster passes, every host is published as
// healthy (routing to all beats routing to none); the status still shows the real verdicts and
// the cluster's panic flag.
//
// Threading: VerdictApplier is control thread only; the Verdicts it reads are immutable.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "proxy/admin/status.h"
#include "proxy/core/string_keyed.h"
#include "upstream/cluster.h"

namespace baton::proxy::health {

struct ClusterVerdict {
  uint64_t epoch = 0;          // the checker's count of changes to the cluster
  core::StringSet unroutable;  // host addresses failing the check
};
using Verdicts = std::unordered_map<std::string, std::shared_ptr<const ClusterVerdict>>;

class VerdictApplier {
 public:
  using Clusters = std::vector<std::shared_ptr<const upstream::Cluster>>;

  // Clusters without a check, or without a verdict yet (a check the health thread has not
  // adopted), are returned as they are.
  Clusters apply(const Clusters& clusters, const Verdicts& verdicts);
  // Sets ClusterStatus::health_panic as the last apply() decided.
  void fillStatus(admin::EdgeStatus& status) const;

 private:
  struct Memo {
    std::shared_ptr<const upstream::Cluster> base;  // held: its address stays unique
    std::shared_ptr<const upstream::Cluster> adjusted;
    std::shared_ptr<const ClusterVerdict> verdict;  // held likewise
  };
  // A copy of `cluster` with the verdict's flags; nullptr when every flag is already so.
  std::shared_ptr<const upstream::Cluster> adjusted(const ClusterVerdict& verdict,
                                                    const upstream::Cluster& cluster,
                                                    bool& panic) const;

  std::unordered_map<const upstream::Cluster*, Memo> memo_;
  std::unordered_map<std::string, bool> panic_;  // by cluster name, as last published
};

}  // namespace baton::proxy::health
