// nghttp2 server side: its error codes and frames become ours here (nghttp2 stays inside
// proxy/http/http2/; header_fields, outbound_stream and session_setup hold what both sides share).
#include "proxy/http/http2/server_session.h"

#include <nghttp2/nghttp2.h>

#include <algorithm>
#include <charconv>

#include "proxy/http/http2/header_fields.h"
#include "proxy/http/http2/outbound_stream.h"
#include "proxy/http/http2/session_memory.h"
#include "proxy/http/http2/session_setup.h"

namespace baton::proxy::http2 {

namespace {

using core::ErrorCode;

// Compressed header block bytes allowed per block, as a multiple of the decoded cap: HPACK
// with Huffman never needs more than the decoded size plus a little per field, so anything
// far above is a CONTINUATION flood, not a request.
constexpr size_t kHeaderBlockSlack = 2;
// Response bytes queued on one connection (all streams) before every stream counts as full.
constexpr size_t kConnectionQueueFactor = 4;
// Request fields reserved up front (a browser sends 10-20 after the pseudo-headers): saves the
// vector's growth steps, each of which moves every field so far.
constexpr size_t kExpectedRequestFields = 16;

// Connection-specific fields (RFC 9113 §8.2.2) never go out on HTTP/2; content-length is
// rebuilt from the Stream's framing decision.
bool droppedInResponse(std::string_view lower_name, std::string_view /*value*/) {
  return lower_name == "connection" || lower_name == "keep-alive" ||
         lower_name == "proxy-connection" || lower_name == "transfer-encoding" ||
         lower_name == "upgrade" || lower_name == "te" || lower_name == "content-length";
}

}  // namespace

SessionLimits SessionLimits::from(const conf::Http2Spec& spec, size_t buffer_high_watermark) {
  SessionLimits l;
  l.max_concurrent_streams = spec.max_concurrent_streams;
  l.initial_window_bytes = spec.initial_window_bytes;
  l.max_header_list_bytes = spec.max_header_list_bytes;
  l.reset_burst = spec.reset_burst;
  l.reset_rate = spec.reset_rate;
  l.control_frame_burst = spec.control_frame_burst;
  l.control_frame_rate = spec.control_frame_rate;
  l.stream_high_watermark = buffer_high_watermark;
  return l;
}

// ---- Per-stream state -------------------------------------------------------------------------

struct ServerSession::StreamState {
  enum class Reject : uint8_t { None, Refused, Malformed, TooLarge };

  explicit StreamState(int32_t stream_id) : id(stream_id) {}

  int32_t id;
  // Request side.
  http1::RequestHead head;
  std::string authority;
  std::string cookie;
  std::string protocol;  // :protocol (RFC 8441 extended CONNECT), "" when absent
  http1::HeaderList trailers;
  size_t header_bytes = 0;  // decoded name+value+32 of the current block
  Reject reject = Reject::None;
  bool delivered = false;  // head delivered or rejected: the owner hears of the close
  bool request_ended = false;
  bool reset_by_client = false;
  // Response side.
  OutboundBody response_body;
  bool response_submitted = false;
};

// ---- nghttp2 callbacks ----------------------------------------------------------------------

class ServerSession::Callbacks {
 public:
  static ServerSession& self(void* user_data) { return *static_cast<ServerSession*>(user_data); }

