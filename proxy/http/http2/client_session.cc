// nghttp2 client side: its error codes and frames become ours here (style.md §3: nghttp2 stays
// inside proxy/http/http2/).
#include "proxy/http/http2/client_session.h"

#include <nghttp2/nghttp2.h>

#include <algorithm>
#include <charconv>

#include "proxy/http/http2/header_fields.h"
#include "proxy/http/http2/outbound_stream.h"
#include "proxy/http/http2/session_memory.h"
#include "proxy/http/http2/session_setup.h"

namespace baton::proxy::http2 {

namespace {

// RFC 9113 §6.5.2 suggests at least 100; assumed until the backend's SETTINGS say otherwise.
constexpr uint32_t kAssumedMaxStreams = 100;

// RFC 9113 §8.2.2: connection-specific fields never go out; host becomes :authority;
// content-length is kept (nghttp2 checks it against the DATA we send).
bool droppedInRequest(std::string_view lower_name, std::string_view value) {
  if (lower_name == "te") return !http1::equalsIgnoreCase(value, "trailers");
  return lower_name == "connection" || lower_name == "keep-alive" ||
         lower_name == "proxy-connection" || lower_name == "transfer-encoding" ||
         lower_name == "upgrade" || lower_name == "host" || lower_name == "expect" ||
         lower_name == "http2-settings";
}

}  // namespace

// ---- Per-stream state -------------------------------------------------------------------------

struct ClientSession::StreamState {
  explicit StreamState(int32_t stream_id) : id(stream_id) {}

  int32_t id;
  // Request side.
  OutboundBody body;
  bool head_request = false;
  // Response side: the block being decoded.
  uint16_t status = 0;
  http1::HeaderList fields;
  size_t header_bytes = 0;
  bool malformed = false;
  bool final_head = false;  // the final (non-1xx) head was delivered
  bool ended = false;       // onResponseEnd delivered
};

// ---- nghttp2 callbacks ----------------------------------------------------------------------

class ClientSession::Callbacks {
 public:
  static ClientSession& self(void* user_data) { return *static_cast<ClientSession*>(user_data); }

  static int onBeginHeaders(nghttp2_session*, const nghttp2_frame* frame, void* user_data) {
    StreamState* st = self(user_data).find(frame->hd.stream_id);
    if (st == nullptr) return 0;
    st->status = 0;
    st->fields.clear();
    st->header_bytes = 0;
    return 0;
  }

  static int onHeader(nghttp2_session* session, const nghttp2_frame* frame, const uint8_t* name,
                      size_t namelen, const uint8_t* value, size_t valuelen, uint8_t,
                      void* user_data) {
    ClientSession& s = self(user_data);
    StreamState* st = s.find(frame->hd.stream_id);
    if (st == nullptr || st->malformed) return 0;
    const std::string_view n(reinterpret_cast<const char*>(name), namelen);
    const std::string_view v(reinterpret_cast<const char*>(value), valuelen);
    st->header_bytes += namelen + valuelen + 32;
    if (st->header_bytes > s.limits_.max_header_list_bytes || hasForbiddenByte(n) ||
        hasForbiddenByte(v)) {
      // Keep decoding (HPACK state stays in sync) but end the stream: nothing of it reaches
      // the client except a 502 or a truncation.
      st->malformed = true;
      st->fields.clear();
      nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_PROTOCOL_ERROR);
      return 0;
    }
    if (n == ":status") {
      uint16_t code = 0;
      std::from_chars(v.data(), v.data() + v.size(), code);
      st->status = code;
      return 0;
    }
    if (!n.empty() && n[0] == ':') return 0;
    st->fields.push_back({std::string(n), std::string(v)});
    return 0;
  }

