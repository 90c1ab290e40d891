// Syntax checks for config string values that are not plain enums or units: socket addresses,
// CIDRs, vhost domains, route prefixes and paths, header-borne strings (cookie names, Host values,
// Basic-auth realms, users and crypt(3) hashes) and Marathon settings. Used by the loader (control
// thread) while it walks the TOML tree; pure functions, any thread. Errors carry only the message
// (the loader adds "FILE:LINE: KEY: "). Numeric checks only: nothing here resolves a name.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "proxy/core/error.h"

namespace baton::conf {

// Listener address: "1.2.3.4:80", "[::1]:80", or ":80" (all addresses). Port 0..65535
// (0 = the kernel picks one, used by tests).
core::Result<void> checkListenerAddress(std::string_view address);

// Upstream host address: "1.2.3.4:80" or "[::1]:80". Port 1..65535; no wildcard, no names.
core::Result<void> checkHostAddress(std::string_view address);

// An outgoing connections' local address ([upstream] source_address): a numeric IPv4 or IPv6
// address, no port, no brackets, not the unspecified address (0.0.0.0 / :: would mean "the
// kernel's choice": leave the key out). Returns the canonical form ("::1", "127.0.0.3").
core::Result<std::string> normaliseSourceAddress(std::string_view address);

// "10.0.0.0/8", "fd00::/8", or a bare address (taken as /32 or /128). Returns the canonical
// "addr/len" form. Refuses host bits set beyond the prefix length (a likely typo).
core::Result<std::string> normaliseCidr(std::string_view cidr);

// "example.com", "*.example.com", or "*" (the default vhost). ASCII letters, digits, '-', '_'
// and dots (IDNs in punycode); no port, no empty label. Returns it lower-cased.
core::Result<std::string> normaliseDomain(std::string_view domain);

// A Marathon app id used as a vhost domain (vhosts served by a route_by = "app_id" listener):
// "/shop/web", segments of letters, digits, '-', '.', '_', no empty segment or trailing '/'.
// Returns it lower-cased (Marathon ids are lower-case).
core::Result<std::string> normaliseAppId(std::string_view app_id);

// A route prefix: starts with '/', no control bytes, space, '?' or '#'. Raw UTF-8 and %HH are
// allowed; routing normalises it with the request-target policy when it builds the table.
core::Result<void> checkRoutePrefix(std::string_view prefix);

// A path baton writes into a Location header (redirect_root_to, location_rewrite): starts with
// '/', visible ASCII only (0x21..0x7e): no space, control byte, raw byte >= 0x80, '?' or '#'.
core::Result<void> checkRedirectPath(std::string_view path);

// A value for the Host header sent upstream: "name", "name:port", "1.2.3.4:80", "[::1]:80".
// Name labels as in a domain (letters, digits, '-', '_'), no wildcard; port 1..65535.
core::Result<void> checkHostHeader(std::string_view host);

// A cookie name: an RFC 9110 token (letters, digits and !#$%&'*+-.^_`|~), 1..64 bytes.
core::Result<void> checkCookieName(std::string_view name);

// Basic-auth realm: 1..128 printable ASCII bytes (space allowed) without '"' or '\' (it is
// sent inside a quoted-string in WWW-Authenticate).
core::Result<void> checkAuthRealm(std::string_view realm);

// Basic-auth user: 1..128 printable ASCII bytes without ':' (the user/password separator).
core::Result<void> checkAuthUser(std::string_view user);

// A crypt(3) hash: "$id$salt$hash" or "$id$param$salt$hash" ("$6$...", "$5$...", "$1$...",
// "$2b$...", "$y$..."), bytes of [A-Za-z0-9./$=,-]. A value not starting with '$' is refused as a
// plain-text password.
core::Result<void> checkCryptHash(std::string_view hash);

// A Marathon endpoint: "http://host[:port][/path]" or "https://...", host a DNS name, an IPv4
// address or "[ipv6]"; port 1..65535; no user info, query or fragment; visible ASCII only.
core::Result<void> checkMarathonUrl(std::string_view url);

// A DNS name (marathon.domain): labels of letters, digits, '-', '_'; no wildcard, no trailing
// dot. Returns it lower-cased.
core::Result<std::string> normaliseDnsName(std::string_view name);

// A numeric IPv4 or IPv6 address without brackets or port ("0.0.0.0", "::1").
core::Result<void> checkNumericIp(std::string_view ip);

// A dotted-quad IPv4 address ("10.0.6.25") in network byte order, exactly as inet_pton(AF_INET)
// reads it (four decimal parts of 0..255, no leading zero, nothing else); nullopt otherwise.
// Without a copy or a library call: every Marathon task's address goes through it several
// times per resync (isNumericAddress, the address checks, the socket address).
std::optional<std::array<uint8_t, 4>> parseIpv4(std::string_view text);
// An IPv6 address without brackets ("fd00::5", "::ffff:10.0.0.1") in network byte order, as
// inet_pton(AF_INET6) reads it; nullopt otherwise (also for an embedded NUL, where inet_pton
// would stop reading). No allocation.
std::optional<std::array<uint8_t, 16>> parseIpv6(std::string_view text);
// Either of the two: the one test of "numeric address" (task hosts, Marathon URLs, addresses).
bool isNumericIp(std::string_view text);

// A Marathon group (HAPROXY_GROUP value): "*" or 1..64 visible ASCII bytes without ','.
core::Result<void> checkMarathonGroup(std::string_view group);

// A string sent in an HTTP header (Marathon username, password, token): no control bytes
// (CR, LF, NUL, ...) and no DEL.
core::Result<void> checkHeaderSafe(std::string_view value);

// One retry condition (cluster/route `retry.on`, BATON_{n}_RETRY_ON): "reset" sets `on_reset`;
// "5xx" adds 500..599, "gateway-error" 502, 503 and 504, "NNN" that status (500..599 only: a
// 4xx is the client's fault and a 2xx/3xx an answer). Statuses are kept sorted, once each.
core::Result<void> addRetryCondition(std::string_view item, bool& on_reset,
                                     std::vector<uint16_t>& statuses);

}  // namespace baton::conf
