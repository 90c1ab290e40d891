// Test helpers for tests/unit/proxy/tls: keys and self-signed certificates made with OpenSSL at
// run time into a temp dir (nothing checked in), a blocking OpenSSL client, and a server-side
// echo over core::Transport on its own loop thread.
#pragma once

#include <event2/buffer.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "conf/config_spec.h"
#include "proxy/core/event_loop.h"
#include "proxy/core/transport.h"
#include "proxy/tls/server_contexts.h"

namespace baton::tls::testing {

// ---- Files -------------------------------------------------------------------------------------

struct TempDir {
  TempDir() {
    char tmpl[] = "/tmp/baton-tls-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string file(const std::string& name) const { return path + "/" + name; }
  std::string path;
};

inline void writeFile(const std::string& path, const std::string& bytes) {
  // Write elsewhere, then rename: a new inode, as deployment tools replace certificates.
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << bytes;
  }
  std::filesystem::rename(tmp, path);
}

// ---- Certificates ------------------------------------------------------------------------------

struct Pem {
  std::string cert;
  std::string key;
};

inline std::string bioString(BIO* bio) {
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<size_t>(len));
  BIO_free(bio);
  return out;
}

// A self-signed certificate for `key` (taken). `dns` empty = names only in the CN.
inline Pem makeSelfSigned(EVP_PKEY* key, const std::string& cn, const std::vector<std::string>& dns,
                          long valid_from_days, long valid_days, long serial) {
  X509* x = X509_new();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), serial >= 0 ? serial : std::rand() & 0x7fffffff);
  X509_time_adj_ex(X509_getm_notBefore(x), static_cast<int>(valid_from_days), 0, nullptr);
  X509_time_adj_ex(X509_getm_notAfter(x), static_cast<int>(valid_from_days + valid_days), 0,
                   nullptr);
  X509_set_pubkey(x, key);
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_set_issuer_name(x, name);
  if (!dns.empty()) {
    std::string san;
    for (const auto& d : dns) san += (san.empty() ? "DNS:" : ",DNS:") + d;
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, x, x, nullptr, nullptr, 0);
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, NID_subject_alt_name, san.c_str());
    X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
  }
  X509_sign(x, key, EVP_sha256());
  BIO* cb = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(cb, x);
  BIO* kb = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(kb, key, nullptr, nullptr, 0, nullptr, nullptr);
  X509_free(x);
  EVP_PKEY_free(key);
  return {bioString(cb), bioString(kb)};
}

// A self-signed EC P-256 certificate. `dns` empty = names only in the CN.
inline Pem makeCertificate(const std::string& cn, const std::vector<std::string>& dns,
                           long valid_from_days = -1, long valid_days = 30, long serial = -1) {
  return makeSelfSigned(EVP_EC_gen("P-256"), cn, dns, valid_from_days, valid_days, serial);
}

// A syntactically valid DER OCSP response that holds no status ("try later"): never stapled.
inline std::string makeOcspDer() {
  OCSP_RESPONSE* resp = OCSP_response_create(OCSP_RESPONSE_STATUS_TRYLATER, nullptr);
  unsigned char* der = nullptr;
  const int len = i2d_OCSP_RESPONSE(resp, &der);
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  OCSP_RESPONSE_free(resp);
  return out;
}

// A certificate whose key OpenSSL refuses at security level 1 and up (RSA-512), signed SHA-256.
inline Pem makeWeakRsaCertificate(const std::string& cn, const std::string& dns) {
  return makeSelfSigned(EVP_RSA_gen(512), cn, {dns}, -1, 30, 7);
}

// A signed DER OCSP response for the self-signed certificate of `spec` (its own issuer and
// responder): `status` (V_OCSP_CERTSTATUS_*), thisUpdate and nextUpdate in seconds from now.
inline std::string makeOcspFor(const conf::CertificateSpec& spec,
                               int status = V_OCSP_CERTSTATUS_GOOD, long this_update = -3600,
                               long next_update = 86400) {
  auto read = [](const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  const std::string cert_pem = read(spec.cert);
  const std::string key_pem = read(spec.key.empty() ? spec.cert : spec.key);
  BIO* cb = BIO_new_mem_buf(cert_pem.data(), static_cast<int>(cert_pem.size()));
  X509* cert = PEM_read_bio_X509(cb, nullptr, nullptr, nullptr);
  BIO_free(cb);
  BIO* kb = BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size()));
  EVP_PKEY* key = PEM_read_bio_PrivateKey(kb, nullptr, nullptr, nullptr);
  BIO_free(kb);
  OCSP_CERTID* id = OCSP_cert_to_id(EVP_sha1(), cert, cert);
  OCSP_BASICRESP* basic = OCSP_BASICRESP_new();
  ASN1_TIME* thisupd = X509_gmtime_adj(nullptr, this_update);
  ASN1_TIME* nextupd = X509_gmtime_adj(nullptr, next_update);
  ASN1_TIME* revoked =
      status == V_OCSP_CERTSTATUS_REVOKED ? X509_gmtime_adj(nullptr, -60) : nullptr;
  OCSP_basic_add1_status(basic, id, status, status == V_OCSP_CERTSTATUS_REVOKED ? 0 : -1, revoked,
                         thisupd, nextupd);
  OCSP_basic_sign(basic, cert, key, EVP_sha256(), nullptr, 0);
  OCSP_RESPONSE* resp = OCSP_response_create(OCSP_RESPONSE_STATUS_SUCCESSFUL, basic);
  unsigned char* der = nullptr;
  const int len = i2d_OCSP_RESPONSE(resp, &der);
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  OCSP_RESPONSE_free(resp);
  OCSP_BASICRESP_free(basic);
  OCSP_CERTID_free(id);
  ASN1_TIME_free(thisupd);
  ASN1_TIME_free(nextupd);
  ASN1_TIME_free(revoked);
  X509_free(cert);
  EVP_PKEY_free(key);
  return out;
}

