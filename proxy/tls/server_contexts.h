// The server side of TLS for every listener of one configuration generation: one OpenSSL
// context per certificate, SNI selection among them, ALPN per listener, session tickets and
// OCSP stapling.
//
// Built by ContextBuilder on the control thread; immutable afterwards. The worker snapshot holds
// a std::shared_ptr<const ServerContexts>; workers call newSession() concurrently (OpenSSL's
// SSL_CTX is safe for that). Each session keeps its ServerContexts alive until it ends, so a
// reload never pulls state from under a running handshake.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "proxy/core/error.h"
#include "proxy/core/secure_layer.h"

namespace baton::tls {

class ServerContexts : public std::enable_shared_from_this<ServerContexts> {
 public:
  struct Impl;  // server_contexts.cc / context_builder.cc
  explicit ServerContexts(std::unique_ptr<Impl> impl);
  ~ServerContexts();
  ServerContexts(const ServerContexts&) = delete;
  ServerContexts& operator=(const ServerContexts&) = delete;

  // A server-side session for an accepted socket `fd` (the caller keeps owning it), offering
  // `alpn` (the listener's ListenerSpec::alpn, preferred first; empty = no ALPN). Any thread.
  core::Result<std::unique_ptr<core::SecureLayer>> newSession(
      int fd, std::span<const std::string> alpn) const;

  // Which certificate a ClientHello naming `server_name` gets ("" = no SNI): the index into
  // certificateNames(). Exact name first, then a one-label wildcard, then the default.
  size_t select(std::string_view server_name) const;
  // Names served by each certificate, in build order (for status pages and tests).
  std::vector<std::vector<std::string>> certificateNames() const;
  size_t defaultIndex() const;

  const Impl& impl() const { return *impl_; }

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace baton::tls
