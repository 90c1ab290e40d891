#include "proxy/worker.h"

#include <event2/listener.h>
#include <event2/util.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

#include "proxy/downstream_connection.h"

namespace baton::proxy {

Worker::Worker(uint32_t index, std::vector<WorkerListener> listeners, SnapshotPtr snapshot)
    : index_(index),
      seed_(0x9e3779b97f4a7c15ULL * (index + 1) ^
            static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count())),
      snapshot_(std::move(snapshot)),
      pool_(loop_),
      request_ids_(seed_) {
  for (auto& spec : listeners) addListener(std::move(spec));
}

Worker::~Worker() {
  // Tear down in dependency order: connections and streams use the pool and the loop.
  for (auto& slot : listeners_) {
    if (slot->listener != nullptr) evconnlistener_free(slot->listener);
    slot->listener = nullptr;
  }
  connections_.clear();
  loop_.flushDeferred();
  pool_.closeAll();
  loop_.flushDeferred();
  lbs_.clear();
}

void Worker::start() {
  thread_ = std::thread([this] { loop_.run(); });
}

void Worker::join() {
  if (thread_.joinable()) thread_.join();
}

void Worker::addListener(WorkerListener spec) {
  auto slot = std::make_unique<ListenerSlot>();
  slot->worker = this;
  slot->spec = std::move(spec);
  // backlog 0: the socket is already listening (opened by the server before the threads).
  slot->listener = evconnlistener_new(loop_.base(), &Worker::onAccept, slot.get(),
                                      LEV_OPT_CLOSE_ON_FREE, 0, slot->spec.fd);
  evconnlistener_set_error_cb(slot->listener, &Worker::onAcceptError);
  ListenerSlot* raw = slot.get();
  slot->resume_timer = std::make_unique<core::Timer>(loop_, [raw] {
    if (raw->listener != nullptr) evconnlistener_enable(raw->listener);
  });
  listeners_.push_back(std::move(slot));
}

void Worker::removeListener(int fd) {
  for (auto it = listeners_.begin(); it != listeners_.end(); ++it) {
    ListenerSlot& slot = **it;
    if (slot.spec.fd != fd) continue;
    if (slot.listener != nullptr) {
      // Take the connections already in the accept queue: closing the socket would reset them.
      for (;;) {
        sockaddr_storage peer{};
        socklen_t len = sizeof(peer);
        int conn =
            ::accept4(fd, reinterpret_cast<sockaddr*>(&peer), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (conn < 0) break;
        accept(slot.spec, conn, reinterpret_cast<sockaddr*>(&peer));
      }
      evconnlistener_free(slot.listener);  // closes the socket
    }
    listeners_.erase(it);
    return;
  }
}

void Worker::reconfigure(SnapshotPtr snapshot, ListenerChanges changes) {
  loop_.post([this, snapshot = std::move(snapshot), changes = std::move(changes)]() mutable {
    applySnapshot(std::move(snapshot));
    for (int fd : changes.remove_fds) removeListener(fd);
    for (auto& spec : changes.add) {
      if (draining_) {
        ::close(spec.fd);
      } else {
        addListener(std::move(spec));
      }
    }
    for (const auto& spec : changes.update) {
      for (auto& slot : listeners_) {
        if (slot->spec.fd == spec.fd) slot->spec = spec;
      }
    }
  });
}

void Worker::applySnapshot(SnapshotPtr snapshot) {
  snapshot_ = std::move(snapshot);
  // Forget load balancers of clusters that left the snapshot; streams still using one hold it.
  std::erase_if(lbs_, [this](const auto& entry) {
    for (const auto& cluster : snapshot_->clusters) {
      if (cluster.get() == entry.first) return false;
    }
    return true;
  });
}

std::shared_ptr<upstream::LoadBalancer> Worker::loadBalancerFor(
    const std::shared_ptr<const upstream::Cluster>& cluster) {
  auto found = lbs_.find(cluster.get());
  if (found != lbs_.end()) return found->second;
  std::shared_ptr<upstream::LoadBalancer> lb =
      upstream::createLoadBalancer(cluster, seed_ + lbs_.size());
  lbs_.emplace(cluster.get(), lb);
  return lb;
}

void Worker::onAccept(evconnlistener*, int fd, sockaddr* addr, int, void* arg) {
  auto* slot = static_cast<ListenerSlot*>(arg);
  core::EventLoop::CallbackScope scope(slot->worker->loop_);
  slot->worker->accept(slot->spec, fd, addr);
}

void Worker::onAcceptError(evconnlistener* listener, void* arg) {
  // Out of file descriptors or memory: the listening socket stays readable, so accepting again
  // at once would spin. Pause this listener briefly (HAProxy does the same) and count on
  // connections closing meanwhile.
  auto* slot = static_cast<ListenerSlot*>(arg);
  int err = EVUTIL_SOCKET_ERROR();
  std::fprintf(stderr, "baton: worker %u: accept on %s failed: %s; pausing it 100 ms\n",
               slot->worker->index_, slot->spec.name.c_str(), evutil_socket_error_to_string(err));
  evconnlistener_disable(listener);
  slot->resume_timer->arm(std::chrono::milliseconds(100));
}

void Worker::accept(const WorkerListener& listener, int fd, const sockaddr* addr) {
  if (draining_ || connections_.size() >= snapshot_->config->limits.max_connections) {
    ::close(fd);
    return;
  }
  auto conn = std::make_unique<DownstreamConnection>(*this, fd, addr, listener);
  DownstreamConnection* raw = conn.get();
  connections_.emplace(raw, std::move(conn));
}

void Worker::onConnectionClosed(DownstreamConnection* conn) {
  auto found = connections_.find(conn);
  if (found == connections_.end()) return;
  loop_.deferDelete(std::move(found->second));
  connections_.erase(found);
  maybeFinishDrain();
}

void Worker::drain(std::function<void()> on_stopped) {
  loop_.post(
      [this, on_stopped = std::move(on_stopped)]() mutable { startDrain(std::move(on_stopped)); });
}

void Worker::startDrain(std::function<void()> on_stopped) {
  draining_ = true;
  on_stopped_ = std::move(on_stopped);
  for (auto& slot : listeners_) {
    if (slot->listener != nullptr) evconnlistener_free(slot->listener);
    slot->listener = nullptr;
  }
  pool_.closeAll();
  std::vector<DownstreamConnection*> open;
  open.reserve(connections_.size());
  for (auto& [raw, conn] : connections_) open.push_back(raw);
  for (DownstreamConnection* conn : open) conn->drain();
  drain_timer_ = std::make_unique<core::Timer>(loop_, [this] {
    std::vector<DownstreamConnection*> left;
    for (auto& [raw, conn] : connections_) left.push_back(raw);
    for (DownstreamConnection* conn : left) conn->forceClose();
    maybeFinishDrain();
  });
  drain_timer_->arm(snapshot_->config->timeouts.drain);
  maybeFinishDrain();
}

void Worker::maybeFinishDrain() {
  if (!draining_ || !connections_.empty() || !on_stopped_) return;
  if (drain_timer_) drain_timer_->cancel();
  auto on_stopped = std::move(on_stopped_);
  on_stopped_ = nullptr;
  loop_.stop();
  on_stopped();
}

}  // namespace baton::proxy
