#include "proxy/tls/server_contexts.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstring>

#include "proxy/tls/server_contexts_impl.h"
#include "proxy/tls/ssl_layer.h"

namespace baton::tls {

namespace {

using Impl = ServerContexts::Impl;

// Every context carries the same session id context, so a session made under one certificate
// (or one generation of contexts) is acceptable to the others.
constexpr unsigned char kSessionIdContext[] = "baton";

const Impl* implOf(SSL* ssl) {
  return static_cast<const Impl*>(SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl)));
}

// SNI: switch the connection to the chosen certificate's context. Runs on the worker thread
// during the ClientHello; lookups only, no allocation besides the lowercase copy.
int onServerName(SSL* ssl, int*, void*) {
  const Impl* impl = implOf(ssl);
  const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  std::string lowered = name != nullptr ? name : "";
  std::transform(lowered.begin(), lowered.end(), lowered.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  SSL_CTX* chosen = impl->entries[impl->select(lowered)].ctx;
  if (chosen != SSL_get_SSL_CTX(ssl)) SSL_set_SSL_CTX(ssl, chosen);
  if (SslLayer* layer = SslLayer::from(ssl)) layer->setServerName(std::move(lowered));
  return SSL_TLSEXT_ERR_OK;
}

// ALPN: the listener's list, in its order of preference; no overlap (or a client offering
// nothing) = no ALPN, i.e. HTTP/1.1, rather than a failed handshake.
int onAlpn(SSL* ssl, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
           unsigned int inlen, void*) {
  const SslLayer* layer = SslLayer::from(ssl);
  if (layer == nullptr || layer->alpnWire().empty()) return SSL_TLSEXT_ERR_NOACK;
  const auto& wire = layer->alpnWire();
  unsigned char* selected = nullptr;
  if (SSL_select_next_proto(&selected, outlen, wire.data(), static_cast<unsigned int>(wire.size()),
                            in, inlen) != OPENSSL_NPN_NEGOTIATED) {
    return SSL_TLSEXT_ERR_NOACK;
  }
  *out = selected;
  return SSL_TLSEXT_ERR_OK;
}

// OCSP stapling: `arg` is the LoadedCertificate (kept alive by the context's Impl) whose DER
// response is sent until its nextUpdate: an expired staple makes a checking client refuse the
// connection, none does not. OpenSSL frees what it is given, hence the copy.
int onStatusRequest(SSL* ssl, void* arg) {
  const auto* cert = static_cast<const LoadedCertificate*>(arg);
  if (cert == nullptr || cert->ocsp.empty() ||
      cert->ocsp_next_update < std::chrono::system_clock::now()) {
    return SSL_TLSEXT_ERR_NOACK;
  }
  const std::string* der = &cert->ocsp;
  auto* copy = static_cast<unsigned char*>(OPENSSL_malloc(der->size()));
  if (copy == nullptr) return SSL_TLSEXT_ERR_NOACK;
  std::memcpy(copy, der->data(), der->size());
  SSL_set_tlsext_status_ocsp_resp(ssl, copy, static_cast<long>(der->size()));
  return SSL_TLSEXT_ERR_OK;
}

bool setMacKey(EVP_MAC_CTX* hctx, const TicketKeys::Key& key) {
  OSSL_PARAM params[3];
  params[0] = OSSL_PARAM_construct_octet_string(
      OSSL_MAC_PARAM_KEY, const_cast<uint8_t*>(key.hmac.data()), key.hmac.size());
  params[1] =
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, const_cast<char*>("SHA256"), 0);
  params[2] = OSSL_PARAM_construct_end();
  return EVP_MAC_CTX_set_params(hctx, params) == 1;
}

// Session tickets with our rotating keys (OpenSSL 3 callback). Returns: 1 = use, 2 = use and
// issue a fresh ticket (made with an older key), 0 = unknown key (full handshake), -1 = error.
int onTicketKey(SSL* ssl, unsigned char key_name[16], unsigned char iv[16], EVP_CIPHER_CTX* cctx,
                EVP_MAC_CTX* hctx, int enc) {
  const Impl* impl = implOf(ssl);
  if (impl == nullptr || impl->ticket_keys == nullptr) return enc ? -1 : 0;
  if (enc) {
    const TicketKeys::Key key = impl->ticket_keys->current();
    if (RAND_bytes(iv, EVP_MAX_IV_LENGTH) != 1) return -1;
    std::memcpy(key_name, key.name.data(), key.name.size());
    if (EVP_EncryptInit_ex(cctx, EVP_aes_256_cbc(), nullptr, key.aes.data(), iv) != 1) return -1;
    return setMacKey(hctx, key) ? 1 : -1;
  }
  TicketKeys::Key key;
  const TicketKeys::Match match = impl->ticket_keys->find(key_name, &key);
  if (match == TicketKeys::Match::None) return 0;
  if (!setMacKey(hctx, key)) return -1;
  if (EVP_DecryptInit_ex(cctx, EVP_aes_256_cbc(), nullptr, key.aes.data(), iv) != 1) return -1;
  return match == TicketKeys::Match::Current ? 1 : 2;
}

