#include "proxy/tunnel.h"

#include <event2/buffer.h>

namespace baton::proxy {

Tunnel::Tunnel(core::EventLoop& loop, core::Transport& downstream, core::Transport& upstream,
               Settings settings, std::function<void(End)> on_end)
    : downstream_(downstream),
      upstream_(upstream),
      settings_(settings),
      on_end_(std::move(on_end)),
      idle_timer_(loop, [this] { finish(End::IdleTimeout); }) {
  downstream_side_.tunnel = this;
  downstream_side_.upstream = false;
  upstream_side_.tunnel = this;
  upstream_side_.upstream = true;
}

Tunnel::~Tunnel() = default;

void Tunnel::start(bool downstream_eof, bool upstream_eof) {
  downstream_.setHandler(&downstream_side_);
  upstream_.setHandler(&upstream_side_);
  downstream_.setHighWatermark(settings_.high_watermark);
  upstream_.setHighWatermark(settings_.high_watermark);
  touch();
  // Bytes read before the switch (the client's held bytes, the upstream's first frames) go
  // first, in order, before anything read from now on.
  if (evbuffer_get_length(downstream_.input()) > 0) onReadable(false);
  if (evbuffer_get_length(upstream_.input()) > 0) onReadable(true);
  if (ended_) return;
  downstream_.resumeReading();
  upstream_.resumeReading();
  if (downstream_eof) onClosed(false, false);
  if (!ended_ && upstream_eof) onClosed(true, false);
}

void Tunnel::stop() {
  ended_ = true;
  idle_timer_.cancel();
  downstream_.stop();
  upstream_.stop();
}

void Tunnel::touch() {
  idle_timer_.arm(settings_.idle_timeout);
}

void Tunnel::onReadable(bool from_upstream) {
  if (ended_) return;
  core::Transport& in = side(from_upstream);
  core::Transport& out = side(!from_upstream);
  evbuffer* buf = in.input();
  const size_t total = evbuffer_get_length(buf);
  const bool out_dead = from_upstream ? downstream_dead_ : upstream_dead_;
  if (out_dead) {
    evbuffer_drain(buf, total);  // nowhere to deliver; the tunnel is flushing its last bytes
  } else {
    // Copy each contiguous chunk straight from the input buffer (pullup of a chunk's own length
    // does not move bytes).
    for (size_t len = evbuffer_get_contiguous_space(buf); len > 0;
         len = evbuffer_get_contiguous_space(buf)) {
      out.write(evbuffer_pullup(buf, static_cast<ev_ssize_t>(len)), len);
      evbuffer_drain(buf, len);
    }
    // Backpressure: stop reading this side until the other has sent most of it.
    if (out.pendingOutput() > settings_.high_watermark) in.pauseReading();
  }
  in.inputConsumed();
  (from_upstream ? bytes_from_upstream_ : bytes_from_downstream_) += total;
  touch();
}

void Tunnel::onDrained(bool upstream_side) {
  if (ended_) return;
  // `upstream_side`'s output fell to its low watermark: the other side may be read again.
  const bool other_dead = upstream_side ? downstream_dead_ : upstream_dead_;
  if (!other_dead) side(!upstream_side).resumeReading();
  touch();
  maybeFinish();
}

void Tunnel::onClosed(bool upstream_side, bool error) {
  if (ended_) return;
  core::Transport& other = side(!upstream_side);
  const bool other_dead = upstream_side ? downstream_dead_ : upstream_dead_;
  if (error) {
    (upstream_side ? upstream_dead_ : downstream_dead_) = true;
    side(upstream_side).stop();
    if (!other_dead) {
      // Deliver what the dead side already sent, then end the other side too.
      other.pauseReading();
      other.setWriteLowWatermark(0);
      other.shutdownWriteWhenFlushed();
    }
  } else {
    (upstream_side ? upstream_eof_ : downstream_eof_) = true;
    if (!other_dead) {
      // Half-close: the FIN goes on once the bytes before it are sent; a low watermark of 0
      // makes the end of that flush observable (onDrained).
      other.setWriteLowWatermark(0);
      other.shutdownWriteWhenFlushed();
    }
  }
  maybeFinish();
}

void Tunnel::maybeFinish() {
  if (ended_) return;
  const bool to_upstream_done = downstream_eof_ || downstream_dead_ || upstream_dead_;
  const bool to_downstream_done = upstream_eof_ || upstream_dead_ || downstream_dead_;
  if (!to_upstream_done || !to_downstream_done) return;
  if (!downstream_dead_ && downstream_.pendingOutput() > 0) return;
  if (!upstream_dead_ && upstream_.pendingOutput() > 0) return;
  finish(downstream_dead_ ? End::DownstreamReset : upstream_dead_ ? End::UpstreamReset : End::Eof);
}

void Tunnel::finish(End end) {
  if (ended_) return;
  stop();
  if (on_end_) on_end_(end);
}

}  // namespace baton::proxy
