// One source file per fuzz target, compiled two ways (tests/fuzz/CMakeLists.txt):
//  - with BATON_FUZZ_LIBFUZZER defined, the entry is libFuzzer's LLVMFuzzerTestOneInput and the
//    file is linked alone into a clang -fsanitize=fuzzer binary (BATON_FUZZ=ON);
//  - otherwise the entry is baton::fuzz::<name>(), so every target links into the one GoogleTest
//    binary (replay_test.cc) that replays the committed corpora in every build.
// A target returns 0 and reports a broken invariant through BATON_FUZZ_CHECK, which aborts in
// both builds, so a failed check is a crash to libFuzzer and a death to the replay test.
//
// Single-threaded; no state is kept between inputs except where a target says so.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#ifdef BATON_FUZZ_LIBFUZZER
#define BATON_FUZZ_ENTRY(name) \
  extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
#else
#define BATON_FUZZ_ENTRY(name) int baton::fuzz::name(const uint8_t* data, size_t size)
#endif

// Aborts with the failed condition: libFuzzer saves the input as a crash reproducer.
#define BATON_FUZZ_CHECK(cond)                                                               \
  do {                                                                                       \
    if (!(cond)) {                                                                           \
      std::fprintf(stderr, "%s:%d: fuzz invariant failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                          \
    }                                                                                        \
  } while (0)

// For string outcomes: prints both sides (non-printable bytes as \xHH) before aborting.
#define BATON_FUZZ_CHECK_EQ(a, b)                                                                \
  do {                                                                                           \
    if (!((a) == (b))) {                                                                         \
      std::fprintf(stderr, "%s:%d: fuzz invariant failed: %s == %s\n--- %s\n--- %s\n", __FILE__, \
                   __LINE__, #a, #b, baton::fuzz::escape(a).c_str(),                             \
                   baton::fuzz::escape(b).c_str());                                              \
      std::abort();                                                                              \
    }                                                                                            \
  } while (0)

namespace baton::fuzz {
inline std::string escape(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (c == '\n' || (c >= 0x20 && c < 0x7f)) {
      out += static_cast<char>(c);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02X", c);
      out += buf;
    }
  }
  return out;
}

// The entries, named after their corpus directory (tests/fuzz/corpus/<name>/).
int request_line(const uint8_t* data, size_t size);
int server_codec(const uint8_t* data, size_t size);
int client_codec(const uint8_t* data, size_t size);
int chunked(const uint8_t* data, size_t size);
int request_target(const uint8_t* data, size_t size);
int config_loader(const uint8_t* data, size_t size);
int marathon_apps(const uint8_t* data, size_t size);

// Split points for "same bytes, any split" checks: a deterministic pseudo-random sequence of
// piece lengths (1..max_piece) derived from the input itself, so a reproducer replays exactly.
class SplitPlan {
 public:
  SplitPlan(const uint8_t* data, size_t size, size_t max_piece) : max_piece_(max_piece) {
    state_ = 1469598103934665603ull;  // FNV-1a over the input seeds the sequence
    for (size_t i = 0; i < size; ++i) state_ = (state_ ^ data[i]) * 1099511628211ull;
  }
  size_t next() {
    state_ = state_ * 6364136223846793005ull + 1442695040888963407ull;
    return 1 + static_cast<size_t>((state_ >> 33) % max_piece_);
  }

 private:
  uint64_t state_;
  size_t max_piece_;
};
}  // namespace baton::fuzz
