#include "discovery/model/app_print.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include <bit>
#include <cstring>
#include <optional>

namespace baton::discovery {

namespace {

// The index of the first byte at or after `at` that is one of `Bytes`, or npos. Sixteen bytes a
// compare on x86-64 (SSE2 is baseline there): the byte walk reads all 37 MB of a 100,000-task
// document with it.
template <char... Bytes>
size_t findAnyOf(std::string_view doc, size_t at) {
  const char* data = doc.data();
  const size_t size = doc.size();
#ifdef __SSE2__
  for (; at + 16 <= size; at += 16) {
    const __m128i block = _mm_loadu_si128(reinterpret_cast<const __m128i*>(data + at));
    __m128i hits = _mm_setzero_si128();
    ((hits = _mm_or_si128(hits, _mm_cmpeq_epi8(block, _mm_set1_epi8(Bytes)))), ...);
    const auto mask = static_cast<unsigned>(_mm_movemask_epi8(hits));
    if (mask != 0) return at + static_cast<size_t>(std::countr_zero(mask));
  }
#endif
  for (; at < size; ++at) {
    if (((data[at] == Bytes) || ...)) return at;
  }
  return std::string_view::npos;
}

bool endsScalar(char c) {
  return isJsonSpace(c) || c == ',' || c == '}' || c == ']';
}

}  // namespace

size_t skipString(std::string_view doc, size_t pos) {
  for (size_t at = pos + 1;; at += 2) {  // += 2: past a backslash and the byte it escapes
    at = findAnyOf<'"', '\\'>(doc, at);
    if (at == std::string_view::npos) return at;
    if (doc[at] == '"') return at + 1;  // simdjson checks the escape itself
  }
}

size_t skipValue(std::string_view doc, size_t pos) {
  if (pos >= doc.size()) return std::string_view::npos;
  if (doc[pos] == '"') return skipString(doc, pos);
  if (doc[pos] != '{' && doc[pos] != '[') {
    size_t end = pos;
    while (end < doc.size() && !endsScalar(doc[end])) ++end;
    return end == pos ? std::string_view::npos : end;
  }
  size_t depth = 0;
  for (size_t at = pos;;) {
    at = findAnyOf<'"', '{', '}', '[', ']'>(doc, at);
    if (at == std::string_view::npos) return at;
    const char c = doc[at];
    if (c == '"') {
      at = skipString(doc, at);
      if (at == std::string_view::npos) return at;
      continue;
    }
    if (c == '{' || c == '[') ++depth;
    if ((c == '}' || c == ']') && --depth == 0) return at + 1;
    ++at;
  }
}

namespace {

// ---- raw app prints ----------------------------------------------------------------------------
//
// Marathon rewrites every health-checked task's lastSuccess on every check, so in a real
// document every app's bytes differ from the last document's, though what baton reads does not.
// The DOM fingerprint (appFingerprint) sees through that, but needs the app parsed first: on a
// 100,000-task document where one app changed, parsing the 9,999 others only to find them
// unchanged was most of the resync. So the split, which walks every byte anyway, also hashes
// each app's bytes, leaving out exactly the values Marathon rewrites: the members other than
// `alive` of the objects in a `"healthCheckResults": [...]` array. An app whose print and id
// match an app of the last document is that app, with no parse. That is safe because everything
// else is hashed byte for byte, so the span is the earlier span (which simdjson validated and
// readApp read) except for values no reader of baton's reads: under a task they are what
// readHealthResults skips, and anywhere else such an array sits in a member readApp ignores
// (labels, the only member read whole, must be strings). A value is left out only when the
// scan can tell it is valid JSON on its own (a plain ASCII string, an integer, true, false or
// null) and its member name is written without escapes (an escape could spell "alive");
// anything else is hashed as written, so the app's print just differs and it is parsed. The
// DOM fingerprint stays the second test (the same app with other whitespace or member order).

// `pos` after an opening quote: the index after the closing quote of a plain ASCII string (no
// escape, no control or non-ASCII byte: valid JSON on its own), npos for any other. Sixteen bytes
// a step on x86-64: every task's result timestamps and ids come through here (50,000 a thread
// on a 100,000-task resync), and the byte loop was a tenth of the print.
size_t plainStringEnd(std::string_view doc, size_t pos) {
  const char* data = doc.data();
  const size_t size = doc.size();
#ifdef __SSE2__
  // Each load starts before `size` and so ends within the 64 bytes of padding (app_print.h).
  for (; pos < size; pos += 16) {
    const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(data + pos));
    // Signed: 0x80-0xFF are negative, so "< 0x20" also catches every non-ASCII byte.
    const __m128i bad = _mm_or_si128(_mm_cmplt_epi8(bytes, _mm_set1_epi8(0x20)),
                                     _mm_or_si128(_mm_cmpeq_epi8(bytes, _mm_set1_epi8(0x7f)),
                                                  _mm_cmpeq_epi8(bytes, _mm_set1_epi8('\\'))));
    const auto quotes =
        static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(bytes, _mm_set1_epi8('"'))));
    const auto bads = static_cast<unsigned>(_mm_movemask_epi8(bad));
    if ((quotes | bads) == 0) continue;
    const size_t first = static_cast<size_t>(std::countr_zero(quotes | bads));
    if (pos + first >= size || (bads >> first & 1U) != 0) return std::string_view::npos;
    return pos + first + 1;
  }
  return std::string_view::npos;
