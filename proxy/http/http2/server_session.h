// The HTTP/2 server codec: a translator between the bytes of one client connection and
// per-stream callbacks (request head, body, trailers, end, close), with responses submitted
// per stream and frames pulled out with sendTo(). It never touches a socket (style.md §2), so
// every HTTP/2 edge case is a byte-level unit test.
//
// It wraps an nghttp2 server session (nghttp2 stays in server_session.cc and the internal units
// it shares with client_session.cc: header_fields, outbound_stream, session_setup)
// with its HTTP messaging checks on, and adds what nghttp2 1.52 does not do for a proxy
// (hostile-inputs.md, HTTP/2): a decoded header-list cap counted per field (HPACK bomb), CR/LF/NUL
// refused in every name and value (they never reach the HTTP/1 side), a token bucket over resets
// the client sent and stream errors we sent (rapid reset, MadeYouReset), one over inbound
// SETTINGS/PING frames (and PRIORITY and empty DATA frames: free for a client to flood), and the
// header block byte cap behind nghttp2's CONTINUATION limit. Past a flood budget the session
// answers GOAWAY ENHANCE_YOUR_CALM and wants nothing more.
//
// Request heads are delivered as http1::RequestHead so the protocol-neutral Stream forwards them
// to HTTP/1.1 upstreams unchanged: :path is the target, a `host` field is synthesised from
// :authority (which wins over a different host field), cookie fields are joined with "; ", and a
// body of unknown length is marked chunked.
//
// Flow control follows the consumer: request DATA opens the stream's window again only when the
// owner calls consume() (no automatic WINDOW_UPDATE), so an upstream that stops reading stops the
// client after one window. The connection window is consumed on receipt (it never blocks other
// streams) unless windows are held (overload). Response bodies wait in a per-stream queue read
// by an nghttp2 data provider; bufferedBytes() is the stream's backpressure signal, and
// onStreamWritable() fires when a queue that had passed the high watermark falls below half
// (the same for the connection's total against four watermarks: many streams, one bound).
//
// Threading: one thread (the connection's worker). Callbacks run from inside feed() and sendTo();
// the owner must not destroy the session from inside them.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "conf/config_spec.h"
#include "proxy/core/error.h"
#include "proxy/core/fast_random.h"
#include "proxy/core/recycled_blocks.h"
#include "proxy/http1/message.h"

struct nghttp2_session;