  static int onBeginFrame(nghttp2_session*, const nghttp2_frame_hd* hd, void* user_data) {
    ServerSession& s = self(user_data);
    if (s.calm_) return NGHTTP2_ERR_CALLBACK_FAILURE;  // stop reading after GOAWAY
    const bool ack = (hd->flags & NGHTTP2_FLAG_ACK) != 0;
    switch (hd->type) {
      case NGHTTP2_HEADERS:
        s.header_block_stream_ = hd->stream_id;
        s.header_block_bytes_ = hd->length;
        break;
      case NGHTTP2_CONTINUATION:
        s.header_block_bytes_ += hd->length;
        break;
      case NGHTTP2_RST_STREAM:
        ++s.stats_.resets_received;
        if (StreamState* st = s.find(hd->stream_id)) st->reset_by_client = true;
        if (!s.takeToken(s.reset_tokens_, s.reset_last_, s.limits_.reset_burst,
                         s.limits_.reset_rate)) {
          s.calm();
        }
        break;
      case NGHTTP2_SETTINGS:
      case NGHTTP2_PING:
        if (!ack && !s.takeControlToken()) s.calm();
        break;
      case NGHTTP2_PRIORITY:
        // Deprecated (RFC 9113) and useless to us: free for the client to send, so counted.
        if (!s.takeControlToken()) s.calm();
        break;
      case NGHTTP2_DATA:
        // Empty DATA without END_STREAM carries nothing (CVE-2019-9518, empty frames flood).
        if (hd->length == 0 && (hd->flags & NGHTTP2_FLAG_END_STREAM) == 0 &&
            !s.takeControlToken()) {
          s.calm();
        }
        break;
      default:
        break;
    }
    if ((hd->type == NGHTTP2_HEADERS || hd->type == NGHTTP2_CONTINUATION) &&
        s.header_block_bytes_ > size_t{s.limits_.max_header_list_bytes} * kHeaderBlockSlack) {
      s.calm();
    }
    return s.calm_ ? NGHTTP2_ERR_CALLBACK_FAILURE : 0;
  }

  static int onBeginHeaders(nghttp2_session*, const nghttp2_frame* frame, void* user_data) {
    ServerSession& s = self(user_data);
    const int32_t id = frame->hd.stream_id;
    if (frame->hd.type != NGHTTP2_HEADERS) return 0;
    if (frame->headers.cat == NGHTTP2_HCAT_REQUEST) {
      auto st = std::make_unique<StreamState>(id);
      st->head.headers = http1::takeHeaderList(kExpectedRequestFields);
      ++s.stats_.streams;
      if (s.overloaded_ || s.streams_.size() >= s.limits_.max_concurrent_streams) {
        st->reject = StreamState::Reject::Refused;
      }
      s.streams_[id] = std::move(st);
    } else if (StreamState* st = s.find(id)) {
      st->header_bytes = 0;  // trailers: a block of their own under the same cap
    }
    return 0;
  }

  static int onHeader(nghttp2_session* session, const nghttp2_frame* frame, const uint8_t* name,
                      size_t namelen, const uint8_t* value, size_t valuelen, uint8_t,
                      void* user_data) {
    ServerSession& s = self(user_data);
    StreamState* st = s.find(frame->hd.stream_id);
    if (st == nullptr || st->reject != StreamState::Reject::None) return 0;
    st->header_bytes += namelen + valuelen + 32;
    if (st->header_bytes > s.limits_.max_header_list_bytes) {
      // HPACK bomb: nghttp2 does not enforce our advertised list size. Keep decoding (the
      // HPACK state must stay in sync) but keep nothing.
      st->reject = StreamState::Reject::TooLarge;
      st->head.headers = {};
      st->trailers = {};
      st->cookie = {};
      return 0;
    }
    const std::string_view n(reinterpret_cast<const char*>(name), namelen);
    const std::string_view v(reinterpret_cast<const char*>(value), valuelen);
    if (hasForbiddenByte(n) || hasForbiddenByte(v)) {
      // nghttp2 refuses these already; this is the guarantee that they never reach HTTP/1.
      st->reject = StreamState::Reject::Malformed;
      nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_PROTOCOL_ERROR);
      return 0;
    }
    if (frame->headers.cat != NGHTTP2_HCAT_REQUEST) {
      st->trailers.push_back({std::string(n), std::string(v)});
      return 0;
    }
    addRequestField(*st, n, v);
    return 0;
  }

  static void addRequestField(StreamState& st, std::string_view n, std::string_view v) {
    if (!n.empty() && n[0] == ':') {
      if (n == ":method") {
        st.head.method = v;
      } else if (n == ":path") {
        st.head.target = v;
      } else if (n == ":authority") {
        st.authority = v;
      } else if (n == ":protocol") {
        st.protocol = v;
      }
      return;  // :scheme: the listener decides what the upstream sees
    }
    if (n == "cookie") {
      // RFC 9113 §8.2.3: split cookie fields are joined for HTTP/1.
      if (!st.cookie.empty()) st.cookie.append("; ");
      st.cookie.append(v);
      return;
    }
    st.head.headers.push_back({std::string(n), std::string(v)});
  }

