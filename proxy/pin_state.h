// Asset pinning state as a snapshot carries it (asset-pinning.md; routing/README.md).
//
// The control thread's PinTracker (pin_tracker.h) builds one PinGroupState per pinned cluster
// for every published snapshot; workers read it through the snapshot (immutable) and add to its
// PinRuntime (relaxed atomics, shared by every snapshot of the group for its whole life: the
// only writes from workers, and only by requests of a group that is pinned).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "conf/config_spec.h"
#include "routing/pinning.h"

namespace baton::proxy {

// Counters and the rule-12 freshness mark of one pinned cluster. Workers write, the control
// thread reads (status, metrics, the flip hold).
struct PinRuntime {
  std::atomic<uint64_t> pinned{0};        // requests given a version while the group was active
  std::atomic<uint64_t> retries{0};       // extra upstream requests after a 404/410 miss
  std::atomic<uint64_t> retry_hits{0};    // a retry that found the file
  std::atomic<uint64_t> all_miss{0};      // every version missed: 404 + no-store
  std::atomic<uint64_t> fallbacks{0};     // the chosen version had no serving host
  std::atomic<uint64_t> cache_capped{0};  // CDN answers given no-cache (rule 11)
  std::atomic<uint64_t> cookies_set{0};   // pin cookies given to browsers (mode full)
  // Unix ms until which some unhashed object handed to the CDN may still be fresh in its cache
  // (rule 12). Only ever raised.
  std::atomic<int64_t> cdn_fresh_until_ms{0};

  void noteCdnFreshUntil(int64_t unix_ms) {
    int64_t seen = cdn_fresh_until_ms.load(std::memory_order_relaxed);
    while (unix_ms > seen &&
           !cdn_fresh_until_ms.compare_exchange_weak(seen, unix_ms, std::memory_order_relaxed)) {
    }
  }
};

// [pinning] as the data path uses it: built once per snapshot.
struct PinSettings {
  conf::PinningSpec spec;
  routing::pin::ClassifyRules rules;
  explicit PinSettings(const conf::PinningSpec& s)
      : spec(s), rules(routing::pin::ClassifyRules::from(s)) {}
};

// One pinned cluster in one snapshot.
struct PinGroupState {
  std::string cluster;
  routing::pin::GroupView view;
  std::shared_ptr<const conf::PinGroupSpec> spec;  // the versions' app ids and colours
  std::shared_ptr<PinRuntime> runtime;
  // For status: the CDN version's story.
  uint64_t flips = 0;
  int64_t last_flip_ms = 0;
  bool flip_held = false;          // the CDN version would flip but old cached objects are fresh
  int64_t hold_until_ms = 0;       // rule 12's deadline as computed (shared or local, see tracker)
  const char* cdn_why = "";        // routing::pin::CdnChoice::why: "label", "held", ...
  int64_t grace_until_ms = 0;      // pinning stays active until then after a cutover (0 = none)
  int64_t cutover_started_ms = 0;  // 0 = not in cutover
};

}  // namespace baton::proxy
