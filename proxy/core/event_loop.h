// One libevent event_base per thread, with the few things every loop owner needs: timers,
// tasks posted from other threads, and deferred deletion of objects that must not be destroyed
// inside their own callbacks.
//
// Threading: an EventLoop is created by, and run on, exactly one thread (a worker or the control
// thread). post() is the only method safe to call from other threads. Only core/ and the network
// code in proxy/ include libevent headers.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

struct event_base;
struct event;

namespace baton::core {

class SharedTimer;
class SharedTimerList;

// Base for objects whose destruction is deferred to the end of the current loop iteration.
class Deletable {
 public:
  virtual ~Deletable() = default;
};

// Something with output to send once the current callbacks are done (a Transport). Batching the
// writes of one callback into one flush turns "head, chunk header, data, CRLF" into one writev;
// batching across the callbacks of one event-loop pass turns the responses of many upstream
// connections to one HTTP/2 client (each arriving in its own callback) into one write.
class Flushable {
 public:
  virtual ~Flushable() = default;
  virtual void flush() = 0;
};

// Which clock a loop's timers run on.
enum class TimerClock : uint8_t {
  // libevent's default, CLOCK_MONOTONIC_COARSE: moves once a kernel tick (4 ms at HZ=250), so a
  // timer fires up to a tick late. epoll_wait's millisecond timeout is the whole cost: right for
  // the workers, whose timers are deadlines of seconds re-armed on every request.
  Coarse,
  // CLOCK_MONOTONIC, with libevent's timerfd (libevent 2.1 calls timerfd_settime on every loop
  // pass): for the control loop, where a Marathon event's 1-20 ms debounce, a same-turn drain
  // publish and ejection expiries are what convergence is made of (measured with Coarse: a 1 ms
  // debounce took 3.6 ms). The health thread's loop stays Coarse: probe intervals are seconds.
  Precise,
};

class EventLoop {
 public:
  explicit EventLoop(TimerClock clock = TimerClock::Coarse);
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  event_base* base() const { return base_; }

  // Runs until stop() (or no events are left). Called on the owning thread.
  void run();
  // Makes run() return after the current iteration. Owning thread only (use post to cross).
  void stop();

  // Thread-safe: queue `task` to run on this loop's thread. The queue lock is only ever taken by
  // the control plane posting (rare) and by the loop draining, never per request.
  void post(std::function<void()> task);

  // Destroys `object` after the current callback returns (owning thread only).
  void deferDelete(std::unique_ptr<Deletable> object);
  // Destroys everything deferred so far, now. For teardown, when the loop no longer runs.
  void flushDeferred();

  // Output batching (owning thread only): `f` is flushed after the callbacks libevent found ready
  // in this pass of the loop have run (the first outermost callback scope that ends with
  // something queued activates the flush event, which libevent runs after them, in the same
  // pass). A Flushable that dies first must cancel.
  void scheduleFlush(Flushable* f);
  bool inCallback() const { return callback_depth_ > 0; }
  void cancelFlush(Flushable* f);

  // Every libevent callback baton installs opens one of these; the outermost one flushes.
  class CallbackScope {
   public:
    explicit CallbackScope(EventLoop& loop) : loop_(loop) { ++loop_.callback_depth_; }
    ~CallbackScope() {
      if (--loop_.callback_depth_ == 0 && !loop_.to_flush_.empty()) loop_.flushSoon();
    }
    CallbackScope(const CallbackScope&) = delete;
    CallbackScope& operator=(const CallbackScope&) = delete;

   private:
    EventLoop& loop_;
  };

 private:
  friend class SharedTimer;
  SharedTimerList& sharedTimers() {  // made on first use
    return shared_timers_ ? *shared_timers_ : makeSharedTimers();
  }
  SharedTimerList& makeSharedTimers();
  static void onPosted(int fd, short what, void* arg);
  static void onDeferred(int fd, short what, void* arg);
  static void onFlush(int fd, short what, void* arg);
  void runPosted();
  void flushSoon();  // inside run(): after this pass's callbacks; outside it: now
  void armFlush();
  void runFlushes();

