#include "proxy/tls/ocsp_staple.h"

#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/x509v3.h>

#include <memory>

#include "proxy/tls/certificate.h"

namespace baton::tls {

namespace {

using core::fail;

// Clock skew allowed between the responder and this host, as OpenSSL's own tools allow.
constexpr long kSkewSeconds = 300;

template <auto Free>
struct Deleter {
  template <typename T>
  void operator()(T* p) const {
    Free(p);
  }
};
using ResponsePtr = std::unique_ptr<OCSP_RESPONSE, Deleter<OCSP_RESPONSE_free>>;
using BasicPtr = std::unique_ptr<OCSP_BASICRESP, Deleter<OCSP_BASICRESP_free>>;
using CertIdPtr = std::unique_ptr<OCSP_CERTID, Deleter<OCSP_CERTID_free>>;

core::Result<StapleValidity> problem(std::string what) {
  return fail(core::Error::config(std::move(what)));
}

// The certificate that signed `leaf`: in the chain, or `leaf` itself when self-issued.
X509* issuerOf(X509* leaf, STACK_OF(X509) * chain) {
  for (int i = 0; chain != nullptr && i < sk_X509_num(chain); ++i) {
    X509* candidate = sk_X509_value(chain, i);
    if (X509_check_issued(candidate, leaf) == X509_V_OK) return candidate;
  }
  return X509_check_issued(leaf, leaf) == X509_V_OK ? leaf : nullptr;
}

// Whether `id` names `leaf`: the serial always, the issuer's name and key hashes when the
// issuer is known (an id made with the response's own hash algorithm).
bool namesCertificate(OCSP_CERTID* id, X509* leaf, X509* issuer) {
  ASN1_OBJECT* md_obj = nullptr;
  ASN1_INTEGER* serial = nullptr;
  if (OCSP_id_get0_info(nullptr, &md_obj, nullptr, &serial, id) != 1 || serial == nullptr) {
    return false;
  }
  if (ASN1_INTEGER_cmp(serial, X509_get0_serialNumber(leaf)) != 0) return false;
  if (issuer == nullptr) return true;
  const EVP_MD* md = md_obj != nullptr ? EVP_get_digestbyobj(md_obj) : nullptr;
  CertIdPtr ours(OCSP_cert_to_id(md != nullptr ? md : EVP_sha1(), leaf, issuer));
  return ours != nullptr && OCSP_id_issuer_cmp(ours.get(), id) == 0;
}

core::Result<StapleValidity> checkStapleMarked(const std::string& der, X509* leaf,
                                               STACK_OF(X509) * chain,
                                               std::chrono::system_clock::time_point now) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  ResponsePtr resp(d2i_OCSP_RESPONSE(nullptr, &p, static_cast<long>(der.size())));
  if (resp == nullptr) return problem("not a DER OCSP response");
  const int status = OCSP_response_status(resp.get());
  if (status != OCSP_RESPONSE_STATUS_SUCCESSFUL) {
    return problem(std::string("the responder answered \"") + OCSP_response_status_str(status) +
                   "\", not a status");
  }
  BasicPtr basic(OCSP_response_get1_basic(resp.get()));
  if (basic == nullptr) return problem("no basic OCSP response inside");
  X509* issuer = issuerOf(leaf, chain);
  for (int i = 0; i < OCSP_resp_count(basic.get()); ++i) {
    OCSP_SINGLERESP* single = OCSP_resp_get0(basic.get(), i);
    if (!namesCertificate(const_cast<OCSP_CERTID*>(OCSP_SINGLERESP_get0_id(single)), leaf,
                          issuer)) {
      continue;
    }
    int reason = 0;
    ASN1_GENERALIZEDTIME* revoked_at = nullptr;
    ASN1_GENERALIZEDTIME* this_update = nullptr;
    ASN1_GENERALIZEDTIME* next_update = nullptr;
    const int cert_status =
        OCSP_single_get0_status(single, &reason, &revoked_at, &this_update, &next_update);
    if (cert_status != V_OCSP_CERTSTATUS_GOOD) {
      return problem(std::string("the certificate's status is \"") +
                     OCSP_cert_status_str(cert_status) + "\"");
    }
    StapleValidity out;
    if (next_update != nullptr) out.next_update = timeOf(next_update);
    const auto skew = std::chrono::seconds(kSkewSeconds);
    if (this_update == nullptr || timeOf(this_update) > now + skew) {
      return problem("the response is not valid yet (thisUpdate in the future)");
    }
    // No skew here: this host's clock is the one that decides when the staple stops being sent.
    if (out.next_update < now) {
      return problem("the response has expired (nextUpdate has passed)");
    }
    return out;
  }
  return problem(
      "the response has no status for this certificate (one for another "
      "certificate, e.g. left over from before a renewal?)");
}

}  // namespace

core::Result<StapleValidity> checkStaple(const std::string& der, X509* leaf, STACK_OF(X509) * chain,
                                         std::chrono::system_clock::time_point now) {
  // Whatever the lookups below leave on this thread's error queue is dropped on every return.
  ERR_set_mark();
  auto result = checkStapleMarked(der, leaf, chain, now);
  ERR_pop_to_mark();
  return result;
}

}  // namespace baton::tls
