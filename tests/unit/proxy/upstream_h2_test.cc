// H2Pool / H2Connection / H2UpstreamStream against a real HTTP/2 backend on loopback: a thread
// serving each connection with baton's own ServerSession (answers 200 "ok:<path>" plus a
// grpc-status trailer). The pool runs on an EventLoop on its own thread (run_on_loop.h).
#include "proxy/upstream_h2.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>
#include <functional>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "proxy/http/http2/server_session.h"
#include "tests/unit/proxy/loopback_listener.h"
#include "tests/unit/proxy/run_on_loop.h"

namespace baton::proxy {
namespace {

using http2::H2Error;

// ---- The backend
// ---------------------------------------------------------------------------------

class Backend {
 public:
  explicit Backend(uint32_t max_streams, bool goaway_after_first = false)
      : max_streams_(max_streams), goaway_after_first_(goaway_after_first) {
    sockaddr_in a{};
    fd_ = test::listenLoopback(a, 16);
    port_ = ntohs(a.sin_port);
    accept_ = std::thread([this] { acceptLoop(); });
  }
  ~Backend() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    accept_.join();
    for (auto& t : serving_) t.join();
    ::close(fd_);
  }
  uint16_t port() const { return port_; }
  int connections() const { return connections_; }

 private:
  struct Conn : http2::SessionCallbacks, http2::SessionOutput {
    Backend* backend = nullptr;
    int fd = -1;
    std::unique_ptr<http2::ServerSession> session;
    std::string out;
    int answered = 0;
    void onRequestHead(int32_t id, http1::RequestHead&& head, bool) override {
      const std::string body = "ok:" + head.target;
      (void)session->submitResponse(id, 200, {}, std::nullopt, false);
      session->appendBody(id, body.data(), body.size());
      session->endBody(id, {{"grpc-status", "0"}});
      if (++answered == 1 && backend->goaway_after_first_) session->submitFinalGoaway();
    }
    void onRequestRejected(int32_t, core::ErrorCode, bool) override {}
    void onRequestData(int32_t id, const uint8_t*, size_t len) override {
      session->consume(id, len);
    }
    void onRequestTrailers(int32_t, http1::HeaderList&&) override {}
    void onRequestEnd(int32_t) override {}
    void onStreamClose(int32_t, H2Error, bool) override {}
    void onStreamWritable(int32_t) override {}
    void write(const uint8_t* data, size_t len) override {
      out.append(reinterpret_cast<const char*>(data), len);
    }
    bool full() const override { return false; }
  };

  void acceptLoop() {
    while (!stop_) {
      const int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) return;
      ++connections_;
      serving_.emplace_back([this, c] { serve(c); });
    }
  }

  void serve(int fd) {
    Conn conn;
    conn.backend = this;
    conn.fd = fd;
    http2::SessionLimits limits;
    limits.max_concurrent_streams = max_streams_;
    conn.session = std::move(*http2::ServerSession::create(limits, conn));
    char buf[65536];
    while (!stop_) {
      conn.session->sendTo(conn);
      if (!conn.out.empty()) {
        (void)!::write(fd, conn.out.data(), conn.out.size());
        conn.out.clear();
      }
      if (!conn.session->wantRead() && !conn.session->wantWrite()) break;
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      const ssize_t n = ::read(fd, buf, sizeof buf);
      if (n <= 0) break;
      if (!conn.session->feed(reinterpret_cast<const uint8_t*>(buf), static_cast<size_t>(n))) break;
    }
    ::close(fd);
  }

  int fd_ = -1;
  uint16_t port_ = 0;
  uint32_t max_streams_;
  bool goaway_after_first_;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
  std::thread accept_;
  std::vector<std::thread> serving_;
};

// ---- A Stream stand-in -------------------------------------------------------------------------

