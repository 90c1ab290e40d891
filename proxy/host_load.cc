#include "proxy/host_load.h"

#include <memory>

#include "proxy/core/event_loop.h"
#include "proxy/worker.h"

namespace baton::proxy {

void mergeHostLoads(std::vector<HostLoadRow>& into, const std::vector<HostLoadRow>& more) {
  // Rows per worker are few (hosts of the current snapshot): a linear search keeps the order
  // stable for the CSV without an extra index.
  for (const HostLoadRow& row : more) {
    bool merged = false;
    for (HostLoadRow& have : into) {
      if (have.cluster != row.cluster || have.host != row.host) continue;
      have.outstanding += row.outstanding;
      have.tcp_connections += row.tcp_connections;
      have.draining = have.draining || row.draining;
      merged = true;
      break;
    }
    if (!merged) into.push_back(row);
  }
}

void gatherHostLoads(core::EventLoop& control, const std::vector<Worker*>& workers,
                     std::function<void(std::vector<HostLoadRow>)> done) {
  if (workers.empty()) {
    control.post([done = std::move(done)] { done({}); });
    return;
  }
  // Shared by the replies only; every reply runs on the control thread, so no lock.
  struct Pending {
    size_t left;
    std::vector<HostLoadRow> rows;
    std::function<void(std::vector<HostLoadRow>)> done;
  };
  auto pending = std::make_shared<Pending>(Pending{workers.size(), {}, std::move(done)});
  for (Worker* worker : workers) {
    worker->collectHostLoads(control, [pending](std::vector<HostLoadRow> rows) {
      mergeHostLoads(pending->rows, rows);
      if (--pending->left == 0) pending->done(std::move(pending->rows));
    });
  }
}

}  // namespace baton::proxy
