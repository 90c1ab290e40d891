// What the two codecs share on the sending side: ServerSession queues response bodies and
// ClientSession request bodies the same way, one OutboundBody per stream, read by nghttp2
// through a data provider. Included only by server_session.cc and client_session.cc (nghttp2
// stays inside proxy/http/http2/).
//
// Who calls what (all on the session's thread):
// - the session's appendBody()/endBody() -> OutboundBody::append()/end(): queue bytes, mark the
//   end (with trailers); both resume nghttp2's data provider if it was DEFERRED on an empty
//   queue.
// - nghttp2's data-provider read callback (the session's readBody trampoline, from inside
//   sendTo()) -> OutboundBody::read(): copies queued bytes out, sets EOF at the end and submits
//   the trailers HEADERS (gRPC) when there are any, DEFERs while empty. It reports whether the
//   queue fell below half the high watermark after passing it: the session then owes an
//   onStreamWritable, fired by fireWritable() once nghttp2 returned (never from inside its
//   callback, so the owner may resume a producer that writes to the session again).
// - the session's sendTo() -> sendFrames(), then fireWritable().
#pragma once

#include <nghttp2/nghttp2.h>
#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "proxy/http/http2/header_fields.h"
#include "proxy/http1/message.h"

namespace baton::proxy::http2 {

class SessionOutput;

// One stream's outbound body: a byte queue (consumed from the front, compacted when more than
// half was read) plus the trailers that follow it.
class OutboundBody {
 public:
  // What one read() did: `result` is the data provider's return value; `taken` the bytes
  // copied out of the queue; `writable` the queue just fell to half the high watermark after
  // having passed it (an onStreamWritable is owed).
  struct Read {
    ssize_t result = 0;
    size_t taken = 0;
    bool writable = false;
  };

  size_t queued() const { return queue_.size() - offset_; }
  bool ended() const { return ended_; }
  // No body at all (HEADERS with END_STREAM): later append()/end() are ignored.
  void markEnded() { ended_ = true; }

  // Queues `len` bytes of stream `id`. False (nothing queued) when `len` is 0 or the body
  // already ended.
  bool append(nghttp2_session* session, int32_t id, const char* data, size_t len,
              size_t high_watermark);
  // The body is complete: EOF after the queue, then a trailers HEADERS carrying END_STREAM when
  // `trailers` is not empty. Ignored once ended.
  void end(nghttp2_session* session, int32_t id, http1::HeaderList trailers);
  // The data provider's read callback for stream `id`, up to `length` bytes into `buf`. The
  // trailers' fields go through NvList::addFields with `dropped`, as the head's did.
  Read read(nghttp2_session* session, int32_t id, uint8_t* buf, size_t length, uint32_t* data_flags,
            size_t high_watermark, DroppedField dropped);

 private:
  void resume(nghttp2_session* session, int32_t id);

  std::string queue_;
  size_t offset_ = 0;  // bytes of queue_ already read
  http1::HeaderList trailers_;
  bool ended_ = false;
  bool deferred_ = false;    // the read callback returned DEFERRED: resume on new input
  bool above_high_ = false;  // passed the high watermark, owes a writable once below half
};

// Writes the session's pending frames into `out` until there are none or it is full. Returns
// the bytes written.
size_t sendFrames(nghttp2_session* session, SessionOutput& out);

// Fires `notify(id)` for every stream owed an onStreamWritable, outside nghttp2's callbacks
// (the list is taken first: a notified owner may append again). `notify` checks the stream
// still exists.
template <typename Notify>
void fireWritable(std::vector<int32_t>& owed, Notify&& notify) {
  std::vector<int32_t> ready;
  ready.swap(owed);
  for (const int32_t id : ready) notify(id);
}

}  // namespace baton::proxy::http2
