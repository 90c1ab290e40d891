#include "discovery/http_client.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/dns.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <arpa/inet.h>

#include <cstdlib>
#include <optional>
#include <unordered_set>
#include <vector>

#include "conf/value_syntax.h"

namespace baton::discovery {
namespace {
class Exchange;
}  // namespace

struct HttpClient::Shared {
  ~Shared() {
    if (dns != nullptr) evdns_base_free(dns, 0);
    if (tls != nullptr) SSL_CTX_free(tls);
  }
  evdns_base* dns = nullptr;
  SSL_CTX* tls = nullptr;
  // Exchanges alive: in progress, or detached and waiting for their deferred deletion.
  std::unordered_set<Exchange*> live;
};

namespace {

constexpr size_t kMaxErrorBody = 512;  // bytes of a non-2xx body quoted in the error
constexpr size_t kParserPadding = 64;  // AppsParser::kPadding: simdjson reads past the end

core::Error httpError(const std::string& detail) {
  return core::Error::upstream(core::ErrorCode::UpstreamProtocolError, true, detail);
}

const char* evhttpErrorName(int error) {
  switch (error) {
    case EVREQ_HTTP_TIMEOUT:
      return "timeout";
    case EVREQ_HTTP_EOF:
      return "connection closed";
    case EVREQ_HTTP_INVALID_HEADER:
      return "invalid response head";
    case EVREQ_HTTP_BUFFER_ERROR:
      return "connect or I/O error";
    case EVREQ_HTTP_DATA_TOO_LONG:
      return "response too large";
    default:
      return "request failed";
  }
}

bool isIpLiteral(const std::string& host) {
  return conf::isNumericIp(host);
}

struct ParsedUrl {
  bool https = false;
  std::string host;
  int port = 0;
  std::string target;  // path?query
  std::string host_header;
};

std::optional<ParsedUrl> parseUrl(const std::string& url) {
  evhttp_uri* uri = evhttp_uri_parse(url.c_str());
  if (uri == nullptr) return std::nullopt;
  ParsedUrl out;
  const char* scheme = evhttp_uri_get_scheme(uri);
  const char* host = evhttp_uri_get_host(uri);
  bool ok = scheme != nullptr && host != nullptr && *host != '\0';
  if (ok) {
    const std::string s = scheme;
    out.https = s == "https";
    ok = out.https || s == "http";
    out.host = host;
    // evhttp keeps IPv6 literals without brackets; Host needs them.
    const std::string bracketed =
        out.host.find(':') != std::string::npos ? "[" + out.host + "]" : out.host;
    const int port = evhttp_uri_get_port(uri);
    out.port = port > 0 ? port : (out.https ? 443 : 80);
    out.host_header = port > 0 ? bracketed + ":" + std::to_string(port) : bracketed;
    const char* path = evhttp_uri_get_path(uri);
    const char* query = evhttp_uri_get_query(uri);
    out.target = (path != nullptr && *path != '\0') ? path : "/";
    if (query != nullptr) out.target += std::string("?") + query;
  }
  evhttp_uri_free(uri);
  if (!ok) return std::nullopt;
  return out;
}

// A Location may be absolute or relative to the origin of the URL that answered.
std::string resolveLocation(const std::string& base, const std::string& location) {
  if (location.find("://") != std::string::npos) return location;
  if (location.starts_with("/")) return urlOrigin(base) + location;
  return urlOrigin(base) + "/" + location;
}

// One GET, across at most one redirect. Owns itself: freed when its handle is gone, never
// from inside an evhttp callback (the soon_ timer does it).
class Exchange {
 public:
  Exchange(HttpClient& client, HttpRequest request, HttpClient::Handlers handlers)
      : shared_(client.shared()),
        client_(client),
        request_(std::move(request)),
        handlers_(std::move(handlers)),
        timer_(client.loop(), [this] { onTimeout(); }),
        soon_(client.loop(), [this] { onSoon(); }) {
    body_ = std::move(request_.body_buffer);  // startAt clears it, keeping the capacity
    shared_->live.insert(this);
  }

  ~Exchange() {
    release();
    shared_->live.erase(this);
  }

  bool insideCallback() const { return depth_ > 0; }

  void begin() {
    timer_.arm(request_.timeout);
    startAt(request_.url);
  }

  // The handle went away: no more callbacks; free now, or soon when inside one.
  void detach() {
    detached_ = true;
    if (depth_ > 0) {
      soon_.arm(std::chrono::milliseconds{0});
      return;
    }
    delete this;
  }

