#include "proxy/http2_connection.h"

#include <event2/buffer.h>

#include <functional>
#include <optional>

#include "proxy/core/clock.h"
#include "proxy/core/recycled_blocks.h"
#include "proxy/local_reply.h"
#include "proxy/request_id.h"
#include "proxy/worker.h"

namespace baton::proxy {

namespace {

using core::ErrorCode;
using http2::H2Error;

// Between the drain's shutdown notice and the final GOAWAY: long enough for requests already
// in flight from the client to arrive (about one RTT), short enough not to hold a drain.
constexpr std::chrono::milliseconds kGoawayGrace{500};

// StreamSink blocks kept per worker thread, as many as Streams (stream.cc).
constexpr size_t kMaxSinkBlocks = 1024;

}  // namespace

// ---- One HTTP/2 stream as the Stream's DownstreamSink ---------------------------------------

// Owns the Stream of one HTTP/2 stream. Request body bytes the Stream is not ready for (paused
// until an upstream takes them, or by upstream backpressure) are held here and their window is
// not reopened, so what is held never exceeds the stream window we granted. Deleted (deferred)
// when the codec closes the stream.
class Http2Connection::StreamSink : public DownstreamSink, public core::Deletable {
 public:
  StreamSink(Http2Connection& conn, int32_t id)
      : conn_(conn),
        id_(id),
        body_timer_(conn.worker_.loop(), [this] { onBodyTimer(); }),
        resume_timer_(conn.worker_.loop(), [this] { deliverHeld(); }) {}
  ~StreamSink() override { countHeld(-static_cast<int64_t>(held_.size())); }
  // One per Stream, recycled the same way (proxy/core/recycled_blocks.h).
  static void* operator new(size_t size) {
    return core::RecycledBlocks<sizeof(StreamSink), kMaxSinkBlocks>::take(size);
  }
  static void operator delete(void* p, size_t size) {
    core::RecycledBlocks<sizeof(StreamSink), kMaxSinkBlocks>::give(p, size);
  }

  void start(http1::RequestHead&& head, bool end_stream) {
    head_request_ = head.method == "HEAD";
    body_idle_ = conn_.worker_.snapshot()->config->timeouts.body_idle;
    no_body_ = end_stream;
    if (!end_stream) armBodyTimer();
    stream_ = std::make_unique<Stream>(conn_.worker_, *this, conn_.info_);
    stream_->onRequestHead(std::move(head));
  }

  void onData(const uint8_t* data, size_t len) {
    if (stream_done_) {
      conn_.session_->consume(id_, len);  // answered already: nobody wants the rest
      return;
    }
    if (paused_ || !held_.empty()) {
      held_.append(reinterpret_cast<const char*>(data), len);
      countHeld(static_cast<int64_t>(len));
      return;
    }
    armBodyTimer();
    stream_->onRequestBody(reinterpret_cast<const char*>(data), len);
    conn_.session_->consume(id_, len);  // taken: the client may send as much again
  }

  void onEnd() {
    request_ended_ = true;
    if (stream_done_) return;
    if (paused_ || !held_.empty()) {
      end_pending_ = true;  // after the held bytes, in order
      return;
    }
    body_timer_.cancel();
    stream_->onRequestComplete();
  }

  // The codec closed the stream (response done, client reset, stream error, connection end).
  void onClosed(ErrorCode why) {
    closed_ = true;
    body_timer_.cancel();
    resume_timer_.cancel();
    // A response that just went out completely (or was just reset by us) closes the stream
    // from inside the Stream's own last call: it finishes (and logs) by itself.
    if (stream_ && !stream_done_ && !finishing_) {
      stream_done_ = true;
      stream_->onDownstreamGone(why);
    }
  }

  void onWritable() {
    if (stream_ && !stream_done_) stream_->onDownstreamDrained();
  }

  Stream* stream() const { return stream_done_ ? nullptr : stream_.get(); }

  // See Http2Connection::watchFinished.
  void armFinishedTimer() {
    if (!closed_ && stream_done_) body_timer_.arm(body_idle_);
  }

