#include "proxy/admin_http.h"

#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <netinet/in.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <string_view>

#include "proxy/admin/commands.h"
#include "proxy/admin/dashboard_page.h"
#include "proxy/admin/render.h"
#include "proxy/core/event_loop.h"
#include "proxy/request_id.h"

namespace baton::proxy {

namespace {

// Small admin requests only: bound what a client can make us buffer or hold open.
constexpr ev_ssize_t kMaxHeadersSize = 8 * 1024;
// A /api/command body is one protocol line (the admin socket takes up to 4 KiB).
constexpr ev_ssize_t kMaxBodySize = 4096;
constexpr int kTimeoutSeconds = 10;

constexpr const char* kTextPlain = "text/plain; charset=utf-8";
constexpr const char* kJson = "application/json";
constexpr const char* kPrometheus = "text/plain; version=0.0.4; charset=utf-8";
constexpr std::string_view kNonceMarker = "__CSP_NONCE__";

void reply(evhttp_request* req, int code, const char* reason, std::string_view body,
           const char* content_type = kTextPlain) {
  evkeyvalq* headers = evhttp_request_get_output_headers(req);
  evhttp_add_header(headers, "Content-Type", content_type);
  if (evhttp_find_header(headers, "Cache-Control") == nullptr) {
    evhttp_add_header(headers, "Cache-Control", "no-cache");
  }
  evhttp_add_header(headers, "X-Content-Type-Options", "nosniff");
  evbuffer* buf = evbuffer_new();
  if (evhttp_request_get_command(req) == EVHTTP_REQ_HEAD) {
    // libevent would send the body of a HEAD reply: send only the length it would have had.
    evhttp_add_header(headers, "Content-Length", std::to_string(body.size()).c_str());
  } else {
    evbuffer_add(buf, body.data(), body.size());
  }
  evhttp_send_reply(req, code, reason, buf);
  evbuffer_free(buf);
}

const char* reasonPhrase(int code) {
  switch (code) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 504:
      return "Gateway Timeout";
    default:
      return "Internal Server Error";
  }
}

void replyResult(evhttp_request* req, const admin::CommandResult& result) {
  const int code = result ? 200 : admin_http::httpStatusForError(result.error().word);
  if (code == 401) {
    evhttp_add_header(evhttp_request_get_output_headers(req), "WWW-Authenticate",
                      "Bearer realm=\"baton admin\"");
  }
  reply(req, code, reasonPhrase(code), admin_http::resultJson(result) + "\n", kJson);
}

void replyMethodNotAllowed(evhttp_request* req, const char* allow) {
  evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", allow);
  reply(req, 405, "Method Not Allowed", "method not allowed\n");
}

std::string_view inputHeader(evhttp_request* req, const char* name) {
  const char* value = evhttp_find_header(evhttp_request_get_input_headers(req), name);
  return value != nullptr ? value : "";
}

// A fresh CSP nonce per page load (128 bits from the kernel): the policy then allows exactly the
// page's own inline script and style, not any script an injected string could smuggle in.
std::string cspNonce() {
  unsigned char bytes[16] = {};
  if (getrandom(bytes, sizeof(bytes), 0) != static_cast<ssize_t>(sizeof(bytes))) {
    // Never expected; a fixed value still only authorizes the page's own elements.
    return "baton";
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char b : bytes) {
    out += kHex[b >> 4];
    out += kHex[b & 0xf];
  }
  return out;
}

std::string withNonce(std::string_view page, const std::string& nonce) {
  std::string out;
  out.reserve(page.size() + 64);
  size_t from = 0;
  for (size_t at = page.find(kNonceMarker); at != std::string_view::npos;
       at = page.find(kNonceMarker, from)) {
    out.append(page.substr(from, at - from)).append(nonce);
    from = at + kNonceMarker.size();
  }
  out.append(page.substr(from));
  return out;
}

void appendJsonString(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (byte < 0x20) {
      out += "\\u00";
      out += kHex[byte >> 4];
      out += kHex[byte & 0xf];
    } else {
      out += c;
    }
  }
  out += '"';
}

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<std::string> formDecode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+') {
      out += ' ';
    } else if (text[i] == '%') {
      if (i + 2 >= text.size()) return std::nullopt;
      const int hi = hexValue(text[i + 1]);
      const int lo = hexValue(text[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

// ":9090" -> all IPv4 addresses (marathon-lb's `bind 0.0.0.0:9090`), "[::1]:9090" -> "::1".
core::Result<std::pair<std::string, uint16_t>> splitAddress(const std::string& address) {
  size_t colon = address.rfind(':');
  if (colon == std::string::npos) {
    return core::fail(core::Error::config("admin.http \"" + address + "\": missing port"));
  }
  std::string host = address.substr(0, colon);
  std::string port_text = address.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host.empty()) host = "0.0.0.0";
  uint32_t port = 0;
  if (port_text.empty() || port_text.size() > 5) {
    return core::fail(core::Error::config("admin.http \"" + address + "\": bad port"));
  }
  for (char c : port_text) {
    if (c < '0' || c > '9') {
      return core::fail(core::Error::config("admin.http \"" + address + "\": bad port"));
    }
    port = port * 10 + static_cast<uint32_t>(c - '0');
  }
  if (port > 65535) {
    return core::fail(core::Error::config("admin.http \"" + address + "\": bad port"));
  }
  return std::pair{host, static_cast<uint16_t>(port)};
}

std::string formatBound(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof(ss);
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return {};
  char ip[INET6_ADDRSTRLEN] = {};
  if (ss.ss_family == AF_INET6) {
    const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(&ss);
    inet_ntop(AF_INET6, &sin6->sin6_addr, ip, sizeof(ip));
    return "[" + std::string(ip) + "]:" + std::to_string(ntohs(sin6->sin6_port));
  }
  const auto* sin = reinterpret_cast<const sockaddr_in*>(&ss);
  inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof(ip));
  return std::string(ip) + ":" + std::to_string(ntohs(sin->sin_port));
}

}  // namespace

