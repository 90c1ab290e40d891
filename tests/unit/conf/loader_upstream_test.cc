// Loader: [upstream] source_address (the local address of every outgoing connection).
#include <gtest/gtest.h>

#include "conf/loader.h"
#include "conf/value_syntax.h"
#include "tests/unit/conf/loader_test_util.h"

namespace baton::conf {
namespace {

using test::base;
using test::errorOf;
using test::lineAfterBase;
using test::load;

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
  const auto refused = [](const std::string& value) {
    return errorOf(base() + "[upstream]\nsource_address = " + value + "\n");
  };
  const auto notNumeric = [&](const std::string& address) {
    return at + "invalid source address \"" + address +
           "\": expected a numeric IPv4 or IPv6 address, without port or brackets";
  };
  const auto unspecified = [&](const std::string& address) {
    return at + "invalid source address \"" + address +
           "\": the unspecified address means the kernel's choice; leave the key out";
  };
  EXPECT_EQ(refused("\"127.0.0.3:80\""), notNumeric("127.0.0.3:80"));
  EXPECT_EQ(refused("\"[::1]\""), notNumeric("[::1]"));
  EXPECT_EQ(refused("\"edge-1.example.com\""), notNumeric("edge-1.example.com"));
  EXPECT_EQ(refused("\"0.0.0.0\""), unspecified("0.0.0.0"));
  EXPECT_EQ(refused("\"::\""), unspecified("::"));
  EXPECT_EQ(refused("127"), at + "expected a string, got integer");
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
