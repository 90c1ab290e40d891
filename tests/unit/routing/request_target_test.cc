// Pins the lenient request-target policy of url-policy.md byte for byte: every row of its
// byte-class and examples tables, and the "Path normalisation and routing" cases of
// hostile-inputs.md. Pure functions, so every case is a table row.
#include "routing/request_target.h"

#include <gtest/gtest.h>

#include <cctype>
#include <random>
#include <string>
#include <vector>

namespace baton::routing {
namespace {

using namespace std::string_literals;
using core::ErrorCode;

// ---------------------------------------------------------------------------------------------
// Accepted targets: what is parsed, routed and forwarded (default options: Forward + merge).

struct Accepted {
  std::string name;
  std::string raw;
  std::string path;
  std::string query;
  std::string route_key;
  std::string forwarded;  // renderForwardTarget with default options
  bool high = false;
};

void PrintTo(const Accepted& c, std::ostream* os) {
  *os << c.name;
}

class AcceptedTarget : public ::testing::TestWithParam<Accepted> {};

TEST_P(AcceptedTarget, ParsesRoutesAndForwards) {
  const Accepted& c = GetParam();
  auto parsed = parseRequestTarget(c.raw, /*method_is_options=*/false);
  ASSERT_TRUE(parsed.has_value()) << parsed.error().detail;
  EXPECT_EQ(parsed->form, TargetForm::Origin);
  EXPECT_EQ(parsed->path, c.path);
  EXPECT_EQ(parsed->query, c.query);
  EXPECT_EQ(parsed->route_key, c.route_key);
  EXPECT_EQ(parsed->has_raw_high_bytes, c.high);
  auto forwarded = renderForwardTarget(*parsed, ForwardOptions{});
  ASSERT_TRUE(forwarded.has_value());
  EXPECT_EQ(*forwarded, c.forwarded);
}

const std::vector<Accepted> kAccepted = {
    // Byte classes: RFC 3986 pchar, '/', '?'.
    {"pchar", "/a-b._~!$&'()*+,;=:@/c", "/a-b._~!$&'()*+,;=:@/c", "", "/a-b._~!$&'()*+,;=:@/c",
     "/a-b._~!$&'()*+,;=:@/c"},
    {"root", "/", "/", "", "/", "/"},
    {"query_split", "/p?x=1&y=/z?w", "/p", "?x=1&y=/z?w", "/p", "/p?x=1&y=/z?w"},
    {"empty_query", "/p?", "/p", "?", "/p", "/p?"},
    {"query_not_normalised", "/a?/../x//y%41", "/a", "?/../x//y%41", "/a", "/a?/../x//y%41"},
    // %HH: decode only unreserved ASCII, upper-case the rest, never decode the dangerous ones.
    {"pct_unreserved_decoded", "/%41%62%7e%2D%5F%30%2E", "/%41%62%7e%2D%5F%30%2E", "", "/Ab~-_0.",
     "/%41%62%7e%2D%5F%30%2E"},
    {"pct_reserved_uppercased", "/a%2fb%5cc%3f%23%25%00%e4%3a%40",
     "/a%2fb%5cc%3f%23%25%00%e4%3a%40", "", "/a%2Fb%5Cc%3F%23%25%00%E4%3A%40",
     "/a%2fb%5cc%3f%23%25%00%e4%3a%40"},
    {"pct_2F_not_separator", "/a%2F..%2Fb", "/a%2F..%2Fb", "", "/a%2F..%2Fb", "/a%2F..%2Fb"},
    {"pct_5C_not_separator", "/a%5C..%5Cb", "/a%5C..%5Cb", "", "/a%5C..%5Cb", "/a%5C..%5Cb"},
    {"pct_00_literal", "/a%00b", "/a%00b", "", "/a%00b", "/a%00b"},
    // '%' not followed by two hex digits: accepted, a literal percent sign (%25 in the key).
    {"pct_not_hex", "/a%zz", "/a%zz", "", "/a%25zz", "/a%zz"},
    {"pct_at_end", "/a%", "/a%", "", "/a%25", "/a%"},
    {"pct_one_digit", "/a%4", "/a%4", "", "/a%254", "/a%4"},
    {"pct_literal_equals_encoded", "/a%25zz", "/a%25zz", "", "/a%25zz", "/a%25zz"},
    {"pct_half_hex", "/a%4g", "/a%4g", "", "/a%254g", "/a%4g"},
    // " < > \ ^ ` { | } [ ] : accepted as is; '\' is not a separator.
    {"specials", "/\"<>\\^`{|}[]", "/\"<>\\^`{|}[]", "", "/\"<>\\^`{|}[]", "/\"<>\\^`{|}[]"},
    {"backslash_dots_not_segments", "/a\\..\\b", "/a\\..\\b", "", "/a\\..\\b", "/a\\..\\b"},
    {"backslash_only_segment", "/a/\\../b", "/a/\\../b", "", "/a/\\../b", "/a/\\../b"},
    // 0x80-0xFF: opaque, each compared as %HH, forwarded byte-identical.
    {"utf8_raw", "/\xE4\xB8\xAD\xE6\x96\x87", "/\xE4\xB8\xAD\xE6\x96\x87", "",
     "/%E4%B8%AD%E6%96%87", "/\xE4\xB8\xAD\xE6\x96\x87", true},
    {"invalid_utf8_80",
     "/a\x80"
     "b",
     "/a\x80"
     "b",
     "", "/a%80b",
     "/a\x80"
     "b",
     true},
    {"invalid_utf8_ff",
     "/a\xFF"
     "b",
     "/a\xFF"
     "b",
     "", "/a%FFb",
     "/a\xFF"
     "b",
     true},
    {"gbk", "/\xD6\xD0\xCE\xC4", "/\xD6\xD0\xCE\xC4", "", "/%D6%D0%CE%C4", "/\xD6\xD0\xCE\xC4",
     true},
    // GBK trail bytes 0x5C ('\') and 0x7C ('|') stay opaque parts of the segment.
    {"gbk_trail_5C", "/\x95\x5C/x", "/\x95\x5C/x", "", "/%95\\/x", "/\x95\x5C/x", true},
    {"gbk_trail_5C_before_dots", "/\x95\x5C../x", "/\x95\x5C../x", "", "/%95\\../x",
     "/\x95\x5C../x", true},
    {"gbk_trail_7C", "/\x81\x7C\x81\x7C", "/\x81\x7C\x81\x7C", "", "/%81|%81|", "/\x81\x7C\x81\x7C",
     true},
    {"utf8_in_query", "/s?q=\xE4\xB8\xAD", "/s", "?q=\xE4\xB8\xAD", "/s", "/s?q=\xE4\xB8\xAD",
     true},
    {"overlong_dot_raw", "/\xC0\xAE\xC0\xAE/x", "/\xC0\xAE\xC0\xAE/x", "", "/%C0%AE%C0%AE/x",
     "/\xC0\xAE\xC0\xAE/x", true},
    {"overlong_dot_encoded", "/%c0%ae%c0%ae/x", "/%c0%ae%c0%ae/x", "", "/%C0%AE%C0%AE/x",
     "/%c0%ae%c0%ae/x"},
    // '#': cut before routing and forwarding.
    {"fragment", "/a#frag", "/a", "", "/a", "/a"},
    {"fragment_after_query", "/a?q=1#f", "/a", "?q=1", "/a", "/a?q=1"},
    {"question_in_fragment", "/a#f?x=1", "/a", "", "/a", "/a"},
    {"high_bytes_in_fragment_only", "/a#\xE4\xB8\xAD", "/a", "", "/a", "/a", false},
    {"dots_in_fragment", "/a#/../../x", "/a", "", "/a", "/a"},
    // Dot segments (RFC 3986 5.2.4), raw and %2E, mixed.
    {"dot", "/a/./b", "/a/b", "", "/a/b", "/a/b"},
    {"dot_last", "/a/.", "/a/", "", "/a/", "/a/"},
    {"dotdot", "/a/b/../c", "/a/c", "", "/a/c", "/a/c"},
    {"dotdot_last", "/a/b/..", "/a/", "", "/a/", "/a/"},
    {"dotdot_to_root", "/a/..", "/", "", "/", "/"},
    {"only_dot", "/.", "/", "", "/", "/"},
    {"dotdot_twice", "/a/b/../../c", "/c", "", "/c", "/c"},
    {"pct_dotdot_lower", "/static/%2e%2e/admin", "/admin", "", "/admin", "/admin"},
    {"pct_dotdot_upper", "/static/%2E%2E/admin", "/admin", "", "/admin", "/admin"},
    {"pct_dot", "/a/%2E/b", "/a/b", "", "/a/b", "/a/b"},
    {"mixed_dot_pct", "/a/.%2e/b", "/b", "", "/b", "/b"},
    {"mixed_pct_dot", "/a/%2E./b", "/b", "", "/b", "/b"},
    {"three_dots_literal", "/a/.../b", "/a/.../b", "", "/a/.../b", "/a/.../b"},
    {"dots_in_name_literal", "/a/..b/c.", "/a/..b/c.", "", "/a/..b/c.", "/a/..b/c."},
    {"pct_dotdot_slash_literal", "/a/%2e%2e%2fb", "/a/%2e%2e%2fb", "", "/a/..%2Fb",
     "/a/%2e%2e%2fb"},
    {"double_encoded_dots", "/%252e%252e/x", "/%252e%252e/x", "", "/%252e%252e/x", "/%252e%252e/x"},
    {"dotdot_query_kept", "/a/../b?c=/../d", "/b", "?c=/../d", "/b", "/b?c=/../d"},
    // hostile-inputs.md "Path normalisation and routing".
    {"hostile_api_dotdot_admin", "/api/../admin/x", "/admin/x", "", "/admin/x", "/admin/x"},
    {"hostile_api_pct_dotdot_admin", "/api/%2e%2e/admin/x", "/admin/x", "", "/admin/x", "/admin/x"},
    {"case_kept", "/API", "/API", "", "/API", "/API"},
    // Repeated slashes: merged in the key (and forward, by default); dot segments skip empty
    // segments so key and forwarded path agree whichever is applied first.
    {"repeated_slashes", "/a//b///c", "/a//b///c", "", "/a/b/c", "/a/b/c"},
    {"leading_double_slash", "//evil.example/x", "//evil.example/x", "", "/evil.example/x",
     "/evil.example/x"},
    {"trailing_double_slash", "/a//", "/a//", "", "/a/", "/a/"},
    {"dotdot_over_empty_segment", "/a//../b", "/b", "", "/b", "/b"},
    {"dot_with_slashes", "/a/.//b", "/a//b", "", "/a/b", "/a/b"},
    // url-policy.md examples table (request side; #5, #6, #9 are in the rejected table).
    {"example1_pct_utf8", "/%E4%B8%AD%E6%96%87", "/%E4%B8%AD%E6%96%87", "", "/%E4%B8%AD%E6%96%87",
     "/%E4%B8%AD%E6%96%87"},
    {"example2_raw_utf8", "/中文", "/中文", "", "/%E4%B8%AD%E6%96%87", "/中文", true},
    {"example3_raw_gbk", "/\xD6\xD0\xCE\xC4", "/\xD6\xD0\xCE\xC4", "", "/%D6%D0%CE%C4",
     "/\xD6\xD0\xCE\xC4", true},
    {"example4_query_utf8", "/s?q=中文", "/s", "?q=中文", "/s", "/s?q=中文", true},
    {"example7_fragment", "/a#frag", "/a", "", "/a", "/a"},
    {"example8_pct_dotdot", "/static/%2e%2e/admin", "/admin", "", "/admin", "/admin"},
};

INSTANTIATE_TEST_SUITE_P(Policy, AcceptedTarget, ::testing::ValuesIn(kAccepted),
                         [](const auto& info) { return info.param.name; });

// ---------------------------------------------------------------------------------------------
// Refused targets.

struct Rejected {
  std::string name;
  std::string raw;
  ErrorCode code;
};

void PrintTo(const Rejected& c, std::ostream* os) {
  *os << c.name;
}

class RejectedTarget : public ::testing::TestWithParam<Rejected> {};

TEST_P(RejectedTarget, IsRefused) {
  const Rejected& c = GetParam();
  auto parsed = parseRequestTarget(c.raw, /*method_is_options=*/false);
  ASSERT_FALSE(parsed.has_value()) << "path=" << parsed->path;
  EXPECT_EQ(parsed.error().code, c.code) << parsed.error().detail;
  EXPECT_EQ(parsed.error().source, core::ErrorSource::Downstream);
  EXPECT_FALSE(parsed.error().detail.empty());
}

constexpr ErrorCode kBad = ErrorCode::BadRequestTarget;
constexpr ErrorCode kAbove = ErrorCode::PathAboveRoot;

const std::vector<Rejected> kRejected = {
    {"example5_space", "/a b", kBad},
    {"example6_htab", "/a\tb", kBad},
    {"example6_nul", "/a\0b"s, kBad},
    {"example6_del",
     "/a\x7f"
     "b",
     kBad},
    {"example6_cr", "/a\rb", kBad},
    {"lf", "/a\nb", kBad},
    {"vt", "/a\vb", kBad},
    {"ff", "/a\fb", kBad},
    {"c0_01",
     "/a\x01"
     "b",
     kBad},
    {"c0_1f",
     "/a\x1f"
     "b",
     kBad},
    {"esc",
     "/a\x1b"
     "b",
     kBad},
    {"space_in_query", "/a?b c", kBad},
    {"ctl_in_query", "/a?b\r\nX-Injected: 1", kBad},
    {"space_in_fragment", "/a#b c", kBad},
    {"nul_in_fragment", "/a#b\0"s, kBad},
    {"trailing_space", "/a ", kBad},
    {"example9_above_root", "/../x", kAbove},
    {"dotdot_root", "/..", kAbove},
    {"dotdot_twice_above", "/a/../..", kAbove},
    {"pct_dotdot_above", "/%2e%2E/x", kAbove},
    {"mixed_dotdot_above", "/.%2e/x", kAbove},
    {"dotdot_over_slashes_above", "//../x", kAbove},
    {"deep_above", "/a/b/../../../c", kAbove},
    {"empty", "", kBad},
    {"only_fragment", "#x", kBad},
    {"relative", "abc", kBad},
    {"authority_form", "host:80", kBad},
    {"query_only", "?x=1", kBad},
    {"asterisk_without_options", "*", kBad},
    {"userinfo", "http://user@h/x", kBad},
    {"userinfo_hidden", "http://good.example@evil.example/", kBad},
    {"empty_authority", "http:///x", kBad},
    {"other_scheme", "ftp://h/x", kBad},
    {"scheme_no_slashes", "http:h/x", kBad},
    {"backslash_in_authority", "http://h\\x/", kBad},
    {"high_byte_in_authority", "http://\xE4\xB8\xAD/", kBad},
    {"absolute_above_root", "http://h/../x", kAbove},
};

INSTANTIATE_TEST_SUITE_P(Policy, RejectedTarget, ::testing::ValuesIn(kRejected),
                         [](const auto& info) { return info.param.name; });

// Every byte 0x00-0x20 and 0x7F is refused wherever it sits; every other byte is accepted.
TEST(RequestTargetBytes, EveryByteValueInPath) {
  for (int b = 0; b < 256; ++b) {
    std::string raw = "/a";
    raw.push_back(static_cast<char>(b));
    raw += "b";
    auto parsed = parseRequestTarget(raw, false);
    const bool forbidden = b <= 0x20 || b == 0x7F;
    EXPECT_EQ(parsed.has_value(), !forbidden) << "byte " << b;
    if (forbidden) {
      EXPECT_EQ(parsed.error().code, ErrorCode::BadRequestTarget);
    } else {
      EXPECT_EQ(parsed->has_raw_high_bytes, b >= 0x80) << "byte " << b;
    }
  }
}

// Raw bytes and every spelling of their escapes route alike.
TEST(RequestTargetKey, RawAndEncodedFormsRouteAlike) {
  const std::vector<std::vector<std::string>> groups = {
      {"/中文", "/%E4%B8%AD%E6%96%87", "/%e4%b8%ad%e6%96%87", "/%E4%b8%Ad\xE6\x96\x87"},
      {"/\xD6\xD0\xCE\xC4", "/%D6%D0%CE%C4", "/%d6%d0%ce%c4"},
      {"/api/x", "/%61%70%69/x", "/ap%69//x", "/api/./x", "/api/y/../x", "/api/x#f", "/api/x?q",
       "http://h/api/x"},
      {"/a~b", "/a%7Eb", "/a%7eb"},
      {"/a%zz", "/a%25zz", "/a%25%7A%7a"},
  };
  for (const auto& group : groups) {
    auto first = parseRequestTarget(group.front(), false);
    ASSERT_TRUE(first.has_value());
    for (const auto& raw : group) {
      auto parsed = parseRequestTarget(raw, false);
      ASSERT_TRUE(parsed.has_value()) << raw;
      EXPECT_EQ(parsed->route_key, first->route_key) << raw;
    }
  }
}

TEST(RequestTargetKey, EncodedSeparatorsNeverBecomeSeparators) {
  EXPECT_NE(parseRequestTarget("/a%2Fb", false)->route_key,
            parseRequestTarget("/a/b", false)->route_key);
  EXPECT_NE(parseRequestTarget("/a%5Cb", false)->route_key,
            parseRequestTarget("/a\\b", false)->route_key);
  EXPECT_NE(parseRequestTarget("/a%3Fb", false)->route_key,
            parseRequestTarget("/a?b", false)->route_key);
  EXPECT_NE(parseRequestTarget("/a%23b", false)->route_key,
            parseRequestTarget("/a#b", false)->route_key);
  EXPECT_NE(parseRequestTarget("/API", false)->route_key,
            parseRequestTarget("/api", false)->route_key);
}

// ---------------------------------------------------------------------------------------------
// Absolute-form and asterisk-form.

TEST(RequestTargetForms, AbsoluteFormExample10) {
  auto parsed = parseRequestTarget("http://h/\xE4\xB8\xAD", false);
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->form, TargetForm::Absolute);
  EXPECT_EQ(parsed->authority, "h");
  EXPECT_EQ(parsed->path, "/\xE4\xB8\xAD");
  EXPECT_EQ(parsed->route_key, "/%E4%B8%AD");
  EXPECT_TRUE(parsed->has_raw_high_bytes);
  EXPECT_EQ(*renderForwardTarget(*parsed, {}), "/\xE4\xB8\xAD");  // origin-form upstream
}

TEST(RequestTargetForms, AbsoluteFormVariants) {
  struct Case {
    std::string raw, authority, path, query, forwarded;
  };
  const std::vector<Case> cases = {
      {"http://example.com/a?b=1", "example.com", "/a", "?b=1", "/a?b=1"},
      {"HTTPS://Example.COM:8443/a", "Example.COM:8443", "/a", "", "/a"},
      {"hTtP://h", "h", "/", "", "/"},
      {"http://h?x=1", "h", "/", "?x=1", "/?x=1"},
      {"http://h#frag", "h", "/", "", "/"},
      {"http://[::1]:8080/x", "[::1]:8080", "/x", "", "/x"},
      {"http://h/a/%2e%2e/b//c", "h", "/b//c", "", "/b/c"},
  };
  for (const auto& c : cases) {
    auto parsed = parseRequestTarget(c.raw, false);
    ASSERT_TRUE(parsed.has_value()) << c.raw << ": " << parsed.error().detail;
    EXPECT_EQ(parsed->form, TargetForm::Absolute) << c.raw;
    EXPECT_EQ(parsed->authority, c.authority) << c.raw;
    EXPECT_EQ(parsed->path, c.path) << c.raw;
    EXPECT_EQ(parsed->query, c.query) << c.raw;
    EXPECT_EQ(*renderForwardTarget(*parsed, {}), c.forwarded) << c.raw;
  }
}

TEST(RequestTargetForms, AsteriskOnlyWithOptions) {
  auto parsed = parseRequestTarget("*", /*method_is_options=*/true);
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->form, TargetForm::Asterisk);
  EXPECT_EQ(*renderForwardTarget(*parsed, {}), "*");
  EXPECT_EQ(*renderForwardTarget(*parsed, {conf::RawByteMode::Reject, false}), "*");
  EXPECT_FALSE(parseRequestTarget("*", false).has_value());
  EXPECT_FALSE(parseRequestTarget("*x", true).has_value());
  EXPECT_FALSE(parseRequestTarget("*?x", true).has_value());
  EXPECT_FALSE(parseRequestTarget("**", true).has_value());
  // OPTIONS with an ordinary target is an ordinary request.
  EXPECT_EQ(parseRequestTarget("/a", true)->form, TargetForm::Origin);
}

