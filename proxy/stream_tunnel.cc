#include "proxy/stream_tunnel.h"

#include <event2/buffer.h>

namespace baton::proxy {

StreamTunnel::StreamTunnel(core::EventLoop& loop, core::Transport& upstream, DownstreamSink& sink,
                           Tunnel::Settings settings, std::function<void(Tunnel::End)> on_end)
    : upstream_(upstream),
      sink_(sink),
      settings_(settings),
      on_end_(std::move(on_end)),
      idle_timer_(loop, [this] { finish(Tunnel::End::IdleTimeout); }) {}

StreamTunnel::~StreamTunnel() = default;

void StreamTunnel::start(bool upstream_eof, bool downstream_ended) {
  upstream_.setHandler(this);
  upstream_.setHighWatermark(settings_.high_watermark);
  touch();
  // The upstream's first frames may have come with its 101: they go first.
  if (evbuffer_get_length(upstream_.input()) > 0) onTransportReadable();
  if (ended_) return;
  upstream_.resumeReading();
  sink_.requestBodyIsTunnel();
  sink_.resumeRequestBody();  // the client's held DATA (if any) arrives through fromDownstream
  if (!ended_ && downstream_ended) downstreamEnded();
  if (!ended_ && upstream_eof) onTransportClosed(false, 0);
}

void StreamTunnel::stop() {
  ended_ = true;
  idle_timer_.cancel();
  upstream_.stop();
}

void StreamTunnel::touch() {
  idle_timer_.arm(settings_.idle_timeout);
}

void StreamTunnel::onTransportReadable() {
  if (ended_) return;
  evbuffer* buf = upstream_.input();
  const size_t total = evbuffer_get_length(buf);
  for (size_t len = evbuffer_get_contiguous_space(buf); len > 0;
       len = evbuffer_get_contiguous_space(buf)) {
    sink_.sendResponseBody(
        reinterpret_cast<const char*>(evbuffer_pullup(buf, static_cast<ev_ssize_t>(len))), len);
    evbuffer_drain(buf, len);
  }
  upstream_.inputConsumed();
  bytes_from_upstream_ += total;
  if (sink_.bufferedResponseBytes() > settings_.high_watermark) upstream_.pauseReading();
  touch();
}

void StreamTunnel::downstreamDrained() {
  if (!ended_) upstream_.resumeReading();
}

void StreamTunnel::fromDownstream(const char* data, size_t len) {
  if (ended_ || downstream_ended_) return;
  upstream_.write(data, len);
  bytes_from_downstream_ += len;
  if (!downstream_paused_ && upstream_.pendingOutput() > settings_.high_watermark) {
    downstream_paused_ = true;
    sink_.pauseRequestBody();
  }
  touch();
}

void StreamTunnel::onTransportDrained() {
  if (ended_) return;
  if (downstream_paused_) {
    downstream_paused_ = false;
    sink_.resumeRequestBody();
  }
  touch();
}

// Half-close toward the upstream: its FIN follows the bytes before it.
void StreamTunnel::downstreamEnded() {
  if (ended_ || downstream_ended_) return;
  downstream_ended_ = true;
  upstream_.setWriteLowWatermark(0);
  upstream_.shutdownWriteWhenFlushed();
}

void StreamTunnel::onTransportClosed(bool error, int) {
  if (ended_) return;
  if (error) {
    finish(Tunnel::End::UpstreamReset);
    return;
  }
  // The upstream is done (its close frame went before): the stream ends cleanly.
  sink_.sendResponseEnd();
  finish(Tunnel::End::Eof);
}

void StreamTunnel::finish(Tunnel::End end) {
  if (ended_) return;
  stop();
  if (on_end_) on_end_(end);
}

}  // namespace baton::proxy
