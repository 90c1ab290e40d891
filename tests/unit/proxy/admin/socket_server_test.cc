// The admin socket server on a real UNIX socket under a temp directory, with a fake Executor:
// framing (LF, CRLF, blank lines, over-long lines), in-order execution of pipelined commands
// (one at a time, asynchronous answers), quit, half-close, output backpressure, socket file
// creation (mode, stale/live/non-socket files, removal) and the peer check.
#include "proxy/admin/socket_server.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <condition_variable>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "proxy/core/event_loop.h"

namespace baton::proxy::admin {
namespace {

using namespace std::chrono_literals;

// ---- peerAllowed (pure) --------------------------------------------------------------------

TEST(PeerAllowed, RootAndOwnUidAlwaysPass) {
  AdminSocketOptions none;
  EXPECT_TRUE(peerAllowed(0, 1234, 1000, none));
  EXPECT_TRUE(peerAllowed(1000, 1234, 1000, none));
  EXPECT_FALSE(peerAllowed(1001, 1234, 1000, none));
}

TEST(PeerAllowed, ListedUidOrGidPasses) {
  AdminSocketOptions options;
  options.allowed_uids = {2000, 2001};
  options.allowed_gids = {50};
  EXPECT_TRUE(peerAllowed(2001, 9, 1000, options));
  EXPECT_TRUE(peerAllowed(3000, 50, 1000, options));
  EXPECT_FALSE(peerAllowed(3000, 51, 1000, options));
  EXPECT_FALSE(peerAllowed(65534, 65534, 1000, options));
}

// ---- helpers -------------------------------------------------------------------------------

std::filesystem::path tempDir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "baton-sock-XXXXXX").string();
  char* made = mkdtemp(pattern.data());
  EXPECT_NE(made, nullptr);
  return made;
}

sockaddr_un addressOf(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.data(), path.size());
  return addr;
}