  // DownstreamSink
  void sendResponseHead(uint16_t status, std::string_view, const http1::HeaderList& headers,
                        std::optional<uint64_t> content_length, bool no_body) override {
    responded_ = true;
    if (!conn_.session_->submitResponse(id_, status, headers, content_length,
                                        no_body || head_request_)) {
      return;
    }
    conn_.scheduleIo();
  }
  void sendInformational(uint16_t status, const http1::HeaderList& headers) override {
    conn_.session_->submitInformational(id_, status, headers);
    conn_.scheduleIo();
  }
  void sendResponseBody(const char* data, size_t len) override {
    if (head_request_) return;
    conn_.session_->appendBody(id_, data, len);
    conn_.scheduleIo();
  }
  void sendResponseEnd() override {
    finishing_ = true;
    conn_.session_->endBody(id_);
    conn_.scheduleIo();
  }
  void sendResponseEndWithTrailers(http1::HeaderList&& trailers) override {
    finishing_ = true;
    conn_.session_->endBody(id_, std::move(trailers));
    conn_.scheduleIo();
  }
  void sendLocalReply(ErrorCode code, std::string_view request_id,
                      const http1::HeaderList& extra) override {
    responded_ = true;
    finishing_ = true;
    conn_.sendLocalReply(id_, code, request_id, extra, head_request_);
  }
  void abortResponse() override {
    // The client must see the cut (hostile-inputs.md, from the upstream): never END_STREAM.
    responded_ = true;
    finishing_ = true;
    // What was queued before the cut goes out first: nghttp2 drops a response HEADERS still
    // queued behind a RST_STREAM, and the client must see the head, then the reset.
    conn_.flushSession();
    conn_.session_->resetStream(id_, H2Error::InternalError);
    conn_.scheduleIo();
  }
  size_t bufferedResponseBytes() const override { return conn_.session_->bufferedBytes(id_); }
  void setRequestBodyLimit(uint64_t) override {}  // the Stream counts the bytes itself
  void setRequestBodyIdle(std::chrono::milliseconds timeout) override {
    body_idle_ = timeout;
    if (body_timer_.armed()) armBodyTimer();
  }
  void requestBodyIsTunnel() override {
    tunnel_ = true;
    body_timer_.cancel();
  }
  void pauseRequestBody() override {
    paused_ = true;
    body_timer_.cancel();  // the client is not slow; the upstream side is
  }
  void resumeRequestBody() override {
    if (!paused_) return;
    paused_ = false;
    // A head that ended the stream has no body to wait for (onEnd follows the head).
    if (!request_ended_ && !no_body_) armBodyTimer();
    // Deliver from a fresh callback, not from inside the Stream's call.
    if (!held_.empty() || end_pending_) resume_timer_.arm(std::chrono::milliseconds(0));
  }
  void onStreamDone() override {
    stream_done_ = true;
    resume_timer_.cancel();
    if (!responded_) {
      responded_ = true;
      conn_.session_->resetStream(id_, H2Error::InternalError);
      conn_.scheduleIo();
    }
    // The response is queued; a client that never opens its window for it would hold the
    // stream (and the queue) forever: it gets body_idle to read it, if the stream is still open
    // once this pass's frames are out (armFinishedTimers).
    if (!closed_) conn_.watchFinished(id_);
    // Held body bytes will never be taken: open the window (the codec resets the request
    // body with NO_ERROR once the response is out).
    if (!held_.empty()) {
      conn_.session_->consume(id_, held_.size());
      countHeld(-static_cast<int64_t>(held_.size()));
      std::string().swap(held_);  // its capacity (up to a stream window) is not counted
    }
  }

 private:
  void deliverHeld() {
    if (paused_ || stream_done_) return;
    if (!held_.empty()) {
      std::string bytes;
      bytes.swap(held_);
      countHeld(-static_cast<int64_t>(bytes.size()));
      armBodyTimer();
      stream_->onRequestBody(bytes.data(), bytes.size());
      conn_.session_->consume(id_, bytes.size());
      if (stream_done_) {
        conn_.scheduleIo();
        return;
      }
    }
    if (end_pending_ && !paused_ && held_.empty()) {
      end_pending_ = false;
      body_timer_.cancel();
      stream_->onRequestComplete();
    }
    conn_.scheduleIo();  // WINDOW_UPDATEs
  }

  // Held body bytes are buffered memory like a transport's: the worker's buffer account (and so
  // [limits] buffer_budget, whose overload stops reopening connection windows) sees them. Up to
  // a stream window per stream: 100 streams x 256 KiB = 25 MiB on one connection by default.
  void countHeld(int64_t delta) {
    if (account_ != nullptr && delta != 0) account_->add(delta);
  }

