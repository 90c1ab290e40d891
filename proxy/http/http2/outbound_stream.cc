// Per-stream outbound bodies read by nghttp2's data provider: see outbound_stream.h.
#include "proxy/http/http2/outbound_stream.h"

#include <algorithm>
#include <cstring>

#include "proxy/http/http2/server_session.h"

namespace baton::proxy::http2 {

bool OutboundBody::append(nghttp2_session* session, int32_t id, const char* data, size_t len,
                          size_t high_watermark) {
  if (len == 0 || ended_) return false;
  queue_.append(data, len);
  if (queued() > high_watermark) above_high_ = true;
  resume(session, id);
  return true;
}

void OutboundBody::end(nghttp2_session* session, int32_t id, http1::HeaderList trailers) {
  if (ended_) return;
  ended_ = true;
  trailers_ = std::move(trailers);
  resume(session, id);
}

void OutboundBody::resume(nghttp2_session* session, int32_t id) {
  if (!deferred_) return;
  deferred_ = false;
  nghttp2_session_resume_data(session, id);
}

OutboundBody::Read OutboundBody::read(nghttp2_session* session, int32_t id, uint8_t* buf,
                                      size_t length, uint32_t* data_flags, size_t high_watermark,
                                      DroppedField dropped) {
  Read r;
  const size_t n = std::min(length, queued());
  r.taken = n;
  if (n > 0) {
    std::memcpy(buf, queue_.data() + offset_, n);
    offset_ += n;
    if (offset_ == queue_.size()) {
      queue_.clear();
      offset_ = 0;
    } else if (offset_ > queue_.size() / 2) {
      queue_.erase(0, offset_);
      offset_ = 0;
    }
    if (above_high_ && queued() <= high_watermark / 2) {
      above_high_ = false;
      r.writable = true;
    }
  }
  if (queued() == 0 && ended_) {
    *data_flags |= NGHTTP2_DATA_FLAG_EOF;
    if (!trailers_.empty()) {
      NvList list;
      list.addFields(trailers_, dropped);
      *data_flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
      nghttp2_submit_trailer(session, id, list.data(), list.size());
    }
    r.result = static_cast<ssize_t>(n);
    return r;
  }
  if (n == 0) {
    deferred_ = true;
    r.result = NGHTTP2_ERR_DEFERRED;
    return r;
  }
  r.result = static_cast<ssize_t>(n);
  return r;
}

// nghttp2 hands out one frame per mem_send call; small frames (HEADERS, a short DATA, the
// END_STREAM DATA, WINDOW_UPDATE, SETTINGS ACK) are gathered here and written together, so a
// pass that answers several streams costs one write into `out` (one evbuffer_add and its
// buffer-account callback), not one per frame. Large frames go straight through (no extra copy).
size_t sendFrames(nghttp2_session* session, SessionOutput& out) {
  constexpr size_t kBatchBytes = 4096;
  uint8_t batch[kBatchBytes];
  size_t batched = 0;
  size_t total = 0;
  bool wrote = false;  // something went to `out` before the last batch
  while (!out.full()) {
    const uint8_t* data = nullptr;
    const ssize_t rv = nghttp2_session_mem_send(session, &data);
    if (rv <= 0) break;
    const size_t n = static_cast<size_t>(rv);
    total += n;
    if (batched + n > kBatchBytes && batched > 0) {
      out.write(batch, batched);
      batched = 0;
      wrote = true;
    }
    if (n >= kBatchBytes) {
      out.write(data, n);  // valid until the next mem_send call
      wrote = true;
    } else {
      std::memcpy(batch + batched, data, n);
      batched += n;
    }
  }
  if (batched > 0) {
    // One batch is all there is (a small response, a SETTINGS ack): it may leave at once.
    if (wrote) {
      out.write(batch, batched);
    } else {
      out.writeAlone(batch, batched);
    }
  }
  return total;
}

}  // namespace baton::proxy::http2
