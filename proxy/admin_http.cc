#include "proxy/admin_http.h"

#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string_view>

#include "proxy/core/event_loop.h"

namespace baton::proxy {

namespace {

// HAProxy's stats CSV columns up to `type`, in HAProxy's order (management guide, "CSV format").
// zdd.py splits the header after "# " and drops the trailing comma; it keeps `row[0:-1]` of every
// data row, so each line, header included, must end with a comma like HAProxy's do.
constexpr std::string_view kStatsHeader =
    "# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,"
    "wredis,status,weight,act,bck,chkfail,chkdown,lastchg,downtime,qlimit,pid,iid,sid,throttle,"
    "lbtot,tracked,type,\n";

// Small admin requests only: bound what a client can make us buffer or hold open.
constexpr ev_ssize_t kMaxHeadersSize = 8 * 1024;
constexpr ev_ssize_t kMaxBodySize = 1024;
constexpr int kTimeoutSeconds = 10;

struct BackendTotals {
  uint64_t scur = 0;
  uint32_t weight = 0;
  uint32_t active = 0;
};

// One line: pxname, svname, qcur, qmax, scur, then the columns we do not track empty up to
// status, then weight, act, bck, ..., pid, iid, sid, ..., type.
void appendRow(std::string& out, std::string_view pxname, std::string_view svname, uint64_t scur,
               std::string_view status, uint32_t weight, uint32_t act, uint32_t iid, uint32_t sid,
               int type) {
  out.append(pxname).append(",").append(svname).append(",0,0,");
  out.append(std::to_string(scur)).append(",");
  out.append(",,,,,,,,,,,,");  // smax slim stot bin bout dreq dresp ereq econ eresp wretr wredis
  out.append(status).append(",");
  out.append(std::to_string(weight)).append(",");
  out.append(std::to_string(act)).append(",0,");  // act, bck
  out.append(",,,,,");                            // chkfail chkdown lastchg downtime qlimit
  out.append("1,");                               // pid: HAProxy's process number, 1-based
  out.append(std::to_string(iid)).append(",").append(std::to_string(sid)).append(",");
  out.append(",,,");  // throttle lbtot tracked
  out.append(std::to_string(type)).append(",\n");
}

void reply(evhttp_request* req, int code, const char* reason, std::string_view body,
           const char* content_type = "text/plain; charset=utf-8") {
  evkeyvalq* headers = evhttp_request_get_output_headers(req);
  evhttp_add_header(headers, "Content-Type", content_type);
  evhttp_add_header(headers, "Cache-Control", "no-cache");
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

std::string renderStatsCsv(const std::vector<HostLoadRow>& rows) {
  std::string out(kStatsHeader);
  // Rows arrive grouped by cluster (each worker lists a cluster's hosts together); a cluster's
  // BACKEND row follows its last host, like HAProxy's.
  uint32_t iid = 0;
  uint32_t sid = 0;
  BackendTotals totals;
  std::string_view current;
  auto close_backend = [&] {
    if (iid == 0) return;
    appendRow(out, current, "BACKEND", totals.scur, totals.active > 0 ? "UP" : "DOWN",
              totals.weight, totals.active, iid, 0, 1);
  };
  for (const HostLoadRow& row : rows) {
    if (iid == 0 || row.cluster != current) {
      close_backend();
      current = row.cluster;
      ++iid;
      sid = 0;
      totals = {};
    }
    ++sid;
    totals.scur += row.outstanding;
    if (!row.draining) {
      totals.weight += row.weight;
      ++totals.active;
    }
    appendRow(out, row.cluster, row.host, row.outstanding, row.draining ? "MAINT" : "UP",
              row.weight, row.draining ? 0 : 1, iid, sid, 2);
  }
  close_backend();
  return out;
}

AdminHttpServer::AdminHttpServer(core::EventLoop& control, AdminProvider& provider)
    : control_(control), provider_(provider) {}

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
  if (method != EVHTTP_REQ_GET && method != EVHTTP_REQ_HEAD) {
    evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", "GET, HEAD");
    reply(req, 405, "Method Not Allowed", "method not allowed\n");
    return;
  }
  const evhttp_uri* uri = evhttp_request_get_evhttp_uri(req);
  const char* raw_path = uri != nullptr ? evhttp_uri_get_path(uri) : nullptr;
  const char* raw_query = uri != nullptr ? evhttp_uri_get_query(uri) : nullptr;
  const std::string_view path = raw_path != nullptr ? raw_path : "";
  const std::string_view query = raw_query != nullptr ? raw_query : "";

  if (path == "/_haproxy_health_check") {
    reply(req, 200, "OK", "OK\n");
  } else if (path == "/haproxy" && query.starts_with("stats")) {
    serveStats(req);
  } else if (path == "/_haproxy_getconfig") {
    reply(req, 200, "OK", provider_.effectiveConfigText());
  } else if (path == "/_haproxy_getpids") {
    reply(req, 200, "OK", std::to_string(::getpid()) + "\n");
  } else if (path == "/_mlb_signal/hup") {
    provider_.requestResync();
    reply(req, 200, "OK", "OK\n");
  } else if (path == "/_mlb_signal/usr1") {
    provider_.requestReload();
    reply(req, 200, "OK", "OK\n");
  } else {
    reply(req, 404, "Not Found", "not found\n");
  }
}

void AdminHttpServer::serveStats(evhttp_request* req) {
  // The rows come back later from the workers. If the client goes away meanwhile, libevent keeps
  // the request (detached from its connection) until we reply, and evhttp_send_reply then just
  // frees it; if this server is gone, evhttp_free has freed the request and we must not touch it.
  std::weak_ptr<bool> alive = alive_;
  provider_.hostLoads([alive, req](std::vector<HostLoadRow> rows) {
    if (alive.expired()) return;
    reply(req, 200, "OK", renderStatsCsv(rows));
  });
}

}  // namespace baton::proxy
