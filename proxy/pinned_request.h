// PinnedRequest: the data-path half of asset pinning for one request of a pinned cluster
// (asset-pinning.md; routing/pinning.h holds the pure decisions it applies).
//
// The Stream creates one when the routed cluster has a pin group and the group is active (in
// cutover or its grace). It picks the version before the host is chosen, says whether a
// 404/410 answer must be discarded and the next version tried, learns from every answer into
// the worker's map, and rewrites the head that goes to the client (no-store on an all-miss,
// no-cache on CDN copies of unhashed files, the browser's pin cookie). A pinned cluster that is
// not active only records, for rule 12, how long the CDN may keep unhashed files
// (recordCdnFreshness), and only on 2xx and 304 answers.
//
// Lives inside its Stream, on one worker thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "proxy/http1/message.h"
#include "proxy/pin_state.h"
#include "routing/pinning.h"
#include "upstream/cluster.h"

namespace baton::proxy {

class PinnedRequest {
 public:
  // `map` is the worker's learned map for this group (epoch already checked); the request keeps
  // it alive, so a snapshot that drops it mid-request costs nothing but the lesson.
  // `rules`: the route's vhost's classification (routing::Route::pin_rules), else settings'.
  PinnedRequest(const PinGroupState& group, const PinSettings& settings,
                const routing::pin::ClassifyRules& rules,
                std::shared_ptr<routing::pin::LearnedMap> map, const http1::RequestHead& request,
                std::string_view path, std::string_view query, conf::CdnOrigin origin);

  // The version to pick hosts of (Host::kNoVersion: any host).
  uint16_t version() const;
  bool cdnTraffic() const { return traffic_ == routing::pin::Traffic::Cdn; }

  // The upstream answered `status` (final head). True: discard this answer and connect to
  // version() again (it moved to the next version to try).
  bool retryAfter(uint16_t status);

  // The answer that goes to the client: learn from it and rewrite its head. `tls`: the client
  // connection is TLS (the pin cookie gets Secure).
  void onResponse(uint16_t status, http1::HeaderList& headers, bool tls);

  std::string_view versionId() const;   // "-" when none
  std::string_view reasonName() const;  // access log

  // A 2xx or 304 answer of a pinned cluster that is not active, to a CDN request for a document
  // or an unhashed file: raise the group's freshness mark (rule 12). Cheap when it does not
  // apply.
  static void recordCdnFreshness(const PinGroupState& group, const PinSettings& settings,
                                 const routing::pin::ClassifyRules& rules,
                                 const http1::RequestHead& request, std::string_view path,
                                 conf::CdnOrigin origin, uint16_t status,
                                 const http1::HeaderList& headers);

 private:
  bool missed(uint16_t status) const;
  void learn(uint16_t status, const http1::HeaderList& headers);
  void markAllMiss(http1::HeaderList& headers);
  void capCdnCaching(http1::HeaderList& headers);
  void maybeSetCookie(http1::HeaderList& headers, bool tls);

  const PinGroupState& group_;
  const PinSettings& settings_;
  std::shared_ptr<routing::pin::LearnedMap> map_;
  std::string path_;  // the learned map's key (the route key: normalised, no query)
  std::string pin_cookie_;
  routing::pin::Traffic traffic_ = routing::pin::Traffic::Direct;
  routing::pin::Kind kind_ = routing::pin::Kind::Other;
  bool hashed_ = false;
  bool get_or_head_ = false;
  routing::pin::Choice choice_;
  routing::pin::PathKnowledge known_;  // the learned map's, plus the versions' manifests
  uint64_t learned_lacks_ = 0;         // the learned map's alone (404s seen)
  uint64_t tried_ = 0;                 // versions that answered 404/410
  uint32_t retries_ = 0;
};

// Replaces every `name` field with one `name: value` (value "" removes them all).
void setHeader(http1::HeaderList& headers, std::string_view name, std::string_view value);

}  // namespace baton::proxy