// ---------------------------------------------------------------------------------------------
// renderForwardTarget modes.

struct Rendered {
  std::string name;
  std::string raw;
  conf::RawByteMode mode;
  bool merge;
  std::string expected;  // empty: BadRequestTarget
};

void PrintTo(const Rendered& c, std::ostream* os) {
  *os << c.name;
}

class ForwardTarget : public ::testing::TestWithParam<Rendered> {};

TEST_P(ForwardTarget, Renders) {
  const Rendered& c = GetParam();
  auto parsed = parseRequestTarget(c.raw, false);
  ASSERT_TRUE(parsed.has_value());
  auto out = renderForwardTarget(*parsed, ForwardOptions{c.mode, c.merge});
  if (c.expected.empty()) {
    ASSERT_FALSE(out.has_value());
    EXPECT_EQ(out.error().code, ErrorCode::BadRequestTarget);
  } else {
    ASSERT_TRUE(out.has_value());
    EXPECT_EQ(*out, c.expected);
  }
}

using M = conf::RawByteMode;
const std::vector<Rendered> kRendered = {
    {"forward_raw", "/中文?q=中", M::Forward, true, "/中文?q=中"},
    {"encode_example2", "/中文", M::Encode, true, "/%E4%B8%AD%E6%96%87"},
    {"encode_query_too", "/中文?q=中", M::Encode, true, "/%E4%B8%AD%E6%96%87?q=%E4%B8%AD"},
    {"encode_gbk_trail", "/\x95\x5C\x81\x7C", M::Encode, true, "/%95\\%81|"},
    {"encode_leaves_ascii_and_escapes", "/a%2fb\"c%zz", M::Encode, true, "/a%2fb\"c%zz"},
    {"encode_ff", "/\xFF", M::Encode, true, "/%FF"},
    {"encode_keep_slashes", "/a//\xE4?x//y", M::Encode, false, "/a//%E4?x//y"},
    {"encode_merge_slashes", "/a//\xE4?x//y", M::Encode, true, "/a/%E4?x//y"},
    {"reject_high_path", "/中文", M::Reject, true, ""},
    {"reject_high_query", "/s?q=中", M::Reject, true, ""},
    {"reject_ascii_ok", "/a%E4?q=%E4", M::Reject, true, "/a%E4?q=%E4"},
    {"reject_fragment_high_ok", "/a#中", M::Reject, true, "/a"},
    {"keep_slashes", "/a//b?c//d", M::Forward, false, "/a//b?c//d"},
    {"merge_slashes", "/a//b?c//d", M::Forward, true, "/a/b?c//d"},
    {"keep_slashes_dots_resolved", "//a//../b", M::Forward, false, "//b"},
    {"merge_slashes_dots_resolved", "//a//../b", M::Forward, true, "/b"},
};

