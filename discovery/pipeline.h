// The discovery pipeline: what turns a Marathon app document into a conf::DiscoveredSpec, with
// the state it keeps from one document to the next. Per document: parse and validate the whole
// document (parse_apps.h) → the whole-document safety rule (an empty or much smaller document is
// held until a confirming resync) → health verdicts carried over → the document persisted
// (state_store.h) → agent host names to resolve, if any → translate (translate.h). A bad document
// never replaces the last good state. A fast-path event (task killing) re-translates the last
// good apps with that task drained, without waiting for a resync.
//
// Single-threaded and loop-free: every call returns a PipelineStep saying what the caller must do
// (publish a spec, arm the confirming resync, resolve names and call resolved()). The discovery
// manager runs it on its resync thread (pipeline_thread.h) and acts on the steps on the control
// thread; tests call it directly.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "conf/config_spec.h"
#include "discovery/model/parse_apps.h"
#include "discovery/model/task_filter.h"
#include "discovery/model/translate.h"
#include "proxy/core/reclaimer.h"

namespace baton::discovery {

// Agent host name → numeric address (nullopt: unresolvable), as the control thread's
// HostResolver answered for the names a step asked for.
using HostLookups = std::unordered_map<std::string, std::optional<std::string>>;

// What one call produced, for the control thread to act on. Empty fields: nothing to do.
struct PipelineStep {
  std::shared_ptr<const conf::DiscoveredSpec> spec;  // publish it
  std::string refusal;   // the document was refused (invalid, or held): log and count it
  bool hold = false;     // held as suspicious: ask for a confirming resync after a delay
  bool holding = false;  // a held document waits for confirmation (status)
  // Names to resolve before translating; then call resolved(round, ...) with the answers.
  std::vector<std::string> resolve;
  uint64_t round = 0;
  // A task-ending job: the tasks' ids (from this step on, every spec the pipeline makes keeps them
  // drained while Marathon lists them).
  std::vector<std::string> ended_tasks;
  // A document was accepted: its counts (status).
  bool accepted = false;
  bool from_disk = false;
  size_t apps = 0;
  size_t tasks = 0;
  double parse_ms = -1;      // < 0: no parse in this step
  double translate_ms = -1;  // < 0: no translate in this step
  std::string body;          // the document's buffer, handed back for the source to reuse
};

class DiscoveryPipeline {
 public:
  // `reclaimer` frees the replaced states (on its own thread); it must outlive the pipeline.
  DiscoveryPipeline(conf::MarathonSpec spec, TranslateOptions options, core::Reclaimer& reclaimer);
  ~DiscoveryPipeline();
  DiscoveryPipeline(const DiscoveryPipeline&) = delete;
  DiscoveryPipeline& operator=(const DiscoveryPipeline&) = delete;

  // A whole document from the source, or (from_disk) the persisted state at start: never held,
  // not saved again, and a bad one is only logged.
  PipelineStep document(std::string body, bool from_disk);
  // The answers for the names step `round` asked for. A newer document's round supersedes it.
  PipelineStep resolved(uint64_t round, HostLookups lookups);
  // Fast path: drain these tasks now (TASK_KILLING, unhealthy kill): those of the last accepted
  // document not drained already (one translate for all of them).
  PipelineStep taskEnding(std::vector<std::string> task_ids);

  // Any thread: the owner is going away. The call running returns early (after the parse, before
  // a translate) with a step nobody reads; the state is left as it is, for the destructor.
  void cancel() { cancelled_.store(true, std::memory_order_relaxed); }

 private:
  bool shouldHold(const SharedApps& apps, PipelineStep& step);
  void accept(SharedApps apps, const std::string& body, bool from_disk, PipelineStep& step);
  void translateInto(PipelineStep& step);
  std::optional<std::string> lookup(std::string_view host) const;

  conf::MarathonSpec spec_;
  TranslateOptions options_;
  core::Reclaimer& reclaimer_;
  // Reused across documents: the last document's apps (an unchanged app is not rebuilt) and
  // simdjson's buffers, the size of one app (parse_apps.h parseShared); fresh pages cost more
  // than parsing on the VMs measured (430 vs 99 ms CPU for a fresh whole-document parser).
  AppsParser parser_;
  HealthVerdicts health_;           // tasks without results: their verdict in the last document
  TranslateCache translate_cache_;  // unchanged apps' hosts, from one translate to the next
  SharedApps apps_;                 // last accepted
  std::unordered_set<std::string> killing_;             // fast-path drained task ids
  std::unordered_set<std::string> deployment_drained_;  // in/out state of translate()
  HostLookups lookups_;  // the answers for the last accepted document's names
  bool holding_ = false;
  uint64_t resolve_round_ = 0;  // a newer document supersedes a pending resolution
  uint64_t last_body_hash_ = 0;
  std::atomic<bool> cancelled_{false};
};

}  // namespace baton::discovery
