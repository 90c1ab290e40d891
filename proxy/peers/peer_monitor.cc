#include "proxy/peers/peer_monitor.h"

#include <algorithm>
#include <cstdlib>

#include "conf/marathon_auth.h"
#include "proxy/core/clock.h"
#include "proxy/core/log.h"
#include "proxy/peers/lag.h"
#include "proxy/request_id.h"

namespace baton::proxy::peers {

namespace {
// A peer's /instance answer is a few hundred bytes; Marathon's one-app answer a few KiB per task.
constexpr size_t kMaxInstanceBody = 64 * 1024;
constexpr size_t kMaxAppBody = 16u << 20;
}  // namespace

core::Result<std::unique_ptr<PeerMonitor>> PeerMonitor::create(core::EventLoop& loop,
                                                               PeerMonitorOptions options,
                                                               LocalFacts local) {
  if (options.app_id.empty() || options.marathon_urls.empty()) {
    return core::fail(core::Error::config("peer monitor: needs baton's app id and a Marathon URL"));
  }
  auto client = discovery::HttpClient::create(loop, options.ca_file);
  if (!client) return core::fail(client.error());
  return std::unique_ptr<PeerMonitor>(
      new PeerMonitor(loop, std::move(options), std::move(local), std::move(*client)));
}

PeerMonitor::PeerMonitor(core::EventLoop& loop, PeerMonitorOptions options, LocalFacts local,
                         std::unique_ptr<discovery::HttpClient> client)
    : loop_(loop),
      options_(std::move(options)),
      local_(std::move(local)),
      client_(std::move(client)),
      timer_(loop, [this] { round(); }) {}

PeerMonitor::~PeerMonitor() {
  // Calls before the client (HttpClient's rule).
  peers_.clear();
  list_call_.reset();
}

void PeerMonitor::start() {
  round();
}

void PeerMonitor::round() {
  timer_.arm(options_.interval);
  // Polls go to the peers known so far; the listing (when it answers) adds and removes peers
  // and polls the new ones at once.
  for (auto& [task_id, peer] : peers_) {
    if (!peer->call) poll(*peer);
  }
  if (list_call_) return;  // the previous listing is still out: let it finish
  discovery::HttpRequest request;
  request.url = options_.marathon_urls[url_next_ % options_.marathon_urls.size()] +
                selfAppPath(options_.app_id);
  request.headers = options_.marathon_headers;
  request.headers.emplace_back("Accept", "application/json");
  request.timeout = options_.timeout * 2;
  request.max_body = kMaxAppBody;
  list_call_ = client_->get(
      std::move(request), {.on_open = nullptr, .on_chunk = nullptr, .on_done = [this](auto result) {
                             onListed(std::move(result));
                           }});
}

void PeerMonitor::onListed(core::Result<discovery::HttpResponse> result) {
  list_call_.reset();  // safe inside its own callback (http_client.h)
  if (!result) {
    list_error_ = result.error().detail;
    ++url_next_;  // the next round asks another Marathon
    return;
  }
  auto list = peersFromApp(result->body, options_.admin_port);
  if (!list) {
    list_error_ = list.error().detail;
    return;
  }
  list_error_ = list->skipped == 0
                    ? ""
                    : std::to_string(list->skipped) + " running task(s) without an admin port";
  listed_unix_ms_ = core::unixNowMs();
  adopt(*list);
}

void PeerMonitor::adopt(const PeerList& list) {
  std::map<std::string, std::unique_ptr<Peer>> next;
  for (const PeerEndpoint& endpoint : list.peers) {
    auto found = peers_.find(endpoint.task_id);
    std::unique_ptr<Peer> peer;
    if (found != peers_.end() && found->second->endpoint == endpoint) {
      peer = std::move(found->second);
    } else {
      peer = std::make_unique<Peer>();
      peer->endpoint = endpoint;
      peer->status.task_id = endpoint.task_id;
      peer->status.address = endpoint.address();
      peer->status.self =
          !thisInstance().task_id.empty() && endpoint.task_id == thisInstance().task_id;
      peer->status.error = "not polled yet";
    }
    next.emplace(endpoint.task_id, std::move(peer));
  }
  peers_ = std::move(next);  // gone tasks: their calls are cancelled here
  for (auto& [task_id, peer] : peers_) {
    if (!peer->call && peer->status.polled_unix_ms == 0) poll(*peer);
  }
}

void PeerMonitor::poll(Peer& peer) {
  if (peer.status.self) return;  // view() reads this process's facts directly
  discovery::HttpRequest request;
  request.url = "http://" + peer.endpoint.address() + "/instance";
  request.timeout = options_.timeout;
  request.max_body = kMaxInstanceBody;
  std::string task_id = peer.endpoint.task_id;
  peer.call = client_->get(
      std::move(request),
      {.on_open = nullptr, .on_chunk = nullptr, .on_done = [this, task_id](auto result) {
         onPolled(task_id, std::move(result));
       }});
}

void PeerMonitor::onPolled(const std::string& task_id,
                           core::Result<discovery::HttpResponse> result) {
  auto found = peers_.find(task_id);
  if (found == peers_.end()) return;
  Peer& peer = *found->second;
  peer.call.reset();
  if (!result) {
    peer.status.reachable = false;
    peer.status.error = result.error().detail;
    return;
  }
  auto facts = parseInstanceFacts(result->body);
  if (!facts) {
    peer.status.reachable = false;
    peer.status.error = facts.error().detail;
    return;
  }
  peer.status.reachable = true;
  peer.status.error.clear();
  peer.status.polled_unix_ms = core::unixNowMs();
  // Without $MESOS_TASK_ID this process finds itself by its own answer.
  if (isSelf(*facts)) peer.status.self = true;
  peer.status.facts = std::move(*facts);
}

bool PeerMonitor::isSelf(const admin::InstanceFacts& facts) const {
  const admin::InstanceFacts mine = local_();
  return facts.instance_id == mine.instance_id && facts.pid == mine.pid;
}

core::Result<bool> PeerMonitor::reconfigure(PeerMonitorOptions options) {
  if (options == options_) return false;
  if (options.app_id.empty() || options.marathon_urls.empty()) {
    return core::fail(core::Error::config("peer monitor: needs baton's app id and a Marathon URL"));
  }
  std::unique_ptr<discovery::HttpClient> client;
  if (options.ca_file != options_.ca_file) {
    auto made = discovery::HttpClient::create(loop_, options.ca_file);
    if (!made) return core::fail(made.error());
    client = std::move(*made);
  }
  // Calls before their client (HttpClient's rule); a peer of the old Marathon may not be one of
  // the new, so the list starts again from what the new Marathon says.
  peers_.clear();
  list_call_.reset();
  if (client) client_ = std::move(client);
  options_ = std::move(options);
  url_next_ = 0;
  list_error_.clear();
  listed_unix_ms_ = 0;
  round();  // re-arms the timer with the new interval
  return true;
}

admin::InstancesView PeerMonitor::view() const {
  admin::InstancesView view;
  view.enabled = true;
  view.app_id = options_.app_id;
  view.error = list_error_;
  view.listed_unix_ms = listed_unix_ms_;
  view.lag_threshold_ms = options_.lag_threshold.count();
  const int64_t now = core::unixNowMs();
  for (const auto& [task_id, peer] : peers_) {
    admin::InstanceStatus status = peer->status;
    if (status.self) {
      status.facts = local_();
      status.reachable = true;
      status.error.clear();
      status.polled_unix_ms = now;
    }
    view.peers.push_back(std::move(status));
  }
  markLagging(view.peers, now, options_.lag_threshold.count());
  return view;
}

}  // namespace baton::proxy::peers