  static int onFrameRecv(nghttp2_session* session, const nghttp2_frame* frame, void* user_data) {
    ClientSession& s = self(user_data);
    const int32_t id = frame->hd.stream_id;
    const bool end_stream = (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
    switch (frame->hd.type) {
      case NGHTTP2_HEADERS:
        if (StreamState* st = s.find(id); st != nullptr && !st->malformed) {
          s.onHeadersEnd(*st, end_stream);
        }
        return 0;
      case NGHTTP2_DATA:
        if (StreamState* st = s.find(id);
            st != nullptr && end_stream && st->final_head && !st->malformed && !st->ended) {
          st->ended = true;
          s.callbacks_.onResponseEnd(id);
        }
        return 0;
      case NGHTTP2_SETTINGS:
        if ((frame->hd.flags & NGHTTP2_FLAG_ACK) == 0) s.settings_received_ = true;
        return 0;
      case NGHTTP2_GOAWAY:
        if (!s.goaway_) {
          s.goaway_ = true;
          s.goaway_last_stream_ = frame->goaway.last_stream_id;
          s.callbacks_.onGoaway(frame->goaway.last_stream_id,
                                static_cast<H2Error>(frame->goaway.error_code));
        }
        (void)session;
        return 0;
      default:
        return 0;
    }
  }

  static int onDataChunk(nghttp2_session* session, uint8_t, int32_t id, const uint8_t* data,
                         size_t len, void* user_data) {
    ClientSession& s = self(user_data);
    nghttp2_session_consume_connection(session, len);
    StreamState* st = s.find(id);
    if (st == nullptr || st->malformed || !st->final_head) {
      nghttp2_session_consume_stream(session, id, len);
      return 0;
    }
    s.callbacks_.onResponseData(id, data, len);
    return 0;
  }

  // nghttp2 answers most connection errors with GOAWAY and goes on returning the bytes as
  // consumed: a GOAWAY with an error code we send is how feed() learns the connection is lost.
  static int onFrameSend(nghttp2_session*, const nghttp2_frame* frame, void* user_data) {
    if (frame->hd.type == NGHTTP2_GOAWAY && frame->goaway.error_code != NGHTTP2_NO_ERROR) {
      self(user_data).terminated_ = true;
    }
    return 0;
  }

  static int onStreamClose(nghttp2_session*, int32_t id, uint32_t error_code, void* user_data) {
    ClientSession& s = self(user_data);
    auto it = s.streams_.find(id);
    if (it == s.streams_.end()) return 0;
    const bool malformed = it->second->malformed;
    s.streams_.erase(it);
    const bool refused =
        error_code == NGHTTP2_REFUSED_STREAM || (s.goaway_ && id > s.goaway_last_stream_);
    H2Error error = static_cast<H2Error>(error_code);
    if (malformed && error == H2Error::NoError) error = H2Error::ProtocolError;
    s.callbacks_.onStreamClose(id, error, refused);
    return 0;
  }

  static ssize_t readBody(nghttp2_session* session, int32_t id, uint8_t* buf, size_t length,
                          uint32_t* data_flags, nghttp2_data_source*, void* user_data) {
    ClientSession& s = self(user_data);
    StreamState* st = s.find(id);
    if (st == nullptr) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    const OutboundBody::Read r = st->body.read(session, id, buf, length, data_flags,
                                               s.limits_.stream_high_watermark, &droppedInRequest);
    if (r.writable) s.writable_.push_back(id);
    return r.result;
  }
};

// A header block ended: a 1xx, the final head, or trailers (any block after the final head).
void ClientSession::onHeadersEnd(StreamState& st, bool end_stream) {
  const int32_t id = st.id;
  if (st.final_head) {
    http1::HeaderList trailers = std::move(st.fields);
    callbacks_.onResponseTrailers(id, std::move(trailers));
    StreamState* again = find(id);
    if (again != nullptr && end_stream && !again->ended) {
      again->ended = true;
      callbacks_.onResponseEnd(id);
    }
    return;
  }
  http1::ResponseHead head;
  head.status = st.status;
  head.version_minor = 1;
  head.headers = std::move(st.fields);
  head.keep_alive = true;
  if (head.status >= 100 && head.status < 200) {
    head.no_body = true;
    if (head.status != 101) callbacks_.onInformational(id, std::move(head));
    return;
  }
  for (const http1::HeaderField& h : head.headers) {
    if (h.name != "content-length") continue;
    uint64_t n = 0;
    const char* end = h.value.data() + h.value.size();
    if (std::from_chars(h.value.data(), end, n).ptr == end) head.content_length = n;
  }
  std::erase_if(head.headers,
                [](const http1::HeaderField& h) { return h.name == "content-length"; });
  head.no_body = st.head_request || head.status == 204 || head.status == 304;
  if (end_stream && !head.no_body && !head.content_length) head.content_length = 0;
  st.final_head = true;
  if (end_stream) st.ended = true;
  callbacks_.onResponseHead(id, std::move(head), end_stream);
  if (end_stream && find(id) != nullptr) callbacks_.onResponseEnd(id);
}

// ---- Construction -----------------------------------------------------------------------------

ClientSession::ClientSession(const ClientLimits& limits, ClientCallbacks& callbacks)
    : limits_(limits), callbacks_(callbacks) {}

core::Result<std::unique_ptr<ClientSession>> ClientSession::create(const ClientLimits& limits,
                                                                   ClientCallbacks& callbacks) {
  std::unique_ptr<ClientSession> s(new ClientSession(limits, callbacks));
  core::Result<SessionSetup> setup = newSessionSetup();
  if (!setup) return core::fail(setup.error());
  nghttp2_session_callbacks* cbs = setup->callbacks.get();
  nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, &Callbacks::onBeginHeaders);
  nghttp2_session_callbacks_set_on_header_callback(cbs, &Callbacks::onHeader);
  nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, &Callbacks::onFrameRecv);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, &Callbacks::onDataChunk);
  nghttp2_session_callbacks_set_on_stream_close_callback(cbs, &Callbacks::onStreamClose);
  nghttp2_session_callbacks_set_on_frame_send_callback(cbs, &Callbacks::onFrameSend);
  nghttp2_option* opt = setup->options.get();
  nghttp2_option_set_peer_max_concurrent_streams(opt, kAssumedMaxStreams);
  const int rv = nghttp2_session_client_new3(&s->session_, cbs, s.get(), opt, sessionMemory());
  if (rv != 0) return core::fail(core::Error::internal(nghttp2_strerror(rv)));

  // No server push; our stream window bounds what one slow client makes the backend buffer.
  const nghttp2_settings_entry own[] = {{NGHTTP2_SETTINGS_ENABLE_PUSH, 0}};
  if (auto r = submitSettingsAndWindow(s->session_, own, limits.initial_window_bytes,
                                       limits.max_header_list_bytes);
      !r) {
    return core::fail(r.error());
  }
  return s;
}

