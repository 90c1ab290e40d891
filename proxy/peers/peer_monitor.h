// The peer monitor: which baton instances serve this edge and whether they agree (README
// "Several instances"). Every `interval` it lists the tasks of baton's own Marathon app
// (peer_list.h: GET <marathon>/v2/apps/<id>?embed=app.tasks, URLs tried in turn) and polls each
// task's admin HTTP GET /instance with a short timeout; view() is what /status (`instances`),
// `show instances` and the dashboard show, with lag.h's verdicts as of the call.
//
// It only observes: no decision anywhere depends on it (instances never talk to each other for
// decisions; operator commands reach them through `batonctl --all`). A slow or dead peer costs
// one pending request until its timeout, never the loop: discovery::HttpClient is non-blocking,
// and a poll still in flight when the next round comes is left to finish (not doubled).
//
// Threading: create, start, view and destroy on the control thread; every callback runs there.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "conf/config_spec.h"
#include "discovery/http_client.h"
#include "proxy/admin/status.h"
#include "proxy/core/error.h"
#include "proxy/core/event_loop.h"
#include "proxy/peers/peer_list.h"

namespace baton::proxy::peers {

struct PeerMonitorOptions {
  std::string app_id;                      // baton's own Marathon app ("/baton")
  std::vector<std::string> marathon_urls;  // "http(s)://host:port", no trailing '/'
  std::vector<std::pair<std::string, std::string>> marathon_headers;  // marathonAuthHeaders
  std::string ca_file;                                                // TLS to Marathon
  uint16_t admin_port = 0;  // 0 = from the app (peer_list.h rules)
  std::chrono::milliseconds interval{2000};
  std::chrono::milliseconds timeout{1000};
  std::chrono::milliseconds lag_threshold{5000};
  bool operator==(const PeerMonitorOptions&) const = default;
};

class PeerMonitor {
 public:
  // This process's own facts (the same GET /instance answers), read at view() time.
  using LocalFacts = std::function<admin::InstanceFacts()>;

  static core::Result<std::unique_ptr<PeerMonitor>> create(core::EventLoop& loop,
                                                           PeerMonitorOptions options,
                                                           LocalFacts local);
  ~PeerMonitor();
  PeerMonitor(const PeerMonitor&) = delete;
  PeerMonitor& operator=(const PeerMonitor&) = delete;

  void start();  // the first round at once, then one per interval
  admin::InstancesView view() const;

  // A reload's options: equal to the current ones -> nothing happens (false: the rounds, the
  // peers and their calls go on). Different -> the calls in flight are cancelled, the peers
  // forgotten, and the rounds start again at once with the new options (true). A new CA file
  // that cannot be loaded is an error and keeps the monitor as it was.
  core::Result<bool> reconfigure(PeerMonitorOptions options);

 private:
  struct Peer {
    PeerEndpoint endpoint;
    admin::InstanceStatus status;
    std::unique_ptr<discovery::HttpClient::Call> call;
  };

  PeerMonitor(core::EventLoop& loop, PeerMonitorOptions options, LocalFacts local,
              std::unique_ptr<discovery::HttpClient> client);
  void round();
  void onListed(core::Result<discovery::HttpResponse> result);
  void adopt(const PeerList& list);
  void poll(Peer& peer);
  void onPolled(const std::string& task_id, core::Result<discovery::HttpResponse> result);
  bool isSelf(const admin::InstanceFacts& facts) const;

  core::EventLoop& loop_;
  PeerMonitorOptions options_;
  LocalFacts local_;
  std::unique_ptr<discovery::HttpClient> client_;  // before every Call: they go first
  std::unique_ptr<discovery::HttpClient::Call> list_call_;
  size_t url_next_ = 0;  // the URL to list from (moves on after a failure)
  std::string list_error_;
  int64_t listed_unix_ms_ = 0;
  std::map<std::string, std::unique_ptr<Peer>> peers_;  // by task id
  core::Timer timer_;
};

}  // namespace baton::proxy::peers

namespace baton::proxy::peers {

// The server's monitor: on when baton knows its own app id ($MARATHON_APP_ID, --self-app) and
// discovery uses Marathon over HTTP(S) (not a file:). Marathon URLs, credentials and CA come from
// [marathon]; $BATON_PEER_INTERVAL_MS (default 2000) and $BATON_PEER_LAG_MS (default 5000) tune
// the poll period and the lag threshold. nullopt = off.
std::optional<PeerMonitorOptions> monitorOptions(const conf::MarathonSpec& marathon,
                                                 const std::string& self_app_id);

// Brings `monitor` in line with `marathon` (start, and every reload: Server calls it on the
// control thread): off -> reset; none yet -> created and started; options unchanged -> left
// alone; changed -> reconfigure()d (restarts its rounds). Errors are logged: a monitor that cannot
// be created stays off, one that cannot take the new options keeps the old ones.
void updateMonitor(std::unique_ptr<PeerMonitor>& monitor, core::EventLoop& loop,
                   const conf::MarathonSpec& marathon, const std::string& self_app_id,
                   PeerMonitor::LocalFacts local);

}  // namespace baton::proxy::peers