namespace baton::proxy::peers {
namespace {

std::chrono::milliseconds envMs(const char* name, std::chrono::milliseconds fallback) {
  const char* text = std::getenv(name);
  if (text == nullptr || *text == '\0') return fallback;
  char* end = nullptr;
  const long long value = std::strtoll(text, &end, 10);
  if (*end != '\0' || value <= 0 || value > 3'600'000) return fallback;
  return std::chrono::milliseconds(value);
}

}  // namespace

std::optional<PeerMonitorOptions> monitorOptions(const conf::MarathonSpec& marathon,
                                                 const std::string& self_app_id) {
  if (self_app_id.empty()) return std::nullopt;
  PeerMonitorOptions options;
  options.app_id = self_app_id;
  for (const std::string& url : marathon.urls) {
    if (!url.starts_with("http://") && !url.starts_with("https://")) continue;
    std::string trimmed = url;
    while (trimmed.ends_with("/")) trimmed.pop_back();
    options.marathon_urls.push_back(std::move(trimmed));
  }
  if (options.marathon_urls.empty()) return std::nullopt;
  // The credentials the discovery source sends (conf/marathon_auth.h).
  if (std::string authorization = conf::marathonAuthorization(marathon); !authorization.empty()) {
    options.marathon_headers = {{"Authorization", std::move(authorization)}};
  }
  options.ca_file = marathon.ca_file;
  options.interval = envMs("BATON_PEER_INTERVAL_MS", options.interval);
  options.lag_threshold = envMs("BATON_PEER_LAG_MS", options.lag_threshold);
  options.timeout = std::min(options.timeout, options.interval);
  return options;
}

void updateMonitor(std::unique_ptr<PeerMonitor>& monitor, core::EventLoop& loop,
                   const conf::MarathonSpec& marathon, const std::string& self_app_id,
                   PeerMonitor::LocalFacts local) {
  auto options = monitorOptions(marathon, self_app_id);
  if (!options) {
    monitor.reset();
    return;
  }
  if (monitor) {
    auto changed = monitor->reconfigure(std::move(*options));
    if (!changed) {
      core::logf(core::LogLevel::Warn, "peer monitor keeps its old Marathon settings: %s",
                 changed.error().detail.c_str());
    } else if (*changed) {
      core::logf(core::LogLevel::Info, "peer monitor: new Marathon settings, listing again");
    }
    return;
  }
  auto made = PeerMonitor::create(loop, std::move(*options), std::move(local));
  if (!made) {
    core::logf(core::LogLevel::Warn, "peer monitor off: %s", made.error().detail.c_str());
    return;
  }
  monitor = std::move(*made);
  monitor->start();
}

}  // namespace baton::proxy::peers
