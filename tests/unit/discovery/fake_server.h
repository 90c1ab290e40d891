// A tiny raw HTTP/1.1 server for the discovery tests, on the test's EventLoop (127.0.0.1:0).
// Raw (evconnlistener + bufferevent) rather than evhttp's server so it can answer exactly like
// Jetty: an event stream with Connection: close, no Content-Length, no chunking; and so it can
// stall, hang or cut connections at will.
#pragma once

#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <openssl/ssl.h>

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "proxy/core/event_loop.h"

namespace baton::discovery::testing {

struct SeenRequest {
  std::string method, target;
  std::map<std::string, std::string> headers;  // lower-case names
};

class FakeServer {
 public:
  // What the handler wants done with a request.
  struct Reply {
    enum Kind { Full, Stream, Hang } kind = Full;
    std::string bytes;  // Full: the whole response (the connection is closed after it)
  };
  using Handler = std::function<Reply(const SeenRequest&)>;

  // tls: a server SSL_CTX (certificate loaded) to serve https://, or nullptr.
  FakeServer(core::EventLoop& loop, Handler handler, SSL_CTX* tls = nullptr)
      : loop_(loop), handler_(std::move(handler)), tls_(tls) {
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    listener_ = evconnlistener_new_bind(loop.base(), &FakeServer::onAccept, this,
                                        LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, 16,
                                        reinterpret_cast<sockaddr*>(&sin), sizeof sin);
    socklen_t len = sizeof sin;
    getsockname(evconnlistener_get_fd(listener_), reinterpret_cast<sockaddr*>(&sin), &len);
    port_ = ntohs(sin.sin_port);
  }
  ~FakeServer() {
    for (auto* c : conns_) bufferevent_free(c->bev), delete c;
    evconnlistener_free(listener_);
  }

  std::string url() const {
    return (tls_ != nullptr ? "https://127.0.0.1:" : "http://127.0.0.1:") + std::to_string(port_);
  }
  const std::vector<SeenRequest>& requests() const { return requests_; }
  size_t count(const std::string& prefix) const {
    size_t n = 0;
    for (const auto& r : requests_) n += r.target.starts_with(prefix);
    return n;
  }
  size_t streams() const {
    size_t n = 0;
    for (auto* c : conns_) n += c->streaming;
    return n;
  }
  // Writes raw bytes to every open event stream.
  void emit(const std::string& bytes) {
    for (auto* c : conns_)
      if (c->streaming) bufferevent_write(c->bev, bytes.data(), bytes.size());
  }
  void closeStreams() {
    std::erase_if(conns_, [](Conn* c) {
      if (!c->streaming) return false;
      bufferevent_free(c->bev);
      delete c;
      return true;
    });
  }
  // Answers every Hang-ing request with `bytes` and closes it.
  void releaseHung(const std::string& bytes) {
    for (auto* c : conns_)
      if (c->hung) {
        c->hung = false;
        c->closing = true;
        bufferevent_write(c->bev, bytes.data(), bytes.size());
      }
  }

  static std::string ok(const std::string& body, const std::string& type = "application/json") {
    return "HTTP/1.1 200 OK\r\nContent-Type: " + type +
           "\r\nContent-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" +
           body;
  }
  static std::string status(int code, const std::string& extra_headers = "") {
    return "HTTP/1.1 " + std::to_string(code) + " X\r\nContent-Length: 5\r\n" + extra_headers +
           "Connection: close\r\n\r\noops!";
  }
  static std::string streamHead() {
    return "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream;charset=utf-8\r\n"
           "Connection: close\r\n\r\n";
  }

 private:
  struct Conn {
    FakeServer* server;
    bufferevent* bev;
    std::string in;
    bool streaming = false, hung = false, closing = false, answered = false;
  };

