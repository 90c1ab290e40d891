#include "proxy/tls/certificate.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>

#include "proxy/tls/ocsp_staple.h"

namespace baton::tls {

namespace {

using core::fail;

core::Error fileError(const std::string& where, const std::string& key, const std::string& file,
                      const std::string& what) {
  ERR_clear_error();
  return core::Error::config(where + "." + key + ": " + file + ": " + what);
}

struct BioDeleter {
  void operator()(BIO* b) const { BIO_free(b); }
};
using BioPtr = std::unique_ptr<BIO, BioDeleter>;

BioPtr memBio(const std::string& bytes) {
  return BioPtr(BIO_new_mem_buf(bytes.data(), static_cast<int>(bytes.size())));
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::vector<std::string> namesOf(X509* leaf) {
  std::vector<std::string> names;
  auto* sans =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(leaf, NID_subject_alt_name, nullptr, nullptr));
  if (sans != nullptr) {
    for (int i = 0; i < sk_GENERAL_NAME_num(sans); ++i) {
      const GENERAL_NAME* gn = sk_GENERAL_NAME_value(sans, i);
      if (gn->type != GEN_DNS) continue;
      const ASN1_IA5STRING* s = gn->d.dNSName;
      names.push_back(lower(std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                                        static_cast<size_t>(ASN1_STRING_length(s)))));
    }
    GENERAL_NAMES_free(sans);
  }
  if (!names.empty()) return names;
  X509_NAME* subject = X509_get_subject_name(leaf);
  const int idx = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
  if (idx >= 0) {
    const ASN1_STRING* s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, idx));
    names.push_back(lower(std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                                      static_cast<size_t>(ASN1_STRING_length(s)))));
  }
  return names;
}

// What a server context would refuse: SSL_CTX_use_certificate and set1_chain apply the
// system's security level (Debian: level 2, so RSA under 2048 bits or a SHA-1 signature is
// refused). Tried on a context of its own, at load, so the message names this file.
std::optional<std::string> refusedByServerContext(const LoadedCertificate& cert,
                                                  const std::string& ciphers) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (ctx == nullptr) return "cannot make a TLS context: " + lastSslError();
  // The cipher list may carry @SECLEVEL=n, which sets the context's level: as makeContext
  // applies it (a bad list is reported by that build, not per certificate).
  if (!ciphers.empty() && SSL_CTX_set_cipher_list(ctx, ciphers.c_str()) != 1) ERR_clear_error();
  std::optional<std::string> refused;
  if (SSL_CTX_use_certificate(ctx, cert.leaf) != 1 || SSL_CTX_use_PrivateKey(ctx, cert.key) != 1 ||
      SSL_CTX_set1_chain(ctx, cert.chain) != 1) {
    refused = lastSslError();
  }
  SSL_CTX_free(ctx);
  return refused;
}

}  // namespace

core::Result<std::string> readWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(core::Error::config(std::strerror(errno)));
  std::ostringstream out;
  out << in.rdbuf();
  if (in.bad()) return fail(core::Error::config("read error"));
  return out.str();
}

std::chrono::system_clock::time_point timeOf(const ASN1_TIME* t) {
  struct tm tm = {};
  if (ASN1_TIME_to_tm(t, &tm) != 1) return {};
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

std::string ocspFileOf(const conf::CertificateSpec& spec) {
  if (!spec.ocsp.empty()) return spec.ocsp;
  std::string sidecar = spec.cert + ".ocsp";
  struct stat st = {};
  return ::stat(sidecar.c_str(), &st) == 0 && S_ISREG(st.st_mode) ? sidecar : std::string();
}

LoadedCertificate::~LoadedCertificate() {
  X509_free(leaf);
  sk_X509_pop_free(chain, X509_free);
  EVP_PKEY_free(key);
}

FileStamp stampOf(const std::string& path) {
  struct stat st = {};
  if (path.empty() || ::stat(path.c_str(), &st) != 0) return {};
  return FileStamp{true, static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino),
                   static_cast<uint64_t>(st.st_size),
                   static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec};
}

core::Result<std::shared_ptr<const LoadedCertificate>> loadCertificate(
    const conf::CertificateSpec& spec, const std::string& where, const std::string& ciphers) {
  auto cert_pem = readWholeFile(spec.cert);
  if (!cert_pem) return fail(fileError(where, "cert", spec.cert, cert_pem.error().detail));
  auto out = std::make_shared<LoadedCertificate>();
  // The leaf first, then any intermediates; non-certificate blocks (a combined PEM's key) are
  // skipped by the PEM reader.
  {
    BioPtr bio = memBio(*cert_pem);
    out->leaf = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr);
    if (out->leaf == nullptr) {
      return fail(fileError(where, "cert", spec.cert, "no PEM certificate in the file"));
    }
    out->chain = sk_X509_new_null();
    while (X509* extra = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
      sk_X509_push(out->chain, extra);
    }
    ERR_clear_error();  // the loop ends on "no start line"
  }
  const std::string& key_file = spec.key.empty() ? spec.cert : spec.key;
  const char* key_name = spec.key.empty() ? "cert" : "key";
  std::string key_pem;
  if (spec.key.empty()) {
    key_pem = *cert_pem;
  } else {
    auto read = readWholeFile(spec.key);
    if (!read) return fail(fileError(where, key_name, key_file, read.error().detail));
    key_pem = std::move(*read);
  }
  {
    BioPtr bio = memBio(key_pem);
    out->key = PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr);
    if (out->key == nullptr) {
      return fail(fileError(where, key_name, key_file,
                            spec.key.empty() ? "no PEM private key in the file (set key = ...)"
                                             : "no PEM private key in the file"));
    }
  }
  if (X509_check_private_key(out->leaf, out->key) != 1) {
    return fail(fileError(where, key_name, key_file, "key does not match the certificate"));
  }
  if (auto refused = refusedByServerContext(*out, ciphers)) {
    return fail(fileError(where, "cert", spec.cert, "refused by OpenSSL: " + *refused));
  }
  out->ocsp_file = ocspFileOf(spec);
  if (!out->ocsp_file.empty()) {
    // A response that cannot be read (a renewal script removed the stale one) costs the
    // staple, never the certificate.
    auto der = readWholeFile(out->ocsp_file);
    auto valid = der ? checkStaple(*der, out->leaf, out->chain, std::chrono::system_clock::now())
                     : core::Result<StapleValidity>(core::fail(std::move(der.error())));
    if (valid) {
      out->ocsp = std::move(*der);
      out->ocsp_next_update = valid->next_update;
    } else {
      out->ocsp_problem =
          where + ".ocsp: " + out->ocsp_file + ": not stapled: " + valid.error().detail;
    }
  }
  out->names = namesOf(out->leaf);  // may be empty: still usable as the default certificate
  out->not_before = timeOf(X509_get0_notBefore(out->leaf));
  out->not_after = timeOf(X509_get0_notAfter(out->leaf));
  ERR_clear_error();  // lookups above (extensions, issuer checks) may leave reasons behind
  return std::shared_ptr<const LoadedCertificate>(std::move(out));
}

std::string lastSslError() {
  std::string reason;
  while (unsigned long e = ERR_get_error()) {
    if (reason.empty() && ERR_reason_error_string(e) != nullptr) {
      reason = ERR_reason_error_string(e);
    }
  }
  return reason.empty() ? "rejected by OpenSSL" : reason;
}

}  // namespace baton::tls
