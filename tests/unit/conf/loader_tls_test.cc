// Loader: [tls], [[tls.certificate]], [http2], listener tls/alpn/h2c, route websocket/tunnel_idle,
// [timeouts] tls_handshake/tunnel_idle, [marathon] https_port.
#include <gtest/gtest.h>

#include "conf/loader.h"
#include "tests/unit/conf/loader_test_util.h"

namespace baton::conf {
namespace {

using std::chrono::milliseconds;
using test::base;
using test::errorOf;
using test::load;

// base() with the listener (lines 1-3) made TLS, plus a [tls] section from line 14.
std::string tlsBase(std::string_view listener_extra, std::string_view tls = R"([tls]
[[tls.certificate]]
cert = "certs/a.pem"
key = "/keys/a.key"
)") {
  std::string text = base();
  text.insert(text.find("\n\n") + 1, std::string(listener_extra));
  return text + std::string(tls);
}

TEST(TlsKeys, Defaults) {
  const ConfigSpec spec = load(base());
  EXPECT_EQ(spec.tls, TlsSpec{});
  EXPECT_EQ(spec.tls.min_version, TlsVersion::Tls12);
  EXPECT_EQ(spec.http2, Http2Spec{});
  EXPECT_EQ(spec.http2.max_concurrent_streams, 100u);
  ASSERT_EQ(spec.listeners.size(), 1u);
  EXPECT_FALSE(spec.listeners[0].tls);
  EXPECT_TRUE(spec.listeners[0].h2c);
  EXPECT_EQ(spec.listeners[0].alpn, (std::vector<std::string>{"h2", "http/1.1"}));
  EXPECT_TRUE(spec.vhosts[0].routes[0].websocket);
  EXPECT_EQ(spec.timeouts.tls_handshake, milliseconds(10'000));
  EXPECT_EQ(spec.timeouts.tunnel_idle, milliseconds(3'600'000));
  EXPECT_EQ(spec.marathon.https_port, 443);
}

TEST(TlsKeys, CertificatesListenerAndPathsRelativeToTheFile) {
  const ConfigSpec spec = load(tlsBase("tls = true\nalpn = [\"http/1.1\"]\n",
                                       R"([tls]
min_version = "1.3"
ticket_key_rotation = "0s"
ticket_key_file = "keys/tickets"
watch_interval = "1s"
[[tls.certificate]]
cert = "certs/a.pem"
key = "/keys/a.key"
ocsp = "a.ocsp"
[[tls.certificate]]
cert = "/etc/b.pem"
default = true
)"),
                               "/etc/baton/baton.toml");
  EXPECT_TRUE(spec.listeners[0].tls);
  EXPECT_FALSE(spec.listeners[0].h2c);  // plain-only
  EXPECT_EQ(spec.listeners[0].alpn, std::vector<std::string>{"http/1.1"});
  EXPECT_EQ(spec.tls.min_version, TlsVersion::Tls13);
  EXPECT_EQ(spec.tls.ticket_key_rotation, milliseconds(0));
  EXPECT_EQ(spec.tls.watch_interval, milliseconds(1000));
  EXPECT_EQ(spec.tls.ticket_key_file, "/etc/baton/keys/tickets");
  ASSERT_EQ(spec.tls.certificates.size(), 2u);
  EXPECT_EQ(spec.tls.certificates[0].cert, "/etc/baton/certs/a.pem");
  EXPECT_EQ(spec.tls.certificates[0].key, "/keys/a.key");
  EXPECT_EQ(spec.tls.certificates[0].ocsp, "/etc/baton/a.ocsp");
  EXPECT_FALSE(spec.tls.certificates[0].is_default);
  EXPECT_EQ(spec.tls.certificates[0].loc.line, 21u);
  EXPECT_EQ(spec.tls.certificates[1].key, "");  // combined PEM
  EXPECT_TRUE(spec.tls.certificates[1].is_default);
}

TEST(TlsKeys, Http2RouteAndTimeouts) {
  std::string text = base();
  text += R"(websocket = false
tunnel_idle = "90s"
[http2]
max_concurrent_streams = 250
initial_window = "1MiB"
max_header_list = "32KiB"
reset_burst = 10
reset_rate = 2
control_frame_burst = 20
control_frame_rate = 5
[timeouts]
tls_handshake = "3s"
tunnel_idle = "2h"
)";
  const ConfigSpec spec = load(text);
  EXPECT_FALSE(spec.vhosts[0].routes[0].websocket);
  EXPECT_EQ(spec.vhosts[0].routes[0].tunnel_idle, milliseconds(90'000));
  EXPECT_EQ(spec.http2.max_concurrent_streams, 250u);
  EXPECT_EQ(spec.http2.initial_window_bytes, 1024u * 1024);
  EXPECT_EQ(spec.http2.max_header_list_bytes, 32u * 1024);
  EXPECT_EQ(spec.http2.reset_burst, 10u);
  EXPECT_EQ(spec.http2.reset_rate, 2u);
  EXPECT_EQ(spec.http2.control_frame_burst, 20u);
  EXPECT_EQ(spec.http2.control_frame_rate, 5u);
  EXPECT_EQ(spec.timeouts.tls_handshake, milliseconds(3000));
  EXPECT_EQ(spec.timeouts.tunnel_idle, milliseconds(7'200'000));
}

TEST(TlsKeysErrors, NameFileLineAndKey) {
  EXPECT_EQ(errorOf(tlsBase("tls = true\n", "")),
            "t.toml:4: listener[0].tls: no [[tls.certificate]] to serve");
  EXPECT_EQ(errorOf(tlsBase("alpn = [\"h2\"]\n")),
            "t.toml:4: listener[0].alpn: only for tls = true");
  EXPECT_EQ(errorOf(tlsBase("tls = true\nh2c = true\n")),
            "t.toml:5: listener[0].h2c: only for plain listeners (TLS ones use alpn)");
  EXPECT_EQ(errorOf(tlsBase("tls = true\nalpn = [\"h3\"]\n")),
            "t.toml:5: listener[0].alpn[0]: unknown protocol \"h3\" (\"h2\" or \"http/1.1\")");
  EXPECT_EQ(errorOf(tlsBase("tls = true\nalpn = []\n")),
            "t.toml:5: listener[0].alpn: at least one protocol");
  EXPECT_EQ(errorOf(tlsBase("tls = true\nalpn = [\"h2\", \"h2\"]\n")),
            "t.toml:5: listener[0].alpn: lists \"h2\" twice");
  EXPECT_EQ(errorOf(tlsBase("", R"([tls]
[[tls.certificate]]
cert = "a.pem"
default = true
[[tls.certificate]]
cert = "b.pem"
default = true
)")),
            "t.toml:14: tls.certificate: more than one certificate has default = true");
  EXPECT_EQ(errorOf(tlsBase("", "[tls]\n[[tls.certificate]]\nkey = \"a.key\"\n")),
            "t.toml:15: tls.certificate[0].cert: required key missing");
  EXPECT_EQ(errorOf(tlsBase("", "[tls]\nmin_version = \"1.1\"\n")),
            "t.toml:15: tls.min_version: unknown value \"1.1\" (expected one of \"1.2\", \"1.3\")");
  EXPECT_EQ(errorOf(base() + "[http2]\ninitial_window = \"4GiB\"\n").substr(0, 35),
            "t.toml:15: http2.initial_window: mu");
  EXPECT_EQ(errorOf(base() + "[http2]\nmax_concurrent_streams = 0\n").substr(0, 43),
            "t.toml:15: http2.max_concurrent_streams: mu");
  EXPECT_EQ(errorOf(base() + "tunnel_idle = \"0s\"\n"),
            "t.toml:14: vhost[0].route[0].tunnel_idle: must be greater than 0");
}

TEST(TlsKeysErrors, TcpListenerRefusesTlsKeys) {
  EXPECT_EQ(errorOf(R"([[listener]]
name = "t"
address = "127.0.0.1:9000"
kind = "tcp"
cluster = "web"
tls = true
[[cluster]]
name = "web"
hosts = ["127.0.0.1:9001"]
)"),
            "t.toml:6: listener[0].tls: only for kind = \"http\"");
}

TEST(TlsKeysErrors, HttpsPortClashes) {
  EXPECT_EQ(
      errorOf("[marathon]\nurls = [\"http://m:8080\"]\nhttp_port = 8443\nhttps_port = 8443\n"),
      "t.toml:4: marathon.https_port: port 8443 is also another marathon port");
}

}  // namespace
}  // namespace baton::conf
