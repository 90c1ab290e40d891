#include "proxy/health/prober.h"

#include <event2/buffer.h>

#include <cerrno>
#include <cstring>
#include <string_view>

#include "proxy/tls/client_context.h"

namespace baton::proxy::health {

namespace {

constexpr size_t kReadHighWatermark = 4096;
constexpr size_t kMaxStatusLine = 1024;  // a status line longer than this is garbage

// "10.0.0.1" / "svc.internal" are names to send as SNI; an IP literal is not (RFC 6066).
std::string sniFor(const std::string& host_header) {
  std::string_view host = host_header;
  if (host.starts_with('[')) return "";
  if (const size_t colon = host.rfind(':'); colon != std::string_view::npos) {
    host = host.substr(0, colon);
  }
  const bool numeric = host.find_first_not_of("0123456789.") == std::string_view::npos;
  return numeric ? "" : std::string(host);
}

}  // namespace

const char* probeOutcomeName(ProbeOutcome outcome) {
  switch (outcome) {
    case ProbeOutcome::Passed:
      return "passed";
    case ProbeOutcome::BadStatus:
      return "bad_status";
    case ProbeOutcome::Timeout:
      return "timeout";
    case ProbeOutcome::Refused:
      return "refused";
    case ProbeOutcome::Error:
      return "error";
  }
  return "error";
}

Probe::Probe(core::EventLoop& loop, const ProbeTarget& target, const conf::HealthCheckSpec& spec,
             const tls::ClientContext* tls, std::function<void(ProbeResult)> done)
    : spec_(spec),
      host_header_(target.host_header),
      timeout_(loop,
               [this] {
                 if (early_error_.empty()) {
                   finish(ProbeOutcome::Timeout, "timeout");
                 } else {
                   finish(ProbeOutcome::Error, early_error_);
                 }
               }),
      done_(std::move(done)) {
  if (spec.protocol == conf::HealthCheckProtocol::Https && tls == nullptr) {
    // Never a silent plain-text probe of a TLS port: a failure that says why.
    early_error_ = "tls: no client context";
    timeout_.arm(std::chrono::milliseconds(1));
    return;
  }
  const auto* addr = reinterpret_cast<const sockaddr*>(&target.addr);
  core::Result<std::unique_ptr<core::Transport>> transport =
      spec.protocol == conf::HealthCheckProtocol::Https
          ? core::Transport::connect(
                loop, addr, target.len,
                [tls, name = sniFor(host_header_)](int fd) { return tls->newSession(fd, name); },
                this, kReadHighWatermark)
          : core::Transport::connect(loop, addr, target.len, this, kReadHighWatermark);
  timeout_.arm(spec.timeout);
  if (!transport) {
    // Reported from the loop, never from inside the constructor (the owner is not ready); the
    // timer dies with the probe, a posted task would not.
    early_error_ = transport.error().detail;
    timeout_.arm(std::chrono::milliseconds(1));
    return;
  }
  transport_ = std::move(*transport);
}

Probe::~Probe() {
  if (transport_) transport_->stop();
}

void Probe::onTransportConnected() {
  if (spec_.protocol == conf::HealthCheckProtocol::Tcp) {
    finish(ProbeOutcome::Passed, "connected");
    return;
  }
  sendRequest();  // with TLS, held by the transport until the handshake completes
}

void Probe::onTransportSecured() {}

void Probe::sendRequest() {
  std::string request = "GET " + spec_.path + " HTTP/1.1\r\nHost: " + host_header_ +
                        "\r\nUser-Agent: baton-health-check\r\nConnection: close\r\n\r\n";
  transport_->write(request);
}

int Probe::parseStatusLine(std::string_view head, bool& complete) {
  complete = false;
  const size_t eol = head.find("\r\n");
  if (eol == std::string_view::npos) return 0;
  complete = true;
  const std::string_view line = head.substr(0, eol);
  if (line.size() < 12 || !line.starts_with("HTTP/1.") || line[8] != ' ') return 0;
  int status = 0;
  for (size_t i = 9; i < 12; ++i) {
    if (line[i] < '0' || line[i] > '9') return 0;
    status = status * 10 + (line[i] - '0');
  }
  if (line.size() > 12 && line[12] != ' ') return 0;
  return status >= 100 ? status : 0;
}

void Probe::onTransportReadable() {
  if (finished_) return;
  evbuffer* in = transport_->input();
  const size_t len = std::min(evbuffer_get_length(in), kMaxStatusLine);
  const char* data = reinterpret_cast<const char*>(evbuffer_pullup(in, static_cast<ssize_t>(len)));
  bool complete = false;
  const int status = Probe::parseStatusLine(std::string_view(data, len), complete);
  if (!complete) {
    if (len >= kMaxStatusLine) finish(ProbeOutcome::Error, "no status line");
    return;
  }
  if (status == 0) {
    finish(ProbeOutcome::Error, "not an HTTP response");
    return;
  }
  // Any status is judged by `expect`, a 1xx too (a failure by default, as Marathon's
  // ignoreHttp1xx = false; the probe sends no Expect, so a sane server sends none).
  const bool ok = status >= spec_.expect_min && status <= spec_.expect_max;
  finish(ok ? ProbeOutcome::Passed : ProbeOutcome::BadStatus, std::to_string(status));
}

void Probe::onTransportClosed(bool error, int err) {
  if (finished_) return;
  if (!error) {
    finish(ProbeOutcome::Error, "closed before status");
    return;
  }
  if (!transport_->connected() && err == ECONNREFUSED) {
    finish(ProbeOutcome::Refused, "connect refused");
    return;
  }
  if (transport_->secure() && !transport_->handshakeDone()) {
    const std::string& why = transport_->closeReason();
    finish(ProbeOutcome::Error, "tls: " + (why.empty() ? std::string(std::strerror(err)) : why));
    return;
  }
  finish(ProbeOutcome::Error, err == ECONNREFUSED ? "connect refused" : std::strerror(err));
}

void Probe::finish(ProbeOutcome outcome, std::string detail) {
  if (finished_) return;
  finished_ = true;
  timeout_.cancel();
  if (transport_) transport_->stop();
  auto done = std::move(done_);
  done(ProbeResult{outcome, std::move(detail)});  // may destroy this (deferred)
}

}  // namespace baton::proxy::health
