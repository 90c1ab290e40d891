// Runs the discovery pipeline (pipeline.h) on a thread of its own at background priority
// (core::lowerThreadPriority), with the helper threads its parse and translate start: a resync of
// 100,000 tasks is ~0.3 CPU-seconds, and on a loaded machine it should take its CPU from idle time
// rather than from the workers' requests. The control loop stays free meanwhile for the source,
// the admin endpoints, publishing and the health and drain events.
//
// Called on the control thread (the loop's): document(), resolved() and taskEnding() queue a
// job and return at once; each job's PipelineStep is delivered to on_step on the loop's thread,
// in job order. Documents coalesce (PipelineQueue). The destructor waits for the job running (at
// most one resync), drops the others, and no step is delivered once it has returned.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "discovery/pipeline.h"
#include "proxy/core/event_loop.h"

namespace baton::discovery {

struct PipelineJob {
  enum class Kind { Document, Resolved, TaskEnding };
  Kind kind = Kind::Document;
  std::string text;  // Document: the body; TaskEnding: the task id
  bool from_disk = false;
  uint64_t round = 0;   // Resolved
  HostLookups lookups;  // Resolved
};

// The thread's jobs: first in, first out, except that a document still waiting is replaced, in
// its place, by a newer one (each is the whole state; a task-ending job queued after it then
// applies to the newer document). Not thread-safe: PipelineThread locks around it.
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

  PipelineThread(core::EventLoop& loop, std::unique_ptr<DiscoveryPipeline> pipeline,
                 OnStep on_step);
  ~PipelineThread();
  PipelineThread(const PipelineThread&) = delete;
  PipelineThread& operator=(const PipelineThread&) = delete;

  void document(std::string body, bool from_disk);
  void resolved(uint64_t round, HostLookups lookups);
  void taskEnding(std::string task_id);

 private:
  void push(PipelineJob job);
  void run();
  PipelineStep perform(PipelineJob& job);
  void deliver(PipelineStep step);

  core::EventLoop& loop_;
  OnStep on_step_;
  // Read and cleared on the loop's thread only: a step posted before the destructor ran finds
  // it false and is dropped.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  std::unique_ptr<DiscoveryPipeline> pipeline_;  // used on the thread only, freed there
  std::mutex mutex_;
  std::condition_variable wake_;
  PipelineQueue queue_;  // guarded by mutex_
  bool stopping_ = false;
  std::thread thread_;  // last: started when the members above exist
};

}  // namespace baton::discovery
