// The admin socket: a UNIX stream socket speaking the line protocol of proxy/admin/commands.h.
// Runs on the CONTROL thread's loop (a few operator sessions, never on the request path).
//
// Security: the socket file is created with `mode` (0600 by default) and every peer is checked
// with SO_PEERCRED on accept: uid 0, baton's own uid, a uid in `allowed_uids` or a gid in
// `allowed_gids` pass; anyone else gets "denied: ...\n\n" and the connection is closed.
//
// Protocol handling: lines end with "\n" (a "\r" before it is dropped); commands of one
// connection run one at a time, in order (pipelined lines wait); an over-long line (> 4 KiB)
// is refused with "usage: ..." and the connection closed; `quit` closes it; an idle
// connection is closed after 5 minutes. A slow reader never blocks the loop (answers are
// buffered, reading stops while more than 1 MiB waits).
//
// Threading: construct, start and destroy on the control thread.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "proxy/core/error.h"

namespace baton::core {
class EventLoop;
}

namespace baton::proxy::admin {

struct AdminSocketOptions {
  std::string path;
  uint32_t mode = 0600;
  std::vector<uint32_t> allowed_uids;
  std::vector<uint32_t> allowed_gids;
};

class AdminSocketServer {
 public:
  // Runs one command line and calls `done` with the whole answer (ending "\n\n") on the control
  // thread, exactly once. The server passes lines to it in order, one at a time per connection.
  using Executor = std::function<void(std::string_view line, std::function<void(std::string)> done)>;

  AdminSocketServer(core::EventLoop& control, AdminSocketOptions options, Executor executor);
  ~AdminSocketServer();  // closes every session and removes the socket file
  AdminSocketServer(const AdminSocketServer&) = delete;
  AdminSocketServer& operator=(const AdminSocketServer&) = delete;

  // Creates the socket. A stale socket file (nobody accepts on it) is replaced; a live one
  // (another baton) or a non-socket file at the path is an error naming the path.
  core::Result<void> start();

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// Pure: may a peer with these credentials use the socket? (exposed for tests)
bool peerAllowed(uid_t peer_uid, gid_t peer_gid, uid_t own_uid, const AdminSocketOptions& options);

}  // namespace baton::proxy::admin
