#include "proxy/pin_tracker.h"

#include <algorithm>

#include "proxy/core/log.h"

namespace baton::proxy {
namespace {

using routing::pin::GroupView;
using routing::pin::VersionState;

GroupView countVersions(const upstream::Cluster& cluster) {
  const conf::PinGroupSpec& spec = *cluster.pin();
  GroupView view;
  view.group = spec.group;
  view.mode = spec.mode;
  view.versions.reserve(spec.versions.size());
  for (const conf::PinVersionSpec& v : spec.versions) view.versions.push_back({v.id, 0, 0});
  for (const upstream::Host& h : cluster.hosts()) {
    if (h.version >= view.versions.size()) continue;
    VersionState& v = view.versions[h.version];
    if (h.admin_state == upstream::AdminState::Active) ++v.serving;
    if (h.admin_state != upstream::AdminState::Maintenance) ++v.hosts;
  }
  size_t live = 0;
  for (const VersionState& v : view.versions) live += v.live() ? 1 : 0;
  view.in_cutover = live >= 2;
  return view;
}

int oldestServing(const GroupView& view) {
  for (size_t i = 0; i < view.versions.size(); ++i) {
    if (view.versions[i].serving > 0) return static_cast<int>(i);
  }
  return -1;
}

// The next newer version with a serving host after `from`, else the oldest serving one.
int nextServing(const GroupView& view, int from) {
  for (size_t i = static_cast<size_t>(from) + 1; i < view.versions.size(); ++i) {
    if (view.versions[i].serving > 0) return static_cast<int>(i);
  }
  return oldestServing(view);
}

int indexOf(const GroupView& view, std::string_view id) {
  for (size_t i = 0; i < view.versions.size(); ++i) {
    if (view.versions[i].id == id) return static_cast<int>(i);
  }
  return -1;
}

}  // namespace

PinTracker::Pins PinTracker::update(
    const std::vector<std::shared_ptr<const upstream::Cluster>>& clusters,
    const conf::PinningSpec& settings, int64_t now_ms, const ManifestLookup& manifests) {
  next_deadline_ms_.reset();
  for (auto& [name, g] : groups_) g.seen = false;
  Pins pins(clusters.size());
  for (size_t i = 0; i < clusters.size(); ++i) {
    if (clusters[i]->pin() != nullptr) {
      pins[i] = updateGroup(*clusters[i], settings, now_ms, manifests);
    }
  }
  std::erase_if(groups_, [](const auto& entry) { return !entry.second.seen; });
  return pins;
}

std::shared_ptr<const PinGroupState> PinTracker::updateGroup(const upstream::Cluster& cluster,
                                                             const conf::PinningSpec& settings,
                                                             int64_t now_ms,
                                                             const ManifestLookup& manifests) {
  auto [it, fresh] = groups_.try_emplace(cluster.name());
  Group& g = it->second;
  g.seen = true;
  if (fresh) g.epoch = next_epoch_++;
  auto state = std::make_shared<PinGroupState>();
  state->cluster = cluster.name();
  state->spec = cluster.pin();
  state->runtime = g.runtime;
  state->view = countVersions(cluster);
  state->view.cache_cap = cluster.pin()->cache_cap.value_or(settings.cache_cap);
  if (manifests) {
    for (VersionState& v : state->view.versions) v.manifest = manifests(cluster.name(), v.id);
  }
  g.group = state->view.group;
  g.live_ids.clear();
  for (const VersionState& v : state->view.versions) {
    if (v.live()) g.live_ids.push_back(v.id);
  }
  trackCutover(g, *state, settings, now_ms);
  chooseCdnVersion(g, *state, now_ms);
  state->view.epoch = g.epoch;
  state->view.active = g.in_cutover || now_ms < g.grace_until_ms;
  state->flips = g.flips;
  state->last_flip_ms = g.last_flip_ms;
  state->flip_held = g.flip_held;
  state->grace_until_ms = g.in_cutover ? 0 : g.grace_until_ms;
  state->cutover_started_ms = g.in_cutover ? g.cutover_started_ms : 0;
  return state;
}

// A cutover starts when a second version gets a host; it ends when one is left, and pinning
// stays on for the grace after that (CDN copies of transitional answers, cookies in browsers).
void PinTracker::trackCutover(Group& g, const PinGroupState& state,
                              const conf::PinningSpec& settings, int64_t now_ms) {
  const bool in_cutover = state.view.in_cutover;
  if (in_cutover && !g.in_cutover) {
    g.cutover_started_ms = now_ms;
    if (now_ms >= g.grace_until_ms) g.epoch = next_epoch_++;  // a new cutover: new maps
    core::logf(core::LogLevel::Info, "pinning: %s (group %s): cutover started",
               state.cluster.c_str(), state.view.group.c_str());
  } else if (!in_cutover && g.in_cutover) {
    g.grace_until_ms = now_ms + settings.grace.count();
    core::logf(core::LogLevel::Info, "pinning: %s (group %s): cutover ended, grace %lld ms",
               state.cluster.c_str(), state.view.group.c_str(),
               static_cast<long long>(settings.grace.count()));
  }
  g.in_cutover = in_cutover;
  if (!in_cutover && now_ms < g.grace_until_ms) noteDeadline(g.grace_until_ms, now_ms);
}

// The CDN version (asset-pinning.md §3c, rule 12): the oldest version with a serving host,
// kept until it has none; the flip to the next is held while unhashed objects the CDN got
// before may still be fresh and an old host can still answer; an operator may choose.
void PinTracker::chooseCdnVersion(Group& g, PinGroupState& state, int64_t now_ms) {
  GroupView& view = state.view;
  g.flip_held = false;
  if (!g.forced_id.empty()) {
    const int forced = indexOf(view, g.forced_id);
    g.forced_id.clear();
    if (forced >= 0 && view.versions[forced].live()) flipTo(g, state, forced, now_ms, "operator");
  }
  int cur = indexOf(view, g.cdn_id);
  if (cur < 0 || !view.versions[cur].live()) {
    const int oldest = oldestServing(view);
    if (cur >= 0 || !g.cdn_id.empty()) {
      if (oldest >= 0) flipTo(g, state, oldest, now_ms, "version gone");
    } else if (oldest >= 0) {
      g.cdn_id = view.versions[oldest].id;
    }
    view.cdn_version = oldest;
    return;
  }
  if (view.versions[cur].serving == 0) {
    const int next = nextServing(view, cur);
    const int64_t fresh_until = g.runtime->cdn_fresh_until_ms.load(std::memory_order_relaxed);
    if (next >= 0 && next != cur) {
      if (fresh_until > now_ms) {
        g.flip_held = true;  // draining hosts still serve it (live), cached copies still fresh
        noteDeadline(fresh_until, now_ms);
      } else {
        flipTo(g, state, next, now_ms, "no serving host");
        cur = next;
      }
    }
  }
  view.cdn_version = cur;
}

void PinTracker::flipTo(Group& g, PinGroupState& state, int to, int64_t now_ms, const char* why) {
  const std::string& id = state.view.versions[to].id;
  if (id == g.cdn_id) return;
  core::logf(core::LogLevel::Info, "pinning: %s (group %s): CDN version %s -> %s (%s)",
             state.cluster.c_str(), state.view.group.c_str(),
             g.cdn_id.empty() ? "-" : g.cdn_id.c_str(), id.c_str(), why);
  g.cdn_id = id;
  ++g.flips;
  g.last_flip_ms = now_ms;
  state.view.cdn_version = to;
}

void PinTracker::noteDeadline(int64_t at_ms, int64_t now_ms) {
  if (at_ms <= now_ms) return;
  if (!next_deadline_ms_ || at_ms < *next_deadline_ms_) next_deadline_ms_ = at_ms;
}

std::optional<std::string> PinTracker::setCdnVersion(std::string_view group, std::string_view id) {
  bool found_group = false;
  bool found_version = false;
  for (auto& [name, g] : groups_) {
    if (g.group != group) continue;
    found_group = true;
    if (std::find(g.live_ids.begin(), g.live_ids.end(), id) == g.live_ids.end()) continue;
    g.forced_id = std::string(id);
    found_version = true;
  }
  if (!found_group) return "no pinned group named " + std::string(group);
  if (!found_version) {
    return "group " + std::string(group) + " has no live version " + std::string(id);
  }
  return std::nullopt;
}

}  // namespace baton::proxy
