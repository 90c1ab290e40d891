// The split's app walk: scanApp (64 bytes a step) gives exactly what the byte walk gives (end,
// print, id) on random valid apps full of what trips a block walk: escapes and backslash runs
// across block boundaries, brackets and quotes inside strings, "id" and healthCheckResults keys
// at every depth and as values, long strings.
#include "discovery/model/app_print.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace baton::discovery {
namespace {

class RandomApps {
 public:
  explicit RandomApps(uint32_t seed) : rng_(seed) {}

  std::string app() {
    std::string out = "{";
    if (pick(4) != 0) out += R"("id":)" + string() + ",";  // usually the id first
    const int members = 1 + pick(6);
    for (int i = 0; i < members; ++i) {
      if (i > 0) out += comma();
      out += member(1);
    }
    return out + space() + "}";
  }

 private:
  int pick(int n) { return static_cast<int>(rng_() % static_cast<uint32_t>(n)); }
  std::string space() {
    static const char* kSpaces[] = {"", "", "", " ", "\n  ", "\t", "\r\n"};
    return kSpaces[pick(7)];
  }
  std::string comma() { return space() + "," + space(); }

  std::string string() {
    std::string out = "\"";
    const int length = pick(5) == 0 ? 40 + pick(100) : pick(12);
    for (int i = 0; i < length; ++i) {
      switch (pick(14)) {
        case 0:
          out += "\\\"";
          break;
        case 1:
          out += "\\\\";
          break;
        case 2:
          out += std::string(static_cast<size_t>(2 * (1 + pick(3))), '\\');
          break;
        case 3:
          out += "\\u00e9";
          break;
        case 4:
          out += "{[]}";
          break;
        case 5:
          out += "\\/";
          break;
        case 6:
          out += "\xe4\xb8\xad";
          break;  // UTF-8
        case 7:
          out += "id";
          break;
        case 8:
          out += "\\\"id\\\":";
          break;
        default:
          out += static_cast<char>('a' + pick(26));
      }
    }
    return out + "\"";
  }

  std::string key() {
    switch (pick(8)) {
      case 0:
        return R"("id")";
      case 1:
        return R"("healthCheckResults")";
      case 2:
        return R"("alive")";
      case 3:
        return R"("i\u0064")";
      default:
        return string();
    }
  }

  std::string scalar() {
    switch (pick(9)) {
      case 0:
        return "true";
      case 1:
        return "false";
      case 2:
        return "null";
      case 3:
        return "-12";
      case 4:
        return "0";
      case 5:
        return "3.25e2";
      case 6:
        return R"("id")";
      case 7:
        return R"("healthCheckResults")";
      default:
        return string();
    }
  }

  std::string results(int depth) {
    std::string out = "[" + space();
    const int items = pick(4);
    for (int i = 0; i < items; ++i) {
      if (i > 0) out += comma();
      out += "{";
      const int members = pick(4);
      for (int m = 0; m < members; ++m) {
        if (m > 0) out += ",";
        out += (pick(3) == 0 ? std::string(R"("alive")") : key()) + ":" + space() +
               (pick(5) == 0 ? value(depth + 1) : scalar());
      }
      out += "}";
    }
    return out + space() + "]";
  }

  std::string member(int depth) {
    std::string name = key();
    std::string out = name + space() + ":" + space();
    if (name == R"("healthCheckResults")" && pick(3) != 0) return out + results(depth);
    return out + value(depth);
  }

  std::string value(int depth) {
    const int kind = depth > 5 ? 0 : pick(4);
    if (kind == 0 || kind == 1) return scalar();
    if (kind == 2) {
      std::string out = "[" + space();
      const int items = pick(4);
      for (int i = 0; i < items; ++i) out += (i > 0 ? comma() : "") + value(depth + 1);
      return out + "]";
    }
    std::string out = "{";
    const int members = pick(4);
    for (int i = 0; i < members; ++i) out += (i > 0 ? comma() : space()) + member(depth + 1);
    return out + "}";
  }

