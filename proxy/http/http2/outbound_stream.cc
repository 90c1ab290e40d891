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
      list.build();
      *data_flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
      nghttp2_submit_trailer(session, id, list.nva.data(), list.nva.size());
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

size_t sendFrames(nghttp2_session* session, SessionOutput& out) {
  size_t total = 0;
  while (!out.full()) {
    const uint8_t* data = nullptr;
    const ssize_t n = nghttp2_session_mem_send(session, &data);
    if (n <= 0) break;
    out.write(data, static_cast<size_t>(n));
    total += static_cast<size_t>(n);
  }
  return total;
}

}  // namespace baton::proxy::http2
