// NvList: the nghttp2_nv array both codecs submit (header_fields.h). What can go wrong when it
// avoids a string per field: a name left uppercase, a pointer into a buffer that moved, a number
// formatted into storage that a later number overwrote, a dropped or forbidden field let through.
#include "proxy/http/http2/header_fields.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace baton::proxy::http2 {
namespace {

using Fields = std::vector<std::pair<std::string, std::string>>;

Fields fieldsOf(NvList& list) {
  Fields out;
  for (size_t i = 0; i < list.size(); ++i) {
    const nghttp2_nv& nv = list.data()[i];
    // nghttp2 copies everything but a name marked NO_COPY_NAME, which must then be static: the
    // static copy of a known name, or a literal the test passed to add()/addNumber().
    const std::string_view name(reinterpret_cast<const char*>(nv.name), nv.namelen);
    if (nv.flags == NGHTTP2_NV_FLAG_NO_COPY_NAME) {
      EXPECT_TRUE(staticName(name).data() == name.data() || name == ":status" ||
                  name == "content-length" || name == "x-third")
          << name;
    } else {
      EXPECT_EQ(nv.flags, NGHTTP2_NV_FLAG_NONE) << name;
    }
    out.emplace_back(std::string(reinterpret_cast<const char*>(nv.name), nv.namelen),
                     std::string(reinterpret_cast<const char*>(nv.value), nv.valuelen));
  }
  return out;
}

bool dropConnection(std::string_view lower_name, std::string_view) {
  return lower_name == "connection" || lower_name == "content-length";
}

TEST(NvListTest, LowercasesNamesAndKeepsValuesAndOrder) {
  const http1::HeaderList headers{{"Content-Type", "Text/Plain"},
                                  {"x-already-lower", "v"},
                                  {"ETag", "\"AbC\""},
                                  {"Connection", "close"},
                                  {"Content-Length", "13"}};
  NvList list;
  list.addNumber(":status", 200);
  list.addFields(headers, &dropConnection);
  list.addNumber("content-length", 13);
  EXPECT_EQ(fieldsOf(list), (Fields{{":status", "200"},
                                    {"content-type", "Text/Plain"},
                                    {"x-already-lower", "v"},
                                    {"etag", "\"AbC\""},
                                    {"content-length", "13"}}));
}

// A known name in any case goes out as the static lowercase copy (nghttp2 need not copy it);
// any other name is lowercased into the list and copied by nghttp2 as before.
TEST(NvListTest, KnownNamesGoOutAsStaticCopies) {
  for (std::string_view known : {"date", "Server", "CONTENT-TYPE", "Last-Modified", "ETag",
                                 "Accept-Ranges", "Access-Control-Allow-Credentials", "via"}) {
    const std::string_view copy = staticName(known);
    ASSERT_EQ(copy.size(), known.size()) << known;
    EXPECT_EQ(copy, lowercase(known));
    EXPECT_EQ(staticName(copy).data(), copy.data()) << "one copy per name";
  }
  for (std::string_view unknown : {"", "Content-Typf", "dates", "X-Custom", "content-type ",
                                   "content_type", "Access-Control-Allow-Credentialz"}) {
    EXPECT_TRUE(staticName(unknown).empty()) << unknown;
  }
  const http1::HeaderList headers{{"Content-Type", "a"}, {"X-Custom", "b"}, {"server", "c"}};
  NvList list;
  list.addFields(headers, &dropConnection);
  ASSERT_EQ(list.size(), 3u);
  EXPECT_EQ(list.data()[0].flags, NGHTTP2_NV_FLAG_NO_COPY_NAME);
  EXPECT_EQ(reinterpret_cast<const char*>(list.data()[0].name), staticName("content-type").data());
  EXPECT_EQ(list.data()[1].flags, NGHTTP2_NV_FLAG_NONE);
  EXPECT_EQ(list.data()[2].flags, NGHTTP2_NV_FLAG_NO_COPY_NAME);
  EXPECT_NE(reinterpret_cast<const char*>(list.data()[2].name), headers[2].name.data());
  EXPECT_EQ(fieldsOf(list), (Fields{{"content-type", "a"}, {"x-custom", "b"}, {"server", "c"}}));
}

// The word-at-a-time match against a byte loop: every byte value at every offset of known names
// of several lengths (under, at and past a word) matches only where it is the name's own byte
// in either case.
TEST(NvListTest, StaticNameMatchesOnlyTheNameInAnyCase) {
  for (std::string_view known :
       {"via", "date", "server", "expires", "location", "content-type", "content-length",
        "x-forwarded-proto", "access-control-allow-credentials"}) {
    for (size_t at = 0; at < known.size(); ++at) {
      std::string name(known);
      for (int b = 0; b < 256; ++b) {
        name[at] = static_cast<char>(b);
        const bool same = lowercase(name) == known;
        if (staticName(name).empty() == same) {
          FAIL() << known << " byte " << b << " at " << at;
        }
      }
    }
  }
}

TEST(NvListTest, SkipsPseudoEmptyAndForbiddenFields) {
  const http1::HeaderList headers{{":path", "/smuggled"},
                                  {"", "empty name"},
                                  {"X-Bad-Value", std::string("a\r\nb")},
                                  {"X-Bad\nName", "v"},
                                  {"X-Nul", std::string("a\0b", 3)},
                                  {"X-Good", "ok"}};
  NvList list;
  list.addFields(headers, &dropConnection);
  EXPECT_EQ(fieldsOf(list), (Fields{{"x-good", "ok"}}));
}

TEST(NvListTest, NumbersKeepTheirOwnStorage) {
  NvList list;
  list.addNumber(":status", 404);
  list.addNumber("content-length", 18446744073709551615ULL);
  list.addNumber("x-third", 7);  // past the inline slots
  EXPECT_EQ(
      fieldsOf(list),
      (Fields{{":status", "404"}, {"content-length", "18446744073709551615"}, {"x-third", "7"}}));
}

TEST(NvListTest, ManyLongUppercaseNamesStayValid) {
  // More lowercased name bytes than the inline buffer: earlier entries must not move.
  http1::HeaderList headers;
  Fields want;
  for (int i = 0; i < 40; ++i) {
    std::string name = "X-Long-Header-Name-Number-" + std::to_string(i);
    std::string lower = "x-long-header-name-number-" + std::to_string(i);
    headers.push_back({name, "value-" + std::to_string(i)});
    want.emplace_back(lower, "value-" + std::to_string(i));
  }
  NvList list;
  list.addFields(headers, &dropConnection);
  EXPECT_EQ(fieldsOf(list), want);
}

// Names are lowercased and checked eight bytes at a time with a padded last word: every byte
// value at every offset of every length up to three words must give the byte-wise answer
// (capitals lowered, '@' '[' and bytes >= 0x80 kept, CR/LF/NUL refused wherever they are).
TEST(NvListTest, EveryNameByteAtEveryOffsetMatchesTheByteRule) {
  for (size_t len = 1; len <= 24; ++len) {
    for (size_t at = 0; at < len; ++at) {
      for (int b = 0; b < 256; ++b) {
        std::string name(len, 'k');
        name[at] = static_cast<char>(b);
        if (at == 0 && (b == ':' || b == 0)) continue;  // pseudo / checked separately below
        std::string want = name;
        for (char& c : want) {
          if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
        }
        const bool forbidden = b == '\r' || b == '\n' || b == 0;
        const http1::HeaderList headers{{name, "v"}};  // views into it must outlive `list` use
        NvList list;
        list.addFields(headers, &dropConnection);
        const Fields got = fieldsOf(list);
        if (forbidden) {
          EXPECT_TRUE(got.empty()) << "len " << len << " at " << at << " byte " << b;
        } else {
          ASSERT_EQ(got.size(), 1u) << "len " << len << " at " << at << " byte " << b;
          EXPECT_EQ(got[0].first, want) << "len " << len << " at " << at << " byte " << b;
        }
      }
    }
  }
  const http1::HeaderList nul_first{{std::string("\0x", 2), "v"}};
  NvList list;
  list.addFields(nul_first, &dropConnection);
  EXPECT_TRUE(fieldsOf(list).empty());
}

// Many names in one list: each lowered copy sits right after the previous one (whole-word
// writes past a name's end must not clobber an earlier name).
TEST(NvListTest, LoweredNamesPackedBackToBack) {
  const http1::HeaderList headers{{"A", "1"}, {"Bc", "2"}, {"DEF", "3"},     {"Ghijklmnopq", "4"},
                                  {"R", "5"}, {"x", "6"},  {"STUVWXYZ", "7"}};
  NvList list;
  list.addFields(headers, &dropConnection);
  EXPECT_EQ(fieldsOf(list), (Fields{{"a", "1"},
                                    {"bc", "2"},
                                    {"def", "3"},
                                    {"ghijklmnopq", "4"},
                                    {"r", "5"},
                                    {"x", "6"},
                                    {"stuvwxyz", "7"}}));
}

}  // namespace
}  // namespace baton::proxy::http2