INSTANTIATE_TEST_SUITE_P(Modes, ForwardTarget, ::testing::ValuesIn(kRendered),
                         [](const auto& info) { return info.param.name; });

// What was routed is what is forwarded: re-parsing the forwarded target yields the same key.
TEST(ForwardTargetConsistency, ForwardedTargetRoutesLikeTheOriginal) {
  for (const auto& c : kAccepted) {
    auto parsed = parseRequestTarget(c.raw, false);
    ASSERT_TRUE(parsed.has_value());
    for (const auto mode : {M::Forward, M::Encode}) {
      for (const bool merge : {true, false}) {
        auto out = renderForwardTarget(*parsed, ForwardOptions{mode, merge});
        ASSERT_TRUE(out.has_value());
        auto again = parseRequestTarget(*out, false);
        ASSERT_TRUE(again.has_value()) << c.name;
        EXPECT_EQ(again->route_key, parsed->route_key) << c.name;
        EXPECT_EQ(again->path.find("/../"), std::string::npos) << c.name;
      }
    }
  }
}

// Invariants over many generated targets (fixed seed, so deterministic): the key is canonical
// (no dot segments, no empty segments, every '%' starts an upper-case escape that is not an
// unreserved byte, no raw byte >= 0x80), and the forwarded target routes like the original.
bool keyIsCanonical(const std::string& key) {
  if (key.empty() || key.front() != '/') return false;
  if (key.find("//") != std::string::npos) return false;
  size_t start = 1;
  while (start <= key.size()) {
    size_t end = key.find('/', start);
    if (end == std::string::npos) end = key.size();
    const std::string seg = key.substr(start, end - start);
    if (seg == "." || seg == "..") return false;
    start = end + 1;
  }
  for (size_t i = 0; i < key.size(); ++i) {
    const auto c = static_cast<unsigned char>(key[i]);
    if (c >= 0x80 || c <= 0x20 || c == 0x7F || c == '?' || c == '#') return false;
    if (c != '%') continue;
    if (i + 2 >= key.size()) return false;
    const std::string hex = key.substr(i + 1, 2);
    if (hex.find_first_not_of("0123456789ABCDEF") != std::string::npos) return false;
    const int v = std::stoi(hex, nullptr, 16);
    if (std::isalnum(v) || v == '-' || v == '.' || v == '_' || v == '~') return false;
  }
  return true;
}

