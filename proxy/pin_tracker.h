// PinTracker: the control thread's half of asset pinning. For every snapshot it publishes, the
// server asks it for the pinned clusters' GroupViews: which versions are live and serving (from
// the hosts' admin states after Marathon and the operator), whether the group is in cutover or
// in its grace, and which version the CDN gets. It keeps per-group state across snapshots: the
// CDN version and its flips, the cutover's start and end, the learned maps' epoch.
//
// Time-based changes (the grace ends, a held flip may go) need a new snapshot: nextDeadlineMs()
// says when, and the server republishes then. Control thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "proxy/pin_state.h"
#include "upstream/cluster.h"

namespace baton::proxy {

class PinTracker {
 public:
  using Pins = std::vector<std::shared_ptr<const PinGroupState>>;
  // The loaded manifest of (cluster name, version id), or null (pin_manifests.h).
  using ManifestLookup = std::function<std::shared_ptr<const routing::pin::PathSet>(
      const std::string& cluster, const std::string& version)>;

  // The pin state of each of `clusters` (same indices; null for unpinned ones) at `now_ms`
  // (unix ms). Groups no longer present are forgotten.
  Pins update(const std::vector<std::shared_ptr<const upstream::Cluster>>& clusters,
              const conf::PinningSpec& settings, int64_t now_ms,
              const ManifestLookup& manifests = {});

  // The earliest time a view computed now would change by itself (grace end, flip hold end).
  std::optional<int64_t> nextDeadlineMs() const { return next_deadline_ms_; }

  // `set group <group> cdn-version <id>`: every cluster of the group whose versions include a
  // live `id`. Takes effect at the next update(). Error text when no cluster matched.
  std::optional<std::string> setCdnVersion(std::string_view group, std::string_view id);

 private:
  struct Group {
    std::shared_ptr<PinRuntime> runtime = std::make_shared<PinRuntime>();
    std::string cdn_id;  // "" = none yet
    bool in_cutover = false;
    int64_t cutover_started_ms = 0;
    int64_t grace_until_ms = 0;
    int64_t last_flip_ms = 0;
    uint64_t flips = 0;
    bool flip_held = false;
    uint64_t epoch = 0;
    std::string forced_id;  // the operator's choice, applied at the next update
    std::string group;      // its HAPROXY_DEPLOYMENT_GROUP, and its live version ids, as last
    std::vector<std::string> live_ids;  // seen (for the operator's command)
    bool seen = false;
  };
  std::shared_ptr<const PinGroupState> updateGroup(const upstream::Cluster& cluster,
                                                   const conf::PinningSpec& settings,
                                                   int64_t now_ms, const ManifestLookup& manifests);
  void trackCutover(Group& g, const PinGroupState& state, const conf::PinningSpec& settings,
                    int64_t now_ms);
  void chooseCdnVersion(Group& g, PinGroupState& state, int64_t now_ms);
  void flipTo(Group& g, PinGroupState& state, int to, int64_t now_ms, const char* why);
  void noteDeadline(int64_t at_ms, int64_t now_ms);

  std::unordered_map<std::string, Group> groups_;  // by cluster name
  uint64_t next_epoch_ = 1;
  std::optional<int64_t> next_deadline_ms_;
};

}  // namespace baton::proxy
