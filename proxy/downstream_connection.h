// One accepted HTTP/1 client connection: its Transport (socket + buffers), the server codec, the
// timers of the downstream side, and the Stream serving the current request. It is the
// DownstreamSink of its streams: it frames responses (Content-Length, chunked, or close-delimited),
// decides keep-alive, and closes with a lingering close so a client never loses an error reply to a
// RST.
//
// Requests on a connection are served one at a time in order (pipelined requests wait in the
// input buffer while the codec is paused). After a WebSocket 101 the connection is a tunnel
// (upgradeToTunnel): the stream's Tunnel reads and writes the transport until it ends, and
// nothing after the upgrade request is ever parsed as HTTP; then the connection closes. Lives on
// one worker thread; destroyed through the worker (deferred), never from inside its own callbacks.
#pragma once

#include <sys/socket.h>

#include <memory>
#include <string>
#include <unordered_set>

#include "proxy/client_connection.h"
#include "proxy/core/event_loop.h"
#include "proxy/core/transport.h"
#include "proxy/http1/server_codec.h"
#include "proxy/lingering_close.h"
#include "proxy/stream.h"
#include "proxy/worker_stats.h"

namespace baton::proxy {

class Worker;
struct WorkerListener;

class DownstreamConnection : public ClientConnection,
                             private http1::ServerCodecCallbacks,
                             private core::Transport::Handler,
                             public DownstreamSink {
 public:
  // Takes over `transport` (plain, or TLS with the handshake done and "http/1.1" or no ALPN);
  // bytes already in its input (read while sniffing for the HTTP/2 preface) are parsed by
  // start().
  DownstreamConnection(Worker& worker, std::unique_ptr<core::Transport> transport,
                       const sockaddr* peer, const WorkerListener& listener, bool tls);
  ~DownstreamConnection() override;
  void start();

  // Graceful drain: close now if idle, else after the current response.
  void drain() override;
  // Immediate close (drain deadline).
  void forceClose() override;
  // The operator's host drain deadline passed: cut the running request if it is on one of
  // `hosts` (answered 503 if nothing was sent yet, else truncated) and close the connection.
  void cutStreamOn(const std::unordered_set<const HostRuntime*>& hosts) override;
  // The process went over (true) or back under (false) [limits] buffer_budget: an idle
  // keep-alive closes, a request body stops being read until it is back under; a request head
  // that completes meanwhile is shed with 503 (onRequestHead asks the worker).
  void setOverloaded(bool on) override;

 private:
  // Tunnel: the 101 of a WebSocket upgrade went out and the stream's tunnel owns the transport's
  // events until the stream is done; then the connection closes.
  enum class Phase : uint8_t { Idle, Request, Tunnel, Closing, Closed };

  // core::Transport::Handler
  void onTransportReadable() override;
  void onTransportDrained() override;
  void onTransportConnected() override {}
  void onTransportClosed(bool error, int err) override;

  void readInput();
  void onCodecError(const core::Error& error);
  void onHeadTimer();
  void onBodyTimer();
  void startRateWindow();
  void onRateTimer();
  void shedRequest();
  void maybeNextRequest();
  void closeIfClientDone();
  void requestResume();
  void closeAfterFlush();
  void closeNow();
  void write(std::string_view bytes);

  // ServerCodecCallbacks
  void onRequestHead(http1::RequestHead&& head) override;
  void onRequestBody(const char* data, size_t len) override;
  void onRequestComplete() override;

  // DownstreamSink
  void sendResponseHead(uint16_t status, std::string_view reason, const http1::HeaderList& headers,
                        std::optional<uint64_t> content_length, bool no_body) override;
  void sendInformational(uint16_t status, const http1::HeaderList& headers) override;
  void sendResponseBody(const char* data, size_t len) override;
  void sendResponseEnd() override;
  void sendResponseEndWithTrailers(http1::HeaderList&& trailers) override;
  void sendLocalReply(core::ErrorCode code, std::string_view request_id,
                      const http1::HeaderList& extra) override;
  void abortResponse() override;
  size_t bufferedResponseBytes() const override;
  void setRequestBodyLimit(uint64_t limit) override { codec_.setBodyLimit(limit); }
  void setRequestBodyIdle(std::chrono::milliseconds timeout) override;
  void pauseRequestBody() override;
  void resumeRequestBody() override;
  void onStreamDone() override;
  bool supportsUpgrade() const override { return true; }
  Upgraded upgradeToTunnel(std::string_view reason, const http1::HeaderList& headers) override;

  void noteRejected(core::ErrorCode code);

  Worker& worker_;
  StatsRef<ListenerRuntime> listener_stats_;  // before the stream, which records into it
  std::unique_ptr<core::Transport> transport_;
  DownstreamInfo info_;
  http1::ServerCodec codec_;
  std::unique_ptr<Stream> stream_;
  core::Timer head_timer_;  // keep-alive idle, then the request-head deadline
  core::Timer body_timer_;  // request body idle
  core::Timer next_timer_;  // zero-delay: parse a pipelined request outside other callbacks
  LingeringClose linger_;
  core::Timer rate_timer_;  // [limits] body_min_rate: one measurement window
  uint64_t window_body_bytes_ = 0;
  // The current request's body idle timeout: [timeouts] body_idle until routed, then the
  // routed cluster's override (setRequestBodyIdle).
  std::chrono::milliseconds body_idle_{0};
  Phase phase_ = Phase::Idle;
  uint32_t requests_served_ = 0;
  uint8_t request_version_minor_ = 1;
  bool head_request_ = false;
  bool keep_alive_ = true;
  bool chunked_out_ = false;
  bool request_done_ = false;
  bool request_has_body_ = false;
  bool stream_done_ = false;
  bool body_paused_ = false;
  bool in_read_ = false;
  bool want_resume_ = false;
  bool draining_ = false;
  bool read_eof_ = false;        // the client half-closed
  bool output_blocked_ = false;  // next request held back until queued responses drain
  bool overloaded_ = false;      // reading a request body is suspended (setOverloaded)
};

}  // namespace baton::proxy
