// StreamTunnel: what an HTTP/2 WebSocket (RFC 8441 extended CONNECT) becomes after the
// upstream's 101. The client side is an HTTP/2 stream, not a socket, so the bytes cross through
// the Stream's DownstreamSink: the upstream socket's bytes become the stream's DATA frames, and
// the stream's DATA frames (delivered by the Stream as request body) the socket's bytes.
//
//   backpressure  the upstream is not read while the sink holds more than the high watermark
//                 (resumed by downstreamDrained); the sink's request body is paused while the
//                 upstream socket's output is above it (resumed when it drains). HTTP/2 flow
//                 control carries the pause to the client.
//   close         the client's END_STREAM -> shutdown(SHUT_WR) on the upstream once flushed; the
//                 upstream's EOF -> END_STREAM to the client (sendResponseEnd) and the end (the
//                 HTTP/2 side closes the stream, resetting it with NO_ERROR if the client had not
//                 ended yet). An upstream reset -> End::UpstreamReset (the owner resets the
//                 stream).
//   idle          no byte either way for idle_timeout -> End::IdleTimeout.
//
// Owns neither the transport nor the sink; after on_end (or stop) it touches neither.
// Threading: one worker thread; on_end is called once, from a transport or timer callback.
#pragma once

#include <cstdint>
#include <functional>

#include "proxy/core/event_loop.h"
#include "proxy/core/transport.h"
#include "proxy/stream.h"
#include "proxy/tunnel.h"

namespace baton::proxy {

class StreamTunnel : private core::Transport::Handler {
 public:
  StreamTunnel(core::EventLoop& loop, core::Transport& upstream, DownstreamSink& sink,
               Tunnel::Settings settings, std::function<void(Tunnel::End)> on_end);
  ~StreamTunnel() override;
  StreamTunnel(const StreamTunnel&) = delete;
  StreamTunnel& operator=(const StreamTunnel&) = delete;

  // Takes over the upstream's handler and forwards what it already holds. `upstream_eof`: the
  // upstream had already half-closed; `downstream_ended`: the client's END_STREAM came already.
  void start(bool upstream_eof, bool downstream_ended);
  // From the Stream: the client's DATA, its END_STREAM, its sink drained below the watermark.
  void fromDownstream(const char* data, size_t len);
  void downstreamEnded();
  void downstreamDrained();
  void stop();  // no more I/O; on_end is not called

  uint64_t bytesFromDownstream() const { return bytes_from_downstream_; }
  uint64_t bytesFromUpstream() const { return bytes_from_upstream_; }

 private:
  void onTransportReadable() override;
  void onTransportDrained() override;
  void onTransportConnected() override {}
  void onTransportClosed(bool error, int err) override;
  void finish(Tunnel::End end);
  void touch();

  core::Transport& upstream_;
  DownstreamSink& sink_;
  Tunnel::Settings settings_;
  std::function<void(Tunnel::End)> on_end_;
  core::Timer idle_timer_;
  uint64_t bytes_from_downstream_ = 0;
  uint64_t bytes_from_upstream_ = 0;
  bool downstream_paused_ = false;
  bool downstream_ended_ = false;
  bool ended_ = false;
};

}  // namespace baton::proxy
