// The discovery manager: turns what a Source delivers (Marathon's app document, fast-path task
// events) into a validated conf::DiscoveredSpec for the server to merge and publish.
//
// The pipeline itself (parse, safety rule, translate: pipeline.h) runs on the resync thread
// (pipeline_thread.h); the manager feeds it what the source delivers, resolves the agent host
// names it asks for (HostResolver, on this loop), and acts on each step it returns: publish the
// spec (on_spec), arm the confirming resync of a held document, keep the status.
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
#include "discovery/pipeline.h"
#include "discovery/pipeline_thread.h"
#include "discovery/source.h"
#include "proxy/core/event_loop.h"
#include "proxy/core/reclaimer.h"

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
  // Times a resync had waited PipelineThread::kStarvedAfter for a core (the data path saturating
  // every one) and its threads were raised from idle-class to nice 10 until it was applied.
  uint64_t starved_resyncs = 0;
  std::vector<conf::DiscoveryIssue> issues;
};

class DiscoveryManager {
 public:
  using SpecCallback = std::function<void(std::shared_ptr<const conf::DiscoveredSpec>)>;

  // `reclaimer` (the server's) frees the replaced documents and caches; it outlives the manager.
  DiscoveryManager(core::EventLoop& loop, conf::MarathonSpec spec, std::string self_app_id,
                   core::Reclaimer& reclaimer, SpecCallback on_spec);
  ~DiscoveryManager();

  // Queues the persisted state (if any) for the resync thread first, then starts the source.
  core::Result<void> start();
  void resync();  // /_mlb_signal/hup, SIGHUP
  DiscoveryStatus status() const;
  // status().from_state_file without copying the status (its issue list).
  bool servingStateFile() const { return status_.from_state_file; }
  // Milliseconds since the last applied document; -1 before the first.
  int64_t stalenessMs() const;

 private:
  void onStep(PipelineStep step);
  void onTaskEnding(const std::string& task_id);
  void publishFreshDrains();
  void resolveThenTranslate(std::vector<std::string> names, uint64_t round);
  // `from_document`: made by the pipeline (counted in documents_applied), not a fast-path patch.
  void applySpec(std::shared_ptr<const conf::DiscoveredSpec> spec, bool from_document);
  void onSourceError(const std::string& error);
  void refuse(const std::string& why);

  core::EventLoop& loop_;
  conf::MarathonSpec spec_;
  std::string self_app_id_;
  SpecCallback on_spec_;
  core::Reclaimer& reclaimer_;
  std::unique_ptr<HostResolver> resolver_;
  std::unique_ptr<PipelineThread> pipeline_;
  std::unique_ptr<Source> source_;  // after pipeline_: destroyed first, so it feeds nothing
  core::Timer confirm_timer_;
  DiscoveryStatus status_;
  std::shared_ptr<const conf::DiscoveredSpec> last_spec_;  // the last one handed to on_spec
  // Fast-path drains reported (applied here, or left to the translate for a shared host: see
  // fast_drain.h) whose task-ending job the pipeline has not answered yet: a spec it made before
  // it saw them gets them too.
  std::unordered_set<std::string> pending_drains_;
  // Task endings reported in this turn of the loop: one patched spec for a burst of them.
  std::unordered_set<std::string> fresh_drains_;
  core::Timer drain_timer_;
};

}  // namespace baton::discovery