  static void onAccept(evconnlistener*, evutil_socket_t fd, sockaddr*, int, void* arg) {
    auto* self = static_cast<FakeServer*>(arg);
    bufferevent* bev =
        self->tls_ != nullptr
            ? bufferevent_openssl_socket_new(self->loop_.base(), fd, SSL_new(self->tls_),
                                             BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE)
            : bufferevent_socket_new(self->loop_.base(), fd, BEV_OPT_CLOSE_ON_FREE);
    auto* c = new Conn{self, bev};
    self->conns_.push_back(c);
    bufferevent_setcb(c->bev, &FakeServer::onRead, &FakeServer::onWritten, &FakeServer::onEvent, c);
    bufferevent_enable(c->bev, EV_READ | EV_WRITE);
  }
  static void onRead(bufferevent* bev, void* arg) {
    auto* c = static_cast<Conn*>(arg);
    evbuffer* in = bufferevent_get_input(bev);
    const size_t n = evbuffer_get_length(in);
    std::string chunk(n, '\0');
    evbuffer_remove(in, chunk.data(), n);
    c->in += chunk;
    if (c->answered) return;
    const size_t end = c->in.find("\r\n\r\n");
    if (end == std::string::npos) return;
    c->answered = true;
    c->server->answer(c, c->in.substr(0, end));
  }
  static void onWritten(bufferevent* bev, void* arg) {
    auto* c = static_cast<Conn*>(arg);
    if (c->closing && evbuffer_get_length(bufferevent_get_output(bev)) == 0) c->server->drop(c);
  }
  static void onEvent(bufferevent*, short what, void* arg) {
    if (what & BEV_EVENT_CONNECTED) return;  // a TLS handshake completed
    auto* c = static_cast<Conn*>(arg);
    c->server->drop(c);
  }
  void drop(Conn* c) {
    std::erase(conns_, c);
    bufferevent_free(c->bev);
    delete c;
  }
  void answer(Conn* c, const std::string& head) {
    SeenRequest req;
    size_t line_end = head.find("\r\n");
    const std::string line = head.substr(0, line_end);
    const size_t sp1 = line.find(' '), sp2 = line.rfind(' ');
    req.method = line.substr(0, sp1);
    req.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
    while (line_end != std::string::npos) {
      const size_t start = line_end + 2;
      line_end = head.find("\r\n", start);
      const std::string field =
          head.substr(start, line_end == std::string::npos ? std::string::npos : line_end - start);
      const size_t colon = field.find(':');
      if (colon == std::string::npos) continue;
      std::string name = field.substr(0, colon);
      for (auto& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      std::string value = field.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.erase(0, 1);
      req.headers[name] = value;
    }
    requests_.push_back(req);
    Reply reply = handler_(req);
    switch (reply.kind) {
      case Reply::Full:
        c->closing = true;
        bufferevent_write(c->bev, reply.bytes.data(), reply.bytes.size());
        break;
      case Reply::Stream:
        c->streaming = true;
        bufferevent_write(c->bev, reply.bytes.data(), reply.bytes.size());
        break;
      case Reply::Hang:
        c->hung = true;
        break;
    }
  }

  core::EventLoop& loop_;
  Handler handler_;
  SSL_CTX* tls_ = nullptr;
  evconnlistener* listener_ = nullptr;
  uint16_t port_ = 0;
  std::vector<Conn*> conns_;
  std::vector<SeenRequest> requests_;
};

// Runs the loop until pred() holds or `limit` passes; returns pred().
inline bool runUntil(core::EventLoop& loop, const std::function<bool()>& pred,
                     std::chrono::milliseconds limit = std::chrono::milliseconds{5000}) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  core::Timer poll(loop, [] {});
  std::function<void()> check;
  core::Timer tick(loop, [&] {
    if (pred() || std::chrono::steady_clock::now() >= deadline) {
      loop.stop();
      return;
    }
    check();
  });
  check = [&] { tick.arm(std::chrono::milliseconds{2}); };
  if (pred()) return true;
  check();
  loop.run();
  tick.cancel();
  return pred();
}

// Runs the loop for `span` (to check that nothing more happens).
inline void runFor(core::EventLoop& loop, std::chrono::milliseconds span) {
  runUntil(
      loop, [] { return false; }, span);
}

}  // namespace baton::discovery::testing
