// Session-ticket keys shared by every ServerContexts a ContextBuilder makes, so a ticket issued
// before a certificate reload still resumes after it.
//
// Own keys (the default): `current` encrypts new tickets; the previous one still decrypts for
// one more rotation (a client presenting it gets a fresh ticket). Two rotations later the ticket
// is unknown and the client falls back to a full handshake, which is not an error.
// Keys from a file ([tls] ticket_key_file, HAProxy's tls-ticket-keys): shared with other
// processes, so a ticket one baton issued resumes on its HA peers and on the next binary after
// an upgrade. Every key decrypts; the next-to-last encrypts, so the last one can reach every
// instance before any of them encrypts with it. rotate() leaves them alone.
//
// Threading: rotate() and set*() on the control thread; current() and find() on worker threads
// from OpenSSL's ticket callback, once per handshake, so a plain mutex costs nothing measurable.
#pragma once

#include <array>
#include <cstdint>
#include <mutex>
#include <string_view>
#include <vector>

#include "proxy/core/error.h"

namespace baton::tls {

class TicketKeys {
 public:
  struct Key {
    std::array<uint8_t, 16> name{};
    std::array<uint8_t, 32> aes{};   // AES-256-CBC
    std::array<uint8_t, 32> hmac{};  // HMAC-SHA256
    bool operator==(const Key&) const = default;
  };
  enum class Match : uint8_t { None, Current, Previous };

  TicketKeys();  // starts with a fresh random current key and no previous one
  TicketKeys(const TicketKeys&) = delete;
  TicketKeys& operator=(const TicketKeys&) = delete;

  // Own keys: current -> previous, a new random current. Keys from a file: nothing.
  void rotate();
  // Keys from a file (at least one, as parseTicketKeyFile returns them).
  void setShared(std::vector<Key> keys);
  // Back to own keys (ticket_key_file removed): a fresh random current, no previous.
  void setOwn();
  bool shared() const;
  Key current() const;
  // The key whose name is `name` (16 bytes), if it is still known. Current = it encrypts now.
  Match find(const uint8_t* name, Key* out) const;

 private:
  mutable std::mutex mutex_;
  std::vector<Key> keys_;  // own: [previous,] current; shared: the file's, in its order
  size_t encrypt_ = 0;     // index of the key that encrypts
  bool shared_ = false;
};

// The keys of a ticket key file's text: one base64 80-byte key per line (16 bytes name, 32 AES,
// 32 HMAC: HAProxy's layout; `openssl rand 80 | base64 -w0`), blank lines and '#' comments
// ignored. Errors name the line ("line 3: ..."); no key at all is an error.
core::Result<std::vector<TicketKeys::Key>> parseTicketKeyFile(std::string_view text);

}  // namespace baton::tls
