#include "discovery/sse_parser.h"

#include <simdjson.h>

namespace baton::discovery {

core::Result<void> SseParser::feed(std::string_view bytes,
                                   const std::function<void(SseEvent&&)>& on_event) {
  for (size_t i = 0; i < bytes.size(); ++i) {
    const char c = bytes[i];
    if (c == '\n' && skip_lf_) {  // the LF of a CRLF split across reads, or not
      skip_lf_ = false;
      continue;
    }
    skip_lf_ = false;
    if (c == '\r' || c == '\n') {
      skip_lf_ = (c == '\r');
      if (auto r = endLine(on_event); !r) return r;
      continue;
    }
    // Copy the run up to the next line end at once rather than byte by byte.
    size_t end = bytes.find_first_of("\r\n", i);
    if (end == std::string_view::npos) end = bytes.size();
    if (line_.size() + (end - i) > max_line_)
      return core::fail(
          core::Error::internal("event stream: line over " + std::to_string(max_line_) + " bytes"));
    line_.append(bytes.substr(i, end - i));
    i = end - 1;
  }
  return {};
}

core::Result<void> SseParser::endLine(const std::function<void(SseEvent&&)>& on_event) {
  std::string_view line = line_;
  if (line.empty()) {  // event boundary; a bare one (heartbeat) carries nothing
    if (has_data_) on_event(std::move(event_));
    event_ = SseEvent{};
    has_data_ = false;
    return {};
  }
  std::string_view field = line, value;
  if (const size_t colon = line.find(':'); colon != std::string_view::npos) {
    field = line.substr(0, colon);
    value = line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  }
  if (field == "event") {
    event_.type.assign(value);
  } else if (field == "data") {
    if (has_data_) event_.data.push_back('\n');
    if (event_.data.size() + value.size() > max_line_) {
      line_.clear();
      return core::fail(core::Error::internal("event stream: event data over " +
                                              std::to_string(max_line_) + " bytes"));
    }
    event_.data.append(value);
    has_data_ = true;
  }  // comments (":...") and id:/retry:/unknown fields are ignored (Jetty sends none)
  line_.clear();
  return {};
}

namespace {
std::string stringField(simdjson::dom::object& obj, std::string_view key) {
  std::string_view v;
  if (obj[key].get(v) != simdjson::SUCCESS) return {};
  return std::string(v);
}
}  // namespace

core::Result<EventInfo> parseEventInfo(std::string_view json) {
  simdjson::dom::parser parser;
  simdjson::dom::object obj;
  if (auto err = parser.parse(json.data(), json.size()).get(obj); err != simdjson::SUCCESS)
    return core::fail(core::Error::internal(std::string("event data is not a JSON object: ") +
                                            simdjson::error_message(err)));
  EventInfo info;
  info.event_type = stringField(obj, "eventType");
  info.task_status = stringField(obj, "taskStatus");
  info.task_id = stringField(obj, "taskId");
  info.instance_id = stringField(obj, "instanceId");
  info.app_id = stringField(obj, "appId");
  if (info.task_id.empty()) info.task_id = info.instance_id;
  if (info.app_id.empty()) info.app_id = stringField(obj, "runSpecId");
  return info;
}

}  // namespace baton::discovery
