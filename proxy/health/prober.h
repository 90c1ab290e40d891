// One active health probe of one host: TCP connect, or an HTTP/1.1 GET (plain or TLS) whose
// status line decides. Redirects are never followed (a 3xx is judged by `expect` like any
// status); the body is never read (the status line is enough, the socket closes right after).
// Bounded by the check's timeout from connect to status line.
//
// Threading: created, run and destroyed on the health thread's loop (health_service.h). `done`
// is called once, from a loop callback; the owner may destroy the Probe from inside it (it is a
// Deletable: hand it to EventLoop::deferDelete).
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "conf/config_spec.h"
#include "proxy/core/event_loop.h"
#include "proxy/core/transport.h"

namespace baton::tls {
class ClientContext;
}

namespace baton::proxy::health {

// Bounded set: the `result` label of baton_health_checks_total.
enum class ProbeOutcome : uint8_t { Passed, BadStatus, Timeout, Refused, Error };
inline constexpr size_t kProbeOutcomes = 5;
const char* probeOutcomeName(ProbeOutcome outcome);  // "passed", "bad_status", ...

struct ProbeResult {
  ProbeOutcome outcome = ProbeOutcome::Error;
  std::string detail;  // "200", "503", "connect refused", "timeout", "closed before status"
  bool passed() const { return outcome == ProbeOutcome::Passed; }
};

// Where and how to probe (the host's address with the check's port applied).
struct ProbeTarget {
  sockaddr_storage addr{};
  socklen_t len = 0;
  std::string host_header;  // Host header (and TLS SNI when it is a name)
};

class Probe : public core::Deletable, private core::Transport::Handler {
 public:
  // `tls` is used for protocol https only (must then be non-null and outlive the probe).
  Probe(core::EventLoop& loop, const ProbeTarget& target, const conf::HealthCheckSpec& spec,
        const tls::ClientContext* tls, std::function<void(ProbeResult)> done);
  ~Probe() override;
  Probe(const Probe&) = delete;
  Probe& operator=(const Probe&) = delete;

  // Parses "HTTP/1.x NNN ..." at the start of `head`: the status, 0 = not a status line yet or
  // not one at all (see parseStatusLine's `complete`).
  static int parseStatusLine(std::string_view head, bool& complete);

 private:
  void onTransportReadable() override;
  void onTransportDrained() override {}
  void onTransportConnected() override;
  void onTransportClosed(bool error, int err) override;
  void onTransportSecured() override;
  void sendRequest();
  void finish(ProbeOutcome outcome, std::string detail);

  conf::HealthCheckSpec spec_;
  std::string host_header_;
  std::unique_ptr<core::Transport> transport_;
  core::Timer timeout_;
  std::function<void(ProbeResult)> done_;
  std::string early_error_;  // the socket could not even be created
  bool finished_ = false;
};

}  // namespace baton::proxy::health
