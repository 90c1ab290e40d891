// The request-target policy of url-policy.md. Runs on every request on the worker threads, so
// each step is a linear pass over the target with at most one allocation per output string;
// details for errors are only formatted on the error path.
#include "routing/request_target.h"

#include <array>
#include <cstdio>
#include <cstring>

namespace baton::routing {
namespace {

using core::Error;
using core::ErrorCode;
using core::fail;
using core::Result;

constexpr char kHexUpper[] = "0123456789ABCDEF";

// Everything printable (0x21-0x7E) and every byte >= 0x80 is accepted in a target; SP, the C0
// controls (HTAB, VT, FF, CR, LF, NUL, ...) and DEL enable smuggling or header injection.
constexpr bool isForbidden(unsigned char b) {
  return b <= 0x20 || b == 0x7F;
}

constexpr int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// RFC 3986 unreserved: the only escapes decoded in the routing key.
constexpr bool isUnreserved(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

// reg-name / IP-literal / port characters of an absolute-form authority. '@' (userinfo) is
// deliberately absent: "http://good@evil/" is a classic routing confusion.
constexpr bool isAuthorityByte(unsigned char c) {
  if (isUnreserved(c)) return true;
  switch (c) {
    case '!':
    case '$':
    case '&':
    case '\'':
    case '(':
    case ')':
    case '*':
    case '+':
    case ',':
    case ';':
    case '=':
    case ':':
    case '[':
    case ']':
    case '%':
      return true;
    default:
      return false;
  }
}

void appendHexByte(std::string& out, unsigned char b) {
  out.push_back('%');
  out.push_back(kHexUpper[b >> 4]);
  out.push_back(kHexUpper[b & 0xF]);
}

Error badTarget(std::string detail) {
  return Error::downstream(ErrorCode::BadRequestTarget, std::move(detail));
}

Error forbiddenByte(unsigned char b, size_t offset) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "forbidden byte 0x%02X at offset %zu", b, offset);
  return badTarget(buf);
}

// What the first pass learns about the whole target.
struct Scan {
  size_t end = 0;         // where the fragment starts ('#'), or the size
  bool high = false;      // any byte >= 0x80 before the fragment
  size_t expansions = 0;  // bytes that may grow to three in the route key ('%', >= 0x80)
};

// One pass over every byte, fragment included: a control byte after '#' is still on the
// request line and still refused.
Result<Scan> scanTarget(std::string_view raw) {
  Scan scan;
  scan.end = raw.size();
  for (size_t i = 0; i < raw.size(); ++i) {
    const auto b = static_cast<unsigned char>(raw[i]);
    if (b < 0x80 && b != '%' && b != '#' && !isForbidden(b)) continue;
    if (isForbidden(b)) return fail(forbiddenByte(b, i));
    if (b == '#') {
      if (scan.end == raw.size()) scan.end = i;
      continue;
    }
    if (i < scan.end) {
      scan.high |= b >= 0x80;
      ++scan.expansions;
    }
  }
  return scan;
}

// 0: not a dot segment; 1: "."; 2: "..". "%2E"/"%2e" count as dots, mixed forms too.
int dotSegmentKind(std::string_view seg) {
  if (seg.empty() || seg.size() > 6) return 0;
  int dots = 0;
  size_t i = 0;
  while (i < seg.size()) {
    if (seg[i] == '.') {
      ++i;
    } else if (seg[i] == '%' && i + 2 < seg.size() && seg[i + 1] == '2' &&
               (seg[i + 2] == 'e' || seg[i + 2] == 'E')) {
      i += 3;
    } else {
      return 0;
    }
    if (++dots > 2) return 0;
  }
  return dots;
}

// Drops the last non-empty segment of `out` (and any empty segments after it). Empty
// segments are skipped so that resolving then merging slashes gives the same result as
// merging then resolving: the route key and the forwarded path can never disagree.
bool popSegment(std::string& out) {
  while (!out.empty() && out.back() == '/') out.pop_back();
  if (out.empty()) return false;
  out.resize(out.rfind('/'));
  return true;
}

// RFC 3986 5.2.4 on a path starting with '/', except that climbing above the root is an
// error rather than silently clamped (a client that does it is probing).
Result<void> resolveDotSegments(std::string_view path, std::string& out) {
  if (std::memchr(path.data(), '.', path.size()) == nullptr &&
      path.find("%2") == std::string_view::npos) {
    out.assign(path);  // the common case: nothing to resolve
    return {};
  }
  out.clear();
  out.reserve(path.size());
  size_t pos = 0;  // always at a '/'
  while (pos < path.size()) {
    const size_t start = pos + 1;
    size_t next = path.find('/', start);
    if (next == std::string_view::npos) next = path.size();
    const std::string_view seg = path.substr(start, next - start);
    const bool last = next == path.size();
    switch (dotSegmentKind(seg)) {
      case 0:
        out.push_back('/');
        out.append(seg);
        break;
      case 2:
        if (!popSegment(out)) {
          return fail(Error::downstream(ErrorCode::PathAboveRoot, "dot segments climb above /"));
        }
        [[fallthrough]];
      case 1:
        if (last) out.push_back('/');  // "/a/." -> "/a/", "/a/b/.." -> "/a/"
        break;
    }
    pos = next;
  }
  if (out.empty()) out.push_back('/');
  return {};
}

// The canonical routing form of a resolved path (see ParsedTarget::route_key). A '%' not
// followed by two hex digits is a literal percent sign and is written "%25", so "/a%zz" and
// "/a%25zz" route alike and every '%' in a key starts a valid upper-case escape.
void appendRouteKey(std::string_view path, std::string& key) {
  for (size_t i = 0; i < path.size(); ++i) {
    const auto c = static_cast<unsigned char>(path[i]);
    if (c == '/') {
      if (!key.empty() && key.back() == '/') continue;  // merge repeated slashes
      key.push_back('/');
    } else if (c == '%') {
      const int hi = i + 2 < path.size() ? hexValue(path[i + 1]) : -1;
      const int lo = hi >= 0 ? hexValue(path[i + 2]) : -1;
      if (lo < 0) {
        key.append("%25");
        continue;
      }
      const auto v = static_cast<unsigned char>(hi * 16 + lo);
      if (isUnreserved(v)) {
        key.push_back(static_cast<char>(v));
      } else {
        appendHexByte(key, v);  // %2F %5C %00 %25 %3F %23, >= %80, ...: never decoded
      }
      i += 2;
    } else if (c >= 0x80) {
      appendHexByte(key, c);  // raw and percent-encoded forms compare equal
    } else {
      key.push_back(static_cast<char>(c));
    }
  }
}

std::string makeRouteKey(std::string_view path, size_t expansions) {
  std::string key;
  key.reserve(path.size() + 2 * expansions);
  appendRouteKey(path, key);
  return key;
}

bool startsWithNoCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    char c = s[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != prefix[i]) return false;
  }
  return true;
}

