#include "discovery/marathon_source.h"

#include <gtest/gtest.h>

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>

#include "fake_server.h"

namespace baton::discovery {
namespace {

using std::chrono::milliseconds;
using testing::FakeServer;
using testing::runFor;
using testing::runUntil;
using testing::SeenRequest;

constexpr const char* kApps = R"({"apps":[{"id":"/web","tasks":[]}]})";

std::string sse(const std::string& type, const std::string& json) {
  return "event: " + type + "\r\ndata: " + json + "\r\n\r\n";
}
std::string statusUpdate(const std::string& task, const std::string& state) {
  return sse("status_update_event", R"({"eventType":"status_update_event","taskId":")" + task +
                                        R"(","appId":"/web","taskStatus":")" + state + R"("})");
}

// A Marathon leader: apps, the event stream, and switches for faults.
struct Marathon {
  explicit Marathon(core::EventLoop& loop)
      : server(loop, [this](const SeenRequest& r) { return handle(r); }) {}
  FakeServer::Reply handle(const SeenRequest& r) {
    if (!redirect_to.empty())
      return {FakeServer::Reply::Full,
              FakeServer::status(302, "Location: " + redirect_to + r.target + "\r\n")};
    if (r.target.starts_with("/v2/apps")) {
      if (hold_apps) return {FakeServer::Reply::Hang, {}};
      if (apps_status != 200) return {FakeServer::Reply::Full, FakeServer::status(apps_status)};
      return {FakeServer::Reply::Full, FakeServer::ok(apps_body)};
    }
    if (r.target.starts_with("/v2/events")) {
      if (r.headers.count("accept") == 0 || r.headers.at("accept") != "text/event-stream")
        return {FakeServer::Reply::Full, FakeServer::status(405)};
      return {FakeServer::Reply::Stream, FakeServer::streamHead() + "\r\n"};
    }
    return {FakeServer::Reply::Full, FakeServer::status(404)};
  }
  FakeServer server;
  std::string apps_body = kApps;
  int apps_status = 200;
  bool hold_apps = false;
  std::string redirect_to;  // "" = leader; else 302 to this origin
};

class MarathonSourceTest : public ::testing::Test {
 protected:
  MarathonSourceTest() {
    spec_.event_debounce = milliseconds{20};
    spec_.max_backoff = milliseconds{50};
    spec_.request_timeout = milliseconds{2000};
    spec_.stream_idle_timeout = milliseconds{5000};
  }
  std::unique_ptr<Source> make(std::vector<std::string> urls) {
    spec_.urls = std::move(urls);
    Source::Callbacks cb;
    cb.on_document = [this](std::string body) { documents_.push_back(std::move(body)); };
    cb.on_task_ending = [this](const std::string& task, const std::string& app) {
      ending_.push_back({task, app, documents_.size()});
    };
    cb.on_error = [this](const std::string& e) { errors_.push_back(e); };
    auto source = createSource(loop_, spec_, std::move(cb));
    EXPECT_TRUE(source) << source.error().detail;
    return source ? std::move(*source) : nullptr;
  }
  // Started, stream attached, and the start + attach resyncs delivered.
  std::unique_ptr<Source> attached(Marathon& m) {
    auto source = make({m.server.url()});
    source->start();
    EXPECT_TRUE(runUntil(
        loop_, [&] { return source->status().stream_connected && documents_.size() >= 2; }));
    return source;
  }

  struct Ending {
    std::string task, app;
    size_t documents_before;
  };
  core::EventLoop loop_;
  conf::MarathonSpec spec_;
  std::vector<std::string> documents_, errors_;
  std::vector<Ending> ending_;
};

TEST_F(MarathonSourceTest, FullSyncDeliveredAndStreamRequestedLikeMarathonLb) {
  Marathon m(loop_);
  auto source = attached(m);
  EXPECT_EQ(documents_.front(), kApps);
  const auto& reqs = m.server.requests();
  bool saw_apps = false, saw_events = false;
  for (const auto& r : reqs) {
    if (r.target == "/v2/apps?embed=apps.tasks") {
      saw_apps = true;
      EXPECT_EQ(r.headers.at("accept"), "application/json");
    }
    if (r.target.starts_with("/v2/events?")) {
      saw_events = true;
      EXPECT_EQ(r.target, MarathonSource::eventsPath());
      EXPECT_EQ(r.headers.at("accept"), "text/event-stream");
      EXPECT_EQ(r.headers.at("cache-control"), "no-cache");
      EXPECT_NE(r.target.find("event_type=unhealthy_instance_kill_event"), std::string::npos);
    }
    EXPECT_EQ(r.headers.count("authorization"), 0u);
  }
  EXPECT_TRUE(saw_apps);
  EXPECT_TRUE(saw_events);
  const auto st = source->status();
  EXPECT_EQ(st.kind, "marathon");
  EXPECT_EQ(st.current_url, m.server.url());
  EXPECT_GE(st.documents, 2u);
  EXPECT_EQ(st.last_error, "");
  EXPECT_GT(st.last_success_unix_ms, 0);
}

