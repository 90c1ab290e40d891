#include "proxy/admin_overrides.h"

#include <charconv>

#include "proxy/snapshot.h"
#include "proxy/upgrade/upgrade_handoff.h"

namespace baton::proxy {

using upstream::AdminState;

upstream::AdminState stricterState(AdminState a, AdminState b) {
  return static_cast<uint8_t>(a) >= static_cast<uint8_t>(b) ? a : b;
}

bool AdminOverrides::setHostState(const std::string& cluster, const std::string& host,
                                  AdminState state) {
  const HostOverride before = this->host(cluster, host);
  if (before.state.value_or(AdminState::Active) == state) return false;
  auto& c = clusters_[cluster];
  auto& h = c.hosts[host];
  h.state = state == AdminState::Active ? std::nullopt : std::optional(state);
  if (!h.state && !h.weight) c.hosts.erase(host);
  if (c.state == AdminState::Active && c.hosts.empty()) clusters_.erase(cluster);
  changed();
  return true;
}

bool AdminOverrides::setHostWeight(const std::string& cluster, const std::string& host,
                                   uint32_t weight) {
  if (this->host(cluster, host).weight == weight) return false;
  clusters_[cluster].hosts[host].weight = weight;
  changed();
  return true;
}

bool AdminOverrides::setClusterState(const std::string& cluster, AdminState state) {
  const ClusterOverride* before = find(cluster);
  if (before == nullptr && state == AdminState::Active) return false;
  if (before != nullptr && before->state == state && state != AdminState::Active) return false;
  auto& c = clusters_[cluster];
  c.state = state;
  if (state == AdminState::Active) {
    // "ready" on a cluster clears every operator state in it (weights stay).
    for (auto& [name, host] : c.hosts) host.state.reset();
    std::erase_if(c.hosts, [](const auto& entry) { return !entry.second.weight; });
    if (c.hosts.empty()) clusters_.erase(cluster);
  }
  changed();
  return true;
}

const AdminOverrides::ClusterOverride* AdminOverrides::find(std::string_view cluster) const {
  auto found = clusters_.find(std::string(cluster));
  return found == clusters_.end() ? nullptr : &found->second;
}

AdminOverrides::HostOverride AdminOverrides::host(std::string_view cluster,
                                                  std::string_view host) const {
  const ClusterOverride* c = find(cluster);
  if (c == nullptr) return {};
  auto found = c->hosts.find(std::string(host));
  return found == c->hosts.end() ? HostOverride{} : found->second;
}

upstream::AdminState AdminOverrides::clusterState(std::string_view cluster) const {
  const ClusterOverride* c = find(cluster);
  return c == nullptr ? AdminState::Active : c->state;
}

std::vector<std::shared_ptr<const upstream::Cluster>> AdminOverrides::applyAll(
    const std::vector<std::shared_ptr<const upstream::Cluster>>& clusters) const {
  std::vector<std::shared_ptr<const upstream::Cluster>> out;
  out.reserve(clusters.size());
  std::unordered_map<const upstream::Cluster*, Memo> next;
  for (const auto& cluster : clusters) {
    const ClusterOverride* c = find(cluster->name());
    if (c == nullptr) {
      out.push_back(cluster);
      continue;
    }
    if (auto memo = memo_.find(cluster.get()); memo != memo_.end()) {
      out.push_back(memo->second.adjusted);
      next.emplace(cluster.get(), memo->second);
      continue;
    }
    auto adjusted = cluster->withAdjustedHosts([c](upstream::Host& host) {
      AdminState state = stricterState(host.admin_state, c->state);
      if (auto found = c->hosts.find(host.name); found != c->hosts.end()) {
        if (found->second.state) state = stricterState(state, *found->second.state);
        if (found->second.weight) host.weight = *found->second.weight;
      }
      host.admin_state = state;
    });
    out.push_back(adjusted);
    next.emplace(cluster.get(), Memo{cluster, adjusted});
  }
  memo_ = std::move(next);
  return out;
}

namespace {

std::string stateWord(AdminState state) {
  switch (state) {
    case AdminState::Draining:
      return "drain";
    case AdminState::Maintenance:
      return "maint";
    default:
      return "ready";
  }
}

std::optional<AdminState> parseStateWord(std::string_view word) {
  if (word == "ready") return AdminState::Active;
  if (word == "drain") return AdminState::Draining;
  if (word == "maint") return AdminState::Maintenance;
  return std::nullopt;
}

}  // namespace

std::string AdminOverrides::serialize() const {
  std::string out;
  for (const auto& [cluster, c] : clusters_) {
    if (c.state != AdminState::Active)
      out += upgrade::joinRecord({"cluster", cluster, stateWord(c.state)});
    for (const auto& [host, h] : c.hosts) {
      out += upgrade::joinRecord({"host", cluster, host, h.state ? stateWord(*h.state) : "",
                                  h.weight ? std::to_string(*h.weight) : ""});
    }
  }
  return out;
}

core::Result<AdminOverrides> AdminOverrides::parse(std::string_view text) {
  auto records = upgrade::splitRecords(text);
  if (!records) return core::fail(std::move(records.error()));
  AdminOverrides out;
  size_t line = 0;
  auto bad = [&line] {
    return core::fail(
        core::Error::internal("admin overrides: bad record on line " + std::to_string(line)));
  };
  for (const auto& fields : *records) {
    ++line;
    if (fields.size() == 3 && fields[0] == "cluster") {
      auto state = parseStateWord(fields[2]);
      if (!state) return bad();
      out.setClusterState(fields[1], *state);
    } else if (fields.size() == 5 && fields[0] == "host") {
      if (!fields[3].empty()) {
        auto state = parseStateWord(fields[3]);
        if (!state) return bad();
        out.setHostState(fields[1], fields[2], *state);
      }
      if (!fields[4].empty()) {
        uint32_t weight = 0;
        const auto& w = fields[4];
        auto [end, ec] = std::from_chars(w.data(), w.data() + w.size(), weight);
        if (ec != std::errc() || end != w.data() + w.size()) return bad();
        out.setHostWeight(fields[1], fields[2], weight);
      }
    } else {
      return bad();
    }
  }
  return out;
}

std::shared_ptr<const ProxySnapshot> applyOverrides(std::shared_ptr<const ProxySnapshot> base,
                                                    const AdminOverrides& overrides,
                                                    uint64_t generation) {
  auto copy = std::make_shared<ProxySnapshot>(*base);
  copy->generation = generation;
  if (!overrides.empty()) copy->clusters = overrides.applyAll(base->clusters);
  return copy;
}

}  // namespace baton::proxy
