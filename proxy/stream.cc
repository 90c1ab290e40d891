#include "proxy/stream.h"

#include <charconv>

#include "proxy/access_log.h"
#include "proxy/basic_auth.h"
#include "proxy/core/clock.h"
#include "proxy/core/log.h"
#include "proxy/core/recycled_blocks.h"
#include "proxy/forwarding.h"
#include "proxy/http1/client_codec.h"
#include "proxy/local_reply.h"
#include "proxy/request_id.h"
#include "proxy/sticky_cookie.h"
#include "proxy/stream_tunnel.h"
#include "proxy/worker.h"
#include "routing/rewrite.h"

namespace baton::proxy {

namespace {

using core::Error;
using core::ErrorCode;

// A discarded miss body larger than this closes its connection instead of being read.
constexpr size_t kMaxDiscardedMissBytes = 64 * 1024;

bool isIdempotent(std::string_view method) {
  return method == "GET" || method == "HEAD" || method == "OPTIONS" || method == "PUT" ||
         method == "DELETE";
}

// The upstream request head is built in field lists and a byte buffer kept per worker thread:
// their strings keep their capacity from one request to the next, so a head costs no allocation
// once the first few have been sent. HeadScratch takes them for one sendRequestHead and gives
// them back on the way out; a nested send (a failure handled inside the first) finds the slot
// empty and starts from fresh ones.
constexpr size_t kMaxKeptFields = 64;
constexpr size_t kMaxKeptBytes = 16 * 1024;
struct ScratchSlot {
  http1::HeaderList fields;    // an HTTP/2 upstream's request fields
  http1::FieldViewList views;  // an HTTP/1 upstream's, written to `bytes` from these
  std::string values;          // the computed values `views` point into
  std::string bytes;
};
thread_local ScratchSlot t_head_scratch;

struct HeadScratch {
  HeadScratch()
      : fields(std::move(t_head_scratch.fields)),
        views(std::move(t_head_scratch.views)),
        values(std::move(t_head_scratch.values)),
        bytes(std::move(t_head_scratch.bytes)) {
    bytes.clear();
  }
  ~HeadScratch() {
    // A rare huge head is not kept for the thread's life.
    if (fields.size() > kMaxKeptFields) fields = {};
    if (views.size() > kMaxKeptFields) views = {};
    if (values.capacity() > kMaxKeptBytes) values = {};
    if (bytes.capacity() > kMaxKeptBytes) bytes = {};
    views.clear();  // they point into this request's fields: none is kept past it
    t_head_scratch.fields = std::move(fields);
    t_head_scratch.views = std::move(views);
    t_head_scratch.values = std::move(values);
    t_head_scratch.bytes = std::move(bytes);
  }
  HeadScratch(const HeadScratch&) = delete;
  HeadScratch& operator=(const HeadScratch&) = delete;
  http1::HeaderList fields;
  http1::FieldViewList views;
  std::string values;
  std::string bytes;
};

// Blocks of sizeof(Stream) kept per worker thread: one per stream of ten HTTP/2 connections
// at 100 streams each.
constexpr size_t kMaxStreamBlocks = 1024;
using StreamBlocks = core::RecycledBlocks<sizeof(Stream), kMaxStreamBlocks>;
}  // namespace

void* Stream::operator new(size_t size) {
  return StreamBlocks::take(size);
}

void Stream::operator delete(void* p, size_t size) {
  StreamBlocks::give(p, size);
}

Stream::Stream(Worker& worker, DownstreamSink& sink, const DownstreamInfo& info)
    : worker_(worker),
      sink_(sink),
      info_(info),
      snapshot_(worker, worker.snapshot()),
      started_steady_(std::chrono::steady_clock::now()),
      started_wall_(std::chrono::system_clock::now()),
      connect_timer_(worker.loop(),
                     [this] {
                       onConnectFailure(Error::upstream(ErrorCode::UpstreamConnectTimeout, true,
                                                        "connect timeout"));
                     }),
      response_timer_(worker.loop(), [this] { onResponseTimer(); }) {
  const conf::TimeoutsSpec& t = snapshot_->config->timeouts;
  connect_timeout_ = t.upstream_connect;
  first_byte_timeout_ = t.upstream_first_byte;
  body_idle_timeout_ = t.body_idle;
}

Stream::~Stream() {
  if (!done_) onDownstreamGone(ErrorCode::DownstreamClosed);
  http1::recycleHeaderList(request_.headers);  // for the next request's fields (message.h)
}

// ---- Phases 4-8: validate, route, pick, connect ----------------------------------------------

void Stream::onRequestHead(http1::RequestHead&& head) {
  request_ = std::move(head);
  head_request_ = request_.method == "HEAD";
  const std::string* client_id = http1::findHeader(request_.headers, "x-request-id");
  request_id_ = (client_id != nullptr && isAcceptableRequestId(*client_id))
                    ? *client_id
                    : worker_.requestIds().next();
  if (auto routed = routeRequest(); !routed) {
    failStream(std::move(routed.error()));
    return;
  }
  const upstream::Cluster& cluster = *snapshot_->clusters[route_->cluster_index];
  if (!admit(request_slot_, upstream::LoadKind::Requests, cluster.limits().max_requests)) return;
  sink_.setRequestBodyLimit(route_->body_limit);
  sink_.setRequestBodyIdle(body_idle_timeout_);
  // Hold the body in the client's socket until an upstream connection can take it.
  sink_.pauseRequestBody();
  pickAndConnect();
}

core::Result<void> Stream::routeRequest() {
  auto target = routing::parseRequestTarget(request_.target, request_.method == "OPTIONS");
  if (!target) return core::fail(std::move(target.error()));
  target_ = std::move(*target);

  const std::string* host_header = http1::findHeader(request_.headers, "host");
  host_ = target_.form == routing::TargetForm::Absolute ? target_.authority
          : host_header != nullptr                      ? *host_header
                                                        : std::string();
  route_ = matchRoute();
  if (route_ == nullptr) return core::fail(Error::downstream(ErrorCode::NoRoute));
  route_stats_ = StatsRef<RouteRuntime>(worker_.routeRuntime(*snapshot_, *route_));
  if (route_->actions->any_request_action) {
    if (auto acted = applyRouteActions(); !acted) return acted;
  }

  if (route_->body_limit != 0 && request_.content_length &&
      *request_.content_length > route_->body_limit) {
    return core::fail(Error::downstream(ErrorCode::BodyTooLarge));
  }
  routing::ForwardOptions options{route_->raw_bytes.value_or(info_.raw_bytes),
                                  route_->merge_slashes};
  auto forward = routing::renderForwardTarget(target_, options);
  if (!forward) return core::fail(std::move(forward.error()));
  forward_target_ = std::move(*forward);
  const routing::RouteActions& actions = *route_->actions;
  if (!actions.strip_prefix.empty() && target_.form != routing::TargetForm::Asterisk &&
      routing::prefixMatches(actions.strip_prefix, target_.route_key)) {
    forward_target_ = routing::stripPathSegments(forward_target_, actions.strip_segments);
  }
  prepareUpstreamSide();
  websocket_ = wantsWebSocket();
  if (request_.extended_connect && !websocket_) {
    // An HTTP/2 WebSocket where the route does not allow one (or an HTTP/2 upstream): there is
    // no plain-GET reading of a CONNECT.
    return core::fail(Error::downstream(ErrorCode::MethodNotAllowed, "websocket not allowed"));
  }
  if (websocket_) decideTunnelIdle();
  return {};
}

// RFC 6455 §4.1: a GET over HTTP/1.1 without a body, asking for `websocket` and nothing else;
// any other Upgrade (h2c!) is stripped and the request goes on as plain HTTP.
bool Stream::wantsWebSocket() const {
  if (request_.extended_connect) {  // HTTP/2 (RFC 8441): tunnelled through the stream itself
    return route_->websocket &&
           snapshot_->clusters[route_->cluster_index]->protocol() == conf::UpstreamProtocol::Http1;
  }
  if (!request_.upgrade || !sink_.supportsUpgrade()) return false;
  if (request_.method != "GET" || request_.version_minor != 1 || request_.hasBody()) return false;
  if (!requestsWebSocket(request_.headers)) return false;
  if (snapshot_->clusters[route_->cluster_index]->protocol() != conf::UpstreamProtocol::Http1) {
    return false;  // HTTP/2 upstreams have no Upgrade (RFC 8441 is not spoken upstream)
  }
  return route_->websocket;
}

// route tunnel_idle, else the cluster's, else [timeouts] tunnel_idle.
void Stream::decideTunnelIdle() {
  const auto& cluster = snapshot_->clusters[route_->cluster_index];
  if (route_->tunnel_idle) {
    tunnel_idle_ = *route_->tunnel_idle;
  } else if (cluster->timeouts().tunnel_idle) {
    tunnel_idle_ = *cluster->timeouts().tunnel_idle;
  } else {
    tunnel_idle_ = snapshot_->config->timeouts.tunnel_idle;
  }
}

// The listener's scope only (never the shared vhosts from a scoped listener); by Host, or by
// X-Marathon-App-Id on an app-id listener (no header: no route).
const routing::Route* Stream::matchRoute() const {
  const routing::RouteTable& routes = *snapshot_->routes;
  const std::optional<uint32_t> scope = routes.findScope(info_.route_scope);
  if (!scope) return nullptr;
  if (info_.route_by == conf::RouteBy::AppIdHeader) {
    const std::string* app_id = http1::findHeader(request_.headers, "x-marathon-app-id");
    if (app_id == nullptr) return nullptr;
    return routes.matchAppId(*scope, *app_id, target_.route_key);
  }
  return routes.match(*scope, host_, target_.route_key);
}

// Route actions that answer instead of forwarding, in marathon-lb's order. A refusal or a
// redirect is a local reply through the one table; its extra fields go in reply_headers_.
core::Result<void> Stream::applyRouteActions() {
  const routing::RouteActions& actions = *route_->actions;
  if (!actions.allowed_sources.empty() &&
      !actions.allowed_sources.contains(reinterpret_cast<const sockaddr*>(&info_.peer))) {
    return core::fail(Error::downstream(ErrorCode::SourceNotAllowed));
  }
  if (actions.basic_auth && !isAuthorized(*actions.basic_auth, request_.headers)) {
    reply_headers_.push_back({"WWW-Authenticate", wwwAuthenticate(actions.basic_auth->realm)});
    return core::fail(Error::downstream(ErrorCode::AuthRequired));
  }
  if (actions.redirect_to_https && !info_.tls) {
    reply_headers_.push_back({"Location", routing::httpsLocation(host_, request_.target)});
    return core::fail(Error::downstream(ErrorCode::Redirect));
  }
  if (!actions.redirect_root_to.empty() && target_.route_key == "/" &&
      target_.form != routing::TargetForm::Asterisk) {
    reply_headers_.push_back({"Location", actions.redirect_root_to});
    return core::fail(Error::downstream(ErrorCode::Redirect));
  }
  return {};
}

// Everything the upstream phases need from the routed cluster: its balancer, its timeouts, the
// pick context, and stickiness (the cookie is read, then removed from what goes upstream).
void Stream::prepareUpstreamSide() {
  const auto& cluster = snapshot_->clusters[route_->cluster_index];
  lb_ = worker_.loadBalancerFor(cluster);
  cluster_stats_ =
      StatsRef<ClusterRuntime>(worker_.clusterRuntime(*snapshot_, route_->cluster_index));
  const conf::TimeoutOverrides& t = cluster->timeouts();
  if (t.upstream_connect) connect_timeout_ = *t.upstream_connect;
  if (t.upstream_first_byte) first_byte_timeout_ = *t.upstream_first_byte;
  if (t.body_idle) body_idle_timeout_ = *t.body_idle;
  const conf::TimeoutOverrides& r = route_->timeouts;
  if (r.upstream_connect) connect_timeout_ = *r.upstream_connect;
  if (r.upstream_first_byte) first_byte_timeout_ = *r.upstream_first_byte;
  if (r.body_idle) body_idle_timeout_ = *r.body_idle;
  prepareRetries(*cluster);
  if (cluster->policy() == conf::LbPolicyKind::SourceHash) {
    pick_context_.client_hash =
        upstream::hashClientAddress(reinterpret_cast<const sockaddr*>(&info_.peer));
  }
  if (!cluster->stickyCookie().empty()) {
    sticky_value_ = findCookie(request_.headers, cluster->stickyCookie());
    removeCookie(request_.headers, cluster->stickyCookie());
  }
  if (cluster->pin() != nullptr) preparePinning();
}

// A group not in cutover (nor its grace) pays this one check: no classification, no map.
void Stream::preparePinning() {
  pin_group_ = snapshot_->pinOf(route_->cluster_index);
  if (pin_group_ == nullptr || !pin_group_->view.active) return;
  pin_.emplace(*pin_group_, *snapshot_->pin_settings, pinRules(), worker_.learnedMap(*pin_group_),
               request_, target_.route_key, target_.query, cdnOrigin());
  pick_context_.version = pin_->version();
}

// The vhost's asset patterns, else [pinning]'s.
const routing::pin::ClassifyRules& Stream::pinRules() const {
  return route_->pin_rules != nullptr ? *route_->pin_rules : snapshot_->pin_settings->rules;
}

// The vhost's setting, else the listener's, else [pinning] cdn_origin.
conf::CdnOrigin Stream::cdnOrigin() const {
  return route_->cdn_origin.value_or(
      info_.cdn_origin.value_or(snapshot_->pin_settings->spec.cdn_origin));
}

// The pinned version has no Active host left to try: its draining hosts still serve its own
// files; then its hosts this instance alone took out (its own health checks, outlier ejection:
// Marathon still lists them, and the version is decided from Marathon's view on every instance,
// issue 10), so a local verdict does not change the version a request gets; a connect failure
// there moves on. Failing all that, any host (availability first: the client gets an answer).
const upstream::Host* Stream::pickPinnedFallback(const upstream::Cluster& cluster) {
  const uint64_t start = std::hash<std::string>{}(request_id_);
  const upstream::Host* host =
      cluster.findDrainingOfVersion(pick_context_.version, tried_.indices(), start);
  if (host != nullptr) return host;
  const auto& hosts = cluster.hosts();
  const auto tried = tried_.indices();
  for (size_t k = 0; k < hosts.size(); ++k) {
    const upstream::Host& h = hosts[(start + k) % hosts.size()];
    if (h.version != pick_context_.version || h.admin_state == upstream::AdminState::Maintenance ||
        std::find(tried.begin(), tried.end(), h.index) != tried.end()) {
      continue;
    }
    return &h;
  }
  pick_context_.version = upstream::Host::kNoVersion;
  return lb_->pick(tried_, pick_context_);
}

// The cookie's host first (only while Active and not yet tried), else the policy.
const upstream::Host* Stream::pickHost(const upstream::Cluster& cluster) {
  if (!sticky_value_.empty()) {
    const upstream::Host* sticky = cluster.findActiveBySticky(sticky_value_);
    if (sticky != nullptr && !tried_.contains(sticky->index) &&
        (pick_context_.version == upstream::Host::kNoVersion ||
         sticky->version == pick_context_.version)) {
      return sticky;
    }
  }
  const upstream::Host* host = lb_->pick(tried_, pick_context_);
  if (host == nullptr && pick_context_.version != upstream::Host::kNoVersion) {
    host = pickPinnedFallback(cluster);
  }
  return host;
}

// Response-side route actions and stickiness, applied to the head sent downstream.
void Stream::rewriteResponseHeaders(http1::HeaderList& headers) const {
  const routing::RouteActions& actions = *route_->actions;
  if (!actions.location_rewrite.empty()) {
    const std::string bare_host = routing::canonicalHost(host_);
    for (http1::HeaderField& h : headers) {
      if (!http1::equalsIgnoreCase(h.name, "location")) continue;
      if (auto rewritten = routing::rewriteLocation(h.value, bare_host, actions.location_rewrite)) {
        h.value = std::move(*rewritten);
      }
    }
  }
  if (actions.hsts) headers.push_back({"Strict-Transport-Security", "max-age=15768000"});
  const auto& cluster = snapshot_->clusters[route_->cluster_index];
  // Never a Set-Cookie on an answer a CDN will cache and hand to everyone (asset pinning).
  const bool to_cdn = pin_ && pin_->cdnTraffic();
  if (!cluster->stickyCookie().empty() && host_picked_ != nullptr && !to_cdn &&
      sticky_value_ != host_picked_->sticky_value) {
    addStickyCookie(headers, cluster->stickyCookie(), host_picked_->sticky_value);
  }
}

void Stream::pickAndConnect() {
  const auto& cluster = snapshot_->clusters[route_->cluster_index];
  const upstream::Host* host =
      connect_failures_ < cluster->connectAttempts() ? pickHost(*cluster) : nullptr;
  if (host == nullptr) {
    ErrorCode code = connect_failures_ == 0 ? ErrorCode::NoHealthyHost : last_connect_error_;
    if (code == ErrorCode::NoHealthyHost && cluster_stats_) ++cluster_stats_->no_host;
    failStream(Error::upstream(code, false, "no upstream host left to try"));
    return;
  }
  if (connect_failures_ > 0 && cluster_stats_) ++cluster_stats_->retries;
  connectTo(*host);
}

void Stream::connectTo(const upstream::Host& host) {
  const auto& cluster = snapshot_->clusters[route_->cluster_index];
  host_picked_ = &host;
  host_stats_ = StatsRef<HostRuntime>(worker_.hostRuntime(*snapshot_, route_->cluster_index, host));
  // In flight from the pick (connecting included): an operator's `wait` must not see zero
  // while a connection to the host is being opened.
  if (host_stats_) {
    ++host_stats_->in_flight;
    in_flight_on_host_ = true;
  }  // kept after a failure so the log names the last host tried
  if (cluster->protocol() != conf::UpstreamProtocol::Http1) {
    connectH2(*cluster);
    return;
  }
  upstream_ = worker_.pool().take(host_picked_->address);
  if (upstream_ != nullptr) {
    upstream_->attach(this);
    onUpstreamConnected();
    return;
  }
  connectFresh();
}

void Stream::connectFresh() {
  const conf::CircuitLimitsSpec& limits = snapshot_->clusters[route_->cluster_index]->limits();
  if (!admit(pending_slot_, upstream::LoadKind::Pending, limits.max_pending)) return;
  upstream::LoadSlot connection;
  if (!admit(connection, upstream::LoadKind::Connections, limits.max_connections)) return;
  upstream_ = UpstreamConnection::connect(worker_.loop(), *host_picked_,
                                          snapshot_->config->limits.buffer_high_watermark, this);
  upstream_->holdSlot(std::move(connection));
  if (upstream_->dead()) {
    onConnectFailure(Error::upstream(ErrorCode::UpstreamConnectFailed, true, "connect failed"));
    return;
  }
  connect_timer_.arm(connect_timeout_);
}

// A stream on a shared HTTP/2 connection to the host: at once when one is up with room, else
// when the (new) connection is, within the connect timeout.
void Stream::connectH2(const upstream::Cluster& cluster) {
  H2Options options;
  options.tls = cluster.protocol() == conf::UpstreamProtocol::H2;
  options.verify = cluster.tlsVerify();
  options.ca_file = cluster.tlsCaFile();
  options.server_name = cluster.tlsServerName();
  options.high_watermark = snapshot_->config->limits.buffer_high_watermark;
  options.idle_timeout = snapshot_->config->timeouts.upstream_idle;
  h2_ = worker_.pool().h2().open(*host_picked_, options, this);
  if (h2_ == nullptr) {
    onConnectFailure(Error::upstream(ErrorCode::UpstreamConnectFailed, true, "connect failed"));
    return;
  }
  if (h2_->ready()) {
    onUpstreamConnected();
    return;
  }
  if (!admit(pending_slot_, upstream::LoadKind::Pending, cluster.limits().max_pending)) return;
  connect_timer_.arm(connect_timeout_);
}

void Stream::onConnectFailure(Error error) {
  connect_timer_.cancel();
  last_connect_error_ = error.code == ErrorCode::UpstreamConnectTimeout
                            ? ErrorCode::UpstreamConnectTimeout
                            : ErrorCode::UpstreamConnectFailed;
  if (host_picked_ != nullptr) tried_.add(host_picked_->index);
  ++connect_failures_;
  if (host_stats_) ++host_stats_->connect_failures;
  worker_.outliers().record(host_stats_, health::OutlierEvent::ConnectFailure);
  releaseUpstream(false);
  pickAndConnect();
}

// ---- Phase 9: forward the head and stream the request body -----------------------------------

void Stream::onUpstreamConnected() {
  connect_timer_.cancel();
  pending_slot_.reset();
  if (!counted_on_host_) {
    lb_->onRequestStart(*host_picked_);
    counted_on_host_ = true;
  }
  if (sendRequestHead()) startRequestBody();
}

// False when the stream went elsewhere (another host) or failed meanwhile.
bool Stream::sendRequestHead() {
  ForwardContext ctx;
  ctx.client_ip = info_.client_ip;
  ctx.proto = info_.tls ? "https" : "http";
  ctx.peer_trusted = info_.peer_trusted;
  ctx.listener_port = info_.listener_port;
  ctx.host = host_;
  ctx.request_id = request_id_;
  ctx.upstream_host = route_->actions->upstream_host;
  ctx.websocket = websocket_;
  HeadScratch scratch;
  if (h2_ != nullptr) {
    http1::HeaderList& headers = scratch.fields;
    buildUpstreamRequestHeaders(request_.headers, ctx, headers);
    if (request_.chunked) {
      headers.push_back({"Transfer-Encoding", "chunked"});
    } else if (request_.content_length) {
      headers.push_back({"Content-Length", std::to_string(*request_.content_length)});
    }
    return sendRequestHeadH2(headers);
  }
  // HTTP/1: the head is written straight from views of the request's fields (no copy of each
  // field into a string first).
  http1::FieldViewList& fields = scratch.views;
  buildUpstreamRequestFields(request_.headers, ctx, fields, scratch.values);
  char length[24];  // outlives `fields`' use below
  if (request_.chunked) {
    fields.push_back({"Transfer-Encoding", "chunked"});
  } else if (request_.content_length) {
    auto [end, ec] = std::to_chars(length, length + sizeof length, *request_.content_length);
    fields.push_back({"Content-Length", std::string_view(length, end)});
  }
  std::string& bytes = scratch.bytes;
  if (auto ok = http1::serializeRequestHead(request_.method, forward_target_, fields, bytes); !ok) {
    failStream(std::move(ok.error()));
    return false;
  }
  upstream_->startRequest(head_request_, snapshot_->config->limits.buffer_high_watermark);
  if (request_.hasBody()) {
    upstream_->send(bytes);  // body bytes may follow in this callback: one flush for all
  } else {
    upstream_->sendWhole(bytes);
  }
  head_sent_ = true;
  return true;
}

// The forwarded fields as for HTTP/1 (the codec turns host into :authority and drops the
// connection-specific ones); `te: trailers` goes through, since gRPC servers require it.
bool Stream::sendRequestHeadH2(const http1::HeaderList& headers) {
  const std::string* te = http1::findHeader(request_.headers, "te");
  http1::HeaderList with_te;
  const http1::HeaderList* fields = &headers;
  if (te != nullptr && te->find("trailers") != std::string::npos) {
    with_te = headers;
    with_te.push_back({"te", "trailers"});
    fields = &with_te;
  }
  const std::string* authority = http1::findHeader(headers, "host");
  auto sent = h2_->sendHead(request_.method, authority != nullptr ? *authority : host_,
                            forward_target_, *fields, head_request_, !request_.hasBody());
  if (!sent) {
    if (sent.error().retryable) {
      onConnectFailure(std::move(sent.error()));
    } else {
      failStream(std::move(sent.error()));
    }
    return false;
  }
  head_sent_ = true;
  return true;
}

void Stream::startRequestBody() {
  if (done_) return;
  if (request_.extended_connect) {
    // The handshake's GET has no body: the client's DATA waits (held by the HTTP/2 stream, its
    // window bounding it) for the tunnel that starts after the upstream's 101.
    armFirstByteTimer();
    return;
  }
  if (request_.expect_continue && request_.hasBody() && !request_complete_) {
    // baton answers the expectation itself (Expect is not forwarded): the client may send now.
    sink_.sendInformational(100, {});
  }
  // A re-send: the body so far goes again (the first attempt starts before any body byte is
  // read, the client's body waiting in its socket until the upstream is connected).
  if (!replay_body_.empty()) forwardBody(replay_body_.data(), replay_body_.size());
  sink_.resumeRequestBody();
  if (request_complete_ && !request_body_done_upstream_) onRequestComplete();
}

void Stream::onRequestBody(const char* data, size_t len) {
  if (done_) return;
  if (stream_tunnel_ != nullptr) {
    stream_tunnel_->fromDownstream(data, len);
    return;
  }
  bytes_in_ += len;
  if (route_->body_limit != 0 && bytes_in_ > route_->body_limit) {
    failStream(Error::downstream(ErrorCode::BodyTooLarge));
    return;
  }
  touchBodyIdle();
  keepForReplay(data, len);
  forwardBody(data, len);
  const size_t pending = h2_ != nullptr ? h2_->pendingOutput() : upstream_->pendingOutput();
  if (pending > snapshot_->config->limits.buffer_high_watermark) {
    downstream_paused_ = true;
    sink_.pauseRequestBody();
    // The upstream must take the body within body_idle, or the request fails (504): an
    // upstream that stops reading must not hold the client forever.
    if (!response_first_byte_) response_timer_.arm(body_idle_timeout_);
  }
}

// Body bytes to the upstream as its framing needs (HTTP/2 DATA, HTTP/1.1 chunks or as is).
void Stream::forwardBody(const char* data, size_t len) {
  if (h2_ != nullptr) {
    h2_->sendBody(data, len);
  } else if (request_.chunked) {
    std::string header;
    http1::appendChunkHeader(len, header);
    upstream_->send(header);
    upstream_->send(data, len);
    upstream_->send("\r\n", 2);
  } else {
    upstream_->send(data, len);
  }
}

void Stream::onUpstreamDrained() {
  if (downstream_paused_ && !done_) {
    downstream_paused_ = false;
    if (!response_first_byte_) response_timer_.cancel();
    sink_.resumeRequestBody();
  }
}

void Stream::onRequestComplete() {
  request_complete_ = true;
  if (stream_tunnel_ != nullptr) {
    stream_tunnel_->downstreamEnded();
    return;
  }
  if (request_.extended_connect) return;  // the tunnel, once started, hears of it
  if (done_ || !head_sent_) return;       // sent once the upstream is connected
  if (h2_ != nullptr) {
    h2_->endBody(http1::HeaderList(request_trailers_));  // a copy: a re-send needs them again
  } else if (request_.chunked && request_trailers_.empty()) {
    upstream_->send(http1::kLastChunk);
  } else if (request_.chunked) {
    // An HTTP/2 client's trailers (gRPC-style) in the HTTP/1.1 trailer section.
    std::string last;
    http1::appendLastChunk(request_trailers_, last);
    upstream_->send(last);
  }
  request_body_done_upstream_ = true;
  if (!response_first_byte_) armFirstByteTimer();
}

void Stream::onRequestTrailers(http1::HeaderList&& trailers) {
  if (done_) return;
  // The fields baton sets on the request are baton's word: a backend that merges trailers into
  // the header section must not get a client's own X-Forwarded-For or X-Request-Id.
  std::erase_if(trailers, [](const http1::HeaderField& f) { return isIdentityField(f.name); });
  request_trailers_ = std::move(trailers);
}

// ---- Phase 10: stream the response back ------------------------------------------------------

void Stream::onUpstreamInformational(http1::ResponseHead&& head) {
  // 100 was already generated by baton; relay other 1xx (e.g. 103) to HTTP/1.1 clients.
  if (head.status != 100 && request_.version_minor == 1)
    sink_.sendInformational(head.status, head.headers);
}

void Stream::onUpstreamHead(http1::ResponseHead&& head) {
  response_first_byte_ = true;
  if (head.status == 101) {
    // Only a WebSocket upgrade we forwarded may be switched; any other 101 (Upgrade was
    // stripped, or it names another protocol) is a protocol violation by the upstream.
    if (!websocket_ || !upgradesToWebSocket(head.headers)) {
      failStream(Error::upstream(ErrorCode::UpstreamProtocolError, false, "unexpected 101"));
      return;
    }
    relayUpgrade(head);
    return;
  }
  if (pin_ && pin_->retryAfter(head.status)) {
    discardForRetry();
    return;
  }
  worker_.outliers().recordStatus(host_stats_, head.status);
  if (retry_policy_ != nullptr && std::binary_search(retry_policy_->statuses.begin(),
                                                     retry_policy_->statuses.end(), head.status)) {
    resend_host_ = resendTarget();
    if (resend_host_ != nullptr) {
      discardForRetry();  // then afterDiscard: the same request to resend_host_
      return;
    }
  }
  status_ = head.status;
  http1::HeaderList headers = std::move(head.headers);  // the head is ours: filtered in place
  filterDownstreamResponseHeaders(headers);
  rewriteResponseHeaders(headers);
  if (pin_) {
    pin_->onResponse(head.status, headers, info_.tls);
  } else if (pin_group_ != nullptr) {
    PinnedRequest::recordCdnFreshness(*pin_group_, *snapshot_->pin_settings, pinRules(), request_,
                                      target_.route_key, cdnOrigin(), head.status, headers);
  }
  std::optional<uint64_t> length = head.content_length;
  if (head.no_body && (head.status == 204 || head.status < 200)) length.reset();
  response_started_ = true;
  sink_.sendResponseHead(head.status, head.reason, headers, length, head.no_body);
  http1::recycleHeaderList(headers);  // sent (copied or serialised): for the next response
  touchBodyIdle();
}

// ---- WebSocket: the 101, then a tunnel ------------------------------------------------------

// Relays the 101; the tunnel starts in onUpstreamUpgraded, once the upstream codec has consumed
// the head (the bytes after it are the first of the tunnel).
void Stream::relayUpgrade(http1::ResponseHead& head) {
  if (request_.extended_connect) {
    relayUpgradeAsHttp2(head);
    return;
  }
  status_ = 101;
  http1::HeaderList headers;
  headers.reserve(head.headers.size() + 2);
  buildDownstreamResponseHeaders(head.headers, headers, /*websocket=*/true);
  rewriteResponseHeaders(headers);
  response_timer_.cancel();
  downstream_tunnel_ = sink_.upgradeToTunnel(head.reason, headers);
  if (downstream_tunnel_.transport == nullptr) {
    status_ = 0;
    failStream(Error::upstream(ErrorCode::UpstreamProtocolError, false, "cannot relay 101"));
    return;
  }
  response_started_ = true;
}

// RFC 8441 §5: the HTTP/2 client gets a 200 (no Upgrade, Connection or Sec-WebSocket-Accept:
// they belong to the HTTP/1.1 handshake baton made for it), then the stream carries the bytes.
void Stream::relayUpgradeAsHttp2(http1::ResponseHead& head) {
  status_ = 200;
  http1::HeaderList headers;
  headers.reserve(head.headers.size() + 2);
  buildDownstreamResponseHeaders(head.headers, headers);
  std::erase_if(headers, [](const http1::HeaderField& h) {
    return http1::equalsIgnoreCase(h.name, "sec-websocket-accept");
  });
  rewriteResponseHeaders(headers);
  response_timer_.cancel();
  response_started_ = true;
  sink_.sendResponseHead(200, "OK", headers, std::nullopt, false);
}

void Stream::startStreamTunnel() {
  UpstreamConnection::Upgraded up = upstream_->takeTransport();
  worker_.loop().deferDelete(std::move(upstream_));  // never pooled: it speaks WebSocket now
  upstream_tunnel_ = std::move(up.transport);
  const Tunnel::Settings settings{tunnel_idle_, snapshot_->config->limits.buffer_high_watermark};
  stream_tunnel_ =
      std::make_unique<StreamTunnel>(worker_.loop(), *upstream_tunnel_, sink_, settings,
                                     [this](Tunnel::End end) { onTunnelEnd(end); });
  stream_tunnel_->start(up.eof, request_complete_);
}

void Stream::onUpstreamUpgraded() {
  if (!done_ && request_.extended_connect && upstream_ != nullptr) {
    startStreamTunnel();
    return;
  }
  if (done_ || downstream_tunnel_.transport == nullptr || upstream_ == nullptr) return;
  UpstreamConnection::Upgraded up = upstream_->takeTransport();
  worker_.loop().deferDelete(std::move(upstream_));  // never pooled: it speaks WebSocket now
  upstream_tunnel_ = std::move(up.transport);
  const Tunnel::Settings settings{tunnel_idle_, snapshot_->config->limits.buffer_high_watermark};
  tunnel_ =
      std::make_unique<Tunnel>(worker_.loop(), *downstream_tunnel_.transport, *upstream_tunnel_,
                               settings, [this](Tunnel::End end) { onTunnelEnd(end); });
  tunnel_->start(downstream_tunnel_.eof, up.eof);
}

void Stream::onTunnelEnd(Tunnel::End end) {
  if (done_) return;
  endTunnel();
  // An HTTP/2 stream that did not end cleanly is reset (a WebSocket cut, not closed).
  if (stream_tunnel_ != nullptr && end != Tunnel::End::Eof) abortSink();
  ErrorCode outcome = ErrorCode::Ok;
  switch (end) {
    case Tunnel::End::Eof:
      break;
    case Tunnel::End::DownstreamReset:
      outcome = ErrorCode::DownstreamClosed;
      break;
    case Tunnel::End::UpstreamReset:
      outcome = ErrorCode::UpstreamReset;
      break;
    case Tunnel::End::IdleTimeout:
      outcome = ErrorCode::TunnelIdleTimeout;
      if (core::logEnabled(core::LogLevel::Info)) {
        const std::string_view backend =
            host_picked_ != nullptr ? std::string_view(host_picked_->address) : "-";
        core::logf(core::LogLevel::Info,
                   "worker %u: websocket tunnel %s -> %.*s: no byte either way for %lld ms (tunnel "
                   "idle timeout): closed",
                   worker_.index(), info_.client_ip.c_str(), static_cast<int>(backend.size()),
                   backend.data(), static_cast<long long>(tunnel_idle_.count()));
      }
      break;
  }
  finish(outcome);
}

// Stops the tunnel (if any) and counts its bytes into the request's, once.
void Stream::endTunnel() {
  if (tunnel_counted_) return;
  if (stream_tunnel_ != nullptr) {
    tunnel_counted_ = true;
    stream_tunnel_->stop();
    bytes_in_ += stream_tunnel_->bytesFromDownstream();
    bytes_out_ += stream_tunnel_->bytesFromUpstream();
    return;
  }
  if (tunnel_ == nullptr) return;
  tunnel_counted_ = true;
  tunnel_->stop();
  bytes_in_ += tunnel_->bytesFromDownstream();
  bytes_out_ += tunnel_->bytesFromUpstream();
}

void Stream::onUpstreamBody(const char* data, size_t len) {
  if (done_) return;
  if (discarding_) {
    discarded_bytes_ += len;
    // A miss's body is a small error page; a large one is not worth reading to keep the
    // connection: close it and go on.
    if (discarded_bytes_ > kMaxDiscardedMissBytes) afterDiscard(false);
    return;
  }
  bytes_out_ += len;
  sink_.sendResponseBody(data, len);
  touchBodyIdle();
  if (!upstream_paused_ &&
      sink_.bufferedResponseBytes() > snapshot_->config->limits.buffer_high_watermark) {
    upstream_paused_ = true;
    if (h2_ != nullptr) {
      h2_->pauseReading();
    } else {
      upstream_->pauseReading();
    }
    // From now on the timer watches the client's reading, not the upstream.
    buffered_at_check_ = sink_.bufferedResponseBytes();
    response_timer_.arm(body_idle_timeout_);
  }
}

void Stream::onDownstreamDrained() {
  if (stream_tunnel_ != nullptr) {
    stream_tunnel_->downstreamDrained();
    return;
  }
  if (upstream_paused_ && (upstream_ != nullptr || h2_ != nullptr) && !done_) {
    upstream_paused_ = false;
    response_timer_.arm(body_idle_timeout_);
    if (h2_ != nullptr) {
      h2_->resumeReading();
    } else {
      upstream_->resumeReading();
    }
  }
}

void Stream::onUpstreamTrailers(http1::HeaderList&& trailers) {
  // A response being discarded (a retried status, a pinning miss) keeps its trailers to itself.
  if (!done_ && !discarding_) response_trailers_ = std::move(trailers);
}

void Stream::onUpstreamComplete() {
  if (done_) return;
  if (discarding_) {
    afterDiscard(true);
    return;
  }
  if (response_trailers_.empty()) {
    sink_.sendResponseEnd();
  } else {
    sink_.sendResponseEndWithTrailers(std::move(response_trailers_));
  }
  finish(ErrorCode::Ok);
}

void Stream::onUpstreamError(Error error) {
  if (done_) return;
  if (discarding_) {
    afterDiscard(false);  // the miss was already answered: the next version still may
    return;
  }
  if (!head_sent_) {
    onConnectFailure(std::move(error));
    return;
  }
  if (h2_ != nullptr) {
    // HTTP/2: a stream the backend never processed (refused, above a GOAWAY's last stream id)
    // goes to another host, as a connect failure, when nothing of the request body was taken
    // from the client yet and no response byte came.
    if (error.retryable && (bytes_in_ == 0 || bodyReplayable()) && !response_first_byte_) {
      head_sent_ = false;
      request_body_done_upstream_ = false;
      response_timer_.cancel();
      sink_.pauseRequestBody();  // the body waits in the client's socket for the next host
      onConnectFailure(std::move(error));
      return;
    }
  } else if (canRetryOnFreshConnection(error)) {
    // A pooled connection the upstream had closed (keep-alive race): nothing of this request
    // reached a handler, so send it again on a new connection to the same host.
    retried_fresh_ = true;
    head_sent_ = false;
    request_body_done_upstream_ = false;
    response_timer_.cancel();
    releaseUpstream(false);
    connectFresh();
    return;
  }
  if (!response_first_byte_) worker_.outliers().record(host_stats_, health::OutlierEvent::Reset);
  if (error.code == ErrorCode::UpstreamReset && !response_first_byte_ && retry_policy_ != nullptr &&
      retry_policy_->on_reset) {
    if (const upstream::Host* next = resendTarget()) {
      resendTo(*next, false);
      return;
    }
  }
  failStream(std::move(error));
}

// ---- Retries of a request that reached a host, circuit breaking -----------------------------

// The route's policy, else the cluster's. Every request counts toward the cluster's retry
// budget; only idempotent requests may ever be re-sent (a WebSocket never is).
void Stream::prepareRetries(const upstream::Cluster& cluster) {
  if (cluster_stats_)
    cluster_stats_->retry_budget.onRequest(started_steady_, cluster.retryBudget());
  const conf::RetryPolicySpec& policy = route_->retry ? *route_->retry : cluster.retryPolicy();
  if (policy.retries == 0 || (!policy.on_reset && policy.statuses.empty())) return;
  if (!isIdempotent(request_.method) || request_.upgrade || request_.extended_connect) return;
  retry_policy_ = &policy;
}

// Nothing of the response was relayed, the whole body is here to send again, and the policy
// has re-sends left.
bool Stream::mayResend() const {
  return retry_policy_ != nullptr && resends_ < retry_policy_->retries && !response_started_ &&
         !websocket_ && request_complete_ && replay_complete_ && host_picked_ != nullptr &&
         bytes_in_ == replay_body_.size();
}

// No body, or all of it received and kept (the stale keep-alive and refused-stream re-sends).
bool Stream::bodyReplayable() const {
  if (!request_.hasBody()) return true;
  return retry_policy_ != nullptr && request_complete_ && replay_complete_ &&
         bytes_in_ == replay_body_.size();
}

// Another host for a re-send (never the one that just failed), if the budget allows one.
const upstream::Host* Stream::resendTarget() {
  if (!mayResend()) return nullptr;
  const upstream::Cluster& cluster = *snapshot_->clusters[route_->cluster_index];
  if (!tried_.contains(host_picked_->index)) tried_.add(host_picked_->index);
  const upstream::Host* next = pickHost(cluster);
  if (next == nullptr || !cluster_stats_) return nullptr;
  if (!cluster_stats_->retry_budget.tryRetry(std::chrono::steady_clock::now(),
                                             cluster.retryBudget())) {
    ++cluster_stats_->resilience.budget_exhausted;
    return nullptr;
  }
  return next;
}

void Stream::resendTo(const upstream::Host& host, bool reusable) {
  ++resends_;
  ++cluster_stats_->resilience.resent;
  response_timer_.cancel();
  releaseUpstream(reusable);
  response_trailers_.clear();  // the abandoned response's
  head_sent_ = false;
  request_body_done_upstream_ = false;
  response_first_byte_ = false;
  retried_fresh_ = false;
  connectTo(host);
}

// Body bytes kept for a re-send while they fit the policy's replay_buffer; past it the request
// can no longer be re-sent and the copy is dropped.
void Stream::keepForReplay(const char* data, size_t len) {
  if (retry_policy_ == nullptr || !replay_complete_) return;
  if (replay_body_.size() + len > retry_policy_->replay_buffer) {
    replay_complete_ = false;
    std::string().swap(replay_body_);
    return;
  }
  replay_body_.append(data, len);
}

// Takes one unit of a cluster limit for this request (or its connection); at the limit the
// request is answered 503 at once: nothing was sent, and waiting would only pile up more.
bool Stream::admit(upstream::LoadSlot& slot, upstream::LoadKind kind, uint32_t limit) {
  if (slot.acquire(snapshot_->clusters[route_->cluster_index]->load(), kind, limit)) return true;
  overflow(kind);
  return false;
}

void Stream::overflow(upstream::LoadKind kind) {
  if (cluster_stats_) ++cluster_stats_->resilience.overflow[static_cast<size_t>(kind)];
  failStream(Error::upstream(ErrorCode::UpstreamOverflow, false,
                             "cluster at " + std::string(upstream::loadLimitName(kind))));
}

// A discarded answer was read (or cut): a retried status goes to the host chosen for it, an
// asset miss to the next version.
void Stream::afterDiscard(bool reusable) {
  if (resend_host_ != nullptr) {
    discarding_ = false;
    const upstream::Host* next = std::exchange(resend_host_, nullptr);
    resendTo(*next, reusable && upstream_ != nullptr && upstream_->reusable());
    return;
  }
  retryNextVersion(reusable);
}

// ---- Asset pinning: a miss goes to the next version ------------------------------------------

// The miss's body (if any) arrives through onUpstreamBody, then onUpstreamComplete.
void Stream::discardForRetry() {
  discarding_ = true;
  discarded_bytes_ = 0;
  touchBodyIdle();
}

// The pinned request moved to its next version: a new host of it, the same request again (GET
// and HEAD only, whose body is empty: nothing to replay).
void Stream::retryNextVersion(bool reusable) {
  discarding_ = false;
  response_timer_.cancel();
  releaseUpstream(reusable && upstream_ != nullptr && upstream_->reusable());
  response_trailers_.clear();  // the abandoned response's
  head_sent_ = false;
  request_body_done_upstream_ = false;
  response_first_byte_ = false;
  retried_fresh_ = false;
  pick_context_.version = pin_->version();
  pickAndConnect();
}

bool Stream::canRetryOnFreshConnection(const Error& error) const {
  // Only the keep-alive race: a connection that had served earlier requests, closed or reset
  // before any byte of this response. A fresh connection failing, or a malformed answer, is a
  // real upstream fault and is never sent twice.
  return error.code == ErrorCode::UpstreamReset && !retried_fresh_ && upstream_ != nullptr &&
         upstream_->reused() && !response_first_byte_ && bodyReplayable() &&
         isIdempotent(request_.method);
}

// ---- Timers --------------------------------------------------------------------------------

void Stream::onResponseTimer() {
  if (upstream_paused_) {
    // Waiting on the client to read: fine while it makes progress.
    const size_t buffered = sink_.bufferedResponseBytes();
    if (buffered < buffered_at_check_) {
      buffered_at_check_ = buffered;
      response_timer_.arm(body_idle_timeout_);
      return;
    }
    failStream(Error::downstream(ErrorCode::DownstreamWriteTimeout, "client stopped reading"));
    return;
  }
  if (!response_first_byte_ && request_complete_) {
    worker_.outliers().record(host_stats_, health::OutlierEvent::Reset);  // hung before a byte
  }
  const char* what = response_first_byte_ ? "upstream body idle"
                     : request_complete_  ? "upstream first byte"
                                          : "upstream stopped reading the request body";
  failStream(Error::upstream(ErrorCode::UpstreamTimeout, false, what));
}

// A SharedTimer (event_loop.h): arming it, and cancelling it when the response is done, only
// links it into and out of the loop's list, with no libevent call per request.
void Stream::armFirstByteTimer() {
  response_timer_.push(first_byte_timeout_);
}

// Per response head and body piece: push() only moves the deadline (no libevent call: the loop's
// timer wakes no later than the first deadline and sleeps again until the real one).
void Stream::touchBodyIdle() {
  if (response_first_byte_ && !upstream_paused_) {
    response_timer_.push(body_idle_timeout_);
  }
}

void Stream::onRequestFailed(Error error) {
  failStream(std::move(error));
}

// ---- Phases 11-12: finish, log, release -----------------------------------------------------

void Stream::failStream(Error error) {
  if (done_) return;
  if (tunnel_ != nullptr) {
    endTunnel();  // the 101 went out: nothing to answer, the connection just closes
  } else if (response_started_) {
    endTunnel();  // an HTTP/2 WebSocket's tunnel (if any) stops; the stream is reset
    abortSink();
  } else {
    status_ = 0;  // set by the sink's local reply; recorded below from the table
    sink_.sendLocalReply(error.code, request_id_, reply_headers_);
  }
  finish(error.code);
}

void Stream::finish(ErrorCode outcome) {
  done_ = true;
  request_slot_.reset();
  connect_timer_.cancel();
  response_timer_.cancel();
  // A request without a body was whole upstream once its head went: over HTTP/2 the client's
  // END reaches the Stream from a later callback (StreamSink::resumeRequestBody), and the
  // response may complete first — the connection is as reusable as if END had come first.
  const bool sent_whole = request_body_done_upstream_ ||
                          (head_sent_ && !request_.hasBody() && !request_.extended_connect);
  const bool clean = outcome == ErrorCode::Ok && sent_whole;
  releaseUpstream(clean && upstream_ != nullptr && upstream_->reusable());
  recordStats(outcome);
  logRequest(outcome);
  sink_.onStreamDone();
}

// The sink closes (HTTP/1) or resets (HTTP/2) on an abort and tells the stream its client is
// gone: the stream is ending on its own error then, which is the one logged and counted.
void Stream::abortSink() {
  aborting_ = true;
  sink_.abortResponse();
}

void Stream::onDownstreamGone(ErrorCode why) {
  if (done_ || aborting_) return;
  done_ = true;
  request_slot_.reset();
  endTunnel();
  connect_timer_.cancel();
  response_timer_.cancel();
  releaseUpstream(false);
  recordStats(why);
  logRequest(why);
}

void Stream::releaseUpstream(bool reusable) {
  pending_slot_.reset();
  if (counted_on_host_) {
    lb_->onRequestEnd(*host_picked_);
    counted_on_host_ = false;
  }
  if (in_flight_on_host_) {
    --host_stats_->in_flight;
    in_flight_on_host_ = false;
  }
  // HTTP/2: the connection stays with the pool; a stream cut before its end is reset.
  h2_.reset();
  if (upstream_ == nullptr) return;
  upstream_->attach(nullptr);
  // A draining worker keeps no idle connections; nor does a host an operator took out (its
  // keep-alive connections close after their current response).
  const bool host_in_service = !host_stats_ || host_stats_->state == upstream::AdminState::Active;
  if (reusable && host_in_service && !worker_.draining()) {
    const auto& cluster = snapshot_->clusters[route_->cluster_index];
    worker_.pool().release(std::move(upstream_), cluster->maxIdleConnections(),
                           snapshot_->config->timeouts.upstream_idle);
  } else {
    worker_.loop().deferDelete(std::move(upstream_));
  }
}

void Stream::logRequest(ErrorCode outcome) {
  const auto& log = snapshot_->access_log;
  if (!log || !log->enabled() || !routeLogs(outcome)) return;
  AccessLogEntry entry{};
  entry.start = started_wall_;
  entry.duration = std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::steady_clock::now() - started_steady_);
  entry.client_ip = info_.client_ip;
  entry.method = request_.method;
  entry.target = forward_target_.empty() ? std::string_view(request_.target)
                                         : std::string_view(forward_target_);
  entry.host = host_;
  entry.request_id = request_id_;
  const std::string* ua = http1::findHeader(request_.headers, "user-agent");
  entry.user_agent = ua != nullptr ? std::string_view(*ua) : std::string_view("-");
  entry.vhost = route_ != nullptr ? std::string_view(route_->vhost_name) : std::string_view("-");
  entry.upstream_host =
      host_picked_ != nullptr ? std::string_view(host_picked_->address) : std::string_view("-");
  entry.error = outcome == ErrorCode::Ok ? std::string_view("-") : core::errorCodeName(outcome);
  const std::string* traceparent = http1::findHeader(request_.headers, "traceparent");
  entry.traceparent = traceparent != nullptr ? std::string_view(*traceparent) : std::string_view();
  entry.status = statusFor(outcome);
  entry.version_major = info_.http_major;
  entry.version_minor = info_.http_major == 2 ? 0 : request_.version_minor;
  if (pin_) {
    entry.pin_version = pin_->versionId();
    entry.pin_reason = pin_->reasonName();
  }
  entry.bytes_in = bytes_in_;
  entry.bytes_out = bytes_out_;
  log->log(worker_.index(), entry);
}

