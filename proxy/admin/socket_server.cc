#include "proxy/admin/socket_server.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <optional>
#include <unordered_map>

#include "proxy/core/event_loop.h"
#include "proxy/core/log.h"

namespace baton::proxy::admin {

namespace {

constexpr size_t kMaxLine = 4096;
// Reading stops while this much unanswered input waits (a client pipelining faster than the
// commands run); well above kMaxLine so an over-long line is always seen whole.
constexpr size_t kMaxQueuedInput = 64 * 1024;
// Reading (and running further commands) stops while this much output waits for a slow reader.
constexpr size_t kMaxQueuedOutput = 1024 * 1024;
constexpr std::chrono::milliseconds kIdleTimeout = std::chrono::minutes(5);
// Operators, scripts and a dashboard: a few sessions. More is a runaway script.
constexpr size_t kMaxSessions = 64;

std::string errnoText(int err) {
  return std::strerror(err);
}

core::Error socketError(const std::string& path, const std::string& what) {
  return core::Error::config("admin.socket " + path + ": " + what);
}

// What is at `path` now? A live socket (someone accepts), a stale one, nothing, or other.
enum class PathState { Absent, StaleSocket, LiveSocket, NotSocket };

core::Result<PathState> probePath(const std::string& path, const sockaddr_un& addr) {
  struct stat st {};
  if (lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return PathState::Absent;
    return core::fail(socketError(path, errnoText(errno)));
  }
  if (!S_ISSOCK(st.st_mode)) return PathState::NotSocket;
  // A socket file: connect() tells a running server (accepts, or its backlog is full) from the
  // leftover of a crashed one (refused). Non-blocking, so a full backlog cannot hang start().
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return core::fail(socketError(path, errnoText(errno)));
  int rc = connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr));
  const int err = errno;
  close(fd);
  if (rc == 0 || err == EAGAIN || err == EINPROGRESS) return PathState::LiveSocket;
  if (err == ECONNREFUSED) return PathState::StaleSocket;
  if (err == ENOENT) return PathState::Absent;  // removed meanwhile
  return core::fail(socketError(path, "cannot probe the existing socket: " + errnoText(err)));
}

}  // namespace

bool peerAllowed(uid_t peer_uid, gid_t peer_gid, uid_t own_uid, const AdminSocketOptions& options) {
  if (peer_uid == 0 || peer_uid == own_uid) return true;
  if (std::ranges::find(options.allowed_uids, static_cast<uint32_t>(peer_uid)) !=
      options.allowed_uids.end()) {
    return true;
  }
  return std::ranges::find(options.allowed_gids, static_cast<uint32_t>(peer_gid)) !=
         options.allowed_gids.end();
}

// One operator connection. Owned by Impl::sessions (shared_ptr so that an answer arriving after
// the session closed finds it gone through a weak_ptr); every libevent callback holds a strong
// reference while it runs, so a session may close itself from inside any of them.
class SocketSession : public std::enable_shared_from_this<SocketSession> {
 public:
  SocketSession(AdminSocketServer::Impl& server, bufferevent* bev);
  ~SocketSession();
  SocketSession(const SocketSession&) = delete;
  SocketSession& operator=(const SocketSession&) = delete;

  void begin();

 private:
  static void onRead(bufferevent* bev, void* arg);
  static void onWrite(bufferevent* bev, void* arg);
  static void onEvent(bufferevent* bev, short what, void* arg);

  void runNext();
  // Takes the next complete line from the input; nullopt when there is none yet. Refuses an
  // over-long line (answer + close) and returns nullopt.
  std::optional<std::string> takeLine();
  void answer(std::string text);
  void closeAfterFlush();
  void closeNow();
  void updateReading();
  void touch() { idle_.arm(kIdleTimeout); }
  void onIdle();

  AdminSocketServer::Impl& server_;
  // False once the server is destroyed: a command (a future `shutdown`, a reload that moves the
  // socket) may destroy it from inside this session's callback; the session then only unwinds.
  std::shared_ptr<const bool> server_alive_;
  bufferevent* bev_;
  core::Timer idle_;
  bool busy_ = false;         // a command runs; its answer is not in yet
  bool in_executor_ = false;  // inside executor(): a synchronous answer must not recurse
  bool eof_ = false;          // the client shut down its side; answer what is queued, then close
  bool closing_ = false;      // close once the output is flushed
};