TEST(RequestTargetProperties, GeneratedTargets) {
  const std::vector<std::string> atoms = {
      "/", "/", ".",  "..", "%2e",  "%2E",      "%",   "%2f", "%5C", "%41", "%e4", "a", "Z", "~",
      "?", "#", "\\", "|",  "\xE4", "\x95\x5C", "%25", "%zz", "%0",  " ",   "\t",  ";", "@"};
  std::mt19937 rng(12345);
  int accepted = 0;
  for (int n = 0; n < 20000; ++n) {
    std::string raw = "/";
    const int len = static_cast<int>(rng() % 12);
    for (int i = 0; i < len; ++i) {
      raw += atoms[rng() % atoms.size()];
    }
    auto parsed = parseRequestTarget(raw, false);
    if (!parsed) {
      EXPECT_TRUE(parsed.error().code == ErrorCode::BadRequestTarget ||
                  parsed.error().code == ErrorCode::PathAboveRoot);
      continue;
    }
    ++accepted;
    ASSERT_TRUE(keyIsCanonical(parsed->route_key)) << raw << " -> " << parsed->route_key;
    ASSERT_EQ(parsed->path.front(), '/') << raw;
    for (const bool merge : {true, false}) {
      auto out = renderForwardTarget(*parsed, ForwardOptions{M::Encode, merge});
      ASSERT_TRUE(out.has_value());
      auto again = parseRequestTarget(*out, false);
      ASSERT_TRUE(again.has_value()) << raw;
      ASSERT_EQ(again->route_key, parsed->route_key) << raw;
      ASSERT_FALSE(again->has_raw_high_bytes) << raw;
    }
  }
  EXPECT_GT(accepted, 5000);
}

