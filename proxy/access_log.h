// AccessLog: one line per request (text, nginx-combined-like, or JSON lines for
// Logstash/Elasticsearch), written off the hot path.
//
// Threads: one AccessLog per process, created on the control thread and held by workers through
// a shared_ptr. Worker `i` calls log(i, ...) only from its own thread: the line is formatted into
// that worker's scratch buffer and copied into its single-producer/single-consumer byte ring; log()
// never blocks, locks or does I/O — when the ring is full the line is dropped and counted. A
// writer thread owned by this object drains all rings to the fd with one writev(2) per batch,
// waking at least every 50 ms, or sooner when a ring passes half full.
//
// Escaping: every logged string is made safe for its format. Text: each byte outside 0x21-0x7E,
// and '"' and '\', is written \xHH (so fields never contain spaces or quotes). JSON: '"' and '\'
// are backslash-escaped, control bytes are \u00HH, and bytes >= 0x80 become the literal text
// "\xHH" (written \\xHH) so each line is always valid ASCII JSON whatever the client sent.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "conf/config_spec.h"
#include "proxy/core/error.h"

namespace baton::proxy {

struct AccessLogEntry {
  std::chrono::system_clock::time_point start;
  std::chrono::microseconds duration{0};
  std::string_view client_ip, method, target /*forwarded target*/, host, request_id, user_agent,
      vhost, upstream_host /*"ip:port" or "-"*/, error /*errorCodeName or "-"*/,
      traceparent /*or empty*/;
  // Asset pinning: the version chosen and why (routing::pin::reasonName), "-" when not pinned.
  std::string_view pin_version = "-", pin_reason = "-";
  uint16_t status = 0;
  uint8_t version_major = 1;
  uint8_t version_minor = 1;
  uint64_t bytes_in = 0, bytes_out = 0;
};

class AccessLog {
 public:
  static constexpr size_t kDefaultRingBytes = 1 << 20;  // per worker

  // spec.path: "off" (enabled() == false, no thread), "stdout", or a file opened
  // O_WRONLY|O_APPEND|O_CREAT (0644). Fails with ConfigIo when the file cannot be opened.
  static core::Result<std::shared_ptr<AccessLog>> create(const conf::AccessLogSpec& spec,
                                                         uint32_t workers);
  // Same with an explicit ring size per worker (rounded up to a power of two; tests use tiny
  // rings to exercise drops).
  static core::Result<std::shared_ptr<AccessLog>> create(const conf::AccessLogSpec& spec,
                                                         uint32_t workers, size_t ring_bytes);

  ~AccessLog();  // flushes and joins the writer thread
  AccessLog(const AccessLog&) = delete;
  AccessLog& operator=(const AccessLog&) = delete;

  bool enabled() const;  // false for "off": callers skip building entries at all

  // Worker `worker` only (worker < workers). Never blocks or does I/O.
  void log(uint32_t worker, const AccessLogEntry& entry);
  uint64_t dropped() const;
  // Waits until everything logged so far (by any worker) has been handed to write(2). For tests
  // and shutdown; never call it on a worker's event loop.
  void flush();

  // The line log() would write, without the ring (tests, and the text of the format reference).
  static void formatLine(conf::AccessLogFormat format, const AccessLogEntry& entry,
                         std::string& out);

  // Bytes the writer could not write (fd error other than EINTR/EAGAIN) and discarded.
  uint64_t writeErrors() const;

 private:
  struct Impl;
  explicit AccessLog(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace baton::proxy
