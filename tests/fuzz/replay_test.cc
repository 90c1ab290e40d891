// Replays every committed corpus file of every fuzz target through the target's entry, in the
// ordinary build (g++, with or without BATON_SANITIZE): the seeds and every fixed crash
// reproducer stay green in CI without libFuzzer. One test per target; a failed invariant aborts
// the binary (BATON_FUZZ_CHECK), so the test's output names the file last replayed.
//
// BATON_FUZZ_CORPUS_DIR is set by tests/fuzz/CMakeLists.txt to tests/fuzz/corpus.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <ostream>
#include <string>
#include <vector>

#include "tests/fuzz/fuzz_target.h"

namespace {

struct Target {
  const char* name;  // corpus directory
  int (*entry)(const uint8_t*, size_t);
};

const Target kTargets[] = {
    {"request_line", baton::fuzz::request_line},     {"server_codec", baton::fuzz::server_codec},
    {"client_codec", baton::fuzz::client_codec},     {"chunked", baton::fuzz::chunked},
    {"request_target", baton::fuzz::request_target}, {"config_loader", baton::fuzz::config_loader},
    {"marathon_apps", baton::fuzz::marathon_apps},
};

// Names the parameter in test listings (ctest -N) instead of its bytes.
void PrintTo(const Target& target, std::ostream* os) {
  *os << target.name;
}

std::vector<std::filesystem::path> corpusFiles(const char* target) {
  std::vector<std::filesystem::path> files;
  const auto dir = std::filesystem::path(BATON_FUZZ_CORPUS_DIR) / target;
  if (!std::filesystem::is_directory(dir)) return files;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    if (entry.is_regular_file()) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

class FuzzReplayTest : public ::testing::TestWithParam<Target> {};

TEST_P(FuzzReplayTest, CorpusReplays) {
  const Target& target = GetParam();
  const auto files = corpusFiles(target.name);
  // An empty corpus is a packaging mistake (wrong directory), not a pass.
  ASSERT_FALSE(files.empty()) << "no corpus under " << BATON_FUZZ_CORPUS_DIR << "/" << target.name;
  for (const auto& file : files) {
    std::ifstream in(file, std::ios::binary);
    ASSERT_TRUE(in) << file;
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    // Printed before the run: if an invariant aborts, the last line names the input.
    std::fprintf(stderr, "replay %s\n", file.c_str());
    EXPECT_EQ(target.entry(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()), 0)
        << file;
  }
  std::fprintf(stderr, "%s: %zu inputs replayed\n", target.name, files.size());
}

INSTANTIATE_TEST_SUITE_P(Targets, FuzzReplayTest, ::testing::ValuesIn(kTargets),
                         [](const ::testing::TestParamInfo<Target>& info) {
                           return std::string(info.param.name);
                         });

}  // namespace