// ---- A blocking OpenSSL client
// -------------------------------------------------------------------

struct ClientSpec {
  std::string sni;
  std::vector<std::string> alpn;
  SSL_SESSION* session = nullptr;  // to resume (not owned)
  int max_version = 0;             // 0 = library default
  bool want_ocsp = false;
  std::string send = "ping";  // echoed back by the server
};

struct ClientOutcome {
  bool ok = false;
  std::string error;
  std::string alpn;
  std::string peer_cn;
  bool reused = false;
  std::string ocsp;
  std::string echoed;
  bool got_close_notify = false;
  std::shared_ptr<SSL_SESSION> session;
};

inline std::string peerCn(SSL* ssl) {
  X509* peer = SSL_get1_peer_certificate(ssl);
  if (peer == nullptr) return "";
  char buf[256] = {};
  X509_NAME_get_text_by_NID(X509_get_subject_name(peer), NID_commonName, buf, sizeof(buf));
  X509_free(peer);
  return buf;
}

// Handshakes over the blocking socket `fd`, sends spec.send, reads the echo, sends close_notify,
// waits for the server's. Closes `fd`.
inline ClientOutcome runClient(int fd, const ClientSpec& spec) {
  ClientOutcome out;
  timeval tv{10, 0};  // a hang is a failure, not a stuck test
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (spec.max_version != 0) {
    // Old protocol versions are also off at the default security level: lower it for the client.
    SSL_CTX_set_security_level(ctx, 0);
    SSL_CTX_set_cipher_list(ctx, "DEFAULT:@SECLEVEL=0");
    SSL_CTX_set_min_proto_version(ctx, 0);
    SSL_CTX_set_max_proto_version(ctx, spec.max_version);
  }
  SSL* ssl = SSL_new(ctx);
  SSL_set_fd(ssl, fd);
  if (!spec.sni.empty()) SSL_set_tlsext_host_name(ssl, spec.sni.c_str());
  if (!spec.alpn.empty()) {
    std::vector<unsigned char> wire;
    for (const auto& p : spec.alpn) {
      wire.push_back(static_cast<unsigned char>(p.size()));
      wire.insert(wire.end(), p.begin(), p.end());
    }
    SSL_set_alpn_protos(ssl, wire.data(), static_cast<unsigned>(wire.size()));
  }
  if (spec.session != nullptr) SSL_set_session(ssl, spec.session);
  if (spec.want_ocsp) SSL_set_tlsext_status_type(ssl, TLSEXT_STATUSTYPE_ocsp);
  if (SSL_connect(ssl) != 1) {
    char buf[256];
    ERR_error_string_n(ERR_get_error(), buf, sizeof(buf));
    out.error = buf;
  } else {
    const unsigned char* proto = nullptr;
    unsigned len = 0;
    SSL_get0_alpn_selected(ssl, &proto, &len);
    if (proto != nullptr) out.alpn.assign(reinterpret_cast<const char*>(proto), len);
    out.peer_cn = peerCn(ssl);
    out.reused = SSL_session_reused(ssl) == 1;
    const unsigned char* ocsp = nullptr;
    const long ocsp_len = SSL_get_tlsext_status_ocsp_resp(ssl, &ocsp);
    if (ocsp != nullptr && ocsp_len > 0)
      out.ocsp.assign(reinterpret_cast<const char*>(ocsp), ocsp_len);
    SSL_write(ssl, spec.send.data(), static_cast<int>(spec.send.size()));
    std::string got;
    char buf[16384];
    while (got.size() < spec.send.size()) {
      const int n = SSL_read(ssl, buf, sizeof(buf));
      if (n <= 0) break;
      got.append(buf, static_cast<size_t>(n));
    }
    out.echoed = got;
    // Tickets (TLS 1.3) arrive after the handshake: by now they have been read.
    out.session = std::shared_ptr<SSL_SESSION>(SSL_get1_session(ssl), SSL_SESSION_free);
    SSL_shutdown(ssl);
    const int n = SSL_read(ssl, buf, sizeof(buf));
    out.got_close_notify = n == 0 && SSL_get_error(ssl, n) == SSL_ERROR_ZERO_RETURN;
    out.ok = true;
  }
  SSL_free(ssl);
  SSL_CTX_free(ctx);
  ::close(fd);
  return out;
}

