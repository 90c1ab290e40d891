// Checking an OCSP response before it is stapled (control thread, at certificate load). A staple
// that does not vouch for the certificate it is sent with is worse than none: a client that
// checks it (Firefox hard-fails on a bad staple) refuses the connection. The usual way to get one
// is a renewal that replaced the certificate but left the old response file beside it.
// Internal to tls/ (includes OpenSSL).
#pragma once

#include <openssl/ssl.h>

#include <chrono>
#include <string>

#include "proxy/core/error.h"

namespace baton::tls {

struct StapleValidity {
  // nextUpdate of the certificate's status; max() when the responder gave none (RFC 6960:
  // newer information is always available, the response itself does not expire).
  std::chrono::system_clock::time_point next_update = std::chrono::system_clock::time_point::max();
};

// `der`: the response file's bytes. Checks that it parses, that the responder answered
// "successful", that it holds a status for `leaf` (its serial, and its issuer's name and key
// when the issuer is `leaf` itself or in `chain`), that the status is "good", and that it is
// current at `now` (nextUpdate not past; thisUpdate not in the future, 5 minutes of skew).
// The signature is not verified: the file is the operator's, and clients check it anyway.
// Errors are a short reason ("the response is for another certificate"), for a warning.
core::Result<StapleValidity> checkStaple(const std::string& der, X509* leaf, STACK_OF(X509) * chain,
                                         std::chrono::system_clock::time_point now);

}  // namespace baton::tls