TEST_F(MarathonSourceTest, EventBurstCausesExactlyOneResync) {
  Marathon m(loop_);
  auto source = attached(m);
  runFor(loop_, milliseconds{60});  // let any start-up resync settle
  const size_t before = m.server.count("/v2/apps");
  const size_t docs = documents_.size();
  std::string burst;
  for (int i = 0; i < 5; ++i)
    burst += sse("api_post_event", R"({"eventType":"api_post_event","uri":"/v2/apps/web"})");
  m.server.emit(burst);
  ASSERT_TRUE(runUntil(loop_, [&] { return documents_.size() > docs; }));
  runFor(loop_, milliseconds{100});  // 5× the debounce: nothing more may come
  EXPECT_EQ(m.server.count("/v2/apps"), before + 1);
  EXPECT_EQ(source->status().events, 5u);
}

TEST_F(MarathonSourceTest, EventsDuringAFetchCauseExactlyOneMore) {
  Marathon m(loop_);
  auto source = attached(m);
  runFor(loop_, milliseconds{60});
  const size_t before = m.server.count("/v2/apps");
  m.hold_apps = true;
  m.server.emit(sse("deployment_success", R"({"eventType":"deployment_success"})"));
  ASSERT_TRUE(runUntil(loop_, [&] { return m.server.count("/v2/apps") == before + 1; }));
  for (int i = 0; i < 3; ++i) {  // three separate debounce windows while the fetch hangs
    m.server.emit(sse("api_post_event", R"({"eventType":"api_post_event"})"));
    runFor(loop_, milliseconds{40});
  }
  m.hold_apps = false;
  const size_t docs = documents_.size();
  m.server.releaseHung(FakeServer::ok(kApps));
  ASSERT_TRUE(runUntil(loop_, [&] { return documents_.size() == docs + 2; }));
  runFor(loop_, milliseconds{100});
  EXPECT_EQ(m.server.count("/v2/apps"), before + 2);
}

TEST_F(MarathonSourceTest, KillingTaskDrainsBeforeTheResync) {
  Marathon m(loop_);
  auto source = attached(m);
  runFor(loop_, milliseconds{60});
  const size_t docs = documents_.size();
  m.server.emit(
      statusUpdate("web.1", "TASK_KILLING") + statusUpdate("web.2", "TASK_RUNNING") +
      sse("unhealthy_instance_kill_event",
          R"({"eventType":"unhealthy_instance_kill_event","taskId":"web.3","appId":"/web"})"));
  ASSERT_TRUE(runUntil(loop_, [&] { return documents_.size() > docs; }));
  ASSERT_EQ(ending_.size(), 2u);
  EXPECT_EQ(ending_[0].task, "web.1");
  EXPECT_EQ(ending_[0].app, "/web");
  EXPECT_EQ(ending_[0].documents_before, docs);  // before the resync landed
  EXPECT_EQ(ending_[1].task, "web.3");
}

TEST_F(MarathonSourceTest, RedirectFollowedOnceWithAuthorizationKept) {
  Marathon leader(loop_), standby(loop_);
  standby.redirect_to = leader.server.url();
  spec_.username = "user";
  spec_.password = "pa:ss";
  auto source = make({standby.server.url()});
  source->start();
  ASSERT_TRUE(
      runUntil(loop_, [&] { return source->status().stream_connected && !documents_.empty(); }));
  EXPECT_EQ(source->status().current_url, leader.server.url());
  ASSERT_FALSE(leader.server.requests().empty());
  for (const auto& r : leader.server.requests())
    EXPECT_EQ(r.headers.at("authorization"), "Basic dXNlcjpwYTpzcw==");  // user:pa:ss
  for (const auto& r : standby.server.requests())
    EXPECT_EQ(r.headers.at("authorization"), "Basic dXNlcjpwYTpzcw==");
}

