// A byte tunnel between two connected sockets: what an upgraded (WebSocket) HTTP/1 connection
// becomes after the upstream's 101. Bytes are copied both ways untouched.
//
//   splice   each side's input is queued on the other side's output; a side stops being read
//            while the other's output is above the high watermark and resumes when it drains
//            (memory per tunnel stays about 2 x high watermark, never unbounded).
//   close    EOF from one side -> shutdown(SHUT_WR) on the other once its output is flushed
//            (half-close is propagated, the other direction keeps flowing); done when both
//            directions ended and everything is flushed. A reset on one side delivers what is
//            already queued toward the other, then ends both.
//   idle     no byte in either direction for `idle_timeout` -> End::IdleTimeout.
//
// The tunnel owns neither transport: it becomes their handler in start() and, once it has ended
// (on_end) or been stop()ped, touches them no more; the owner then closes and frees them.
//
// Threading: created, used and destroyed on one worker thread. `on_end` is called once, from a
// loop callback of one of the transports or of the idle timer; the owner may stop everything
// from inside it but must defer the tunnel's deletion.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>

#include "proxy/core/event_loop.h"
#include "proxy/core/transport.h"

namespace baton::proxy {

class Tunnel {
 public:
  enum class End : uint8_t {
    Eof,              // both sides closed cleanly, everything delivered
    DownstreamReset,  // the downstream side reset (what it had sent was delivered first)
    UpstreamReset,    // same, the upstream side
    IdleTimeout,      // no byte either way for idle_timeout
  };

  struct Settings {
    std::chrono::milliseconds idle_timeout{3'600'000};
    size_t high_watermark = 256 * 1024;
  };

  Tunnel(core::EventLoop& loop, core::Transport& downstream, core::Transport& upstream,
         Settings settings, std::function<void(End)> on_end);
  ~Tunnel();
  Tunnel(const Tunnel&) = delete;
  Tunnel& operator=(const Tunnel&) = delete;

  // Takes over both transports' handlers and forwards what each already holds in its input
  // (bytes read before the switch). `*_eof`: that side had already half-closed.
  void start(bool downstream_eof, bool upstream_eof);
  // Stops both transports' I/O now; on_end is not called.
  void stop();

  uint64_t bytesFromDownstream() const { return bytes_from_downstream_; }
  uint64_t bytesFromUpstream() const { return bytes_from_upstream_; }
  bool ended() const { return ended_; }

 private:
  struct Side : core::Transport::Handler {
    Tunnel* tunnel = nullptr;
    bool upstream = false;
    void onTransportReadable() override { tunnel->onReadable(upstream); }
    void onTransportDrained() override { tunnel->onDrained(upstream); }
    void onTransportConnected() override {}
    void onTransportClosed(bool error, int) override { tunnel->onClosed(upstream, error); }
  };

  void onReadable(bool from_upstream);
  void onDrained(bool upstream_side);
  void onClosed(bool upstream_side, bool error);
  void maybeFinish();
  void finish(End end);
  void touch();

  core::Transport& side(bool upstream) { return upstream ? upstream_ : downstream_; }

  core::Transport& downstream_;
  core::Transport& upstream_;
  Settings settings_;
  std::function<void(End)> on_end_;
  Side downstream_side_;
  Side upstream_side_;
  core::Timer idle_timer_;
  uint64_t bytes_from_downstream_ = 0;
  uint64_t bytes_from_upstream_ = 0;
  bool downstream_eof_ = false;  // downstream sent FIN: upstream's write side is (being) shut
  bool upstream_eof_ = false;
  bool downstream_dead_ = false;  // reset: no more I/O on that side
  bool upstream_dead_ = false;
  bool ended_ = false;
};

}  // namespace baton::proxy
