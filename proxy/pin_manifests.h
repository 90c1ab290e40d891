// PinManifests: fetches the asset manifest of each pinned version that names one
// (BATON_PIN_MANIFEST), once the version has a serving host, and keeps the parsed file list for
// the PinTracker to attach to the version's GroupView entry (routing::pin::addManifestKnowledge).
// A version's CDN and browser requests then go straight to the build that has a content-hashed
// file, instead of learning it from a 404 on each worker.
//
// Control thread only: the fetch is non-blocking (discovery::HttpClient on the control loop),
// bounded (5 s, 4 MiB), from one Active host of the version, plain HTTP. A failed fetch or a bad
// manifest is logged and retried after kRetryAfter; pinning works without it (misses are retried).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "discovery/http_client.h"
#include "proxy/core/event_loop.h"
#include "routing/pinning.h"
#include "upstream/cluster.h"

namespace baton::proxy {

class PinManifests {
 public:
  // `on_loaded` runs (on the control loop) when a manifest arrived: the caller republishes.
  PinManifests(core::EventLoop& loop, std::function<void()> on_loaded);
  ~PinManifests();

  // Starts the fetches `clusters` call for (versions with a manifest path and an Active host,
  // not loaded, not in flight, not failed within kRetryAfter); forgets versions that are gone.
  void refresh(const std::vector<std::shared_ptr<const upstream::Cluster>>& clusters,
               int64_t now_ms);
  // The loaded file list of `version` in `cluster`, or null.
  std::shared_ptr<const routing::pin::PathSet> find(const std::string& cluster,
                                                    const std::string& version) const;

  static constexpr int64_t kRetryAfterMs = 60'000;

 private:
  using Key = std::pair<std::string, std::string>;  // cluster, version id
  struct Entry {
    std::string url;
    std::shared_ptr<const routing::pin::PathSet> paths;
    std::unique_ptr<discovery::HttpClient::Call> call;  // in flight
    int64_t failed_at_ms = -1;
  };
  void start(const Key& key, Entry& entry, const upstream::Host& host, const std::string& path,
             int64_t now_ms);
  void onFetched(const Key& key, core::Result<discovery::HttpResponse> result);

  core::EventLoop& loop_;
  std::function<void()> on_loaded_;
  std::unique_ptr<discovery::HttpClient> client_;  // created on the first fetch
  std::map<Key, Entry> entries_;
};

}  // namespace baton::proxy
