// TlsManager: contexts are kept only once a publish accepts them (commit), and TLS going away
// forgets them, so TLS coming back builds afresh (and re-arms the file watch and rotation).
#include "proxy/tls_manager.h"

#include <gtest/gtest.h>

#include "tests/unit/proxy/tls/tls_test_support.h"

namespace baton::proxy {
namespace {

using tls::testing::makeCertificate;
using tls::testing::TempDir;
using tls::testing::writeCertificate;

class TlsManagerTest : public ::testing::Test {
 protected:
  conf::ConfigSpec withTls() {
    conf::ConfigSpec config;
    conf::ListenerSpec listener;
    listener.name = "https";
    listener.tls = true;
    config.listeners.push_back(listener);
    config.tls.certificates = {writeCertificate(dir_, "a", makeCertificate("a", {"a.test"}))};
    return config;
  }
  TempDir dir_;
  core::EventLoop loop_;
  TlsManager manager_{loop_, [] { return std::string(); }};
};

TEST_F(TlsManagerTest, KeepsOnlyCommittedContextsAndForgetsThemWithoutTls) {
  const conf::ConfigSpec tls = withTls();
  auto first = manager_.contextsFor(tls, true);
  ASSERT_TRUE(first.has_value() && *first) << (first ? "" : first.error().detail);
  manager_.commit();
  auto same = manager_.contextsFor(tls, false);  // a Marathon publish, nothing changed: reused
  ASSERT_TRUE(same.has_value());
  EXPECT_EQ(same->get(), first->get());
  // A build whose publish is refused (no commit) is not kept: the next publish builds again.
  auto refused = manager_.contextsFor(tls, true);
  ASSERT_TRUE(refused.has_value());
  EXPECT_NE(refused->get(), first->get());
  auto after_refusal = manager_.contextsFor(tls, false);
  ASSERT_TRUE(after_refusal.has_value());
  EXPECT_NE(after_refusal->get(), first->get());
  manager_.commit();
  // No TLS listener any more (the one SSL_CERT app deleted), then back: built afresh.
  auto none = manager_.contextsFor(conf::ConfigSpec{}, false);
  ASSERT_TRUE(none.has_value());
  EXPECT_EQ(none->get(), nullptr);
  manager_.commit();
  auto back = manager_.contextsFor(tls, false);
  ASSERT_TRUE(back.has_value() && *back);
  EXPECT_NE(back->get(), after_refusal->get());
}

}  // namespace
}  // namespace baton::proxy