// ---- The server side: Transport + SecureLayer on a loop thread ---------------------------------

// What one server connection saw (filled on the loop thread, read by the test under the lock).
struct ServerRecord {
  bool secured = false;
  bool closed = false;
  bool closed_error = false;
  bool handshake_done = false;
  std::string alpn, server_name, close_reason;
};

class TlsServer {
 public:
  TlsServer() {
    thread_ = std::thread([this] {
      core::EventLoop loop;
      {
        std::lock_guard lock(mutex_);
        loop_ = &loop;
      }
      cv_.notify_all();
      loop.run();
      conns_.clear();  // on the loop thread, before the loop dies
      loop.flushDeferred();
    });
    std::unique_lock lock(mutex_);
    cv_.wait(lock, [&] { return loop_ != nullptr; });
  }
  ~TlsServer() {
    loop_->post([loop = loop_] { loop->stop(); });
    thread_.join();
  }

  // A connected socketpair: the server end gets a TLS Transport (made on the loop thread), the
  // returned end is the client's (blocking). `index` names the connection's ServerRecord.
  int connect(std::shared_ptr<const ServerContexts> contexts, std::vector<std::string> alpn,
              size_t* index = nullptr) {
    int fds[2];
    EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    const int server_fd = fds[0];
    fcntl(server_fd, F_SETFL, O_NONBLOCK);
    size_t i;
    {
      std::lock_guard lock(mutex_);
      i = records_.size();
      records_.emplace_back();
    }
    if (index != nullptr) *index = i;
    loop_->post([this, contexts, alpn = std::move(alpn), server_fd, i] {
      auto layer = contexts->newSession(server_fd, alpn);
      ASSERT_TRUE(layer.has_value());
      auto conn = std::make_unique<Conn>(this, i);
      conn->transport = std::make_unique<core::Transport>(*loop_, server_fd, std::move(*layer),
                                                          conn.get(), 1 << 20);
      conns_.push_back(std::move(conn));
    });
    return fds[1];
  }

  // Waits (bounded) until `pred(record)` holds; returns a copy.
  ServerRecord waitFor(size_t index, const std::function<bool(const ServerRecord&)>& pred) {
    std::unique_lock lock(mutex_);
    cv_.wait_for(lock, std::chrono::seconds(10), [&] { return pred(records_[index]); });
    return records_[index];
  }
  ServerRecord waitClosed(size_t index) {
    return waitFor(index, [](const ServerRecord& r) { return r.closed; });
  }

 private:
  struct Conn : core::Transport::Handler {
    Conn(TlsServer* server, size_t index) : server(server), index(index) {}
    void onTransportReadable() override {
      std::string bytes(evbuffer_get_length(transport->input()), '\0');
      evbuffer_remove(transport->input(), bytes.data(), bytes.size());
      transport->write(bytes);
    }
    void onTransportDrained() override {}
    void onTransportConnected() override {}
    void onTransportSecured() override {
      update([&](ServerRecord& r) {
        r.secured = true;
        r.alpn = transport->secureLayer()->alpn();
        r.server_name = transport->secureLayer()->serverName();
      });
    }
    void onTransportClosed(bool error, int) override {
      if (!error) transport->shutdownWriteWhenFlushed();  // answers with close_notify
      update([&](ServerRecord& r) {
        r.closed = true;
        r.closed_error = error;
        r.handshake_done = transport->handshakeDone();
        r.close_reason = transport->closeReason();
      });
    }
    void update(const std::function<void(ServerRecord&)>& f) {
      {
        std::lock_guard lock(server->mutex_);
        f(server->records_[index]);
      }
      server->cv_.notify_all();
    }
    TlsServer* server;
    size_t index;
    std::unique_ptr<core::Transport> transport;
  };

  std::mutex mutex_;
  std::condition_variable cv_;
  core::EventLoop* loop_ = nullptr;
  std::vector<ServerRecord> records_;         // guarded by mutex_
  std::vector<std::unique_ptr<Conn>> conns_;  // loop thread only
  std::thread thread_;
};

}  // namespace baton::tls::testing

namespace baton::tls::testing {

// Writes `pem` as <name>.crt + <name>.key (or one combined <name>.pem) and returns the spec.
inline conf::CertificateSpec writeCertificate(const TempDir& dir, const std::string& name,
                                              const Pem& pem, bool combined = false) {
  conf::CertificateSpec spec;
  spec.loc = {"baton.toml", 12};
  if (combined) {
    spec.cert = dir.file(name + ".pem");
    writeFile(spec.cert, pem.cert + pem.key);
  } else {
    spec.cert = dir.file(name + ".crt");
    spec.key = dir.file(name + ".key");
    writeFile(spec.cert, pem.cert);
    writeFile(spec.key, pem.key);
  }
  return spec;
}

}  // namespace baton::tls::testing