// A blocking client with a receive timeout (no test can hang).
class Client {
 public:
  explicit Client(const std::string& path) {
    fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    timeval tv{5, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    sockaddr_un addr = addressOf(path);
    connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  }
  ~Client() { close(fd_); }
  bool connected() const { return connected_; }
  void send(std::string_view bytes) {
    while (!bytes.empty()) {
      ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      ASSERT_GT(n, 0) << std::strerror(errno);
      bytes.remove_prefix(static_cast<size_t>(n));
    }
  }
  void shutdownWrite() { shutdown(fd_, SHUT_WR); }
  // One answer: everything up to and including the first "\n\n" (empty on EOF/timeout).
  std::string answer() {
    while (true) {
      size_t end = buf_.find("\n\n");
      if (end != std::string::npos) {
        std::string out = buf_.substr(0, end + 2);
        buf_.erase(0, end + 2);
        return out;
      }
      if (!fill()) return {};
    }
  }
  // True when the server closed the connection (after any buffered bytes).
  bool closedAfter(std::string* rest = nullptr) {
    while (fill()) {
    }
    if (rest != nullptr) *rest = buf_;
    return eof_;
  }

 private:
  bool fill() {
    char chunk[65536];
    ssize_t n = recv(fd_, chunk, sizeof(chunk), 0);
    if (n == 0) eof_ = true;
    if (n <= 0) return false;
    buf_.append(chunk, static_cast<size_t>(n));
    return true;
  }
  int fd_ = -1;
  bool connected_ = false;
  bool eof_ = false;
  std::string buf_;
};

// The fake Executor: records every line; "echo X" answers "X" at once; "hold X" answers only
// when the test calls release(); "big N" answers N KiB. Runs on the loop thread.
class FakeExecutor {
 public:
  AdminSocketServer::Executor executor() {
    return [this](std::string_view line, std::function<void(std::string)> done) {
      std::unique_lock lock(mutex_);
      lines_.emplace_back(line);
      // In-order, one at a time: nothing new may start while a held command is unanswered.
      if (held_) overlapped_ = true;
      std::string text(line);
      if (text.starts_with("hold ")) {
        held_ = std::move(done);
        held_text_ = text.substr(5);
        cv_.notify_all();
        return;
      }
      cv_.notify_all();
      lock.unlock();
      if (text.starts_with("echo ")) {
        done(text.substr(5) + "\n\n");
      } else if (text.starts_with("big ")) {
        std::string body(static_cast<size_t>(std::stoi(text.substr(4))) * 1024, 'x');
        done(body + "\n\n");
      } else {
        done("unknown: " + text + "\n\n");
      }
    };
  }
  // Waits until `n` lines were executed; returns them.
  std::vector<std::string> waitLines(size_t n) {
    std::unique_lock lock(mutex_);
    cv_.wait_for(lock, 5s, [&] { return lines_.size() >= n; });
    return lines_;
  }
  std::vector<std::string> lines() {
    std::lock_guard lock(mutex_);
    return lines_;
  }
  bool waitHeld() {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, 5s, [&] { return static_cast<bool>(held_); });
  }
  // Answers the held command (call on the loop thread).
  void release() {
    std::function<void(std::string)> done;
    std::string text;
    {
      std::lock_guard lock(mutex_);
      done = std::move(held_);
      held_ = nullptr;
      text = held_text_;
    }
    if (done) done(text + "\n\n");
  }
  bool overlapped() {
    std::lock_guard lock(mutex_);
    return overlapped_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<std::string> lines_;
  std::function<void(std::string)> held_;
  std::string held_text_;
  bool overlapped_ = false;
};

class AdminSocketTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::signal(SIGPIPE, SIG_IGN);  // as baton does: a client gone mid-answer is an EPIPE
    dir_ = tempDir();
    path_ = (dir_ / "admin.sock").string();
    chmod(dir_.c_str(), 0755);  // the peer-check tests connect as nobody
  }
  void TearDown() override {
    stopLoop();
    server_.reset();
    std::filesystem::remove_all(dir_);
  }
  core::Result<void> startServer(AdminSocketOptions options = {}) {
    if (options.path.empty()) options.path = path_;
    server_ = std::make_unique<AdminSocketServer>(loop_, options, fake_.executor());
    return server_->start();
  }
  void runLoop() {
    thread_ = std::thread([this] { loop_.run(); });
  }
  void stopLoop() {
    if (!thread_.joinable()) return;
    loop_.post([this] { loop_.stop(); });
    thread_.join();
  }
  // Runs `f` on the loop thread and waits for it.
  void onLoop(std::function<void()> f) {
    std::promise<void> done;
    loop_.post([&] {
      f();
      done.set_value();
    });
    done.get_future().wait();
  }

  std::filesystem::path dir_;
  std::string path_;
  core::EventLoop loop_;
  FakeExecutor fake_;
  std::unique_ptr<AdminSocketServer> server_;
  std::thread thread_;
};

// ---- protocol ------------------------------------------------------------------------------

TEST_F(AdminSocketTest, AnswersLinesInOrderWithCrlfAndBlankLines) {
  ASSERT_TRUE(startServer().has_value());
  runLoop();
  Client c(path_);
  ASSERT_TRUE(c.connected());
  c.send("echo one\n\n  \r\necho two\r\nnope\n");
  EXPECT_EQ(c.answer(), "one\n\n");
  EXPECT_EQ(c.answer(), "two\n\n");
  EXPECT_EQ(c.answer(), "unknown: nope\n\n");
  // Blank lines are skipped; "\r" before "\n" is dropped.
  EXPECT_EQ(fake_.lines(), (std::vector<std::string>{"echo one", "echo two", "nope"}));
}

TEST_F(AdminSocketTest, PipelinedCommandsRunOneAtATime) {
  ASSERT_TRUE(startServer().has_value());
  runLoop();
  Client c(path_);
  c.send("hold first\necho second\necho third\n");
  ASSERT_TRUE(fake_.waitHeld());
  // The held command has not answered: the next ones wait (two loop round trips to be sure the
  // server had every chance to run them).
  onLoop([] {});
  onLoop([] {});
  EXPECT_EQ(fake_.lines(), std::vector<std::string>{"hold first"});
  onLoop([this] { fake_.release(); });
  EXPECT_EQ(c.answer(), "first\n\n");
  EXPECT_EQ(c.answer(), "second\n\n");
  EXPECT_EQ(c.answer(), "third\n\n");
  EXPECT_FALSE(fake_.overlapped());
}

