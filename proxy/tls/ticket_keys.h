// Session-ticket keys shared by every ServerContexts a ContextBuilder makes, so a ticket issued
// before a certificate reload still resumes after it.
//
// `current` encrypts new tickets; `previous` still decrypts for one more rotation (a client
// presenting it gets a fresh ticket). Two rotations later the ticket is unknown and the client
// falls back to a full handshake, which is not an error.
//
// Threading: rotate() on the control thread (every [tls] ticket_key_rotation); current() and
// find() on worker threads from OpenSSL's ticket callback, once per handshake, so a plain mutex
// costs nothing measurable.
#pragma once

#include <array>
#include <cstdint>
#include <mutex>
#include <optional>

namespace baton::tls {

class TicketKeys {
 public:
  struct Key {
    std::array<uint8_t, 16> name{};
    std::array<uint8_t, 32> aes{};   // AES-256-CBC
    std::array<uint8_t, 32> hmac{};  // HMAC-SHA256
  };
  enum class Match : uint8_t { None, Current, Previous };

  TicketKeys();  // starts with a fresh random current key and no previous one
  TicketKeys(const TicketKeys&) = delete;
  TicketKeys& operator=(const TicketKeys&) = delete;

  // current -> previous, a new random current.
  void rotate();
  Key current() const;
  // The key whose name is `name` (16 bytes), if it is still known.
  Match find(const uint8_t* name, Key* out) const;

 private:
  mutable std::mutex mutex_;
  Key current_;
  std::optional<Key> previous_;
};

}  // namespace baton::tls
