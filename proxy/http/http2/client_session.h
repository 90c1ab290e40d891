// The HTTP/2 client codec: a translator between the bytes of one connection to an HTTP/2
// backend (h2c, or h2 over TLS) and per-stream callbacks (response head, body, trailers, end,
// close), with requests submitted per stream and frames pulled out with sendTo(). Like
// ServerSession it never touches a socket (style.md §2): tests drive it against a real nghttp2
// server session in memory (tests/unit/proxy/http/http2/client_session_test.cc).
//
// It wraps an nghttp2 client session (client_session.cc includes nghttp2; its error codes and
// frames become H2Error and http1::ResponseHead there) with nghttp2's HTTP messaging checks on,
// plus a decoded header-list cap per response block (an upstream is trusted less than our own
// memory) and CR/LF/NUL refused in names and values (they would reach an HTTP/1 client).
//
// Flow control both ways follows the other side:
// - Response DATA reopens its stream window only when the owner calls consume(), i.e. once the
//   downstream took the bytes; the connection window is consumed on receipt so one slow client
//   never stalls the connection's other streams. A paused downstream therefore holds the backend
//   to one stream window.
// - Request bodies wait in a per-stream queue read by an nghttp2 data provider (DEFERRED while
//   empty); bufferedBytes() is the producer's signal and onStreamWritable() fires when a queue
//   that passed the high watermark falls below half of it. Request trailers go out after the
//   queue (gRPC).
//
// Concurrency: canOpenStream() says whether the backend's SETTINGS_MAX_CONCURRENT_STREAMS (100
// assumed until its SETTINGS arrive, RFC 9113 §6.5.2's recommended minimum) and GOAWAY leave
// room for another stream. A GOAWAY is reported once with its last stream id: streams above it
// were never processed (safe to retry elsewhere), the others finish.
//
// Threading: one thread (the connection's worker). Callbacks run from inside feed() and
// sendTo(); the owner must not destroy the session from inside them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "proxy/core/error.h"
#include "proxy/http/http2/server_session.h"
#include "proxy/http1/message.h"

namespace baton::proxy::http2 {

struct ClientLimits {
  uint32_t initial_window_bytes = 256 * 1024;  // per response stream
  uint32_t max_header_list_bytes = 64 * 1024;  // decoded, per response header block
  // A stream's request queue above this asks its producer to pause (buffer_high_watermark).
  size_t stream_high_watermark = 1024 * 1024;
};

class ClientCallbacks {
 public:
  virtual ~ClientCallbacks() = default;
  // A 1xx response (never 101: HTTP/2 has no upgrade).
  virtual void onInformational(int32_t stream_id, http1::ResponseHead&& head) = 0;
  // The final response head. `end_stream`: no body and no trailers follow (onResponseEnd
  // follows at once).
  virtual void onResponseHead(int32_t stream_id, http1::ResponseHead&& head, bool end_stream) = 0;
  // Response body bytes. Their stream window opens again only once consume() is called.
  virtual void onResponseData(int32_t stream_id, const uint8_t* data, size_t len) = 0;
  virtual void onResponseTrailers(int32_t stream_id, http1::HeaderList&& trailers) = 0;
  // The response is complete (END_STREAM seen after its head).
  virtual void onResponseEnd(int32_t stream_id) = 0;
  // The stream is gone. After onResponseEnd with NoError: a clean end. Otherwise the exchange
  // was cut (reset by the backend, a malformed response, the connection's end); `refused`:
  // the backend never processed it (REFUSED_STREAM, or above a GOAWAY's last stream id).
  virtual void onStreamClose(int32_t stream_id, H2Error error, bool refused) = 0;
  // The stream's queued request body fell below half the high watermark after passing it.
  virtual void onStreamWritable(int32_t stream_id) = 0;
  // The backend sent GOAWAY (first one only): no new stream may be opened.
  virtual void onGoaway(int32_t last_stream_id, H2Error error) = 0;
};

class ClientSession {
 public:
  // `callbacks` must outlive the session. Queues the preface and our SETTINGS.
  static core::Result<std::unique_ptr<ClientSession>> create(const ClientLimits& limits,
                                                             ClientCallbacks& callbacks);
  ~ClientSession();
  ClientSession(const ClientSession&) = delete;
  ClientSession& operator=(const ClientSession&) = delete;

