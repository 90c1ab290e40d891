// https:// to Marathon: the peer is verified against ca_file and the URL's host (here an IP
// literal, checked against the certificate's IP SAN). A throwaway CA-less self-signed
// certificate is made in-process so the test needs no files.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <csignal>
#include <cstdio>
#include <filesystem>

#include "discovery/source.h"
#include "fake_server.h"

namespace baton::discovery {
namespace {

using std::chrono::milliseconds;
using testing::FakeServer;
using testing::runUntil;

struct SelfSigned {
  explicit SelfSigned(const std::string& ip_san) {
    key = EVP_RSA_gen(2048);
    cert = X509_new();
    X509_set_version(cert, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert), -60);
    X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
    X509_set_pubkey(cert, key);
    X509_NAME* name = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("marathon"), -1, -1, 0);
    X509_set_issuer_name(cert, name);
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
    const std::string san = "IP:" + ip_san;
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, NID_subject_alt_name, san.c_str());
    X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
    X509_sign(cert, key, EVP_sha256());
    server = SSL_CTX_new(TLS_server_method());
    SSL_CTX_use_certificate(server, cert);
    SSL_CTX_use_PrivateKey(server, key);
  }
  ~SelfSigned() {
    SSL_CTX_free(server);
    X509_free(cert);
    EVP_PKEY_free(key);
  }
  std::string writePem(const std::string& path) const {
    FILE* f = std::fopen(path.c_str(), "w");
    PEM_write_X509(f, cert);
    std::fclose(f);
    return path;
  }
  EVP_PKEY* key = nullptr;
  X509* cert = nullptr;
  SSL_CTX* server = nullptr;
};

class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ca_ = (std::filesystem::temp_directory_path() /
           ("baton-tls-" + std::to_string(::getpid()) + ".pem"))
              .string();
  }
  // The source's TLS bufferevent defers its callbacks, so libevent frees it from the loop: free
  // the source, then let the loop run once more before the fixture's loop goes (else
  // LeakSanitizer reports the connection). A peer may still write meanwhile: no SIGPIPE.
  static void SetUpTestSuite() { std::signal(SIGPIPE, SIG_IGN); }
  void TearDown() override {
    source_.reset();
    testing::runFor(loop_, milliseconds{20});
    std::filesystem::remove(ca_);
  }
  Source* make(const std::string& url, const std::string& ca_file) {
    conf::MarathonSpec spec;
    spec.urls = {url};
    spec.ca_file = ca_file;
    spec.max_backoff = milliseconds{50};
    spec.auth_token = "t0k";
    Source::Callbacks cb;
    cb.on_document = [this](std::string body) { documents_.push_back(std::move(body)); };
    cb.on_error = [this](const std::string& e) { errors_.push_back(e); };
    auto source = createSource(loop_, spec, std::move(cb));
    EXPECT_TRUE(source) << source.error().detail;
    source_ = std::move(*source);
    return source_.get();
  }
  static FakeServer::Reply answer(const testing::SeenRequest& r) {
    if (r.target.starts_with("/v2/events"))
      return {FakeServer::Reply::Stream, FakeServer::streamHead() + "\r\n"};
    return {FakeServer::Reply::Full, FakeServer::ok(R"({"apps":[]})")};
  }
  core::EventLoop loop_;
  std::string ca_;
  std::vector<std::string> documents_, errors_;
  std::unique_ptr<Source> source_;
};

TEST_F(TlsTest, VerifiedPeerServesDocumentsAndStream) {
  SelfSigned cert("127.0.0.1");
  FakeServer server(loop_, &TlsTest::answer, cert.server);
  auto source = make(server.url(), cert.writePem(ca_));
  source->start();
  ASSERT_TRUE(runUntil(loop_, [&] {
    return source->status().stream_connected && !documents_.empty();
  })) << (errors_.empty() ? "" : errors_.front());
  EXPECT_EQ(documents_.front(), R"({"apps":[]})");
  EXPECT_EQ(server.requests().front().headers.at("authorization"), "token=t0k");
}

TEST_F(TlsTest, UnknownIssuerRefused) {
  SelfSigned cert("127.0.0.1"), other("127.0.0.1");
  FakeServer server(loop_, &TlsTest::answer, cert.server);
  auto source = make(server.url(), other.writePem(ca_));
  source->start();
  ASSERT_TRUE(runUntil(loop_, [&] { return errors_.size() >= 2; }));
  EXPECT_TRUE(documents_.empty());
  EXPECT_TRUE(server.requests().empty());  // nothing was sent before verification
  EXPECT_NE(errors_.front().find("TLS"), std::string::npos) << errors_.front();
}

TEST_F(TlsTest, HostMismatchRefused) {
  SelfSigned cert("10.9.9.9");  // valid signature, wrong address
  FakeServer server(loop_, &TlsTest::answer, cert.server);
  auto source = make(server.url(), cert.writePem(ca_));
  source->start();
  ASSERT_TRUE(runUntil(loop_, [&] { return errors_.size() >= 2; }));
  EXPECT_TRUE(documents_.empty());
  bool mismatch = false;
  for (const auto& e : errors_) mismatch |= e.find("mismatch") != std::string::npos;
  EXPECT_TRUE(mismatch) << errors_.front();
}

TEST_F(TlsTest, UnreadableCaFileRefusedAtCreate) {
  conf::MarathonSpec spec;
  spec.urls = {"https://127.0.0.1:1"};
  spec.ca_file = "/nonexistent/ca.pem";
  EXPECT_FALSE(createSource(loop_, spec, {}));
}

}  // namespace
}  // namespace baton::discovery
