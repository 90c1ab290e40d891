// nghttp2 session setup shared by both codecs: see session_setup.h.
#include "proxy/http/http2/session_setup.h"

#include <algorithm>
#include <iterator>
#include <vector>

namespace baton::proxy::http2 {

namespace {

// The connection window: large enough that several streams move at full speed, consumed on
// receipt (buffering is bounded by the stream windows, never by this).
constexpr uint32_t kMinConnectionWindow = 1024 * 1024;

}  // namespace

core::Result<SessionSetup> newSessionSetup() {
  SessionSetup setup;
  nghttp2_session_callbacks* cbs = nullptr;
  if (nghttp2_session_callbacks_new(&cbs) != 0) {
    return core::fail(core::Error::internal("nghttp2_session_callbacks_new"));
  }
  setup.callbacks.reset(cbs);
  nghttp2_option* opt = nullptr;
  if (nghttp2_option_new(&opt) != 0) {
    return core::fail(core::Error::internal("nghttp2_option_new"));
  }
  setup.options.reset(opt);
  nghttp2_option_set_no_auto_window_update(opt, 1);
  nghttp2_option_set_no_closed_streams(opt, 1);
  nghttp2_option_set_max_outbound_ack(opt, 100);
  return setup;
}

core::Result<void> submitSettingsAndWindow(nghttp2_session* session,
                                           std::span<const nghttp2_settings_entry> own,
                                           uint32_t initial_window_bytes,
                                           uint32_t max_header_list_bytes) {
  std::vector<nghttp2_settings_entry> settings(own.begin(), own.end());
  settings.push_back({NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, initial_window_bytes});
  settings.push_back({NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, max_header_list_bytes});
  if (int r = nghttp2_submit_settings(session, NGHTTP2_FLAG_NONE, settings.data(), settings.size());
      r != 0) {
    return core::fail(core::Error::internal(nghttp2_strerror(r)));
  }
  const uint32_t connection_window = std::max<uint32_t>(
      kMinConnectionWindow,
      std::min<uint64_t>(uint64_t{initial_window_bytes} * 4, NGHTTP2_MAX_WINDOW_SIZE));
  nghttp2_session_set_local_window_size(session, NGHTTP2_FLAG_NONE, 0,
                                        static_cast<int32_t>(connection_window));
  return {};
}

}  // namespace baton::proxy::http2
