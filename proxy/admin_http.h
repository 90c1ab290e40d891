// The admin HTTP listener: marathon-lb's :9090 endpoints, the operator's HTTP views of the admin
// model (proxy/admin/status.h) and the dashboard with its write API. Served on the CONTROL thread
// with libevent's evhttp (a handful of small requests from zdd, Prometheus, health checks and the
// dashboard's once-a-second poll; not worth the data plane's codecs).
//
//   GET /_haproxy_health_check   200 "OK" while the process runs
//   GET /haproxy?stats;csv       HAProxy stats CSV (also /haproxy?stats): admin::renderStatCsv
//   GET /_haproxy_getconfig      text/plain: AdminService::configText()
//   GET /_haproxy_getpids        our pid (zdd waits until at most 2 pids are listed)
//   GET /_mlb_signal/hup         AdminService::resync(); 200 "OK"
//   GET /_mlb_signal/usr1        AdminService::reload(); 200 "OK" (500 + the loader's message
//                                when the new config is refused)
//   GET /metrics                 Prometheus text 0.0.4: admin::renderPrometheus
//   GET /status                  JSON: admin::renderStatusJson (what the dashboard polls)
//   GET / and /dashboard         the dashboard page (proxy/admin/dashboard.html)
//   POST /api/host/state?cluster=C&host=H&state=ready|drain|maint
//   POST /api/host/weight?cluster=C&host=H&weight=N
//   POST /api/cluster/state?cluster=C&state=ready|drain|maint
//   POST /api/group/cdn-version?group=G&version=ID   (asset pinning: the CDN's version)
//   POST /api/log-level?level=error|warn|info|debug
//   POST /api/reload
//   POST /api/command            body = one admin protocol line (proxy/admin/commands.h), e.g.
//                                "drain host web/10_0_6_25_31704": the answer exactly as the
//                                admin socket gives it (text/plain, ending with an empty line),
//                                status 200 or httpStatusForError(word), X-Baton-Result: ok or
//                                the refusal word. This is what `batonctl --all` speaks to every
//                                instance (the admin socket is local only).
//   GET  /api/command?line=show+... read-only: only `show` lines (and `help`), no token
//   GET  /instance               JSON: this instance's InstanceFacts (id, task, generation,
//                                Marathon state digest); what peers poll (README "Several
//                                instances")
//        -> {"ok":true,"message":"..."} or {"ok":false,"error":"<word>","message":"..."}, the
//           word being CommandError's (proxy/admin/service.h); status from httpStatusForError.
//   anything else                404; a known path with another method: 405 with Allow
//
// Write protection: with a token configured (`[admin] token`), every POST needs
// "Authorization: Bearer <token>" (401 + WWW-Authenticate otherwise). Every POST that carries an
// Origin header must come from this listener's own origin (Origin's host:port == Host): a page
// on another site cannot make an operator's browser drain hosts (403 "denied"). Reads need no
// token: the listener is meant for loopback or a management network.
//
// Threading: construct, start and destroy on the control thread; every AdminService call is made
// on the control thread from the control loop's callbacks. The service must outlive the server.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "proxy/admin/service.h"
#include "proxy/core/error.h"

struct evhttp;
struct evhttp_request;

namespace baton::core {
class EventLoop;
}

namespace baton::proxy {

// Pure helpers of the listener, exposed for tests.
namespace admin_http {

// Constant-time check of an Authorization header against the configured token. An empty token
// accepts everything; otherwise the header must be "Bearer <token>" (scheme case-insensitive).
bool authorized(std::string_view token, std::string_view authorization_header);

// Cross-site request check for writes: no Origin (curl, scripts) passes; otherwise the Origin's
// "host[:port]" must equal the Host header (case-insensitive). "null" origins are refused.
bool sameOrigin(std::string_view origin_header, std::string_view host_header);

// The value of `key` in an application/x-www-form-urlencoded query ("a=1&b=x%2Fy"), decoded
// ('+' is a space, %XX a byte); nullopt when absent or badly escaped.
std::optional<std::string> queryParam(std::string_view query, std::string_view key);

// The protocol line of a /api/command request: the body for POST (one line: a trailing "\n" or
// "\r\n" is dropped; another line break is "usage"), `line=` of the query for GET, which must
// be a read-only line (`show ...` or `help`; else "denied"). Pure.
admin::CommandResult commandLine(bool post, std::string_view body, std::string_view query);
bool readOnlyLine(std::string_view line);

// CommandError word -> HTTP status: usage/invalid/unknown 400, notfound 404, denied 401,
// timeout 504, anything else 500.
int httpStatusForError(std::string_view word);

// {"ok":true,"message":...} / {"ok":false,"error":...,"message":...}
std::string resultJson(const admin::CommandResult& result);

}  // namespace admin_http

class AdminHttpServer {
 public:
  // `token` = `[admin] token` (or the token file's content); "" = writes need no token.
  AdminHttpServer(core::EventLoop& control, admin::AdminService& service, std::string token);
  ~AdminHttpServer();
  AdminHttpServer(const AdminHttpServer&) = delete;
  AdminHttpServer& operator=(const AdminHttpServer&) = delete;

  // Binds `address` (AdminSpec::http_address: "127.0.0.1:9090", ":9090" = all addresses,
  // "[::1]:9090"; port 0 = kernel's choice) and starts serving on the control loop.
  core::Result<void> start(const std::string& address);
  // A reload may change `[admin] token`: the next write is checked against the new one.
  void setToken(std::string token) { token_ = std::move(token); }
  // The bound "host:port" (the real port when 0 was asked), for the ready-fd "listeners" JSON as
  // the "admin" entry. Empty before start().
  const std::string& boundAddress() const { return bound_address_; }

 private:
  static void onRequest(evhttp_request* req, void* arg);
  void handle(evhttp_request* req);
  bool serveRead(evhttp_request* req, std::string_view path, std::string_view query);
  void serveStatus(evhttp_request* req, std::string (*render)(const admin::EdgeStatus&),
                   const char* content_type);
  void serveDashboard(evhttp_request* req);
  void serveWrite(evhttp_request* req, std::string_view path, std::string_view query);
  void serveCommand(evhttp_request* req, bool post, std::string_view query);
  bool writeAllowed(evhttp_request* req);
  admin::CommandResult runWrite(std::string_view path, std::string_view query);

  core::EventLoop& control_;
  admin::AdminService& service_;
  std::string token_;
  evhttp* http_ = nullptr;
  std::string bound_address_;
  // Lets an async status() answer that arrives after destruction be dropped safely.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace baton::proxy