#else
  for (; pos < size && data[pos] != '"'; ++pos) {
    const auto byte = static_cast<unsigned char>(data[pos]);
    if (byte < 0x20 || byte > 0x7e || byte == '\\') return std::string_view::npos;
  }
  return pos < size ? pos + 1 : std::string_view::npos;
#endif
}

// The end of a scalar the print may leave out (see above), or npos to hash it as written.
size_t omittableScalarEnd(std::string_view doc, size_t pos) {
  if (pos >= doc.size()) return std::string_view::npos;
  const char c = doc[pos];
  size_t end = pos;
  if (c == '"') return plainStringEnd(doc, pos + 1);
  if (c == 't' || c == 'f' || c == 'n') {
    const std::string_view rest = doc.substr(pos);
    for (std::string_view word : {"true", "false", "null"}) {
      if (rest.starts_with(word)) end = pos + word.size();
    }
  } else {  // -?(0|[1-9][0-9]*)
    end = pos + (c == '-' ? 1 : 0);
    const size_t digits = end;
    while (end < doc.size() && doc[end] >= '0' && doc[end] <= '9') ++end;
    if (end == digits || (doc[digits] == '0' && end - digits > 1)) return std::string_view::npos;
  }
  if (end == pos || end >= doc.size() || !endsScalar(doc[end])) return std::string_view::npos;
  return end;
}

// A 64-bit hash of a byte stream given in pieces, sixteen bytes a step (one 64x64->128-bit
// multiply, folded, as wyhash does): it reads all 37 MB of a 100,000-task document.
class ByteHash {
 public:
  void add(std::string_view bytes) {
    size_t at = 0;
    for (; at + 16 <= bytes.size(); at += 16) {
      uint64_t a;
      uint64_t b;
      std::memcpy(&a, bytes.data() + at, 8);
      std::memcpy(&b, bytes.data() + at + 8, 8);
      h_ = fold(a ^ h_ ^ kP0, b ^ kP1);
    }
    uint64_t tail[2] = {0, 0};
    std::memcpy(tail, bytes.data() + at, bytes.size() - at);
    // The piece's length goes in too, so the zero padding and piece boundaries are unambiguous.
    h_ = fold(tail[0] ^ h_ ^ kP2, tail[1] ^ (bytes.size() * kP1));
  }
  void mark() { h_ = fold(h_ ^ kP1, kP2); }  // a value left out
  uint64_t value() const { return h_; }

 private:
  static uint64_t fold(uint64_t a, uint64_t b) {
    const unsigned __int128 r = static_cast<unsigned __int128>(a) * b;
    return static_cast<uint64_t>(r) ^ static_cast<uint64_t>(r >> 64);
  }
  static constexpr uint64_t kP0 = 0xa0761d6478bd642fULL;
  static constexpr uint64_t kP1 = 0xe7037ed1a0b428dbULL;
  static constexpr uint64_t kP2 = 0x8ebc6af09c88c6e3ULL;
  uint64_t h_ = 0x589965cc75374cc3ULL;
};

