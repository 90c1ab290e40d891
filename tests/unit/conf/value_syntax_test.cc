#include "conf/value_syntax.h"

#include <gtest/gtest.h>

#include <arpa/inet.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace baton::conf {
namespace {

TEST(ListenerAddress, AcceptsNumericForms) {
  for (const char* ok :
       {"127.0.0.1:8080", "0.0.0.0:80", "[::1]:8080", "[::]:0", ":8080", ":0", "127.0.0.1:65535"}) {
    EXPECT_TRUE(checkListenerAddress(ok).has_value()) << ok;
  }
}

TEST(ListenerAddress, RefusesBadForms) {
  for (const char* bad : {"localhost:80", "127.0.0.1", "127.0.0.1:", "127.0.0.1:65536",
                          "127.0.0.1:-1", "127.0.0.1:80a", "::1:80", "[127.0.0.1]:80", "[::1]80",
                          "[::1:80", "", ":", "1.2.3:80", "127.0.0.1:080000", " 127.0.0.1:80"}) {
    EXPECT_FALSE(checkListenerAddress(bad).has_value()) << bad;
  }
}

TEST(HostAddress, RefusesWildcardAndPortZero) {
  EXPECT_TRUE(checkHostAddress("127.0.0.1:9001").has_value());
  EXPECT_TRUE(checkHostAddress("[fd00::1]:9001").has_value());
  EXPECT_FALSE(checkHostAddress(":9001").has_value());
  EXPECT_FALSE(checkHostAddress("127.0.0.1:0").has_value());
  EXPECT_FALSE(checkHostAddress("backend.local:9001").has_value());
}

TEST(Cidr, NormalisesAndChecksHostBits) {
  EXPECT_EQ(normaliseCidr("10.0.0.0/8").value(), "10.0.0.0/8");
  EXPECT_EQ(normaliseCidr("192.168.1.7").value(), "192.168.1.7/32");
  EXPECT_EQ(normaliseCidr("::1").value(), "::1/128");
  EXPECT_EQ(normaliseCidr("fd00::/8").value(), "fd00::/8");
  EXPECT_EQ(normaliseCidr("0.0.0.0/0").value(), "0.0.0.0/0");
  EXPECT_FALSE(normaliseCidr("10.0.0.1/8").has_value());
  EXPECT_FALSE(normaliseCidr("10.0.0.0/33").has_value());
  EXPECT_FALSE(normaliseCidr("10.0.0.0/").has_value());
  EXPECT_FALSE(normaliseCidr("10.0.0.0/8/8").has_value());
  EXPECT_FALSE(normaliseCidr("fd00::/129").has_value());
  EXPECT_FALSE(normaliseCidr("example.com/8").has_value());
  EXPECT_FALSE(normaliseCidr("").has_value());
}

TEST(Domain, AcceptsExactWildcardDefaultAndLowercases) {
  EXPECT_EQ(normaliseDomain("*").value(), "*");
  EXPECT_EQ(normaliseDomain("Example.COM").value(), "example.com");
  EXPECT_EQ(normaliseDomain("*.example.com").value(), "*.example.com");
  EXPECT_EQ(normaliseDomain("xn--bcher-kva.example").value(), "xn--bcher-kva.example");
  EXPECT_EQ(normaliseDomain("localhost").value(), "localhost");
}

TEST(Domain, RefusesBadForms) {
  for (const char* bad :
       {"", "example.com:80", "a..b", ".example.com", "example.com.", "*.", "**.example.com",
        "a.*.com", "*example.com", "exa mple.com", "bücher.example"}) {
    EXPECT_FALSE(normaliseDomain(bad).has_value()) << bad;
  }
}

TEST(RoutePrefix, Checks) {
  EXPECT_TRUE(checkRoutePrefix("/").has_value());
  EXPECT_TRUE(checkRoutePrefix("/api/v1").has_value());
  EXPECT_TRUE(checkRoutePrefix("/电影").has_value());
  EXPECT_TRUE(checkRoutePrefix("/%E7%94%B5").has_value());
  EXPECT_FALSE(checkRoutePrefix("api").has_value());
  EXPECT_FALSE(checkRoutePrefix("").has_value());
  EXPECT_FALSE(checkRoutePrefix("/a b").has_value());
  EXPECT_FALSE(checkRoutePrefix("/a?b").has_value());
  EXPECT_FALSE(checkRoutePrefix("/a#b").has_value());
  EXPECT_FALSE(checkRoutePrefix("/a\tb").has_value());
  EXPECT_FALSE(checkRoutePrefix("/a\x7f").has_value());
}

TEST(RedirectPath, Checks) {
  for (const char* ok : {"/", "/index.html", "/a/b%20c", "/~user/x;y=1"}) {
    EXPECT_TRUE(checkRedirectPath(ok).has_value()) << ok;
  }
  for (const char* bad : {"", "index.html", "/a b", "/a\r\nSet-Cookie: x", "/a?b", "/a#b",
                          "/\xe7\x94\xb5", "/a\x7f", "//evil\tx"}) {
    EXPECT_FALSE(checkRedirectPath(bad).has_value()) << bad;
  }
  EXPECT_EQ(checkRedirectPath("x").error().detail, "path \"x\" must start with \"/\"");
}

TEST(HostHeader, AcceptsNamesAndAddressesWithOptionalPort) {
  for (const char* ok : {"example.com", "Example.COM:8080", "app.internal", "10.0.0.1",
                         "10.0.0.1:80", "[::1]", "[fd00::1]:443", "a_b-c"}) {
    EXPECT_TRUE(checkHostHeader(ok).has_value()) << ok;
  }
  for (const char* bad : {"", "ex ample.com", "example.com\r\nX: y", "example.com:", ":80",
                          "example.com:0", "example.com:65536", "example.com:8o", "::1", "[::1",
                          "[1.2.3.4]:80", "*.example.com", "a..b", "user@host"}) {
    EXPECT_FALSE(checkHostHeader(bad).has_value()) << bad;
  }
  EXPECT_EQ(checkHostHeader("a:0").error().detail, "invalid port in \"a:0\": must be 1..65535");
}

TEST(CookieName, IsAToken) {
  for (const char* ok : {"mesosphere_server_id", "SERVERID", "a!#$%&'*+-.^_`|~9"}) {
    EXPECT_TRUE(checkCookieName(ok).has_value()) << ok;
  }
  for (const char* bad : {"", "a b", "a=b", "a;b", "a\"b", "a,b", "caf\xc3\xa9"}) {
    EXPECT_FALSE(checkCookieName(bad).has_value()) << bad;
  }
  EXPECT_FALSE(checkCookieName(std::string(65, 'a')).has_value());
}

TEST(BasicAuth, RealmUserAndHash) {
  EXPECT_TRUE(checkAuthRealm("Restricted area").has_value());
  EXPECT_FALSE(checkAuthRealm("").has_value());
  EXPECT_FALSE(checkAuthRealm("say \"hi\"").has_value());
  EXPECT_FALSE(checkAuthRealm("back\\slash").has_value());
  EXPECT_FALSE(checkAuthRealm("a\nb").has_value());
  EXPECT_TRUE(checkAuthUser("alice").has_value());
  EXPECT_TRUE(checkAuthUser("alice smith").has_value());
  EXPECT_FALSE(checkAuthUser("").has_value());
  EXPECT_FALSE(checkAuthUser("a:b").has_value());
  EXPECT_FALSE(checkAuthUser("a\tb").has_value());
  for (const char* ok :
       {"$6$saltsalt$qFmFH.bQmmtXzyBY0s9v7Oicd2z4XSIecDzlB5KiA2/"
        "jctKu9YterLp8wwnSq.qc.eoxqOmSuNp2xS0ktL3nh/",
        "$5$rounds=5000$salt$hash", "$1$abc$def", "$y$j9T$salt$hash", "$2b$10$abcdefghijk"}) {
    EXPECT_TRUE(checkCryptHash(ok).has_value()) << ok;
  }
  for (const char* bad :
       {"", "hunter2", "$", "$6", "$6$", "$$salt$hash", "$6$salt$", "$6$sa lt$h", "$6$salt$h\n"}) {
    EXPECT_FALSE(checkCryptHash(bad).has_value()) << bad;
  }
  // The refusal never echoes the value: it may be a real password.
  const std::string plain = checkCryptHash("hunter2").error().detail;
  EXPECT_EQ(plain.find("hunter2"), std::string::npos);
  EXPECT_NE(plain.find("plain-text passwords are refused"), std::string::npos) << plain;
}

TEST(MarathonUrl, Checks) {
  for (const char* ok : {"http://marathon.mesos:8080", "https://10.0.0.1:8443/marathon",
                         "http://[fd00::1]:8080/", "http://marathon", "HTTP://x:1"}) {
    EXPECT_EQ(checkMarathonUrl(ok).has_value(), std::string_view(ok) != "HTTP://x:1") << ok;
  }
  for (const char* bad :
       {"", "marathon:8080", "ftp://m:21", "http://", "http://:8080", "http://m:0",
        "http://m:99999", "http://user:pw@m:8080", "http://m:8080/a b", "http://m:8080/?x=1",
        "http://m:8080/#f", "http://m :8080", "file:/x"}) {
    EXPECT_FALSE(checkMarathonUrl(bad).has_value()) << bad;
  }
  EXPECT_EQ(checkMarathonUrl("http://u:p@m:1").error().detail,
            "invalid URL \"http://u:p@m:1\": no user info in the URL (use marathon.username / "
            "marathon.password)");
}

TEST(DnsNameIpGroupHeader, Checks) {
  EXPECT_EQ(normaliseDnsName("Marathon.Example.COM").value(), "marathon.example.com");
  EXPECT_FALSE(normaliseDnsName("*.example.com").has_value());
  EXPECT_FALSE(normaliseDnsName("*").has_value());
  EXPECT_FALSE(normaliseDnsName("example.com.").has_value());
  EXPECT_FALSE(normaliseDnsName("").has_value());
  EXPECT_TRUE(checkNumericIp("0.0.0.0").has_value());
  EXPECT_TRUE(checkNumericIp("::").has_value());
  EXPECT_TRUE(checkNumericIp("fd00::1").has_value());
  EXPECT_FALSE(checkNumericIp("[::1]").has_value());
  EXPECT_FALSE(checkNumericIp("localhost").has_value());
  EXPECT_FALSE(checkNumericIp("10.0.0.1:80").has_value());
  EXPECT_TRUE(checkMarathonGroup("*").has_value());
  EXPECT_TRUE(checkMarathonGroup("external").has_value());
  EXPECT_FALSE(checkMarathonGroup("").has_value());
  EXPECT_FALSE(checkMarathonGroup("a,b").has_value());
  EXPECT_FALSE(checkMarathonGroup("a b").has_value());
  EXPECT_TRUE(checkHeaderSafe("").has_value());
  EXPECT_TRUE(checkHeaderSafe("p@ss w0rd:!").has_value());
  EXPECT_FALSE(checkHeaderSafe("a\r\nb").has_value());
  EXPECT_FALSE(checkHeaderSafe(std::string("a\0b", 3)).has_value());
}

TEST(AppId, NormalisesAndRefuses) {
  EXPECT_EQ(normaliseAppId("/shop/web").value(), "/shop/web");
  EXPECT_EQ(normaliseAppId("/Shop/Web-1.v2").value(), "/shop/web-1.v2");
  for (const char* bad : {"", "/", "shop/web", "/shop/", "//web", "/sh op", "/a?b", "/a:80"}) {
    EXPECT_FALSE(normaliseAppId(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace baton::conf

namespace baton::conf {
namespace {

// parseIpv4 reads exactly what inet_pton(AF_INET) reads: every string of digits and dots up to
// 16 bytes long from a fixed pseudo-random sequence, plus the edge cases by hand.
TEST(ParseIpv4, AgreesWithInetPton) {
  auto agrees = [](const std::string& text) {
    in_addr expected{};
    const bool ok = inet_pton(AF_INET, text.c_str(), &expected) == 1;
    const auto got = parseIpv4(text);
    ASSERT_EQ(got.has_value(), ok) << '"' << text << '"';
    if (ok) {
      EXPECT_EQ(std::memcmp(got->data(), &expected, 4), 0) << text;
    }
  };
  for (const char* text :
       {"0.0.0.0",    "255.255.255.255", "10.0.6.25", "1.2.3.4",  "256.1.1.1", "1.2.3",
        "1.2.3.4.5",  "01.2.3.4",        "1.2.3.00",  "1..2.3",   ".1.2.3",    "1.2.3.",
        "",           "1.2.3.4 ",        " 1.2.3.4",  "1.2.3.-4", "1.2.3.4a",  "0x1.2.3.4",
        "1000.1.1.1", "1.2.3.2555",      "127.1"}) {
    agrees(text);
  }
  uint64_t state = 0x9E3779B97F4A7C15ULL;
  auto next = [&] {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  };
  static constexpr char kBytes[] = "0123456789..12";  // dots and small digits often
  for (int i = 0; i < 200000; ++i) {
    std::string text(next() % 17, '\0');
    for (char& c : text) c = kBytes[next() % (sizeof kBytes - 1)];
    agrees(text);
  }
  EXPECT_FALSE(parseIpv4(std::string_view("1.2.3.4\0", 8)).has_value());
}

TEST(ParseIpv6, AgreesWithInetPtonAndRefusesEmbeddedNul) {
  for (const char* text : {"::", "::1", "fd00::5", "::ffff:10.0.0.1", "1:2:3:4:5:6:7:8", "1::2::3",
                           "1:2:3:4:5:6:7:8:9", "10.0.0.1", "[::1]", "fe80::1%eth0", ""}) {
    in6_addr expected{};
    const bool ok = inet_pton(AF_INET6, text, &expected) == 1;
    const auto got = parseIpv6(text);
    ASSERT_EQ(got.has_value(), ok) << text;
    if (ok) {
      EXPECT_EQ(std::memcmp(got->data(), &expected, 16), 0) << text;
    }
    EXPECT_EQ(isNumericIp(text), ok || parseIpv4(text).has_value()) << text;
  }
  EXPECT_FALSE(parseIpv6(std::string_view("::1\0x", 5)).has_value());
  EXPECT_FALSE(parseIpv6(std::string(64, ':')).has_value());
}

}  // namespace
}  // namespace baton::conf