struct AdminSocketServer::Impl {
  core::EventLoop& loop;
  AdminSocketOptions options;
  // Shared so that a command destroying the server does not destroy the running executor.
  std::shared_ptr<const Executor> executor;
  evconnlistener* listener = nullptr;
  // The socket file we created: removed on destruction only if it is still ours.
  bool created = false;
  dev_t dev = 0;
  ino_t ino = 0;
  std::unordered_map<SocketSession*, std::shared_ptr<SocketSession>> sessions;
  std::shared_ptr<bool> alive = std::make_shared<bool>(true);

  Impl(core::EventLoop& l, AdminSocketOptions o, Executor e)
      : loop(l), options(std::move(o)), executor(std::make_shared<const Executor>(std::move(e))) {}

  core::Result<void> start();
  void removeSocketFile();
  static void onAccept(evconnlistener* listener, evutil_socket_t fd, sockaddr* addr, int len,
                       void* arg);
  static void onAcceptError(evconnlistener* listener, void* arg);
  void accept(int fd);
  void refuse(int fd, std::string_view answer);
  void drop(SocketSession* session) { sessions.erase(session); }
};

// ---- Session -----------------------------------------------------------------------------

SocketSession::SocketSession(AdminSocketServer::Impl& server, bufferevent* bev)
    : server_(server),
      server_alive_(server.alive),
      bev_(bev),
      idle_(server.loop, [this] { onIdle(); }) {}

SocketSession::~SocketSession() {
  bufferevent_free(bev_);
}

void SocketSession::begin() {
  bufferevent_setcb(bev_, &SocketSession::onRead, &SocketSession::onWrite, &SocketSession::onEvent,
                    this);
  bufferevent_setwatermark(bev_, EV_READ, 0, kMaxQueuedInput);
  // onWrite runs after every write that leaves at most this much queued: resume there.
  bufferevent_setwatermark(bev_, EV_WRITE, kMaxQueuedOutput, 0);
  bufferevent_enable(bev_, EV_READ | EV_WRITE);
  touch();
}

void SocketSession::onRead(bufferevent*, void* arg) {
  auto* self = static_cast<SocketSession*>(arg);
  core::EventLoop::CallbackScope scope(self->server_.loop);
  auto keep = self->shared_from_this();
  self->touch();
  self->runNext();
}

void SocketSession::onWrite(bufferevent*, void* arg) {
  auto* self = static_cast<SocketSession*>(arg);
  core::EventLoop::CallbackScope scope(self->server_.loop);
  auto keep = self->shared_from_this();
  const size_t queued = evbuffer_get_length(bufferevent_get_output(self->bev_));
  if (self->closing_) {
    if (queued == 0) self->closeNow();
    return;
  }
  // The slow reader caught up: take the commands that waited.
  if (queued <= kMaxQueuedOutput) {
    self->updateReading();
    self->runNext();
  }
}

void SocketSession::onEvent(bufferevent*, short what, void* arg) {
  auto* self = static_cast<SocketSession*>(arg);
  core::EventLoop::CallbackScope scope(self->server_.loop);
  auto keep = self->shared_from_this();
  if ((what & BEV_EVENT_EOF) != 0 && (what & BEV_EVENT_ERROR) == 0 && !self->closing_) {
    // `printf 'show stat\n' | socat - UNIX:...` half-closes after its last line: still answer.
    self->eof_ = true;
    bufferevent_disable(self->bev_, EV_READ);
    self->runNext();
    return;
  }
  self->closeNow();
}

