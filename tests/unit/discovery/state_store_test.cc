#include "discovery/state_store.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace baton::discovery {
namespace {

namespace fs = std::filesystem;

class StateStore : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("baton-state-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    path_ = (dir_ / "apps.state").string();
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string slurp() {
    std::ifstream in(path_, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  void write(const std::string& content) {
    std::ofstream out(path_, std::ios::binary | std::ios::trunc);
    out << content;
  }
  fs::path dir_;
  std::string path_;
};

TEST_F(StateStore, Roundtrip) {
  const std::string doc("{\"apps\":[{\"id\":\"/a\"}]}\n\0binary\r\ntail", 36);
  ASSERT_TRUE(saveState(path_, doc));
  auto loaded = loadState(path_);
  ASSERT_TRUE(loaded) << loaded.error().detail;
  EXPECT_EQ(*loaded, doc);
  EXPECT_EQ(loaded->size(), 36u);
}

TEST_F(StateStore, EmptyDocumentRoundtrips) {
  ASSERT_TRUE(saveState(path_, ""));
  auto loaded = loadState(path_);
  ASSERT_TRUE(loaded);
  EXPECT_EQ(*loaded, "");
}

TEST_F(StateStore, ReplaceLeavesNoTempFile) {
  ASSERT_TRUE(saveState(path_, "{\"apps\":[]}"));
  ASSERT_TRUE(saveState(path_, "{\"apps\":[1]}"));
  size_t files = 0;
  for (const auto& entry : fs::directory_iterator(dir_)) {
    ++files;
    EXPECT_EQ(entry.path().filename(), "apps.state");
  }
  EXPECT_EQ(files, 1u);
  EXPECT_EQ(*loadState(path_), "{\"apps\":[1]}");
}

TEST_F(StateStore, TornFileRefused) {
  ASSERT_TRUE(saveState(path_, "{\"apps\":[{\"id\":\"/a\"},{\"id\":\"/b\"}]}"));
  const std::string full = slurp();
  write(full.substr(0, full.size() - 5));
  auto loaded = loadState(path_);
  ASSERT_FALSE(loaded);
  EXPECT_NE(loaded.error().detail.find("checksum"), std::string::npos);
}

TEST_F(StateStore, EditedFileRefused) {
  ASSERT_TRUE(saveState(path_, "{\"apps\":[{\"id\":\"/a\"}]}"));
  std::string full = slurp();
  full[full.size() - 4] = 'b';  // same length, different bytes
  write(full);
  EXPECT_FALSE(loadState(path_));
}

TEST_F(StateStore, HeaderlessAndMissingFilesRefused) {
  write("{\"apps\":[]}");
  EXPECT_FALSE(loadState(path_));
  EXPECT_FALSE(loadState((dir_ / "absent").string()));
}

TEST_F(StateStore, UnwritableDirectoryIsAnError) {
  EXPECT_FALSE(saveState((dir_ / "no" / "such" / "dir" / "f").string(), "x"));
}

}  // namespace
}  // namespace baton::discovery
