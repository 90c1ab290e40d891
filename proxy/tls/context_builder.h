// Builds ServerContexts from [tls] and the certificates Marathon labels bring, on the control
// thread, and remembers the last good load of every certificate: a certificate whose files went
// bad keeps being served from its previous good load (the error is reported), one that was never
// good is reported and skipped. Also answers "did any certificate file change?" for the watch
// poll (every [tls] watch_interval) and describes every certificate for the status pages.
//
// Threading: control thread only, except ticketKeys() whose object is shared with workers.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "conf/config_spec.h"
#include "proxy/core/error.h"
#include "proxy/tls/server_contexts.h"
#include "proxy/tls/ticket_keys.h"

namespace baton::tls {

struct LoadedCertificate;
struct FileStamp;

// One certificate as the status pages show it (the lead renders it).
struct CertificateStatus {
  std::string origin;  // "config" or "marathon:/app/id"
  std::string where;   // "baton.toml:12: tls.certificate[0]" or "marathon:/app/id"
  std::string cert_file;
  std::vector<std::string> names;  // of the certificate being served (empty if none)
  std::chrono::system_clock::time_point not_after{};
  bool serving = false;     // a good load is in the current ServerContexts
  bool is_default = false;  // the one clients without (a known) SNI get
  bool expired = false;
  std::string last_error;  // of the latest attempt ("" = it loaded)
  // OCSP stapling of the certificate served: "none" (no response file), "stapled", or why not
  // ("not stapled: the response has expired", ...).
  std::string ocsp = "none";
};

class ContextBuilder {
 public:
  struct Build {
    std::shared_ptr<const ServerContexts> contexts;
    std::vector<std::string> errors;    // bad certificates (previous kept or skipped)
    std::vector<std::string> warnings;  // expired / not yet valid / duplicate names
  };

  ContextBuilder();
  ~ContextBuilder();
  ContextBuilder(const ContextBuilder&) = delete;
  ContextBuilder& operator=(const ContextBuilder&) = delete;

  // Loads changed certificate files (unchanged ones are reused) and makes new contexts. Fails
  // (ConfigInvalid) on a bad cipher string or when no certificate at all is usable; per
  // certificate problems are in Build::errors instead.
  core::Result<Build> build(const conf::TlsSpec& spec,
                            std::span<const conf::CertificateSpec> extra = {});

  // The session-ticket keys the last successful build read (a new ticket_key_file, or its
  // removal) go live here, once the caller has accepted that build (the publish went through):
  // the keys are shared with the contexts being served, so a refused reload must not touch them.
  void commitTicketKeys();
  void dropPendingTicketKeys();

  // Whether any cert/key/ocsp/ticket key file of the last build changed since (stat only).
  bool filesChanged() const;
  // The next build reads every file again, changed or not (`reload certs`: a file rewritten in
  // place within the stat's resolution still gets read).
  void forgetFileStamps();
  std::vector<CertificateStatus> describe() const;

  // Shared by every build, so tickets survive reloads. rotate() every ticket_key_rotation.
  TicketKeys& ticketKeys() { return *ticket_keys_; }

 private:
  struct Slot;
  // [tls] ticket_key_file: reads it when it changed since the keys in use (planTicketKeys);
  // a successful build keeps the plan for commitTicketKeys. A bad file keeps the keys it gave
  // before (an error on every build until fixed); a file never good fails the build.
  struct TicketPlan;
  core::Result<void> planTicketKeys(const conf::TlsSpec& spec, TicketPlan& plan) const;

  std::map<std::string, std::unique_ptr<Slot>> slots_;  // by spec identity
  std::vector<std::string> order_;                      // slot keys of the last build
  std::shared_ptr<TicketKeys> ticket_keys_;
  std::string default_key_;
  std::string ticket_file_good_;  // the file the shared keys in use came from ("" = own keys)
  std::unique_ptr<FileStamp> ticket_stamp_;      // of that file when its keys were read
  std::string ticket_error_;                     // of the latest attempt at it ("" = none)
  std::string watched_ticket_file_;              // the ticket_key_file of the latest attempt
  std::unique_ptr<FileStamp> watched_stamp_;     // its stamp then (filesChanged)
  std::unique_ptr<TicketPlan> pending_tickets_;  // of the last successful build, to commit
};

}  // namespace baton::tls