// Splits "path?query" into the resolved path, the query and the route key.
Result<void> fillPathAndQuery(std::string_view target, const Scan& scan, ParsedTarget& out) {
  const size_t q = target.find('?');
  const std::string_view path = target.substr(0, q);
  if (q != std::string_view::npos) out.query.assign(target.substr(q));
  if (auto r = resolveDotSegments(path, out.path); !r) return fail(std::move(r.error()));
  out.route_key = makeRouteKey(out.path, scan.expansions);
  return {};
}

// "http://host[:port][/path][?query]" (scheme case-insensitive). An empty path becomes "/".
Result<void> parseAbsoluteForm(std::string_view target, size_t scheme_len, const Scan& scan,
                               ParsedTarget& out) {
  const std::string_view rest = target.substr(scheme_len);
  size_t auth_end = rest.find_first_of("/?");
  if (auth_end == std::string_view::npos) auth_end = rest.size();
  const std::string_view authority = rest.substr(0, auth_end);
  if (authority.empty()) return fail(badTarget("absolute-form target with an empty authority"));
  for (const char ch : authority) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '@') return fail(badTarget("userinfo in absolute-form authority"));
    if (!isAuthorityByte(c)) return fail(badTarget("invalid byte in absolute-form authority"));
  }
  out.form = TargetForm::Absolute;
  out.authority.assign(authority);
  const std::string_view path_and_query = rest.substr(auth_end);
  if (path_and_query.empty() || path_and_query.front() == '?') {
    std::string with_root;
    with_root.reserve(path_and_query.size() + 1);
    with_root.push_back('/');
    with_root.append(path_and_query);
    return fillPathAndQuery(with_root, scan, out);
  }
  return fillPathAndQuery(path_and_query, scan, out);
}