// The print of one app, as scanApp walks it: bytes are hashed in runs, between left-out values.
struct PrintState {
  ByteHash hash;
  size_t hashed = 0;  // bytes of the document before this one are in `hash`

  void leaveOut(std::string_view doc, size_t value, size_t value_end) {
    hash.add(doc.substr(hashed, value - hashed));
    hash.mark();
    hashed = value_end;
  }
};

constexpr std::string_view kResultsKey = "\"healthCheckResults\"";

// `pos` at the '[' of a "healthCheckResults" value: each object item's members other than
// "alive" left out of `state` (see above). The index after the ']'; npos when the array is not a
// list of objects as far as this scan can tell, `state` then unchanged (the caller walks it as
// any other value).
size_t printResults(std::string_view doc, size_t pos, PrintState& state) {
  PrintState out = state;
  size_t at = skipSpace(doc, pos + 1);
  if (at < doc.size() && doc[at] == ']') return at + 1;
  while (at < doc.size() && doc[at] == '{') {
    at = skipSpace(doc, at + 1);
    while (at < doc.size() && doc[at] == '"') {
      const size_t key_end = skipString(doc, at);
      if (key_end == std::string_view::npos) return key_end;
      const std::string_view key = doc.substr(at + 1, key_end - at - 2);
      const size_t colon = skipSpace(doc, key_end);
      if (colon >= doc.size() || doc[colon] != ':') return std::string_view::npos;
      const size_t value = skipSpace(doc, colon + 1);
      const bool omittable = key != "alive" && key.find('\\') == std::string_view::npos;
      size_t end = omittable ? omittableScalarEnd(doc, value) : std::string_view::npos;
      if (end != std::string_view::npos) {
        out.leaveOut(doc, value, end);
      } else {
        end = skipValue(doc, value);
        if (end == std::string_view::npos) return end;
      }
      at = skipSpace(doc, end);
      if (at < doc.size() && doc[at] == ',') at = skipSpace(doc, at + 1);
    }
    if (at >= doc.size() || doc[at] != '}') return std::string_view::npos;
    at = skipSpace(doc, at + 1);
    if (at < doc.size() && doc[at] == ']') {
      state = out;
      return at + 1;
    }
    if (at >= doc.size() || doc[at] != ',') return std::string_view::npos;
    at = skipSpace(doc, at + 1);
  }
  return std::string_view::npos;
}

// What both walks keep while they walk one app, and what they do at the two keys that matter and
// at each bracket outside strings: the depth, the app's id, the print.
class AppWalk {
 public:
  // `doc[pos]` is the app's '{'.
  AppWalk(std::string_view doc, size_t pos, SpanPrint& print) : doc_(doc), print_(print) {
    state_.hashed = pos;
  }

  size_t depth() const { return depth_; }
  // The depth after brackets the walk did not visit one by one (the app cannot end among them).
  void skipBrackets(size_t opens, size_t closes) { depth_ = depth_ + opens - closes; }

  // The string before `key_end` is "id" (is_id) or the results key. Where the walk goes on: npos
  // where it was (nothing skipped), else after the id's value or the results array it printed;
  // nullopt when the document ends inside the id's value.
  std::optional<size_t> key(size_t key_end, bool is_id) {
    constexpr size_t kOn = std::string_view::npos;
    const size_t colon = skipSpace(doc_, key_end);
    if (colon >= doc_.size() || doc_[colon] != ':') return kOn;  // a value, not a key
    const size_t value = skipSpace(doc_, colon + 1);
    if (!is_id) {
      if (value >= doc_.size() || doc_[value] != '[') return kOn;
      return printResults(doc_, value, state_);  // npos when it cannot follow the array
    }
    if (depth_ != 1 || has_id_) return kOn;  // only the app's own, first id
    has_id_ = true;
    if (value >= doc_.size() || doc_[value] != '"') return kOn;
    const size_t id_end = skipString(doc_, value);
    if (id_end == std::string_view::npos) return std::nullopt;
    print_.id = doc_.substr(value + 1, id_end - value - 2);
    plain_id_ = print_.id.find('\\') == std::string_view::npos;
    return id_end;
  }