namespace baton::proxy::http2 {

// RFC 9113 §7 error codes used by baton (values as on the wire).
enum class H2Error : uint32_t {
  NoError = 0x0,
  ProtocolError = 0x1,
  InternalError = 0x2,
  FlowControlError = 0x3,
  StreamClosed = 0x5,
  FrameSizeError = 0x6,
  RefusedStream = 0x7,
  Cancel = 0x8,
  CompressionError = 0x9,
  EnhanceYourCalm = 0xb,
};

struct SessionLimits {
  uint32_t max_concurrent_streams = 100;
  uint32_t initial_window_bytes = 256 * 1024;
  uint32_t max_header_list_bytes = 64 * 1024;
  uint32_t reset_burst = 1000;
  uint32_t reset_rate = 33;
  uint32_t control_frame_burst = 1000;
  uint32_t control_frame_rate = 100;
  size_t max_continuations = 8;      // CONTINUATION frames after one HEADERS
  size_t max_settings_entries = 32;  // per SETTINGS frame
  // A stream's response queue above this pauses its producer (Stream: buffer_high_watermark).
  size_t stream_high_watermark = 1024 * 1024;
  static SessionLimits from(const conf::Http2Spec& spec, size_t buffer_high_watermark);
};

// Counters for the admin model (plain values; the connection's owner aggregates them).
struct SessionStats {
  uint64_t streams = 0;             // request streams opened by the client
  uint64_t resets_received = 0;     // RST_STREAM frames from the client
  uint64_t stream_errors_sent = 0;  // RST_STREAM we sent with an error code (not NO_ERROR)
  uint64_t refused_streams = 0;     // of those, REFUSED_STREAM (concurrency, overload)
  uint64_t goaway_sent = 0;
  uint64_t goaway_no_error = 0;  // graceful: idle, drain
  uint64_t goaway_protocol_error = 0;
  uint64_t goaway_enhance_your_calm = 0;  // a flood budget ran out
  uint64_t goaway_other = 0;
};

class SessionCallbacks {
 public:
  virtual ~SessionCallbacks() = default;
  // A complete, validated request head. `end_stream`: no body follows (onRequestEnd follows at
  // once too).
  virtual void onRequestHead(int32_t stream_id, http1::RequestHead&& head, bool end_stream) = 0;
  // A request baton answers itself without a Stream (HPACK bomb -> HeaderTooLarge, CONNECT ->
  // MethodNotAllowed, an unknown Expect -> ExpectationFailed): the owner submits the local
  // reply (submitResponse with end_stream, or a body).
  virtual void onRequestRejected(int32_t stream_id, core::ErrorCode code, bool head_request) = 0;
  // Request body bytes. Their stream window opens again only once consume() is called.
  virtual void onRequestData(int32_t stream_id, const uint8_t* data, size_t len) = 0;
  virtual void onRequestTrailers(int32_t stream_id, http1::HeaderList&& trailers) = 0;
  virtual void onRequestEnd(int32_t stream_id) = 0;
  // The stream is gone (after its head was delivered or rejected). `error` is NoError for a
  // clean close; anything else (a client reset, a stream error) means the exchange was cut.
  virtual void onStreamClose(int32_t stream_id, H2Error error, bool reset_by_client) = 0;
  // The stream's queued response fell below half the high watermark after having passed it.
  virtual void onStreamWritable(int32_t stream_id) = 0;
};

// Where sendTo() writes frames.
class SessionOutput {
 public:
  virtual ~SessionOutput() = default;
  virtual void write(const uint8_t* data, size_t len) = 0;
  // The same, for bytes that are everything this send produced (a response at one stream per
  // connection): nothing follows to batch them with, so the writer may send them at once
  // instead of queueing them for its end-of-pass flush.
  virtual void writeAlone(const uint8_t* data, size_t len) { write(data, len); }
  // True when the writer wants no more for now (its buffer is above the high watermark).
  virtual bool full() const = 0;
};

class ServerSession {
 public:
  // `callbacks` must outlive the session. Submits our SETTINGS (sent by the first sendTo).
  static core::Result<std::unique_ptr<ServerSession>> create(const SessionLimits& limits,
                                                             SessionCallbacks& callbacks);
  ~ServerSession();
  ServerSession(const ServerSession&) = delete;
  ServerSession& operator=(const ServerSession&) = delete;

  // Bytes from the client (the preface first). Returns the bytes consumed (all of them unless
  // the session is finished). A fatal error (bad preface, connection error) submits GOAWAY
  // and returns the error: send what is pending, then close.
  core::Result<size_t> feed(const uint8_t* data, size_t len);
  // Writes pending frames until there are none or `out.full()`. Fires onStreamWritable for
  // queues that drained meanwhile. Returns bytes written.
  size_t sendTo(SessionOutput& out);

  // True while the session may still read / has frames to send. Both false: close.
  bool wantRead() const;
  bool wantWrite() const;
  // Whether a sendTo() now would do anything: frames to send, or onStreamWritable owed (a
  // stream closed while the connection's queue was above its mark). False after reading a
  // request's HEADERS that only start a stream: nothing goes out until its response.
  bool sendPending() const { return !writable_.empty() || wantWrite(); }
  // A HEADERS block has begun and not yet ended (CONTINUATION pending): the header deadline.
  bool headerBlockInProgress() const { return header_block_stream_ != 0; }
  size_t openStreams() const { return streams_.size(); }
  const SessionStats& stats() const { return stats_; }
  // The session ran out of a flood budget (GOAWAY ENHANCE_YOUR_CALM submitted).
  bool calmedDown() const { return calm_; }

