// A server-side Transport with a layer from ServerContexts, against a real OpenSSL client:
// SNI, ALPN, protocol versions, session tickets across rotations, OCSP stapling, failures.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "proxy/tls/context_builder.h"
#include "tests/unit/proxy/tls/tls_test_support.h"

namespace baton::tls {
namespace {

using testing::ClientOutcome;
using testing::ClientSpec;
using ::testing::HasSubstr;
using testing::makeCertificate;
using testing::runClient;
using testing::TempDir;
using testing::TlsServer;
using testing::writeCertificate;
using testing::writeFile;

const std::vector<std::string> kH2First{"h2", "http/1.1"};

class ServerHandshakeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto exact = writeCertificate(dir_, "exact", makeCertificate("exact", {"www.example.com"}));
    auto wild = writeCertificate(dir_, "wild", makeCertificate("wild", {"*.example.com"}));
    auto dflt = writeCertificate(dir_, "dflt", makeCertificate("dflt", {"default.test"}));
    dflt.is_default = true;
    spec_.certificates = {exact, wild, dflt};
    rebuild();
  }
  void rebuild() {
    auto built = builder_.build(spec_);
    ASSERT_TRUE(built.has_value()) << built.error().detail;
    builder_.commitTicketKeys();  // as the server does once the publish is accepted
    contexts_ = built->contexts;
  }
  // One connection: the client runs on this thread, the server on the loop thread.
  ClientOutcome connect(const ClientSpec& client, std::vector<std::string> alpn = kH2First,
                        testing::ServerRecord* server = nullptr) {
    size_t index = 0;
    const int fd = server_.connect(contexts_, std::move(alpn), &index);
    ClientOutcome out = runClient(fd, client);
    testing::ServerRecord rec = server_.waitClosed(index);
    if (server != nullptr) *server = rec;
    return out;
  }

  TempDir dir_;
  conf::TlsSpec spec_;
  ContextBuilder builder_;
  std::shared_ptr<const ServerContexts> contexts_;
  TlsServer server_;
};

TEST_F(ServerHandshakeTest, HandshakeEchoAndCloseNotify) {
  testing::ServerRecord server;
  auto out = connect({.sni = "www.example.com", .send = "hello over tls"}, kH2First, &server);
  ASSERT_TRUE(out.ok) << out.error;
  EXPECT_EQ(out.echoed, "hello over tls");
  EXPECT_TRUE(out.got_close_notify);  // shutdownWriteWhenFlushed sent close_notify
  EXPECT_TRUE(server.secured);
  EXPECT_TRUE(server.handshake_done);
  EXPECT_FALSE(server.closed_error);  // the client's close_notify is a clean EOF
  EXPECT_EQ(server.close_reason, "");
}

TEST_F(ServerHandshakeTest, SniPicksExactThenWildcardThenDefault) {
  testing::ServerRecord server;
  auto out = connect({.sni = "www.example.com"}, kH2First, &server);
  EXPECT_EQ(out.peer_cn, "exact");
  EXPECT_EQ(server.server_name, "www.example.com");
  out = connect({.sni = "API.Example.com"}, kH2First, &server);
  EXPECT_EQ(out.peer_cn, "wild");
  EXPECT_EQ(server.server_name, "api.example.com");
  out = connect({.sni = "a.b.example.com"}, kH2First, &server);
  EXPECT_EQ(out.peer_cn, "dflt");
  out = connect({.sni = "unknown.test"}, kH2First, &server);
  EXPECT_EQ(out.peer_cn, "dflt");
  out = connect({}, kH2First, &server);
  EXPECT_EQ(out.peer_cn, "dflt");
  EXPECT_EQ(server.server_name, "");
}

TEST_F(ServerHandshakeTest, AlpnFollowsTheListenerPreference) {
  testing::ServerRecord server;
  auto out = connect({.alpn = {"http/1.1", "h2"}}, kH2First, &server);
  EXPECT_EQ(out.alpn, "h2");  // the server's first choice the client also offers
  EXPECT_EQ(server.alpn, "h2");
  out = connect({.alpn = {"http/1.1"}}, kH2First, &server);
  EXPECT_EQ(out.alpn, "http/1.1");
  EXPECT_EQ(server.alpn, "http/1.1");
  out = connect({.alpn = {"h2", "http/1.1"}}, {"http/1.1"}, &server);
  EXPECT_EQ(out.alpn, "http/1.1");
  out = connect({}, kH2First, &server);  // no ALPN: HTTP/1.1 without a protocol name
  ASSERT_TRUE(out.ok) << out.error;
  EXPECT_EQ(out.alpn, "");
  EXPECT_EQ(server.alpn, "");
  out = connect({.alpn = {"h3"}}, kH2First, &server);  // no overlap: no ALPN, still served
  ASSERT_TRUE(out.ok) << out.error;
  EXPECT_EQ(server.alpn, "");
  out = connect({.alpn = {"h2"}}, {}, &server);  // a listener offering nothing
  ASSERT_TRUE(out.ok) << out.error;
  EXPECT_EQ(server.alpn, "");
}

