#include "proxy/core/event_loop.h"

#include <event2/event.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <vector>

namespace baton::core {

// The armed SharedTimers of one loop (unordered, linked through the timers) and the one libevent
// timer that wakes for them.
class SharedTimerList {
 public:
  using Clock = std::chrono::steady_clock;

  explicit SharedTimerList(EventLoop& loop)
      : loop_(loop), event_(evtimer_new(loop.base(), &SharedTimerList::onWake, this)) {}
  ~SharedTimerList() { event_free(event_); }
  SharedTimerList(const SharedTimerList&) = delete;
  SharedTimerList& operator=(const SharedTimerList&) = delete;

  // Into the list of waiting timers.
  void link(SharedTimer* t) {
    t->firing_ = false;
    pushFront(head_, t);
  }

  // Out of whichever list holds it (waiting, or due in the wake-up under way).
  void unlink(SharedTimer* t) {
    SharedTimer*& head = t->firing_ ? firing_ : head_;
    if (t->prev_ != nullptr) {
      t->prev_->next_ = t->next_;
    } else {
      head = t->next_;
    }
    if (t->next_ != nullptr) t->next_->prev_ = t->prev_;
    t->prev_ = t->next_ = nullptr;
    t->firing_ = false;
  }

  // Makes the loop's timer wake no later than `due` (`now` is the caller's clock reading).
  void wakeBy(Clock::time_point due, Clock::time_point now) {
    if (armed_ && due >= wake_) return;
    // Rounded up: a wake-up a microsecond early would only find nothing due and sleep again.
    const auto after = std::chrono::ceil<std::chrono::microseconds>(
        std::max<Clock::duration>(due - now, Clock::duration::zero()));
    timeval tv{};
    tv.tv_sec = after.count() / 1000000;
    tv.tv_usec = after.count() % 1000000;
    evtimer_add(event_, &tv);
    armed_ = true;
    wake_ = due;
  }

 private:
  static void onWake(int, short, void* arg) {
    auto* self = static_cast<SharedTimerList*>(arg);
    self->armed_ = false;
    EventLoop::CallbackScope scope(self->loop_);
    self->fireDue(Clock::now());
  }

  static void pushFront(SharedTimer*& head, SharedTimer* t) {
    t->prev_ = nullptr;
    t->next_ = head;
    if (head != nullptr) head->prev_ = t;
    head = t;
  }

  // Calls back each timer due by `now`, earliest first, then sleeps until the earliest left. The
  // due ones move to a list of their own first (one pass, then a sort of just those): a callback
  // may arm, cancel or destroy any timer, including one due later in this wake-up, which then
  // leaves that list as it would the other. Many due at once (a hung upstream) cost
  // O(n + k log k), not a pass over the list per callback.
  void fireDue(Clock::time_point now) {
    std::vector<SharedTimer*> due;
    for (SharedTimer* t = head_; t != nullptr; t = t->next_) {
      if (t->due_ <= now) due.push_back(t);
    }
    std::sort(due.begin(), due.end(),
              [](const SharedTimer* a, const SharedTimer* b) { return a->due_ > b->due_; });
    for (SharedTimer* t : due) {  // latest first, so the earliest ends up at the head
      unlink(t);
      pushFront(firing_, t);
      t->firing_ = true;
    }
    while (firing_ != nullptr) {
      SharedTimer* t = firing_;
      unlink(t);
      t->armed_ = false;  // before the callback: it may arm the timer again
      t->on_fire_();
    }
    SharedTimer* earliest = head_;
    for (SharedTimer* t = head_; t != nullptr; t = t->next_) {
      if (t->due_ < earliest->due_) earliest = t;
    }
    if (earliest != nullptr) wakeBy(earliest->due_, now);
  }

  EventLoop& loop_;
  event* event_;
  SharedTimer* head_ = nullptr;    // waiting
  SharedTimer* firing_ = nullptr;  // due in the wake-up under way, earliest first
  bool armed_ = false;             // the libevent timer is pending, for wake_
  Clock::time_point wake_{};
};

// libevent's own locking (evthread_use_pthreads) is deliberately not enabled: it would put a
// mutex around every event add/del on the request path. The only cross-thread entry, post(),
// goes through an eventfd instead.
EventLoop::EventLoop(TimerClock clock) {
  event_config* cfg = event_config_new();
  // Coalesce event add/del within one loop iteration into one epoll_ctl (or none): a proxied
  // request toggles read/write interest on two sockets several times.
  event_config_set_flag(cfg, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
  if (clock == TimerClock::Precise) event_config_set_flag(cfg, EVENT_BASE_FLAG_PRECISE_TIMER);
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
  shared_timers_.reset();  // its event goes before the base
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

// ---- SharedTimer ------------------------------------------------------------------------------

SharedTimerList& EventLoop::makeSharedTimers() {
  shared_timers_ = std::make_unique<SharedTimerList>(*this);
  return *shared_timers_;
}

void SharedTimer::arm(std::chrono::milliseconds after) {
  SharedTimerList& list = loop_.sharedTimers();
  const Clock::time_point now = Clock::now();
  due_ = now + after;
  if (armed_ && firing_) {  // due in the wake-up under way: it waits again instead
    list.unlink(this);
    armed_ = false;
  }
  if (!armed_) {
    list.link(this);
    armed_ = true;
  }
  list.wakeBy(due_, now);
}

void SharedTimer::cancel() {
  if (!armed_) return;
  armed_ = false;
  loop_.sharedTimers().unlink(this);
}

}  // namespace baton::core