 private:
  struct Depth {
    explicit Depth(Exchange& e) : e(e) { ++e.depth_; }
    ~Depth() { --e.depth_; }
    Exchange& e;
  };

  void startAt(const std::string& url) {
    url_ = url;
    status_ = 0;
    location_.clear();
    body_.clear();
    http_error_ = -1;
    auto parsed = parseUrl(url);
    if (!parsed) return failSoon("GET " + url + ": unsupported or malformed URL");
    bufferevent* bev = nullptr;
    if (parsed->https) {
      bev = tlsBufferevent(*parsed);
      if (bev == nullptr) return failSoon("GET " + url + ": cannot set up TLS");
    }
    evcon_ = evhttp_connection_base_bufferevent_new(client_.loop().base(), client_.dns(), bev,
                                                    parsed->host.c_str(),
                                                    static_cast<uint16_t>(parsed->port));
    if (evcon_ == nullptr) return failSoon("GET " + url + ": cannot create a connection");
    req_ = evhttp_request_new(&Exchange::onComplete, this);
    evhttp_request_set_header_cb(req_, &Exchange::onHead);
    evhttp_request_set_chunked_cb(req_, &Exchange::onChunk);
    evhttp_request_set_error_cb(req_, &Exchange::onError);
    evkeyvalq* out = evhttp_request_get_output_headers(req_);
    evhttp_add_header(out, "Host", parsed->host_header.c_str());
    for (const auto& [name, value] : request_.headers)
      evhttp_add_header(out, name.c_str(), value.c_str());
    evhttp_add_header(out, "Connection", "close");
    if (evhttp_make_request(evcon_, req_, EVHTTP_REQ_GET, parsed->target.c_str()) != 0) {
      req_ = nullptr;  // evhttp freed it
      return failSoon("GET " + url + ": cannot send the request");
    }
  }

