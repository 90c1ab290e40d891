// ContextBuilder: loading, errors naming file and key, keeping the last good certificate,
// change detection, describe(), SNI selection.
#include "proxy/tls/context_builder.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/unit/proxy/tls/tls_test_support.h"

namespace baton::tls {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::makeCertificate;
using testing::TempDir;
using testing::writeCertificate;
using testing::writeFile;

class ContextBuilderTest : public ::testing::Test {
 protected:
  conf::TlsSpec specWith(std::vector<conf::CertificateSpec> certs) {
    conf::TlsSpec spec;
    spec.certificates = std::move(certs);
    return spec;
  }
  TempDir dir_;
  ContextBuilder builder_;
};

TEST_F(ContextBuilderTest, NamesComeFromSubjectAltNamesElseTheCommonName) {
  auto a = writeCertificate(
      dir_, "a", makeCertificate("ignored.example", {"A.example.com", "*.b.example.com"}));
  auto c = writeCertificate(dir_, "c", makeCertificate("cn-only.example", {}));
  auto built = builder_.build(specWith({a, c}));
  ASSERT_TRUE(built.has_value()) << built.error().detail;
  EXPECT_TRUE(built->errors.empty());
  EXPECT_THAT(
      built->contexts->certificateNames(),
      ElementsAre(ElementsAre("a.example.com", "*.b.example.com"), ElementsAre("cn-only.example")));
}

TEST_F(ContextBuilderTest, SelectsExactThenOneLabelWildcardThenDefault) {
  auto a = writeCertificate(dir_, "a", makeCertificate("a", {"a.example.com"}));
  auto w = writeCertificate(dir_, "w", makeCertificate("w", {"*.example.com"}));
  auto d = writeCertificate(dir_, "d", makeCertificate("d", {"default.test"}));
  d.is_default = true;
  auto built = builder_.build(specWith({a, w, d}));
  ASSERT_TRUE(built.has_value()) << built.error().detail;
  const auto& ctx = *built->contexts;
  EXPECT_EQ(ctx.defaultIndex(), 2u);
  EXPECT_EQ(ctx.select("a.example.com"), 0u);
  EXPECT_EQ(ctx.select("b.example.com"), 1u);
  EXPECT_EQ(ctx.select("x.y.example.com"), 2u);  // one label only
  EXPECT_EQ(ctx.select("example.com"), 2u);
  EXPECT_EQ(ctx.select(""), 2u);
  EXPECT_EQ(ctx.select("unknown.test"), 2u);
}

TEST_F(ContextBuilderTest, FirstCertificateIsTheDefaultWithoutIsDefault) {
  auto a = writeCertificate(dir_, "a", makeCertificate("a", {"a.test"}));
  auto b = writeCertificate(dir_, "b", makeCertificate("b", {"b.test"}));
  auto built = builder_.build(specWith({a, b}));
  ASSERT_TRUE(built.has_value());
  EXPECT_EQ(built->contexts->defaultIndex(), 0u);
}

TEST_F(ContextBuilderTest, CombinedPemWithTheKeyInTheCertFile) {
  auto spec = writeCertificate(dir_, "combined", makeCertificate("c", {"c.test"}), true);
  EXPECT_TRUE(spec.key.empty());
  auto built = builder_.build(specWith({spec}));
  ASSERT_TRUE(built.has_value()) << built.error().detail;
  EXPECT_TRUE(built->errors.empty());
}

TEST_F(ContextBuilderTest, CertificateNeverGoodIsReportedAndSkipped) {
  auto good = writeCertificate(dir_, "good", makeCertificate("g", {"g.test"}));
  auto missing = good;
  missing.cert = dir_.file("missing.crt");
  auto garbage = writeCertificate(dir_, "garbage", makeCertificate("x", {"x.test"}));
  writeFile(garbage.cert, "not a certificate\n");
  auto mismatch = writeCertificate(dir_, "mismatch", makeCertificate("m", {"m.test"}));
  writeFile(mismatch.key, makeCertificate("other", {"o.test"}).key);
  auto nokey = writeCertificate(dir_, "nokey", makeCertificate("n", {"n.test"}));
  nokey.key.clear();  // the cert file holds no key

  auto built = builder_.build(specWith({good, missing, garbage, mismatch, nokey}));
  ASSERT_TRUE(built.has_value()) << built.error().detail;
  EXPECT_EQ(built->contexts->certificateNames().size(), 1u);
  ASSERT_EQ(built->errors.size(), 4u);
  EXPECT_EQ(built->errors[0], "baton.toml:12: tls.certificate[1].cert: " + missing.cert +
                                  ": No such file or directory (certificate skipped)");
  EXPECT_THAT(built->errors[1], HasSubstr("tls.certificate[2].cert: " + garbage.cert +
                                          ": no PEM certificate in the file"));
  EXPECT_EQ(built->errors[2], "baton.toml:12: tls.certificate[3].key: " + mismatch.key +
                                  ": key does not match the certificate (certificate skipped)");
  EXPECT_THAT(built->errors[3],
              HasSubstr("tls.certificate[4].cert: " + nokey.cert + ": no PEM private key"));
}

TEST_F(ContextBuilderTest, BadFilesLaterKeepThePreviousGoodCertificate) {
  auto spec = writeCertificate(dir_, "a", makeCertificate("first", {"a.test"}));
  ASSERT_TRUE(builder_.build(specWith({spec})).has_value());
  // The key is replaced by one for another certificate: a broken deployment.
  writeFile(spec.key, makeCertificate("other", {"o.test"}).key);
  EXPECT_TRUE(builder_.filesChanged());
  auto built = builder_.build(specWith({spec}));
  ASSERT_TRUE(built.has_value()) << built.error().detail;
  ASSERT_EQ(built->errors.size(), 1u);
  EXPECT_THAT(built->errors[0], HasSubstr("key does not match the certificate (still serving"));
  EXPECT_THAT(built->contexts->certificateNames(), ElementsAre(ElementsAre("a.test")));
  auto status = builder_.describe();
  ASSERT_EQ(status.size(), 1u);
  EXPECT_TRUE(status[0].serving);
  EXPECT_THAT(status[0].last_error, HasSubstr("key does not match"));
  // Fixed: the new pair loads and the error clears.
  auto fixed = makeCertificate("second", {"b.test"});
  writeFile(spec.cert, fixed.cert);
  writeFile(spec.key, fixed.key);
  built = builder_.build(specWith({spec}));
  ASSERT_TRUE(built.has_value());
  EXPECT_TRUE(built->errors.empty());
  EXPECT_THAT(built->contexts->certificateNames(), ElementsAre(ElementsAre("b.test")));
  EXPECT_TRUE(builder_.describe()[0].last_error.empty());
}

TEST_F(ContextBuilderTest, MarathonCertificatesNameTheirOrigin) {
  auto spec = writeCertificate(dir_, "m", makeCertificate("m", {"m.test"}), true);
  spec.origin = "marathon:/shop/web";
  writeFile(spec.cert, "garbage");
  auto good = writeCertificate(dir_, "good", makeCertificate("g", {"g.test"}));
  std::vector<conf::CertificateSpec> extra{spec};
  auto built = builder_.build(specWith({good}), extra);
  ASSERT_TRUE(built.has_value());
  ASSERT_EQ(built->errors.size(), 1u);
  EXPECT_THAT(built->errors[0],
              HasSubstr("marathon:/shop/web: certificate.cert: " + spec.cert + ": "));
}

TEST_F(ContextBuilderTest, NoUsableCertificateFailsTheBuild) {
  conf::CertificateSpec spec;
  spec.loc = {"baton.toml", 3};
  spec.cert = dir_.file("none.crt");
  auto built = builder_.build(specWith({spec}));
  ASSERT_FALSE(built.has_value());
  EXPECT_EQ(built.error().code, core::ErrorCode::ConfigInvalid);
  EXPECT_THAT(built.error().detail, HasSubstr("no usable certificate"));
  EXPECT_THAT(built.error().detail, HasSubstr("none.crt"));
}

TEST_F(ContextBuilderTest, BadCipherStringsNameTheKey) {
  auto spec = specWith({writeCertificate(dir_, "a", makeCertificate("a", {"a.test"}))});
  spec.ciphers = "NOT-A-CIPHER";
  auto built = builder_.build(spec);
  ASSERT_FALSE(built.has_value());
  EXPECT_THAT(built.error().detail, HasSubstr("tls.ciphers: \"NOT-A-CIPHER\""));
  spec.ciphers = conf::TlsSpec{}.ciphers;
  spec.ciphersuites = "TLS_NOPE";
  built = builder_.build(spec);
  ASSERT_FALSE(built.has_value());
  EXPECT_THAT(built.error().detail, HasSubstr("tls.ciphersuites"));
}

TEST_F(ContextBuilderTest, ExpiredIsOnlyAWarning) {
  auto spec = writeCertificate(dir_, "old", makeCertificate("old", {"old.test"}, -60, 30));
  auto built = builder_.build(specWith({spec}));
  ASSERT_TRUE(built.has_value());
  EXPECT_TRUE(built->errors.empty());
  ASSERT_EQ(built->warnings.size(), 1u);
  EXPECT_THAT(built->warnings[0], HasSubstr("certificate has expired"));
  EXPECT_TRUE(builder_.describe()[0].expired);
}

// A key OpenSSL refuses (under the system's security level) fails that certificate only, at
// load, naming its file; the others are served. It used to fail the whole build.
TEST_F(ContextBuilderTest, CertificateOpenSslRefusesIsSkippedNamingItsFile) {
  auto good = writeCertificate(dir_, "good", makeCertificate("good", {"good.test"}));
  auto weak = writeCertificate(dir_, "weak", testing::makeWeakRsaCertificate("weak", "weak.test"));
  auto built = builder_.build(specWith({good, weak}));
  ASSERT_TRUE(built.has_value()) << built.error().detail;
  ASSERT_EQ(built->errors.size(), 1u);
  EXPECT_THAT(built->errors[0],
              HasSubstr("tls.certificate[1].cert: " + weak.cert + ": refused by OpenSSL: "));
  EXPECT_THAT(built->errors[0], HasSubstr("(certificate skipped)"));
  EXPECT_THAT(built->contexts->certificateNames(), ElementsAre(ElementsAre("good.test")));
  auto status = builder_.describe();
  ASSERT_EQ(status.size(), 2u);
  EXPECT_TRUE(status[0].serving);
  EXPECT_FALSE(status[1].serving);
  // An operator who lowers the level in [tls] ciphers (@SECLEVEL=0) gets it served: the
  // load-time check applies the list as the contexts do.
  auto lowered = specWith({good, weak});
  lowered.ciphers += ":@SECLEVEL=0";
  built = builder_.build(lowered);
  ASSERT_TRUE(built.has_value()) << built.error().detail;
  EXPECT_TRUE(built->errors.empty()) << built->errors[0];
  EXPECT_EQ(built->contexts->certificateNames().size(), 2u);
  // Back at the default level: refused again (the level is part of what a load was checked at).
  built = builder_.build(specWith({good, weak}));
  ASSERT_TRUE(built.has_value()) << built.error().detail;
  ASSERT_EQ(built->errors.size(), 1u);
  EXPECT_THAT(built->errors[0], HasSubstr("refused by OpenSSL"));
  // Replaced by a good one: served from the next build.
  auto renewed = makeCertificate("weak", {"weak.test"});
  writeFile(weak.cert, renewed.cert);
  writeFile(weak.key, renewed.key);
  built = builder_.build(specWith({good, weak}));
  ASSERT_TRUE(built.has_value()) << built.error().detail;
  EXPECT_TRUE(built->errors.empty());
  EXPECT_EQ(built->contexts->certificateNames().size(), 2u);
}

TEST_F(ContextBuilderTest, TicketKeyFileErrorsNameFileAndLineAndKeepTheLastGoodKeys) {
  auto a = writeCertificate(dir_, "a", makeCertificate("a", {"a.test"}));
  auto spec = specWith({a});
  spec.ticket_key_file = dir_.file("ticket.keys");
  const std::string good_line = std::string(107, 'A') + "=";  // 80 zero bytes
  writeFile(spec.ticket_key_file, "\n" + good_line + "\nnot base64\n");
  auto built = builder_.build(spec);
  ASSERT_FALSE(built.has_value());  // never good: the build is refused (start, reload)
  EXPECT_EQ(built.error().detail, "tls.ticket_key_file: " + spec.ticket_key_file +
                                      ": line 3: not the base64 of an 80-byte key "
                                      "(openssl rand 80 | base64 -w0)");
  EXPECT_FALSE(builder_.filesChanged());  // seen: the watch does not ask again until it changes
  writeFile(spec.ticket_key_file, "# comment\n" + good_line + "\n");
  EXPECT_TRUE(builder_.filesChanged());
  built = builder_.build(spec);
  ASSERT_TRUE(built.has_value()) << built.error().detail;
  EXPECT_FALSE(builder_.ticketKeys().shared());  // not before the build is accepted
  builder_.commitTicketKeys();
  EXPECT_TRUE(builder_.ticketKeys().shared());
  EXPECT_FALSE(builder_.filesChanged());
  writeFile(spec.ticket_key_file, "\n");
  EXPECT_TRUE(builder_.filesChanged());
  for (int i = 0; i < 2; ++i) {  // reported on every build until fixed
    built = builder_.build(spec);
    ASSERT_TRUE(built.has_value()) << built.error().detail;
    builder_.commitTicketKeys();
    ASSERT_EQ(built->errors.size(), 1u);
    EXPECT_EQ(built->errors[0], "tls.ticket_key_file: " + spec.ticket_key_file +
                                    ": no key in the file (still using the keys it held before)");
    EXPECT_TRUE(builder_.ticketKeys().shared());
    EXPECT_FALSE(builder_.filesChanged());
  }
  // A build that succeeds but is never committed (its publish refused) changes nothing live.
  auto without = spec;
  without.ticket_key_file.clear();
  ASSERT_TRUE(builder_.build(without).has_value());
  EXPECT_TRUE(builder_.ticketKeys().shared());
  // A refused build (here: no certificate) neither.
  ASSERT_FALSE(builder_.build(specWith({})).has_value());
  builder_.commitTicketKeys();  // nothing pending from it
  EXPECT_TRUE(builder_.ticketKeys().shared());
  // Removed from the config, accepted: own random keys again.
  ASSERT_TRUE(builder_.build(without).has_value());
  builder_.commitTicketKeys();
  EXPECT_FALSE(builder_.ticketKeys().shared());
}

TEST_F(ContextBuilderTest, DetectsChangedFilesByStatAlone) {
  auto spec = writeCertificate(dir_, "a", makeCertificate("a", {"a.test"}));
  spec.ocsp = dir_.file("a.ocsp");
  writeFile(spec.ocsp, testing::makeOcspFor(spec));
  ASSERT_TRUE(builder_.build(specWith({spec})).has_value());
  EXPECT_FALSE(builder_.filesChanged());
  writeFile(spec.ocsp, testing::makeOcspFor(spec));  // new bytes, new inode
  EXPECT_TRUE(builder_.filesChanged());
  ASSERT_TRUE(builder_.build(specWith({spec})).has_value());
  EXPECT_FALSE(builder_.filesChanged());
  std::filesystem::remove(spec.key);
  EXPECT_TRUE(builder_.filesChanged());
}

TEST_F(ContextBuilderTest, DescribesEveryCertificate) {
  auto a = writeCertificate(dir_, "a", makeCertificate("a", {"a.test"}));
  auto b = writeCertificate(dir_, "b", makeCertificate("b", {"b.test"}));
  b.is_default = true;
  auto bad = b;
  bad.cert = dir_.file("gone.crt");
  bad.is_default = false;
  ASSERT_TRUE(builder_.build(specWith({a, b, bad})).has_value());
  auto status = builder_.describe();
  ASSERT_EQ(status.size(), 3u);
  EXPECT_EQ(status[0].where, "baton.toml:12: tls.certificate[0]");
  EXPECT_EQ(status[0].cert_file, a.cert);
  EXPECT_THAT(status[0].names, ElementsAre("a.test"));
  EXPECT_FALSE(status[0].is_default);
  EXPECT_TRUE(status[1].is_default);
  EXPECT_GT(status[1].not_after, std::chrono::system_clock::now());
  EXPECT_FALSE(status[2].serving);
  EXPECT_THAT(status[2].last_error, HasSubstr("gone.crt"));
}

}  // namespace
}  // namespace baton::tls
