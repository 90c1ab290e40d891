#include "proxy/tls/ticket_keys.h"

#include <openssl/rand.h>

#include <cstring>
#include <stdexcept>

namespace baton::tls {

namespace {
TicketKeys::Key randomKey() {
  TicketKeys::Key k;
  // Failure here means the process has no entropy source at all: nothing TLS can do is safe.
  if (RAND_bytes(k.name.data(), k.name.size()) != 1 ||
      RAND_bytes(k.aes.data(), k.aes.size()) != 1 ||
      RAND_bytes(k.hmac.data(), k.hmac.size()) != 1) {
    throw std::runtime_error("RAND_bytes failed: no entropy for session-ticket keys");
  }
  return k;
}
}  // namespace

TicketKeys::TicketKeys() : current_(randomKey()) {}

void TicketKeys::rotate() {
  Key fresh = randomKey();  // outside the lock
  std::lock_guard lock(mutex_);
  previous_ = current_;
  current_ = fresh;
}

TicketKeys::Key TicketKeys::current() const {
  std::lock_guard lock(mutex_);
  return current_;
}

TicketKeys::Match TicketKeys::find(const uint8_t* name, Key* out) const {
  std::lock_guard lock(mutex_);
  if (std::memcmp(name, current_.name.data(), current_.name.size()) == 0) {
    *out = current_;
    return Match::Current;
  }
  if (previous_ && std::memcmp(name, previous_->name.data(), previous_->name.size()) == 0) {
    *out = *previous_;
    return Match::Previous;
  }
  return Match::None;
}

}  // namespace baton::tls
