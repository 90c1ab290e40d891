// Loader: the admin socket, token and host drain keys.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "conf/loader.h"
#include "tests/unit/conf/loader_test_util.h"

namespace baton::conf {
namespace {

using test::base;
using test::errorOf;
using test::lineAfterBase;
using test::load;

TEST(AdminKeys, Defaults) {
  const ConfigSpec spec = load(base());
  EXPECT_EQ(spec.admin.socket_path, "");
  EXPECT_EQ(spec.admin.socket_mode, 0600u);
  EXPECT_TRUE(spec.admin.socket_uids.empty());
  EXPECT_EQ(spec.admin.token, "");
  EXPECT_EQ(spec.timeouts.host_drain, std::chrono::seconds(60));
}

TEST(AdminKeys, EveryKey) {
  const ConfigSpec spec = load(base() + R"(
[timeouts]
host_drain = "0s"
[admin]
socket = "/run/baton/admin.sock"
socket_mode = "0660"
socket_uids = [1000, 1001]
socket_gids = [27]
token = "t0ken"
)");
  EXPECT_EQ(spec.admin.socket_path, "/run/baton/admin.sock");
  EXPECT_EQ(spec.admin.socket_mode, 0660u);
  EXPECT_EQ(spec.admin.socket_uids, (std::vector<uint32_t>{1000, 1001}));
  EXPECT_EQ(spec.admin.socket_gids, (std::vector<uint32_t>{27}));
  EXPECT_EQ(spec.admin.token, "t0ken");
  EXPECT_EQ(spec.timeouts.host_drain, std::chrono::milliseconds(0));
}

TEST(AdminKeys, TokenFile) {
  const std::string path = ::testing::TempDir() + "/baton_token";
  {
    std::ofstream out(path);
    out << "from-file  \nsecond line\n";
  }
  const ConfigSpec spec = load(base() + "[admin]\ntoken_file = \"" + path + "\"\n");
  EXPECT_EQ(spec.admin.token, "from-file");
  std::remove(path.c_str());
  EXPECT_EQ(errorOf(base() + "[admin]\ntoken_file = \"" + path + "\"\n"),
            "t.toml:" + lineAfterBase() + ": admin.token_file: cannot read \"" + path + "\"");
}

TEST(AdminKeysErrors, SocketMode) {
  const std::string at = lineAfterBase();
  EXPECT_EQ(errorOf(base() + "[admin]\nsocket_mode = \"0666\"\n"),
            "t.toml:" + at +
                ": admin.socket_mode: must not be writable by others (anyone could drain hosts)");
  EXPECT_EQ(errorOf(base() + "[admin]\nsocket_mode = \"rw\"\n"),
            "t.toml:" + at + ": admin.socket_mode: must be an octal mode like \"0600\"");
  EXPECT_EQ(errorOf(base() + "[admin]\nsocket_mode = 600\n"),
            "t.toml:" + at + ": admin.socket_mode: expected a string, got integer");
  EXPECT_EQ(errorOf(base() + "[admin]\nsocket_uids = [-1]\n"),
            "t.toml:" + at + ": admin.socket_uids[0]: must be 0..4294967295, got -1");
}

}  // namespace
}  // namespace baton::conf
