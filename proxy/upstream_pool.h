// Per-worker keep-alive pool of idle upstream connections, keyed by host address so a pooled
// connection survives a reload that keeps its host. Used only on its worker's thread; no locks.
//
// An idle connection is dropped when the upstream closes it, sends stray bytes, or stays idle past
// `idle_timeout`. take() returns the most recently used connection (warmest, least likely to be
// closed by the upstream's own idle timer).
//
// HTTP/2 clusters (h2c, h2) use h2() instead: multiplexed connections are shared by streams
// rather than taken and released (proxy/upstream_h2.h). closeAll() and closeIdle() retire them
// too (no new streams; each closes when its last stream ends).
#pragma once

#include <chrono>
#include <list>
#include <memory>
#include <string>
#include <unordered_map>

#include "proxy/core/event_loop.h"
#include "proxy/core/string_keyed.h"
#include "proxy/upstream_connection.h"
#include "proxy/upstream_h2.h"

namespace baton::proxy {

class UpstreamPool {
 public:
  explicit UpstreamPool(core::EventLoop& loop) : loop_(loop), h2_(loop) {}
  ~UpstreamPool();

  // An idle connection to `address`, or nullptr.
  std::unique_ptr<UpstreamConnection> take(std::string_view address);
  // Parks a reusable connection; closes it instead when the host already has `max_idle`.
  void release(std::unique_ptr<UpstreamConnection> conn, uint32_t max_idle,
               std::chrono::milliseconds idle_timeout);
  void closeAll();
  // Closes the idle connections to one host (an operator drained it).
  void closeIdle(std::string_view address);
  size_t idleCount() const;
  size_t idleCount(std::string_view address) const;
  H2Pool& h2() { return h2_; }

 private:
  // One parked connection with its idle timer. Entries live in list nodes that are recycled
  // (spare_) rather than freed: releasing and taking a connection per request then costs no
  // allocation, and the callbacks capture only two pointers (no heap-held closure either).
  struct Idle {
    Idle(UpstreamPool& pool, core::EventLoop& loop)
        : timer(loop, [&pool, this] { pool.remove(*this); }) {}
    std::unique_ptr<UpstreamConnection> conn;
    core::Timer timer;
    std::list<Idle>* list = nullptr;  // the host's list, or spare_
    std::list<Idle>::iterator self;   // this entry's node
  };
  using IdleList = std::list<Idle>;
  void remove(Idle& entry);
  // Moves `entry`'s node to `to` (no allocation; iterators and addresses stay valid).
  static void moveNode(Idle& entry, IdleList& to);

  // Spare nodes kept past this are freed in take() (never inside an entry's own callback).
  static constexpr size_t kMaxSpare = 256;

  core::EventLoop& loop_;
  IdleList spare_;  // before idle_: destroyed after it
  core::StringMap<IdleList> idle_;
  H2Pool h2_;
};

}  // namespace baton::proxy
