// One request/response exchange, run through the phases of design.md in order:
//   validate target -> route -> pick host -> connect (retry another host on connect failure) ->
//   forward head -> stream request body -> stream response back -> log -> release upstream.
//
// The stream is protocol-neutral on the downstream side: it talks to a DownstreamSink (the HTTP/1
// connection today; an HTTP/2 stream later) and receives the request through onRequestHead /
// onRequestBody / onRequestComplete. Upstream it speaks HTTP/1.1 through UpstreamConnection, or
// HTTP/2 (clusters with protocol h2c / h2) through an H2UpstreamStream on the worker's
// multiplexed pool (proxy/upstream_h2.h): both report through UpstreamConnection::Handler, and
// the few places that send or pause branch on which one the stream holds. Trailers (gRPC) pass
// both ways between HTTP/2 peers: request trailers from onRequestTrailers, response trailers to
// DownstreamSink::sendResponseEndWithTrailers.
//
// Owned by its downstream connection; lives on one worker thread; holds the snapshot it started
// with until it ends. Never throws: every failure becomes an ErrorCode answered by the local
// reply table (proxy/local_reply.h) or, once the response has started, a truncation.
//
// WebSocket: a GET asking to upgrade to `websocket` only, on a route with websocket = true and a
// sink that supportsUpgrade(), is forwarded with Connection/Upgrade. The client's later bytes
// stay unparsed in its transport (the HTTP/1 codec pauses after every request) until the
// upstream answers. A 101 naming websocket is relayed and the stream then runs a Tunnel between
// the two sockets until either side ends it, the tunnel idle timeout, a host drain cut or the
// connection's close; it stays in flight on its host all that time (drain --wait, host_drain),
// and its access log line (status 101, bytes both ways, duration) is written when it ends. Any
// other answer is an ordinary response and the connection goes on with HTTP.
//
// WebSocket over HTTP/2 (RFC 8441): the codec turns a CONNECT with :protocol websocket into the
// HTTP/1.1 handshake's GET (RequestHead::extended_connect). The upstream's 101 goes to the
// client as a 200, and a StreamTunnel then carries the bytes between the upstream socket and
// this stream's DATA frames (flow control both ways, END_STREAM as half-close, a reset as a cut).
#pragma once

#include <sys/socket.h>

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <unordered_set>

#include "proxy/core/error.h"
#include "proxy/core/event_loop.h"
#include "proxy/core/transport.h"
#include "proxy/held_snapshot.h"
#include "proxy/http1/message.h"
#include "proxy/pinned_request.h"
#include "proxy/snapshot.h"
#include "proxy/tunnel.h"
#include "proxy/upstream_connection.h"
#include "proxy/upstream_h2.h"
#include "proxy/worker_stats.h"
#include "routing/request_target.h"
#include "upstream/load_balancer.h"

