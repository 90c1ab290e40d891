// Route basic_auth: Authorization header parsing (base64, scheme case, padding, ':' in the
// password), crypt(3) verification for the hash methods marathon-lb users generate, and the
// WWW-Authenticate value.
#include "proxy/basic_auth.h"

#include <gtest/gtest.h>

namespace baton::proxy {
namespace {

// python3: crypt.crypt('s3cret', '$6$saltsalt$'), crypt.crypt('pa:ss', '$5$abc$'),
// crypt.crypt('old', '$1$xy$').
const std::string kSha512 =
    "$6$saltsalt$As4wrv0kZlfch1du9WeH7qhskyLriQWySXrZzynnvi46nFnNxjdpl6ksRegrrKexvhIa/"
    "Iny8S8uF3fVWTMuC1";
const std::string kSha256 = "$5$abc$/uFlDH3J2fHCu8bSP7nQHa2VEPlvn.fc9ZrMw9.lKE8";
const std::string kMd5 = "$1$xy$E7ouzfACRTORF8f8378oV1";

TEST(ParseBasicAuthorizationTest, DecodesUserAndPassword) {
  auto c = parseBasicAuthorization("Basic YWxpY2U6czNjcmV0");  // alice:s3cret
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->user, "alice");
  EXPECT_EQ(c->password, "s3cret");
}

TEST(ParseBasicAuthorizationTest, PasswordMayContainColonsSchemeAnyCase) {
  auto c = parseBasicAuthorization("bAsIc   Ym9iOnBhOnNz  ");  // bob:pa:ss
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->user, "bob");
  EXPECT_EQ(c->password, "pa:ss");
}

TEST(ParseBasicAuthorizationTest, PaddingOptional) {
  // "a:b" = YTpi; "ab:c" = YWI6Yw==
  EXPECT_EQ(parseBasicAuthorization("Basic YWI6Yw==")->password, "c");
  EXPECT_EQ(parseBasicAuthorization("Basic YWI6Yw")->user, "ab");
  EXPECT_EQ(parseBasicAuthorization("Basic YTpi")->password, "b");
}

TEST(ParseBasicAuthorizationTest, RefusesOtherSchemesAndBadBase64) {
  EXPECT_FALSE(parseBasicAuthorization("Bearer YWxpY2U6czNjcmV0"));
  EXPECT_FALSE(parseBasicAuthorization("Basic"));
  EXPECT_FALSE(parseBasicAuthorization("BasicYWxpY2U6czNjcmV0"));
  EXPECT_FALSE(parseBasicAuthorization("Basic YWxp*2U6"));
  EXPECT_FALSE(parseBasicAuthorization("Basic YWxpY2U"));    // "alice": no ':'
  EXPECT_FALSE(parseBasicAuthorization("Basic YWxpY2U6c"));  // dangling sextet
}

TEST(VerifyPasswordTest, CryptMethods) {
  EXPECT_TRUE(verifyPassword("s3cret", kSha512));
  EXPECT_FALSE(verifyPassword("s3cret ", kSha512));
  EXPECT_FALSE(verifyPassword("", kSha512));
  EXPECT_TRUE(verifyPassword("pa:ss", kSha256));
  EXPECT_TRUE(verifyPassword("old", kMd5));
  EXPECT_FALSE(verifyPassword("new", kMd5));
}

TEST(VerifyPasswordTest, UnusableHashesNeverMatch) {
  EXPECT_FALSE(verifyPassword("x", ""));
  EXPECT_FALSE(verifyPassword("x", "*"));
  EXPECT_FALSE(verifyPassword("x", "!"));
  EXPECT_FALSE(verifyPassword("x", "$9$nonsense"));
  EXPECT_FALSE(verifyPassword(std::string_view("s3cret\0x", 8), kSha512));
}

conf::BasicAuthSpec spec() {
  return conf::BasicAuthSpec{"ops", {{"alice", kSha512}, {"bob", kSha256}}};
}

TEST(IsAuthorizedTest, ChecksTheNamedUsersHash) {
  EXPECT_TRUE(isAuthorized(spec(), {{"Authorization", "Basic YWxpY2U6czNjcmV0"}}));
  EXPECT_TRUE(isAuthorized(spec(), {{"authorization", "Basic Ym9iOnBhOnNz"}}));
  // bob with alice's password: YWxpY2U6czNjcmV0 is alice; "bob:s3cret" = Ym9iOnMzY3JldA==
  EXPECT_FALSE(isAuthorized(spec(), {{"Authorization", "Basic Ym9iOnMzY3JldA=="}}));
  // unknown user "eve:s3cret"
  EXPECT_FALSE(isAuthorized(spec(), {{"Authorization", "Basic ZXZlOnMzY3JldA=="}}));
  EXPECT_FALSE(isAuthorized(spec(), {}));
  EXPECT_FALSE(isAuthorized(spec(), {{"Authorization", "Basic YWxpY2U6czNjcmV0"},
                                     {"Authorization", "Basic YWxpY2U6czNjcmV0"}}));
}

TEST(WwwAuthenticateTest, QuotesTheRealm) {
  EXPECT_EQ(wwwAuthenticate("ops"), "Basic realm=\"ops\"");
  EXPECT_EQ(wwwAuthenticate("a\"b\\c"), "Basic realm=\"a\\\"b\\\\c\"");
}

}  // namespace
}  // namespace baton::proxy