TEST_F(MarathonSourceTest, TokenAuthHeader) {
  Marathon m(loop_);
  spec_.auth_token = "abc.def";
  auto source = make({m.server.url()});
  source->start();
  ASSERT_TRUE(runUntil(loop_, [&] { return !documents_.empty(); }));
  EXPECT_EQ(m.server.requests().front().headers.at("authorization"), "token=abc.def");
}

TEST_F(MarathonSourceTest, SecondRedirectRefused) {
  Marathon a(loop_), b(loop_), c(loop_);
  a.redirect_to = b.server.url();
  b.redirect_to = c.server.url();
  auto source = make({a.server.url()});
  source->start();
  ASSERT_TRUE(runUntil(loop_, [&] { return errors_.size() >= 2; }));
  EXPECT_TRUE(documents_.empty());
  EXPECT_TRUE(c.server.requests().empty());
  EXPECT_NE(errors_.front().find("second redirect"), std::string::npos) << errors_.front();
  EXPECT_FALSE(source->status().stream_connected);
}

uint16_t closedPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&sin), sizeof sin);
  socklen_t len = sizeof sin;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&sin), &len);
  ::close(fd);
  return ntohs(sin.sin_port);
}

TEST_F(MarathonSourceTest, FirstUrlDownSecondUsed) {
  Marathon m(loop_);
  const std::string dead = "http://127.0.0.1:" + std::to_string(closedPort());
  auto source = make({dead, m.server.url()});
  source->start();
  ASSERT_TRUE(
      runUntil(loop_, [&] { return source->status().stream_connected && !documents_.empty(); }));
  EXPECT_EQ(documents_.front(), kApps);
  EXPECT_EQ(source->status().current_url, m.server.url());
  // The good URL is now tried first: a resync goes straight to it.
  const size_t docs = documents_.size();
  const size_t errors = errors_.size();
  runFor(loop_, milliseconds{60});
  source->resync();
  ASSERT_TRUE(runUntil(loop_, [&] { return documents_.size() > docs; }));
  EXPECT_EQ(errors_.size(), errors);
}

TEST_F(MarathonSourceTest, StalledStreamReconnectsAfterIdleTimeout) {
  spec_.stream_idle_timeout = milliseconds{200};
  Marathon m(loop_);
  auto source = attached(m);
  const size_t streams = m.server.count("/v2/events");
  const size_t docs = documents_.size();
  const auto t0 = std::chrono::steady_clock::now();
  // The server keeps the connection open and writes nothing, not even heartbeats.
  ASSERT_TRUE(runUntil(loop_, [&] { return m.server.count("/v2/events") > streams; }));
  // The idle timer started at the stream's last byte, a little before t0.
  EXPECT_GE(std::chrono::steady_clock::now() - t0, milliseconds{120});
  EXPECT_EQ(source->status().reconnects, 1u);
  ASSERT_TRUE(runUntil(loop_, [&] { return documents_.size() > docs; }));  // reattach resyncs
}

TEST_F(MarathonSourceTest, HeartbeatsKeepTheStreamAlive) {
  spec_.stream_idle_timeout = milliseconds{200};
  Marathon m(loop_);
  auto source = attached(m);
  const size_t streams = m.server.count("/v2/events");
  for (int i = 0; i < 8; ++i) {
    m.server.emit("\r");
    runFor(loop_, milliseconds{30});
    m.server.emit("\n");
    runFor(loop_, milliseconds{30});
  }
  EXPECT_EQ(m.server.count("/v2/events"), streams);
  EXPECT_EQ(source->status().events, 0u);
}

TEST_F(MarathonSourceTest, ClosedStreamReconnectsAndResyncs) {
  Marathon m(loop_);
  auto source = attached(m);
  const size_t docs = documents_.size();
  m.server.closeStreams();
  ASSERT_TRUE(runUntil(loop_, [&] {
    return source->status().reconnects == 1 && source->status().stream_connected &&
           documents_.size() > docs;
  }));
  EXPECT_FALSE(errors_.empty());
}