TEST_F(ServerHandshakeTest, Tls11IsRefused) {
  testing::ServerRecord server;
  auto out = connect({.max_version = TLS1_1_VERSION}, kH2First, &server);
  EXPECT_FALSE(out.ok);
  EXPECT_TRUE(server.closed_error);
  EXPECT_FALSE(server.secured);
  EXPECT_FALSE(server.handshake_done);
  EXPECT_THAT(server.close_reason, HasSubstr("TLS handshake: "));
  EXPECT_THAT(server.close_reason, HasSubstr("protocol"));
}

TEST_F(ServerHandshakeTest, Tls12StillWorks) {
  auto out = connect({.sni = "www.example.com", .max_version = TLS1_2_VERSION});
  ASSERT_TRUE(out.ok) << out.error;
  EXPECT_EQ(out.echoed, "ping");
}

TEST_F(ServerHandshakeTest, PlainHttpToATlsPortIsAHandshakeFailure) {
  size_t index = 0;
  const int fd = server_.connect(contexts_, kH2First, &index);
  const std::string req = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
  ASSERT_EQ(::write(fd, req.data(), req.size()), static_cast<ssize_t>(req.size()));
  auto server = server_.waitClosed(index);
  ::close(fd);
  EXPECT_TRUE(server.closed);
  EXPECT_TRUE(server.closed_error);
  EXPECT_FALSE(server.handshake_done);
  EXPECT_THAT(server.close_reason, HasSubstr("TLS handshake: "));
}

TEST_F(ServerHandshakeTest, PeerGoneDuringHandshakeIsAHandshakeFailure) {
  size_t index = 0;
  ::close(server_.connect(contexts_, kH2First, &index));
  auto server = server_.waitClosed(index);
  EXPECT_TRUE(server.closed_error);
  EXPECT_FALSE(server.handshake_done);
  EXPECT_EQ(server.close_reason, "TLS handshake: peer closed");
}

TEST_F(ServerHandshakeTest, TicketsResumeAcrossOneRotationAndRebuildsNotTwo) {
  for (int max_version : {TLS1_3_VERSION, TLS1_2_VERSION}) {
    SCOPED_TRACE(max_version);
    auto first = connect({.sni = "www.example.com", .max_version = max_version});
    ASSERT_TRUE(first.ok) << first.error;
    EXPECT_FALSE(first.reused);
    ASSERT_TRUE(first.session);
    // Same contexts.
    auto again = connect(
        {.sni = "www.example.com", .session = first.session.get(), .max_version = max_version});
    EXPECT_TRUE(again.reused);
    // New contexts (a reload) and one rotation: still resumes.
    rebuild();
    builder_.ticketKeys().rotate();
    auto rotated = connect(
        {.sni = "www.example.com", .session = first.session.get(), .max_version = max_version});
    ASSERT_TRUE(rotated.ok) << rotated.error;
    EXPECT_TRUE(rotated.reused);
    // Two rotations: a full handshake, no error.
    builder_.ticketKeys().rotate();
    auto expired = connect(
        {.sni = "www.example.com", .session = first.session.get(), .max_version = max_version});
    ASSERT_TRUE(expired.ok) << expired.error;
    EXPECT_FALSE(expired.reused);
    EXPECT_EQ(expired.echoed, "ping");
  }
}

// Base64 lines of `n` random 80-byte keys (openssl rand 80 | base64 -w0).
std::string ticketKeyLines(int n) {
  std::string out = "# baton ticket keys\n";
  for (int i = 0; i < n; ++i) {
    unsigned char raw[80];
    for (auto& b : raw) b = static_cast<unsigned char>(std::rand());
    unsigned char b64[120];
    const int len = EVP_EncodeBlock(b64, raw, sizeof(raw));
    out.append(reinterpret_cast<char*>(b64), static_cast<size_t>(len)).append("\n");
  }
  return out;
}

