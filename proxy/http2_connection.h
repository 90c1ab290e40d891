// One accepted HTTP/2 client connection (TLS with ALPN "h2", or plain with the prior-knowledge
// preface): its Transport, the HTTP/2 server codec (http2::ServerSession) and one Stream per
// HTTP/2 stream, each behind a small DownstreamSink adapter (Http2Connection::StreamSink).
//
// Who calls what: ConnectionStart constructs it and calls start(); the worker drives drain,
// forceClose, cutStreamOn and setOverloaded through ClientConnection and destroys it (deferred)
// after Worker::onConnectionClosed. Transport events feed the codec; codec callbacks create,
// feed and end Streams; Streams answer through their sink, which submits to the codec; the
// changes of one event-loop pass are pushed to the transport together (scheduleIo, then
// flushSession() once), which stops while the transport's output is above its high watermark
// (resumed by onTransportDrained), so nothing buffers without bound:
// a stream's response queue pauses its upstream past buffer_high_watermark, a request body is
// held only within the stream window we granted.
//
// Timers: keepalive_idle while no stream is open (then GOAWAY NO_ERROR and close); the request
// head deadline while a header block is incomplete (CONTINUATION slowloris); body_idle per
// stream for the request body (the routed cluster's override once routed); body_idle for a
// blocked write and for the closing flush; a short delay between the two GOAWAYs of a drain.
//
// Threading: worker thread only. Never destroyed from inside its own callbacks; stream sinks
// are deleted through the worker loop's deferred delete.
#pragma once

#include <sys/socket.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "proxy/client_connection.h"
#include "proxy/core/event_loop.h"
#include "proxy/core/recycled_blocks.h"
#include "proxy/core/transport.h"
#include "proxy/http/http2/server_session.h"
#include "proxy/lingering_close.h"
#include "proxy/stream.h"
#include "proxy/worker_stats.h"

namespace baton::proxy {

class Worker;
struct WorkerListener;

class Http2Connection : public ClientConnection,
                        private http2::SessionCallbacks,
                        private http2::SessionOutput,
                        private core::Transport::Handler,
                        private core::Flushable {
 public:
  // Takes over `transport` (TLS with ALPN "h2", or plain after ConnectionStart saw the client
  // preface, whose bytes are still in transport->input()).
  Http2Connection(Worker& worker, std::unique_ptr<core::Transport> transport, const sockaddr* peer,
                  const WorkerListener& listener, bool tls);
  ~Http2Connection() override;
  // Parses what is already in input() and sends our SETTINGS.
  void start();

  // Graceful: GOAWAY shutdown notice, then the final GOAWAY with the last stream id; closes
  // when the streams in flight are done.
  void drain() override;
  void forceClose() override;
  // Streams running on one of `hosts` are cut (503 before the head, else RST_STREAM).
  void cutStreamOn(const std::unordered_set<const HostRuntime*>& hosts) override;
  // Over the buffer budget: new streams are refused (REFUSED_STREAM) and request windows stay
  // shut; an idle connection closes (GOAWAY).
  void setOverloaded(bool on) override;

  // The codec's counters (streams, resets, stream errors, GOAWAYs by reason) for the admin model.
  const http2::SessionStats& stats() const;

 private:
  class StreamSink;
  enum class Phase : uint8_t { Open, Closing, Closed };

  // core::Transport::Handler
  void onTransportReadable() override;
  void onTransportDrained() override;
  void onTransportConnected() override {}
  void onTransportClosed(bool error, int err) override;

  // http2::SessionCallbacks
  void onRequestHead(int32_t stream_id, http1::RequestHead&& head, bool end_stream) override;
  void onRequestRejected(int32_t stream_id, core::ErrorCode code, bool head_request) override;
  void onRequestData(int32_t stream_id, const uint8_t* data, size_t len) override;
  void onRequestTrailers(int32_t stream_id, http1::HeaderList&& trailers) override;
  void onRequestEnd(int32_t stream_id) override;
  void onStreamClose(int32_t stream_id, http2::H2Error error, bool reset_by_client) override;
  void onStreamWritable(int32_t stream_id) override;

  // http2::SessionOutput
  void write(const uint8_t* data, size_t len) override;
  void writeAlone(const uint8_t* data, size_t len) override;
  bool full() const override;

  void readInput();
  // Runs afterIo() once, after every callback of this event-loop pass (core::Flushable): the
  // frames of a whole pass (a response's HEADERS and DATA, the responses of many streams, the
  // WINDOW_UPDATEs of a read) leave in one sendTo. Outside a callback: now.
  void scheduleIo();
  void flush() override;
  void afterIo();
  // afterIo without the send: timers, and closing once the session is over.
  void settle();
  void flushSession();
  void sendLocalReply(int32_t stream_id, core::ErrorCode code, std::string_view request_id,
                      const http1::HeaderList& extra, bool head_request);
  void noteRejected(core::ErrorCode code);
  StreamSink* find(int32_t stream_id) const;
  void updateTimers();
  // Streams whose response was complete when their Stream finished: once the pass's frames are
  // out, those still open (window shut by the client) get body_idle to be read.
  void watchFinished(int32_t stream_id) { finished_open_.push_back(stream_id); }
  void armFinishedTimers();
  void onIdleTimer();
  void onHeadTimer();
  void onWriteTimer();
  void goAway(http2::H2Error error);
  void closeAfterFlush();
  void closeNow();
  void cancelStreams(core::ErrorCode why);

  Worker& worker_;
  StatsRef<ListenerRuntime> listener_stats_;  // before the streams, which record into it
  std::unique_ptr<core::Transport> transport_;
  DownstreamInfo info_;
  std::unique_ptr<http2::ServerSession> session_;
  // Nodes recycled per thread (core::RecyclingAllocator): a node per stream, in bursts.
  std::unordered_map<
      int32_t, std::unique_ptr<StreamSink>, std::hash<int32_t>, std::equal_to<int32_t>,
      core::RecyclingAllocator<std::pair<const int32_t, std::unique_ptr<StreamSink>>>>
      streams_;
  http2::SessionStats empty_stats_;  // stats() before the session exists
  // keepalive_idle with no stream open. Armed once and re-armed when it fires early (a stream
  // ran meanwhile): one event_add per keepalive period, not an add and a delete per request.
  core::Timer idle_timer_;
  std::optional<std::chrono::steady_clock::time_point> idle_since_;  // no stream open since
  core::Timer head_timer_;    // request_head while a header block is incomplete
  core::Timer write_timer_;   // body_idle while the output is blocked
  core::Timer goaway_timer_;  // drain: final GOAWAY after the shutdown notice
  LingeringClose linger_;
  Phase phase_ = Phase::Open;
  std::vector<int32_t> finished_open_;   // see watchFinished
  std::vector<int32_t> finished_taken_;  // armFinishedTimers' copy, kept for its capacity
  bool in_session_ = false;              // inside feed()/sendTo(): flushes are owed, not run
  bool io_scheduled_ = false;            // scheduleIo: afterIo owed at the end of this loop pass
  bool flush_owed_ = false;
  bool output_blocked_ = false;
  bool draining_ = false;
  bool read_eof_ = false;
};

}  // namespace baton::proxy
