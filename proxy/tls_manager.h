// The control thread's side of TLS termination: builds the certificate contexts every snapshot
// carries (tls::ContextBuilder, which keeps each certificate's last good load), rotates the
// session-ticket keys every [tls] ticket_key_rotation, and polls the certificate files every
// [tls] watch_interval so a renewed certificate is served without a restart: when a file
// changed, `on_files_changed` asks the server to publish a new generation (the same path as a
// reload, so established connections keep the contexts they started with).
//
// Threading: control thread only (the contexts it returns are shared with workers, immutable).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "conf/config_spec.h"
#include "proxy/core/error.h"
#include "proxy/core/event_loop.h"
#include "proxy/core/log.h"
#include "proxy/tls/context_builder.h"

namespace baton::proxy {

class TlsManager {
 public:
  // `on_files_changed` publishes; it returns why that was refused ("" = published).
  TlsManager(core::EventLoop& loop, std::function<std::string()> on_files_changed);
  ~TlsManager();

  // Contexts for `config`: null when no listener uses TLS. A single bad certificate is logged
  // and its last good load kept. When no certificate at all can be served (or [tls] itself is
  // bad): `strict` (start, reload of the file) fails, so the old state stays; otherwise
  // (a Marathon update, a file watch) the previous contexts are kept and the error logged, so
  // one app's broken SSL_CERT never blocks every other app's routing.
  core::Result<std::shared_ptr<const tls::ServerContexts>> contextsFor(
      const conf::ConfigSpec& config, bool strict);
  // (A non-strict call with the same [tls] as the last good build, and no file change seen by
  // the watch since, returns that build's contexts without rebuilding.)
  // The contexts contextsFor returned last were accepted (the publish went through): they
  // become the ones kept, and a new ticket key file's keys go live. Not called after a refused
  // publish, which therefore changes nothing here.
  void commit();
  std::vector<tls::CertificateStatus> certificates() const { return builder_.describe(); }
  // The admin command `reload certs`: every certificate, key and OCSP file is read again now
  // (not only when the watch sees it changed; with watch_interval = 0 this is the way), through
  // on_files_changed like a watch hit; returns what that returned. Only while active().
  std::string reloadFiles();
  bool active() const { return active_; }
  const std::vector<std::string>& lastErrors() const { return last_errors_; }

 private:
  void schedule(const conf::TlsSpec& spec);
  void logOnce(core::LogLevel level, const std::string& message);
  void onWatch();
  void onRotate();

  core::EventLoop& loop_;
  std::function<std::string()> on_files_changed_;
  tls::ContextBuilder builder_;
  core::Timer watch_timer_;
  core::Timer rotate_timer_;
  conf::Duration watch_interval_{0};
  conf::Duration rotation_{0};
  std::vector<std::string> last_errors_;
  std::shared_ptr<const tls::ServerContexts> last_;     // of the last accepted build
  conf::TlsSpec last_spec_;                             // what last_ was built from
  std::shared_ptr<const tls::ServerContexts> pending_;  // built, not yet accepted (commit)
  conf::TlsSpec pending_spec_;
  bool files_changed_ = false;       // the watch saw a file change
  std::vector<std::string> logged_;  // errors and warnings logged once each
  bool active_ = false;              // some listener uses TLS
};

}  // namespace baton::proxy
