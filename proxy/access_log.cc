#include "proxy/access_log.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cerrno>
#include <charconv>
#include <condition_variable>
#include <cstring>
#include <limits>
#include <mutex>
#include <thread>
#include <vector>

#include "proxy/core/stop_signals.h"

namespace baton::proxy {
namespace {

using namespace std::chrono_literals;

constexpr auto kWriterPeriod = 50ms;
constexpr size_t kMinRingBytes = 256;
constexpr size_t kScratchReserve = 1024;
constexpr char kHexUpper[] = "0123456789ABCDEF";
constexpr std::string_view kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

template <typename Int>
void appendInt(std::string& out, Int v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, end);
}

void append2(std::string& out, unsigned v) {
  out.push_back(static_cast<char>('0' + v / 10 % 10));
  out.push_back(static_cast<char>('0' + v % 10));
}

void appendHexByte(std::string& out, unsigned char c) {
  out.push_back(kHexUpper[c >> 4]);
  out.push_back(kHexUpper[c & 0xF]);
}

// Text: a field never contains a space, a quote or a non-printable byte, so lines split safely.
void appendTextField(std::string& out, std::string_view s) {
  if (s.empty()) {
    out.push_back('-');
    return;
  }
  for (unsigned char c : s) {
    if (c < 0x21 || c > 0x7E || c == '"' || c == '\\') {
      out.append("\\x");
      appendHexByte(out, c);
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
}

// JSON: output is pure ASCII, so a line is valid UTF-8 and valid JSON whatever the input bytes.
void appendJsonString(std::string& out, std::string_view s) {
  out.push_back('"');
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
    } else if (c < 0x20 || c == 0x7F) {
      out.append("\\u00");
      appendHexByte(out, c);
    } else if (c >= 0x80) {
      out.append("\\\\x");  // the literal text \xHH
      appendHexByte(out, c);
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  out.push_back('"');
}

struct CivilTime {
  int year;
  unsigned month, day, hour, minute, second, millis;
};

// Pure arithmetic (std::chrono calendar): gmtime_r would take glibc's tz lock on a worker.
CivilTime toCivil(std::chrono::system_clock::time_point tp) {
  using namespace std::chrono;
  const auto day = floor<days>(tp);
  const year_month_day ymd{day};
  const hh_mm_ss hms{floor<milliseconds>(tp - day)};
  return CivilTime{static_cast<int>(ymd.year()),
                   static_cast<unsigned>(ymd.month()),
                   static_cast<unsigned>(ymd.day()),
                   static_cast<unsigned>(hms.hours().count()),
                   static_cast<unsigned>(hms.minutes().count()),
                   static_cast<unsigned>(hms.seconds().count()),
                   static_cast<unsigned>(hms.subseconds().count())};
}

// [25/Nov/2026:18:20:33 +0000]
void appendClfTime(std::string& out, std::chrono::system_clock::time_point tp) {
  const CivilTime t = toCivil(tp);
  out.push_back('[');
  append2(out, t.day);
  out.push_back('/');
  out.append(kMonths[(t.month - 1) % 12]);
  out.push_back('/');
  appendInt(out, t.year);
  out.push_back(':');
  append2(out, t.hour);
  out.push_back(':');
  append2(out, t.minute);
  out.push_back(':');
  append2(out, t.second);
  out.append(" +0000]");
}

// 2026-11-25T18:20:33.123Z
void appendIsoTime(std::string& out, std::chrono::system_clock::time_point tp) {
  const CivilTime t = toCivil(tp);
  appendInt(out, t.year);
  out.push_back('-');
  append2(out, t.month);
  out.push_back('-');
  append2(out, t.day);
  out.push_back('T');
  append2(out, t.hour);
  out.push_back(':');
  append2(out, t.minute);
  out.push_back(':');
  append2(out, t.second);
  out.push_back('.');
  out.push_back(static_cast<char>('0' + t.millis / 100 % 10));
  append2(out, t.millis % 100);
  out.push_back('Z');
}

// 127.0.0.1 - - [25/Nov/2026:18:20:33 +0000] "GET /x HTTP/1.1" 200 123 "-" "curl/8.0"
//   host=a.example vhost=a upstream=10.0.0.1:80 dur_us=1234 in=0 rid=... err=- tp=-
void formatText(const AccessLogEntry& e, std::string& out) {
  appendTextField(out, e.client_ip);
  out.append(" - - ");
  appendClfTime(out, e.start);
  out.append(" \"");
  appendTextField(out, e.method);
  out.push_back(' ');
  appendTextField(out, e.target);
  out.append(" HTTP/");
  appendInt(out, unsigned{e.version_major});
  out.push_back('.');
  appendInt(out, unsigned{e.version_minor});
  out.append("\" ");
  appendInt(out, e.status);
  out.push_back(' ');
  appendInt(out, e.bytes_out);
  out.append(" \"-\" \"");
  appendTextField(out, e.user_agent);
  out.append("\" host=");
  appendTextField(out, e.host);
  out.append(" vhost=");
  appendTextField(out, e.vhost);
  out.append(" upstream=");
  appendTextField(out, e.upstream_host);
  out.append(" dur_us=");
  appendInt(out, e.duration.count());
  out.append(" in=");
  appendInt(out, e.bytes_in);
  out.append(" rid=");
  appendTextField(out, e.request_id);
  out.append(" err=");
  appendTextField(out, e.error);
  out.append(" tp=");
  appendTextField(out, e.traceparent);
  out.append(" pin=");
  appendTextField(out, e.pin_version);
  out.push_back('/');
  appendTextField(out, e.pin_reason);
  out.push_back('\n');
}

void jsonKey(std::string& out, std::string_view key) {
  out.append(",\"");
  out.append(key);
  out.append("\":");
}

void formatJson(const AccessLogEntry& e, std::string& out) {
  out.append("{\"ts\":\"");
  appendIsoTime(out, e.start);
  out.push_back('"');
  const auto str = [&](std::string_view key, std::string_view value) {
    jsonKey(out, key);
    appendJsonString(out, value);
  };
  str("client", e.client_ip);
  str("method", e.method);
  str("target", e.target);
  jsonKey(out, "protocol");
  out.append("\"HTTP/");
  appendInt(out, unsigned{e.version_major});
  out.push_back('.');
  appendInt(out, unsigned{e.version_minor});
  out.push_back('"');
  str("host", e.host);
  jsonKey(out, "status");
  appendInt(out, e.status);
  jsonKey(out, "bytes_in");
  appendInt(out, e.bytes_in);
  jsonKey(out, "bytes_out");
  appendInt(out, e.bytes_out);
  jsonKey(out, "duration_us");
  appendInt(out, e.duration.count());
  str("upstream", e.upstream_host);
  str("request_id", e.request_id);
  str("user_agent", e.user_agent);
  str("vhost", e.vhost);
  str("error", e.error);
  str("traceparent", e.traceparent);
  str("pin_version", e.pin_version);
  str("pin_reason", e.pin_reason);
  out.append("}\n");
}

// One worker's lines on their way to the writer. Producer (the worker) owns head_, scratch and
// the drop counter; the consumer (writer thread) owns tail_. Positions grow forever; the byte
// index is position & mask_. A line is published whole (one head_ store), so the writer never
// sees half of one.
class Ring {
 public:
  explicit Ring(size_t capacity) : data_(new char[capacity]), capacity_(capacity) {
    scratch_.reserve(kScratchReserve);
  }

  std::string& scratch() { return scratch_; }

  // Producer. False (and counted) when the line does not fit. `past_half` tells the caller to
  // wake the writer early.
  bool push(std::string_view line, bool& past_half) {
    const uint64_t head = head_.load(std::memory_order_relaxed);
    const uint64_t tail = tail_.load(std::memory_order_acquire);
    const uint64_t used = head - tail;
    if (capacity_ - used < line.size()) {
      dropped_.store(dropped_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
      return false;
    }
    const size_t offset = head & (capacity_ - 1);
    const size_t first = std::min(line.size(), capacity_ - offset);
    std::memcpy(data_.get() + offset, line.data(), first);
    std::memcpy(data_.get(), line.data() + first, line.size() - first);
    head_.store(head + line.size(), std::memory_order_release);
    past_half = used + line.size() > capacity_ / 2;
    return true;
  }

  // Consumer: up to two contiguous readable regions, appended to `iov`.
  void readable(std::vector<iovec>& iov, std::vector<size_t>& owner, size_t index) const {
    const uint64_t tail = tail_.load(std::memory_order_relaxed);
    const uint64_t head = head_.load(std::memory_order_acquire);
    size_t len = head - tail;
    if (len == 0) return;
    const size_t offset = tail & (capacity_ - 1);
    const size_t first = std::min(len, capacity_ - offset);
    iov.push_back({data_.get() + offset, first});
    owner.push_back(index);
    if (len > first) {
      iov.push_back({data_.get(), len - first});
      owner.push_back(index);
    }
  }

  void consumed(size_t n) { tail_.fetch_add(n, std::memory_order_release); }
  uint64_t head() const { return head_.load(std::memory_order_acquire); }
  uint64_t tail() const { return tail_.load(std::memory_order_acquire); }
  uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }

 private:
  // Producer-written fields and consumer-written tail_ on separate cache lines.
  alignas(64) std::atomic<uint64_t> head_{0};
  std::atomic<uint64_t> dropped_{0};
  std::string scratch_;
  alignas(64) std::atomic<uint64_t> tail_{0};
  alignas(64) std::unique_ptr<char[]> data_;
  size_t capacity_;
};

}  // namespace

struct AccessLog::Impl {
  conf::AccessLogFormat format = conf::AccessLogFormat::Text;
  bool enabled = false;
  int fd = -1;
  bool owns_fd = false;
  std::vector<std::unique_ptr<Ring>> rings;

  std::mutex mu;
  std::condition_variable wake_cv;  // writer waits here
  std::condition_variable done_cv;  // flush() waits here
  bool stop = false;                // guarded by mu
  bool flush_requested = false;     // guarded by mu
  std::atomic<bool> wake_pending{false};
  std::atomic<uint64_t> write_errors{0};
  std::thread writer;

  ~Impl() {
    if (owns_fd && fd >= 0) ::close(fd);
  }

  void wakeWriter() {
    if (!wake_pending.exchange(true, std::memory_order_acq_rel)) wake_cv.notify_one();
  }

  void run();
  void drainOnce();
  bool writeAll(std::vector<iovec>& iov, const std::vector<size_t>& owner);
};

void AccessLog::Impl::run() {
  // A closed stdout pipe must give EPIPE here, not kill the process.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  for (;;) {
    bool stopping;
    {
      std::unique_lock lock(mu);
      wake_cv.wait_for(lock, kWriterPeriod, [&] {
        return stop || flush_requested || wake_pending.load(std::memory_order_acquire);
      });
      stopping = stop;
      flush_requested = false;
    }
    wake_pending.store(false, std::memory_order_release);
    drainOnce();
    { std::lock_guard lock(mu); }
    done_cv.notify_all();
    if (stopping) return;
  }
}

void AccessLog::Impl::drainOnce() {
  std::vector<iovec> iov;
  std::vector<size_t> owner;
  iov.reserve(rings.size() * 2);
  owner.reserve(rings.size() * 2);
  for (size_t i = 0; i < rings.size(); ++i) rings[i]->readable(iov, owner, i);
  // writev takes at most IOV_MAX segments; a process has far fewer workers, but stay correct.
  constexpr size_t kMaxIov = 1024;
  for (size_t start = 0; start < iov.size(); start += kMaxIov) {
    const size_t n = std::min(kMaxIov, iov.size() - start);
    std::vector<iovec> part(iov.begin() + start, iov.begin() + start + n);
    std::vector<size_t> part_owner(owner.begin() + start, owner.begin() + start + n);
    writeAll(part, part_owner);
  }
}

// Writes every segment, advancing each ring's tail as its bytes leave. On a hard error the rest
// is discarded (tails still advance, so producers and flush() never wait on a broken fd).
bool AccessLog::Impl::writeAll(std::vector<iovec>& iov, const std::vector<size_t>& owner) {
  size_t first = 0;
  while (first < iov.size()) {
    const ssize_t written = ::writev(fd, iov.data() + first, static_cast<int>(iov.size() - first));
    if (written < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        pollfd p{fd, POLLOUT, 0};
        ::poll(&p, 1, static_cast<int>(kWriterPeriod.count()));
        continue;
      }
      for (size_t i = first; i < iov.size(); ++i) {
        write_errors.fetch_add(iov[i].iov_len, std::memory_order_relaxed);
        rings[owner[i]]->consumed(iov[i].iov_len);
      }
      return false;
    }
    auto left = static_cast<size_t>(written);
    while (first < iov.size() && left >= iov[first].iov_len) {
      left -= iov[first].iov_len;
      rings[owner[first]]->consumed(iov[first].iov_len);
      ++first;
    }
    if (left > 0) {
      rings[owner[first]]->consumed(left);
      iov[first].iov_base = static_cast<char*>(iov[first].iov_base) + left;
      iov[first].iov_len -= left;
    }
  }
  return true;
}