namespace baton::proxy {

class Worker;
class StreamTunnel;

// Facts about the downstream connection the stream needs for forwarding and logging.
struct DownstreamInfo {
  std::string client_ip;
  sockaddr_storage peer{};  // the direct peer (allowed_sources, source hash); never X-F-F
  bool peer_trusted = false;
  uint16_t listener_port = 0;
  conf::RawByteMode raw_bytes = conf::RawByteMode::Forward;
  conf::RouteBy route_by = conf::RouteBy::Host;
  std::string route_scope;  // "" = shared vhosts
  bool tls = false;         // the downstream connection is TLS
  uint8_t http_major = 1;   // 2: an HTTP/2 stream (access log; the upstream's is the cluster's)
  std::optional<conf::CdnOrigin> cdn_origin;  // the listener's (asset pinning)
  // The listener's counters (held by the connection, which outlives its streams).
  ListenerRuntime* listener_stats = nullptr;
};

// What a stream needs from the downstream protocol. HTTP/1: the connection; HTTP/2: a stream.
class DownstreamSink {
 public:
  virtual ~DownstreamSink() = default;
  // Response head; `content_length` unset means the length is unknown (sink picks chunked or
  // close-delimited). `no_body` for HEAD/204/304.
  virtual void sendResponseHead(uint16_t status, std::string_view reason,
                                const http1::HeaderList& headers,
                                std::optional<uint64_t> content_length, bool no_body) = 0;
  virtual void sendInformational(uint16_t status, const http1::HeaderList& headers) = 0;
  virtual void sendResponseBody(const char* data, size_t len) = 0;
  virtual void sendResponseEnd() = 0;
  // The response ends with trailers (an HTTP/2 upstream's, e.g. gRPC's grpc-status). HTTP/2:
  // a trailing HEADERS frame; HTTP/1: the chunked trailer section when the response is
  // chunked, else dropped (the default: they are dropped).
  virtual void sendResponseEndWithTrailers(http1::HeaderList&& trailers) {
    (void)trailers;
    sendResponseEnd();
  }
  // Error (or route-action answer) before the response head: one local reply from the table,
  // plus `extra` fields (Location, WWW-Authenticate).
  virtual void sendLocalReply(core::ErrorCode code, std::string_view request_id,
                              const http1::HeaderList& extra) = 0;
  // Error after the head: the client must see a truncation, never a clean end.
  virtual void abortResponse() = 0;
  // Response bytes buffered toward the client (backpressure on the upstream).
  virtual size_t bufferedResponseBytes() const = 0;
  // The routed request's body limit (0 = none), for early refusal of declared sizes.
  virtual void setRequestBodyLimit(uint64_t limit) = 0;
  // The routed cluster's body_idle for the request body from the client (per-cluster override).
  virtual void setRequestBodyIdle(std::chrono::milliseconds timeout) = 0;
  // Request-body flow control toward the client.
  virtual void pauseRequestBody() = 0;
  virtual void resumeRequestBody() = 0;
  // An HTTP/2 extended CONNECT became a tunnel (StreamTunnel::start): the request body is now
  // tunnel bytes, idle only under the tunnel's own limit, so the sink stops its body timer
  // for good (a WebSocket whose client is quiet while the backend talks is not a slow upload).
  // HTTP/1 never calls it: upgradeToTunnel already stops that sink's timers.
  virtual void requestBodyIsTunnel() {}
  // The stream is finished (response fully queued or aborted); the sink may start the next one.
  // After upgradeToTunnel() it means the tunnel ended: the sink closes its connection.
  virtual void onStreamDone() = 0;

  // WebSocket upgrades (HTTP/1 only; an HTTP/2 stream keeps the defaults: Upgrade is never
  // forwarded from it). Can this sink become a byte tunnel after a 101?
  virtual bool supportsUpgrade() const { return false; }
  struct Upgraded {
    core::Transport* transport = nullptr;  // nullptr: the sink cannot switch (answer 502)
    bool eof = false;                      // the client already half-closed
  };
  // Queues the 101 head (`headers` as given: the stream adds Connection/Upgrade) and hands the
  // connection's transport to the stream's tunnel: the sink parses nothing more, runs no timer
  // of its own and hears no transport event until onStreamDone. Bytes the client sent after
  // the request head are still in the transport's input.
  virtual Upgraded upgradeToTunnel(std::string_view reason, const http1::HeaderList& headers) {
    (void)reason;
    (void)headers;
    return {};
  }
};

class Stream : public core::Deletable, private UpstreamConnection::Handler {
 public:
  Stream(Worker& worker, DownstreamSink& sink, const DownstreamInfo& info);
  ~Stream() override;
  // From core::RecycledBlocks (kMaxStreamBlocks per thread, ~2 MiB): see there.
  static void* operator new(size_t size);
  static void operator delete(void* p, size_t size);

  // Request events from the downstream codec, in order.
  void onRequestHead(http1::RequestHead&& head);
  void onRequestBody(const char* data, size_t len);
  void onRequestComplete();
  // Request trailers (HTTP/2 clients), before onRequestComplete: forwarded to an HTTP/2
  // upstream, dropped toward HTTP/1.1 (its request ends with an empty last chunk).
  void onRequestTrailers(http1::HeaderList&& trailers);
  // The downstream drained its response buffer below the low watermark.
  void onDownstreamDrained();
  // The client went away or timed out: release everything, log, no reply.
  void onDownstreamGone(core::ErrorCode why);
  // The request failed on the downstream side after its head (body idle timeout, framing error
  // mid-body): answered by the table if the response has not started, else a truncation.
  void onRequestFailed(core::Error error);