  // Bytes from the backend. Returns the bytes consumed. A connection error submits GOAWAY and
  // returns the error (or shows as failed() after the next sendTo): send what is pending, then
  // close (every open stream is lost).
  core::Result<size_t> feed(const uint8_t* data, size_t len);
  // Writes pending frames until there are none or `out.full()`. Fires onStreamWritable for
  // queues that drained meanwhile. Returns bytes written.
  size_t sendTo(SessionOutput& out);
  bool wantRead() const;
  bool wantWrite() const;
  // A connection error: we sent (or, from feed(), queued) GOAWAY with an error code. Some
  // errors nghttp2 answers itself are only known once its GOAWAY went out through sendTo().
  bool failed() const { return terminated_; }

  // Room for one more stream: no GOAWAY, and fewer open streams than the backend allows.
  bool canOpenStream() const;
  size_t openStreams() const { return streams_.size(); }
  uint32_t remoteMaxConcurrentStreams() const;
  bool goawayReceived() const { return goaway_; }
  // The backend's first SETTINGS arrived (remoteMaxConcurrentStreams() is its own, not assumed).
  bool settingsReceived() const { return settings_received_; }

  // A request. `headers` as the Stream built them (HTTP/1 style): names are lowercased here,
  // connection-specific fields and any `host` dropped (`authority` replaces it), `te` kept only
  // as "trailers". `end_stream`: no body follows. Returns the new stream id; fails only after
  // GOAWAY or a connection error (past the concurrency limit nghttp2 queues the stream until
  // another one closes: the owner keeps to canOpenStream() to avoid that wait).
  struct Request {
    std::string_view method;
    std::string_view scheme;  // "http" (h2c) or "https" (h2)
    std::string_view authority;
    std::string_view path;
    const http1::HeaderList* headers = nullptr;
    bool head_request = false;  // HEAD: the response has no body whatever it says
    bool end_stream = false;
  };
  core::Result<int32_t> submitRequest(const Request& request);
  // Queues request body bytes (after submitRequest without end_stream).
  void appendBody(int32_t stream_id, const char* data, size_t len);
  // The body is complete: END_STREAM after the queue (on a trailers HEADERS when given).
  void endBody(int32_t stream_id, http1::HeaderList trailers = {});
  // RST_STREAM (Cancel: the client went away; InternalError: the request failed here).
  void resetStream(int32_t stream_id, H2Error error);
  // The stream's queued request bytes.
  size_t bufferedBytes(int32_t stream_id) const;
  // Response flow control: `len` bytes of the stream were taken by the downstream.
  void consume(int32_t stream_id, size_t len);
  // GOAWAY NO_ERROR (graceful: we open no more streams) / a connection error.
  void submitGoaway();
  void terminate(H2Error error);

 private:
  struct StreamState;
  class Callbacks;  // nghttp2 trampolines (client_session.cc)
  friend class Callbacks;

  ClientSession(const ClientLimits& limits, ClientCallbacks& callbacks);
  StreamState* find(int32_t stream_id) const;
  void onHeadersEnd(StreamState& st, bool end_stream);

  ClientLimits limits_;
  ClientCallbacks& callbacks_;
  nghttp2_session* session_ = nullptr;
  std::unordered_map<int32_t, std::unique_ptr<StreamState>> streams_;
  std::vector<int32_t> writable_;  // onStreamWritable owed after the current sendTo
  bool settings_received_ = false;
  bool goaway_ = false;
  bool terminated_ = false;  // a connection error: GOAWAY with an error code sent or queued
  int32_t goaway_last_stream_ = 0;
};

}  // namespace baton::proxy::http2
