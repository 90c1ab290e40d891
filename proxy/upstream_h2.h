// HTTP/2 to backends (clusters with protocol "h2c" or "h2"): a per-worker pool of multiplexed
// connections, each carrying many request streams.
//
//   Stream ──open()──▶ H2Pool ──picks/creates──▶ H2Connection (Transport + http2::ClientSession)
//   Stream ◀──UpstreamConnection::Handler events── H2UpstreamStream (one request, owned by Stream)
//
// - H2Pool (one per worker, inside UpstreamPool) keeps, per host address, the connections it
//   opened. open() attaches the request to a connection with room (the backend's
//   SETTINGS_MAX_CONCURRENT_STREAMS, counting requests still waiting for the connection to
//   come up), or opens another one. A connection that received GOAWAY takes no new stream; its
//   open streams finish and it closes when the last one ends. A connection without streams
//   closes after [timeouts] upstream_idle.
// - H2Connection owns the socket (plain, or TLS with ALPN "h2": a backend that does not pick h2
//   is a connect failure) and the codec. Its death (reset, EOF, protocol error) fails every
//   stream on it; a stream the backend never processed (REFUSED_STREAM, above a GOAWAY's last
//   stream id) or that waited for a connection that failed is reported retryable with nothing
//   sent, so the Stream may retry on another host like the HTTP/1 path does.
// - H2UpstreamStream is what the Stream talks to instead of an UpstreamConnection: the head
//   with sendHead(), the body and its trailers (gRPC), the response through the same
//   UpstreamConnection::Handler events plus onUpstreamTrailers. Its response window reopens
//   only as the Stream takes the bytes and is not paused (pauseReading), so a slow client holds
//   the backend to one stream window; its request queue drives onUpstreamDrained.
//   Destroying it before the exchange ended resets the HTTP/2 stream (CANCEL).
//
// Threading: one worker thread. Events reach handlers from libevent callbacks; a handler may
// destroy its H2UpstreamStream from inside any of them (frames are flushed after the codec
// returns, connections are destroyed through the loop's deferred delete).
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "proxy/core/error.h"
#include "proxy/core/event_loop.h"
#include "proxy/core/string_keyed.h"
#include "proxy/core/transport.h"
#include "proxy/http/http2/client_session.h"
#include "proxy/http1/message.h"
#include "proxy/upstream_connection.h"
#include "upstream/cluster.h"

namespace baton::tls {
class ClientContext;
}

namespace baton::proxy {

class H2Connection;
class H2Pool;

// How to reach a cluster's hosts over HTTP/2.
struct H2Options {
  bool tls = false;  // h2 (TLS + ALPN h2) rather than h2c (prior knowledge)
  bool verify = true;
  std::string ca_file;      // "" = system trust store
  std::string server_name;  // SNI and the name verified; "" = the host's address
  size_t high_watermark = 1024 * 1024;
  std::chrono::milliseconds idle_timeout{60000};
};

// One request on an H2Connection. Owned by the Stream that made it.
class H2UpstreamStream {
 public:
  ~H2UpstreamStream();
  H2UpstreamStream(const H2UpstreamStream&) = delete;
  H2UpstreamStream& operator=(const H2UpstreamStream&) = delete;

  // The connection is up: sendHead() may be called (else wait for onUpstreamConnected).
  bool ready() const;
  // Submits the request head. `headers` as forwarded to HTTP/1 (host → :authority, connection
  // fields dropped, te kept only as "trailers"). `end_stream`: no body follows.
  core::Result<void> sendHead(std::string_view method, std::string_view authority,
                              std::string_view path, const http1::HeaderList& headers,
                              bool head_request, bool end_stream);
  void sendBody(const char* data, size_t len);
  void endBody(http1::HeaderList trailers = {});
  // Request bytes queued on this stream (backpressure toward the client).
  size_t pendingOutput() const;
  // Stop / restart reopening the response window (the client cannot keep up).
  void pauseReading();
  void resumeReading();
  // The response ended cleanly (END_STREAM seen, no reset).
  bool complete() const { return complete_; }

 private:
  friend class H2Connection;
  friend class H2Pool;
  H2UpstreamStream(H2Connection* conn, UpstreamConnection::Handler* handler)
      : conn_(conn), handler_(handler) {}
  // From the connection.
  void onData(const uint8_t* data, size_t len);
  void onLost(core::Error error);