namespace admin_http {

bool authorized(std::string_view token, std::string_view authorization_header) {
  if (token.empty()) return true;
  constexpr std::string_view kScheme = "bearer ";
  if (authorization_header.size() < kScheme.size() ||
      !equalsIgnoreCase(authorization_header.substr(0, kScheme.size()), kScheme)) {
    return false;
  }
  std::string_view given = authorization_header.substr(kScheme.size());
  while (!given.empty() && given.front() == ' ') given.remove_prefix(1);
  while (!given.empty() && given.back() == ' ') given.remove_suffix(1);
  // Constant time in the token's content: every byte of the longer input is compared, and the
  // length difference is folded into the result instead of returning early.
  const size_t n = std::max(given.size(), token.size());
  unsigned diff = given.size() == token.size() ? 0u : 1u;
  for (size_t i = 0; i < n; ++i) {
    const auto a = static_cast<unsigned char>(i < given.size() ? given[i] : 0);
    const auto b = static_cast<unsigned char>(i < token.size() ? token[i] : 0);
    diff |= static_cast<unsigned>(a ^ b);
  }
  return diff == 0;
}

bool sameOrigin(std::string_view origin_header, std::string_view host_header) {
  if (origin_header.empty()) return true;
  const size_t scheme_end = origin_header.find("://");
  if (scheme_end == std::string_view::npos) return false;  // "null" and garbage
  std::string_view origin_host = origin_header.substr(scheme_end + 3);
  if (origin_host.empty() || origin_host.find('/') != std::string_view::npos) return false;
  return equalsIgnoreCase(origin_host, host_header);
}

std::optional<std::string> queryParam(std::string_view query, std::string_view key) {
  while (!query.empty()) {
    const size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    const size_t eq = pair.find('=');
    auto name = formDecode(pair.substr(0, eq));
    if (!name || *name != key) continue;
    return formDecode(eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1));
  }
  return std::nullopt;
}

bool readOnlyLine(std::string_view line) {
  while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
  auto word_is = [&](std::string_view word) {
    return line.starts_with(word) &&
           (line.size() == word.size() || line[word.size()] == ' ' || line[word.size()] == '\t');
  };
  return word_is("show") || word_is("help");
}