ClientSession::~ClientSession() {
  nghttp2_session_del(session_);
}

// ---- I/O --------------------------------------------------------------------------------------

core::Result<size_t> ClientSession::feed(const uint8_t* data, size_t len) {
  if (terminated_) return len;
  const ssize_t rv = nghttp2_session_mem_recv(session_, data, len);
  if (rv < 0) {
    nghttp2_session_terminate_session(session_, NGHTTP2_PROTOCOL_ERROR);
    terminated_ = true;
    return core::fail(core::Error::upstream(core::ErrorCode::UpstreamProtocolError, false,
                                            nghttp2_strerror(static_cast<int>(rv))));
  }
  // nghttp2 answers most connection errors itself (GOAWAY queued, the session then wants no
  // more input) and still reports the bytes consumed. Not reading any more without having
  // received a GOAWAY means exactly that: the connection is lost (send what is pending).
  if (terminated_ || (nghttp2_session_want_read(session_) == 0 && !goaway_)) {
    terminated_ = true;
    return core::fail(core::Error::upstream(core::ErrorCode::UpstreamProtocolError, false,
                                            "HTTP/2 connection error from the backend"));
  }
  return static_cast<size_t>(rv);
}

size_t ClientSession::sendTo(SessionOutput& out) {
  const size_t total = sendFrames(session_, out);
  // Outside nghttp2's data callback: the owner may now resume producers that write to us.
  fireWritable(writable_, [this](int32_t id) {
    if (find(id) != nullptr) callbacks_.onStreamWritable(id);
  });
  return total;
}

