#include "conf/marathon_auth.h"

#include <cstdint>

namespace baton::conf {

std::string base64(std::string_view in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const uint32_t v = (uint32_t(uint8_t(in[i])) << 16) | (uint32_t(uint8_t(in[i + 1])) << 8) |
                       uint32_t(uint8_t(in[i + 2]));
    for (int shift : {18, 12, 6, 0}) out.push_back(kAlphabet[(v >> shift) & 63]);
  }
  if (i < in.size()) {
    const bool two = i + 1 < in.size();
    const uint32_t v =
        (uint32_t(uint8_t(in[i])) << 16) | (two ? uint32_t(uint8_t(in[i + 1])) << 8 : 0);
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(two ? kAlphabet[(v >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

std::string marathonAuthorization(const MarathonSpec& marathon) {
  if (!marathon.auth_token.empty()) {
    return marathon.auth_scheme == MarathonAuthScheme::Bearer ? "Bearer " + marathon.auth_token
                                                              : "token=" + marathon.auth_token;
  }
  if (marathon.username.empty() && marathon.password.empty()) return {};
  return "Basic " + base64(marathon.username + ":" + marathon.password);
}

}  // namespace baton::conf
