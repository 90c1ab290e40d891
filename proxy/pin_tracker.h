// PinTracker: the control thread's half of asset pinning. For every snapshot it publishes, the
// server asks it for the pinned clusters' GroupViews: which versions are live and serving (from
// the base snapshot: what Marathon or the file says, before operator overrides and this
// instance's health checks), whether the group is in cutover or in its grace, and which version
// the CDN gets.
//
// Several instances, one answer (issue 10): the CDN version is recomputed from scratch on every
// update (routing::pin::chooseCdnVersion: the view, BATON_PIN_CDN_VERSION, the rule-12 hold
// deadline) and the deadlines come from Marathon's timestamps (the versions' deployment starts),
// so instances that saw the same changes at different moments, or restarted, agree. What stays
// per instance: the operator's `set group <g> cdn-version` (a local override), the flip counter
// and log lines, the learned maps' epoch, and, for a group without BATON_PIN_CDN_MAX_FRESH, the
// hold's local freshness mark (routing/README.md "Several instances" says what that costs).
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
  // live `id`. Takes effect at the next update() and lasts while that version is live or until
  // the group's BATON_PIN_CDN_VERSION label changes (this instance only: the label is what
  // reaches every instance). Error text when no cluster matched.
  std::optional<std::string> setCdnVersion(std::string_view group, std::string_view id);

 private:
  struct Group {
    std::shared_ptr<PinRuntime> runtime = std::make_shared<PinRuntime>();
    std::string cdn_id;  // the last CDN version chosen ("" = none yet): flips are counted
    bool in_cutover = false;
    int64_t cutover_started_ms = 0;  // Marathon's start of the cutover (local time if unknown)
    int64_t grace_until_ms = 0;      // the grace's end (see trackCutover)
    int64_t maps_until_ms = 0;       // the last cutover's end + grace here: learned maps kept
    int64_t last_flip_ms = 0;
    uint64_t flips = 0;
    bool flip_held = false;
    uint64_t epoch = 0;
    std::string operator_id;  // the operator's choice on this instance ("" = none)
    std::string label_id;     // BATON_PIN_CDN_VERSION as last seen
    std::string group;        // its HAPROXY_DEPLOYMENT_GROUP, and its live version ids, as last
    std::vector<std::string> live_ids;  // seen (for the operator's command)
    bool seen = false;
  };
  std::shared_ptr<const PinGroupState> updateGroup(const upstream::Cluster& cluster,
                                                   const conf::PinningSpec& settings,
                                                   int64_t now_ms, const ManifestLookup& manifests);
  void trackCutover(Group& g, const PinGroupState& state, const conf::PinningSpec& settings,
                    int64_t now_ms);
  void chooseCdnVersion(Group& g, PinGroupState& state, int64_t now_ms);
  void noteDeadline(int64_t at_ms, int64_t now_ms);

  std::unordered_map<std::string, Group> groups_;  // by cluster name
  uint64_t next_epoch_ = 1;
  std::optional<int64_t> next_deadline_ms_;
};

}  // namespace baton::proxy