  static int onFrameRecv(nghttp2_session* session, const nghttp2_frame* frame, void* user_data) {
    ServerSession& s = self(user_data);
    const int32_t id = frame->hd.stream_id;
    const bool end_stream = (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
    switch (frame->hd.type) {
      case NGHTTP2_HEADERS: {
        if (s.header_block_stream_ == id) s.header_block_stream_ = 0;
        StreamState* st = s.find(id);
        if (st == nullptr) return 0;
        if (end_stream) st->request_ended = true;
        if (frame->headers.cat == NGHTTP2_HCAT_REQUEST) {
          s.onRequestHeaders(session, *st, end_stream);
        } else if (frame->headers.cat == NGHTTP2_HCAT_HEADERS) {
          s.onTrailers(session, *st, end_stream);
        }
        return 0;
      }
      case NGHTTP2_DATA: {
        StreamState* st = s.find(id);
        if (st == nullptr || !end_stream) return 0;
        st->request_ended = true;
        if (st->delivered && st->reject == StreamState::Reject::None) {
          s.callbacks_.onRequestEnd(id);
        }
        return 0;
      }
      default:
        return 0;
    }
  }

  static int onDataChunk(nghttp2_session* session, uint8_t, int32_t id, const uint8_t* data,
                         size_t len, void* user_data) {
    ServerSession& s = self(user_data);
    StreamState* st = s.find(id);
    if (st == nullptr || !st->delivered || st->reject != StreamState::Reject::None) {
      // Nobody takes these bytes (answered early, refused): open the windows at once.
      nghttp2_session_consume(session, id, len);
      return 0;
    }
    if (s.overloaded_) {
      s.unconsumed_connection_ += len;
    } else {
      nghttp2_session_consume_connection(session, len);
    }
    s.callbacks_.onRequestData(id, data, len);
    return 0;
  }

  static int onFrameSend(nghttp2_session* session, const nghttp2_frame* frame, void* user_data) {
    ServerSession& s = self(user_data);
    const int32_t id = frame->hd.stream_id;
    switch (frame->hd.type) {
      case NGHTTP2_RST_STREAM:
        s.onRstSent(frame->rst_stream.error_code);
        break;
      case NGHTTP2_GOAWAY:
        s.noteGoaway(frame->goaway.error_code);
        break;
      case NGHTTP2_DATA:
      case NGHTTP2_HEADERS:
        if ((frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0) {
          // RFC 9113 §8.1: a complete response before the whole request; ask the client to
          // stop sending the body, without error.
          StreamState* st = s.find(id);
          if (st != nullptr && !st->request_ended) {
            nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, id, NGHTTP2_NO_ERROR);
          }
        }
        break;
      default:
        break;
    }
    return 0;
  }

  static int onStreamClose(nghttp2_session*, int32_t id, uint32_t error_code, void* user_data) {
    ServerSession& s = self(user_data);
    auto it = s.streams_.find(id);
    if (it == s.streams_.end()) return 0;
    const bool notify = it->second->delivered;
    const bool by_client = it->second->reset_by_client;
    s.total_queued_ -= it->second->response_body.queued();
    s.streams_.erase(it);
    s.checkConnectionDrained();
    if (s.header_block_stream_ == id) s.header_block_stream_ = 0;
    if (notify) s.callbacks_.onStreamClose(id, static_cast<H2Error>(error_code), by_client);
    return 0;
  }

  static ssize_t readBody(nghttp2_session* session, int32_t id, uint8_t* buf, size_t length,
                          uint32_t* data_flags, nghttp2_data_source*, void* user_data) {
    ServerSession& s = self(user_data);
    StreamState* st = s.find(id);
    if (st == nullptr) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    const OutboundBody::Read r = st->response_body.read(
        session, id, buf, length, data_flags, s.limits_.stream_high_watermark, &droppedInResponse);
    if (r.taken > 0) {
      s.total_queued_ -= r.taken;
      if (r.writable) s.writable_.push_back(id);
      s.checkConnectionDrained();
    }
    return r.result;
  }
};

// ---- Request heads ----------------------------------------------------------------------------

void ServerSession::onRequestHeaders(nghttp2_session* session, StreamState& st, bool end_stream) {
  using Reject = StreamState::Reject;
  if (st.reject == Reject::Refused) {
    nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, st.id, NGHTTP2_REFUSED_STREAM);
    return;
  }
  if (st.reject == Reject::Malformed) return;  // reset already submitted
  http1::RequestHead& head = st.head;
  const bool head_request = head.method == "HEAD";
  std::optional<ErrorCode> refuse;
  if (st.reject == Reject::TooLarge) {
    refuse = ErrorCode::HeaderTooLarge;
  } else if (head.method == "CONNECT" && !isWebSocketConnect(st)) {
    refuse = ErrorCode::MethodNotAllowed;  // as HTTP/1: baton is not a forward proxy
  } else if (!finishHead(st, end_stream)) {
    refuse = ErrorCode::ExpectationFailed;
  }
  st.delivered = true;
  if (refuse) {
    callbacks_.onRequestRejected(st.id, *refuse, head_request);
    return;
  }
  const int32_t id = st.id;
  callbacks_.onRequestHead(id, std::move(head), end_stream);
  // The owner may have answered and reset inside the callback: look the stream up again.
  if (end_stream && find(id) != nullptr) callbacks_.onRequestEnd(id);
}