admin::CommandResult commandLine(bool post, std::string_view body, std::string_view query) {
  std::string line;
  if (post) {
    line = std::string(body);
    if (line.ends_with("\n")) line.pop_back();
    if (line.ends_with("\r")) line.pop_back();
  } else {
    auto given = queryParam(query, "line");
    if (!given) return admin::commandError("usage", "line=<admin command> is required");
    line = std::move(*given);
  }
  if (line.find_first_of("\r\n") != std::string::npos) {
    return admin::commandError("usage", "one command line per request");
  }
  if (line.find_first_not_of(" \t") == std::string::npos) {
    return admin::commandError("usage", "an admin command line is required (try help)");
  }
  if (!post && !readOnlyLine(line)) {
    return admin::commandError("usage", "GET runs only show and help lines: POST the others");
  }
  return line;
}

int httpStatusForError(std::string_view word) {
  if (word == "usage" || word == "invalid" || word == "unknown") return 400;
  if (word == "notfound") return 404;
  if (word == "denied") return 401;
  if (word == "timeout") return 504;
  return 500;
}

std::string resultJson(const admin::CommandResult& result) {
  std::string out = "{\"ok\":";
  if (result) {
    out += "true,\"message\":";
    appendJsonString(out, *result);
  } else {
    out += "false,\"error\":";
    appendJsonString(out, result.error().word);
    out += ",\"message\":";
    appendJsonString(out, result.error().message);
  }
  return out + "}";
}

}  // namespace admin_http

AdminHttpServer::AdminHttpServer(core::EventLoop& control, admin::AdminService& service,
                                 std::string token)
    : control_(control), service_(service), token_(std::move(token)) {}

AdminHttpServer::~AdminHttpServer() {
  *alive_ = false;
  if (http_ != nullptr) evhttp_free(http_);
}

core::Result<void> AdminHttpServer::start(const std::string& address) {
  auto split = splitAddress(address);
  if (!split) return core::fail(split.error());
  http_ = evhttp_new(control_.base());
  if (http_ == nullptr) return core::fail(core::Error::internal("evhttp_new failed"));
  evhttp_set_max_headers_size(http_, kMaxHeadersSize);
  evhttp_set_max_body_size(http_, kMaxBodySize);
  evhttp_set_timeout(http_, kTimeoutSeconds);
  // Every method libevent parses reaches handle(), which answers 405 itself (libevent's own
  // refusal would be a 501).
  evhttp_set_allowed_methods(http_, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD | EVHTTP_REQ_POST |
                                        EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS |
                                        EVHTTP_REQ_TRACE | EVHTTP_REQ_CONNECT | EVHTTP_REQ_PATCH);
  evhttp_set_gencb(http_, &AdminHttpServer::onRequest, this);
  evhttp_bound_socket* bound =
      evhttp_bind_socket_with_handle(http_, split->first.c_str(), split->second);
  if (bound == nullptr) {
    const int err = errno;
    evhttp_free(http_);
    http_ = nullptr;
    return core::fail(
        core::Error::config("admin.http: cannot listen on " + address + ": " + std::strerror(err)));
  }
  bound_address_ = formatBound(evhttp_bound_socket_get_fd(bound));
  return {};
}

void AdminHttpServer::onRequest(evhttp_request* req, void* arg) {
  auto* self = static_cast<AdminHttpServer*>(arg);
  core::EventLoop::CallbackScope scope(self->control_);
  self->handle(req);
}

void AdminHttpServer::handle(evhttp_request* req) {
  const evhttp_cmd_type method = evhttp_request_get_command(req);
  const evhttp_uri* uri = evhttp_request_get_evhttp_uri(req);
  const char* raw_path = uri != nullptr ? evhttp_uri_get_path(uri) : nullptr;
  const char* raw_query = uri != nullptr ? evhttp_uri_get_query(uri) : nullptr;
  const std::string_view path = raw_path != nullptr ? raw_path : "";
  const std::string_view query = raw_query != nullptr ? raw_query : "";

  if (path == "/api/command") {
    if (method != EVHTTP_REQ_POST && method != EVHTTP_REQ_GET) {
      replyMethodNotAllowed(req, "GET, POST");
      return;
    }
    serveCommand(req, method == EVHTTP_REQ_POST, query);
    return;
  }
  if (path.starts_with("/api/")) {
    if (method != EVHTTP_REQ_POST) {
      replyMethodNotAllowed(req, "POST");
      return;
    }
    serveWrite(req, path, query);
    return;
  }
  if (method != EVHTTP_REQ_GET && method != EVHTTP_REQ_HEAD) {
    replyMethodNotAllowed(req, "GET, HEAD");
    return;
  }
  if (!serveRead(req, path, query)) reply(req, 404, "Not Found", "not found\n");
}

