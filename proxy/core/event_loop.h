// One libevent event_base per thread, with the few things every loop owner needs: timers,
// tasks posted from other threads, and deferred deletion of objects that must not be destroyed
// inside their own callbacks.
//
// Threading: an EventLoop is created by, and run on, exactly one thread (a worker or the control
// thread). post() is the only method safe to call from other threads. Only core/ and the network
// code in proxy/ include libevent headers.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

struct event_base;
struct event;

namespace baton::core {

// Base for objects whose destruction is deferred to the end of the current loop iteration.
class Deletable {
 public:
  virtual ~Deletable() = default;
};

class EventLoop {
 public:
  EventLoop();
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

 private:
  static void onPosted(int fd, short what, void* arg);
  static void onDeferred(int fd, short what, void* arg);
  void runPosted();

  event_base* base_ = nullptr;
  event* posted_event_ = nullptr;
  event* deferred_event_ = nullptr;
  std::mutex posted_mutex_;
  std::vector<std::function<void()>> posted_;
  std::vector<std::unique_ptr<Deletable>> deferred_;
};

// A one-shot timer on an EventLoop; re-arming replaces the previous deadline. Owning thread only.
class Timer {
 public:
  Timer(EventLoop& loop, std::function<void()> on_fire);
  ~Timer();
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  void arm(std::chrono::milliseconds after);
  void cancel();
  bool armed() const;

 private:
  static void onFire(int fd, short what, void* arg);
  event* event_ = nullptr;
  std::function<void()> on_fire_;
};

}  // namespace baton::core