// RFC 8441: CONNECT with :protocol websocket (nghttp2 accepts :protocol only because we sent
// SETTINGS_ENABLE_CONNECT_PROTOCOL, and checks :scheme and :path are present with it).
bool ServerSession::isWebSocketConnect(const StreamState& st) {
  return http1::equalsIgnoreCase(st.protocol, "websocket");
}

// The HTTP/1.1 handshake an HTTP/2 WebSocket stands for (RFC 8441 §5): GET with Upgrade and a
// Sec-WebSocket-Key of our own (the client sends none over HTTP/2; the upstream's Accept is
// checked against nothing and dropped), no body framing: the DATA frames after our 200 are the
// WebSocket's bytes, tunnelled.
void ServerSession::translateWebSocketConnect(http1::RequestHead& head) {
  head.method = "GET";
  head.extended_connect = true;
  head.upgrade = true;
  std::erase_if(head.headers, [](const http1::HeaderField& h) {
    return h.name == "sec-websocket-key" || h.name == "upgrade";
  });
  head.headers.push_back({"upgrade", "websocket"});
  head.headers.push_back({"sec-websocket-key", webSocketKey()});
}

// 16 random bytes, base64 (RFC 6455 §4.1): a nonce, not a secret.
std::string ServerSession::webSocketKey() {
  static constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const uint64_t a = random_.next();
  const uint64_t b = random_.next();
  uint8_t bytes[16];
  for (int i = 0; i < 8; ++i) {
    bytes[i] = static_cast<uint8_t>(a >> (8 * i));
    bytes[8 + i] = static_cast<uint8_t>(b >> (8 * i));
  }
  std::string out;
  out.reserve(24);
  for (int i = 0; i < 15; i += 3) {
    const uint32_t v = (uint32_t{bytes[i]} << 16) | (uint32_t{bytes[i + 1]} << 8) | bytes[i + 2];
    out.push_back(kB64[(v >> 18) & 63]);
    out.push_back(kB64[(v >> 12) & 63]);
    out.push_back(kB64[(v >> 6) & 63]);
    out.push_back(kB64[v & 63]);
  }
  const uint32_t last = uint32_t{bytes[15]} << 16;
  out.push_back(kB64[(last >> 18) & 63]);
  out.push_back(kB64[(last >> 12) & 63]);
  out.append("==");
  return out;
}

