// Test scaffolding shared by server_session_test.cc (ServerSession under test) and
// client_session_test.cc (ServerSession as the in-memory backend of a ClientSession): a
// SessionOutput that keeps every byte, and a SessionCallbacks that records what a ServerSession
// delivered per stream.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "proxy/http/http2/server_session.h"

namespace baton::proxy::http2::testing {

// sendTo() output: every byte, never full.
struct Bytes : SessionOutput {
  std::string data;
  void write(const uint8_t* p, size_t n) override {
    data.append(reinterpret_cast<const char*>(p), n);
  }
  bool full() const override { return false; }
};

// A ServerSession's owner, recorded. `session` is set by whoever creates the session; with
// `auto_consume` request bytes reopen their window as soon as they arrive.
struct RequestRecorder : SessionCallbacks {
  struct Req {
    http1::RequestHead head;
    bool end_stream = false;
    std::string body;
    http1::HeaderList trailers;
    bool ended = false;
    bool closed = false;
    H2Error close_error = H2Error::NoError;
    bool reset_by_client = false;
  };
  std::map<int32_t, Req> reqs;
  std::map<int32_t, core::ErrorCode> rejected;
  std::vector<int32_t> writable;
  ServerSession* session = nullptr;
  bool auto_consume = true;

  void onRequestHead(int32_t id, http1::RequestHead&& head, bool end_stream) override {
    reqs[id].head = std::move(head);
    reqs[id].end_stream = end_stream;
  }
  void onRequestRejected(int32_t id, core::ErrorCode code, bool) override { rejected[id] = code; }
  void onRequestData(int32_t id, const uint8_t* data, size_t len) override {
    reqs[id].body.append(reinterpret_cast<const char*>(data), len);
    if (auto_consume) session->consume(id, len);
  }
  void onRequestTrailers(int32_t id, http1::HeaderList&& t) override {
    reqs[id].trailers = std::move(t);
  }
  void onRequestEnd(int32_t id) override { reqs[id].ended = true; }
  void onStreamClose(int32_t id, H2Error error, bool by_client) override {
    reqs[id].closed = true;
    reqs[id].close_error = error;
    reqs[id].reset_by_client = by_client;
  }
  void onStreamWritable(int32_t id) override { writable.push_back(id); }
};

}  // namespace baton::proxy::http2::testing