  // A bracket outside strings at `at`; true when it closed the app (the print is then done).
  bool bracket(size_t at) {
    const char c = doc_[at];
    if (c == '{' || c == '[') {
      ++depth_;
      return false;
    }
    if (--depth_ != 0) return false;
    state_.hash.add(doc_.substr(state_.hashed, at + 1 - state_.hashed));
    print_.value = state_.hash.value();
    print_.usable = plain_id_;
    return true;
  }

 private:
  std::string_view doc_;
  SpanPrint& print_;
  PrintState state_;
  size_t depth_ = 0;
  bool has_id_ = false;
  bool plain_id_ = false;
};

#ifdef __SSE2__
// ---- the print walk, 64 bytes a step ---------------------------------------------------------
//
// The walk above finds each quote and bracket with a search of its own: about 9 instructions a
// byte over a 37 MB document, a fifth of a resync's parse. scanAppBlocks classifies 64 bytes at
// once into bit masks, works out which bytes lie inside strings from them (simdjson's stage 1
// does the same), and then visits only what the print needs, in order: each bracket outside a
// string (the depth) and each string's opening quote (for the two keys that matter). The rare
// detours (the app's id, a healthCheckResults array) use the byte walk's own functions and the
// block walk resumes after them, outside any string.

// One bit per byte of a 64-byte block.
struct BlockMasks {
  uint64_t quote = 0;
  uint64_t backslash = 0;
  uint64_t open = 0;       // '{' and '['
  uint64_t close = 0;      // '}' and ']'
  uint64_t key_first = 0;  // 'i' and 'h': what the two keys the print looks at begin with
};

BlockMasks classify(const char* block) {
  BlockMasks out;
  for (int lane = 0; lane < 4; ++lane) {
    const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(block + 16 * lane));
    const auto mask = [&](__m128i hits) {
      return static_cast<uint64_t>(static_cast<uint32_t>(_mm_movemask_epi8(hits))) << (16 * lane);
    };
    const auto eq = [&](char c) { return _mm_cmpeq_epi8(bytes, _mm_set1_epi8(c)); };
    out.quote |= mask(eq('"'));
    out.backslash |= mask(eq('\\'));
    out.open |= mask(_mm_or_si128(eq('{'), eq('[')));
    out.close |= mask(_mm_or_si128(eq('}'), eq(']')));
    out.key_first |= mask(_mm_or_si128(eq('i'), eq('h')));
  }
  return out;
}

// Bit i set when an odd number of bits at or below i are set in `bits`.
uint64_t prefixXor(uint64_t bits) {
  bits ^= bits << 1;
  bits ^= bits << 2;
  bits ^= bits << 4;
  bits ^= bits << 8;
  bits ^= bits << 16;
  bits ^= bits << 32;
  return bits;
}

// The bytes a backslash escapes (the byte after an odd run of backslashes); `carry` says the
// first byte of the block is escaped by a run that ended the previous one, and is set for the
// next (simdjson's find_escaped).
uint64_t escapedBytes(uint64_t backslash, uint64_t& carry) {
  if (backslash == 0 && carry == 0) return 0;
  constexpr uint64_t kEvenBits = 0x5555555555555555ULL;
  backslash &= ~carry;
  const uint64_t follows_escape = (backslash << 1) | carry;
  const uint64_t odd_starts = backslash & ~kEvenBits & ~follows_escape;
  uint64_t even_starts = 0;
  carry = __builtin_add_overflow(odd_starts, backslash, &even_starts) ? 1 : 0;
  return (kEvenBits ^ (even_starts << 1)) & follows_escape;
}

// The string opening at `at` is one of the two keys the print looks at (see scanAppByteWalk).
bool interestingString(std::string_view doc, size_t at) {
  const char first = doc.data()[at + 1];  // within the padding at worst
  if (first == 'i') return doc.substr(at, 4) == "\"id\"";
  if (first == 'h') return doc.substr(at, kResultsKey.size()) == kResultsKey;
  return false;
}

