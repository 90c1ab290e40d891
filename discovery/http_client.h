// A small HTTP/1.1 client for the Marathon API, over libevent's evhttp (plain or OpenSSL).
// The only file in baton that includes evhttp, bufferevent_openssl or OpenSSL.
//
// Threading: one HttpClient per discovery source, created and used on the control thread's
// EventLoop; every callback runs on that loop. Never blocks it: names resolve through an
// evdns_base owned by the client; connects are non-blocking.
//
// Two modes per call:
// - whole body: the body is appended to one std::string as it arrives (chunk callback), under a
//   total deadline and a size cap; on_done gets status + body.
// - streaming (the SSE stream): on_open once a 2xx head arrived, on_chunk per read, on_done at
//   the end (EOF = success with an empty body, or the error). A read-idle timer re-armed on each
//   read turns a stalled stream into an error.
// Exactly one redirect (301/302/303/307/308) is followed per call, with every header kept
// (Authorization too: marathon-lb's UNRESTRICTED_AUTH). A non-2xx status is an error naming the
// URL and status. Destroying the Call cancels it and suppresses further callbacks; that is safe
// from inside its own callbacks.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "proxy/core/error.h"
#include "proxy/core/event_loop.h"

struct evdns_base;
struct ssl_ctx_st;

namespace baton::discovery {

struct HttpRequest {
  std::string url;  // http://host[:port]/path?query or https://...
  std::vector<std::pair<std::string, std::string>> headers;
  bool stream = false;
  std::chrono::milliseconds timeout{30'000};  // whole: total deadline; stream: read-idle
  size_t max_body = 256u << 20;               // whole mode cap
  // Whole mode: the body is read into this string (cleared, its capacity kept). A caller that
  // fetches the same large document again and again (Marathon's app list, tens of MB) hands
  // back the last one's buffer: no regrowth through the reads and no fresh pages to fault in.
  std::string body_buffer;
};

struct HttpResponse {
  int status = 0;
  std::string body;       // whole mode only
  std::string final_url;  // the URL that answered (after a redirect)
};

class HttpClient {
 public:
  struct Handlers {
    std::function<void(const HttpResponse& head)> on_open;  // stream: 2xx head arrived
    std::function<void(std::string_view bytes)> on_chunk;   // stream: body bytes
    std::function<void(core::Result<HttpResponse>)> on_done;
  };
  class Call {
   public:
    virtual ~Call() = default;
  };

  // ca_file: PEM bundle to verify https peers against ("" = system default paths).
  static core::Result<std::unique_ptr<HttpClient>> create(core::EventLoop& loop,
                                                          const std::string& ca_file);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Every Call must be destroyed before the client.
  // Starts a GET. Errors that happen at once (bad URL) still arrive through on_done, later.
  std::unique_ptr<Call> get(HttpRequest request, Handlers handlers);

  // Internal: what exchanges share with the client. It outlives the client while an exchange
  // detached inside its own callback still waits for its deferred deletion (a Source destroyed
  // from one of its callbacks), so that exchange can still free its connection safely.
  struct Shared;
  const std::shared_ptr<Shared>& shared() const { return shared_; }

  core::EventLoop& loop() { return loop_; }
  evdns_base* dns() const;
  ssl_ctx_st* tls() const;

 private:
  explicit HttpClient(core::EventLoop& loop) : loop_(loop) {}
  core::EventLoop& loop_;
  std::shared_ptr<Shared> shared_;
};

// "scheme://host[:port]" of a URL ("" when it does not parse).
std::string urlOrigin(std::string_view url);

}  // namespace baton::discovery
