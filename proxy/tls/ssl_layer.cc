#include "proxy/tls/ssl_layer.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <cerrno>
#include <cstring>

namespace baton::tls {

namespace {
// OpenSSL's error queue is per thread and SSL_get_error() looks at it: it must be empty before
// each call, and whatever a failure left must not leak into the next connection's verdict.
std::string drainErrorQueue() {
  std::string reason;
  while (unsigned long e = ERR_get_error()) {
    if (reason.empty()) {
      const char* r = ERR_reason_error_string(e);
      reason = r != nullptr ? r : "error " + std::to_string(ERR_GET_REASON(e));
    }
  }
  return reason;
}

// Before each SSL call (SSL_get_error() reads the queue). ERR_clear_error() walks and frees
// all 16 slots of the thread's queue even when it is empty: ~2,100 instructions, called three
// times per HTTP/2-over-TLS request (two reads, one write) it was 8 % of the request
// (callgrind). The queue is almost always empty here (every failure below drains it), so peek
// first: one thread-local lookup.
void clearErrorQueue() {
  if (ERR_peek_error() != 0) ERR_clear_error();
}
}  // namespace

std::vector<unsigned char> alpnWire(std::span<const std::string> protocols) {
  std::vector<unsigned char> wire;
  for (const auto& p : protocols) {
    if (p.empty() || p.size() > 255) continue;
    wire.push_back(static_cast<unsigned char>(p.size()));
    wire.insert(wire.end(), p.begin(), p.end());
  }
  return wire;
}

SslLayer::SslLayer(ssl_st* ssl, std::vector<unsigned char> alpn_wire,
                   std::shared_ptr<const void> keep_alive)
    : ssl_(ssl), alpn_wire_(std::move(alpn_wire)), keep_alive_(std::move(keep_alive)) {
  SSL_set_app_data(ssl_, this);
}

SslLayer::~SslLayer() {
  SSL_free(ssl_);
}

SslLayer* SslLayer::from(const ssl_st* ssl) {
  return static_cast<SslLayer*>(SSL_get_app_data(ssl));
}

SslLayer::IoResult SslLayer::fromSslError(int rc) {
  const int saved_errno = errno;
  const int e = SSL_get_error(ssl_, rc);
  switch (e) {
    case SSL_ERROR_WANT_READ:
      return {Status::WantRead, 0, 0};
    case SSL_ERROR_WANT_WRITE:
      return {Status::WantWrite, 0, 0};
    case SSL_ERROR_ZERO_RETURN:
      drainErrorQueue();
      return {Status::Eof, 0, 0};
    case SSL_ERROR_SYSCALL: {
      std::string reason = drainErrorQueue();
      if (saved_errno == 0 && reason.empty()) {
        error_ = "unexpected EOF";
        return {Status::Eof, 0, 0};
      }
      error_ = reason.empty() ? std::strerror(saved_errno) : reason;
      return {Status::Error, 0, saved_errno};
    }
    default: {
      std::string reason = drainErrorQueue();
      error_ = reason.empty() ? "TLS error " + std::to_string(e) : reason;
      // "certificate verify failed" alone does not say which check refused the peer (unknown
      // CA, expired, wrong host name...): the X.509 verdict does.
      const long verdict = SSL_get_verify_result(ssl_);
      if (verdict != X509_V_OK) {
        error_ += std::string(": ") + X509_verify_cert_error_string(verdict);
      }
      return {Status::Error, 0, 0};
    }
  }
}

SslLayer::IoResult SslLayer::handshake() {
  clearErrorQueue();
  errno = 0;
  const int rc = SSL_do_handshake(ssl_);
  if (rc != 1) return fromSslError(rc);
  done_ = true;
  const unsigned char* proto = nullptr;
  unsigned int len = 0;
  SSL_get0_alpn_selected(ssl_, &proto, &len);
  if (proto != nullptr) alpn_.assign(reinterpret_cast<const char*>(proto), len);
  if (server_name_.empty()) {
    if (const char* name = SSL_get_servername(ssl_, TLSEXT_NAMETYPE_host_name)) {
      server_name_ = name;
    }
  }
  return {Status::Ok, 0, 0};
}

SslLayer::IoResult SslLayer::read(void* buf, size_t len) {
  clearErrorQueue();
  errno = 0;
  size_t n = 0;
  const int rc = SSL_read_ex(ssl_, buf, len, &n);
  if (rc == 1) {
    read_needs_socket_ = false;
    return {Status::Ok, n, 0};
  }
  IoResult r = fromSslError(rc);
  read_needs_socket_ = r.status == Status::WantRead;
  return r;
}

SslLayer::IoResult SslLayer::write(const void* buf, size_t len) {
  clearErrorQueue();
  errno = 0;
  size_t n = 0;
  const int rc = SSL_write_ex(ssl_, buf, len, &n);
  if (rc == 1) return {Status::Ok, n, 0};
  return fromSslError(rc);
}

bool SslLayer::hasPending() const {
  // Decrypted bytes, or buffered record bytes OpenSSL has not processed yet. A partial record
  // also counts for SSL_has_pending(), but after a read said WantRead the rest must come from
  // the socket, which will signal it: reporting it as pending would spin the loop.
  if (SSL_pending(ssl_) > 0) return true;
  return !read_needs_socket_ && SSL_has_pending(ssl_) == 1;
}

void SslLayer::shutdown() {
  if (!done_ || shut_) return;
  shut_ = true;
  clearErrorQueue();
  SSL_shutdown(ssl_);  // sends close_notify; the peer's is not awaited (we half-close next)
  clearErrorQueue();
}

}  // namespace baton::tls
