// Fuzz target: URL normalisation (routing/request_target.h): parseRequestTarget (byte policy,
// fragment cut, dot segments, routing key) then renderForwardTarget in every raw-byte mode and
// slash mode, and normalizeRoutePrefix on the same bytes.
//
// Oracles: no crash or sanitizer report; the routing key is canonical (starts with '/', no
// byte outside 0x21-0x7E, no "//", no '.' or '..' segment, no '?' or '#') and normalising it
// again changes nothing; the forwarded target is one the upstream parses to the same routing
// key ("what was routed is what is forwarded": a bypass otherwise), carries no SP/CTL/DEL/'#',
// has no raw high byte in encode mode, and reject mode refuses exactly the targets with raw
// high bytes; a normalised prefix is a fixed point.
#include <string>
#include <string_view>

#include "routing/request_target.h"
#include "tests/fuzz/fuzz_target.h"

namespace {

using baton::conf::RawByteMode;
using baton::routing::ForwardOptions;
using baton::routing::ParsedTarget;
using baton::routing::TargetForm;

void checkRouteKey(std::string_view key) {
  BATON_FUZZ_CHECK(key.starts_with('/'));
  for (unsigned char c : key) BATON_FUZZ_CHECK(c > 0x20 && c < 0x7f && c != '?' && c != '#');
  BATON_FUZZ_CHECK(key.find("//") == std::string_view::npos);
  size_t start = 1;
  while (start <= key.size()) {
    const size_t slash = std::min(key.find('/', start), key.size());
    const std::string_view segment = key.substr(start, slash - start);
    BATON_FUZZ_CHECK(segment != "." && segment != "..");
    start = slash + 1;
  }
}

void checkRender(const ParsedTarget& t, RawByteMode mode, bool merge) {
  auto out = baton::routing::renderForwardTarget(t, ForwardOptions{mode, merge});
  if (mode == RawByteMode::Reject && t.has_raw_high_bytes) {
    BATON_FUZZ_CHECK(!out.has_value());
    return;
  }
  BATON_FUZZ_CHECK(out.has_value());
  if (t.form == TargetForm::Asterisk) {
    BATON_FUZZ_CHECK(*out == "*");
    return;
  }
  BATON_FUZZ_CHECK(out->starts_with('/'));
  for (unsigned char c : *out) {
    BATON_FUZZ_CHECK(c > 0x20 && c != 0x7f && c != '#');
    if (mode == RawByteMode::Encode) BATON_FUZZ_CHECK(c < 0x80);
  }
  if (merge) BATON_FUZZ_CHECK(out->substr(0, out->find('?')).find("//") == std::string::npos);
  // The upstream sees the same resource the route was chosen for.
  auto again = baton::routing::parseRequestTarget(*out, false);
  BATON_FUZZ_CHECK(again.has_value());
  BATON_FUZZ_CHECK(again->route_key == t.route_key);
  if (mode == RawByteMode::Forward) BATON_FUZZ_CHECK(again->query == t.query);
}

}  // namespace

BATON_FUZZ_ENTRY(request_target) {
  const std::string_view raw(reinterpret_cast<const char*>(data), size);
  auto parsed = baton::routing::parseRequestTarget(raw, false);
  auto parsed_options = baton::routing::parseRequestTarget(raw, true);
  // OPTIONS changes nothing but the asterisk form ("*", or "*#..." once the fragment is cut).
  if (raw.substr(0, raw.find('#')) != "*") {
    BATON_FUZZ_CHECK(parsed.has_value() == parsed_options.has_value());
    if (!parsed) BATON_FUZZ_CHECK(parsed.error().code == parsed_options.error().code);
  }
  if (parsed) {
    const ParsedTarget& t = *parsed;
    BATON_FUZZ_CHECK(t.form != TargetForm::Asterisk);
    BATON_FUZZ_CHECK(t.path.starts_with('/'));
    BATON_FUZZ_CHECK(t.query.empty() || t.query.starts_with('?'));
    if (t.form == TargetForm::Absolute) BATON_FUZZ_CHECK(!t.authority.empty());
    checkRouteKey(t.route_key);
    auto key_again = baton::routing::parseRequestTarget(t.route_key, false);
    BATON_FUZZ_CHECK(key_again.has_value() && key_again->route_key == t.route_key);
    for (RawByteMode mode : {RawByteMode::Forward, RawByteMode::Encode, RawByteMode::Reject}) {
      checkRender(t, mode, true);
      checkRender(t, mode, false);
    }
  }
  if (parsed_options && parsed_options->form == TargetForm::Asterisk) {
    checkRender(*parsed_options, RawByteMode::Forward, true);
  }
  auto prefix = baton::routing::normalizeRoutePrefix(raw);
  if (prefix) {
    auto again = baton::routing::normalizeRoutePrefix(*prefix);
    BATON_FUZZ_CHECK(again.has_value() && *again == *prefix);
  }
  return 0;
}