std::optional<std::string> SocketSession::takeLine() {
  evbuffer* in = bufferevent_get_input(bev_);
  const size_t available = evbuffer_get_length(in);
  if (available == 0) return std::nullopt;
  evbuffer_ptr eol = evbuffer_search_eol(in, nullptr, nullptr, EVBUFFER_EOL_LF);
  size_t length = 0;
  bool has_eol = eol.pos >= 0;
  if (has_eol) {
    length = static_cast<size_t>(eol.pos);
  } else if (available > kMaxLine || eof_) {
    length = available;  // over-long (refused below), or the client's last, unterminated line
  } else {
    return std::nullopt;
  }
  if (length > kMaxLine) {
    const std::string refusal =
        "usage: line longer than " + std::to_string(kMaxLine) + " bytes\n\n";
    bufferevent_write(bev_, refusal.data(), refusal.size());
    closeAfterFlush();
    return std::nullopt;
  }
  std::string line(length, '\0');
  evbuffer_remove(in, line.data(), length);
  if (has_eol) evbuffer_drain(in, 1);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

void SocketSession::runNext() {
  evbuffer* out = bufferevent_get_output(bev_);
  while (!busy_ && !closing_ && evbuffer_get_length(out) <= kMaxQueuedOutput) {
    std::optional<std::string> line = takeLine();
    if (!line) break;
    const bool blank = line->find_first_not_of(" \t") == std::string::npos;
    if (blank) continue;  // a stray Enter from someone typing into socat
    if (*line == "quit") {
      closeAfterFlush();
      break;
    }
    busy_ = true;
    in_executor_ = true;
    std::weak_ptr<SocketSession> weak = weak_from_this();
    std::shared_ptr<const AdminSocketServer::Executor> executor = server_.executor;
    (*executor)(*line, [weak](std::string text) {
      if (auto self = weak.lock()) self->answer(std::move(text));
    });
    in_executor_ = false;
    if (!*server_alive_) return;
  }
  if (closing_) return;
  updateReading();
  // Half-closed and nothing left to run: close once the answers are out.
  if (eof_ && !busy_ && evbuffer_get_length(bufferevent_get_input(bev_)) == 0) {
    closeAfterFlush();
  }
}

void SocketSession::answer(std::string text) {
  busy_ = false;
  if (closing_ || !*server_alive_) return;
  bufferevent_write(bev_, text.data(), text.size());
  touch();
  // A synchronous answer returns into runNext's loop, which takes the next line itself.
  if (!in_executor_) {
    auto keep = shared_from_this();
    core::EventLoop::CallbackScope scope(server_.loop);
    runNext();
  }
}

void SocketSession::updateReading() {
  if (eof_ || closing_) return;
  if (evbuffer_get_length(bufferevent_get_output(bev_)) > kMaxQueuedOutput) {
    bufferevent_disable(bev_, EV_READ);
  } else {
    bufferevent_enable(bev_, EV_READ);
  }
}

void SocketSession::closeAfterFlush() {
  closing_ = true;
  bufferevent_disable(bev_, EV_READ);
  if (evbuffer_get_length(bufferevent_get_output(bev_)) == 0) closeNow();
}

void SocketSession::closeNow() {
  idle_.cancel();
  if (*server_alive_) server_.drop(this);  // may destroy *this: the caller holds a strong reference
}

void SocketSession::onIdle() {
  auto keep = shared_from_this();
  if (busy_) {
    touch();  // a `wait host` is still running: not idle
    return;
  }
  core::logf(core::LogLevel::Info, "admin socket: closing a session idle for 5 minutes");
  closeNow();
}

// ---- Server ------------------------------------------------------------------------------

core::Result<void> AdminSocketServer::Impl::start() {
  const std::string& path = options.path;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof(addr.sun_path)) {
    return core::fail(socketError(
        path, "path empty or longer than " + std::to_string(sizeof(addr.sun_path) - 1) + " bytes"));
  }
  std::memcpy(addr.sun_path, path.data(), path.size());

  auto state = probePath(path, addr);
  if (!state) return core::fail(state.error());
  switch (*state) {
    case PathState::NotSocket:
      return core::fail(socketError(path, "exists and is not a socket (refusing to replace it)"));
    case PathState::LiveSocket:
      return core::fail(socketError(path, "another process is serving this socket"));
    case PathState::StaleSocket:
      core::logf(core::LogLevel::Info, "admin socket: replacing stale socket %s", path.c_str());
      if (unlink(path.c_str()) != 0 && errno != ENOENT) {
        return core::fail(socketError(path, "cannot remove stale socket: " + errnoText(errno)));
      }
      break;
    case PathState::Absent:
      break;
  }

  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return core::fail(socketError(path, errnoText(errno)));
  auto fail_with = [&](const std::string& what) {
    const std::string text = what + ": " + errnoText(errno);
    close(fd);
    return core::fail(socketError(path, text));
  };
  // umask-safe: bind creates the file with whatever the umask allows, but nobody can connect
  // before listen(); chmod sets the real mode in between.
  if (bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
    return fail_with("bind");
  }
  created = true;
  struct stat st {};
  if (chmod(path.c_str(), static_cast<mode_t>(options.mode)) != 0 || stat(path.c_str(), &st) != 0) {
    auto result = fail_with("chmod");
    unlink(path.c_str());
    created = false;
    return result;
  }
  dev = st.st_dev;
  ino = st.st_ino;
  listener = evconnlistener_new(loop.base(), &Impl::onAccept, this,
                                LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 16, fd);
  if (listener == nullptr) {
    auto result = fail_with("listen");
    removeSocketFile();
    return result;
  }
  evconnlistener_set_error_cb(listener, &Impl::onAcceptError);
  core::logf(core::LogLevel::Info, "admin socket: listening on %s (mode %04o)", path.c_str(),
             options.mode);
  return {};
}

