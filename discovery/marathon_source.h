// The Marathon discovery source: full resyncs over REST plus the event stream as an
// invalidation signal (marathon.md §2.4–2.5, faults.md "Marathon" rows).
//
// Control thread only (see source.h). What it does:
// - a full resync (GET <url>/v2/apps?embed=apps.tasks) at start, on every stream (re)connect,
//   after events (debounced by spec.event_debounce, coalesced: events during a fetch cause
//   exactly one more), every spec.resync_interval, and on resync();
// - REST failover: URLs tried in order from the last good one (marathon-lb rotates on success);
//   when every URL failed, on_error and a retry after a jittered backoff;
// - the stream (GET <url>/v2/events?...): a different URL on each reconnect (the leader found
//   by a redirect first), reconnect after a jittered backoff, at once after a read-idle timeout;
// - a fast path: status_update_event with a terminal/killing state and unhealthy_*_kill_event
//   call on_task_ending before the resync.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "discovery/backoff.h"
#include "discovery/http_client.h"
#include "discovery/source.h"
#include "discovery/sse_parser.h"

namespace baton::discovery {

class MarathonSource final : public Source {
 public:
  static core::Result<std::unique_ptr<MarathonSource>> create(core::EventLoop& loop,
                                                              const conf::MarathonSpec& spec,
                                                              Callbacks callbacks);
  ~MarathonSource() override;

  void start() override;
  void resync() override;
  SourceStatus status() const override { return status_; }
  // Kept for the next fetch while documents keep coming; freed kKeepBuffer after the last one.
  void recycle(std::string body) override;
  static constexpr std::chrono::seconds kKeepBuffer{5};

  // The event stream's query (marathon.md §2.1, §2.5).
  static const char* eventsPath();

 private:
  MarathonSource(core::EventLoop& loop, const conf::MarathonSpec& spec, Callbacks callbacks,
                 std::unique_ptr<HttpClient> client);

  std::vector<std::pair<std::string, std::string>> baseHeaders(const char* accept) const;
  void requestResync(std::chrono::milliseconds after);
  void onResyncDue();
  void fetchFrom(size_t attempt);
  void onFetched(size_t attempt, core::Result<HttpResponse> result);
  void fetchRoundFailed(const std::string& error);

  void connectStream();
  void onStreamOpen(const HttpResponse& head);
  void onStreamBytes(std::string_view bytes);
  void onStreamEnded(const core::Result<HttpResponse>& result);
  void onEvent(SseEvent&& event);

  core::EventLoop& loop_;
  conf::MarathonSpec spec_;
  Callbacks callbacks_;
  std::unique_ptr<HttpClient> client_;
  std::vector<std::string> urls_;  // without a trailing '/'
  std::string leader_;             // origin a redirect pointed to ("" = none known)

  // REST
  std::unique_ptr<HttpClient::Call> fetch_;
  size_t rest_first_ = 0;      // the last good URL is tried first
  bool resync_again_ = false;  // a resync was asked for while one was in flight
  std::string round_errors_;   // errors of this resync's URLs so far, joined with "; "
  Backoff rest_backoff_;
  core::Timer debounce_timer_;  // a resync is due when it fires
  core::Timer periodic_timer_;
  core::Timer rest_retry_timer_;
  std::string spare_;  // the last document's buffer (recycle), the next fetch reads into it
  core::Timer release_timer_;

  // Event stream
  std::unique_ptr<HttpClient::Call> stream_;
  std::unique_ptr<SseParser> parser_;
  size_t stream_next_ = 0;
  bool stream_opened_ = false;
  bool started_once_ = false;
  std::chrono::steady_clock::time_point stream_opened_at_;
  Backoff stream_backoff_;
  core::Timer reconnect_timer_;

  SourceStatus status_;
};

}  // namespace baton::discovery
