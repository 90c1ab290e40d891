#include "proxy/downstream_connection.h"

#include <arpa/inet.h>
#include <event2/buffer.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstring>

#include "proxy/core/clock.h"
#include "proxy/http1/client_codec.h"
#include "proxy/local_reply.h"
#include "proxy/worker.h"

namespace baton::proxy {
namespace {

using core::ErrorCode;

// How long a draining worker keeps an idle keep-alive connection open for a request its
// client may already have sent (about one RTT plus a client's think time after a response).
constexpr std::chrono::milliseconds kDrainIdleGrace{500};

}  // namespace

DownstreamConnection::DownstreamConnection(Worker& worker,
                                           std::unique_ptr<core::Transport> transport,
                                           const sockaddr* peer, const WorkerListener& listener,
                                           bool tls)
    : worker_(worker),
      listener_stats_(worker.listenerRuntime(listener.spec->name)),
      transport_(std::move(transport)),
      codec_(*this, http1::ServerCodecLimits::from(worker.snapshot()->config->limits)),
      head_timer_(worker.loop(), [this] { onHeadTimer(); }),
      body_timer_(worker.loop(), [this] { onBodyTimer(); }),
      next_timer_(worker.loop(), [this] { requestResume(); }),
      linger_(worker.loop(), [this] { closeNow(); }),
      rate_timer_(worker.loop(), [this] { onRateTimer(); }) {
  const auto& snapshot = *worker.snapshot();
  info_ = makeDownstreamInfo(snapshot, peer, listener, tls);
  info_.listener_stats = listener_stats_.get();
  ++listener_stats_->active;
  transport_->setHandler(static_cast<core::Transport::Handler*>(this));
  head_timer_.arm(snapshot.config->timeouts.request_head);
}

void DownstreamConnection::start() {
  if (evbuffer_get_length(transport_->input()) > 0) readInput();
}

DownstreamConnection::~DownstreamConnection() {
  if (stream_) stream_->onDownstreamGone(ErrorCode::DownstreamClosed);
  stream_.reset();
  --listener_stats_->active;
}

// ---- Reading ---------------------------------------------------------------------------------

void DownstreamConnection::onTransportReadable() {
  readInput();
}

void DownstreamConnection::readInput() {
  if (phase_ == Phase::Closing || phase_ == Phase::Closed) {
    // Lingering close: read and discard until the client closes or the linger timer fires.
    evbuffer_drain(transport_->input(), evbuffer_get_length(transport_->input()));
    transport_->inputConsumed();
    return;
  }
  if (in_read_) return;  // nested call: the loop below picks up the new state
  in_read_ = true;
  evbuffer* in = transport_->input();
  for (;;) {
    // After resume() the codec may owe callbacks for bytes it already holds (the end of a
    // request whose head or last body byte paused it): one feed, even of zero bytes, delivers them.
    bool owed_feed = false;
    if (want_resume_) {
      want_resume_ = false;
      codec_.resume();
      owed_feed = true;
    }
    if (phase_ != Phase::Idle && phase_ != Phase::Request) break;
    if (codec_.paused()) break;
    const size_t available = evbuffer_get_length(in);
    if (available == 0 && !owed_feed) break;
    if (phase_ == Phase::Idle && available > 0 &&
        transport_->pendingOutput() > transport_->highWatermark()) {
      // The client is not reading its responses: parse nothing more (and stop reading) until
      // they drain, or a pipelining client could grow our output without bound.
      output_blocked_ = true;
      transport_->pauseReading();
      break;
    }
    if (phase_ == Phase::Idle && available > 0) {
      // First byte of a new request: the keep-alive idle timer becomes the head deadline.
      phase_ = Phase::Request;
      head_timer_.arm(worker_.snapshot()->config->timeouts.request_head);
    }
    evbuffer_iovec chunk{};
    if (available > 0) evbuffer_peek(in, -1, nullptr, &chunk, 1);
    auto consumed = codec_.feed(static_cast<const char*>(chunk.iov_base), chunk.iov_len);
    if (!consumed) {
      in_read_ = false;
      onCodecError(consumed.error());
      return;
    }
    evbuffer_drain(in, *consumed);
    if (want_resume_) continue;
    if (*consumed < chunk.iov_len || chunk.iov_len == 0) break;
  }
  in_read_ = false;
  if (phase_ == Phase::Idle || phase_ == Phase::Request) transport_->inputConsumed();
  closeIfClientDone();
}

void DownstreamConnection::onCodecError(const core::Error& error) {
  head_timer_.cancel();
  body_timer_.cancel();
  rate_timer_.cancel();
  if (stream_ && !stream_done_) {
    if (stream_->responseStarted()) {
      abortResponse();
      return;
    }
    // Mid-body framing error: the stream answers (400) and ends; the connection then closes.
    stream_->onRequestFailed(error);
    closeAfterFlush();
    return;
  }
  keep_alive_ = false;
  noteRejected(error.code);
  sendLocalReply(error.code, {}, {});
  closeAfterFlush();
}

// A request refused by the codec (no stream): counted on the listener and kept for `show
// errors` with the start of what the client sent.
void DownstreamConnection::noteRejected(ErrorCode code) {
  const uint16_t status = localReplyFor(code).status;
  listener_stats_->traffic.record(status, 0, 0, std::chrono::microseconds(0));
  evbuffer* in = transport_->input();
  char excerpt[128];
  const ev_ssize_t n = evbuffer_copyout(in, excerpt, sizeof(excerpt));
  worker_.noteRejected(
      RejectedEntry{core::unixNowMs(), listener_stats_->name, info_.client_ip, status,
                    std::string(core::errorCodeName(code)),
                    escapeExcerpt(std::string_view(excerpt, n > 0 ? static_cast<size_t>(n) : 0))});
}

void DownstreamConnection::cutStreamOn(const std::unordered_set<const HostRuntime*>& hosts) {
  if (!stream_ || stream_done_ || !stream_->runsOn(hosts)) return;
  keep_alive_ = false;  // the reply (or truncation) ends this connection
  stream_->cutForDrain();
}

// ---- Codec callbacks -------------------------------------------------------------------------

void DownstreamConnection::onRequestHead(http1::RequestHead&& head) {
  head_timer_.cancel();
  transport_->setHighWatermark(worker_.snapshot()->config->limits.buffer_high_watermark);
  request_version_minor_ = head.version_minor;
  head_request_ = head.method == "HEAD";
  request_has_body_ = head.hasBody();
  request_done_ = false;
  stream_done_ = false;
  chunked_out_ = false;
  body_paused_ = false;
  const auto& limits = worker_.snapshot()->config->limits;
  keep_alive_ = head.keep_alive && !draining_ && !worker_.draining() &&
                (limits.requests_per_connection == 0 ||
                 requests_served_ + 1 < limits.requests_per_connection);
  if (worker_.overloaded()) {
    shedRequest();
    return;
  }
  body_idle_ = worker_.snapshot()->config->timeouts.body_idle;
  if (request_has_body_) {
    body_timer_.arm(body_idle_);
    startRateWindow();
  }
  stream_ = std::make_unique<Stream>(worker_, *this, info_);
  stream_->onRequestHead(std::move(head));
}

void DownstreamConnection::onRequestBody(const char* data, size_t len) {
  if (!stream_ || stream_done_) return;  // answered early: discard the rest of the body
  body_timer_.arm(body_idle_);
  window_body_bytes_ += len;
  stream_->onRequestBody(data, len);
}

void DownstreamConnection::onRequestComplete() {
  body_timer_.cancel();
  rate_timer_.cancel();
  request_done_ = true;
  if (stream_ && !stream_done_) stream_->onRequestComplete();
  maybeNextRequest();
}

// ---- Request sequencing ----------------------------------------------------------------------

void DownstreamConnection::onStreamDone() {
  stream_done_ = true;
  if (phase_ == Phase::Tunnel) {
    // The tunnel ended (it flushed what it could): the connection ends with it.
    transport_->setHandler(static_cast<core::Transport::Handler*>(this));
    closeNow();
    return;
  }
  if (!request_done_ && request_has_body_) {
    // Answered before the body arrived: the rest of the body cannot be skipped safely.
    keep_alive_ = false;
  }
  if (!keep_alive_) {
    body_timer_.cancel();
    closeAfterFlush();
    return;
  }
  if (!request_done_) {
    // Answered early (e.g. 503 before any upstream took the request): let the codec reach the
    // end of this body-less request so the next one can start.
    body_paused_ = false;
    requestResume();
    return;
  }
  maybeNextRequest();
}

void DownstreamConnection::maybeNextRequest() {
  if (!stream_done_ || !request_done_ || phase_ != Phase::Request) return;
  worker_.loop().deferDelete(std::move(stream_));
  ++requests_served_;
  phase_ = Phase::Idle;
  head_timer_.arm(worker_.snapshot()->config->timeouts.keepalive_idle);
  if (in_read_) {
    want_resume_ = true;  // the read loop resumes the codec once this callback returns
  } else if (evbuffer_get_length(transport_->input()) > 0) {
    // A pipelined request is waiting; parse it from a fresh callback, not from inside the
    // upstream codec that just completed this response.
    next_timer_.arm(std::chrono::milliseconds(0));
  } else {
    requestResume();  // nothing buffered: resuming cannot start a request from in here
  }
}

void DownstreamConnection::requestResume() {
  want_resume_ = true;
  readInput();  // returns at once when nested: the running read loop resumes the codec
}

// ---- DownstreamSink --------------------------------------------------------------------------

void DownstreamConnection::write(std::string_view bytes) {
  transport_->write(bytes);
}

void DownstreamConnection::sendResponseHead(uint16_t status, std::string_view reason,
                                            const http1::HeaderList& headers,
                                            std::optional<uint64_t> content_length, bool no_body) {
  http1::HeaderList out = headers;
  if (content_length) {
    out.push_back({"Content-Length", std::to_string(*content_length)});
  } else if (!no_body) {
    if (request_version_minor_ >= 1) {
      chunked_out_ = true;
      out.push_back({"Transfer-Encoding", "chunked"});
    } else {
      keep_alive_ = false;  // HTTP/1.0 client, unknown length: the close delimits the body
    }
  }
  if (!keep_alive_) {
    out.push_back({"Connection", "close"});
  } else if (request_version_minor_ == 0) {
    out.push_back({"Connection", "keep-alive"});
  }
  std::string bytes;
  bytes.reserve(256 + out.size() * 32);
  if (auto ok = http1::serializeResponseHead(status, reason, out, bytes); !ok) {
    // Unreachable with a validated upstream head; refuse rather than emit a split header.
    sendLocalReply(ErrorCode::UpstreamProtocolError, {}, {});
    return;
  }
  write(bytes);
}

DownstreamSink::Upgraded DownstreamConnection::upgradeToTunnel(std::string_view reason,
                                                               const http1::HeaderList& headers) {
  if (phase_ != Phase::Request) return {};
  std::string bytes;
  bytes.reserve(256 + headers.size() * 32);
  if (!http1::serializeResponseHead(101, reason.empty() ? "Switching Protocols" : reason, headers,
                                    bytes)) {
    return {};
  }
  write(bytes);
  // From here the tunnel owns the transport's events; none of the HTTP timers apply (the
  // tunnel has its own idle timeout), and the connection never serves another request.
  phase_ = Phase::Tunnel;
  keep_alive_ = false;
  head_timer_.cancel();
  body_timer_.cancel();
  next_timer_.cancel();
  rate_timer_.cancel();
  if (overloaded_) {
    overloaded_ = false;
    transport_->setReadSuspended(false);
  }
  if (output_blocked_) {
    output_blocked_ = false;
    transport_->resumeReading();
  }
  return {transport_.get(), read_eof_};
}

void DownstreamConnection::sendInformational(uint16_t status, const http1::HeaderList& headers) {
  if (request_version_minor_ == 0) return;  // HTTP/1.0 clients do not understand 1xx
  std::string bytes;
  if (http1::serializeResponseHead(status, status == 100 ? "Continue" : "Early Hints", headers,
                                   bytes)) {
    write(bytes);
  }
}

void DownstreamConnection::sendResponseBody(const char* data, size_t len) {
  if (len == 0 || head_request_) return;
  if (chunked_out_) {
    std::string header;
    http1::appendChunkHeader(len, header);
    write(header);
    transport_->write(data, len);
    write("\r\n");
  } else {
    transport_->write(data, len);
  }
}

void DownstreamConnection::sendResponseEnd() {
  if (chunked_out_) write(http1::kLastChunk);
}

// RFC 9112 §7.1.2: trailers only fit a chunked response; otherwise they are dropped.
void DownstreamConnection::sendResponseEndWithTrailers(http1::HeaderList&& trailers) {
  if (!chunked_out_) return;
  std::string bytes;
  http1::appendLastChunk(trailers, bytes);  // CR/LF/NUL never reach the client
  write(bytes);
}

void DownstreamConnection::sendLocalReply(ErrorCode code, std::string_view request_id,
                                          const http1::HeaderList& extra) {
  const LocalReply& reply = localReplyFor(code);
  if (reply.close || (!request_done_ && request_has_body_)) keep_alive_ = false;
  std::string bytes;
  renderLocalReply(reply, request_id, !keep_alive_, head_request_, extra, bytes);
  write(bytes);
}

void DownstreamConnection::abortResponse() {
  // The client must see a truncation: no last chunk, close after what is already queued.
  keep_alive_ = false;
  chunked_out_ = false;
  closeAfterFlush();
}

size_t DownstreamConnection::bufferedResponseBytes() const {
  return transport_->pendingOutput();
}

void DownstreamConnection::setRequestBodyIdle(std::chrono::milliseconds timeout) {
  body_idle_ = timeout;
  if (body_timer_.armed()) body_timer_.arm(body_idle_);
}

void DownstreamConnection::pauseRequestBody() {
  body_paused_ = true;
  body_timer_.cancel();  // the client is not slow; the upstream side is
  rate_timer_.cancel();
  codec_.pause();
}

void DownstreamConnection::resumeRequestBody() {
  if (!body_paused_) return;
  body_paused_ = false;
  if (request_has_body_ && !request_done_) {
    body_timer_.arm(body_idle_);
    if (!overloaded_) startRateWindow();
  }
  requestResume();
}

// ---- Timers, writes, closing -----------------------------------------------------------------

void DownstreamConnection::onHeadTimer() {
  if (phase_ == Phase::Idle) {
    // Keep-alive idle: nothing to answer. Responses still queued (a slow reader) are sent
    // first, within the closing deadline.
    if (transport_->pendingOutput() > 0) {
      closeAfterFlush();
    } else {
      closeNow();
    }
    return;
  }
  if (stream_) return;  // the head completed; the stream owns the timing now
  keep_alive_ = false;
  sendLocalReply(ErrorCode::RequestHeadTimeout, {}, {});
  closeAfterFlush();
}

void DownstreamConnection::onBodyTimer() {
  if (!stream_ || stream_done_ || request_done_) return;
  stream_->onRequestFailed(core::Error::downstream(ErrorCode::RequestBodyTimeout));
}

// ---- Slow and abusive clients ----------------------------------------------------------------

// A fresh window starts with the body and after every pause that was not the client's doing
// (upstream backpressure, process overload), so only time the client had to send counts.
void DownstreamConnection::startRateWindow() {
  const auto& limits = worker_.snapshot()->config->limits;
  if (limits.body_min_rate == 0) return;
  window_body_bytes_ = 0;
  rate_timer_.arm(limits.body_rate_window);
}

// A body trickling in just fast enough to beat body_idle would hold a connection (and an
// upstream one) for as long as the client likes: each window must bring body_min_rate.
void DownstreamConnection::onRateTimer() {
  if (!stream_ || stream_done_ || request_done_ || body_paused_ || overloaded_) return;
  const auto& limits = worker_.snapshot()->config->limits;
  const uint64_t needed =
      limits.body_min_rate * static_cast<uint64_t>(limits.body_rate_window.count()) / 1000;
  if (window_body_bytes_ < needed) {
    stream_->onRequestFailed(core::Error::downstream(
        ErrorCode::RequestBodyTimeout, "request body slower than [limits] body_min_rate"));
    return;
  }
  startRateWindow();
}

// Over the buffer budget: answer 503 without routing, and close (the connection's descriptor
// and buffers are what the process is short of). Called from the codec's head callback.
void DownstreamConnection::shedRequest() {
  keep_alive_ = false;
  worker_.noteShedRequest();
  noteRejected(ErrorCode::Overloaded);
  sendLocalReply(ErrorCode::Overloaded, {}, {});
  codec_.pause();
  closeAfterFlush();
}

void DownstreamConnection::setOverloaded(bool on) {
  // A tunnel's reading is its own (bounded by its watermarks).
  if (phase_ == Phase::Tunnel || phase_ == Phase::Closing || phase_ == Phase::Closed) return;
  if (on && phase_ == Phase::Idle && evbuffer_get_length(transport_->input()) == 0) {
    worker_.noteIdleClosedOnOverload();
    closeAfterFlush();  // idle keep-alive: its (possible) queued response still goes out
    return;
  }
  // A request head is small and bounded by [limits]: keep reading it so it can be shed with a
  // 503 instead of timing out. A body is what stops.
  const bool suspend = on && stream_ && !stream_done_ && !request_done_;
  if (suspend == overloaded_) return;
  overloaded_ = suspend;
  transport_->setReadSuspended(suspend);
  if (suspend) {
    rate_timer_.cancel();
  } else if (!body_paused_) {
    startRateWindow();
  }
}

void DownstreamConnection::onTransportDrained() {
  if (phase_ == Phase::Closing) {
    if (transport_->pendingOutput() == 0) linger_.flushed(*transport_, read_eof_);
    return;
  }
  if (output_blocked_) {
    output_blocked_ = false;
    transport_->resumeReading();
    readInput();
  }
  if (stream_ && !stream_done_) stream_->onDownstreamDrained();
}

void DownstreamConnection::onTransportClosed(bool error, int) {
  if (phase_ == Phase::Closing && !error) {
    // The client half-closed while our reply is still queued: finish sending it; the lingering
    // close then ends at once (read_eof_), its flush deadline bounding the wait.
    read_eof_ = true;
    if (transport_->pendingOutput() == 0) closeNow();
    return;
  }
  if (error || phase_ == Phase::Closing || phase_ == Phase::Closed) {
    closeNow();
    return;
  }
  // Half-close: the client sends nothing more but may still read. Serve every request it has
  // already sent (they may wait in the input buffer behind a paused codec), then close.
  read_eof_ = true;
  readInput();
}

void DownstreamConnection::closeIfClientDone() {
  if (!read_eof_ || phase_ == Phase::Closing || phase_ == Phase::Closed) return;
  if (evbuffer_get_length(transport_->input()) > 0) return;  // requests still buffered
  if (phase_ == Phase::Idle) {
    closeAfterFlush();  // the last response may still be queued
    return;
  }
  if (!stream_) {
    closeNow();  // half a request head and nothing more coming: nobody to answer
    return;
  }
  if (!request_done_ && !codec_.paused()) {
    // The body can never complete: the client is gone as far as this request goes.
    stream_->onDownstreamGone(ErrorCode::DownstreamClosed);
    closeNow();
  }
  // Otherwise the request is complete (or owed by a paused codec): its response goes out first.
}

void DownstreamConnection::closeAfterFlush() {
  if (phase_ == Phase::Closing || phase_ == Phase::Closed) return;
  phase_ = Phase::Closing;
  head_timer_.cancel();
  body_timer_.cancel();
  rate_timer_.cancel();
  next_timer_.cancel();
  if (stream_ && !stream_done_) stream_->onDownstreamGone(ErrorCode::DownstreamClosed);
  // A client that never reads what is queued gets body_idle to do so.
  linger_.begin(*transport_, worker_.snapshot()->config->timeouts.body_idle, read_eof_);
}

void DownstreamConnection::closeNow() {
  if (phase_ == Phase::Closed) return;
  phase_ = Phase::Closed;
  head_timer_.cancel();
  body_timer_.cancel();
  rate_timer_.cancel();
  next_timer_.cancel();
  linger_.cancel();
  if (stream_ && !stream_done_) stream_->onDownstreamGone(ErrorCode::DownstreamClosed);
  transport_->stop();
  worker_.onConnectionClosed(this);
}

void DownstreamConnection::drain() {
  draining_ = true;
  keep_alive_ = false;
  // An idle keep-alive connection is not closed at once: its client may have sent the next
  // request already (on the wire, or about to be: wrk and browsers send it right after the
  // last response), and closing now would lose it with no answer. It gets a short grace to
  // arrive and is then answered with Connection: close; a connection that stays quiet is
  // closed when the grace ends (the HTTP/2 side's GOAWAY grace, for the same reason). A
  // pipelined request already buffered is parsed on next_timer_ and served the same way.
  if (phase_ == Phase::Idle && evbuffer_get_length(transport_->input()) == 0) {
    head_timer_.arm(std::min(kDrainIdleGrace, worker_.snapshot()->config->timeouts.keepalive_idle));
  }
}

void DownstreamConnection::forceClose() {
  closeNow();
}

}  // namespace baton::proxy
