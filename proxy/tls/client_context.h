// The client side of TLS (baton -> a TLS backend, and tests): one OpenSSL context with the
// verification settings, shared by every connection made with it.
//
// Threading: create() on the control thread; newSession() from any worker concurrently.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "proxy/core/error.h"
#include "proxy/core/secure_layer.h"

namespace baton::tls {

struct ClientOptions {
  bool verify = true;             // check the chain and the name against `server_name`
  std::string ca_file;            // PEM bundle; "" = the system's default trust store
  std::vector<std::string> alpn;  // offered, preferred first; empty = no ALPN
};

class ClientContext : public std::enable_shared_from_this<ClientContext> {
 public:
  struct Impl;
  static core::Result<std::shared_ptr<const ClientContext>> create(const ClientOptions& options);
  explicit ClientContext(std::unique_ptr<Impl> impl);
  ~ClientContext();
  ClientContext(const ClientContext&) = delete;
  ClientContext& operator=(const ClientContext&) = delete;

  // A client session over the connecting socket `fd` (for Transport::connect's factory), sending
  // `server_name` as SNI ("" = none) and verifying the peer against it when `verify` is set.
  core::Result<std::unique_ptr<core::SecureLayer>> newSession(int fd,
                                                              std::string_view server_name) const;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace baton::tls