  // Is the stream's request running on (in flight to) one of `hosts`?
  bool runsOn(const std::unordered_set<const HostRuntime*>& hosts) const;
  // The operator's drain deadline for that host passed: answered 503 (or truncated once the
  // response started), and the stream ends.
  void cutForDrain();

  bool responseStarted() const { return response_started_; }
  bool done() const { return done_; }
  bool requestComplete() const { return request_complete_; }

 private:
  // Phases.
  core::Result<void> routeRequest();
  const routing::Route* matchRoute() const;
  core::Result<void> applyRouteActions();
  void prepareUpstreamSide();
  const upstream::Host* pickHost(const upstream::Cluster& cluster);
  void rewriteResponseHeaders(http1::HeaderList& headers) const;
  void pickAndConnect();
  void onConnectFailure(core::Error error);
  bool sendRequestHead();
  void connectH2(const upstream::Cluster& cluster);
  bool sendRequestHeadH2(const http1::HeaderList& headers);
  void startRequestBody();
  void finishResponse();
  void failStream(core::Error error);
  void abortSink();
  void finish(core::ErrorCode outcome);
  void releaseUpstream(bool reusable);
  void logRequest(core::ErrorCode outcome);
  uint16_t statusFor(core::ErrorCode outcome) const;
  bool routeLogs(core::ErrorCode outcome) const;  // the route's access_log mode lets it through
  void recordStats(core::ErrorCode outcome);
  void armFirstByteTimer();
  void touchBodyIdle();
  bool canRetryOnFreshConnection(const core::Error& error) const;
  void connectFresh();
  void connectTo(const upstream::Host& host);

  // Retries of a request that reached a host (issue 8; conf::RetryPolicySpec): after a reset
  // before any response byte, or a status the policy names, an idempotent request whose body
  // is all in replay_body_ goes to another host, within the cluster's retry budget.
  void prepareRetries(const upstream::Cluster& cluster);
  const upstream::Host* resendTarget();
  bool mayResend() const;
  bool bodyReplayable() const;
  void resendTo(const upstream::Host& host, bool reusable);
  void keepForReplay(const char* data, size_t len);
  void forwardBody(const char* data, size_t len);
  // Circuit breaking: false (the request answered 503 UpstreamOverflow) at a cluster limit.
  bool admit(upstream::LoadSlot& slot, upstream::LoadKind kind, uint32_t limit);
  void overflow(upstream::LoadKind kind);
  void onResponseTimer();

  // Asset pinning (pinned_request.h): the version is chosen when routed; a 404/410 miss of an
  // asset is read to its end (or cut when large) and the request goes to the next version.
  void preparePinning();
  conf::CdnOrigin cdnOrigin() const;
  const routing::pin::ClassifyRules& pinRules() const;
  const upstream::Host* pickPinnedFallback(const upstream::Cluster& cluster);
  void discardForRetry();
  void afterDiscard(bool reusable);
  void retryNextVersion(bool reusable);

  // UpstreamConnection::Handler
  void onUpstreamConnected() override;
  void onUpstreamInformational(http1::ResponseHead&& head) override;
  void onUpstreamHead(http1::ResponseHead&& head) override;
  void onUpstreamBody(const char* data, size_t len) override;
  void onUpstreamTrailers(http1::HeaderList&& trailers) override;
  void onUpstreamComplete() override;
  void onUpstreamError(core::Error error) override;
  void onUpstreamDrained() override;
  void onUpstreamUpgraded() override;

  // WebSocket (HTTP/1 upgrade): decided when routed, tunnel after the upstream's 101.
  bool wantsWebSocket() const;
  void decideTunnelIdle();
  void relayUpgrade(http1::ResponseHead& head);
  void relayUpgradeAsHttp2(http1::ResponseHead& head);
  void startStreamTunnel();
  void onTunnelEnd(Tunnel::End end);
  void endTunnel();

  Worker& worker_;
  DownstreamSink& sink_;
  DownstreamInfo info_;
  HeldSnapshot snapshot_;  // released after every member declared below it
  std::chrono::steady_clock::time_point started_steady_;
  std::chrono::system_clock::time_point started_wall_;

