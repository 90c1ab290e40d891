// The first moments of an accepted HTTP connection, before baton knows which protocol it speaks:
// the TLS handshake on TLS listeners (its deadline is [timeouts] tls_handshake; ALPN then picks
// HTTP/2 or HTTP/1.1), or, on plain listeners with h2c on, a look at the first bytes for the
// HTTP/2 client preface. It then hands the Transport (with any bytes already read) to an
// Http2Connection or a DownstreamConnection and the worker swaps it in its place.
//
// Why a separate object: neither codec has to know about handshakes or sniffing, and a plain
// listener without h2c skips it entirely (the worker creates the HTTP/1 connection at once).
//
// Threading: worker thread only; created and replaced by the worker (Worker::accept,
// Worker::replaceConnection).
#pragma once

#include <sys/socket.h>

#include <memory>

#include "proxy/client_connection.h"
#include "proxy/core/event_loop.h"
#include "proxy/core/transport.h"
#include "proxy/worker.h"

namespace baton::proxy {

// True while `bytes` could still be the start of the HTTP/2 client preface; `complete` is set
// when all 24 bytes of it are there.
bool mayBeHttp2Preface(std::string_view bytes, bool& complete);

class ConnectionStart : public ClientConnection, private core::Transport::Handler {
 public:
  // `transport` is plain (sniffing for h2c) or carries a TLS layer whose handshake is pending.
  // `counters`: the listener's (Worker::accept looked them up), held until this connection and
  // the codec it hands over to are done.
  ConnectionStart(Worker& worker, std::unique_ptr<core::Transport> transport, const sockaddr* peer,
                  const WorkerListener& listener, ListenerRuntime& counters, bool tls);
  ~ConnectionStart() override;
  void start();

  // ClientConnection. Draining does not close: the client's first request may already be on its
  // way (a connection accepted just before a drain or a binary upgrade); the handshake or sniff
  // goes on under its deadline and the codec it hands over to drains at once (HTTP/1: the
  // request is answered with Connection: close; HTTP/2: GOAWAY after its grace). Overload closes.
  void drain() override { draining_ = true; }
  void forceClose() override { close(); }
  void cutStreamOn(const std::unordered_set<const HostRuntime*>&) override {}
  void setOverloaded(bool on) override {
    if (on) close();
  }

 private:
  // core::Transport::Handler
  void onTransportSecured() override;
  void onTransportReadable() override;
  void onTransportDrained() override {}
  void onTransportConnected() override {}
  void onTransportClosed(bool error, int err) override;

  void sniff();
  void handOver(bool http2);
  void onDeadline();
  void close();

  Worker& worker_;
  std::unique_ptr<core::Transport> transport_;
  sockaddr_storage peer_{};
  WorkerListener listener_;  // a copy: a reload may remove the listener meanwhile
  // Held from accept: a listener removed meanwhile keeps its counters (absent) until this
  // connection and the codec it hands over to are done, instead of getting new ones.
  StatsRef<ListenerRuntime> counters_;
  core::Timer deadline_;
  bool tls_;
  bool done_ = false;
  bool draining_ = false;
};

}  // namespace baton::proxy