  // The client's request body must keep moving (body_idle), unless it is a tunnel's.
  void armBodyTimer() {
    if (!tunnel_) body_timer_.arm(body_idle_);
  }

  void onBodyTimer() {
    if (stream_done_) {
      // The finished response was never read: give up on this stream only (after whatever
      // still fits, as abortResponse).
      conn_.flushSession();
      conn_.session_->resetStream(id_, H2Error::Cancel);
      conn_.scheduleIo();
      return;
    }
    if (request_ended_) return;
    stream_->onRequestFailed(core::Error::downstream(ErrorCode::RequestBodyTimeout));
  }

  Http2Connection& conn_;
  int32_t id_;
  std::unique_ptr<Stream> stream_;
  core::LazyTimer body_timer_;
  core::LazyTimer resume_timer_;
  std::string held_;
  core::BufferAccount* account_ = core::BufferAccount::current();  // the worker's (or none)
  std::chrono::milliseconds body_idle_{0};
  bool head_request_ = false;
  bool paused_ = false;
  bool request_ended_ = false;
  bool no_body_ = false;  // END_STREAM came on the request's HEADERS
  bool end_pending_ = false;
  bool stream_done_ = false;
  bool responded_ = false;
  bool finishing_ = false;  // the Stream's last call is under way (it calls onStreamDone)
  bool closed_ = false;
  bool tunnel_ = false;  // requestBodyIsTunnel: no body timer (StreamTunnel's idle limit rules)
};

// ---- Construction ---------------------------------------------------------------------------

Http2Connection::Http2Connection(Worker& worker, std::unique_ptr<core::Transport> transport,
                                 const sockaddr* peer, const WorkerListener& listener, bool tls)
    : worker_(worker),
      listener_stats_(worker.listenerRuntime(listener.spec->name)),
      transport_(std::move(transport)),
      idle_timer_(worker.loop(), [this] { onIdleTimer(); }),
      head_timer_(worker.loop(), [this] { onHeadTimer(); }),
      write_timer_(worker.loop(), [this] { onWriteTimer(); }),
      goaway_timer_(worker.loop(),
                    [this] {
                      session_->submitFinalGoaway();
                      afterIo();
                    }),
      linger_(worker.loop(), [this] { closeNow(); }) {
  const auto& snapshot = *worker.snapshot();
  info_ = makeDownstreamInfo(snapshot, peer, listener, tls);
  info_.listener_stats = listener_stats_.get();
  info_.http_major = 2;
  ++listener_stats_->active;
  transport_->setHandler(static_cast<core::Transport::Handler*>(this));
  transport_->setHighWatermark(snapshot.config->limits.buffer_high_watermark);
  auto session = http2::ServerSession::create(
      http2::SessionLimits::from(snapshot.config->http2,
                                 snapshot.config->limits.buffer_high_watermark),
      *this);
  if (session) session_ = std::move(*session);
}

Http2Connection::~Http2Connection() {
  if (io_scheduled_) worker_.loop().cancelFlush(this);
  cancelStreams(ErrorCode::DownstreamClosed);
  phase_ = Phase::Closed;  // the session's teardown must not reach onStreamClose
  if (session_) {
    const http2::SessionStats& s = session_->stats();
    listener_stats_->h2.merge(Http2Counters{
        s.streams, s.resets_received, s.stream_errors_sent, s.refused_streams, s.goaway_no_error,
        s.goaway_protocol_error, s.goaway_enhance_your_calm, s.goaway_other});
  }
  session_.reset();
  streams_.clear();
  --listener_stats_->active;
}

void Http2Connection::start() {
  if (!session_) {
    // Out of memory in nghttp2: nothing sensible to say in HTTP/2.
    closeNow();
    return;
  }
  idle_since_ = std::chrono::steady_clock::now();
  idle_timer_.arm(worker_.snapshot()->config->timeouts.keepalive_idle);
  readInput();
}

const http2::SessionStats& Http2Connection::stats() const {
  return session_ ? session_->stats() : empty_stats_;
}

// ---- Reading --------------------------------------------------------------------------------

void Http2Connection::onTransportReadable() {
  readInput();
}

void Http2Connection::readInput() {
  evbuffer* in = transport_->input();
  if (phase_ != Phase::Open) {
    evbuffer_drain(in, evbuffer_get_length(in));  // lingering close: discard
    transport_->inputConsumed();
    return;
  }
  if (in_session_) return;  // nested: the running feed picks the bytes up next time
  while (evbuffer_get_length(in) > 0 && session_->wantRead()) {
    evbuffer_iovec chunk{};
    evbuffer_peek(in, -1, nullptr, &chunk, 1);
    in_session_ = true;
    auto fed = session_->feed(static_cast<const uint8_t*>(chunk.iov_base), chunk.iov_len);
    in_session_ = false;
    if (!fed) {
      // Connection error: the codec queued GOAWAY; send it and close.
      evbuffer_drain(in, evbuffer_get_length(in));
      flushSession();
      closeAfterFlush();
      return;
    }
    evbuffer_drain(in, *fed);
    if (phase_ != Phase::Open) return;
    if (*fed < chunk.iov_len) break;
  }
  if (!session_->wantRead()) evbuffer_drain(in, evbuffer_get_length(in));
  transport_->inputConsumed();
  if (session_->sendPending() || io_scheduled_) {
    scheduleIo();
  } else {
    // Nothing to send (a request that only opened a stream, at one stream per connection every
    // read): re-time and check for the end now instead of a flush pass that would send nothing.
    // Whatever this pass produces later schedules its own.
    settle();
  }
}

void Http2Connection::scheduleIo() {
  if (io_scheduled_ || phase_ != Phase::Open) return;
  if (!worker_.loop().inCallback()) {
    if (in_session_) {
      flush_owed_ = true;  // readInput runs afterIo once feed() returns
    } else {
      afterIo();
    }
    return;
  }
  io_scheduled_ = true;
  worker_.loop().scheduleFlush(this);
}

void Http2Connection::flush() {
  io_scheduled_ = false;
  afterIo();
}

// After every batch of events: push frames out, re-time, and close once the session is over.
void Http2Connection::afterIo() {
  if (phase_ != Phase::Open) return;
  flushSession();
  settle();
}

void Http2Connection::settle() {
  if (phase_ != Phase::Open) return;
  if (!finished_open_.empty()) armFinishedTimers();
  updateTimers();
  if (!session_->wantRead() && !session_->wantWrite()) {
    closeAfterFlush();
  } else if (read_eof_ && streams_.empty()) {
    closeAfterFlush();
  }
}

void Http2Connection::updateTimers() {
  if (session_->headerBlockInProgress()) {
    if (!head_timer_.armed()) head_timer_.arm(worker_.snapshot()->config->timeouts.request_head);
  } else {
    head_timer_.cancel();
  }
  // The idle timer stays armed; onIdleTimer decides from idle_since_.
  if (!streams_.empty()) {
    idle_since_.reset();
  } else if (!idle_since_) {
    idle_since_ = std::chrono::steady_clock::now();
  }
}

void Http2Connection::armFinishedTimers() {
  // Swapped with a second list, not a fresh vector: both keep their capacity, so the next
  // watchFinished allocates nothing (one allocation per request at one stream per connection).
  finished_taken_.swap(finished_open_);
  for (const int32_t id : finished_taken_) {
    if (StreamSink* sink = find(id)) sink->armFinishedTimer();
  }
  finished_taken_.clear();
}

// ---- Writing --------------------------------------------------------------------------------

void Http2Connection::write(const uint8_t* data, size_t len) {
  transport_->write(data, len);
}

// Everything this pass produced, already one batch: sent now, without a trip through the
// output buffer and the transport's own flush (at one stream per connection, every response).
void Http2Connection::writeAlone(const uint8_t* data, size_t len) {
  transport_->writeNow(data, len);
}

bool Http2Connection::full() const {
  return transport_->pendingOutput() > transport_->highWatermark();
}

void Http2Connection::flushSession() {
  if (!session_ || phase_ == Phase::Closed) return;
  if (in_session_) {
    flush_owed_ = true;  // nghttp2 must not send from inside its own callbacks
    return;
  }
  in_session_ = true;
  do {
    flush_owed_ = false;
    session_->sendTo(*this);  // may fire onStreamWritable, which may owe another flush
  } while (flush_owed_ && !full());
  in_session_ = false;
  if (full() && !output_blocked_) {
    // The client is not reading: read nothing more from it either (whatever it sends would
    // only queue more frames toward it), until the output drains or body_idle passes.
    output_blocked_ = true;
    transport_->pauseReading();
    write_timer_.arm(worker_.snapshot()->config->timeouts.body_idle);
  }
}

void Http2Connection::onTransportDrained() {
  if (phase_ == Phase::Closing) {
    if (transport_->pendingOutput() == 0) linger_.flushed(*transport_, read_eof_);
    return;
  }
  if (phase_ != Phase::Open) return;
  if (output_blocked_) {
    output_blocked_ = false;
    write_timer_.cancel();
    transport_->resumeReading();
    readInput();  // bytes that waited in the input buffer
    return;
  }
  afterIo();
}

// The client has read nothing for body_idle while frames wait: it is gone as far as we care.
void Http2Connection::onWriteTimer() {
  if (!output_blocked_) return;
  cancelStreams(ErrorCode::DownstreamWriteTimeout);
  closeNow();
}

// ---- Codec callbacks ------------------------------------------------------------------------

void Http2Connection::onRequestHead(int32_t id, http1::RequestHead&& head, bool end_stream) {
  if (worker_.overloaded()) {
    worker_.noteShedRequest();
    noteRejected(ErrorCode::Overloaded);
    sendLocalReply(id, ErrorCode::Overloaded, {}, {}, head.method == "HEAD");
    return;
  }
  auto sink = std::make_unique<StreamSink>(*this, id);
  StreamSink* raw = sink.get();
  streams_[id] = std::move(sink);
  raw->start(std::move(head), end_stream);
}

void Http2Connection::onRequestRejected(int32_t id, ErrorCode code, bool head_request) {
  noteRejected(code);
  sendLocalReply(id, code, {}, {}, head_request);
}

void Http2Connection::onRequestData(int32_t id, const uint8_t* data, size_t len) {
  if (StreamSink* sink = find(id)) {
    sink->onData(data, len);
  } else {
    session_->consume(id, len);
  }
}

// Kept by the Stream until the body ends: forwarded to an HTTP/2 upstream (gRPC), or in the
// chunked trailer section to an HTTP/1.1 one (dropped when the request has a content-length).
void Http2Connection::onRequestTrailers(int32_t id, http1::HeaderList&& trailers) {
  if (StreamSink* sink = find(id)) {
    if (Stream* stream = sink->stream()) stream->onRequestTrailers(std::move(trailers));
  }
}

void Http2Connection::onRequestEnd(int32_t id) {
  if (StreamSink* sink = find(id)) sink->onEnd();
}

void Http2Connection::onStreamClose(int32_t id, H2Error error, bool reset_by_client) {
  if (phase_ == Phase::Closed) return;  // never fed after closeNow(): only from teardown
  auto it = streams_.find(id);
  if (it == streams_.end()) return;
  std::unique_ptr<StreamSink> sink = std::move(it->second);
  streams_.erase(it);
  // A client cancel releases the upstream request at once (rapid reset costs the backend
  // nothing more than the connect already under way).
  const ErrorCode why = reset_by_client             ? ErrorCode::Http2StreamCancelled
                        : error != H2Error::NoError ? ErrorCode::Http2StreamError
                                                    : ErrorCode::DownstreamClosed;
  sink->onClosed(why);
  worker_.loop().deferDelete(std::move(sink));
}

void Http2Connection::onStreamWritable(int32_t id) {
  if (StreamSink* sink = find(id)) sink->onWritable();
}

// ---- Local replies ----------------------------------------------------------------------------

// The HTTP/1 table's status and body, as HTTP/2 fields: never Connection: close (a GOAWAY is
// how HTTP/2 ends a connection).
void Http2Connection::sendLocalReply(int32_t id, ErrorCode code, std::string_view request_id,
                                     const http1::HeaderList& extra, bool head_request) {
  const LocalReply& reply = localReplyFor(code);
  http1::HeaderList fields;
  fields.reserve(extra.size() + 3);
  fields.push_back({"content-type", "text/plain; charset=utf-8"});
  if (reply.status == 405)
    fields.push_back({"allow", "GET, HEAD, POST, PUT, DELETE, OPTIONS, PATCH"});
  for (const http1::HeaderField& f : extra) fields.push_back(f);  // the codec drops CR/LF/NUL
  if (!request_id.empty() && isAcceptableRequestId(request_id)) {
    fields.push_back({"x-request-id", std::string(request_id)});
  }
  const bool body = !head_request && !reply.body.empty();
  if (!session_->submitResponse(id, reply.status, fields, reply.body.size(), !body)) return;
  if (body) {
    session_->appendBody(id, reply.body.data(), reply.body.size());
    session_->endBody(id);
  }
  scheduleIo();
}

// A request refused without a Stream: counted on the listener and kept for `show errors`.
void Http2Connection::noteRejected(ErrorCode code) {
  const uint16_t status = localReplyFor(code).status;
  listener_stats_->traffic.record(status, 0, 0, std::chrono::microseconds(0));
  worker_.noteRejected(RejectedEntry{core::unixNowMs(), listener_stats_->name, info_.client_ip,
                                     status, std::string(core::errorCodeName(code)),
                                     "(HTTP/2 stream)"});
}

Http2Connection::StreamSink* Http2Connection::find(int32_t id) const {
  auto it = streams_.find(id);
  return it == streams_.end() ? nullptr : it->second.get();
}

// ---- Worker controls --------------------------------------------------------------------------

void Http2Connection::drain() {
  if (phase_ != Phase::Open || draining_) return;
  draining_ = true;
  if (streams_.empty()) {
    session_->submitFinalGoaway();  // idle: nothing can be in flight that we would lose
  } else {
    session_->submitShutdownNotice();
    goaway_timer_.arm(kGoawayGrace);
  }
  afterIo();
}

void Http2Connection::forceClose() {
  closeNow();
}

void Http2Connection::cutStreamOn(const std::unordered_set<const HostRuntime*>& hosts) {
  std::vector<Stream*> cut;
  for (const auto& [id, sink] : streams_) {
    Stream* stream = sink->stream();
    if (stream != nullptr && stream->runsOn(hosts)) cut.push_back(stream);
  }
  for (Stream* stream : cut) stream->cutForDrain();
  afterIo();
}

void Http2Connection::setOverloaded(bool on) {
  if (phase_ != Phase::Open) return;
  session_->setOverloaded(on);
  if (on && streams_.empty()) {
    worker_.noteIdleClosedOnOverload();
    goAway(H2Error::NoError);  // an idle connection is what the process is short of
    return;
  }
  afterIo();
}

// ---- Timers and closing -----------------------------------------------------------------------

void Http2Connection::onIdleTimer() {
  if (phase_ != Phase::Open) return;
  const auto keepalive = worker_.snapshot()->config->timeouts.keepalive_idle;
  if (!streams_.empty() || !idle_since_) {
    idle_timer_.arm(keepalive);  // busy: the next idle period starts later than now
    return;
  }
  const auto idle = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - *idle_since_);
  if (idle < keepalive) {
    idle_timer_.arm(keepalive - idle);
    return;
  }
  goAway(H2Error::NoError);
}