  http1::RequestHead request_;
  routing::ParsedTarget target_;
  std::string forward_target_;
  std::string host_;  // effective host: absolute-form authority or Host header
  std::string request_id_;
  const routing::Route* route_ = nullptr;
  std::shared_ptr<upstream::LoadBalancer> lb_;
  upstream::PickContext pick_context_;
  std::string sticky_value_;         // the request's sticky cookie value ("" = none / off)
  http1::HeaderList reply_headers_;  // extra fields of a route action's local reply
  // [timeouts] with the routed cluster's overrides applied (set once routed).
  std::chrono::milliseconds connect_timeout_{0};
  std::chrono::milliseconds first_byte_timeout_{0};
  std::chrono::milliseconds body_idle_timeout_{0};
  const upstream::Host* host_picked_ = nullptr;
  upstream::TriedHosts tried_;
  std::unique_ptr<UpstreamConnection> upstream_;
  // HTTP/2 clusters: the request's stream on a shared connection (upstream_ stays null).
  std::unique_ptr<H2UpstreamStream> h2_;
  http1::HeaderList request_trailers_;
  http1::HeaderList response_trailers_;
  bool counted_on_host_ = false;
  // Counters this stream records into at its end (see worker_stats.h).
  StatsRef<RouteRuntime> route_stats_;
  StatsRef<ClusterRuntime> cluster_stats_;
  StatsRef<HostRuntime> host_stats_;
  bool in_flight_on_host_ = false;  // counted in host_stats_->in_flight

  core::LazyTimer connect_timer_;     // made on first arm: a pooled connection never arms it
  core::SharedTimer response_timer_;  // first byte, then body idle (one per request: shared)

  uint64_t bytes_in_ = 0;   // request body bytes received
  uint64_t bytes_out_ = 0;  // response body bytes sent
  uint16_t status_ = 0;
  bool head_request_ = false;
  bool head_sent_ = false;
  bool request_complete_ = false;
  bool request_body_done_upstream_ = false;
  bool response_started_ = false;
  bool response_first_byte_ = false;
  bool upstream_paused_ = false;
  bool downstream_paused_ = false;
  bool retried_fresh_ = false;
  size_t buffered_at_check_ = 0;  // response bytes queued to the client at the last timer check
  bool done_ = false;
  bool aborting_ = false;  // abortSink() is running: the sink's onDownstreamGone is ours
  // A WebSocket upgrade forwarded as such (route allows it, sink can tunnel); after the 101 the
  // tunnel splices the client's transport (the sink's) with the upstream socket we then own.
  bool websocket_ = false;
  std::chrono::milliseconds tunnel_idle_{0};
  DownstreamSink::Upgraded downstream_tunnel_;
  std::unique_ptr<core::Transport> upstream_tunnel_;
  std::unique_ptr<Tunnel> tunnel_;
  // HTTP/2 WebSocket (RFC 8441): the upstream socket bridged to this stream's sink.
  std::unique_ptr<StreamTunnel> stream_tunnel_;
  bool tunnel_counted_ = false;  // its bytes are in bytes_in_ / bytes_out_
  core::ErrorCode last_connect_error_ = core::ErrorCode::UpstreamConnectFailed;
  uint32_t connect_failures_ = 0;  // bounded by the cluster's connect_attempts

  // Retries (see prepareRetries): the routed policy (null: the request is never re-sent), the
  // request body kept while it fits, whether it all did, the re-sends so far, and the host a
  // retried status goes to once its body has been read.
  const conf::RetryPolicySpec* retry_policy_ = nullptr;
  std::string replay_body_;
  bool replay_complete_ = true;  // every body byte received is in replay_body_
  uint32_t resends_ = 0;
  const upstream::Host* resend_host_ = nullptr;
  // Circuit breaking: the request's units of the cluster's max_requests and max_pending.
  upstream::LoadSlot request_slot_;
  upstream::LoadSlot pending_slot_;

  // Asset pinning: the routed cluster's pin state (null: unpinned), and the request's decisions
  // while its group is active.
  const PinGroupState* pin_group_ = nullptr;
  std::optional<PinnedRequest> pin_;
  bool discarding_ = false;  // reading a miss (or a retried status) to its end, then retrying
  size_t discarded_bytes_ = 0;
};

}  // namespace baton::proxy
