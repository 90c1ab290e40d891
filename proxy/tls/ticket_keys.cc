#include "proxy/tls/ticket_keys.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cstring>
#include <stdexcept>
#include <string>

namespace baton::tls {

namespace {

constexpr size_t kKeyBytes = 80;  // 16 name + 32 AES-256 + 32 HMAC-SHA256

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

std::string_view trimmed(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

// Standard base64 of exactly kKeyBytes (EVP_DecodeBlock pads its count for '=' characters).
bool decodeKey(std::string_view b64, TicketKeys::Key* out) {
  if (b64.size() != 4 * ((kKeyBytes + 2) / 3)) return false;
  // EVP_DecodeBlock takes a '=' anywhere as zero bits: only the last character may be one.
  for (size_t i = 0; i < b64.size(); ++i) {
    const char c = b64[i];
    const bool alphabet = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                          (c >= '0' && c <= '9') || c == '+' || c == '/';
    if (!alphabet && !(c == '=' && i == b64.size() - 1)) return false;
  }
  unsigned char buf[4 * ((kKeyBytes + 2) / 3)];
  const int n = EVP_DecodeBlock(buf, reinterpret_cast<const unsigned char*>(b64.data()),
                                static_cast<int>(b64.size()));
  size_t padding = 0;
  for (size_t i = b64.size(); i > 0 && b64[i - 1] == '='; --i) ++padding;
  if (n < 0 || static_cast<size_t>(n) - padding != kKeyBytes) return false;
  std::memcpy(out->name.data(), buf, 16);
  std::memcpy(out->aes.data(), buf + 16, 32);
  std::memcpy(out->hmac.data(), buf + 48, 32);
  return true;
}

}  // namespace

TicketKeys::TicketKeys() : keys_{randomKey()} {}

void TicketKeys::rotate() {
  Key fresh = randomKey();  // outside the lock
  std::lock_guard lock(mutex_);
  if (shared_) return;
  if (keys_.size() > 1) keys_.erase(keys_.begin());
  keys_.push_back(fresh);
  encrypt_ = keys_.size() - 1;
}

void TicketKeys::setShared(std::vector<Key> keys) {
  if (keys.empty()) return;
  std::lock_guard lock(mutex_);
  encrypt_ = keys.size() >= 2 ? keys.size() - 2 : 0;
  keys_ = std::move(keys);
  shared_ = true;
}

void TicketKeys::setOwn() {
  Key fresh = randomKey();
  std::lock_guard lock(mutex_);
  if (!shared_) return;
  keys_ = {fresh};
  encrypt_ = 0;
  shared_ = false;
}

bool TicketKeys::shared() const {
  std::lock_guard lock(mutex_);
  return shared_;
}

TicketKeys::Key TicketKeys::current() const {
  std::lock_guard lock(mutex_);
  return keys_[encrypt_];
}

TicketKeys::Match TicketKeys::find(const uint8_t* name, Key* out) const {
  std::lock_guard lock(mutex_);
  // The encrypting key first: a file listing it twice must not renew every ticket.
  const Key& now = keys_[encrypt_];
  if (std::memcmp(name, now.name.data(), now.name.size()) == 0) {
    *out = now;
    return Match::Current;
  }
  for (const Key& key : keys_) {
    if (std::memcmp(name, key.name.data(), key.name.size()) == 0) {
      *out = key;
      return Match::Previous;
    }
  }
  return Match::None;
}

core::Result<std::vector<TicketKeys::Key>> parseTicketKeyFile(std::string_view text) {
  std::vector<TicketKeys::Key> keys;
  size_t line_no = 0;
  while (!text.empty()) {
    const size_t eol = text.find('\n');
    const std::string_view line = trimmed(text.substr(0, eol));
    text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);
    ++line_no;
    if (line.empty() || line.front() == '#') continue;
    TicketKeys::Key key;
    if (!decodeKey(line, &key)) {
      return core::fail(
          core::Error::config("line " + std::to_string(line_no) +
                              ": not the base64 of an 80-byte key (openssl rand 80 | base64 -w0)"));
    }
    keys.push_back(key);
  }
  if (keys.empty()) return core::fail(core::Error::config("no key in the file"));
  return keys;
}

}  // namespace baton::tls
