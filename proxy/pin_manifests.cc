#include "proxy/pin_manifests.h"

#include <set>

#include "discovery/model/asset_manifest.h"
#include "proxy/core/clock.h"
#include "proxy/core/log.h"

namespace baton::proxy {
namespace {

constexpr std::chrono::milliseconds kFetchTimeout{5'000};
constexpr size_t kMaxManifestBytes = 4u << 20;

const upstream::Host* activeHostOf(const upstream::Cluster& cluster, uint16_t version) {
  for (const upstream::Host& h : cluster.hosts()) {
    if (h.version == version && h.routable()) return &h;
  }
  return nullptr;
}

}  // namespace

PinManifests::PinManifests(core::EventLoop& loop, std::function<void()> on_loaded)
    : loop_(loop), on_loaded_(std::move(on_loaded)) {}

// Calls go before the client they belong to.
PinManifests::~PinManifests() {
  entries_.clear();
}

void PinManifests::refresh(const std::vector<std::shared_ptr<const upstream::Cluster>>& clusters,
                           int64_t now_ms) {
  std::set<Key> present;
  for (const auto& cluster : clusters) {
    const auto& pin = cluster->pin();
    if (pin == nullptr) continue;
    for (size_t v = 0; v < pin->versions.size(); ++v) {
      const conf::PinVersionSpec& version = pin->versions[v];
      if (version.manifest.empty()) continue;
      Key key{cluster->name(), version.id};
      present.insert(key);
      Entry& entry = entries_[key];
      if (entry.paths != nullptr || entry.call != nullptr) continue;
      if (entry.failed_at_ms >= 0 && now_ms - entry.failed_at_ms < kRetryAfterMs) continue;
      const upstream::Host* host = activeHostOf(*cluster, static_cast<uint16_t>(v));
      if (host != nullptr) start(key, entry, *host, version.manifest, now_ms);
    }
  }
  std::erase_if(entries_, [&](const auto& e) { return !present.contains(e.first); });
}

void PinManifests::start(const Key& key, Entry& entry, const upstream::Host& host,
                         const std::string& path, int64_t now_ms) {
  if (client_ == nullptr) {
    auto client = discovery::HttpClient::create(loop_, "");
    if (!client) {
      core::logf(core::LogLevel::Error, "pinning: manifests: %s", client.error().detail.c_str());
      entry.failed_at_ms = now_ms;
      return;
    }
    client_ = std::move(*client);
  }
  entry.url = "http://" + std::string(host.address) + path;
  discovery::HttpRequest request;
  request.url = entry.url;
  request.timeout = kFetchTimeout;
  request.max_body = kMaxManifestBytes;
  entry.call = client_->get(std::move(request), {nullptr, nullptr, [this, key](auto result) {
                                                   onFetched(key, std::move(result));
                                                 }});
}

void PinManifests::onFetched(const Key& key, core::Result<discovery::HttpResponse> result) {
  auto it = entries_.find(key);
  if (it == entries_.end()) return;
  Entry& entry = it->second;
  entry.call.reset();  // finished; destroying a Call inside its own callback is allowed
  const int64_t now_ms = core::unixNowMs();
  if (!result) {
    core::logf(core::LogLevel::Warn, "pinning: %s version %s: manifest %s: %s", key.first.c_str(),
               key.second.c_str(), entry.url.c_str(), result.error().detail.c_str());
    entry.failed_at_ms = now_ms;
    return;
  }
  auto parsed = discovery::parseAssetManifest(result->body);
  if (!parsed) {
    core::logf(core::LogLevel::Warn, "pinning: %s version %s: manifest %s: %s", key.first.c_str(),
               key.second.c_str(), entry.url.c_str(), parsed.error().detail.c_str());
    entry.failed_at_ms = now_ms;
    return;
  }
  auto paths = std::make_shared<routing::pin::PathSet>();
  for (std::string& p : *parsed) paths->insert(std::move(p));
  core::logf(core::LogLevel::Info, "pinning: %s version %s: manifest %s: %zu files",
             key.first.c_str(), key.second.c_str(), entry.url.c_str(), paths->size());
  entry.paths = std::move(paths);
  on_loaded_();
}

std::shared_ptr<const routing::pin::PathSet> PinManifests::find(const std::string& cluster,
                                                                const std::string& version) const {
  const auto it = entries_.find(Key{cluster, version});
  return it == entries_.end() ? nullptr : it->second.paths;
}

}  // namespace baton::proxy