// Turns the decoded fields into what the HTTP/1 side expects. False: an expectation other than
// 100-continue (417, as HTTP/1).
bool ServerSession::finishHead(StreamState& st, bool end_stream) {
  http1::RequestHead& head = st.head;
  head.version_minor = 1;
  head.keep_alive = true;
  if (!st.authority.empty()) {
    // :authority wins: drop any host field and route by the authority (connection coalescing
    // can never reach another vhost's backend through a stale host field).
    std::erase_if(head.headers, [](const http1::HeaderField& h) { return h.name == "host"; });
    head.headers.insert(head.headers.begin(), {"host", std::move(st.authority)});
  }
  if (!st.cookie.empty()) head.headers.push_back({"cookie", std::move(st.cookie)});
  if (head.method == "CONNECT") {
    translateWebSocketConnect(head);
    return true;  // no content-length, no expectation: the body is the tunnel
  }
  bool expect_ok = true;
  for (const http1::HeaderField& h : head.headers) {
    if (h.name == "content-length") {
      uint64_t n = 0;
      const char* end = h.value.data() + h.value.size();
      // nghttp2 validated it; a parse failure here leaves the length unknown (chunked).
      if (std::from_chars(h.value.data(), end, n).ptr == end) head.content_length = n;
    } else if (h.name == "expect") {
      if (http1::equalsIgnoreCase(h.value, "100-continue")) {
        head.expect_continue = true;
      } else {
        expect_ok = false;
      }
    }
  }
  // The Stream rebuilds the framing fields for the upstream.
  std::erase_if(head.headers, [](const http1::HeaderField& h) {
    return h.name == "content-length" || h.name == "expect";
  });
  if (end_stream) {
    head.content_length.reset();
    head.expect_continue = false;
  } else if (!head.content_length) {
    head.chunked = true;  // a body of unknown length follows: chunked toward HTTP/1.1
  }
  return expect_ok;
}

void ServerSession::onTrailers(nghttp2_session* session, StreamState& st, bool end_stream) {
  if (!st.delivered || st.reject == StreamState::Reject::Refused ||
      st.reject == StreamState::Reject::Malformed) {
    return;
  }
  if (st.reject == StreamState::Reject::TooLarge) {
    // The head went through; oversized trailers can only end the stream.
    nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, st.id, NGHTTP2_PROTOCOL_ERROR);
    return;
  }
  const int32_t id = st.id;
  callbacks_.onRequestTrailers(id, std::move(st.trailers));
  if (end_stream && find(id) != nullptr) callbacks_.onRequestEnd(id);
}

// ---- Construction -----------------------------------------------------------------------------

ServerSession::ServerSession(const SessionLimits& limits, SessionCallbacks& callbacks)
    : limits_(limits),
      callbacks_(callbacks),
      reset_tokens_(limits.reset_burst),
      control_tokens_(limits.control_frame_burst),
      reset_last_(std::chrono::steady_clock::now()),
      control_last_(reset_last_),
      random_(static_cast<uint64_t>(reset_last_.time_since_epoch().count()) ^
              reinterpret_cast<uintptr_t>(this)) {}

core::Result<std::unique_ptr<ServerSession>> ServerSession::create(const SessionLimits& limits,
                                                                   SessionCallbacks& callbacks) {
  std::unique_ptr<ServerSession> s(new ServerSession(limits, callbacks));
  core::Result<SessionSetup> setup = newSessionSetup();
  if (!setup) return core::fail(setup.error());
  nghttp2_session_callbacks* cbs = setup->callbacks.get();
  nghttp2_session_callbacks_set_on_begin_frame_callback(cbs, &Callbacks::onBeginFrame);
  nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, &Callbacks::onBeginHeaders);
  nghttp2_session_callbacks_set_on_header_callback(cbs, &Callbacks::onHeader);
  nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, &Callbacks::onFrameRecv);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, &Callbacks::onDataChunk);
  nghttp2_session_callbacks_set_on_frame_send_callback(cbs, &Callbacks::onFrameSend);
  nghttp2_session_callbacks_set_on_stream_close_callback(cbs, &Callbacks::onStreamClose);
  nghttp2_option* opt = setup->options.get();
  nghttp2_option_set_max_settings(opt, limits.max_settings_entries);
  nghttp2_option_set_max_continuations(opt, limits.max_continuations);
  nghttp2_option_set_stream_reset_rate_limit(opt, limits.reset_burst, limits.reset_rate);
  const int rv = nghttp2_session_server_new3(&s->session_, cbs, s.get(), opt, sessionMemory());
  if (rv != 0) return core::fail(core::Error::internal(nghttp2_strerror(rv)));

  // ENABLE_CONNECT_PROTOCOL: WebSockets over HTTP/2 (RFC 8441).
  const nghttp2_settings_entry own[] = {
      {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, limits.max_concurrent_streams},
      {NGHTTP2_SETTINGS_ENABLE_CONNECT_PROTOCOL, 1}};
  if (auto r = submitSettingsAndWindow(s->session_, own, limits.initial_window_bytes,
                                       limits.max_header_list_bytes);
      !r) {
    return core::fail(r.error());
  }
  return s;
}

