// Loader: [upstream] source_address (the local address of every outgoing connection).
#include <gtest/gtest.h>

#include <algorithm>

#include "conf/loader.h"
#include "conf/value_syntax.h"
#include "tests/unit/conf/loader_test_util.h"

namespace baton::conf {
namespace {

using test::base;
using test::errorOf;
using test::load;

// The line of the first key after base() and a one-line section header.
std::string lineAfterBase() {
  const std::string text = base();
  return std::to_string(std::count(text.begin(), text.end(), '\n') + 2);
}

TEST(UpstreamKeys, DefaultIsTheKernelsChoice) {
  EXPECT_EQ(load(base()).upstream.source_address, "");
  EXPECT_EQ(load(base() + "[upstream]\nsource_address = \"\"\n").upstream.source_address, "");
}

TEST(UpstreamKeys, SourceAddressIsStoredCanonical) {
  EXPECT_EQ(load(base() + "[upstream]\nsource_address = \"127.0.0.3\"\n").upstream.source_address,
            "127.0.0.3");
  EXPECT_EQ(
      load(base() + "[upstream]\nsource_address = \"fd00:0:0::0001\"\n").upstream.source_address,
      "fd00::1");
}

TEST(UpstreamKeys, RefusedWithFileLineAndKey) {
  const std::string at = "t.toml:" + lineAfterBase() + ": upstream.source_address: ";
  EXPECT_EQ(errorOf(base() + "[upstream]\nsource_address = \"127.0.0.3:80\"\n"),
            at + "invalid source address \"127.0.0.3:80\": expected a numeric IPv4 or IPv6 "
                 "address, without port or brackets");
  EXPECT_EQ(errorOf(base() + "[upstream]\nsource_address = \"[::1]\"\n"),
            at + "invalid source address \"[::1]\": expected a numeric IPv4 or IPv6 address, "
                 "without port or brackets");
  EXPECT_EQ(errorOf(base() + "[upstream]\nsource_address = \"edge-1.example.com\"\n"),
            at + "invalid source address \"edge-1.example.com\": expected a numeric IPv4 or IPv6 "
                 "address, without port or brackets");
  EXPECT_EQ(errorOf(base() + "[upstream]\nsource_address = \"0.0.0.0\"\n"),
            at + "invalid source address \"0.0.0.0\": the unspecified address means the kernel's "
                 "choice; leave the key out");
  EXPECT_EQ(errorOf(base() + "[upstream]\nsource_address = \"::\"\n"),
            at + "invalid source address \"::\": the unspecified address means the kernel's "
                 "choice; leave the key out");
  EXPECT_EQ(errorOf(base() + "[upstream]\nsource_address = 127\n"),
            at + "expected a string, got integer");
  EXPECT_EQ(errorOf(base() + "[upstream]\nsource = \"127.0.0.3\"\n")
                .rfind("t.toml:" + lineAfterBase() + ": upstream.source: unknown key", 0),
            0u);
}

TEST(UpstreamKeys, NormaliseSourceAddress) {
  EXPECT_EQ(normaliseSourceAddress("10.1.2.3").value(), "10.1.2.3");
  EXPECT_EQ(normaliseSourceAddress("::FFFF:10.1.2.3").value(), "::ffff:10.1.2.3");
  EXPECT_FALSE(normaliseSourceAddress("10.1.2"));
  EXPECT_FALSE(normaliseSourceAddress(" 10.1.2.3"));
  EXPECT_FALSE(normaliseSourceAddress(""));
}

}  // namespace
}  // namespace baton::conf
