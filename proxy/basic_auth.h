// HTTP Basic authentication for routes with basic_auth (marathon-lb's HAPROXY_{n}_AUTH: a
// userlist of crypt(3) hashes and an `http_auth` check).
//
// Called by the stream on its worker thread, once per request on such a route. Verification
// runs crypt_r (libcrypt) against the configured hash: SHA-512 crypt costs about a millisecond
// of the worker's loop per request, exactly as HAProxy's userlists do. The decoded password
// lives only in a local buffer that is wiped before returning, and is never logged.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "conf/config_spec.h"
#include "proxy/http1/message.h"

namespace baton::proxy {

struct BasicCredentials {
  std::string user;
  std::string password;
  ~BasicCredentials();  // wipes both
};

// "Basic <base64(user:password)>" (scheme case-insensitive, padding optional) -> credentials;
// nullopt for another scheme, bad base64, or no ':' in the decoded text.
std::optional<BasicCredentials> parseBasicAuthorization(std::string_view value);

// crypt_r(password, hash) == hash, compared in constant time. A hash crypt cannot handle
// (unknown method, "*", "!"): false.
bool verifyPassword(std::string_view password, const std::string& hash);

// True when the request carries exactly one Authorization field whose user is in `spec` and
// whose password matches that user's hash.
bool isAuthorized(const conf::BasicAuthSpec& spec, const http1::HeaderList& headers);

// The WWW-Authenticate value for a 401: `Basic realm="<realm>"`, '"' and '\' escaped.
std::string wwwAuthenticate(std::string_view realm);

}  // namespace baton::proxy