bool AdminHttpServer::serveRead(evhttp_request* req, std::string_view path,
                                std::string_view query) {
  if (path == "/_haproxy_health_check") {
    reply(req, 200, "OK", "OK\n");
  } else if (path == "/haproxy" && query.starts_with("stats")) {
    serveStatus(req, &admin::renderStatCsv, kTextPlain);
  } else if (path == "/metrics") {
    serveStatus(req, &admin::renderPrometheus, kPrometheus);
  } else if (path == "/status") {
    serveStatus(req, &admin::renderStatusJson, kJson);
  } else if (path == "/instance") {
    reply(req, 200, "OK", admin::renderInstanceJson(service_.instanceFacts()) + "\n", kJson);
  } else if (path == "/" || path == "/dashboard") {
    serveDashboard(req);
  } else if (path == "/_haproxy_getconfig") {
    reply(req, 200, "OK", service_.configText());
  } else if (path == "/_haproxy_getpids") {
    reply(req, 200, "OK", std::to_string(::getpid()) + "\n");
  } else if (path == "/_mlb_signal/hup") {
    service_.resync();
    reply(req, 200, "OK", "OK\n");
  } else if (path == "/_mlb_signal/usr1") {
    auto reloaded = service_.reload();
    if (reloaded) {
      reply(req, 200, "OK", "OK\n");
    } else {
      reply(req, 500, "Internal Server Error", reloaded.error().message + "\n");
    }
  } else {
    return false;
  }
  return true;
}

void AdminHttpServer::serveStatus(evhttp_request* req,
                                  std::string (*render)(const admin::EdgeStatus&),
                                  const char* content_type) {
  // The model comes back later from the workers. If the client goes away meanwhile, libevent
  // keeps the request (detached from its connection) until we reply, and evhttp_send_reply then
  // just frees it; if this server is gone, evhttp_free has freed the request and we must not
  // touch it.
  std::weak_ptr<bool> alive = alive_;
  service_.status([alive, req, render, content_type](admin::EdgeStatus status) {
    if (alive.expired()) return;
    reply(req, 200, "OK", render(status), content_type);
  });
}

void AdminHttpServer::serveDashboard(evhttp_request* req) {
  const std::string nonce = cspNonce();
  evkeyvalq* headers = evhttp_request_get_output_headers(req);
  // Only the page's own inline script and style (by nonce), fetches to this origin, no frames,
  // no forms, no plugins, no external anything: the page works offline and an injected string
  // cannot run.
  const std::string csp = "default-src 'none'; script-src 'nonce-" + nonce +
                          "'; style-src 'nonce-" + nonce +
                          "'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; "
                          "form-action 'none'; frame-ancestors 'none'";
  evhttp_add_header(headers, "Content-Security-Policy", csp.c_str());
  evhttp_add_header(headers, "Cache-Control", "no-store");
  evhttp_add_header(headers, "X-Frame-Options", "DENY");
  evhttp_add_header(headers, "Referrer-Policy", "no-referrer");
  reply(req, 200, "OK", withNonce(admin::dashboardPage(), nonce), "text/html; charset=utf-8");
}

bool AdminHttpServer::writeAllowed(evhttp_request* req) {
  if (!admin_http::authorized(token_, inputHeader(req, "Authorization"))) {
    replyResult(req, admin::commandError("denied",
                                         "a valid \"Authorization: Bearer <token>\" "
                                         "is required for admin writes"));
    return false;
  }
  if (!admin_http::sameOrigin(inputHeader(req, "Origin"), inputHeader(req, "Host"))) {
    // Authenticated or not, a page of another origin must not drive the operator's browser.
    const std::string body =
        admin_http::resultJson(admin::commandError(
            "denied", "cross-origin write refused: Origin does not match Host")) +
        "\n";
    reply(req, 403, "Forbidden", body, kJson);
    return false;
  }
  return true;
}