ServerSession::~ServerSession() {
  nghttp2_session_del(session_);
}

// ---- I/O --------------------------------------------------------------------------------------

core::Result<size_t> ServerSession::feed(const uint8_t* data, size_t len) {
  if (calm_) return len;  // GOAWAY ENHANCE_YOUR_CALM is out: discard the rest
  const ssize_t rv = nghttp2_session_mem_recv(session_, data, len);
  if (calm_) return len;
  if (rv < 0) {
    // Connection error: nghttp2 queued GOAWAY for protocol errors it saw; make sure one goes
    // out for the others (too many CONTINUATIONs, bad preface, flooding acks).
    const bool flood = rv == NGHTTP2_ERR_FLOODED || rv == NGHTTP2_ERR_TOO_MANY_CONTINUATIONS ||
                       rv == NGHTTP2_ERR_TOO_MANY_SETTINGS;
    nghttp2_session_terminate_session(session_,
                                      flood ? NGHTTP2_ENHANCE_YOUR_CALM : NGHTTP2_PROTOCOL_ERROR);
    return core::fail(core::Error::downstream(
        flood ? ErrorCode::Http2EnhanceYourCalm : ErrorCode::Http2ProtocolError,
        nghttp2_strerror(static_cast<int>(rv))));
  }
  return static_cast<size_t>(rv);
}

size_t ServerSession::sendTo(SessionOutput& out) {
  const size_t total = sendFrames(session_, out);
  // Outside nghttp2's data callback: the owner may now resume producers that write to us.
  fireWritable(writable_, [this](int32_t id) {
    if (find(id) != nullptr) callbacks_.onStreamWritable(id);
  });
  return total;
}

bool ServerSession::wantRead() const {
  return !calm_ && nghttp2_session_want_read(session_) != 0;
}

bool ServerSession::wantWrite() const {
  return nghttp2_session_want_write(session_) != 0;
}

// ---- Responses --------------------------------------------------------------------------------

core::Result<void> ServerSession::submitResponse(int32_t stream_id, uint16_t status,
                                                 const http1::HeaderList& headers,
                                                 std::optional<uint64_t> content_length,
                                                 bool end_stream) {
  StreamState* st = find(stream_id);
  if (st == nullptr || st->response_submitted) {
    return core::fail(core::Error::internal("no such stream"));
  }
  NvList list;
  list.reserve(headers.size() + 2);
  list.addNumber(":status", status);
  list.addFields(headers, &droppedInResponse);
  if (content_length) list.addNumber("content-length", *content_length);
  nghttp2_data_provider provider{};
  provider.read_callback = &Callbacks::readBody;
  const int rv = nghttp2_submit_response(session_, stream_id, list.data(), list.size(),
                                         end_stream ? nullptr : &provider);
  if (rv != 0) return core::fail(core::Error::internal(nghttp2_strerror(rv)));
  st->response_submitted = true;
  if (end_stream) st->response_body.markEnded();
  return {};
}

void ServerSession::submitInformational(int32_t stream_id, uint16_t status,
                                        const http1::HeaderList& headers) {
  StreamState* st = find(stream_id);
  if (st == nullptr || st->response_submitted || status == 101 || status < 100 || status > 199) {
    return;
  }
  NvList list;
  list.addNumber(":status", status);
  list.addFields(headers, &droppedInResponse);
  nghttp2_submit_headers(session_, NGHTTP2_FLAG_NONE, stream_id, nullptr, list.data(), list.size(),
                         nullptr);
}

void ServerSession::appendBody(int32_t stream_id, const char* data, size_t len) {
  StreamState* st = find(stream_id);
  if (st == nullptr ||
      !st->response_body.append(session_, stream_id, data, len, limits_.stream_high_watermark)) {
    return;
  }
  total_queued_ += len;
  if (total_queued_ > connectionHighWatermark()) connection_above_high_ = true;
}

void ServerSession::endBody(int32_t stream_id, http1::HeaderList trailers) {
  StreamState* st = find(stream_id);
  if (st != nullptr) st->response_body.end(session_, stream_id, std::move(trailers));
}

void ServerSession::resetStream(int32_t stream_id, H2Error error) {
  if (find(stream_id) == nullptr) return;
  nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, stream_id, static_cast<uint32_t>(error));
}

