// Loading one certificate (chain + key + optional OCSP staple) from its files, on the control
// thread. Internal to tls/ (includes OpenSSL).
#pragma once

#include <openssl/ssl.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "conf/config_spec.h"
#include "proxy/core/error.h"

namespace baton::tls {

// Identity of a file's current content, cheap enough to poll: a rewrite (new inode or mtime) or
// a truncation shows up without reading the file.
struct FileStamp {
  bool exists = false;
  uint64_t dev = 0, ino = 0, size = 0;
  int64_t mtime_ns = 0;
  bool operator==(const FileStamp&) const = default;
};
FileStamp stampOf(const std::string& path);

// A parsed certificate; immutable once loaded, shared by every ServerContexts built from it.
struct LoadedCertificate {
  LoadedCertificate() = default;
  ~LoadedCertificate();
  LoadedCertificate(const LoadedCertificate&) = delete;
  LoadedCertificate& operator=(const LoadedCertificate&) = delete;

  X509* leaf = nullptr;
  STACK_OF(X509) * chain = nullptr;  // intermediates, may be empty
  EVP_PKEY* key = nullptr;
  std::string ocsp;  // DER, "" = no staple (none configured, or it did not check out)
  // Past this the staple is no longer sent (its nextUpdate; checkStaple in ocsp_staple.h).
  std::chrono::system_clock::time_point ocsp_next_update =
      std::chrono::system_clock::time_point::max();
  std::string ocsp_file;           // the response file read ("" = none)
  std::string ocsp_problem;        // why it is not stapled, a whole message ("" = stapled or none)
  std::vector<std::string> names;  // lowercase DNS names (SAN, else CN); "*.x.y" wildcards
  std::chrono::system_clock::time_point not_before, not_after;
};

// The reason of the first error on this thread's OpenSSL error queue, which it empties
// ("rejected by OpenSSL" when the queue held no reason). For config and setup messages.
std::string lastSslError();

// A file's bytes; the error is strerror's text (callers prefix file and key).
core::Result<std::string> readWholeFile(const std::string& path);
// An ASN.1 time (certificate validity, OCSP updates) as a time point; the epoch if unreadable.
std::chrono::system_clock::time_point timeOf(const ASN1_TIME* t);

// The OCSP response file of `spec`: its `ocsp`, else `<cert>.ocsp` if that file exists (as
// HAProxy looks for one), else "".
std::string ocspFileOf(const conf::CertificateSpec& spec);

// Reads the files of `spec`. Errors are "<where>.<key>: <file>: <what>", `where` naming the
// config entry (see ContextBuilder). A certificate a server context would refuse (a key or
// signature under the security level: the system's, or an @SECLEVEL in `ciphers`, [tls]
// ciphers, applied the same way) is an error here, so that it never fails the build of the
// others. Expiry is not an error (the caller warns), nor is an OCSP response that does not check
// out or cannot be read (not stapled; ocsp_problem says why).
core::Result<std::shared_ptr<const LoadedCertificate>> loadCertificate(
    const conf::CertificateSpec& spec, const std::string& where, const std::string& ciphers);

}  // namespace baton::tls