TEST_F(AdminSocketTest, AnswerAfterTheClientLeftIsDropped) {
  ASSERT_TRUE(startServer().has_value());
  runLoop();
  {
    Client c(path_);
    c.send("hold x\n");
    ASSERT_TRUE(fake_.waitHeld());
  }
  // Wait for the server to see the close, then answer: nothing to crash on.
  Client probe(path_);
  probe.send("echo alive\n");
  EXPECT_EQ(probe.answer(), "alive\n\n");
  onLoop([this] { fake_.release(); });
  probe.send("echo still\n");
  EXPECT_EQ(probe.answer(), "still\n\n");
}

TEST_F(AdminSocketTest, LongLineIsRefusedAndClosed) {
  ASSERT_TRUE(startServer().has_value());
  runLoop();
  Client c(path_);
  c.send("echo ok\n" + std::string(5000, 'a') + "\necho never\n");
  EXPECT_EQ(c.answer(), "ok\n\n");
  std::string refusal = c.answer();
  EXPECT_TRUE(refusal.starts_with("usage: ")) << refusal;
  EXPECT_TRUE(c.closedAfter());
  EXPECT_EQ(fake_.lines(), std::vector<std::string>{"echo ok"});
}

TEST_F(AdminSocketTest, LongLineWithoutNewlineIsRefused) {
  ASSERT_TRUE(startServer().has_value());
  runLoop();
  Client c(path_);
  c.send(std::string(4097, 'b'));
  EXPECT_TRUE(c.answer().starts_with("usage: "));
  EXPECT_TRUE(c.closedAfter());
  EXPECT_TRUE(fake_.lines().empty());
}

TEST_F(AdminSocketTest, A4KiBLineIsAccepted) {
  ASSERT_TRUE(startServer().has_value());
  runLoop();
  Client c(path_);
  std::string line = "echo " + std::string(4096 - 5, 'c');
  c.send(line + "\n");
  EXPECT_EQ(c.answer(), line.substr(5) + "\n\n");
}

TEST_F(AdminSocketTest, QuitClosesAfterEarlierAnswers) {
  ASSERT_TRUE(startServer().has_value());
  runLoop();
  Client c(path_);
  c.send("echo before\nquit\necho after\n");
  EXPECT_EQ(c.answer(), "before\n\n");
  std::string rest;
  EXPECT_TRUE(c.closedAfter(&rest));
  EXPECT_EQ(rest, "");
  EXPECT_EQ(fake_.lines(), std::vector<std::string>{"echo before"});
}

TEST_F(AdminSocketTest, HalfCloseStillGetsEveryAnswer) {
  ASSERT_TRUE(startServer().has_value());
  runLoop();
  Client c(path_);
  c.send("hold a\necho b\necho c");  // the last line has no newline: the EOF ends it
  c.shutdownWrite();
  ASSERT_TRUE(fake_.waitHeld());
  onLoop([this] { fake_.release(); });
  EXPECT_EQ(c.answer(), "a\n\n");
  EXPECT_EQ(c.answer(), "b\n\n");
  EXPECT_EQ(c.answer(), "c\n\n");
  EXPECT_TRUE(c.closedAfter());
}

TEST_F(AdminSocketTest, SlowReaderStopsCommandsUntilItCatchesUp) {
  ASSERT_TRUE(startServer().has_value());
  runLoop();
  Client c(path_);
  std::string lines;
  for (int i = 0; i < 12; ++i) lines += "big 600\n";  // 12 x 600 KiB, never read yet
  c.send(lines);
  fake_.waitLines(2);
  onLoop([] {});
  onLoop([] {});
  // Over 1 MiB queued stops the next commands; a socket buffer's worth more may have gone out.
  EXPECT_LT(fake_.lines().size(), 6u);
  for (int i = 0; i < 12; ++i) {
    std::string a = c.answer();
    ASSERT_EQ(a.size(), 600u * 1024 + 2) << i;
  }
  EXPECT_EQ(fake_.lines().size(), 12u);
}

TEST_F(AdminSocketTest, ManySessionsAtOnce) {
  ASSERT_TRUE(startServer().has_value());
  runLoop();
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < 10; ++i) {
    clients.push_back(std::make_unique<Client>(path_));
    clients.back()->send("echo " + std::to_string(i) + "\n");
  }
  for (int i = 0; i < 10; ++i) EXPECT_EQ(clients[i]->answer(), std::to_string(i) + "\n\n");
}