// Appends `in` to `out`, merging repeated slashes and/or percent-encoding bytes >= 0x80.
void appendForwarded(std::string_view in, bool merge, bool encode, std::string& out) {
  for (const char ch : in) {
    const auto c = static_cast<unsigned char>(ch);
    if (merge && c == '/' && !out.empty() && out.back() == '/') continue;
    if (encode && c >= 0x80) {
      appendHexByte(out, c);
    } else {
      out.push_back(ch);
    }
  }
}

}  // namespace

core::Result<ParsedTarget> parseRequestTarget(std::string_view raw, bool method_is_options) {
  auto scan = scanTarget(raw);
  if (!scan) return fail(std::move(scan.error()));
  const std::string_view target = raw.substr(0, scan->end);  // '#' and what follows: cut
  if (target.empty()) return fail(badTarget("empty request target"));

  ParsedTarget out;
  out.has_raw_high_bytes = scan->high;
  if (target.front() == '/') {
    if (auto r = fillPathAndQuery(target, *scan, out); !r) return fail(std::move(r.error()));
    return out;
  }
  if (target == "*") {
    if (!method_is_options) return fail(badTarget("asterisk-form is only allowed with OPTIONS"));
    out.form = TargetForm::Asterisk;
    out.path = "*";
    out.route_key = "*";
    return out;
  }
  size_t scheme_len = 0;
  if (startsWithNoCase(target, "http://")) {
    scheme_len = 7;
  } else if (startsWithNoCase(target, "https://")) {
    scheme_len = 8;
  } else {
    return fail(badTarget("request target is neither origin-form nor absolute-form"));
  }
  if (auto r = parseAbsoluteForm(target, scheme_len, *scan, out); !r) {
    return fail(std::move(r.error()));
  }
  return out;
}

core::Result<std::string> renderForwardTarget(const ParsedTarget& target,
                                              const ForwardOptions& options) {
  if (target.form == TargetForm::Asterisk) return std::string("*");
  const bool encode = options.raw_bytes == conf::RawByteMode::Encode && target.has_raw_high_bytes;
  if (options.raw_bytes == conf::RawByteMode::Reject && target.has_raw_high_bytes) {
    return fail(badTarget("raw bytes >= 0x80 in the request target are refused on this route"));
  }
  std::string out;
  if (!options.merge_slashes && !encode) {
    out.reserve(target.path.size() + target.query.size());
    out.append(target.path);
    out.append(target.query);
    return out;
  }
  out.reserve(encode ? 3 * (target.path.size() + target.query.size())
                     : target.path.size() + target.query.size());
  appendForwarded(target.path, options.merge_slashes, encode, out);
  appendForwarded(target.query, false, encode, out);  // the query is never normalised
  return out;
}

core::Result<std::string> normalizeRoutePrefix(std::string_view prefix) {
  if (prefix.empty() || prefix.front() != '/') {
    return fail(badTarget("route prefix must start with '/'"));
  }
  auto scan = scanTarget(prefix);
  if (!scan) return fail(std::move(scan.error()));
  if (scan->end != prefix.size() || prefix.find('?') != std::string_view::npos) {
    return fail(badTarget("route prefix must not contain '?' or '#' (routing ignores both)"));
  }
  std::string resolved;
  if (auto r = resolveDotSegments(prefix, resolved); !r) return fail(std::move(r.error()));
  std::string key = makeRouteKey(resolved, scan->expansions);
  if (key.size() > 1 && key.back() == '/') key.pop_back();  // "/api/" behaves as "/api"
  return key;
}

}  // namespace baton::routing