bool ClientSession::wantRead() const {
  return nghttp2_session_want_read(session_) != 0;
}

bool ClientSession::wantWrite() const {
  return nghttp2_session_want_write(session_) != 0;
}

uint32_t ClientSession::remoteMaxConcurrentStreams() const {
  return nghttp2_session_get_remote_settings(session_, NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS);
}

bool ClientSession::canOpenStream() const {
  if (goaway_ || nghttp2_session_check_request_allowed(session_) == 0) return false;
  const uint32_t max = settings_received_ ? remoteMaxConcurrentStreams() : kAssumedMaxStreams;
  return streams_.size() < max;
}

// ---- Requests ---------------------------------------------------------------------------------

// Beyond the backend's concurrency limit nghttp2 holds the stream back until another one
// closes; only a connection that may no longer open streams refuses.
core::Result<int32_t> ClientSession::submitRequest(const Request& request) {
  if (goaway_ || terminated_ || nghttp2_session_check_request_allowed(session_) == 0) {
    return core::fail(core::Error::upstream(core::ErrorCode::UpstreamConnectFailed, true,
                                            "no stream available on the connection"));
  }
  NvList list;
  list.reserve(4 + (request.headers != nullptr ? request.headers->size() : 0));
  list.add(":method", request.method);
  list.add(":scheme", request.scheme);
  list.add(":authority", request.authority);
  list.add(":path", request.path);
  if (request.headers != nullptr) list.addFields(*request.headers, &droppedInRequest);
  nghttp2_data_provider provider{};
  provider.read_callback = &Callbacks::readBody;
  const int32_t id = nghttp2_submit_request(session_, nullptr, list.data(), list.size(),
                                            request.end_stream ? nullptr : &provider, nullptr);
  if (id < 0) {
    return core::fail(
        core::Error::upstream(core::ErrorCode::UpstreamProtocolError, true, nghttp2_strerror(id)));
  }
  auto st = std::make_unique<StreamState>(id);
  st->head_request = request.head_request;
  if (request.end_stream) st->body.markEnded();
  streams_[id] = std::move(st);
  return id;
}

void ClientSession::appendBody(int32_t stream_id, const char* data, size_t len) {
  StreamState* st = find(stream_id);
  if (st != nullptr) st->body.append(session_, stream_id, data, len, limits_.stream_high_watermark);
}

void ClientSession::endBody(int32_t stream_id, http1::HeaderList trailers) {
  StreamState* st = find(stream_id);
  if (st != nullptr) st->body.end(session_, stream_id, std::move(trailers));
}

void ClientSession::resetStream(int32_t stream_id, H2Error error) {
  if (find(stream_id) == nullptr) return;
  nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, stream_id, static_cast<uint32_t>(error));
}

size_t ClientSession::bufferedBytes(int32_t stream_id) const {
  const StreamState* st = find(stream_id);
  return st == nullptr ? 0 : st->body.queued();
}

void ClientSession::consume(int32_t stream_id, size_t len) {
  if (find(stream_id) == nullptr || len == 0) return;
  nghttp2_session_consume_stream(session_, stream_id, len);
}

void ClientSession::submitGoaway() {
  nghttp2_submit_goaway(session_, NGHTTP2_FLAG_NONE, 0, NGHTTP2_NO_ERROR, nullptr, 0);
}

void ClientSession::terminate(H2Error error) {
  nghttp2_session_terminate_session(session_, static_cast<uint32_t>(error));
}

ClientSession::StreamState* ClientSession::find(int32_t stream_id) const {
  auto it = streams_.find(stream_id);
  return it == streams_.end() ? nullptr : it->second.get();
}

}  // namespace baton::proxy::http2
