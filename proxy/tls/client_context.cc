#include "proxy/tls/client_context.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "proxy/tls/certificate.h"
#include "proxy/tls/ssl_layer.h"

namespace baton::tls {

struct ClientContext::Impl {
  ~Impl() { SSL_CTX_free(ctx); }
  SSL_CTX* ctx = nullptr;
  bool verify = true;
  std::vector<unsigned char> alpn_wire;
};

core::Result<std::shared_ptr<const ClientContext>> ClientContext::create(
    const ClientOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->ctx = SSL_CTX_new(TLS_client_method());
  if (impl->ctx == nullptr) {
    return core::fail(core::Error::internal("SSL_CTX_new: " + lastSslError()));
  }
  impl->verify = options.verify;
  SSL_CTX_set_min_proto_version(impl->ctx, TLS1_2_VERSION);
  SSL_CTX_set_options(
      impl->ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_IGNORE_UNEXPECTED_EOF);
  SSL_CTX_set_mode(impl->ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                                  SSL_MODE_RELEASE_BUFFERS);
  SSL_CTX_set_read_ahead(impl->ctx, 1);  // one read() per readiness, not two per record
  if (options.verify) {
    const int ok = options.ca_file.empty()
                       ? SSL_CTX_set_default_verify_paths(impl->ctx)
                       : SSL_CTX_load_verify_locations(impl->ctx, options.ca_file.c_str(), nullptr);
    if (ok != 1) {
      return core::fail(
          core::Error::config("tls ca_file: " + options.ca_file + ": " + lastSslError()));
    }
    SSL_CTX_set_verify(impl->ctx, SSL_VERIFY_PEER, nullptr);
  }
  impl->alpn_wire = alpnWire(options.alpn);
  return std::shared_ptr<const ClientContext>(std::make_shared<ClientContext>(std::move(impl)));
}

ClientContext::ClientContext(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ClientContext::~ClientContext() = default;

core::Result<std::unique_ptr<core::SecureLayer>> ClientContext::newSession(
    int fd, std::string_view server_name) const {
  SSL* ssl = SSL_new(impl_->ctx);
  const std::string name(server_name);
  bool ok = ssl != nullptr && SSL_set_fd(ssl, fd) == 1;
  if (ok && !name.empty()) {
    ok = SSL_set_tlsext_host_name(ssl, name.c_str()) == 1;
    if (ok && impl_->verify) ok = SSL_set1_host(ssl, name.c_str()) == 1;
  }
  if (ok && !impl_->alpn_wire.empty()) {
    // SSL_set_alpn_protos returns 0 on success.
    ok = SSL_set_alpn_protos(ssl, impl_->alpn_wire.data(),
                             static_cast<unsigned int>(impl_->alpn_wire.size())) == 0;
  }
  if (!ok) {
    SSL_free(ssl);
    return core::fail(core::Error::upstream(core::ErrorCode::TlsHandshakeFailed, true,
                                            "cannot create a TLS session: " + lastSslError()));
  }
  SSL_set_connect_state(ssl);
  return std::unique_ptr<core::SecureLayer>(new SslLayer(ssl, {}, shared_from_this()));
}

}  // namespace baton::tls
