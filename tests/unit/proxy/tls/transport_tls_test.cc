// core::Transport with TLS layers on both ends (server from ServerContexts, client from
// ClientContext via Transport::connect) in one EventLoop: bulk echo with backpressure and
// pauses, bytes left inside OpenSSL (SSL_pending) after a pause, key updates, failures.
#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include "proxy/tls/client_context.h"
#include "proxy/tls/context_builder.h"
#include "proxy/tls/ssl_layer.h"
#include "tests/unit/proxy/tls/tls_test_support.h"

namespace baton::tls {
namespace {

using ::testing::HasSubstr;
using testing::makeCertificate;
using testing::TempDir;
using testing::writeCertificate;

std::string takeAll(evbuffer* buf) {
  std::string out(evbuffer_get_length(buf), '\0');
  evbuffer_remove(buf, out.data(), out.size());
  return out;
}

// Echoes; with `pause_each_read` it stops reading after every read and resumes from a posted
// task, which is never socket readiness: bytes OpenSSL still holds must be delivered anyway.
struct EchoServer : core::Transport::Handler {
  explicit EchoServer(core::EventLoop& loop) : loop(loop) {}
  void onTransportReadable() override {
    std::string bytes = takeAll(t->input());
    reads.push_back(bytes.size());
    received += bytes.size();
    if (echo) t->write(bytes);
    if (on_read) on_read();
    if (!pause_each_read) return;
    t->pauseReading();
    if (t->pendingOutput() <= t->highWatermark() / 2) {
      loop.post([this] { t->resumeReading(); });
    }  // else onTransportDrained resumes
  }
  void onTransportDrained() override {
    ++drained;
    if (pause_each_read) t->resumeReading();
  }
  void onTransportConnected() override {}
  void onTransportSecured() override { secured = true; }
  void onTransportClosed(bool error, int) override {
    closed = true;
    closed_error = error;
    if (!error) t->shutdownWriteWhenFlushed();
  }
  core::EventLoop& loop;
  std::unique_ptr<core::Transport> t;
  bool echo = true, pause_each_read = true, secured = false, closed = false, closed_error = false;
  size_t received = 0;
  int drained = 0;
  std::vector<size_t> reads;
  std::function<void()> on_read;
};

struct Client : core::Transport::Handler {
  explicit Client(core::EventLoop& loop) : loop(loop) {}
  void onTransportReadable() override {
    received += takeAll(t->input());
    if (on_read) on_read();
    if (received.size() >= expect) loop.stop();
  }
  void onTransportDrained() override {}
  void onTransportConnected() override {
    connected = true;
    t->write(early);  // before the handshake: queued until it completes
  }
  void onTransportSecured() override {
    secured = true;
    t->write(payload);
  }
  void onTransportClosed(bool error, int) override {
    closed = true;
    closed_error = error;
    loop.stop();
  }
  core::EventLoop& loop;
  std::unique_ptr<core::Transport> t;
  std::string early, payload, received;
  size_t expect = 0;
  bool connected = false, secured = false, closed = false, closed_error = false;
  std::function<void()> on_read;
};

class TransportTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    conf::TlsSpec spec;
    spec.certificates = {writeCertificate(dir_, "s", makeCertificate("s", {"s.test"}))};
    auto built = builder_.build(spec);
    ASSERT_TRUE(built.has_value()) << built.error().detail;
    contexts_ = built->contexts;
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    addr_.sin_family = AF_INET;
    addr_.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr_), sizeof(addr_)), 0);
    socklen_t len = sizeof(addr_);
    ASSERT_EQ(::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr_), &len), 0);
    ASSERT_EQ(::listen(listen_fd_, 8), 0);
  }
  void TearDown() override { ::close(listen_fd_); }

  // Connects `client` (TLS client layer) and accepts the server side with a TLS server layer.
  void connectPair(Client& client, EchoServer& server, const ClientOptions& options,
                   size_t high_watermark = 1 << 20) {
    auto ctx = ClientContext::create(options);
    ASSERT_TRUE(ctx.has_value()) << ctx.error().detail;
    client_ctx_ = *ctx;
    auto factory = [c = client_ctx_](int fd) { return c->newSession(fd, "s.test"); };
    auto t = core::Transport::connect(loop_, reinterpret_cast<sockaddr*>(&addr_), sizeof(addr_),
                                      factory, &client, high_watermark);
    ASSERT_TRUE(t.has_value());
    client.t = std::move(*t);
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    ASSERT_GE(fd, 0);
    auto layer = contexts_->newSession(fd, std::vector<std::string>{"h2", "http/1.1"});
    ASSERT_TRUE(layer.has_value());
    server.t =
        std::make_unique<core::Transport>(loop_, fd, std::move(*layer), &server, high_watermark);
  }

  // Runs the loop, failing instead of hanging.
  void runBounded() {
    bool timed_out = false;
    core::Timer watchdog(loop_, [&] {
      timed_out = true;
      loop_.stop();
    });
    watchdog.arm(std::chrono::seconds(20));
    loop_.run();
    EXPECT_FALSE(timed_out) << "the loop stalled";
  }

  TempDir dir_;
  ContextBuilder builder_;
  std::shared_ptr<const ServerContexts> contexts_;
  std::shared_ptr<const ClientContext> client_ctx_;
  int listen_fd_ = -1;
  sockaddr_in addr_{};
  core::EventLoop loop_;
};

