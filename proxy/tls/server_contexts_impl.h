// ServerContexts internals shared by server_contexts.cc and context_builder.cc (includes OpenSSL;
// tls/ only).
#pragma once

#include <openssl/ssl.h>

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "conf/config_spec.h"
#include "proxy/tls/certificate.h"
#include "proxy/tls/server_contexts.h"
#include "proxy/tls/ticket_keys.h"

namespace baton::tls {

struct ServerContexts::Impl {
  struct Entry {
    SSL_CTX* ctx = nullptr;  // this certificate, plus every shared setting and callback
    std::shared_ptr<const LoadedCertificate> cert;
  };
  Impl() = default;
  ~Impl();
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  std::vector<Entry> entries;
  std::unordered_map<std::string, size_t> exact;     // "www.example.com" -> entry
  std::unordered_map<std::string, size_t> wildcard;  // "example.com" for "*.example.com"
  size_t default_index = 0;
  std::shared_ptr<TicketKeys> ticket_keys;  // null = session tickets off

  // Builds one SSL_CTX per certificate with `spec`'s versions, ciphers and options. `warnings`
  // gets duplicate names (the first certificate keeps them).
  static core::Result<std::unique_ptr<Impl>> create(
      const conf::TlsSpec& spec, std::vector<std::shared_ptr<const LoadedCertificate>> certs,
      size_t default_index, std::shared_ptr<TicketKeys> ticket_keys,
      std::vector<std::string>* warnings);

  size_t select(std::string_view server_name) const;
};

}  // namespace baton::tls