void AdminHttpServer::serveWrite(evhttp_request* req, std::string_view path,
                                 std::string_view query) {
  if (!writeAllowed(req)) return;
  replyResult(req, runWrite(path, query));
}

void AdminHttpServer::serveCommand(evhttp_request* req, bool post, std::string_view query) {
  // POST runs any line, so it is a write: token and same-origin like the other writes.
  if (post && !writeAllowed(req)) return;
  std::string body;
  if (post) {
    evbuffer* input = evhttp_request_get_input_buffer(req);
    body.resize(evbuffer_get_length(input));
    evbuffer_copyout(input, body.data(), body.size());
  }
  auto line = admin_http::commandLine(post, body, query);
  if (!line) {
    replyResult(req, line);
    return;
  }
  evhttp_add_header(evhttp_request_get_output_headers(req), "X-Baton-Instance",
                    thisInstance().id.c_str());
  // Same path as the admin socket: the answer leaves once every worker serves what the command
  // changed, so an acknowledged drain is in effect on this instance.
  std::weak_ptr<bool> alive = alive_;
  admin::executeCommand(service_, *line, [this, alive, req](std::string answer) {
    if (alive.expired()) return;
    service_.whenApplied([alive, req, answer = std::move(answer)] {
      if (alive.expired()) return;
      const std::string_view word = admin::refusalWord(answer);
      const int code = word.empty() ? 200 : admin_http::httpStatusForError(word);
      evhttp_add_header(evhttp_request_get_output_headers(req), "X-Baton-Result",
                        word.empty() ? "ok" : std::string(word).c_str());
      reply(req, code, reasonPhrase(code), answer);
    });
  });
}

admin::CommandResult AdminHttpServer::runWrite(std::string_view path, std::string_view query) {
  using admin_http::queryParam;
  auto state_of = [&]() -> std::optional<upstream::AdminState> {
    auto word = queryParam(query, "state");
    return word ? admin::parseAdminState(*word) : std::nullopt;
  };
  if (path == "/api/host/state" || path == "/api/host/weight") {
    auto cluster = queryParam(query, "cluster");
    auto host = queryParam(query, "host");
    if (!cluster || !host || cluster->empty() || host->empty()) {
      return admin::commandError("usage", "cluster=<cluster>&host=<host> are required");
    }
    if (path == "/api/host/state") {
      auto state = state_of();
      if (!state) return admin::commandError("usage", "state=ready|drain|maint is required");
      return service_.setHostState(*cluster, *host, *state);
    }
    auto weight_text = queryParam(query, "weight");
    uint32_t weight = 0;
    if (!weight_text || weight_text->empty() || weight_text->size() > 6) {
      return admin::commandError("usage", "weight=<1..256> is required");
    }
    for (char c : *weight_text) {
      if (c < '0' || c > '9') return admin::commandError("invalid", "weight must be a number");
      weight = weight * 10 + static_cast<uint32_t>(c - '0');
    }
    return service_.setHostWeight(*cluster, *host, weight);
  }
  if (path == "/api/cluster/state") {
    auto cluster = queryParam(query, "cluster");
    auto state = state_of();
    if (!cluster || cluster->empty() || !state) {
      return admin::commandError("usage", "cluster=<cluster>&state=ready|drain|maint are required");
    }
    return service_.setClusterState(*cluster, *state);
  }
  if (path == "/api/log-level") {
    auto level = queryParam(query, "level");
    if (!level) return admin::commandError("usage", "level=error|warn|info|debug is required");
    return service_.setLogLevel(*level);
  }
  if (path == "/api/group/cdn-version") {
    auto group = queryParam(query, "group");
    auto version = queryParam(query, "version");
    if (!group || !version || group->empty() || version->empty()) {
      return admin::commandError("usage", "group=<group>&version=<id> are required");
    }
    return service_.setGroupCdnVersion(*group, *version);
  }
  if (path == "/api/reload") return service_.reload();
  return admin::commandError("unknown", "no such action: " + std::string(path));
}

}  // namespace baton::proxy
