// How ServerSession::create() and ClientSession::create() build their nghttp2 session, where
// the two sides agree. Included only by server_session.cc and client_session.cc (nghttp2 stays
// inside proxy/http/http2/).
//
// Both sessions: no automatic WINDOW_UPDATE (windows open when the owner consume()s), no
// closed-stream bookkeeping, at most 100 queued outbound ACKs (SETTINGS/PING flood); then our
// SETTINGS and a connection window of max(1 MiB, 4 stream windows), consumed on receipt so one
// slow stream never stalls the others. Each side adds its own callbacks and options between
// newSessionSetup() and nghttp2_session_{server,client}_new2().
//
// Threading: called once per session, on the thread that creates it.
#pragma once

#include <nghttp2/nghttp2.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "proxy/core/error.h"

namespace baton::proxy::http2 {

// The callbacks and options handed to nghttp2_session_*_new2 (which copies them); freed with
// the setup.
struct SessionSetup {
  std::unique_ptr<nghttp2_session_callbacks, void (*)(nghttp2_session_callbacks*)> callbacks{
      nullptr, &nghttp2_session_callbacks_del};
  std::unique_ptr<nghttp2_option, void (*)(nghttp2_option*)> options{nullptr, &nghttp2_option_del};
};

// Empty callbacks and the options both sides use.
core::Result<SessionSetup> newSessionSetup();

// Submits our SETTINGS (sent by the first sendTo): `own` (the side's own entries: the server's
// MAX_CONCURRENT_STREAMS and ENABLE_CONNECT_PROTOCOL, the client's ENABLE_PUSH 0), then
// INITIAL_WINDOW_SIZE and MAX_HEADER_LIST_SIZE; then sizes the connection window for streams of
// `initial_window_bytes`.
core::Result<void> submitSettingsAndWindow(nghttp2_session* session,
                                           std::span<const nghttp2_settings_entry> own,
                                           uint32_t initial_window_bytes,
                                           uint32_t max_header_list_bytes);

}  // namespace baton::proxy::http2
