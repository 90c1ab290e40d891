// Per-host load rows: what each worker's load balancers and TCP proxies hold right now, gathered
// for the admin listener's `/haproxy?stats;csv` (marathon-lb's zdd polls it to wait for a draining
// host's qcur/scur to reach 0 before killing the old app).
//
// Threading: Worker::collectHostLoads runs on the worker's loop (posted from the control thread);
// gatherHostLoads is called on the control thread and calls `done` on the control thread once
// every worker has answered. No locks, no atomics on the request path: each worker reads its own
// counters on its own thread and the rows travel back by EventLoop::post.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace baton::core {
class EventLoop;
}

namespace baton::proxy {

class Worker;

struct HostLoadRow {
  std::string cluster;  // cluster name (HAProxy pxname)
  std::string host;     // host name (HAProxy svname)
  uint32_t weight = 1;
  bool draining = false;         // no new requests/connections: shown as MAINT
  uint64_t outstanding = 0;      // in-flight requests + open TCP-mode connections, all workers
  uint64_t tcp_connections = 0;  // the TCP-mode part of `outstanding`
  bool operator==(const HostLoadRow&) const = default;
};

// Adds `more` into `into`, summing rows with the same (cluster, host); keeps first-seen order.
void mergeHostLoads(std::vector<HostLoadRow>& into, const std::vector<HostLoadRow>& more);

// Control thread: posts Worker::collectHostLoads to each worker and calls `done` on `control`
// (the control thread's loop) with the merged rows when all have replied. The workers must
// outlive the call (the server joins workers only after stopping the control loop).
void gatherHostLoads(core::EventLoop& control, const std::vector<Worker*>& workers,
                     std::function<void(std::vector<HostLoadRow>)> done);

}  // namespace baton::proxy