  bufferevent* tlsBufferevent(const ParsedUrl& url) {
    SSL* ssl = SSL_new(client_.tls());
    if (ssl == nullptr) return nullptr;
    const bool ip = isIpLiteral(url.host);
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
    const bool ok = ip ? X509_VERIFY_PARAM_set1_ip_asc(param, url.host.c_str()) == 1
                       : (SSL_set_tlsext_host_name(ssl, url.host.c_str()) == 1 &&
                          SSL_set1_host(ssl, url.host.c_str()) == 1);
    if (!ok) {
      SSL_free(ssl);
      return nullptr;
    }
    bufferevent* bev =
        bufferevent_openssl_socket_new(client_.loop().base(), -1, ssl, BUFFEREVENT_SSL_CONNECTING,
                                       BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
    if (bev == nullptr) {
      SSL_free(ssl);
      return nullptr;
    }
    // The event stream ends by closing the socket, often without close_notify.
    bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
    return bev;
  }

  void failSoon(std::string detail) {
    pending_error_ = std::move(detail);
    soon_.arm(std::chrono::milliseconds{0});
  }

  // --- evhttp callbacks --------------------------------------------------------------------

  static int onHead(evhttp_request* req, void* arg) {
    auto* self = static_cast<Exchange*>(arg);
    Depth d(*self);
    return self->head(req);
  }
  static void onChunk(evhttp_request* req, void* arg) {
    auto* self = static_cast<Exchange*>(arg);
    Depth d(*self);
    self->chunk(req);
  }
  static void onError(evhttp_request_error error, void* arg) {
    static_cast<Exchange*>(arg)->http_error_ = error;
  }
  static void onComplete(evhttp_request* req, void* arg) {
    auto* self = static_cast<Exchange*>(arg);
    Depth d(*self);
    self->complete(req);
  }

  bool ok2xx() const { return status_ >= 200 && status_ < 300; }

  int head(evhttp_request* req) {
    if (detached_ || done_) return 0;
    status_ = evhttp_request_get_response_code(req);
    if (const char* loc = evhttp_find_header(evhttp_request_get_input_headers(req), "Location"))
      location_ = loc;
    if (request_.stream && ok2xx()) {
      timer_.arm(request_.timeout);
      HttpResponse response{status_, {}, url_};
      if (handlers_.on_open) handlers_.on_open(response);
    }
    return 0;
  }

  void chunk(evhttp_request* req) {
    if (detached_ || done_) return;
    evbuffer* buf = evhttp_request_get_input_buffer(req);
    const size_t len = evbuffer_get_length(buf);
    if (!ok2xx()) {  // keep the start of an error body for the message
      const size_t take = std::min(len, kMaxErrorBody - std::min(kMaxErrorBody, body_.size()));
      const size_t at = body_.size();
      body_.resize(at + take);
      evbuffer_copyout(buf, body_.data() + at, take);
      return;
    }
    if (request_.stream) {
      timer_.arm(request_.timeout);
      const int n = evbuffer_peek(buf, -1, nullptr, nullptr, 0);
      std::vector<evbuffer_iovec> vec(static_cast<size_t>(std::max(n, 0)));
      evbuffer_peek(buf, -1, nullptr, vec.data(), n);
      for (const auto& v : vec) {
        if (detached_ || done_ || !handlers_.on_chunk) break;
        handlers_.on_chunk(std::string_view(static_cast<const char*>(v.iov_base), v.iov_len));
      }
      return;
    }
    if (body_.size() + len > request_.max_body)
      return finish(core::fail(httpError("GET " + url_ + ": body over " +
                                         std::to_string(request_.max_body) + " bytes")));
    if (body_.empty()) reserveContentLength(req);
    const size_t at = body_.size();
    body_.resize(at + len);
    evbuffer_copyout(buf, body_.data() + at, len);
  }

  // One allocation for a body of announced length (plus the JSON parser's padding) instead of
  // doubling through the reads; nothing when the recycled buffer is already large enough.
  void reserveContentLength(evhttp_request* req) {
    const char* length =
        evhttp_find_header(evhttp_request_get_input_headers(req), "Content-Length");
    if (length == nullptr) return;
    char* end = nullptr;
    const unsigned long long n = std::strtoull(length, &end, 10);
    if (end == length || *end != '\0' || n > request_.max_body) return;
    body_.reserve(static_cast<size_t>(n) + kParserPadding);
  }

  void complete(evhttp_request* req) {
    req_ = nullptr;  // evhttp frees it after this callback
    if (detached_ || done_) return;
    if (req == nullptr || status_ == 0) {
      std::string what = http_error_ >= 0 ? evhttpErrorName(http_error_) : "connection failed";
      if (const std::string tls = tlsError(); !tls.empty()) what += " (TLS: " + tls + ")";
      return finish(core::fail(httpError("GET " + url_ + ": " + what)));
    }
    const bool redirect =
        status_ == 301 || status_ == 302 || status_ == 303 || status_ == 307 || status_ == 308;
    if (redirect && !location_.empty()) {
      if (redirects_left_ == 0)
        return finish(core::fail(
            httpError("GET " + url_ + ": a second redirect (to " + location_ + ") refused")));
      --redirects_left_;
      std::string next = resolveLocation(url_, location_);
      // Credentials never follow a downgrade to plain HTTP (python-requests, which marathon-lb
      // uses, strips them; refusing is clearer than a silent 401 later).
      if (url_.starts_with("https://") && !next.starts_with("https://")) {
        return finish(core::fail(httpError("GET " + url_ + ": redirect from https to " + next +
                                           " refused (credentials would go in clear text)")));
      }
      redirect_to_ = std::move(next);
      soon_.arm(std::chrono::milliseconds{0});  // free this connection outside its callback
      return;
    }
    if (!ok2xx()) {
      std::string detail = "GET " + url_ + ": HTTP " + std::to_string(status_);
      if (!body_.empty()) detail += ": " + body_;
      return finish(core::fail(httpError(detail)));
    }
    finish(HttpResponse{status_, std::move(body_), url_});
  }

  // Why the TLS layer gave up (certificate verification, handshake), "" when it did not.
  std::string tlsError() {
    if (evcon_ == nullptr) return {};
    bufferevent* bev = evhttp_connection_get_bufferevent(evcon_);
    if (bev == nullptr || bufferevent_openssl_get_ssl(bev) == nullptr) return {};
    std::string out;
    while (const unsigned long e = bufferevent_get_openssl_error(bev)) {
      if (ERR_GET_LIB(e) == 0) continue;  // libevent also queues bare errno values here
      char text[256];
      ERR_error_string_n(e, text, sizeof text);
      out += (out.empty() ? "" : "; ") + std::string(text);
    }
    const long verify = SSL_get_verify_result(bufferevent_openssl_get_ssl(bev));
    if (verify != X509_V_OK)
      out += (out.empty() ? "" : "; ") + std::string(X509_verify_cert_error_string(verify));
    return out;
  }

  void onTimeout() {
    if (detached_ || done_) return;
    const std::string what = request_.stream && status_ != 0 ? "no byte for " : "no answer within ";
    // A distinct code: the source reconnects a stalled stream at once, without backoff.
    finish(core::fail(core::Error::upstream(
        core::ErrorCode::UpstreamTimeout, true,
        "GET " + url_ + ": " + what + std::to_string(request_.timeout.count()) + " ms")));
  }

  void onSoon() {
    if (detached_) {
      delete this;  // the Timer allows its own destruction from its callback
      return;
    }
    release();
    if (!pending_error_.empty()) {
      std::string detail = std::move(pending_error_);
      pending_error_.clear();
      return finish(core::fail(httpError(detail)));
    }
    if (!redirect_to_.empty()) {
      std::string next = std::move(redirect_to_);
      redirect_to_.clear();
      startAt(next);
    }
  }

  void finish(core::Result<HttpResponse> result) {
    done_ = true;
    timer_.cancel();
    soon_.arm(std::chrono::milliseconds{0});  // release the connection outside evhttp
    Depth d(*this);
    if (handlers_.on_done) handlers_.on_done(std::move(result));
  }

  void release() {
    if (evcon_ != nullptr) evhttp_connection_free(evcon_);  // frees a pending request silently
    evcon_ = nullptr;
    req_ = nullptr;
  }

  // First member, destroyed last: the connection is freed while evdns is still there.
  std::shared_ptr<HttpClient::Shared> shared_;
  HttpClient& client_;  // not used once detached (the client may be gone)
  HttpRequest request_;
  HttpClient::Handlers handlers_;
  core::Timer timer_;  // whole: total deadline; stream: read-idle
  core::Timer soon_;   // work that must not run inside an evhttp callback
  evhttp_connection* evcon_ = nullptr;
  evhttp_request* req_ = nullptr;
  std::string url_, location_, body_, redirect_to_, pending_error_;
  int status_ = 0;
  int http_error_ = -1;
  int redirects_left_ = 1;
  int depth_ = 0;
  bool detached_ = false;
  bool done_ = false;
};

class CallHandle final : public HttpClient::Call {
 public:
  explicit CallHandle(Exchange* exchange) : exchange_(exchange) {}
  ~CallHandle() override { exchange_->detach(); }

