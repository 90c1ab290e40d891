#include "discovery/pipeline_thread.h"

#include <pthread.h>

#include <algorithm>
#include <utility>

#include "proxy/core/background_thread.h"

namespace baton::discovery {

void PipelineQueue::push(PipelineJob job) {
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
                               OnStep on_step)
    : loop_(loop), on_step_(std::move(on_step)), pipeline_(std::move(pipeline)), thread_([this] {
        core::enterBackgroundThread();
        run();
      }) {
  pthread_setname_np(thread_.native_handle(), "baton-resync");
}

PipelineThread::~PipelineThread() {
  *alive_ = false;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void PipelineThread::document(std::string body, bool from_disk) {
  PipelineJob job;
  job.kind = PipelineJob::Kind::Document;
  job.text = std::move(body);
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
  job.text = std::move(task_id);
  push(std::move(job));
}

void PipelineThread::push(PipelineJob job) {
  {
    std::lock_guard lock(mutex_);
    queue_.push(std::move(job));
  }
  wake_.notify_one();
}

void PipelineThread::run() {
  for (;;) {
    std::optional<PipelineJob> job;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_) break;
      job = queue_.pop();
    }
    deliver(perform(*job));
  }
  pipeline_.reset();  // the last document's state is freed here, not on the control thread
}

PipelineStep PipelineThread::perform(PipelineJob& job) {
  switch (job.kind) {
    case PipelineJob::Kind::Document:
      return pipeline_->document(std::move(job.text), job.from_disk);
    case PipelineJob::Kind::Resolved:
      return pipeline_->resolved(job.round, std::move(job.lookups));
    case PipelineJob::Kind::TaskEnding:
      return pipeline_->taskEnding(job.text);
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
