// The discovery manager: turns what a Source delivers (Marathon's app document, fast-path task
// events) into a validated conf::DiscoveredSpec for the server to merge and publish.
//
// Pipeline per document: parse and validate the whole document (parse_apps.h) → safety checks
// (an empty or much smaller document is held until a confirming resync) → resolve agent host
// names (async, HostResolver) → translate (translate.h) → persist the document (state_store) →
// on_spec. A bad document never replaces the last good state. A fast-path event (task killing)
// re-translates the last good apps with that task drained, without waiting for a resync.
//
// Lives on the control thread; every method and callback runs on its loop.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "conf/config_spec.h"
#include "discovery/host_resolver.h"
#include "discovery/model/app.h"
#include "discovery/model/parse_apps.h"
#include "discovery/model/task_filter.h"
#include "discovery/model/translate.h"
#include "discovery/reclaimer.h"
#include "discovery/source.h"
#include "proxy/core/event_loop.h"

namespace baton::discovery {

// What /status, the admin endpoints and the ready-fd events show about discovery.
struct DiscoveryStatus {
  SourceStatus source;
  uint64_t documents_applied = 0;
  uint64_t documents_refused = 0;
  std::string last_refusal;  // why the last document was refused ("" if none)
  int64_t last_applied_unix_ms = 0;
  bool from_state_file = false;  // serving the persisted state (Marathon not reached yet)
  bool holding = false;          // a suspicious change waits for a confirming resync
  size_t apps = 0;
  size_t tasks = 0;
  double last_parse_ms = 0;      // parse + validate of the last document
  double last_translate_ms = 0;  // apps -> DiscoveredSpec
  std::vector<conf::DiscoveryIssue> issues;
};

class DiscoveryManager {
 public:
  using SpecCallback = std::function<void(std::shared_ptr<const conf::DiscoveredSpec>)>;

  DiscoveryManager(core::EventLoop& loop, conf::MarathonSpec spec, std::string self_app_id,
                   SpecCallback on_spec);
  ~DiscoveryManager();

  // Loads the persisted state (if any) and applies it at once, then starts the source.
  core::Result<void> start();
  void resync();  // /_mlb_signal/hup, SIGHUP
  DiscoveryStatus status() const;
  // Milliseconds since the last applied document; -1 before the first.
  int64_t stalenessMs() const;

  // Exposed for tests: run one document through the pipeline as if the source delivered it.
  void onDocument(std::string body);

  // Destroys `garbage` (moved) on the reclaimer's thread. The server hands over the specs a
  // publish replaced (100,000 hosts at Marathon scale: ~30 M instructions of destructors).
  template <class T>
  void reclaim(T&& garbage) {
    reclaimer_.dispose(std::forward<T>(garbage));
  }

 private:
  void onTaskEnding(const std::string& task_id, const std::string& app_id);
  void onSourceError(const std::string& error);
  // Whole-document safety rule: refuse an empty or mostly-empty document until it persists.
  bool shouldHold(const SharedApps& apps);
  void acceptApps(SharedApps apps, const std::string& body, bool from_disk);
  void publish();
  void refuse(const std::string& why);

  core::EventLoop& loop_;
  conf::MarathonSpec spec_;
  TranslateOptions options_;
  SpecCallback on_spec_;
  std::unique_ptr<Source> source_;
  std::unique_ptr<HostResolver> resolver_;
  // Reused across resyncs: the last document's apps (an unchanged app is not rebuilt) and
  // simdjson's buffers, the size of one app (parse_apps.h parseShared); fresh pages cost more
  // than parsing on the VMs measured (430 vs 99 ms CPU for a fresh whole-document parser).
  AppsParser parser_;
  HealthVerdicts health_;           // tasks without results: their verdict in the last document
  TranslateCache translate_cache_;  // unchanged apps' hosts, from one translate to the next
  SharedApps apps_;                 // last accepted
  Reclaimer reclaimer_;  // frees the previous document's apps and host lists off this thread
  std::unordered_set<std::string> killing_;             // fast-path drained task ids
  std::unordered_set<std::string> deployment_drained_;  // in/out state of translate()
  size_t held_task_count_ = 0;  // task count of the held document (0 = nothing held)
  bool holding_ = false;
  core::Timer confirm_timer_;
  uint64_t resolve_round_ = 0;  // a newer document supersedes a pending resolution
  uint64_t last_body_hash_ = 0;
  DiscoveryStatus status_;
};

}  // namespace baton::discovery
