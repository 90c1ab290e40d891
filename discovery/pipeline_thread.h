// Runs the discovery pipeline (pipeline.h) on a thread of its own, with the helper threads its
// parse and translate start. Once a large document (kLowPriorityFromBytes) from the source has
// been translated, the thread runs at nice 10, and while it performs a job it and its helpers are
// a background lane (core::BackgroundLane: idle-class where the process can come back from it;
// between jobs it takes locks the control thread takes too): a resync of 100,000 tasks
// is ~0.5 CPU-seconds, and on a loaded machine it should take its CPU from idle time rather than
// from the workers' requests. Until then at normal priority: the first sync reuses nothing and an
// upgraded process waits for it (or kFirstSyncWait) before it serves; and a small cluster's
// resync costs the data path nothing measurable, while at low priority it would wait for a core
// behind any busy thread (convergence p99 +5-10 ms measured with 300 apps). The control loop
// stays free meanwhile for the source, the admin endpoints, publishing and the health and drain
// events (a fast-path drain is patched in there, it does not wait for this thread).
//
// Starvation guard: when the thread, in its lane, has had work for `starved_after`
// (kStarvedAfter) without becoming idle, the control loop raises the lane (nice 10, the share a
// contended core gives it) until the thread has nothing left to do; under full load a resync
// then applies in about starved_after plus its own time. The destructor raises it too: the
// control thread waits for the phase under way.
//
// Called on the control thread (the loop's): document(), resolved() and taskEnding() queue a
// job and return at once; each job's PipelineStep is delivered to on_step on the loop's thread,
// in job order. Documents coalesce (PipelineQueue). The destructor cancels the job running (it
// stops at its next phase: after the parse, before a translate), drops the others, and waits for
// the thread; no step is delivered once it has returned.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "discovery/pipeline.h"
#include "proxy/core/background_lane.h"
#include "proxy/core/event_loop.h"

namespace baton::discovery {

struct PipelineJob {
  enum class Kind { Document, Resolved, TaskEnding };
  Kind kind = Kind::Document;
  std::string body;                   // Document
  bool from_disk = false;             // Document
  uint64_t round = 0;                 // Resolved
  HostLookups lookups;                // Resolved
  std::vector<std::string> task_ids;  // TaskEnding
};

// The thread's jobs: first in, first out, except that a document still waiting is replaced, in
// its place, by a newer one (each is the whole state; a task-ending job queued after it then
// applies to the newer document), and a task-ending job joins one waiting at the back (a burst of
// kills costs one translate). Not thread-safe: PipelineThread locks around it.
class PipelineQueue {
 public:
  void push(PipelineJob job);
  std::optional<PipelineJob> pop();
  bool empty() const { return jobs_.empty(); }
  size_t size() const { return jobs_.size(); }

 private:
  std::deque<PipelineJob> jobs_;
};

class PipelineThread {
 public:
  using OnStep = std::function<void(PipelineStep)>;

  // Documents from 1 MiB (~3,000 tasks) lower the thread's priority.
  static constexpr size_t kLowPriorityFromBytes = size_t{1} << 20;
  // Longer than a 100,000-task resync takes on an idle core (~0.3-0.5 s), shorter than a
  // deployment's own steps (Marathon's health checks run every few seconds at best).
  static constexpr std::chrono::milliseconds kStarvedAfter{2000};

  // `reclaimer` (outliving this) frees the pipeline's state when the thread ends.
  PipelineThread(core::EventLoop& loop, std::unique_ptr<DiscoveryPipeline> pipeline,
                 core::Reclaimer& reclaimer, OnStep on_step,
                 size_t low_priority_from = kLowPriorityFromBytes,
                 std::chrono::milliseconds starved_after = kStarvedAfter);
  ~PipelineThread();
  PipelineThread(const PipelineThread&) = delete;
  PipelineThread& operator=(const PipelineThread&) = delete;

  void document(std::string body, bool from_disk);
  void resolved(uint64_t round, HostLookups lookups);
  void taskEnding(std::string task_id);

  // Blocks until no job is queued or running (tests: a step then waits in the loop's queue).
  void waitIdle();

  // Times the starvation guard raised the thread's lane (loop thread: status, tests).
  uint64_t starvedRaises() const { return starved_raises_; }

 private:
  void push(PipelineJob job);
  void run();
  PipelineStep perform(PipelineJob& job);
  void deliver(PipelineStep step);
  void onStarvedCheck();  // the guard's timer, on the loop's thread

  core::EventLoop& loop_;
  core::Reclaimer& reclaimer_;
  OnStep on_step_;
  size_t low_priority_from_;
  std::chrono::milliseconds starved_after_;
  // Read and cleared on the loop's thread only: a step posted before the destructor ran finds
  // it false and is dropped.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  std::unique_ptr<DiscoveryPipeline> pipeline_;  // used on the thread only, freed there
  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable idle_;
  PipelineQueue queue_;  // guarded by mutex_
  bool busy_ = false;    // guarded by mutex_: a job is being performed
  bool stopping_ = false;
  bool stopped_ = false;  // guarded by mutex_: run() has returned (waitIdle waits no more)
  // Since when the thread has had work without becoming idle (guarded by mutex_).
  std::chrono::steady_clock::time_point pending_since_;
  core::BackgroundLane lane_;
  core::Timer starved_timer_;         // loop thread: armed while the thread has work
  uint64_t starved_raises_ = 0;       // loop thread
  std::atomic<bool> in_lane_{false};  // the thread has joined lane_ (set once, by the thread)
  std::thread thread_;                // last: started when the members above exist
};

}  // namespace baton::discovery