TEST_F(AdminSocketTest, SessionCountIsBounded) {
  ASSERT_TRUE(startServer().has_value());
  runLoop();
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < 64; ++i) {
    clients.push_back(std::make_unique<Client>(path_));
    clients.back()->send("echo " + std::to_string(i) + "\n");
    ASSERT_EQ(clients.back()->answer(), std::to_string(i) + "\n\n");
  }
  Client extra(path_);
  EXPECT_TRUE(extra.answer().starts_with("failed: ")) << "65th session accepted";
  EXPECT_TRUE(extra.closedAfter());
  // One leaves: room for the next.
  clients.front()->send("quit\n");
  EXPECT_TRUE(clients.front()->closedAfter());
  // The server may see the new connection before the quit; retry until it has room.
  bool served = false;
  for (int attempt = 0; attempt < 100 && !served; ++attempt) {
    Client next(path_);
    next.send("echo again\n");
    std::string a = next.answer();
    served = a == "again\n\n";
    if (!served) onLoop([] {});
  }
  EXPECT_TRUE(served);
}

TEST_F(AdminSocketTest, ServerDestroyedByItsOwnCommand) {
  // A command that tears the server down (shutdown, a reload moving the socket) from inside
  // the session's callback: the session unwinds without touching the dead server.
  AdminSocketOptions options;
  options.path = path_;
  std::promise<void> destroyed;
  server_ = std::make_unique<AdminSocketServer>(
      loop_, options, [&](std::string_view line, std::function<void(std::string)> done) {
        if (line == "die") {
          server_.reset();
          destroyed.set_value();
        }
        done("late\n\n");
      });
  ASSERT_TRUE(server_->start().has_value());
  runLoop();
  Client c(path_);
  c.send("echo first\ndie\necho never\n");
  destroyed.get_future().wait();
  // Closed; the first answer may or may not have left before the server went away.
  std::string rest;
  EXPECT_TRUE(c.closedAfter(&rest));
  EXPECT_TRUE(rest.empty() || rest == "late\n\n") << rest;
  EXPECT_FALSE(std::filesystem::exists(path_));
}

// ---- the socket file -----------------------------------------------------------------------

