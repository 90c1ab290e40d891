// gatherFacts (routing/pinning.h): one pass over a request's header fields, no allocation.
// Included at the end of pinning.h; the helpers live in `detail` so the template stays small.
#pragma once

#include <cstddef>
#include <string_view>

#include "routing/pinning.h"

namespace baton::routing::pin {
namespace detail {

constexpr char lowerAscii(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
}

// `a` and `b` equal, ASCII case-insensitively; `b` is already lower case.
constexpr bool equalsLower(std::string_view a, std::string_view lower) {
  if (a.size() != lower.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (lowerAscii(a[i]) != lower[i]) return false;
  }
  return true;
}

constexpr bool equalsNoCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (lowerAscii(a[i]) != lowerAscii(b[i])) return false;
  }
  return true;
}

// Fields whose mere presence marks a request as sent by a CDN to its origin. Each is added by
// the CDN itself on every origin fetch (a browser does not send them):
//   cdn-loop           RFC 8586; Cloudflare, Fastly, Akamai, Google Cloud CDN
//   x-varnish          Varnish (it sends no Via to its backend by default)
//   x-amz-cf-id        Amazon CloudFront
//   cf-ray             Cloudflare
//   fastly-ff          Fastly (shielding / clustering)
//   akamai-origin-hop  Akamai
//   x-azure-fdid       Azure Front Door
bool isCdnMarkField(std::string_view name);

// Does a Via value name a CDN or a caching proxy? (case-insensitive substring: varnish,
// cloudfront, akamai, fastly, google, cloudflare, squid, cdn)
bool viaNamesCdn(std::string_view via);

// The value of cookie `name` in one Cookie field value ("a=1; name=v; b"), "" when absent;
// surrounding double quotes are removed. Cookie names compare case-sensitively (RFC 6265).
bool findCookie(std::string_view cookie_header, std::string_view name, std::string_view& value);

}  // namespace detail

template <class Headers>
RequestFacts gatherFacts(std::string_view method, std::string_view path, std::string_view query,
                         const Headers& headers, std::string_view header_name,
                         std::string_view cookie_name) {
  RequestFacts facts;
  facts.method = method;
  facts.path = path;
  facts.query = query;
  bool seen_dest = false, seen_accept = false, seen_inm = false, seen_header = false;
  bool seen_cookie = false;
  for (const auto& field : headers) {
    const std::string_view name = field.name;
    const std::string_view value = field.value;
    if (!header_name.empty() && !seen_header && detail::equalsNoCase(name, header_name)) {
      facts.deployment_header = value;
      seen_header = true;
      continue;
    }
    // Dispatch on the length first: most fields of a request are rejected by one compare.
    switch (name.size()) {
      case 3:
        if (detail::equalsLower(name, "via") && !facts.cdn_marked) {
          facts.cdn_marked = detail::viaNamesCdn(value);
        }
        break;
      case 5:
        if (detail::equalsLower(name, "range")) facts.range = true;
        break;
      case 6:
        if (!seen_accept && detail::equalsLower(name, "accept")) {
          facts.accept = value;
          seen_accept = true;
          break;
        }
        if (!seen_cookie && !cookie_name.empty() && detail::equalsLower(name, "cookie")) {
          seen_cookie = detail::findCookie(value, cookie_name, facts.pin_cookie);
          break;
        }
        [[fallthrough]];
      default:
        if (!seen_dest && detail::equalsLower(name, "sec-fetch-dest")) {
          facts.sec_fetch_dest = value;
          seen_dest = true;
        } else if (!seen_inm && detail::equalsLower(name, "if-none-match")) {
          facts.if_none_match = value;
          seen_inm = true;
        } else if (!facts.cdn_marked && detail::isCdnMarkField(name)) {
          facts.cdn_marked = true;
        }
        break;
    }
  }
  return facts;
}

}  // namespace baton::routing::pin
