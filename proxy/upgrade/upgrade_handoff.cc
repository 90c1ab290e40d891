#include "proxy/upgrade/upgrade_handoff.h"

#include <event2/event.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace baton::proxy::upgrade {

namespace {

core::Error handoffError(const std::string& what) {
  return core::Error::internal("upgrade handoff: " + what);
}

bool parseU64(std::string_view text, uint64_t* out) {
  if (text.empty() || text.size() > 19) return false;
  uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + static_cast<uint64_t>(c - '0');
  }
  *out = value;
  return true;
}

// Child side of fork(), before exec: only async-signal-safe calls. Closes every descriptor but
// `keep` (sorted); close_range when the kernel and the seccomp filter allow it, else one by one.
void closeAllBut(const std::vector<int>& keep, int max_fd) {
  int next = 0;
  for (int k : keep) {
    if (k > next && syscall(SYS_close_range, next, k - 1, 0) != 0) {
      for (int fd = next; fd < k; ++fd) ::close(fd);
    }
    next = std::max(next, k + 1);
  }
  if (syscall(SYS_close_range, next, ~0U, 0) != 0) {
    for (int fd = next; fd < max_fd; ++fd) ::close(fd);
  }
}

int maxFd() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return 65536;
  return static_cast<int>(std::min<rlim_t>(limit.rlim_cur, 1 << 20));
}

std::string exitText(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status));
  return "stopped";
}

}  // namespace

std::string joinRecord(const std::vector<std::string>& fields) {
  std::string out;
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i != 0) out += '\t';
    for (char c : fields[i]) {
      if (c == '\\') {
        out += "\\\\";
      } else if (c == '\t') {
        out += "\\t";
      } else if (c == '\n') {
        out += "\\n";
      } else {
        out += c;
      }
    }
  }
  return out + '\n';
}

core::Result<std::vector<std::vector<std::string>>> splitRecords(std::string_view text) {
  std::vector<std::vector<std::string>> records;
  std::vector<std::string> fields(1);
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\n') {
      records.push_back(std::exchange(fields, std::vector<std::string>(1)));
    } else if (c == '\t') {
      fields.emplace_back();
    } else if (c == '\\') {
      if (++i == text.size()) return core::fail(handoffError("record ends inside an escape"));
      const char e = text[i];
      if (e != '\\' && e != 't' && e != 'n') {
        return core::fail(handoffError("bad escape in a record"));
      }
      fields.back() += e == 't' ? '\t' : e == 'n' ? '\n' : '\\';
    } else {
      fields.back() += c;
    }
  }
  if (fields.size() != 1 || !fields[0].empty()) {
    return core::fail(handoffError("last record has no line end"));
  }
  return records;
}

// ---- InheritedSockets ---------------------------------------------------------------------

std::vector<SocketRecord> InheritedSockets::take(std::string_view name, std::string_view address) {
  std::vector<SocketRecord> out;
  std::erase_if(records_, [&](SocketRecord& record) {
    if (record.name != name || record.address != address) return false;
    out.push_back(std::move(record));
    return true;
  });
  std::sort(out.begin(), out.end(),
            [](const SocketRecord& a, const SocketRecord& b) { return a.worker < b.worker; });
  return out;
}

size_t InheritedSockets::closeAll() {
  const size_t n = records_.size();
  for (const auto& record : records_) ::close(record.fd);
  records_.clear();
  return n;
}

// ---- Handoff frames -----------------------------------------------------------------------

core::Result<void> sendHandoff(int sock, const std::vector<SocketRecord>& sockets,
                               std::string_view overrides, uint64_t upgrade_generation) {
  std::string payload;
  std::vector<int> fds;
  auto flush = [&]() -> core::Result<void> {
    if (fds.empty()) return {};
    auto sent = sendFrame(sock, kListeners, payload, fds);
    payload.clear();
    fds.clear();
    return sent;
  };
  for (const auto& record : sockets) {
    std::string line =
        joinRecord({record.name, record.address, record.bound, std::to_string(record.worker)});
    if (fds.size() == kMaxFdsPerFrame || payload.size() + line.size() > kMaxPayload) {
      if (auto sent = flush(); !sent) return sent;
    }
    payload += line;
    fds.push_back(record.fd);
  }
  if (auto sent = flush(); !sent) return sent;
  for (size_t at = 0; at < overrides.size(); at += kMaxPayload) {
    if (auto sent = sendFrame(sock, kOverrides, overrides.substr(at, kMaxPayload)); !sent) {
      return sent;
    }
  }
  return sendFrame(sock, kEnd, std::to_string(upgrade_generation));
}