struct Exchange : UpstreamConnection::Handler {
  std::unique_ptr<H2UpstreamStream> stream;
  std::string path = "/";
  uint16_t status = 0;
  std::string body;
  http1::HeaderList trailers;
  bool complete = false;
  std::optional<core::Error> error;
  std::mutex* mu = nullptr;
  std::condition_variable* cv = nullptr;
  int* events = nullptr;

  // On the loop thread: wakes the test thread (which never holds `mu` while it waits on the
  // loop, so this cannot deadlock).
  void signal() {
    {
      std::lock_guard lock(*mu);
      ++*events;
    }
    cv->notify_all();
  }
  void onUpstreamConnected() override {
    const http1::HeaderList headers = {{"host", "backend.test"}};
    if (!stream->sendHead("GET", "backend.test", path, headers, false, true)) {
      error = core::Error::internal("sendHead failed");
      signal();
    }
  }
  void onUpstreamInformational(http1::ResponseHead&&) override {}
  void onUpstreamHead(http1::ResponseHead&& head) override { status = head.status; }
  void onUpstreamBody(const char* data, size_t len) override { body.append(data, len); }
  void onUpstreamTrailers(http1::HeaderList&& t) override { trailers = std::move(t); }
  void onUpstreamComplete() override {
    complete = true;
    signal();
  }
  void onUpstreamError(core::Error e) override {
    error = std::move(e);
    signal();
  }
  void onUpstreamDrained() override {}
  void onUpstreamUpgraded() override {}
};

class H2PoolTest : public test::LoopThreadTest {
 protected:
  void SetUp() override {
    signal(SIGPIPE, SIG_IGN);
    startLoop();
    run([this] { pool_ = std::make_unique<H2Pool>(loop_); });
  }
  void TearDown() override {
    run([this] {
      exchanges_.clear();
      pool_.reset();
      loop_.flushDeferred();
    });
    stopLoop();
  }
  // A host's strings are views (upstream/cluster.h): the fixture keeps what they view.
  upstream::Host hostFor(uint16_t port) {
    upstream::Host h;
    h.address = addresses_.emplace_back("127.0.0.1:" + std::to_string(port));
    auto* a = reinterpret_cast<sockaddr_in*>(&h.sockaddr);
    a->sin_family = AF_INET;
    a->sin_port = htons(port);
    a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    h.sockaddr_len = sizeof(sockaddr_in);
    return h;
  }
  // Opens `n` exchanges to `host` on the loop; each sends its head once connected.
  // `then` runs in the same loop task, before any I/O: a test can act on a stream whose
  // request has not been answered yet, without racing the backend.
  void open(const upstream::Host& host, int n, const std::function<void()>& then = {}) {
    run([&] {
      for (int i = 0; i < n; ++i) {
        auto ex = std::make_unique<Exchange>();
        ex->path = "/r" + std::to_string(exchanges_.size());
        ex->mu = &mu_;
        ex->cv = &cv_;
        ex->events = &events_;
        Exchange* raw = ex.get();
        exchanges_.push_back(std::move(ex));
        raw->stream = pool_->open(host, H2Options{}, raw);
        if (raw->stream == nullptr) {
          raw->error = core::Error::internal("open failed");
        } else if (raw->stream->ready()) {
          raw->onUpstreamConnected();
        }
      }
      if (then) then();
    });
  }
  // Waits (on the exchanges' signals) until `done` holds, evaluated on the loop.
  template <typename Pred>
  bool waitFor(Pred done) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (true) {
      int seen = 0;
      {
        std::lock_guard lock(mu_);
        seen = events_;
      }
      if (run(done)) return true;
      std::unique_lock lock(mu_);
      if (!cv_.wait_until(lock, deadline, [&] { return events_ != seen; })) return false;
    }
  }
  // Waits until every exchange completed or failed.
  void waitAll() {
    ASSERT_TRUE(waitFor([this] {
      for (auto& ex : exchanges_) {
        if (!ex->complete && !ex->error) return false;
      }
      return true;
    })) << "exchanges did not finish";
  }
  // Ends the finished exchanges (as the Stream releases its upstream).
  void release() {
    run([this] {
      for (auto& ex : exchanges_) ex->stream.reset();
    });
  }
  size_t connectionCount() {
    return run([this] { return pool_->connectionCount(); });
  }

  std::deque<std::string> addresses_;  // before pool_: outlives the connections keyed by them
  std::unique_ptr<H2Pool> pool_;
  std::vector<std::unique_ptr<Exchange>> exchanges_;
  std::mutex mu_;
  std::condition_variable cv_;
  int events_ = 0;  // guarded by mu_
};

