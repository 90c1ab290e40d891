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

// A newer version exists in Marathon that has no host yet (zdd created the new app; its tasks
// are starting or not healthy yet): the deployment is under way. Pinning turns active then, so
// rule 11's cap covers what every instance hands the CDN from the moment the new app appears,
// and rule 12's shared deadline (the new version's start + BATON_PIN_CDN_MAX_FRESH) bounds
// everything handed before.
bool deploymentPending(const GroupView& view) {
  int newest_live = -1;
  for (size_t i = 0; i < view.versions.size(); ++i) {
    if (view.versions[i].live()) newest_live = static_cast<int>(i);
  }
  return newest_live >= 0 && static_cast<size_t>(newest_live) + 1 < view.versions.size();
}

// Marathon's start of the group's newest version (unix ms, 0 = unknown): the same on every
// instance, whenever each saw it.
int64_t newestStartedMs(const conf::PinGroupSpec& spec) {
  return spec.versions.empty() ? 0 : spec.versions.back().started_ms;
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
  state->view.active = g.in_cutover || now_ms < g.grace_until_ms || deploymentPending(state->view);
  state->flips = g.flips;
  state->last_flip_ms = g.last_flip_ms;
  state->flip_held = g.flip_held;
  state->grace_until_ms = g.in_cutover ? 0 : g.grace_until_ms;
  state->cutover_started_ms = g.in_cutover ? g.cutover_started_ms : 0;
  return state;
}

// A cutover starts when a second version gets a host; it ends when one is left, and pinning
// stays on for the grace after that (CDN copies of transitional answers, cookies in browsers).
// Times are Marathon's where it has them: the cutover's start is the newest version's deployment
// start, and the grace lasts at least until that start + grace, so an instance that restarts
// after the cutover ended still keeps the grace its peers keep (its own end time it cannot know).
void PinTracker::trackCutover(Group& g, const PinGroupState& state,
                              const conf::PinningSpec& settings, int64_t now_ms) {
  const bool in_cutover = state.view.in_cutover;
  const int64_t started = newestStartedMs(*state.spec);
  if (in_cutover && !g.in_cutover) {
    g.cutover_started_ms = started > 0 ? started : now_ms;
    if (now_ms >= g.maps_until_ms) g.epoch = next_epoch_++;  // a new cutover: new maps
    core::logf(core::LogLevel::Info, "pinning: %s (group %s): cutover started",
               state.cluster.c_str(), state.view.group.c_str());
  } else if (!in_cutover && g.in_cutover) {
    g.grace_until_ms = now_ms + settings.grace.count();
    g.maps_until_ms = g.grace_until_ms;
    core::logf(core::LogLevel::Info, "pinning: %s (group %s): cutover ended, grace %lld ms",
               state.cluster.c_str(), state.view.group.c_str(),
               static_cast<long long>(settings.grace.count()));
  }
  if (!in_cutover && started > 0) {
    g.grace_until_ms = std::max(g.grace_until_ms, started + settings.grace.count());
  }
  g.in_cutover = in_cutover;
  if (!in_cutover && now_ms < g.grace_until_ms) noteDeadline(g.grace_until_ms, now_ms);
}

// The CDN version (asset-pinning.md §3c, rule 12; routing::pin::chooseCdnVersion): recomputed
// from shared state on every update. This instance's history only counts and logs the flips.
void PinTracker::chooseCdnVersion(Group& g, PinGroupState& state, int64_t now_ms) {
  GroupView& view = state.view;
  const conf::PinGroupSpec& spec = *state.spec;
  const std::string_view label = spec.cdn_version;
  if (label != g.label_id) {
    g.label_id = std::string(label);
    g.operator_id.clear();  // the shared source spoke after the local override
  }
  if (!g.operator_id.empty() && view.liveIndex(g.operator_id) < 0) g.operator_id.clear();
  const int64_t hold_until =
      routing::pin::holdUntilMs(newestStartedMs(spec), spec.cdn_max_fresh_ms,
                                g.runtime->cdn_fresh_until_ms.load(std::memory_order_relaxed));
  const routing::pin::CdnChoice choice =
      routing::pin::chooseCdnVersion(view, {g.operator_id, g.label_id, hold_until}, now_ms);
  g.flip_held = choice.held;
  state.hold_until_ms = hold_until;
  state.cdn_why = choice.why;
  if (choice.held) noteDeadline(hold_until, now_ms);
  view.cdn_version = choice.version;
  if (choice.version < 0) return;
  const std::string& id = view.versions[choice.version].id;
  if (id == g.cdn_id) return;
  if (!g.cdn_id.empty()) {
    core::logf(core::LogLevel::Info, "pinning: %s (group %s): CDN version %s -> %s (%s)",
               state.cluster.c_str(), view.group.c_str(), g.cdn_id.c_str(), id.c_str(), choice.why);
    ++g.flips;
    g.last_flip_ms = now_ms;
  }
  g.cdn_id = id;
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
    g.operator_id = std::string(id);
    found_version = true;
  }
  if (!found_group) return "no pinned group named " + std::string(group);
  if (!found_version) {
    return "group " + std::string(group) + " has no live version " + std::string(id);
  }
  return std::nullopt;
}

}  // namespace baton::proxy
