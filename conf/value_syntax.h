// Syntax checks for config string values that are not plain enums or units: socket addresses,
// CIDRs, vhost domains and route prefixes. Used by the loader (control thread) while it walks the
// TOML tree; pure functions, any thread. Errors carry only the message (the loader adds
// "FILE:LINE: KEY: "). Numeric checks only: nothing here resolves a name.
#pragma once

#include <string>
#include <string_view>

#include "proxy/core/error.h"

namespace baton::conf {

// Listener address: "1.2.3.4:80", "[::1]:80", or ":80" (all addresses). Port 0..65535
// (0 = the kernel picks one, used by tests).
core::Result<void> checkListenerAddress(std::string_view address);

// Upstream host address: "1.2.3.4:80" or "[::1]:80". Port 1..65535; no wildcard, no names.
core::Result<void> checkHostAddress(std::string_view address);

// "10.0.0.0/8", "fd00::/8", or a bare address (taken as /32 or /128). Returns the canonical
// "addr/len" form. Refuses host bits set beyond the prefix length (a likely typo).
core::Result<std::string> normaliseCidr(std::string_view cidr);

// "example.com", "*.example.com", or "*" (the default vhost). ASCII letters, digits, '-', '_'
// and dots (IDNs in punycode); no port, no empty label. Returns it lower-cased.
core::Result<std::string> normaliseDomain(std::string_view domain);

// A route prefix: starts with '/', no control bytes, space, '?' or '#'. Raw UTF-8 and %HH are
// allowed; routing normalises it with the request-target policy when it builds the table.
core::Result<void> checkRoutePrefix(std::string_view prefix);

}  // namespace baton::conf