  // Responses. `headers` as the Stream built them: names lowercased here; connection-specific
  // fields dropped. `content_length` becomes the content-length field. `end_stream`: no body.
  core::Result<void> submitResponse(int32_t stream_id, uint16_t status,
                                    const http1::HeaderList& headers,
                                    std::optional<uint64_t> content_length, bool end_stream);
  // 1xx (100, 103): a HEADERS frame without END_STREAM; 101 is never sent on HTTP/2.
  void submitInformational(int32_t stream_id, uint16_t status, const http1::HeaderList& headers);
  // Queues response body bytes (after submitResponse without end_stream).
  void appendBody(int32_t stream_id, const char* data, size_t len);
  // The body is complete: END_STREAM after the queue (with trailers when given).
  void endBody(int32_t stream_id, http1::HeaderList trailers = {});
  // RST_STREAM (abort: InternalError for a truncated upstream body).
  void resetStream(int32_t stream_id, H2Error error);
  // The stream's queued response bytes; once the connection's queues together pass four
  // stream watermarks, the connection's total (so every producer pauses).
  size_t bufferedBytes(int32_t stream_id) const;

  // Request body flow control: `len` bytes of the stream were taken by the consumer.
  void consume(int32_t stream_id, size_t len);
  // Overload: refuse new streams with REFUSED_STREAM and stop opening windows (true), or
  // resume (false).
  void setOverloaded(bool on);
  // Graceful shutdown, step 1: GOAWAY with the maximum stream id (new streams still possible
  // while it travels). Step 2 (about one RTT later): GOAWAY with the last stream id we took;
  // later streams are refused, open ones finish.
  void submitShutdownNotice();
  void submitFinalGoaway();
  // Connection error from the owner (idle timeout, header deadline): GOAWAY `error`, then the
  // session wants nothing more once it is sent.
  void terminate(H2Error error);

 private:
  struct StreamState;
  class Callbacks;  // nghttp2 trampolines (server_session.cc)
  friend class Callbacks;

  ServerSession(const SessionLimits& limits, SessionCallbacks& callbacks);
  StreamState* find(int32_t stream_id) const;
  size_t connectionHighWatermark() const;
  void checkConnectionDrained();
  bool takeToken(double& tokens, std::chrono::steady_clock::time_point& last, uint32_t burst,
                 uint32_t rate);
  bool takeControlToken();
  void onRequestHeaders(nghttp2_session* session, StreamState& st, bool end_stream);
  bool finishHead(StreamState& st, bool end_stream);
  static bool isWebSocketConnect(const StreamState& st);
  void translateWebSocketConnect(http1::RequestHead& head);
  std::string webSocketKey();
  void onTrailers(nghttp2_session* session, StreamState& st, bool end_stream);
  void onRstSent(uint32_t error);
  void noteGoaway(uint32_t error);
  void calm();

  SessionLimits limits_;
  SessionCallbacks& callbacks_;
  nghttp2_session* session_ = nullptr;
  // Nodes recycled per thread (core::RecyclingAllocator): a node per stream, in bursts.
  using StreamMap = std::unordered_map<
      int32_t, std::unique_ptr<StreamState>, std::hash<int32_t>, std::equal_to<int32_t>,
      core::RecyclingAllocator<std::pair<const int32_t, std::unique_ptr<StreamState>>>>;
  StreamMap streams_;
  std::vector<int32_t> writable_;  // onStreamWritable owed after the current sendTo
  SessionStats stats_;
  // Token buckets (hostile-inputs.md): resets received + stream errors sent; SETTINGS + PING.
  double reset_tokens_;
  double control_tokens_;
  std::chrono::steady_clock::time_point reset_last_;
  std::chrono::steady_clock::time_point control_last_;
  int32_t header_block_stream_ = 0;  // stream whose header block is being received
  size_t header_block_bytes_ = 0;    // its compressed size so far (HEADERS + CONTINUATION)
  size_t total_queued_ = 0;          // response bytes queued over all streams
  bool connection_above_high_ = false;
  size_t unconsumed_connection_ = 0;  // connection-window bytes held back while overloaded
  core::FastRandom random_;           // Sec-WebSocket-Key nonces (RFC 8441 translation)
  bool overloaded_ = false;
  bool calm_ = false;
};

}  // namespace baton::proxy::http2
