// The seam between core::Transport and a TLS implementation (proxy/tls/ wraps OpenSSL behind it).
//
// A SecureLayer is the TLS state of ONE connection, server or client side. It does its own socket
// I/O on the descriptor it was created for (the Transport owns and closes that descriptor; the
// layer never closes it). Every call is non-blocking: when the layer needs the socket to become
// readable or writable it says so (WantRead / WantWrite) and the Transport arms the matching event
// and calls again. No OpenSSL type appears here, so core/ does not depend on tls/.
//
// Threading: created on any thread (usually the worker that accepted the socket), then used only
// on the thread of the Transport that owns it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace baton::core {

class SecureLayer {
 public:
  enum class Status : uint8_t {
    Ok,         // done / `bytes` moved
    WantRead,   // call again once the socket is readable
    WantWrite,  // call again once the socket is writable
    Eof,        // the peer closed cleanly (close_notify, or EOF where that is accepted)
    Error,      // fatal: see errorReason(); the connection is dead
  };
  struct IoResult {
    Status status = Status::Ok;
    size_t bytes = 0;   // with Ok: bytes read or written (> 0)
    int sys_errno = 0;  // with Error: the socket errno when a syscall failed, else 0
  };

  virtual ~SecureLayer() = default;

  // One step of the handshake; Ok once it is complete (then alpn()/serverName() are valid).
  virtual IoResult handshake() = 0;
  // Decrypts up to `len` application bytes into `buf`.
  virtual IoResult read(void* buf, size_t len) = 0;
  // Encrypts and sends up to `len` bytes (partial writes allowed). After WantRead/WantWrite the
  // caller retries with the same bytes (same start, at least the same length).
  virtual IoResult write(const void* buf, size_t len) = 0;
  // Decrypted (or buffered, unprocessed) bytes held inside the layer: they will not make the
  // socket readable again, so the Transport must come back for them by itself.
  virtual bool hasPending() const = 0;
  // Best effort close_notify (never blocks, never waits for the peer's).
  virtual void shutdown() = 0;

  // After the handshake: the negotiated application protocol ("" = none, i.e. HTTP/1.1) and the
  // SNI name the client sent ("" = none). Lowercase as received.
  virtual std::string_view alpn() const = 0;
  virtual std::string_view serverName() const = 0;
  // Why the last Error happened, short and loggable (e.g. "no shared cipher").
  virtual std::string errorReason() const = 0;
};

}  // namespace baton::core