 private:
  Exchange* exchange_;
};

}  // namespace

core::Result<std::unique_ptr<HttpClient>> HttpClient::create(core::EventLoop& loop,
                                                             const std::string& ca_file) {
  std::unique_ptr<HttpClient> client(new HttpClient(loop));
  auto shared = std::make_shared<Shared>();
  shared->dns = evdns_base_new(loop.base(), EVDNS_BASE_INITIALIZE_NAMESERVERS);
  if (shared->dns == nullptr) shared->dns = evdns_base_new(loop.base(), 0);
  if (shared->dns == nullptr) return core::fail(core::Error::internal("evdns_base_new failed"));
  shared->tls = SSL_CTX_new(TLS_client_method());
  if (shared->tls == nullptr) return core::fail(core::Error::internal("SSL_CTX_new failed"));
  SSL_CTX_set_verify(shared->tls, SSL_VERIFY_PEER, nullptr);
  SSL_CTX_set_min_proto_version(shared->tls, TLS1_2_VERSION);
  const int loaded = ca_file.empty()
                         ? SSL_CTX_set_default_verify_paths(shared->tls)
                         : SSL_CTX_load_verify_locations(shared->tls, ca_file.c_str(), nullptr);
  if (loaded != 1) {
    ERR_clear_error();
    return core::fail(core::Error::config("marathon ca_file " + ca_file + ": cannot load"));
  }
  client->shared_ = std::move(shared);
  return client;
}

// Every Call handle is gone, so every exchange is detached. Those not inside one of their own
// callbacks go now (their deferred deletion would never run if the loop stops); the others
// finish from their own timer and keep Shared (evdns, TLS context) alive until then.
HttpClient::~HttpClient() {
  if (!shared_) return;  // create() failed half-way
  std::vector<Exchange*> now;
  for (Exchange* exchange : shared_->live)
    if (!exchange->insideCallback()) now.push_back(exchange);
  for (Exchange* exchange : now) delete exchange;
}

evdns_base* HttpClient::dns() const {
  return shared_->dns;
}
ssl_ctx_st* HttpClient::tls() const {
  return shared_->tls;
}

std::unique_ptr<HttpClient::Call> HttpClient::get(HttpRequest request, Handlers handlers) {
  auto* exchange = new Exchange(*this, std::move(request), std::move(handlers));
  exchange->begin();
  return std::make_unique<CallHandle>(exchange);
}

std::string urlOrigin(std::string_view url) {
  const size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return {};
  const size_t path = url.find_first_of("/?#", scheme_end + 3);
  return std::string(url.substr(0, path));
}

}  // namespace baton::discovery