core::Result<SSL_CTX*> makeContext(const conf::TlsSpec& spec, const LoadedCertificate& cert,
                                   Impl* impl) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (ctx == nullptr) return core::fail(core::Error::internal("SSL_CTX_new: " + lastSslError()));
  auto failWith = [&](std::string what) {
    SSL_CTX_free(ctx);
    return core::fail(core::Error::config(std::move(what)));
  };
  SSL_CTX_set_min_proto_version(
      ctx, spec.min_version == conf::TlsVersion::Tls13 ? TLS1_3_VERSION : TLS1_2_VERSION);
  // IGNORE_UNEXPECTED_EOF: HTTP clients commonly close without close_notify; HTTP framing, not
  // TLS, says whether a message was complete.
  uint64_t options = SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_COMPRESSION |
                     SSL_OP_NO_RENEGOTIATION | SSL_OP_IGNORE_UNEXPECTED_EOF;
  if (impl->ticket_keys == nullptr) options |= SSL_OP_NO_TICKET;
  SSL_CTX_set_options(ctx, options);
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                            SSL_MODE_RELEASE_BUFFERS);
  // One read() per socket readiness instead of two per record (5-byte header, then the body):
  // an HTTP/2 client sends a small record per request.
  SSL_CTX_set_read_ahead(ctx, 1);
  if (SSL_CTX_set_cipher_list(ctx, spec.ciphers.c_str()) != 1) {
    return failWith("tls.ciphers: \"" + spec.ciphers + "\": " + lastSslError());
  }
  if (SSL_CTX_set_ciphersuites(ctx, spec.ciphersuites.c_str()) != 1) {
    return failWith("tls.ciphersuites: \"" + spec.ciphersuites + "\": " + lastSslError());
  }
  SSL_CTX_set_session_id_context(ctx, kSessionIdContext, sizeof(kSessionIdContext) - 1);
  // No per-process session cache: workers would not share it; tickets resume anywhere.
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  if (impl->ticket_keys != nullptr) {
    SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, &onTicketKey);
  } else {
    SSL_CTX_set_num_tickets(ctx, 0);
  }
  if (SSL_CTX_use_certificate(ctx, cert.leaf) != 1 || SSL_CTX_use_PrivateKey(ctx, cert.key) != 1 ||
      SSL_CTX_set1_chain(ctx, cert.chain) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
    return failWith("certificate rejected: " + lastSslError());
  }
  SSL_CTX_set_tlsext_servername_callback(ctx, &onServerName);
  SSL_CTX_set_alpn_select_cb(ctx, &onAlpn, nullptr);
  if (!cert.ocsp.empty()) {
    SSL_CTX_set_tlsext_status_cb(ctx, &onStatusRequest);
    SSL_CTX_set_tlsext_status_arg(ctx, const_cast<LoadedCertificate*>(&cert));
  }
  SSL_CTX_set_app_data(ctx, impl);
  return ctx;
}

}  // namespace

ServerContexts::Impl::~Impl() {
  for (auto& e : entries) SSL_CTX_free(e.ctx);
}

core::Result<std::unique_ptr<Impl>> ServerContexts::Impl::create(
    const conf::TlsSpec& spec, std::vector<std::shared_ptr<const LoadedCertificate>> certs,
    size_t default_index, std::shared_ptr<TicketKeys> ticket_keys,
    std::vector<std::string>* warnings) {
  auto impl = std::make_unique<Impl>();
  impl->ticket_keys = std::move(ticket_keys);
  impl->default_index = default_index;
  for (size_t i = 0; i < certs.size(); ++i) {
    auto ctx = makeContext(spec, *certs[i], impl.get());
    if (!ctx) return core::fail(std::move(ctx.error()));
    impl->entries.push_back({*ctx, certs[i]});
    for (const auto& name : certs[i]->names) {
      const bool wild = name.starts_with("*.");
      auto& map = wild ? impl->wildcard : impl->exact;
      const std::string key = wild ? name.substr(2) : name;
      if (!map.emplace(key, i).second && warnings != nullptr) {
        warnings->push_back("tls: name " + name +
                            " is served by more than one certificate; the first one wins");
      }
    }
  }
  return impl;
}

size_t ServerContexts::Impl::select(std::string_view name) const {
  if (name.empty()) return default_index;
  if (auto it = exact.find(std::string(name)); it != exact.end()) return it->second;
  // "*.example.com" covers exactly one label: a.example.com, not a.b.example.com.
  const size_t dot = name.find('.');
  if (dot != std::string_view::npos && dot > 0) {
    if (auto it = wildcard.find(std::string(name.substr(dot + 1))); it != wildcard.end()) {
      return it->second;
    }
  }
  return default_index;
}

ServerContexts::ServerContexts(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ServerContexts::~ServerContexts() = default;

core::Result<std::unique_ptr<core::SecureLayer>> ServerContexts::newSession(
    int fd, std::span<const std::string> alpn) const {
  // Sessions start on the default certificate's context; SNI may switch them.
  SSL* ssl = SSL_new(impl_->entries[impl_->default_index].ctx);
  if (ssl == nullptr || SSL_set_fd(ssl, fd) != 1) {
    SSL_free(ssl);
    ERR_clear_error();
    return core::fail(core::Error::downstream(core::ErrorCode::TlsHandshakeFailed,
                                              "cannot create a TLS session"));
  }
  SSL_set_accept_state(ssl);
  std::vector<unsigned char> wire = alpnWire(alpn);
  return std::unique_ptr<core::SecureLayer>(new SslLayer(ssl, std::move(wire), shared_from_this()));
}

size_t ServerContexts::select(std::string_view server_name) const {
  return impl_->select(server_name);
}

std::vector<std::vector<std::string>> ServerContexts::certificateNames() const {
  std::vector<std::vector<std::string>> out;
  for (const auto& e : impl_->entries) out.push_back(e.cert->names);
  return out;
}

size_t ServerContexts::defaultIndex() const {
  return impl_->default_index;
}

}  // namespace baton::tls
