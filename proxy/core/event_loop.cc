#include "proxy/core/event_loop.h"

#include <event2/event.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>

namespace baton::core {

// libevent's own locking (evthread_use_pthreads) is deliberately not enabled: it would put a
// mutex around every event add/del on the request path. The only cross-thread entry, post(),
// goes through an eventfd instead.
EventLoop::EventLoop() {
  event_config* cfg = event_config_new();
  // Coalesce event add/del within one loop iteration into one epoll_ctl (or none): a proxied
  // request toggles read/write interest on two sockets several times.
  event_config_set_flag(cfg, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
  base_ = event_base_new_with_config(cfg);
  event_config_free(cfg);
  if (base_ == nullptr) std::abort();  // unrecoverable: no event loop
  post_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (post_fd_ < 0) std::abort();  // unrecoverable: no way to reach this loop
  posted_event_ = event_new(base_, post_fd_, EV_READ | EV_PERSIST, &EventLoop::onPosted, this);
  event_add(posted_event_, nullptr);
  deferred_event_ = event_new(base_, -1, 0, &EventLoop::onDeferred, this);
  flush_event_ = event_new(base_, -1, 0, &EventLoop::onFlush, this);
}

EventLoop::~EventLoop() {
  deferred_.clear();
  event_free(posted_event_);
  event_free(deferred_event_);
  event_free(flush_event_);
  event_base_free(base_);
  close(post_fd_);
}

void EventLoop::run() {
  running_ = true;
  event_base_loop(base_, EVLOOP_NO_EXIT_ON_EMPTY);
  running_ = false;
}

void EventLoop::stop() {
  event_base_loopbreak(base_);
}

void EventLoop::post(std::function<void()> task) {
  bool wake = false;
  {
    std::lock_guard lock(posted_mutex_);
    wake = posted_.empty();
    posted_.push_back(std::move(task));
  }
  if (wake) {
    uint64_t one = 1;
    ssize_t n = ::write(post_fd_, &one, sizeof(one));
    (void)n;  // EAGAIN means the counter is already non-zero: the loop is woken either way
  }
}

void EventLoop::onPosted(int fd, short, void* arg) {
  auto* self = static_cast<EventLoop*>(arg);
  uint64_t count = 0;
  ssize_t n = ::read(fd, &count, sizeof(count));
  (void)n;
  EventLoop::CallbackScope scope(*self);
  self->runPosted();
}

void EventLoop::runPosted() {
  std::vector<std::function<void()>> tasks;
  {
    std::lock_guard lock(posted_mutex_);
    tasks.swap(posted_);
  }
  for (auto& task : tasks) task();
}

void EventLoop::deferDelete(std::unique_ptr<Deletable> object) {
  deferred_.push_back(std::move(object));
  if (deferred_.size() == 1) event_active(deferred_event_, 0, 0);
}

void EventLoop::onDeferred(int, short, void* arg) {
  auto* self = static_cast<EventLoop*>(arg);
  EventLoop::CallbackScope scope(*self);
  // Output queued earlier in this pass goes out before its owner may be destroyed.
  self->runFlushes();
  self->flushDeferred();
}

void EventLoop::scheduleFlush(Flushable* f) {
  to_flush_.push_back(f);
}

void EventLoop::cancelFlush(Flushable* f) {
  std::erase(to_flush_, f);
}

void EventLoop::flushSoon() {
  if (running_) {
    armFlush();
  } else {
    runFlushes();  // a scope opened outside the loop (setup, teardown, tests)
  }
}

// event_active appends to the queue libevent is draining, so the flush runs after every callback
// that was already ready in this pass (and before the next epoll_wait).
void EventLoop::armFlush() {
  if (flush_armed_) return;
  flush_armed_ = true;
  event_active(flush_event_, 0, 0);
}

void EventLoop::onFlush(int, short, void* arg) {
  auto* self = static_cast<EventLoop*>(arg);
  self->flush_armed_ = false;
  self->runFlushes();
  // Handlers called by a flush (drained) may have queued output on other transports.
  if (!self->to_flush_.empty()) self->armFlush();
}

void EventLoop::runFlushes() {
  // A flush may call handlers that queue more output elsewhere: repeat until quiet.
  ++callback_depth_;
  while (!to_flush_.empty()) {
    Flushable* f = to_flush_.back();
    to_flush_.pop_back();
    f->flush();
  }
  --callback_depth_;
}

void EventLoop::flushDeferred() {
  // Destructors may defer more objects; loop until the list stays empty.
  while (!deferred_.empty()) {
    std::vector<std::unique_ptr<Deletable>> batch;
    batch.swap(deferred_);
    batch.clear();
  }
}

Timer::Timer(EventLoop& loop, std::function<void()> on_fire)
    : loop_(loop), on_fire_(std::move(on_fire)) {
  if (event_get_struct_event_size() <= kEventStorage) {
    event_ = reinterpret_cast<event*>(storage_);
    event_assign(event_, loop.base(), -1, 0, &Timer::onFire, this);
    embedded_ = true;
  } else {
    event_ = evtimer_new(loop.base(), &Timer::onFire, this);
  }
}

Timer::~Timer() {
  if (embedded_) {
    if (armed_) event_del(event_);  // unlink from the base before the storage goes away
  } else {
    event_free(event_);
  }
}

void Timer::add(std::chrono::microseconds after) {
  timeval tv{};
  tv.tv_sec = after.count() / 1000000;
  tv.tv_usec = after.count() % 1000000;
  evtimer_add(event_, &tv);
  armed_ = true;
}

void Timer::arm(std::chrono::milliseconds after) {
  add(after);
  lazy_ = false;
}

void Timer::push(std::chrono::milliseconds after) {
  const Clock::time_point due = Clock::now() + after;
  if (armed_ && lazy_ && due >= wake_) {
    due_ = due;
    return;
  }
  add(after);
  lazy_ = true;
  wake_ = due;
  due_ = due;
}

void Timer::cancel() {
  if (!armed_) return;
  armed_ = false;
  lazy_ = false;
  evtimer_del(event_);
}

void Timer::onFire(int, short, void* arg) {
  auto* self = static_cast<Timer*>(arg);
  self->armed_ = false;  // before the callback: it may arm the timer again
  if (self->lazy_ && self->due_ > self->wake_) {
    // Woken for an older deadline that push() moved later: sleep until the real one.
    const Clock::time_point now = Clock::now();
    if (now < self->due_) {
      self->add(std::chrono::duration_cast<std::chrono::microseconds>(self->due_ - now) +
                std::chrono::microseconds(1));
      self->wake_ = self->due_;
      return;
    }
  }
  self->lazy_ = false;
  EventLoop& loop = self->loop_;  // the callback may destroy the timer
  EventLoop::CallbackScope scope(loop);
  self->on_fire_();
}

}  // namespace baton::core
