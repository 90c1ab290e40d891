#include "discovery/file_source.h"

#include <event2/event.h>
#include <fcntl.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace baton::discovery {

core::Result<std::unique_ptr<FileSource>> FileSource::create(core::EventLoop& loop,
                                                             std::string path,
                                                             Callbacks callbacks) {
  if (path.empty()) return core::fail(core::Error::config("marathon: empty file: path"));
  std::unique_ptr<FileSource> source(new FileSource(loop, std::move(path), std::move(callbacks)));
  source->inotify_fd_ = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (source->inotify_fd_ < 0)
    return core::fail(core::Error::internal(std::string("inotify_init1: ") + std::strerror(errno)));
  // The directory, not the file: a rename into place replaces the inode a file watch is on.
  if (inotify_add_watch(source->inotify_fd_, source->dir_.c_str(),
                        IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE) < 0)
    return core::fail(core::Error::config("marathon: cannot watch " + source->dir_ + ": " +
                                          std::strerror(errno)));
  source->watch_event_ = event_new(loop.base(), source->inotify_fd_, EV_READ | EV_PERSIST,
                                   &FileSource::onInotify, source.get());
  if (source->watch_event_ == nullptr) return core::fail(core::Error::internal("event_new"));
  return source;
}

FileSource::FileSource(core::EventLoop& loop, std::string path, Callbacks callbacks)
    : loop_(loop),
      path_(std::move(path)),
      callbacks_(std::move(callbacks)),
      read_timer_(loop, [this] { readFile(); }),
      // swap, not `= std::string()`: a move from a short string keeps the target's buffer.
      release_timer_(loop, [this] { std::string().swap(spare_); }) {
  const size_t slash = path_.rfind('/');
  dir_ = slash == std::string::npos ? "." : (slash == 0 ? "/" : path_.substr(0, slash));
  name_ = slash == std::string::npos ? path_ : path_.substr(slash + 1);
  status_.kind = "file";
  status_.current_url = path_;
}

FileSource::~FileSource() {
  if (watch_event_ != nullptr) event_free(watch_event_);
  if (inotify_fd_ >= 0) ::close(inotify_fd_);
}

void FileSource::start() {
  event_add(watch_event_, nullptr);
  status_.stream_connected = true;
  read_timer_.arm(std::chrono::milliseconds{0});
}

void FileSource::onInotify(int, short, void* arg) {
  auto* self = static_cast<FileSource*>(arg);
  core::EventLoop::CallbackScope scope(self->loop_);
  self->drainInotify();
}

void FileSource::drainInotify() {
  alignas(inotify_event) char buf[8192];
  bool ours = false;
  for (;;) {
    const ssize_t n = ::read(inotify_fd_, buf, sizeof buf);
    if (n <= 0) break;  // EAGAIN: drained
    for (ssize_t at = 0; at < n;) {
      const auto* ev = reinterpret_cast<const inotify_event*>(buf + at);
      if (ev->len > 0 && name_ == ev->name) ours = true;
      if (ev->mask & IN_Q_OVERFLOW) ours = true;  // events lost: re-read to be safe
      at += static_cast<ssize_t>(sizeof(inotify_event) + ev->len);
    }
  }
  if (!ours) return;
  status_.events++;
  if (!read_timer_.armed()) read_timer_.arm(kDebounce);
}

void FileSource::recycle(std::string body) {
  spare_ = std::move(body);
  release_timer_.arm(kKeepBuffer);
}

void FileSource::readFile() {
  const int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  std::string body = std::exchange(spare_, std::string());
  body.clear();  // keeps the capacity: no allocation below when the document did not grow
  bool ok = fd >= 0;
  if (ok) {
    // One allocation for the whole document (tens of MB for a large cluster), plus room for the
    // JSON parser's padding, instead of doubling through the reads; read straight into it (a
    // bounce buffer cost a second copy of the whole document), keeping the 64 bytes spare.
    struct stat st {};
    if (::fstat(fd, &st) == 0 && st.st_size > 0) body.reserve(static_cast<size_t>(st.st_size) + 64);
    for (;;) {
      const size_t used = body.size();
      if (body.capacity() < used + 64 + 1) {
        // Full (the whole file as fstat sized it, usually): a one-byte read tells its end from
        // a file that grew, without first growing, i.e. copying, the whole document.
        char byte = 0;
        const ssize_t n = ::read(fd, &byte, 1);
        if (n == 0) break;
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
          ok = false;
          break;
        }
        body.reserve(2 * body.capacity() + 65536);
        body.push_back(byte);
        continue;
      }
      ssize_t n = 0;
      // No zero-fill of the room read into: only the bytes read are kept.
      body.resize_and_overwrite(body.capacity() - 64, [&](char* data, size_t room) {
        n = ::read(fd, data + used, room - used);
        return n > 0 ? used + static_cast<size_t>(n) : used;
      });
      if (n == 0) break;
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        ok = false;
        break;
      }
    }
  }
  const int saved_errno = errno;
  if (fd >= 0) ::close(fd);
  if (!ok) {
    status_.failures++;
    status_.last_error = path_ + ": " + std::strerror(saved_errno);
    if (callbacks_.on_error) callbacks_.on_error(status_.last_error);
    return;
  }
  status_.documents++;
  status_.last_success_unix_ms = unixNowMs();
  status_.last_error.clear();
  if (callbacks_.on_document) callbacks_.on_document(std::move(body));
}

}  // namespace baton::discovery