TEST_F(H2PoolTest, ResponseBodyAndTrailersReachTheHandler) {
  Backend backend(100);
  open(hostFor(backend.port()), 1);
  waitAll();
  const Exchange& ex = *exchanges_[0];
  ASSERT_FALSE(ex.error.has_value()) << ex.error->detail;
  EXPECT_EQ(ex.status, 200);
  EXPECT_EQ(ex.body, "ok:/r0");
  ASSERT_EQ(ex.trailers.size(), 1u);
  EXPECT_EQ(ex.trailers[0].name, "grpc-status");
  EXPECT_TRUE(run([&] { return ex.stream->complete(); }));
}

TEST_F(H2PoolTest, StreamsShareAConnectionUpToTheBackendLimit) {
  Backend backend(2);
  const upstream::Host host = hostFor(backend.port());
  open(host, 1);  // learns the backend's SETTINGS_MAX_CONCURRENT_STREAMS
  waitAll();
  release();
  exchanges_.clear();
  open(host, 5);  // 2 + 2 on the learnt limit, one more connection for the fifth
  waitAll();
  for (const auto& ex : exchanges_) {
    ASSERT_FALSE(ex->error.has_value()) << ex->error->detail;
    EXPECT_EQ(ex->body, "ok:" + ex->path);
  }
  EXPECT_EQ(backend.connections(), 3);
  release();
  EXPECT_EQ(connectionCount(), 3u);  // idle connections stay for upstream_idle
}

TEST_F(H2PoolTest, GoawayRetiresTheConnection) {
  Backend backend(100, /*goaway_after_first=*/true);
  const upstream::Host host = hostFor(backend.port());
  open(host, 1);
  waitAll();
  release();
  exchanges_.clear();
  open(host, 1);  // the first connection took GOAWAY: a new one
  waitAll();
  ASSERT_FALSE(exchanges_[0]->error.has_value()) << exchanges_[0]->error->detail;
  EXPECT_EQ(backend.connections(), 2);
}

TEST_F(H2PoolTest, ConnectFailureIsRetryable) {
  uint16_t port = 0;
  {
    Backend gone(1);
    port = gone.port();
  }  // nothing listens there any more
  open(hostFor(port), 2);
  waitAll();
  for (const auto& ex : exchanges_) {
    ASSERT_TRUE(ex->error.has_value());
    EXPECT_TRUE(ex->error->retryable);
    EXPECT_EQ(ex->error->code, core::ErrorCode::UpstreamConnectFailed);
  }
  EXPECT_EQ(connectionCount(), 0u);
}

TEST_F(H2PoolTest, ReleasingBeforeTheResponseResetsOnlyThatStream) {
  Backend backend(100);
  const upstream::Host host = hostFor(backend.port());
  open(host, 2, [this] { exchanges_[0]->stream.reset(); });  // the client went away at once
  ASSERT_TRUE(
      waitFor([this] { return exchanges_[1]->complete || exchanges_[1]->error.has_value(); }));
  EXPECT_TRUE(exchanges_[1]->complete);
  EXPECT_EQ(exchanges_[1]->body, "ok:/r1");
  EXPECT_FALSE(exchanges_[0]->complete);
}

}  // namespace
}  // namespace baton::proxy