// ---------------------------------------------------------------------------------------------
// Route prefixes from config.

TEST(RoutePrefix, NormalisesLikeTheRouteKey) {
  struct Case {
    std::string in, out;
  };
  const std::vector<Case> cases = {
      {"/", "/"},
      {"/api", "/api"},
      {"/api/", "/api"},
      {"//api//", "/api"},
      {"/api/./", "/api"},
      {"/a/../b", "/b"},
      {"/%61pi", "/api"},
      {"/电影", "/%E7%94%B5%E5%BD%B1"},
      {"/%e7%94%b5%e5%bd%b1", "/%E7%94%B5%E5%BD%B1"},
      {"/\xD6\xD0", "/%D6%D0"},
      {"/a%2fb", "/a%2Fb"},
      {"/API", "/API"},
      {"/.", "/"},
  };
  for (const auto& c : cases) {
    auto out = normalizeRoutePrefix(c.in);
    ASSERT_TRUE(out.has_value()) << c.in << ": " << out.error().detail;
    EXPECT_EQ(*out, c.out) << c.in;
  }
}

TEST(RoutePrefix, RawAndEncodedPrefixesMatchBothRequestForms) {
  const std::string prefix = *normalizeRoutePrefix("/电影");
  EXPECT_EQ(prefix, *normalizeRoutePrefix("/%E7%94%B5%E5%BD%B1"));
  EXPECT_EQ(parseRequestTarget("/电影", false)->route_key, prefix);
  EXPECT_EQ(parseRequestTarget("/%e7%94%b5%e5%bd%b1", false)->route_key, prefix);
}

TEST(RoutePrefix, Refused) {
  struct Case {
    std::string in;
    ErrorCode code;
  };
  const std::vector<Case> cases = {
      {"", kBad},     {"api", kBad},  {"*", kBad},          {"/a b", kBad},  {"/a\tb", kBad},
      {"/a?x", kBad}, {"/a#x", kBad}, {"http://h/a", kBad}, {"/..", kAbove}, {"/a/../..", kAbove},
  };
  for (const auto& c : cases) {
    auto out = normalizeRoutePrefix(c.in);
    ASSERT_FALSE(out.has_value()) << c.in;
    EXPECT_EQ(out.error().code, c.code) << c.in;
    EXPECT_FALSE(out.error().detail.empty());
  }
}

}  // namespace
}  // namespace baton::routing