  event_base* base_ = nullptr;
  int post_fd_ = -1;  // eventfd: other threads wake this loop through it
  event* posted_event_ = nullptr;
  event* deferred_event_ = nullptr;
  event* flush_event_ = nullptr;
  bool flush_armed_ = false;
  bool running_ = false;  // inside run(): libevent will dispatch the flush event
  std::mutex posted_mutex_;
  std::vector<std::function<void()>> posted_;
  std::vector<std::unique_ptr<Deletable>> deferred_;
  std::vector<Flushable*> to_flush_;
  int callback_depth_ = 0;
  std::unique_ptr<SharedTimerList> shared_timers_;
};

// A one-shot timer on an EventLoop; re-arming replaces the previous deadline. Owning thread only.
class Timer {
 public:
  Timer(EventLoop& loop, std::function<void()> on_fire);
  ~Timer();
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  void arm(std::chrono::milliseconds after);
  // The same as arm() (the callback is due `after` from now, whatever was armed before), for a
  // deadline pushed back over and over (an idle timer touched per read): when libevent would wake
  // the timer no later than the new deadline anyway, only the deadline is stored, and the early
  // wake-up re-arms for the rest instead of calling back. Saves an event_add per push (a min-heap
  // update, ~270 instructions) for one steady_clock read.
  void push(std::chrono::milliseconds after);
  void cancel();  // free when not armed (no event_del)
  bool armed() const { return armed_; }

 private:
  using Clock = std::chrono::steady_clock;
  static void onFire(int fd, short what, void* arg);
  void add(std::chrono::microseconds after);
  EventLoop& loop_;
  event* event_ = nullptr;
  std::function<void()> on_fire_;
  // Set by push(): when libevent will wake this timer (wake_) and when the callback is due
  // (due_, never earlier). Unknown (lazy_ false) after arm(), which does not read the clock.
  bool lazy_ = false;
  Clock::time_point wake_{};
  Clock::time_point due_{};
  // Kept here rather than asked of libevent: most timers (a stream's body or first-byte timer)
  // are cancelled far more often than they are armed, and an event_del per cancel showed up in
  // the per-request profile.
  bool armed_ = false;
  // Streams and connections own several timers each: keep the libevent event inside the Timer
  // (event_assign) instead of a separate heap allocation per timer. 128 bytes on libevent 2.1;
  // a larger struct event falls back to event_new.
  static constexpr size_t kEventStorage = 192;
  alignas(alignof(std::max_align_t)) unsigned char storage_[kEventStorage];
  bool embedded_ = false;
};

// A Timer made on first arm, for timers most owners never arm (an HTTP/2 stream's body timers,
// a Stream's connect timer when a pooled connection is reused): even an unused Timer costs an
// event_assign and its std::function. Owning thread only.
class LazyTimer {
 public:
  LazyTimer(EventLoop& loop, std::function<void()> on_fire)
      : loop_(loop), on_fire_(std::move(on_fire)) {}

  void arm(std::chrono::milliseconds after) {
    if (!timer_) timer_.emplace(loop_, [this] { on_fire_(); });
    timer_->arm(after);
  }
  void cancel() {
    if (timer_) timer_->cancel();
  }
  bool armed() const { return timer_ && timer_->armed(); }

 private:
  EventLoop& loop_;
  std::function<void()> on_fire_;
  std::optional<Timer> timer_;
};

// A timer for deadlines set and cleared once or more per request that almost never fire (a
// Stream's first-byte and body-idle deadline). It has no libevent event of its own: the loop
// keeps the armed ones in a list under one libevent timer, set for the earliest deadline it was
// given. Arming links the timer in (and re-adds the loop's timer only for a deadline earlier
// than its wake-up), cancelling only unlinks: no event_add and event_del per request (~370
// instructions with Timer). When the loop's timer wakes, it calls back, earliest first, every
// timer whose deadline has come and sleeps until the earliest deadline left, so a wake-up for a
// deadline since cancelled costs one look through the list: while requests end in time that is
// about once per timeout period, O(armed timers) each; k timers due at once add O(k log k).
// Same contract as Timer; push() is arm() here. Owning thread only; must not outlive its loop.
class SharedTimer {
 public:
  SharedTimer(EventLoop& loop, std::function<void()> on_fire)
      : loop_(loop), on_fire_(std::move(on_fire)) {}
  ~SharedTimer() { cancel(); }
  SharedTimer(const SharedTimer&) = delete;
  SharedTimer& operator=(const SharedTimer&) = delete;

  void arm(std::chrono::milliseconds after);
  void push(std::chrono::milliseconds after) { arm(after); }
  void cancel();
  bool armed() const { return armed_; }

 private:
  friend class SharedTimerList;
  using Clock = std::chrono::steady_clock;
  EventLoop& loop_;
  std::function<void()> on_fire_;
  Clock::time_point due_{};
  SharedTimer* prev_ = nullptr;  // the loop's list of armed timers
  SharedTimer* next_ = nullptr;
  bool armed_ = false;
  bool firing_ = false;  // armed, and due in the loop timer's wake-up under way
};

}  // namespace baton::core
