// core::SecureLayer over one OpenSSL SSL object (server or client side).
//
// Made by ServerContexts::newSession (accepted sockets) or ClientContext::newSession (connects);
// core::Transport drives it. It keeps whatever made it alive (`keep_alive`): OpenSSL's SNI,
// ALPN, ticket and OCSP callbacks reach that state through the SSL while a handshake runs, even
// if a reload has already swapped the contexts out of the worker snapshot.
//
// Threading: the thread of the owning Transport only.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "proxy/core/secure_layer.h"

struct ssl_st;

namespace baton::tls {

class SslLayer final : public core::SecureLayer {
 public:
  // Takes ownership of `ssl` (already bound to its descriptor and set to accept or connect).
  // `alpn_wire`: the protocols this side offers/accepts, in ALPN wire format, preferred first.
  SslLayer(ssl_st* ssl, std::vector<unsigned char> alpn_wire,
           std::shared_ptr<const void> keep_alive);
  ~SslLayer() override;
  SslLayer(const SslLayer&) = delete;
  SslLayer& operator=(const SslLayer&) = delete;

  IoResult handshake() override;
  IoResult read(void* buf, size_t len) override;
  IoResult write(const void* buf, size_t len) override;
  bool hasPending() const override;
  void shutdown() override;
  std::string_view alpn() const override { return alpn_; }
  std::string_view serverName() const override { return server_name_; }
  std::string errorReason() const override { return error_; }

  // For OpenSSL callbacks (tls/ only).
  static SslLayer* from(const ssl_st* ssl);
  const std::vector<unsigned char>& alpnWire() const { return alpn_wire_; }
  void setServerName(std::string name) { server_name_ = std::move(name); }
  ssl_st* native() const { return ssl_; }

 private:
  IoResult fromSslError(int rc);

  ssl_st* ssl_;
  std::vector<unsigned char> alpn_wire_;
  std::shared_ptr<const void> keep_alive_;
  std::string alpn_;
  std::string server_name_;
  std::string error_;
  bool done_ = false;
  bool shut_ = false;
  bool read_needs_socket_ = false;  // the last read stopped at WantRead
};

// "h2", "http/1.1" -> ALPN wire format (length-prefixed, names over 255 bytes dropped).
std::vector<unsigned char> alpnWire(std::span<const std::string> protocols);

}  // namespace baton::tls
