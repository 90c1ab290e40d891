// Discovery sources: where the app document comes from (marathon.md §1–2).
//
// A Source lives on the control thread's EventLoop; start(), resync() and status() are called
// there, and every callback runs there. The discovery manager (discovery/manager.h) owns the
// one Source, validates each document it delivers and keeps the last good state when a fetch
// fails: a source only reports, it never decides what to route.
//
// Implementations: MarathonSource (REST + event stream, marathon_source.h) and FileSource
// (a local JSON file watched with inotify, file_source.h).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "conf/config_spec.h"
#include "proxy/core/clock.h"
#include "proxy/core/error.h"
#include "proxy/core/event_loop.h"

namespace baton::discovery {

struct SourceStatus {
  std::string kind;                  // "marathon" | "file"
  std::string current_url;           // Marathon URL in use (after failover/redirect) or file path
  bool stream_connected = false;     // event stream attached (file: watching)
  int64_t last_success_unix_ms = 0;  // last document delivered
  std::string last_error;            // "" when the last attempt succeeded
  uint64_t documents = 0, failures = 0, events = 0, reconnects = 0;
};

class Source {  // lives on the control thread; every callback runs on that loop
 public:
  struct Callbacks {
    // Full body of GET /v2/apps?embed=apps.tasks (or the file's content).
    std::function<void(std::string body)> on_document;
    // Fast path (§2.5): a task is being killed / is gone / unhealthy-killed: drain it now.
    std::function<void(const std::string& task_id, const std::string& app_id)> on_task_ending;
    std::function<void(const std::string& error)>
        on_error;  // a fetch/stream failure (state is kept)
  };
  virtual ~Source() = default;
  virtual void start() = 0;
  virtual void resync() = 0;  // full resync soon (coalesced with any pending one)
  virtual SourceStatus status() const = 0;
  // The discovery manager hands a delivered body back once it is done with it: a source may read
  // its next document into that buffer, whose pages are already resident (fresh pages for a
  // 37 MB document cost ~150 ms of faults on the VMs measured). Default: dropped.
  virtual void recycle(std::string body) { (void)body; }
};

// spec.urls[0] "file:PATH" → file source; else Marathon URLs (http:// or https://).
core::Result<std::unique_ptr<Source>> createSource(core::EventLoop& loop,
                                                   const conf::MarathonSpec& spec,
                                                   Source::Callbacks callbacks);

// Wall-clock milliseconds since the epoch (for SourceStatus::last_success_unix_ms).
using core::unixNowMs;

}  // namespace baton::discovery