// The route's access_log mode (BATON_{n}_ACCESS_LOG): requests refused before routing are
// always logged.
bool Stream::routeLogs(ErrorCode outcome) const {
  if (route_ == nullptr) return true;
  switch (route_->access_log) {
    case conf::AccessLogMode::All:
      return true;
    case conf::AccessLogMode::Off:
      return false;
    case conf::AccessLogMode::Errors:
      // Not errors: a route action's redirect or auth challenge, a backend's own 4xx, a client
      // that left after its response began. A client that gave up waiting for any response is.
      if (outcome == ErrorCode::Ok || outcome == ErrorCode::Redirect ||
          outcome == ErrorCode::AuthRequired) {
        return statusFor(outcome) >= 500;
      }
      if (outcome == ErrorCode::DownstreamClosed || outcome == ErrorCode::Http2StreamCancelled) {
        return status_ == 0 || status_ >= 500;  // the client left: an error before any answer
      }
      return true;
  }
  return true;
}

uint16_t Stream::statusFor(ErrorCode outcome) const {
  if (status_ != 0) return status_;
  if (outcome == ErrorCode::DownstreamClosed) return 499;
  return localReplyFor(outcome).status;
}

// Counters for the admin model (always, unlike the access log). A client that went away before
// any response is "other"; requests refused before routing go to `show errors`.
void Stream::recordStats(ErrorCode outcome) {
  const uint16_t status = status_ != 0                             ? status_
                          : outcome == ErrorCode::DownstreamClosed ? uint16_t{0}
                                                                   : localReplyFor(outcome).status;
  const auto elapsed = std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::steady_clock::now() - started_steady_);
  if (info_.listener_stats != nullptr) {
    info_.listener_stats->traffic.record(status, bytes_in_, bytes_out_, elapsed);
  }
  if (route_stats_) route_stats_->traffic.record(status, bytes_in_, bytes_out_, elapsed);
  if (cluster_stats_) cluster_stats_->traffic.record(status, bytes_in_, bytes_out_, elapsed);
  if (host_stats_) host_stats_->traffic().record(status, bytes_in_, bytes_out_, elapsed);
  if (route_ == nullptr && (status == 400 || status == 414 || status == 431) &&
      info_.listener_stats != nullptr) {
    worker_.noteRejected(RejectedEntry{core::unixNowMs(), info_.listener_stats->name,
                                       info_.client_ip, status,
                                       std::string(core::errorCodeName(outcome)),
                                       escapeExcerpt(request_.method + " " + request_.target)});
  }
}

bool Stream::runsOn(const std::unordered_set<const HostRuntime*>& hosts) const {
  return !done_ && in_flight_on_host_ && hosts.contains(host_stats_.get());
}

void Stream::cutForDrain() {
  if (done_) return;
  if (host_stats_) ++host_stats_->drain_cut;
  failStream(
      Error::upstream(ErrorCode::UpstreamDrainDeadline, false, "host drain deadline passed"));
}

}  // namespace baton::proxy
