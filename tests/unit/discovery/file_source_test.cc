#include "discovery/file_source.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "fake_server.h"

namespace baton::discovery {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using testing::runFor;
using testing::runUntil;

class FileSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("baton-filesrc-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    path_ = (dir_ / "apps.json").string();
  }
  void TearDown() override { fs::remove_all(dir_); }
  void write(const fs::path& p, const std::string& content) {
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out << content;
  }
  std::unique_ptr<Source> make() {
    conf::MarathonSpec spec;
    spec.urls = {"file:" + path_};
    Source::Callbacks cb;
    cb.on_document = [this](std::string body) { documents_.push_back(std::move(body)); };
    cb.on_error = [this](const std::string& e) { errors_.push_back(e); };
    auto source = createSource(loop_, spec, std::move(cb));
    EXPECT_TRUE(source) << source.error().detail;
    return std::move(*source);
  }
  core::EventLoop loop_;
  fs::path dir_;
  std::string path_;
  std::vector<std::string> documents_, errors_;
};

TEST_F(FileSourceTest, ReadsAtStartAndAfterRenameIntoPlace) {
  write(path_, "{\"apps\":[]}");
  auto source = make();
  source->start();
  ASSERT_TRUE(runUntil(loop_, [&] { return documents_.size() == 1; }));
  EXPECT_EQ(documents_[0], "{\"apps\":[]}");
  EXPECT_EQ(source->status().kind, "file");
  EXPECT_TRUE(source->status().stream_connected);

  write(dir_ / ".apps.json.tmp", "{\"apps\":[1]}");
  fs::rename(dir_ / ".apps.json.tmp", path_);
  ASSERT_TRUE(runUntil(loop_, [&] { return documents_.size() == 2; }));
  EXPECT_EQ(documents_[1], "{\"apps\":[1]}");
  runFor(loop_, milliseconds{30});
  EXPECT_EQ(documents_.size(), 2u);  // the temp file's own events are not ours
}

TEST_F(FileSourceTest, InPlaceRewriteIsReadOnce) {
  write(path_, "{\"apps\":[]}");
  auto source = make();
  source->start();
  ASSERT_TRUE(runUntil(loop_, [&] { return documents_.size() == 1; }));
  write(path_, "{\"apps\":[2]}");
  ASSERT_TRUE(runUntil(loop_, [&] { return documents_.size() == 2; }));
  EXPECT_EQ(documents_[1], "{\"apps\":[2]}");
  runFor(loop_, milliseconds{30});
  EXPECT_EQ(documents_.size(), 2u);
}

TEST_F(FileSourceTest, MissingFileIsAnErrorThenCreationIsSeen) {
  auto source = make();
  source->start();
  ASSERT_TRUE(runUntil(loop_, [&] { return errors_.size() == 1; }));
  EXPECT_TRUE(documents_.empty());
  EXPECT_EQ(source->status().failures, 1u);
  write(path_, "{\"apps\":[3]}");
  ASSERT_TRUE(runUntil(loop_, [&] { return !documents_.empty(); }));
  EXPECT_EQ(documents_.back(), "{\"apps\":[3]}");
  EXPECT_EQ(source->status().last_error, "");
}

TEST_F(FileSourceTest, ResyncRereads) {
  write(path_, "{}");
  auto source = make();
  source->start();
  ASSERT_TRUE(runUntil(loop_, [&] { return documents_.size() == 1; }));
  source->resync();
  ASSERT_TRUE(runUntil(loop_, [&] { return documents_.size() == 2; }));
}

TEST_F(FileSourceTest, RecycledBufferGivesExactlyTheNewDocument) {
  // The manager hands each body back (Source::recycle); the next read reuses its buffer, which
  // must not leak the previous, longer document's bytes, nor reuse a buffer still delivered.
  const std::string longer = "{\"apps\":[" + std::string(100000, ' ') + "]}";
  write(path_, longer);
  auto source = make();
  source->start();
  ASSERT_TRUE(runUntil(loop_, [&] { return documents_.size() == 1; }));
  ASSERT_EQ(documents_[0], longer);
  const char* buffer = documents_[0].data();
  source->recycle(std::move(documents_[0]));
  source->resync();
  write(path_, "{\"apps\":[]}");
  ASSERT_TRUE(runUntil(loop_, [&] { return documents_.size() == 2; }));
  EXPECT_EQ(documents_[1], "{\"apps\":[]}");
  EXPECT_EQ(documents_[1].data(), buffer);  // read into the recycled buffer
  source->resync();                         // nothing recycled: a fresh buffer
  ASSERT_TRUE(runUntil(loop_, [&] { return documents_.size() == 3; }));
  EXPECT_EQ(documents_[2], "{\"apps\":[]}");
  EXPECT_EQ(documents_[1], "{\"apps\":[]}");
}

TEST_F(FileSourceTest, MissingDirectoryRefusedAtCreate) {
  conf::MarathonSpec spec;
  spec.urls = {"file:" + (dir_ / "nope" / "apps.json").string()};
  EXPECT_FALSE(createSource(loop_, spec, {}));
}

}  // namespace
}  // namespace baton::discovery