  H2Connection* conn_;  // nullptr once the connection dropped us
  UpstreamConnection::Handler* handler_;
  int32_t id_ = 0;         // 0 = head not submitted yet
  size_t unconsumed_ = 0;  // response bytes delivered while paused (window still closed)
  bool paused_ = false;
  bool complete_ = false;
};

// One HTTP/2 connection to a backend host. Owned by the H2Pool.
class H2Connection : public core::Deletable,
                     private core::Transport::Handler,
                     private http2::ClientCallbacks,
                     private http2::SessionOutput {
 public:
  H2Connection(H2Pool& pool, core::EventLoop& loop, std::string address, const H2Options& options);
  ~H2Connection() override;

  // Starts the connect; false when it failed at once.
  bool start(const upstream::Host& host, const tls::ClientContext* tls);
  const std::string& address() const { return address_; }
  bool ready() const { return ready_; }
  bool dead() const { return dead_; }
  // Room for another stream (waiting ones count): not dead, no GOAWAY, below the limit (the
  // backend's SETTINGS_MAX_CONCURRENT_STREAMS; before its SETTINGS arrive, what a sibling
  // connection to the same host learnt, else 100).
  bool hasRoom() const;
  size_t streamCount() const { return waiting_.size() + streams_.size(); }
  // No new streams; close once the last one ends (drain, host out of service).
  void retire();

 private:
  friend class H2UpstreamStream;
  friend class H2Pool;
  void attach(H2UpstreamStream* stream);
  void detach(H2UpstreamStream* stream);
  core::Result<int32_t> submit(H2UpstreamStream* stream, const http2::ClientSession::Request& r);
  // Sends pending frames now, or after the codec returns when called from inside it.
  void flush();
  void readInput();
  void onReady();
  void fail(core::Error error);
  void maybeClose();
  H2UpstreamStream* find(int32_t id) const;

  // core::Transport::Handler
  void onTransportReadable() override;
  void onTransportDrained() override;
  void onTransportConnected() override;
  void onTransportClosed(bool error, int err) override;
  void onTransportSecured() override;
  // http2::ClientCallbacks
  void onInformational(int32_t id, http1::ResponseHead&& head) override;
  void onResponseHead(int32_t id, http1::ResponseHead&& head, bool end_stream) override;
  void onResponseData(int32_t id, const uint8_t* data, size_t len) override;
  void onResponseTrailers(int32_t id, http1::HeaderList&& trailers) override;
  void onResponseEnd(int32_t id) override;
  void onStreamClose(int32_t id, http2::H2Error error, bool refused) override;
  void onStreamWritable(int32_t id) override;
  void onGoaway(int32_t last_stream_id, http2::H2Error error) override;
  // http2::SessionOutput
  void write(const uint8_t* data, size_t len) override;
  bool full() const override;

  H2Pool& pool_;
  core::EventLoop& loop_;
  std::string address_;
  H2Options options_;
  std::unique_ptr<core::Transport> transport_;
  std::unique_ptr<http2::ClientSession> session_;
  std::vector<H2UpstreamStream*> waiting_;  // attached before the connection was ready
  std::unordered_map<int32_t, H2UpstreamStream*> streams_;
  core::Timer idle_timer_;
  int in_codec_ = 0;  // depth of feed()/sendTo() calls: flushes are owed, not run
  bool flush_owed_ = false;
  bool ready_ = false;
  bool retired_ = false;
  bool dead_ = false;
};

// The worker's HTTP/2 connections, by host address.
class H2Pool {
 public:
  explicit H2Pool(core::EventLoop& loop) : loop_(loop) {}
  ~H2Pool();

  // A request stream to `host`, on a connection with room or a new one; nullptr when a new
  // connection could not even start (a connect failure). The handler hears
  // onUpstreamConnected once the connection is up (at once when ready() already).
  std::unique_ptr<H2UpstreamStream> open(const upstream::Host& host, const H2Options& options,
                                         UpstreamConnection::Handler* handler);
  // Retire everything (worker drain) / the connections to one host (left Active).
  void closeAll();
  void closeIdle(std::string_view address);
  size_t connectionCount() const;
  size_t connectionCount(std::string_view address) const;

 private:
  friend class H2Connection;
  // The connection is finished: destroyed after the current callback.
  void remove(H2Connection* conn);
  // The last SETTINGS_MAX_CONCURRENT_STREAMS a connection to `address` received (0 = none).
  uint32_t knownLimit(std::string_view address) const;
  const tls::ClientContext* tlsContext(const H2Options& options);

  core::EventLoop& loop_;
  core::StringMap<std::vector<std::unique_ptr<H2Connection>>> conns_;
  core::StringMap<uint32_t> known_limits_;
  // Client TLS contexts by (verify, CA file), made on first use on this worker.
  std::map<std::pair<bool, std::string>, std::shared_ptr<const tls::ClientContext>> tls_;
};

}  // namespace baton::proxy
