#include "proxy/lingering_close.h"

#include <event2/buffer.h>

namespace baton::proxy {

LingeringClose::LingeringClose(core::EventLoop& loop, std::function<void()> close_now)
    : timer_(loop, [this] { close_now_(); }), close_now_(std::move(close_now)) {}

void LingeringClose::begin(core::Transport& transport, std::chrono::milliseconds flush_deadline,
                           bool read_eof) {
  // Hear onTransportDrained when the output is fully sent.
  transport.setWriteLowWatermark(0);
  timer_.arm(flush_deadline);
  if (transport.pendingOutput() == 0) flushed(transport, read_eof);
}

void LingeringClose::flushed(core::Transport& transport, bool read_eof) {
  if (read_eof) {
    // The client already closed its side and we read up to its FIN: nothing unread can turn
    // our close into a RST.
    close_now_();
    return;
  }
  transport.shutdownWriteWhenFlushed();
  // Discard what is buffered (an upload paused behind a slow upstream can fill the input to the
  // watermark, which would keep reading off) and keep reading until the client's FIN.
  evbuffer_drain(transport.input(), evbuffer_get_length(transport.input()));
  transport.resumeReading();
  timer_.arm(kLingerTime);
}

}  // namespace baton::proxy