// Two processes (two builders: an HA peer, the binary after an upgrade) with the same
// ticket_key_file resume each other's sessions; with their own random keys they cannot.
TEST_F(ServerHandshakeTest, TicketsFromASharedKeyFileResumeOnAnotherProcess) {
  for (const bool shared : {false, true}) {
    SCOPED_TRACE(shared);
    spec_.ticket_key_file = shared ? dir_.file("ticket.keys") : "";
    if (shared) writeFile(spec_.ticket_key_file, ticketKeyLines(3));
    rebuild();
    ContextBuilder peer;
    auto peer_built = peer.build(spec_);
    ASSERT_TRUE(peer_built.has_value()) << peer_built.error().detail;
    peer.commitTicketKeys();
    for (int max_version : {TLS1_3_VERSION, TLS1_2_VERSION}) {
      auto first = connect({.sni = "www.example.com", .max_version = max_version});
      ASSERT_TRUE(first.ok && first.session) << first.error;
      const auto mine = contexts_;
      contexts_ = peer_built->contexts;
      auto there = connect(
          {.sni = "www.example.com", .session = first.session.get(), .max_version = max_version});
      contexts_ = mine;
      ASSERT_TRUE(there.ok) << there.error;
      EXPECT_EQ(there.reused, shared) << max_version;
    }
    // A shared file is never rotated away by the timer.
    if (shared) {
      auto first = connect({.sni = "www.example.com"});
      builder_.ticketKeys().rotate();
      builder_.ticketKeys().rotate();
      EXPECT_TRUE(connect({.sni = "www.example.com", .session = first.session.get()}).reused);
    }
  }
}

TEST_F(ServerHandshakeTest, NoTicketsWhenRotationIsZero) {
  spec_.ticket_key_rotation = conf::Duration{0};
  rebuild();
  auto first = connect({.sni = "www.example.com"});
  ASSERT_TRUE(first.ok);
  auto again = connect({.sni = "www.example.com", .session = first.session.get()});
  ASSERT_TRUE(again.ok) << again.error;
  EXPECT_FALSE(again.reused);
}

TEST_F(ServerHandshakeTest, OcspResponseIsStapled) {
  const std::string der = testing::makeOcspFor(spec_.certificates[0]);
  spec_.certificates[0].ocsp = dir_.file("exact.ocsp");
  writeFile(spec_.certificates[0].ocsp, der);
  rebuild();
  auto out = connect({.sni = "www.example.com", .want_ocsp = true});
  ASSERT_TRUE(out.ok) << out.error;
  EXPECT_EQ(out.ocsp, der);
  out = connect({.sni = "other.test", .want_ocsp = true});  // the default has none
  ASSERT_TRUE(out.ok) << out.error;
  EXPECT_EQ(out.ocsp, "");
  EXPECT_EQ(builder_.describe()[0].ocsp, "stapled");
  EXPECT_EQ(builder_.describe()[2].ocsp, "none");
}

// The same serial from another issuer (another CA's certificate) is not this certificate.
TEST_F(ServerHandshakeTest, OcspResponseForTheSameSerialFromAnotherIssuerIsNotStapled) {
  auto mine = writeCertificate(dir_, "mine", makeCertificate("mine", {"m.test"}, -1, 30, 42));
  auto other = writeCertificate(dir_, "other", makeCertificate("other", {"o.test"}, -1, 30, 42));
  mine.ocsp = dir_.file("mine.ocsp");
  writeFile(mine.ocsp, testing::makeOcspFor(other));
  spec_.certificates.push_back(mine);
  auto built = builder_.build(spec_);
  ASSERT_TRUE(built.has_value()) << built.error().detail;
  ASSERT_EQ(built->warnings.size(), 1u);
  EXPECT_THAT(built->warnings[0], HasSubstr("no status for this certificate"));
  // The right issuer: stapled.
  writeFile(mine.ocsp, testing::makeOcspFor(mine));
  spec_.certificates.back() = mine;
  built = builder_.build(spec_);
  ASSERT_TRUE(built.has_value()) << built.error().detail;
  EXPECT_TRUE(built->warnings.empty());
  EXPECT_EQ(builder_.describe().back().ocsp, "stapled");
}

// Checked at every handshake, not only at load: a staple past its nextUpdate is not sent.
TEST_F(ServerHandshakeTest, OcspStapleStopsAtItsNextUpdate) {
  spec_.certificates[0].ocsp = dir_.file("exact.ocsp");
  writeFile(spec_.certificates[0].ocsp,
            testing::makeOcspFor(spec_.certificates[0], V_OCSP_CERTSTATUS_GOOD, -3600, 2));
  rebuild();
  auto out = connect({.sni = "www.example.com", .want_ocsp = true});
  ASSERT_TRUE(out.ok) << out.error;
  EXPECT_NE(out.ocsp, "");
  std::this_thread::sleep_for(std::chrono::milliseconds(2100));  // time passing is the test
  out = connect({.sni = "www.example.com", .want_ocsp = true});
  ASSERT_TRUE(out.ok) << out.error;
  EXPECT_EQ(out.ocsp, "");
  EXPECT_EQ(builder_.describe()[0].ocsp, "not stapled: the response has expired");
}