// A header block left incomplete (CONTINUATION slowloris) for request_head.
void Http2Connection::onHeadTimer() {
  if (phase_ != Phase::Open || !session_->headerBlockInProgress()) return;
  goAway(H2Error::EnhanceYourCalm);
}

void Http2Connection::goAway(H2Error error) {
  session_->terminate(error);
  flushSession();
  closeAfterFlush();
}

void Http2Connection::onTransportClosed(bool error, int) {
  if (error || phase_ != Phase::Open) {
    if (phase_ == Phase::Closing && !error) {
      read_eof_ = true;
      if (transport_->pendingOutput() == 0) closeNow();
      return;
    }
    closeNow();
    return;
  }
  // The client half-closed: it sends nothing more, but the responses it waits for still go out.
  read_eof_ = true;
  readInput();
}

void Http2Connection::cancelStreams(ErrorCode why) {
  for (auto& [id, sink] : streams_) sink->onClosed(why);
}

void Http2Connection::closeAfterFlush() {
  if (phase_ != Phase::Open) return;
  phase_ = Phase::Closing;
  idle_timer_.cancel();
  head_timer_.cancel();
  write_timer_.cancel();
  goaway_timer_.cancel();
  cancelStreams(ErrorCode::DownstreamClosed);
  // A client that never reads what is queued gets body_idle to do so; the GOAWAY in flight
  // must not be destroyed by a RST.
  linger_.begin(*transport_, worker_.snapshot()->config->timeouts.body_idle, read_eof_);
}

void Http2Connection::closeNow() {
  if (phase_ == Phase::Closed) return;
  phase_ = Phase::Closed;
  idle_timer_.cancel();
  head_timer_.cancel();
  write_timer_.cancel();
  goaway_timer_.cancel();
  linger_.cancel();
  cancelStreams(ErrorCode::DownstreamClosed);
  transport_->stop();
  worker_.onConnectionClosed(this);
}

}  // namespace baton::proxy