core::Result<Handoff> receiveHandoff(int sock, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  Handoff handoff;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    auto frame = receiveFrame(sock, std::max(left, std::chrono::milliseconds(0)));
    if (!frame) return core::fail(std::move(frame.error()));
    if (frame->kind == kEnd) {
      if (!parseU64(frame->payload, &handoff.upgrade_generation)) {
        return core::fail(handoffError("bad upgrade generation"));
      }
      return handoff;
    }
    if (frame->kind == kOverrides) {
      handoff.overrides += frame->payload;
      continue;
    }
    if (frame->kind != kListeners) return core::fail(handoffError("unexpected message"));
    auto records = splitRecords(frame->payload);
    if (!records) return core::fail(std::move(records.error()));
    if (records->size() != frame->fds.size()) {
      return core::fail(handoffError("listener records and descriptors differ in number"));
    }
    for (size_t i = 0; i < records->size(); ++i) {
      auto& fields = (*records)[i];
      uint64_t worker = 0;
      if (fields.size() != 4 || !parseU64(fields[3], &worker) || worker > UINT32_MAX) {
        return core::fail(handoffError("bad listener record"));
      }
      handoff.sockets.add(SocketRecord{std::move(fields[0]), std::move(fields[1]),
                                       std::move(fields[2]), static_cast<uint32_t>(worker),
                                       frame->fds.release(i)});
    }
  }
}

// ---- FrameWatcher -------------------------------------------------------------------------

FrameWatcher::FrameWatcher(core::EventLoop& loop, int sock,
                           std::function<void(core::Result<Frame>)> on_frame)
    : sock_(sock), on_frame_(std::move(on_frame)) {
  event_ = event_new(loop.base(), sock, EV_READ | EV_PERSIST, &FrameWatcher::onReadable, this);
  event_add(event_, nullptr);
}

FrameWatcher::~FrameWatcher() {
  if (event_ != nullptr) event_free(event_);
}

void FrameWatcher::onReadable(int, short, void* arg) {
  auto* self = static_cast<FrameWatcher*>(arg);
  auto frame = receiveFrame(self->sock_, std::chrono::milliseconds(0));
  if (!frame) event_del(self->event_);  // EOF or garbage: nothing more will make sense
  // Last: the callback may destroy this watcher.
  self->on_frame_(std::move(frame));
}

// ---- UpgradeLauncher ----------------------------------------------------------------------

UpgradeLauncher::UpgradeLauncher(core::EventLoop& loop, Callbacks callbacks)
    : loop_(loop), callbacks_(std::move(callbacks)) {}

UpgradeLauncher::~UpgradeLauncher() {
  watcher_.reset();
  if (!done_ && pid_ > 0) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
  if (sock_ >= 0) ::close(sock_);
}

