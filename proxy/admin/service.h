// What the admin front ends (the UNIX socket, the admin HTTP listener and its dashboard) can ask
// of the running server. One interface, so a drain clicked on the dashboard and a drain typed
// into the socket run the same code.
//
// Threading: implemented by proxy::Server; every call is made on the CONTROL thread (the admin
// socket and the admin HTTP listener both run on the control loop), and every callback is
// invoked on the control thread, exactly once.
#pragma once

#include <chrono>
#include <cstdint>
#include <expected>
#include <functional>
#include <string>
#include <string_view>

#include "proxy/admin/status.h"
#include "upstream/cluster.h"

namespace baton::proxy::admin {

// A refused command. `word` is stable (scripts match on it), the message is for people:
//   "unknown"  no such command            "usage"     wrong arguments
//   "notfound" no such cluster or host     "invalid"   a value out of range
//   "denied"   not allowed (token, uid)    "failed"    the server could not do it (reload error)
//   "timeout"  a wait ran out
struct CommandError {
  std::string word;
  std::string message;
};

// Success carries a one-line human message ("host shop_web/10_0_6_25_31704 set to drain").
using CommandResult = std::expected<std::string, CommandError>;

inline CommandResult commandError(std::string word, std::string message) {
  return std::unexpected(CommandError{std::move(word), std::move(message)});
}

class AdminService {
 public:
  virtual ~AdminService() = default;

  // Gathers every worker's counters into the model; `done` gets it (on the control thread).
  virtual void status(std::function<void(EdgeStatus)> done) = 0;

  // Operator state of one host (`host` = name or address) or of a whole cluster (applies to its
  // future hosts too). Ready clears the operator's state; a host Marathon is draining stays
  // draining. Survives Marathon resyncs and reloads until set back. Takes effect for the next
  // pick on every worker (a new snapshot generation is published).
  virtual CommandResult setHostState(std::string_view cluster, std::string_view host,
                                     upstream::AdminState state) = 0;
  virtual CommandResult setClusterState(std::string_view cluster, upstream::AdminState state) = 0;
  // 1..256; 0 is refused ("invalid": use drain). Survives resyncs like the state.
  virtual CommandResult setHostWeight(std::string_view cluster, std::string_view host,
                                      uint32_t weight) = 0;
  // Calls `done` when the host has nothing in flight on any worker (HTTP requests and TCP-mode
  // connections), or with "timeout" after `timeout`. Unknown host: "notfound" at once.
  virtual void waitHostIdle(std::string_view cluster, std::string_view host,
                            std::chrono::milliseconds timeout,
                            std::function<void(CommandResult)> done) = 0;

  // Re-reads the config file (all or nothing, like SIGHUP); "failed" with the loader's message
  // (FILE:LINE: key: message) when it is refused.
  virtual CommandResult reload() = 0;
  virtual void resync() = 0;  // re-read Marathon now
  // Re-reads every TLS certificate, key and OCSP file now (nothing else of the config); a bad
  // file keeps its certificate's last good load. The answer counts what is served and what failed.
  virtual CommandResult reloadCertificates() {
    return commandError("failed", "certificate reload is not available here");
  }
  // The effective config, as /_haproxy_getconfig shows it.
  virtual std::string configText() = 0;
  // "error", "warn", "info", "debug".
  virtual CommandResult setLogLevel(std::string_view level) = 0;
  // Asset pinning: the version the CDN gets for every cluster of `group` (until that version has
  // no serving host). "notfound": no such pinned group, or no live version `id` in it.
  virtual CommandResult setGroupCdnVersion(std::string_view group, std::string_view id) {
    (void)group;
    (void)id;
    return commandError("failed", "asset pinning is not available here");
  }

  // Zero-downtime binary upgrade: runs `binary` ("" = the binary baton was started from) as a new
  // process that takes over the listening sockets, the admin endpoints and the operator states.
  // `done` answers once the new process serves (this one then drains and exits) or with
  // "failed" and the new process's error (this one keeps serving).
  virtual void upgrade(std::string_view binary, std::function<void(CommandResult)> done) {
    (void)binary;
    done(commandError("failed", "upgrade is not available here"));
  }

  // What this instance tells the other baton instances about itself (GET /instance): cheap and
  // synchronous (no worker round trip), polled every few seconds by each peer.
  virtual InstanceFacts instanceFacts() { return InstanceFacts{}; }

  // Calls `then` once every worker serves the latest change (at once when they already do).
  // Front ends send a command's answer through it, so an acknowledged drain is in effect on
  // every worker: no new request reaches the host after the answer.
  virtual void whenApplied(std::function<void()> then) { then(); }
};

}  // namespace baton::proxy::admin
