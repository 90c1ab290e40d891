#include "proxy/upstream_pool.h"

namespace baton::proxy {

// The HTTP/2 connections go with h2_ itself (destroyed at once, not retired through the loop).
UpstreamPool::~UpstreamPool() {
  idle_.clear();
}

std::unique_ptr<UpstreamConnection> UpstreamPool::take(const std::string& address) {
  auto found = idle_.find(address);
  if (found == idle_.end() || found->second.empty()) return nullptr;
  IdleList& list = found->second;
  std::unique_ptr<UpstreamConnection> conn = std::move(list.back().conn);
  list.pop_back();
  return conn;
}

void UpstreamPool::release(std::unique_ptr<UpstreamConnection> conn, uint32_t max_idle,
                           std::chrono::milliseconds idle_timeout) {
  const std::string address = conn->poolKey();
  IdleList& list = idle_[address];
  if (list.size() >= max_idle) {
    loop_.deferDelete(std::move(conn));
    return;
  }
  list.push_back(Idle{std::move(conn), nullptr});
  auto it = std::prev(list.end());
  // The callbacks capture the list iterator: std::list iterators stay valid until erased.
  it->timer = std::make_unique<core::Timer>(loop_, [this, address, it] { remove(address, it); });
  it->timer->arm(idle_timeout);
  it->conn->parkIdle([this, address, it] { remove(address, it); });
}

void UpstreamPool::remove(const std::string& address, IdleList::iterator it) {
  auto found = idle_.find(address);
  if (found == idle_.end()) return;
  // Destroy after the current callback: we may be inside the connection's or timer's callback.
  loop_.deferDelete(std::move(it->conn));
  struct TimerHolder : core::Deletable {
    std::unique_ptr<core::Timer> timer;
  };
  auto holder = std::make_unique<TimerHolder>();
  holder->timer = std::move(it->timer);
  loop_.deferDelete(std::move(holder));
  found->second.erase(it);
}

void UpstreamPool::closeAll() {
  idle_.clear();
  h2_.closeAll();
}

void UpstreamPool::closeIdle(const std::string& address) {
  // Not inside any of these connections' callbacks (called from a snapshot change): erasing
  // destroys them and their timers at once.
  idle_.erase(address);
  h2_.closeIdle(address);
}

size_t UpstreamPool::idleCount(const std::string& address) const {
  auto found = idle_.find(address);
  return found == idle_.end() ? 0 : found->second.size();
}

size_t UpstreamPool::idleCount() const {
  size_t n = 0;
  for (const auto& [address, list] : idle_) n += list.size();
  return n;
}

}  // namespace baton::proxy