std::string pattern(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 7 + i / 4096) % 26);
  return s;
}

TEST_F(TransportTlsTest, OneMiBEchoWithPausesBackpressureAndAKeyUpdate) {
  Client client(loop_);
  EchoServer server(loop_);
  client.early = "early:";
  client.payload = pattern(1 << 20);
  client.expect = client.early.size() + client.payload.size();
  bool key_update_sent = false;
  client.on_read = [&] {
    if (key_update_sent) return;
    // A TLS 1.3 KeyUpdate asking the server for one back: the server's read must write.
    auto* layer = dynamic_cast<const SslLayer*>(client.t->secureLayer());
    ASSERT_NE(layer, nullptr);
    ASSERT_EQ(SSL_key_update(layer->native(), SSL_KEY_UPDATE_REQUESTED), 1);
    key_update_sent = true;
  };
  // Small socket buffers and a client that starts paused: the server's output must pile up
  // past its watermark (then drain) instead of vanishing into the kernel.
  const int small = 32 * 1024;
  setsockopt(listen_fd_, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
  connectPair(client, server, {.verify = false, .alpn = {"http/1.1"}}, 256 * 1024);
  setsockopt(client.t->fd(), SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
  client.t->pauseReading();
  bool client_resumed = false;
  server.on_read = [&] {
    if (!client_resumed && server.t->pendingOutput() > server.t->highWatermark() / 2) {
      client.t->resumeReading();
      client_resumed = true;
    }
  };
  runBounded();
  EXPECT_TRUE(client_resumed);
  EXPECT_TRUE(client.connected);
  EXPECT_TRUE(client.secured);
  EXPECT_TRUE(server.secured);
  EXPECT_TRUE(key_update_sent);
  EXPECT_EQ(client.t->secureLayer()->alpn(), "http/1.1");
  EXPECT_EQ(server.t->secureLayer()->serverName(), "s.test");
  ASSERT_EQ(client.received.size(), client.expect);
  EXPECT_TRUE(client.received == client.early + client.payload) << "echo differs";
  EXPECT_GT(server.drained, 0);  // the server's output did go over its watermark
  EXPECT_FALSE(client.closed);
}

TEST_F(TransportTlsTest, BytesLeftInsideOpenSslAreDeliveredAfterAPause) {
  Client client(loop_);
  EchoServer server(loop_);
  server.echo = false;
  // One 16 KiB TLS record; the server's first reads are 4 KiB, so after the first one the rest
  // sits decrypted inside OpenSSL while the socket is empty: only resumeReading() can fetch it.
  client.payload = pattern(16 * 1024);
  server.on_read = [&] {
    if (server.received == client.payload.size()) loop_.stop();
  };
  connectPair(client, server, {.verify = false});
  runBounded();
  EXPECT_EQ(server.received, client.payload.size());
  EXPECT_GE(server.reads.size(), 2u);
  EXPECT_EQ(server.reads.front(), 4096u);
}

TEST_F(TransportTlsTest, CleanCloseIsEofAndCloseNotifyComesBack) {
  Client client(loop_);
  EchoServer server(loop_);
  client.payload = "bye";
  client.expect = 3;
  connectPair(client, server, {.verify = false});
  runBounded();
  ASSERT_EQ(client.received, "bye");
  client.t->shutdownWriteWhenFlushed();  // close_notify, then SHUT_WR
  runBounded();                          // until the client sees the server's close_notify
  EXPECT_TRUE(server.closed);
  EXPECT_FALSE(server.closed_error);
  EXPECT_TRUE(client.closed);
  EXPECT_FALSE(client.closed_error);
  EXPECT_EQ(client.t->closeReason(), "");
}

TEST_F(TransportTlsTest, ClientVerificationFailureIsAHandshakeFailure) {
  Client client(loop_);
  EchoServer server(loop_);
  client.payload = "never sent";
  connectPair(client, server, {.verify = true, .ca_file = ""});  // self-signed: untrusted
  runBounded();
  EXPECT_TRUE(client.closed);
  EXPECT_TRUE(client.closed_error);
  EXPECT_FALSE(client.secured);
  EXPECT_FALSE(client.t->handshakeDone());
  EXPECT_THAT(client.t->closeReason(), HasSubstr("certificate verify failed"));
  EXPECT_EQ(server.received, 0u);
}

TEST_F(TransportTlsTest, AStaleErrorInTheThreadsQueueDoesNotFailTheConnection) {
  // SslLayer clears OpenSSL's per-thread error queue only when it holds something (peek first:
  // clearing an empty queue cost 8 % of a request). Whatever another TLS user of this thread
  // left there must still be cleared before each call, or SSL_get_error() would turn the
  // next WantRead into a fatal error. Errors are raised before the handshake, after every read
  // of both ends, and before a read that finds nothing.
  Client client(loop_);
  EchoServer server(loop_);
  server.pause_each_read = false;
  client.payload = pattern(40 * 1024);  // several records, several reads each way
  client.expect = client.payload.size();
  server.on_read = [] { ERR_raise(ERR_LIB_SSL, SSL_R_BAD_LENGTH); };
  client.on_read = [] { ERR_raise(ERR_LIB_SSL, SSL_R_BAD_LENGTH); };
  ERR_raise(ERR_LIB_SSL, SSL_R_BAD_LENGTH);
  connectPair(client, server, {.verify = false});
  runBounded();
  EXPECT_EQ(client.received, client.payload);
  EXPECT_FALSE(client.closed);
  EXPECT_FALSE(server.closed);
  EXPECT_EQ(client.t->closeReason(), "");
  EXPECT_EQ(server.t->closeReason(), "");
  // Nothing more is coming: a read must say WantRead, not fail on an error left in the queue.
  ERR_raise(ERR_LIB_SSL, SSL_R_BAD_LENGTH);
  auto* layer = const_cast<core::SecureLayer*>(server.t->secureLayer());
  char buf[16];
  EXPECT_EQ(layer->read(buf, sizeof(buf)).status, core::SecureLayer::Status::WantRead);
  EXPECT_EQ(ERR_peek_error(), 0u);
}

// writeNow over TLS: with nothing queued the record is on the socket before the callback ends
// (no output buffer, no flush); behind queued bytes it waits its turn, in order.
TEST_F(TransportTlsTest, WriteNowSendsAtOnceOnlyWhenNothingIsQueued) {
  Client client(loop_);
  EchoServer server(loop_);
  server.echo = false;
  server.pause_each_read = false;
  client.payload = "go";
  client.expect = 6;
  size_t pending_after_now = 99, pending_behind = 0;
  server.on_read = [&] {
    server.t->writeNow("now:", 4);
    pending_after_now = server.t->pendingOutput();
    server.t->write("a");
    server.t->writeNow("b", 1);
    pending_behind = server.t->pendingOutput();
  };
  connectPair(client, server, {.verify = false});
  runBounded();
  EXPECT_EQ(pending_after_now, 0u);
  EXPECT_EQ(pending_behind, 2u);
  EXPECT_EQ(client.received, "now:ab");
  EXPECT_EQ(server.t->pendingOutput(), 0u);
  EXPECT_FALSE(server.closed);
}

// Records written straight from the caller's bytes until the socket refuses one: that record
// is queued and given to OpenSSL again as it was (WantWrite), the rest waits behind it, and the
// client gets every byte in order once it reads.
TEST_F(TransportTlsTest, WriteNowQueuesARecordTheSocketRefusesAndRetriesIt) {
  Client client(loop_);
  EchoServer server(loop_);
  server.echo = false;
  server.pause_each_read = false;
  client.payload = "go";
  std::string sent;
  int direct = 0;
  server.on_read = [&] {
    // One record per call (4 KiB: a fresh socket's send buffer holds a few), until one is not
    // taken whole.
    while (server.t->pendingOutput() == 0 && sent.size() < (64u << 20)) {
      const std::string record =
          pattern(4 * 1024).replace(0, 8, std::to_string(100000000 + direct));
      sent += record;
      server.t->writeNow(record.data(), record.size());
      if (server.t->pendingOutput() == 0) ++direct;
    }
    const std::string tail = "tail";
    sent += tail;
    server.t->writeNow(tail.data(), tail.size());  // behind the refused record
    client.expect = sent.size();
  };
  connectPair(client, server, {.verify = false});
  runBounded();
  EXPECT_GT(direct, 0);
  ASSERT_EQ(client.received.size(), sent.size());
  EXPECT_TRUE(client.received == sent);
  EXPECT_EQ(server.t->pendingOutput(), 0u);
  EXPECT_FALSE(server.closed);
}

TEST_F(TransportTlsTest, PlainTransportIsUnchanged) {
  // No layer: no handshake, no onTransportSecured, closeReason() stays empty.
  Client client(loop_);
  auto t = core::Transport::connect(loop_, reinterpret_cast<sockaddr*>(&addr_), sizeof(addr_),
                                    &client, 1 << 20);
  ASSERT_TRUE(t.has_value());
  client.t = std::move(*t);
  EXPECT_FALSE(client.t->secure());
  EXPECT_TRUE(client.t->handshakeDone());
  const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
  ASSERT_GE(fd, 0);
  client.early = "plain";
  client.expect = 4;
  ASSERT_EQ(::write(fd, "pong", 4), 4);
  runBounded();
  EXPECT_TRUE(client.connected);
  EXPECT_FALSE(client.secured);
  EXPECT_EQ(client.received, "pong");
  char buf[8];
  EXPECT_EQ(::read(fd, buf, sizeof(buf)), 5);
  EXPECT_EQ(std::string(buf, 5), "plain");
  EXPECT_EQ(client.t->closeReason(), "");
  ::close(fd);
}

}  // namespace
}  // namespace baton::tls