core::Result<std::unique_ptr<UpgradeLauncher>> UpgradeLauncher::start(
    core::EventLoop& loop, const LaunchSpec& spec, const std::vector<SocketRecord>& sockets,
    std::string_view overrides, uint64_t upgrade_generation, Callbacks callbacks) {
  if (::access(spec.binary.c_str(), X_OK) != 0) {
    return core::fail(handoffError("cannot run " + spec.binary + ": " + std::strerror(errno)));
  }
  auto pair = framePair();
  if (!pair) return core::fail(std::move(pair.error()));
  const auto [parent_end, child_end] = *pair;
  // Everything the child needs is built before fork(): after it only async-signal-safe calls.
  std::vector<std::string> words{spec.binary};
  words.insert(words.end(), spec.args.begin(), spec.args.end());
  words.push_back("--upgrade-fd");
  words.push_back(std::to_string(child_end));
  std::vector<char*> argv;
  for (auto& word : words) argv.push_back(word.data());
  argv.push_back(nullptr);
  std::vector<int> keep{0, 1, 2, child_end};
  for (int fd : spec.keep_fds) {
    if (fd >= 0) keep.push_back(fd);
  }
  std::sort(keep.begin(), keep.end());
  keep.erase(std::unique(keep.begin(), keep.end()), keep.end());
  const int max_fd = maxFd();

  const pid_t pid = ::fork();
  if (pid < 0) {
    const std::string why = std::strerror(errno);
    ::close(parent_end);
    ::close(child_end);
    return core::fail(handoffError("fork: " + why));
  }
  if (pid == 0) {
    for (int fd : keep) ::fcntl(fd, F_SETFD, 0);  // survive exec
    closeAllBut(keep, max_fd);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(child_end);
  std::unique_ptr<UpgradeLauncher> launcher(new UpgradeLauncher(loop, std::move(callbacks)));
  launcher->pid_ = pid;
  launcher->sock_ = parent_end;
  // The child reads the handoff first thing; if it died, sending fails (EPIPE) and the
  // destructor reaps it.
  if (auto sent = sendHandoff(parent_end, sockets, overrides, upgrade_generation); !sent) {
    return core::fail(handoffError("the new process (pid " + std::to_string(pid) + ") " +
                                   launcher->childExit() + " before taking the sockets"));
  }
  UpgradeLauncher* raw = launcher.get();
  launcher->watcher_ = std::make_unique<FrameWatcher>(
      loop, parent_end, [raw](core::Result<Frame> frame) { raw->onFrame(std::move(frame)); });
  launcher->deadline_ = std::make_unique<core::Timer>(loop, [raw] {
    raw->fail("the new process (pid " + std::to_string(raw->pid_) + ") was not ready within " +
              std::to_string(raw->deadline_ms_) + " ms");
  });
  launcher->deadline_ms_ = spec.ready_deadline.count();
  launcher->deadline_->arm(spec.ready_deadline);
  return launcher;
}

void UpgradeLauncher::onFrame(core::Result<Frame> frame) {
  if (done_) return;
  if (!frame) {
    fail("the new process (pid " + std::to_string(pid_) + ") " + childExit() + ": " +
         frame.error().detail);
    return;
  }
  if (frame->kind == kFailed) {
    fail(frame->payload.empty() ? "the new process failed" : frame->payload);
  } else if (frame->kind == kReady) {
    deadline_->cancel();
    callbacks_.on_ready(pid_);
  }
}

void UpgradeLauncher::fail(std::string why) {
  if (done_) return;
  done_ = true;
  deadline_->cancel();
  // Reset from inside its callback: the watcher touches nothing after calling us.
  watcher_.reset();
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }
  auto on_failed = callbacks_.on_failed;
  on_failed(std::move(why));  // may destroy *this
}

void UpgradeLauncher::go() {
  if (done_) return;
  done_ = true;
  watcher_.reset();
  deadline_->cancel();
  (void)sendFrame(sock_, kGo, "");  // a new process that died since has nothing to open
  ::close(sock_);
  sock_ = -1;
}

std::string UpgradeLauncher::childExit() {
  if (pid_ <= 0) return "ended";
  int status = 0;
  // Give a dying child a moment to be reaped with its real status (EOF comes as it exits).
  for (int i = 0; i < 100; ++i) {
    const pid_t got = ::waitpid(pid_, &status, WNOHANG);
    if (got == pid_) {
      pid_ = -1;
      return exitText(status);
    }
    ::usleep(10000);
  }
  return "closed the handoff";
}

// ---- systemd ------------------------------------------------------------------------------

void notifySystemd(std::string_view state) {
  const char* path = std::getenv("NOTIFY_SOCKET");
  if (path == nullptr || path[0] == '\0') return;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  const size_t len = std::strlen(path);
  if (len >= sizeof(addr.sun_path)) return;
  std::memcpy(addr.sun_path, path, len);
  if (path[0] == '@') addr.sun_path[0] = '\0';  // abstract namespace
  const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return;
  (void)::sendto(fd, state.data(), state.size(), MSG_NOSIGNAL,
                 reinterpret_cast<const sockaddr*>(&addr),
                 static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + len));
  ::close(fd);
}

}  // namespace baton::proxy::upgrade
