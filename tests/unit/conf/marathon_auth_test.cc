// The Authorization header every Marathon client of baton sends (discovery, peers, batonctl).
#include "conf/marathon_auth.h"

#include <gtest/gtest.h>

namespace baton::conf {
namespace {

MarathonSpec credentials(std::string user, std::string password, std::string token) {
  MarathonSpec m;
  m.username = std::move(user);
  m.password = std::move(password);
  m.auth_token = std::move(token);
  return m;
}

TEST(MarathonAuth, NoneBasicTokenAndBearer) {
  EXPECT_EQ(marathonAuthorization(credentials("", "", "")), "");
  EXPECT_EQ(marathonAuthorization(credentials("user", "pass", "")), "Basic dXNlcjpwYXNz");
  EXPECT_EQ(marathonAuthorization(credentials("", "pa:ss", "")), "Basic OnBhOnNz");
  MarathonSpec token = credentials("user", "pass", "tok");
  EXPECT_EQ(marathonAuthorization(token), "token=tok") << "a token wins over Basic (DC/OS)";
  token.auth_scheme = MarathonAuthScheme::Bearer;
  EXPECT_EQ(marathonAuthorization(token), "Bearer tok");
}

TEST(MarathonAuth, Base64PadsEveryLength) {
  EXPECT_EQ(base64(""), "");
  EXPECT_EQ(base64("f"), "Zg==");
  EXPECT_EQ(base64("fo"), "Zm8=");
  EXPECT_EQ(base64("foo"), "Zm9v");
  EXPECT_EQ(base64("foob"), "Zm9vYg==");
  EXPECT_EQ(base64(std::string("\xff\x00\x80", 3)), "/wCA");
}

}  // namespace
}  // namespace baton::conf
