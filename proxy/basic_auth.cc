#include "proxy/basic_auth.h"

#include <crypt.h>

#include <array>
#include <cstring>
#include <memory>

namespace baton::proxy {
namespace {

// 0..63 for the base64 alphabet, -1 otherwise.
int base64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

// Standard base64 with optional '=' padding; nullopt on any other byte or a dangling sextet.
std::optional<std::string> decodeBase64(std::string_view in) {
  while (!in.empty() && in.back() == '=') in.remove_suffix(1);
  if (in.size() % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(in.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (const char c : in) {
    const int v = base64Value(c);
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return out;
}

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    const auto x = static_cast<unsigned char>(a[i]), y = static_cast<unsigned char>(b[i]);
    if ((x | 0x20) != (y | 0x20)) return false;
  }
  return true;
}

void wipe(std::string& s) {
  if (!s.empty()) explicit_bzero(s.data(), s.size());
}

bool constantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  }
  return diff == 0;
}

}  // namespace

BasicCredentials::~BasicCredentials() {
  wipe(user);
  wipe(password);
}

std::optional<BasicCredentials> parseBasicAuthorization(std::string_view value) {
  const size_t space = value.find(' ');
  if (space == std::string_view::npos || !equalsIgnoreCase(value.substr(0, space), "basic")) {
    return std::nullopt;
  }
  std::string_view token = value.substr(space);
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
  auto decoded = decodeBase64(token);
  if (!decoded) return std::nullopt;
  const size_t colon = decoded->find(':');
  std::optional<BasicCredentials> out;
  if (colon != std::string::npos) {
    out.emplace();
    out->user = decoded->substr(0, colon);
    out->password = decoded->substr(colon + 1);
  }
  wipe(*decoded);
  return out;
}

bool verifyPassword(std::string_view password, const std::string& hash) {
  if (hash.empty() || password.find('\0') != std::string_view::npos) return false;
  // crypt_data is ~32 KiB: one per thread, not on the loop's stack. Zero-initialised
  // (thread_local), which is what crypt_r requires before its first use.
  thread_local std::unique_ptr<crypt_data> data = std::make_unique<crypt_data>();
  std::string phrase(password);
  const char* result = crypt_r(phrase.c_str(), hash.c_str(), data.get());
  wipe(phrase);
  // libxcrypt returns a string starting with '*' for a failure (never a valid hash).
  if (result == nullptr || result[0] == '*') return false;
  return constantTimeEquals(result, hash);
}

bool isAuthorized(const conf::BasicAuthSpec& spec, const http1::HeaderList& headers) {
  const http1::HeaderField* field = nullptr;
  for (const http1::HeaderField& h : headers) {
    if (!equalsIgnoreCase(h.name, "authorization")) continue;
    if (field != nullptr) return false;  // two credentials: refuse rather than pick one
    field = &h;
  }
  if (field == nullptr) return false;
  auto credentials = parseBasicAuthorization(field->value);
  if (!credentials) return false;
  for (const conf::BasicAuthUser& u : spec.users) {
    if (u.user == credentials->user) return verifyPassword(credentials->password, u.password_hash);
  }
  return false;
}

std::string wwwAuthenticate(std::string_view realm) {
  std::string out = "Basic realm=\"";
  for (const char c : realm) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

}  // namespace baton::proxy
