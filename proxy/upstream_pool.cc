#include "proxy/upstream_pool.h"

namespace baton::proxy {

// The HTTP/2 connections go with h2_ itself (destroyed at once, not retired through the loop).
UpstreamPool::~UpstreamPool() {
  idle_.clear();
}

std::unique_ptr<UpstreamConnection> UpstreamPool::take(std::string_view address) {
  while (spare_.size() > kMaxSpare) spare_.pop_back();
  auto found = idle_.find(address);
  if (found == idle_.end() || found->second.empty()) return nullptr;
  Idle& entry = found->second.back();
  std::unique_ptr<UpstreamConnection> conn = std::move(entry.conn);
  // The idle timer stays set: the next release() only pushes its deadline (no event_add and
  // event_del per request); if it fires while the entry is spare, remove() ignores it.
  moveNode(entry, spare_);
  return conn;
}

void UpstreamPool::release(std::unique_ptr<UpstreamConnection> conn, uint32_t max_idle,
                           std::chrono::milliseconds idle_timeout) {
  IdleList& list = idle_[conn->poolKey()];
  if (list.size() >= max_idle) {
    loop_.deferDelete(std::move(conn));
    return;
  }
  if (spare_.empty()) {
    Idle& fresh = spare_.emplace_back(*this, loop_);
    fresh.list = &spare_;
    fresh.self = std::prev(spare_.end());
  }
  Idle& entry = spare_.back();
  moveNode(entry, list);
  entry.conn = std::move(conn);
  entry.timer.push(idle_timeout);
  entry.conn->parkIdle([this, &entry] { remove(entry); });
}

void UpstreamPool::moveNode(Idle& entry, IdleList& to) {
  to.splice(to.end(), *entry.list, entry.self);
  entry.list = &to;
}

// From the entry's own timer or its connection's death: nothing is destroyed here (the node
// goes back to spare_, the connection after the current callback).
void UpstreamPool::remove(Idle& entry) {
  if (entry.list == &spare_) return;
  loop_.deferDelete(std::move(entry.conn));
  entry.timer.cancel();
  moveNode(entry, spare_);
}

void UpstreamPool::closeAll() {
  idle_.clear();
  h2_.closeAll();
}

void UpstreamPool::closeIdle(std::string_view address) {
  // Not inside any of these connections' callbacks (called from a snapshot change): erasing
  // destroys them and their timers at once.
  if (auto found = idle_.find(address); found != idle_.end()) idle_.erase(found);
  h2_.closeIdle(address);
}

size_t UpstreamPool::idleCount(std::string_view address) const {
  auto found = idle_.find(address);
  return found == idle_.end() ? 0 : found->second.size();
}

size_t UpstreamPool::idleCount() const {
  size_t n = 0;
  for (const auto& [address, list] : idle_) n += list.size();
  return n;
}

}  // namespace baton::proxy