// A response file that is gone (a renewal script removed the stale one) costs the staple only.
TEST_F(ServerHandshakeTest, MissingOcspFileIsAWarningNotAnError) {
  spec_.certificates[0].ocsp = dir_.file("gone.ocsp");
  auto built = builder_.build(spec_);
  ASSERT_TRUE(built.has_value()) << built.error().detail;
  EXPECT_TRUE(built->errors.empty());
  ASSERT_EQ(built->warnings.size(), 1u);
  EXPECT_THAT(built->warnings[0], HasSubstr("gone.ocsp: not stapled: "));
  EXPECT_TRUE(builder_.describe()[0].serving);
  EXPECT_THAT(builder_.describe()[0].ocsp, HasSubstr("not stapled: "));
}

// HAProxy's convention: a response beside the certificate, no key needed; one put there later
// is a changed file like any other.
TEST_F(ServerHandshakeTest, OcspResponseBesideTheCertificateIsStapled) {
  const auto& exact = spec_.certificates[0];
  EXPECT_FALSE(builder_.filesChanged());
  const std::string der = testing::makeOcspFor(exact);
  writeFile(exact.cert + ".ocsp", der);
  EXPECT_TRUE(builder_.filesChanged());
  rebuild();
  auto out = connect({.sni = "www.example.com", .want_ocsp = true});
  ASSERT_TRUE(out.ok) << out.error;
  EXPECT_EQ(out.ocsp, der);
}

// A response that does not vouch for the certificate now is not sent (a checking client would
// refuse the connection); the certificate is served and a warning says why.
TEST_F(ServerHandshakeTest, OcspResponseThatDoesNotCheckOutIsNotStapled) {
  struct Case {
    std::string der;
    std::string why;
  };
  const std::vector<Case> cases{
      {testing::makeOcspFor(spec_.certificates[1]), "no status for this certificate"},
      {testing::makeOcspDer(), "\"trylater\""},
      {testing::makeOcspFor(spec_.certificates[0], V_OCSP_CERTSTATUS_GOOD, -7200, -3600),
       "has expired"},
      {testing::makeOcspFor(spec_.certificates[0], V_OCSP_CERTSTATUS_GOOD, 3600, 7200),
       "not valid yet"},
      {testing::makeOcspFor(spec_.certificates[0], V_OCSP_CERTSTATUS_REVOKED), "\"revoked\""},
      {"garbage", "not a DER OCSP response"},
  };
  spec_.certificates[0].ocsp = dir_.file("exact.ocsp");
  for (const auto& c : cases) {
    writeFile(spec_.certificates[0].ocsp, c.der);
    auto built = builder_.build(spec_);
    ASSERT_TRUE(built.has_value()) << built.error().detail;
    EXPECT_TRUE(built->errors.empty()) << c.why;
    ASSERT_EQ(built->warnings.size(), 1u) << c.why;
    EXPECT_THAT(
        built->warnings[0],
        HasSubstr("tls.certificate[0].ocsp: " + spec_.certificates[0].ocsp + ": not stapled: "));
    EXPECT_THAT(built->warnings[0], HasSubstr(c.why));
    contexts_ = built->contexts;
    auto out = connect({.sni = "www.example.com", .want_ocsp = true});
    ASSERT_TRUE(out.ok) << out.error;
    EXPECT_EQ(out.ocsp, "") << c.why;
    EXPECT_THAT(builder_.describe()[0].ocsp, HasSubstr("not stapled: ")) << c.why;
  }
}

TEST_F(ServerHandshakeTest, PreviousCertificateStillServedAfterABadRebuild) {
  writeFile(spec_.certificates[0].key, makeCertificate("other", {"o.test"}).key);
  auto built = builder_.build(spec_);
  ASSERT_TRUE(built.has_value());
  EXPECT_EQ(built->errors.size(), 1u);
  contexts_ = built->contexts;
  auto out = connect({.sni = "www.example.com"});
  ASSERT_TRUE(out.ok) << out.error;
  EXPECT_EQ(out.peer_cn, "exact");
}

TEST_F(ServerHandshakeTest, CombinedPemServes) {
  spec_.certificates = {
      writeCertificate(dir_, "combined", makeCertificate("combined", {"c.test"}), true)};
  rebuild();
  auto out = connect({.sni = "c.test"});
  ASSERT_TRUE(out.ok) << out.error;
  EXPECT_EQ(out.peer_cn, "combined");
}

}  // namespace
}  // namespace baton::tls