  std::mt19937 rng_;
};

struct Walked {
  size_t end;
  SpanPrint print;
  std::string id;  // print.id, copied: the walked bytes are gone when it is read
};

// Both walks over `doc` (given 64 zero bytes of padding) from `pos`.
std::pair<Walked, Walked> walkBoth(const std::string& doc, size_t pos) {
  std::string padded = doc + std::string(64, '\0');
  const std::string_view view(padded.data(), doc.size());
  Walked blocks{};
  Walked bytes{};
  blocks.end = scanApp(view, pos, blocks.print);
  bytes.end = scanAppByteWalk(view, pos, bytes.print);
  blocks.id = blocks.print.id;
  bytes.id = bytes.print.id;
  blocks.print.id = bytes.print.id = {};
  return {blocks, bytes};
}

void expectSame(const std::string& doc, size_t pos) {
  const auto [blocks, bytes] = walkBoth(doc, pos);
  ASSERT_EQ(blocks.end, bytes.end) << doc;
  EXPECT_EQ(blocks.print.value, bytes.print.value) << doc;
  EXPECT_EQ(blocks.id, bytes.id) << doc;
  EXPECT_EQ(blocks.print.usable, bytes.print.usable) << doc;
}

TEST(AppPrintTest, BlockWalkMatchesTheByteWalkOnRandomApps) {
  RandomApps apps(20261127);
  for (int round = 0; round < 3000; ++round) {
    // A few apps in an array, each walked from its start at every alignment of the prefix.
    const std::string app = apps.app();
    for (size_t lead : {0u, 1u, 7u, 31u, 63u}) {
      expectSame(std::string(lead, ' ') + app + ",{}]", lead);
    }
  }
}

TEST(AppPrintTest, ATruncatedAppNeverEnds) {
  RandomApps apps(7);
  for (int round = 0; round < 300; ++round) {
    const std::string app = apps.app();
    for (size_t cut = 1; cut < app.size(); cut += 1 + app.size() / 40) {
      const auto [blocks, bytes] = walkBoth(app.substr(0, cut), 0);
      EXPECT_EQ(blocks.end, std::string_view::npos) << app.substr(0, cut);
      EXPECT_EQ(bytes.end, std::string_view::npos) << app.substr(0, cut);
    }
  }
}

TEST(AppPrintTest, LastSuccessIsLeftOutOfThePrintAliveIsNot) {
  const auto walk = [](const std::string& app) { return walkBoth(app, 0).first; };
  const std::string a =
      R"({"id":"/a","tasks":[{"healthCheckResults":[{"alive":true,"lastSuccess":"t1"}]}]})";
  const std::string b =
      R"({"id":"/a","tasks":[{"healthCheckResults":[{"alive":true,"lastSuccess":"t2"}]}]})";
  const std::string c =
      R"({"id":"/a","tasks":[{"healthCheckResults":[{"alive":false,"lastSuccess":"t2"}]}]})";
  EXPECT_EQ(walk(a).print.value, walk(b).print.value);
  EXPECT_NE(walk(b).print.value, walk(c).print.value);
  EXPECT_EQ(walk(a).id, "/a");
  EXPECT_TRUE(walk(a).print.usable);
  EXPECT_FALSE(walk(R"({"id":"/a\/b"})").print.usable);  // an escaped id: looked up by its DOM
}

// A result's string value is left out only when it is plain ASCII (nothing that could hide an
// escape or invalid bytes): at every length and every position of the offending byte, around
// the 16-byte steps the string scan takes.
TEST(AppPrintTest, OnlyPlainStringValuesAreLeftOut) {
  const auto print = [](const std::string& value) {
    const std::string app = R"({"id":"/a","tasks":[{"healthCheckResults":[{"alive":true,)"
                            R"("lastSuccess":")" +
                            value + R"("}]}]})";
    const auto [blocks, bytes] = walkBoth(app, 0);
    EXPECT_EQ(blocks.print.value, bytes.print.value) << app;
    EXPECT_NE(blocks.end, std::string_view::npos) << app;
    return blocks.print.value;
  };
  const uint64_t plain = print("2026-11-27T22:15:00.000Z");
  for (size_t length = 0; length < 50; ++length) {
    EXPECT_EQ(print(std::string(length, 'x')), plain) << length;
    for (size_t at = 0; at < length; ++at) {
      for (const std::string bad : {"\\u00e9", "\\\\", "\xc3\xa9", "\x7f", "\x01", "\t"}) {
        std::string value(length, 'x');
        value.replace(at, 1, bad);
        EXPECT_NE(print(value), plain) << length << " at " << at << ": " << value;
      }
    }
  }
}

}  // namespace
}  // namespace baton::discovery