// Two builds, chosen once at load time: x86-64's baseline has no popcnt instruction, so
// std::popcount (twice a block) was a call into libgcc; nearly every x86-64 CPU has it.
__attribute__((target_clones("popcnt", "default"))) size_t scanAppBlocks(std::string_view doc,
                                                                         size_t pos,
                                                                         SpanPrint& print) {
  print = SpanPrint{};
  if (pos >= doc.size() || doc[pos] != '{') return skipValue(doc, pos);
  AppWalk walk(doc, pos, print);
  size_t block = pos;
  // Where the block starts: after a detour both are 0 (it ends after a string or an array).
  uint64_t escape_carry = 0;
  uint64_t in_string = 0;  // all ones: the block starts inside a string
  while (block < doc.size()) {
    const BlockMasks masks = classify(doc.data() + block);
    const uint64_t quotes = masks.quote & ~escapedBytes(masks.backslash, escape_carry);
    const uint64_t inside = prefixXor(quotes) ^ in_string;  // opening quotes included
    in_string = static_cast<uint64_t>(static_cast<int64_t>(inside) >> 63);
    const uint64_t opens = masks.open & ~inside;
    const uint64_t closes = masks.close & ~inside;
    // Strings that may be one of the two keys: the byte after the quote is right (for the last
    // byte of the block that byte is in the next block: a candidate anyway).
    const uint64_t candidates = quotes & inside & ((masks.key_first >> 1) | (uint64_t{1} << 63));
    if (candidates == 0 && static_cast<size_t>(std::popcount(closes)) < walk.depth()) {
      // Nothing to look at, and the app cannot end in this block: only the depth moves.
      walk.skipBrackets(static_cast<size_t>(std::popcount(opens)),
                        static_cast<size_t>(std::popcount(closes)));
      block += 64;
      continue;
    }
    uint64_t visits = candidates | opens | closes;
    size_t resume = std::string_view::npos;
    while (visits != 0 && resume == std::string_view::npos) {
      const size_t at = block + static_cast<size_t>(std::countr_zero(visits));
      visits &= visits - 1;
      if (at >= doc.size()) return std::string_view::npos;
      if (doc[at] == '"') {
        if (!interestingString(doc, at)) continue;
        const bool is_id = doc.data()[at + 1] == 'i';
        const auto next = walk.key(at + (is_id ? 4 : kResultsKey.size()), is_id);
        if (!next) return std::string_view::npos;
        resume = *next;
        continue;
      }
      if (walk.bracket(at)) return at + 1;
    }
    if (resume != std::string_view::npos) {
      block = resume;
      escape_carry = 0;
      in_string = 0;
    } else {
      block += 64;
    }
  }
  return std::string_view::npos;
}
#endif

}  // namespace

// The reference walk (app_print.h).
size_t scanAppByteWalk(std::string_view doc, size_t pos, SpanPrint& print) {
  print = SpanPrint{};
  if (pos >= doc.size() || doc[pos] != '{') return skipValue(doc, pos);
  AppWalk walk(doc, pos, print);
  for (size_t at = pos;;) {
    at = findAnyOf<'"', '{', '}', '[', ']'>(doc, at);
    if (at == std::string_view::npos) return at;
    if (doc[at] == '"') {
      const size_t end = skipString(doc, at);
      if (end == std::string_view::npos) return end;
      const std::string_view text = doc.substr(at, end - at);
      at = end;
      // Only two strings matter, and both are rare: the app's "id" key and a results key.
      const bool is_id = text == "\"id\"";
      if (!is_id && text != kResultsKey) continue;
      const auto next = walk.key(end, is_id);
      if (!next) return std::string_view::npos;
      if (*next != std::string_view::npos) at = *next;
      continue;
    }
    if (walk.bracket(at)) return at + 1;
    ++at;
  }
}

size_t scanApp(std::string_view doc, size_t pos, SpanPrint& print) {
#ifdef __SSE2__
  return scanAppBlocks(doc, pos, print);
#else
  return scanAppByteWalk(doc, pos, print);
#endif
}

}  // namespace baton::discovery
