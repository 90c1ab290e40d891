// A snapshot reference kept on a worker thread by something that may outlive the worker's
// current snapshot (a stream, a TCP connection's callbacks), let go of through
// Worker::releaseSnapshot: the last reference goes to the reclaimer, so a long-lived stream that
// outlived a resync does not free 100,000 hosts on the worker. Copies each hold a reference; a
// moved-from one holds none. Worker thread only.
#pragma once

#include "proxy/snapshot.h"

namespace baton::proxy {

class Worker;

class HeldSnapshot {
 public:
  HeldSnapshot(Worker& worker, SnapshotPtr snapshot)
      : worker_(&worker), snapshot_(std::move(snapshot)) {}
  HeldSnapshot(const HeldSnapshot&) = default;
  HeldSnapshot(HeldSnapshot&&) noexcept = default;
  HeldSnapshot& operator=(const HeldSnapshot&) = delete;
  HeldSnapshot& operator=(HeldSnapshot&&) = delete;
  ~HeldSnapshot();  // worker.cc

  const ProxySnapshot& operator*() const { return *snapshot_; }
  const ProxySnapshot* operator->() const { return snapshot_.get(); }

 private:
  Worker* worker_;
  SnapshotPtr snapshot_;
};

}  // namespace baton::proxy