TEST_F(MarathonSourceTest, ServerErrorAndGarbageReportErrorsAndKeepRunning) {
  Marathon m(loop_);
  m.apps_status = 500;
  auto source = make({m.server.url()});
  source->start();
  ASSERT_TRUE(runUntil(loop_, [&] { return !errors_.empty(); }));
  EXPECT_NE(errors_.front().find("HTTP 500"), std::string::npos) << errors_.front();
  EXPECT_NE(errors_.front().find(m.server.url()), std::string::npos);
  EXPECT_TRUE(documents_.empty());
  EXPECT_GE(source->status().failures, 1u);

  m.apps_status = 200;
  m.apps_body = "<html>proxy error</html>";
  errors_.clear();
  // The retry after backoff. A request already under way when the answer changed may still
  // report the 500 first (seen on a loaded machine), so wait for the garbage's own error.
  ASSERT_TRUE(runUntil(loop_, [&] {
    return std::ranges::any_of(errors_, [](const std::string& e) {
      return e.find("not a JSON object") != std::string::npos;
    });
  }));
  for (const std::string& e : errors_) {
    EXPECT_TRUE(e.find("not a JSON object") != std::string::npos ||
                e.find("HTTP 500") != std::string::npos)
        << e;
  }

  m.apps_body = kApps;
  ASSERT_TRUE(runUntil(loop_, [&] { return !documents_.empty(); }));
  EXPECT_EQ(source->status().last_error.find("apps"), std::string::npos);
}

TEST_F(MarathonSourceTest, HungRestCallTimesOut) {
  spec_.request_timeout = milliseconds{150};
  Marathon m(loop_);
  m.hold_apps = true;
  auto source = make({m.server.url()});
  source->start();
  ASSERT_TRUE(runUntil(loop_, [&] {
    for (const auto& e : errors_)
      if (e.find("/v2/apps") != std::string::npos) return true;
    return false;
  }));
}

// The manager may drop its source from a callback (a reload that changes the Marathon URLs).
TEST_F(MarathonSourceTest, SourceDestroyedInsideItsOwnCallbacks) {
  Marathon m(loop_);
  std::unique_ptr<Source> source;
  spec_.urls = {m.server.url()};
  Source::Callbacks cb;
  int documents = 0;
  cb.on_document = [&](std::string) {
    ++documents;
    source.reset();
  };
  cb.on_error = [&](const std::string&) { source.reset(); };
  source = std::move(*createSource(loop_, spec_, std::move(cb)));
  source->start();
  ASSERT_TRUE(runUntil(loop_, [&] { return source == nullptr; }));
  runFor(loop_, milliseconds{50});  // deferred deletions run; nothing calls back any more
  EXPECT_LE(documents, 1);

  // Same from the stream's error path: the server closes the stream.
  int errors = 0;
  Source::Callbacks cb2;
  cb2.on_error = [&](const std::string&) {
    ++errors;
    source.reset();
  };
  source = std::move(*createSource(loop_, spec_, std::move(cb2)));
  source->start();
  ASSERT_TRUE(runUntil(loop_, [&] { return m.server.streams() == 1; }));
  m.server.closeStreams();
  ASSERT_TRUE(runUntil(loop_, [&] { return source == nullptr; }));
  runFor(loop_, milliseconds{50});
  EXPECT_EQ(errors, 1);
}

TEST_F(MarathonSourceTest, RecycledBufferGivesExactlyTheNextDocument) {
  // As the file source: the manager hands each body back; the next fetch reads into it, which
  // must not leak the previous, longer document's bytes.
  Marathon m(loop_);
  m.apps_body = "{\"apps\":[" + std::string(100000, ' ') + "]}";
  auto source = attached(m);
  const size_t seen = documents_.size();
  ASSERT_EQ(documents_.back(), m.apps_body);
  const char* buffer = documents_.back().data();
  source->recycle(std::move(documents_.back()));
  m.apps_body = kApps;
  source->resync();
  ASSERT_TRUE(runUntil(loop_, [&] { return documents_.size() == seen + 1; }));
  EXPECT_EQ(documents_.back(), kApps);
  EXPECT_EQ(documents_.back().data(), buffer);  // read into the recycled buffer
  source->resync();                             // nothing recycled: a fresh buffer
  ASSERT_TRUE(runUntil(loop_, [&] { return documents_.size() == seen + 2; }));
  EXPECT_EQ(documents_.back(), kApps);
  EXPECT_EQ(documents_[seen], kApps);
}

TEST_F(MarathonSourceTest, NonHttpUrlRefused) {
  spec_.urls = {"ftp://x"};
  EXPECT_FALSE(createSource(loop_, spec_, {}));
  spec_.urls = {};
  EXPECT_FALSE(createSource(loop_, spec_, {}));
}

}  // namespace
}  // namespace baton::discovery
