// Closing a client connection without losing the last thing sent (a 400, a GOAWAY): wait for the
// output to flush (bounded by [timeouts] body_idle, for a client that never reads), then
// half-close and read until the client's FIN (bounded by kLingerTime), so bytes the client still
// sends cannot make the kernel answer with a RST that destroys the reply in flight.
//
// Shared by the HTTP/1 and HTTP/2 client connections. Threading: the connection's worker thread.
#pragma once

#include <chrono>
#include <functional>

#include "proxy/core/event_loop.h"
#include "proxy/core/transport.h"

namespace baton::proxy {

class LingeringClose {
 public:
  static constexpr std::chrono::milliseconds kLingerTime{2000};

  // `close_now` ends the connection (a deadline passed, or the client's FIN arrived).
  LingeringClose(core::EventLoop& loop, std::function<void()> close_now);

  // Output is queued: flush it within `flush_deadline`, then linger (at once when it is empty).
  void begin(core::Transport& transport, std::chrono::milliseconds flush_deadline, bool read_eof);
  // The output has been flushed (the connection's onTransportDrained while closing).
  void flushed(core::Transport& transport, bool read_eof);
  void cancel() { timer_.cancel(); }

 private:
  core::Timer timer_;
  std::function<void()> close_now_;
};

}  // namespace baton::proxy