// Past the connection's cap, every stream reports the connection's total: a client that opens
// many streams and reads none of them gets its producers paused after kConnectionQueueFactor
// watermarks, not one watermark per stream.
size_t ServerSession::bufferedBytes(int32_t stream_id) const {
  const StreamState* st = find(stream_id);
  if (st == nullptr) return 0;
  const size_t queued = st->response_body.queued();
  return connection_above_high_ ? std::max(queued, total_queued_) : queued;
}

void ServerSession::checkConnectionDrained() {
  if (!connection_above_high_ || total_queued_ > connectionHighWatermark() / 2) return;
  // Every stream saw the connection's total as its own: any of them may be paused.
  connection_above_high_ = false;
  for (const auto& [id, state] : streams_) writable_.push_back(id);
}

size_t ServerSession::connectionHighWatermark() const {
  return limits_.stream_high_watermark * kConnectionQueueFactor;
}

// ---- Flow control, overload, shutdown -------------------------------------------------------

void ServerSession::consume(int32_t stream_id, size_t len) {
  if (find(stream_id) == nullptr || len == 0) return;
  nghttp2_session_consume_stream(session_, stream_id, len);
}

void ServerSession::setOverloaded(bool on) {
  overloaded_ = on;
  if (!on && unconsumed_connection_ > 0) {
    nghttp2_session_consume_connection(session_, unconsumed_connection_);
    unconsumed_connection_ = 0;
  }
}

void ServerSession::submitShutdownNotice() {
  nghttp2_submit_shutdown_notice(session_);
}

void ServerSession::submitFinalGoaway() {
  nghttp2_submit_goaway(session_, NGHTTP2_FLAG_NONE,
                        nghttp2_session_get_last_proc_stream_id(session_), NGHTTP2_NO_ERROR,
                        nullptr, 0);
}

void ServerSession::terminate(H2Error error) {
  nghttp2_session_terminate_session(session_, static_cast<uint32_t>(error));
}

// ---- Flood accounting -------------------------------------------------------------------------

ServerSession::StreamState* ServerSession::find(int32_t stream_id) const {
  auto it = streams_.find(stream_id);
  return it == streams_.end() ? nullptr : it->second.get();
}

bool ServerSession::takeToken(double& tokens, std::chrono::steady_clock::time_point& last,
                              uint32_t burst, uint32_t rate) {
  const auto now = std::chrono::steady_clock::now();
  const double elapsed = std::chrono::duration<double>(now - last).count();
  last = now;
  tokens = std::min<double>(burst, tokens + elapsed * rate);
  if (tokens < 1.0) return false;
  tokens -= 1.0;
  return true;
}

bool ServerSession::takeControlToken() {
  return takeToken(control_tokens_, control_last_, limits_.control_frame_burst,
                   limits_.control_frame_rate);
}

// Stream errors we send are the client's doing as much as its own resets (MadeYouReset,
// CVE-2025-8671): they draw from the same bucket.
void ServerSession::onRstSent(uint32_t error) {
  if (error == NGHTTP2_NO_ERROR) return;
  ++stats_.stream_errors_sent;
  if (error == NGHTTP2_REFUSED_STREAM) {
    ++stats_.refused_streams;
    return;  // our own limit or overload: not the client's fault
  }
  if (error == NGHTTP2_INTERNAL_ERROR || error == NGHTTP2_CANCEL) return;  // ours (upstream)
  if (!takeToken(reset_tokens_, reset_last_, limits_.reset_burst, limits_.reset_rate)) calm();
}

void ServerSession::noteGoaway(uint32_t error) {
  ++stats_.goaway_sent;
  switch (error) {
    case NGHTTP2_NO_ERROR:
      ++stats_.goaway_no_error;
      break;
    case NGHTTP2_PROTOCOL_ERROR:
      ++stats_.goaway_protocol_error;
      break;
    case NGHTTP2_ENHANCE_YOUR_CALM:
      ++stats_.goaway_enhance_your_calm;
      break;
    default:
      ++stats_.goaway_other;
      break;
  }
}

void ServerSession::calm() {
  if (calm_) return;
  calm_ = true;
  nghttp2_session_terminate_session(session_, NGHTTP2_ENHANCE_YOUR_CALM);
}

}  // namespace baton::proxy::http2
