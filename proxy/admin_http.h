// The admin HTTP listener: marathon-lb's :9090 endpoints, served on the CONTROL thread with
// libevent's evhttp (a handful of small GET requests from zdd, health checks and operators; not
// worth the data plane's codecs).
//
//   GET /_haproxy_health_check   200 "OK" while the process runs
//   GET /haproxy?stats;csv       HAProxy stats CSV (also /haproxy?stats): one row per host of
//                                every cluster (status UP, or MAINT while draining; scur =
//                                in-flight requests + TCP connections summed over workers) and one
//                                BACKEND row per cluster
//   GET /_haproxy_getconfig      text/plain: AdminProvider::effectiveConfigText()
//   GET /_haproxy_getpids        our pid (zdd waits until at most 2 pids are listed)
//   GET /_mlb_signal/hup         AdminProvider::requestResync(); 200 "OK"
//   GET /_mlb_signal/usr1        AdminProvider::requestReload(); 200 "OK"
//   anything else                404; methods other than GET/HEAD: 405
//
// Threading: construct, start and destroy on the control thread; every AdminProvider call is made
// on the control thread from the control loop's callbacks. The provider must outlive the server.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "proxy/core/error.h"
#include "proxy/host_load.h"

struct evhttp;
struct evhttp_request;

namespace baton::core {
class EventLoop;
}

namespace baton::proxy {

// What the admin listener asks the server for. Every call on the control thread.
struct AdminProvider {
  virtual ~AdminProvider() = default;
  // Asynchronous: gathers rows from every worker (see gatherHostLoads in host_load.h) and calls
  // `done` on the control thread exactly once.
  virtual void hostLoads(std::function<void(std::vector<HostLoadRow>)> done) = 0;
  virtual std::string effectiveConfigText() = 0;  // /_haproxy_getconfig
  virtual void requestResync() = 0;               // /_mlb_signal/hup (re-read Marathon)
  virtual void requestReload() = 0;               // /_mlb_signal/usr1 (reload config)
};

// Renders HAProxy's stats CSV ("# pxname,svname,qcur,..." header line, then rows). Pure; exposed
// for tests.
std::string renderStatsCsv(const std::vector<HostLoadRow>& rows);

class AdminHttpServer {
 public:
  AdminHttpServer(core::EventLoop& control, AdminProvider& provider);
  ~AdminHttpServer();
  AdminHttpServer(const AdminHttpServer&) = delete;
  AdminHttpServer& operator=(const AdminHttpServer&) = delete;

  // Binds `address` (AdminSpec::http_address: "127.0.0.1:9090", ":9090" = all addresses,
  // "[::1]:9090"; port 0 = kernel's choice) and starts serving on the control loop.
  core::Result<void> start(const std::string& address);
  // The bound "host:port" (the real port when 0 was asked), for the ready-fd "listeners" JSON as
  // the "admin" entry. Empty before start().
  const std::string& boundAddress() const { return bound_address_; }

 private:
  static void onRequest(evhttp_request* req, void* arg);
  void handle(evhttp_request* req);
  void serveStats(evhttp_request* req);

  core::EventLoop& control_;
  AdminProvider& provider_;
  evhttp* http_ = nullptr;
  std::string bound_address_;
  // Lets an async hostLoads() answer that arrives after destruction be dropped safely.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace baton::proxy