void AdminSocketServer::Impl::removeSocketFile() {
  if (!created) return;
  created = false;
  struct stat st {};
  // Another baton may have replaced a socket it judged stale: its file is not ours to remove.
  if (lstat(options.path.c_str(), &st) == 0 && st.st_dev == dev && st.st_ino == ino) {
    unlink(options.path.c_str());
  }
}

void AdminSocketServer::Impl::onAccept(evconnlistener*, evutil_socket_t fd, sockaddr*, int,
                                       void* arg) {
  auto* self = static_cast<Impl*>(arg);
  core::EventLoop::CallbackScope scope(self->loop);
  self->accept(fd);
}

void AdminSocketServer::Impl::onAcceptError(evconnlistener*, void*) {
  // EMFILE and the like: the listener keeps going; the next accept may succeed.
  core::logf(core::LogLevel::Warn, "admin socket: accept failed: %s", errnoText(errno).c_str());
}

void AdminSocketServer::Impl::refuse(int fd, std::string_view answer) {
  // A fresh connection's send buffer is empty: the short refusal fits without blocking.
  ssize_t n = send(fd, answer.data(), answer.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
  (void)n;
  close(fd);
}

void AdminSocketServer::Impl::accept(int fd) {
  ucred cred{};
  socklen_t len = sizeof(cred);
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
    core::logf(core::LogLevel::Warn, "admin socket: SO_PEERCRED failed: %s",
               errnoText(errno).c_str());
    refuse(fd, "denied: cannot identify the peer\n\n");
    return;
  }
  if (!peerAllowed(cred.uid, cred.gid, geteuid(), options)) {
    core::logf(core::LogLevel::Warn, "admin socket: refused pid %d uid %u gid %u", cred.pid,
               cred.uid, cred.gid);
    refuse(fd, "denied: uid " + std::to_string(cred.uid) + " may not use the admin socket\n\n");
    return;
  }
  if (sessions.size() >= kMaxSessions) {
    refuse(fd, "failed: too many admin sessions\n\n");
    return;
  }
  evutil_make_socket_nonblocking(fd);
  bufferevent* bev = bufferevent_socket_new(loop.base(), fd, BEV_OPT_CLOSE_ON_FREE);
  if (bev == nullptr) {
    close(fd);
    return;
  }
  auto session = std::make_shared<SocketSession>(*this, bev);
  SocketSession* raw = session.get();
  sessions.emplace(raw, std::move(session));
  raw->begin();
}

// ---- Public ------------------------------------------------------------------------------

AdminSocketServer::AdminSocketServer(core::EventLoop& control, AdminSocketOptions options,
                                     Executor executor)
    : impl_(std::make_unique<Impl>(control, std::move(options), std::move(executor))) {}

AdminSocketServer::~AdminSocketServer() {
  *impl_->alive = false;
  impl_->sessions.clear();
  if (impl_->listener != nullptr) evconnlistener_free(impl_->listener);
  impl_->removeSocketFile();
}

core::Result<void> AdminSocketServer::start() {
  return impl_->start();
}

}  // namespace baton::proxy::admin
