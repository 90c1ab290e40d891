#include "discovery/pipeline_thread.h"

#include <pthread.h>

#include <algorithm>
#include <iterator>
#include <utility>

#include "proxy/core/background_thread.h"
#include "proxy/core/log.h"
#include "proxy/core/stop_signals.h"

namespace baton::discovery {

void PipelineQueue::push(PipelineJob job) {
  if (job.kind == PipelineJob::Kind::TaskEnding && !jobs_.empty() &&
      jobs_.back().kind == PipelineJob::Kind::TaskEnding) {
    auto& ids = jobs_.back().task_ids;
    ids.insert(ids.end(), std::make_move_iterator(job.task_ids.begin()),
               std::make_move_iterator(job.task_ids.end()));
    return;
  }
  if (job.kind == PipelineJob::Kind::Document) {
    auto waiting = std::find_if(jobs_.begin(), jobs_.end(), [](const PipelineJob& queued) {
      return queued.kind == PipelineJob::Kind::Document;
    });
    if (waiting != jobs_.end()) {
      *waiting = std::move(job);
      return;
    }
  }
  jobs_.push_back(std::move(job));
}

std::optional<PipelineJob> PipelineQueue::pop() {
  if (jobs_.empty()) return std::nullopt;
  PipelineJob job = std::move(jobs_.front());
  jobs_.pop_front();
  return job;
}

PipelineThread::PipelineThread(core::EventLoop& loop, std::unique_ptr<DiscoveryPipeline> pipeline,
                               core::Reclaimer& reclaimer, OnStep on_step, size_t low_priority_from,
                               std::chrono::milliseconds starved_after)
    : loop_(loop),
      reclaimer_(reclaimer),
      on_step_(std::move(on_step)),
      low_priority_from_(low_priority_from),
      starved_after_(starved_after),
      pipeline_(std::move(pipeline)),
      starved_timer_(loop, [this] { onStarvedCheck(); }),
      thread_([this] {
        core::blockStopSignals();  // it joins its lane after the first large sync (run)
        run();
      }) {
  pthread_setname_np(thread_.native_handle(), "baton-resync");
}

PipelineThread::~PipelineThread() {
  *alive_ = false;
  pipeline_->cancel();  // a resync under way stops at its next phase
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  // The control thread waits for that phase below, and its loop (the guard's timer) is blocked
  // meanwhile: the thread must not wait for an idle core (a reload or an upgrade under load).
  // After stopping_: run() no longer lowers the lane.
  lane_.raise();
  wake_.notify_one();
  thread_.join();
}

void PipelineThread::document(std::string body, bool from_disk) {
  PipelineJob job;
  job.kind = PipelineJob::Kind::Document;
  job.body = std::move(body);
  job.from_disk = from_disk;
  push(std::move(job));
}

void PipelineThread::resolved(uint64_t round, HostLookups lookups) {
  PipelineJob job;
  job.kind = PipelineJob::Kind::Resolved;
  job.round = round;
  job.lookups = std::move(lookups);
  push(std::move(job));
}

void PipelineThread::taskEnding(std::string task_id) {
  PipelineJob job;
  job.kind = PipelineJob::Kind::TaskEnding;
  job.task_ids.push_back(std::move(task_id));
  push(std::move(job));
}

void PipelineThread::waitIdle() {
  std::unique_lock lock(mutex_);
  idle_.wait(lock, [this] { return stopped_ || (queue_.empty() && !busy_); });
}

void PipelineThread::push(PipelineJob job) {
  {
    std::lock_guard lock(mutex_);
    if (queue_.empty() && !busy_) pending_since_ = std::chrono::steady_clock::now();
    queue_.push(std::move(job));
  }
  wake_.notify_one();
  if (!starved_timer_.armed()) starved_timer_.arm(starved_after_);
}

void PipelineThread::onStarvedCheck() {
  std::chrono::steady_clock::duration waited;
  {
    std::lock_guard lock(mutex_);
    if (stopped_ || (queue_.empty() && !busy_)) return;  // idle: the next push arms it again
    waited = std::chrono::steady_clock::now() - pending_since_;
    if (waited < starved_after_) {  // work that came after an idle spell: its own deadline
      starved_timer_.arm(std::chrono::ceil<std::chrono::milliseconds>(starved_after_ - waited));
      return;
    }
    // Checked again while the work lasts: raise() re-applies the class to every member.
    starved_timer_.arm(starved_after_);
    // Nothing to raise at normal priority (not in the lane yet, or no idle class to leave).
    if (!in_lane_.load(std::memory_order_relaxed) || !core::BackgroundLane::idleClassAvailable()) {
      return;
    }
    // Raised until the thread is idle again (run() lowers it then). Under mutex_: run() decides
    // it is idle under it too, so a raise cannot land after that lowering.
    if (!lane_.raise()) return;
  }
  ++starved_raises_;
  core::logf(
      core::LogLevel::Warn,
      "discovery: a resync waited %lld ms for a core; its threads run at nice 10 until "
      "it is applied (starved resyncs so far: %llu)",
      static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(waited).count()),
      static_cast<unsigned long long>(starved_raises_));
}

void PipelineThread::run() {
  bool large_accepted = false;
  for (;;) {
    std::optional<PipelineJob> job;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_) break;
      job = queue_.pop();
      busy_ = true;
    }
    const bool large_from_source = job->kind == PipelineJob::Kind::Document && !job->from_disk &&
                                   job->body.size() >= low_priority_from_;
    PipelineStep step;
    {
      // A member of the lane (idle-class) only while it works: outside perform() it takes
      // mutex_ and the loop's post lock, which the control thread takes too.
      std::optional<core::BackgroundLane::Member> member;
      if (in_lane_.load(std::memory_order_relaxed)) member.emplace(&lane_);
      step = perform(*job);
    }
    large_accepted = large_accepted || (large_from_source && step.accepted);
    // In the background lane once a large document from the source is translated (see the
    // header); nice 10 from now on.
    if (!in_lane_.load(std::memory_order_relaxed) && large_accepted && step.spec) {
      core::lowerThreadPriority();
      in_lane_.store(true, std::memory_order_relaxed);
    }
    deliver(std::move(step));
    std::lock_guard lock(mutex_);
    busy_ = false;
    if (queue_.empty()) {
      // Caught up: the guard's raise (if any) ends. Not when stopping: the destructor's raise
      // holds for whatever runs until the thread ends.
      if (!stopping_) lane_.lower();
      idle_.notify_all();
    }
  }
  reclaimer_.dispose(std::move(pipeline_));  // its state (100,000 tasks) is not freed on a join
  std::lock_guard lock(mutex_);
  stopped_ = true;
  idle_.notify_all();
}

PipelineStep PipelineThread::perform(PipelineJob& job) {
  switch (job.kind) {
    case PipelineJob::Kind::Document:
      return pipeline_->document(std::move(job.body), job.from_disk);
    case PipelineJob::Kind::Resolved:
      return pipeline_->resolved(job.round, std::move(job.lookups));
    case PipelineJob::Kind::TaskEnding:
      return pipeline_->taskEnding(std::move(job.task_ids));
  }
  return {};
}

void PipelineThread::deliver(PipelineStep step) {
  // std::function needs a copyable task: the step (a document's buffer, a spec) is moved once
  // into shared ownership instead of copied.
  auto shared = std::make_shared<PipelineStep>(std::move(step));
  loop_.post([alive = alive_, this, shared] {
    if (*alive) on_step_(std::move(*shared));
  });
}

}  // namespace baton::discovery
