// Parser for Marathon's event stream (Jetty EventSourceServlet framing, marathon.md §2.2).
//
// Pure: bytes in, (event type, data) pairs out; no I/O. Used by MarathonSource on the control
// thread, one parser per attached stream. Handles CRLF, LF-only and CR-only line ends, a CR and
// its LF arriving in separate reads (Jetty's heartbeat flushes "\r" then "\n"), several data:
// lines joined with "\n", comments, and partial lines across reads. A line (or an event's data)
// longer than the cap is an error: the caller drops the stream and reconnects.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

#include "proxy/core/error.h"

namespace baton::discovery {

struct SseEvent {
  std::string type;  // the "event:" line ("" when absent); the JSON's eventType is authoritative
  std::string data;  // the "data:" lines joined with "\n"
};

class SseParser {
 public:
  static constexpr size_t kDefaultMaxLine = 16u << 20;  // 16 MiB
  explicit SseParser(size_t max_line = kDefaultMaxLine) : max_line_(max_line) {}

  // Feeds the next bytes of the stream; on_event runs once per complete event, in order.
  // After an error the parser is spent (the stream must be reconnected).
  core::Result<void> feed(std::string_view bytes, const std::function<void(SseEvent&&)>& on_event);

 private:
  core::Result<void> endLine(const std::function<void(SseEvent&&)>& on_event);

  size_t max_line_;
  std::string line_;
  bool skip_lf_ = false;  // the last byte was CR: a following LF (maybe in the next read) is eaten
  bool has_data_ = false;
  SseEvent event_;
};

// The fields of one Marathon event the source acts on (marathon.md §2.3). Missing fields are "".
struct EventInfo {
  std::string event_type;   // JSON "eventType"
  std::string task_status;  // status_update_event
  std::string task_id;      // "taskId" (or "instanceId" when no taskId)
  std::string instance_id;
  std::string app_id;  // "appId" (or "runSpecId")
};
// Parses one event's data (a single JSON object). Garbage → error.
core::Result<EventInfo> parseEventInfo(std::string_view json);

}  // namespace baton::discovery