TEST_F(AdminSocketTest, ModeIsSetWhateverTheUmask) {
  mode_t old = umask(0);  // bind alone would make it 0777
  auto started = startServer();
  umask(old);
  ASSERT_TRUE(started.has_value()) << started.error().detail;
  struct stat st {};
  ASSERT_EQ(stat(path_.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0600u);
}

TEST_F(AdminSocketTest, ConfiguredModeIsApplied) {
  AdminSocketOptions options;
  options.mode = 0660;
  ASSERT_TRUE(startServer(options).has_value());
  struct stat st {};
  ASSERT_EQ(stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0660u);
}

TEST_F(AdminSocketTest, StaleSocketIsReplaced) {
  // A socket file nobody listens on: what a crashed baton leaves behind.
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr = addressOf(path_);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  close(fd);
  ASSERT_TRUE(std::filesystem::exists(path_));
  auto started = startServer();
  ASSERT_TRUE(started.has_value()) << started.error().detail;
  runLoop();
  Client c(path_);
  c.send("echo fresh\n");
  EXPECT_EQ(c.answer(), "fresh\n\n");
}

TEST_F(AdminSocketTest, LiveSocketIsRefusedAndLeftAlone) {
  ASSERT_TRUE(startServer().has_value());
  {
    AdminSocketOptions options;
    options.path = path_;
    FakeExecutor other;
    AdminSocketServer second(loop_, options, other.executor());
    auto started = second.start();
    ASSERT_FALSE(started.has_value());
    EXPECT_NE(started.error().detail.find(path_), std::string::npos) << started.error().detail;
  }
  // The refused server removed nothing: the first one still serves.
  runLoop();
  Client c(path_);
  ASSERT_TRUE(c.connected());
  c.send("echo first\n");
  EXPECT_EQ(c.answer(), "first\n\n");
}

TEST_F(AdminSocketTest, NonSocketFileIsRefused) {
  {
    std::FILE* f = std::fopen(path_.c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fputs("precious", f);
    std::fclose(f);
  }
  auto started = startServer();
  ASSERT_FALSE(started.has_value());
  EXPECT_NE(started.error().detail.find(path_), std::string::npos);
  EXPECT_NE(started.error().detail.find("not a socket"), std::string::npos);
  server_.reset();
  EXPECT_EQ(std::filesystem::file_size(path_), 8u);  // untouched
}

TEST_F(AdminSocketTest, MissingDirectoryIsAnError) {
  AdminSocketOptions options;
  options.path = (dir_ / "no" / "such" / "admin.sock").string();
  auto started = startServer(options);
  ASSERT_FALSE(started.has_value());
  EXPECT_NE(started.error().detail.find(options.path), std::string::npos);
}

TEST_F(AdminSocketTest, DestructionRemovesOnlyItsOwnSocket) {
  ASSERT_TRUE(startServer().has_value());
  server_.reset();
  EXPECT_FALSE(std::filesystem::exists(path_));

  // Another process replaced our file meanwhile: leave theirs alone.
  ASSERT_TRUE(startServer().has_value());
  std::string other = (dir_ / "other.sock").string();
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr = addressOf(other);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(rename(other.c_str(), path_.c_str()), 0);
  server_.reset();
  EXPECT_TRUE(std::filesystem::exists(path_));
  close(fd);
}

// ---- the peer check ------------------------------------------------------------------------

// Connects as uid/gid 65534 (nobody) from a forked child, sends `request`, returns what the
// server answered before closing (the child reads until EOF).
std::string talkAsNobody(const std::string& path, const char* request) {
  int out[2];
  if (pipe(out) != 0) return "pipe failed";
  sockaddr_un addr = addressOf(path);
  const size_t request_len = std::strlen(request);
  pid_t pid = fork();
  if (pid == 0) {
    // Child: async-signal-safe calls only (the parent has threads).
    if (setgid(65534) != 0 || setuid(65534) != 0) _exit(3);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) _exit(4);
    // A refusal may already have closed the connection: a failed send is fine, the refusal
    // is still there to read.
    ssize_t sent = ::send(fd, request, request_len, MSG_NOSIGNAL);
    (void)sent;
    char buf[512];
    size_t total = 0;
    while (total < sizeof(buf)) {
      ssize_t n = read(fd, buf + total, sizeof(buf) - total);
      if (n <= 0) break;
      total += static_cast<size_t>(n);
    }
    if (write(out[1], buf, total) < 0) _exit(5);
    _exit(0);
  }
  close(out[1]);
  std::string got;
  char buf[512];
  ssize_t n;
  while ((n = read(out[0], buf, sizeof(buf))) > 0) got.append(buf, static_cast<size_t>(n));
  close(out[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return "child failed with status " + std::to_string(status);
  }
  return got;
}

TEST_F(AdminSocketTest, AnotherUidIsDenied) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to connect as another uid";
  AdminSocketOptions options;
  options.mode = 0666;  // the file lets anyone connect: SO_PEERCRED must still refuse
  ASSERT_TRUE(startServer(options).has_value());
  runLoop();
  std::string got = talkAsNobody(path_, "echo hi\n");
  EXPECT_TRUE(got.starts_with("denied: ")) << got;
  EXPECT_TRUE(got.ends_with("\n\n")) << got;
  EXPECT_TRUE(fake_.lines().empty());
}

TEST_F(AdminSocketTest, ListedUidIsAllowed) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to connect as another uid";
  AdminSocketOptions options;
  options.mode = 0666;
  options.allowed_uids = {65534};
  ASSERT_TRUE(startServer(options).has_value());
  runLoop();
  EXPECT_EQ(talkAsNobody(path_, "echo hi\nquit\n"), "hi\n\n");
}

TEST_F(AdminSocketTest, ListedGidIsAllowed) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to connect as another uid";
  AdminSocketOptions options;
  options.mode = 0666;
  options.allowed_gids = {65534};
  ASSERT_TRUE(startServer(options).has_value());
  runLoop();
  EXPECT_EQ(talkAsNobody(path_, "echo hi\nquit\n"), "hi\n\n");
}

}  // namespace
}  // namespace baton::proxy::admin
