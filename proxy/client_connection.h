// What a worker holds for each accepted client connection, whatever it speaks: a TLS handshake
// or protocol sniff still in progress (ConnectionStart), HTTP/1 (DownstreamConnection), HTTP/2
// (Http2Connection). The worker drives drain, overload and host-drain cuts through this seam and
// learns of the end through Worker::onConnectionClosed.
//
// Threading: worker thread only. Destroyed by the worker (deferred), never from inside its own
// callbacks.
#pragma once

#include <sys/socket.h>

#include <string>
#include <unordered_set>

#include "proxy/core/event_loop.h"
#include "proxy/stream.h"

namespace baton::proxy {

struct HostRuntime;
struct WorkerListener;

class ClientConnection : public core::Deletable {
 public:
  // Graceful drain: close now if idle, else after the requests in flight (HTTP/2: GOAWAY).
  virtual void drain() = 0;
  // Immediate close (drain deadline passed).
  virtual void forceClose() = 0;
  // The operator's host drain deadline passed for `hosts`: requests running on them are cut
  // (503 if nothing was sent yet, else a truncation).
  virtual void cutStreamOn(const std::unordered_set<const HostRuntime*>& hosts) = 0;
  // The process went over (true) or back under (false) [limits] buffer_budget.
  virtual void setOverloaded(bool on) = 0;
};

// The address of `peer` as text ("-" for families other than IPv4/IPv6).
std::string peerAddressText(const sockaddr* peer);
// What every stream of a connection from `peer` on `listener` needs to know (listener_stats is
// left for the connection to set: it holds the reference).
DownstreamInfo makeDownstreamInfo(const ProxySnapshot& snapshot, const sockaddr* peer,
                                  const WorkerListener& listener, bool tls);

}  // namespace baton::proxy
