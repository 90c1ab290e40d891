#include "proxy/connection_start.h"

#include <event2/buffer.h>

#include <cstring>

#include "proxy/core/log.h"
#include "proxy/downstream_connection.h"
#include "proxy/http2_connection.h"

namespace baton::proxy {

namespace {

constexpr std::string_view kPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

}  // namespace

bool mayBeHttp2Preface(std::string_view bytes, bool& complete) {
  const size_t n = std::min(bytes.size(), kPreface.size());
  complete = false;
  if (bytes.substr(0, n) != kPreface.substr(0, n)) return false;
  complete = n == kPreface.size();
  return true;
}

ConnectionStart::ConnectionStart(Worker& worker, std::unique_ptr<core::Transport> transport,
                                 const sockaddr* peer, const WorkerListener& listener,
                                 ListenerRuntime& counters, bool tls)
    : worker_(worker),
      transport_(std::move(transport)),
      listener_(listener),
      counters_(&counters),
      deadline_(worker.loop(), [this] { onDeadline(); }),
      tls_(tls) {
  std::memcpy(&peer_, peer,
              peer->sa_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in));
  transport_->setHandler(static_cast<core::Transport::Handler*>(this));
}

ConnectionStart::~ConnectionStart() = default;

void ConnectionStart::start() {
  const auto& timeouts = worker_.snapshot()->config->timeouts;
  // A plain connection that sends nothing is a slow request head, whatever it turns out to be.
  deadline_.arm(tls_ ? timeouts.tls_handshake : timeouts.request_head);
}

void ConnectionStart::onTransportSecured() {
  ++counters_->tls.handshakes;
  handOver(transport_->secureLayer()->alpn() == "h2");
}

void ConnectionStart::onTransportReadable() {
  if (!tls_) sniff();
}

// The preface is 24 bytes; a client may send them in pieces. Anything that differs from it at
// any byte is HTTP/1 (whose request line cannot start with "PRI * HTTP/2.0").
void ConnectionStart::sniff() {
  evbuffer* in = transport_->input();
  const size_t len = std::min(evbuffer_get_length(in), kPreface.size());
  char head[24];
  evbuffer_copyout(in, head, len);
  bool complete = false;
  if (!mayBeHttp2Preface(std::string_view(head, len), complete)) {
    handOver(false);
  } else if (complete) {
    handOver(true);
  }
  // Else wait for more bytes (the deadline bounds the wait).
}

void ConnectionStart::handOver(bool http2) {
  if (done_) return;
  done_ = true;
  deadline_.cancel();
  const auto* peer = reinterpret_cast<const sockaddr*>(&peer_);
  std::unique_ptr<ClientConnection> next;
  if (http2) {
    ++counters_->h2_connections;
    auto conn =
        std::make_unique<Http2Connection>(worker_, std::move(transport_), peer, listener_, tls_);
    Http2Connection* raw = conn.get();
    worker_.replaceConnection(this, std::move(conn));
    raw->start();
    if (draining_) raw->drain();
  } else {
    auto conn = std::make_unique<DownstreamConnection>(worker_, std::move(transport_), peer,
                                                       listener_, tls_);
    DownstreamConnection* raw = conn.get();
    worker_.replaceConnection(this, std::move(conn));
    raw->start();
    if (draining_) raw->drain();
  }
}

void ConnectionStart::onTransportClosed(bool error, int) {
  if (done_) return;
  if (tls_ && !transport_->handshakeDone()) {
    ++counters_->tls.failures;
    if (error) {
      core::logf(core::LogLevel::Debug, "baton: %s: TLS handshake with %s failed: %s",
                 listener_.spec->name.c_str(),
                 peerAddressText(reinterpret_cast<sockaddr*>(&peer_)).c_str(),
                 transport_->closeReason().c_str());
    }
  }
  close();
}

void ConnectionStart::onDeadline() {
  if (tls_) {
    ++counters_->tls.failures;
  }
  close();
}

void ConnectionStart::close() {
  if (done_) return;
  done_ = true;
  deadline_.cancel();
  if (transport_) transport_->stop();
  worker_.onConnectionClosed(this);
}

}  // namespace baton::proxy