AccessLog::AccessLog(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

AccessLog::~AccessLog() {
  if (!impl_->writer.joinable()) return;
  {
    std::lock_guard lock(impl_->mu);
    impl_->stop = true;
  }
  impl_->wake_cv.notify_one();
  impl_->writer.join();
}

core::Result<std::shared_ptr<AccessLog>> AccessLog::create(const conf::AccessLogSpec& spec,
                                                           uint32_t workers) {
  return create(spec, workers, kDefaultRingBytes);
}

core::Result<std::shared_ptr<AccessLog>> AccessLog::create(const conf::AccessLogSpec& spec,
                                                           uint32_t workers, size_t ring_bytes) {
  auto impl = std::make_unique<Impl>();
  impl->format = spec.format;
  if (spec.path == "off" || spec.path.empty()) {
    return std::shared_ptr<AccessLog>(new AccessLog(std::move(impl)));
  }
  if (spec.path == "stdout") {
    impl->fd = STDOUT_FILENO;
  } else {
    impl->fd = ::open(spec.path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (impl->fd < 0) {
      return core::fail(core::Error{
          core::ErrorCode::ConfigIo, core::ErrorSource::Config, false,
          "server.access_log.path: cannot open \"" + spec.path + "\": " + std::strerror(errno)});
    }
    impl->owns_fd = true;
  }
  impl->enabled = true;
  const size_t capacity = std::bit_ceil(std::max(ring_bytes, kMinRingBytes));
  impl->rings.reserve(std::max<uint32_t>(workers, 1));
  for (uint32_t i = 0; i < std::max<uint32_t>(workers, 1); ++i) {
    impl->rings.push_back(std::make_unique<Ring>(capacity));
  }
  Impl* raw = impl.get();
  impl->writer = std::thread([raw] {
    core::blockStopSignals();
    raw->run();
  });
  return std::shared_ptr<AccessLog>(new AccessLog(std::move(impl)));
}

bool AccessLog::enabled() const {
  return impl_->enabled;
}

void AccessLog::log(uint32_t worker, const AccessLogEntry& entry) {
  if (!impl_->enabled || worker >= impl_->rings.size()) return;
  Ring& ring = *impl_->rings[worker];
  std::string& line = ring.scratch();
  line.clear();
  formatLine(impl_->format, entry, line);
  bool past_half = false;
  ring.push(line, past_half);
  if (past_half) impl_->wakeWriter();
}

uint64_t AccessLog::dropped() const {
  uint64_t total = 0;
  for (const auto& ring : impl_->rings) total += ring->dropped();
  return total;
}

uint64_t AccessLog::writeErrors() const {
  return impl_->write_errors.load(std::memory_order_relaxed);
}

void AccessLog::flush() {
  if (!impl_->enabled) return;
  std::vector<uint64_t> targets;
  targets.reserve(impl_->rings.size());
  for (const auto& ring : impl_->rings) targets.push_back(ring->head());
  std::unique_lock lock(impl_->mu);
  impl_->flush_requested = true;
  impl_->wake_cv.notify_one();
  impl_->done_cv.wait(lock, [&] {
    for (size_t i = 0; i < targets.size(); ++i) {
      if (impl_->rings[i]->tail() < targets[i]) return false;
    }
    return true;
  });
}

void AccessLog::formatLine(conf::AccessLogFormat format, const AccessLogEntry& entry,
                           std::string& out) {
  if (format == conf::AccessLogFormat::Json) {
    formatJson(entry, out);
  } else {
    formatText(entry, out);
  }
}

}  // namespace baton::proxy
