#include "discovery/marathon_source.h"

#include <algorithm>
#include <array>
#include <random>

#include "conf/marathon_auth.h"

namespace baton::discovery {
namespace {

using std::chrono::milliseconds;

// marathon-lb starts at 3 s; a leader flip is usually over sooner, and full jitter spreads a
// fleet of proxies anyway. Capped by spec.max_backoff (tests use tiny values).
constexpr milliseconds kInitialBackoff{1000};

// Not TASK_LOST: a partitioned task may still serve, and marathon-lb keeps routing to it (it is
// routable in task_filter.cc); draining it here would keep it out for as long as it is listed.
constexpr std::array kEndingStates = {
    "TASK_KILLING", "TASK_KILLED",  "TASK_FAILED", "TASK_FINISHED",
    "TASK_GONE",    "TASK_DROPPED", "TASK_ERROR",  "TASK_GONE_BY_OPERATOR"};

bool isEndingEvent(const EventInfo& info) {
  if (info.event_type == "unhealthy_instance_kill_event" ||
      info.event_type == "unhealthy_task_kill_event")
    return true;
  if (info.event_type != "status_update_event") return false;
  return std::find(kEndingStates.begin(), kEndingStates.end(), info.task_status) !=
         kEndingStates.end();
}

uint64_t seed() {
  return std::random_device{}();
}

// A cheap shape check so an HTML error page, a truncated body or an empty reply counts as a
// failed fetch (and fails over); the manager validates the document itself.
bool looksLikeJsonObject(std::string_view body) {
  constexpr std::string_view kSpace = " \t\r\n";
  const size_t first = body.find_first_not_of(kSpace);
  const size_t last = body.find_last_not_of(kSpace);
  return first != std::string_view::npos && body[first] == '{' && body[last] == '}';
}

}  // namespace

const char* MarathonSource::eventsPath() {
  return "/v2/events?plan-format=light&event_type=status_update_event"
         "&event_type=health_status_changed_event&event_type=api_post_event"
         "&event_type=app_terminated_event&event_type=deployment_success"
         "&event_type=deployment_failed&event_type=unhealthy_instance_kill_event"
         "&event_type=unhealthy_task_kill_event&event_type=instance_health_changed_event";
}

core::Result<std::unique_ptr<MarathonSource>> MarathonSource::create(core::EventLoop& loop,
                                                                     const conf::MarathonSpec& spec,
                                                                     Callbacks callbacks) {
  if (spec.urls.empty()) return core::fail(core::Error::config("marathon: no URL"));
  for (const auto& url : spec.urls) {
    if (!url.starts_with("http://") && !url.starts_with("https://"))
      return core::fail(core::Error::config("marathon: URL " + url + " is not http(s)://"));
  }
  auto client = HttpClient::create(loop, spec.ca_file);
  if (!client) return core::fail(std::move(client.error()));
  return std::unique_ptr<MarathonSource>(
      new MarathonSource(loop, spec, std::move(callbacks), std::move(*client)));
}

MarathonSource::MarathonSource(core::EventLoop& loop, const conf::MarathonSpec& spec,
                               Callbacks callbacks, std::unique_ptr<HttpClient> client)
    : loop_(loop),
      spec_(spec),
      callbacks_(std::move(callbacks)),
      client_(std::move(client)),
      rest_backoff_(kInitialBackoff, spec.max_backoff, seed()),
      debounce_timer_(loop, [this] { onResyncDue(); }),
      periodic_timer_(loop, [this] { requestResync(milliseconds{0}); }),
      rest_retry_timer_(loop, [this] { requestResync(milliseconds{0}); }),
      release_timer_(loop, [this] { std::string().swap(spare_); }),
      stream_backoff_(kInitialBackoff, spec.max_backoff, seed()),
      reconnect_timer_(loop, [this] { connectStream(); }) {
  for (std::string url : spec.urls) {
    while (url.ends_with('/')) url.pop_back();
    urls_.push_back(std::move(url));
  }
  status_.kind = "marathon";
  status_.current_url = urls_.front();
}

// Calls go before the client (they hold its evdns base and TLS context).
MarathonSource::~MarathonSource() {
  fetch_.reset();
  stream_.reset();
}

void MarathonSource::start() {
  requestResync(milliseconds{0});
  connectStream();
}

void MarathonSource::resync() {
  requestResync(milliseconds{0});
}

std::vector<std::pair<std::string, std::string>> MarathonSource::baseHeaders(
    const char* accept) const {
  std::vector<std::pair<std::string, std::string>> headers{{"Accept", accept}};
  if (std::string authorization = conf::marathonAuthorization(spec_); !authorization.empty()) {
    headers.emplace_back("Authorization", std::move(authorization));
  }
  return headers;
}

// ---- REST ----------------------------------------------------------------------------------

void MarathonSource::requestResync(milliseconds after) {
  if (debounce_timer_.armed()) return;  // one is already due: this request joins it
  debounce_timer_.arm(after);
}

void MarathonSource::onResyncDue() {
  if (fetch_) {  // in flight: exactly one more when it ends
    resync_again_ = true;
    return;
  }
  rest_retry_timer_.cancel();
  periodic_timer_.cancel();
  fetchFrom(0);
}

void MarathonSource::fetchFrom(size_t attempt) {
  const size_t index = (rest_first_ + attempt) % urls_.size();
  HttpRequest request;
  request.url = urls_[index] + "/v2/apps?embed=apps.tasks";
  request.headers = baseHeaders("application/json");
  request.timeout = spec_.request_timeout;
  request.body_buffer = std::exchange(spare_, std::string());
  fetch_ = client_->get(std::move(request),
                        {.on_open = nullptr,
                         .on_chunk = nullptr,
                         .on_done = [this, attempt](core::Result<HttpResponse> result) {
                           onFetched(attempt, std::move(result));
                         }});
}

void MarathonSource::onFetched(size_t attempt, core::Result<HttpResponse> result) {
  fetch_.reset();  // safe inside its callback (deferred)
  if (result && !looksLikeJsonObject(result->body))
    result = core::fail(
        core::Error::upstream(core::ErrorCode::UpstreamProtocolError, true,
                              "GET " + result->final_url + ": the body is not a JSON object"));
  if (!result) {
    round_errors_ += (round_errors_.empty() ? "" : "; ") + result.error().detail;
    if (attempt + 1 < urls_.size()) return fetchFrom(attempt + 1);  // fail over
    std::string errors = std::move(round_errors_);
    round_errors_.clear();
    return fetchRoundFailed(errors);
  }
  round_errors_.clear();
  const size_t index = (rest_first_ + attempt) % urls_.size();
  rest_first_ = index;  // marathon-lb: the host that answered is tried first next time
  const std::string origin = urlOrigin(result->final_url);
  if (origin != urls_[index]) leader_ = origin;  // redirected: that is the leader
  status_.current_url = origin;
  status_.documents++;
  status_.last_success_unix_ms = unixNowMs();
  status_.last_error.clear();
  rest_backoff_.reset();
  periodic_timer_.arm(spec_.resync_interval);
  if (resync_again_) {
    resync_again_ = false;
    requestResync(milliseconds{0});
  }
  if (callbacks_.on_document) callbacks_.on_document(std::move(result->body));
}

void MarathonSource::recycle(std::string body) {
  spare_ = std::move(body);
  release_timer_.arm(kKeepBuffer);
}

void MarathonSource::fetchRoundFailed(const std::string& error) {
  status_.failures++;
  status_.last_error = error;
  // A queued resync is served by the retry; the periodic timer is the net if even that fails.
  resync_again_ = false;
  rest_retry_timer_.arm(rest_backoff_.next());
  periodic_timer_.arm(spec_.resync_interval);
  if (callbacks_.on_error) callbacks_.on_error(error);
}

// ---- Event stream --------------------------------------------------------------------------

void MarathonSource::connectStream() {
  std::string origin;
  if (!leader_.empty()) {  // a standby pointed at the leader: go there directly, once
    origin = std::move(leader_);
    leader_.clear();
  } else {
    origin = urls_[stream_next_];
    stream_next_ = (stream_next_ + 1) % urls_.size();
  }
  if (started_once_) status_.reconnects++;
  started_once_ = true;
  stream_opened_ = false;
  parser_ = std::make_unique<SseParser>();
  HttpRequest request;
  request.url = origin + eventsPath();
  request.headers = baseHeaders("text/event-stream");
  request.headers.emplace_back("Cache-Control", "no-cache");
  request.stream = true;
  request.timeout = spec_.stream_idle_timeout;
  stream_ = client_->get(
      std::move(request),
      {.on_open = [this](const HttpResponse& head) { onStreamOpen(head); },
       .on_chunk = [this](std::string_view bytes) { onStreamBytes(bytes); },
       .on_done = [this](core::Result<HttpResponse> result) { onStreamEnded(result); }});
}

void MarathonSource::onStreamOpen(const HttpResponse& head) {
  stream_opened_ = true;
  stream_opened_at_ = std::chrono::steady_clock::now();
  status_.stream_connected = true;
  status_.current_url = urlOrigin(head.final_url);
  // Nothing missed while detached is replayed (no Last-Event-ID): resync on every attach.
  requestResync(milliseconds{0});
}

void MarathonSource::onStreamBytes(std::string_view bytes) {
  auto fed = parser_->feed(bytes, [this](SseEvent&& event) { onEvent(std::move(event)); });
  if (!fed) onStreamEnded(core::fail(std::move(fed.error())));
}

void MarathonSource::onEvent(SseEvent&& event) {
  status_.events++;
  auto info = parseEventInfo(event.data);
  if (info && info->event_type == "event_stream_attached") return;  // the attach resynced
  if (info && isEndingEvent(*info) && callbacks_.on_task_ending)
    callbacks_.on_task_ending(info->task_id, info->app_id);
  // Any other event, even one we cannot read, only says "something changed".
  requestResync(spec_.event_debounce);
}

void MarathonSource::onStreamEnded(const core::Result<HttpResponse>& result) {
  stream_.reset();  // deferred inside its own callback
  parser_.reset();
  status_.stream_connected = false;
  const bool idle =
      stream_opened_ && !result && result.error().code == core::ErrorCode::UpstreamTimeout;
  if (stream_opened_)
    stream_backoff_.onStreamEnded(std::chrono::duration_cast<milliseconds>(
        std::chrono::steady_clock::now() - stream_opened_at_));
  const std::string error =
      result ? "event stream closed by " + status_.current_url : result.error().detail;
  if (!stream_opened_) status_.failures++;
  status_.last_error = error;
  // A stall is not Marathon refusing us: reconnect at once (marathon-lb on curl error 28).
  reconnect_timer_.arm(idle ? milliseconds{0} : stream_backoff_.next());
  if (callbacks_.on_error) callbacks_.on_error(error);
}

}  // namespace baton::discovery
