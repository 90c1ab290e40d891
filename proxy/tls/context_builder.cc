#include "proxy/tls/context_builder.h"

#include <algorithm>
#include <optional>

#include "proxy/tls/certificate.h"
#include "proxy/tls/server_contexts_impl.h"

namespace baton::tls {

// What the builder remembers about one certificate spec across builds.
struct ContextBuilder::Slot {
  conf::CertificateSpec spec;
  std::string where;  // error prefix naming file:line and key, or the Marathon origin
  std::shared_ptr<const LoadedCertificate> good;  // last good load (kept when files go bad)
  std::vector<FileStamp> stamps;                  // files at the latest attempt
  std::vector<FileStamp> good_stamps;             // files at the last good load
  std::string good_ciphers;  // [tls] ciphers of the last good load (its security level)
  std::string last_error;
};

// What a build does to the session-ticket keys; applied only once the build succeeds, so a
// refused reload leaves the keys being served as they were.
struct ContextBuilder::TicketPlan {
  std::string file;                                  // the spec's ticket_key_file ("" = own keys)
  FileStamp stamp;                                   // of `file` now
  std::optional<std::vector<TicketKeys::Key>> keys;  // new shared keys
  std::string error;  // a bad file whose previous keys stay (shown on every build until fixed)
};

namespace {

// The OCSP entry is `<cert>.ocsp` when no file is configured: a response put there later is
// picked up like any changed file.
std::vector<std::string> filesOf(const conf::CertificateSpec& spec) {
  return {spec.cert, spec.key, spec.ocsp.empty() ? spec.cert + ".ocsp" : spec.ocsp};
}

std::vector<FileStamp> stampsOf(const conf::CertificateSpec& spec) {
  std::vector<FileStamp> out;
  for (const auto& f : filesOf(spec)) out.push_back(stampOf(f));
  return out;
}

// A spec's identity across builds: the same files for the same origin are the same certificate.
std::string identityOf(const conf::CertificateSpec& spec) {
  return spec.origin + '\n' + spec.cert + '\n' + spec.key + '\n' + spec.ocsp;
}

// "baton.toml:12: tls.certificate[0]" for config entries, "marathon:/app" for label ones.
std::string whereOf(const conf::CertificateSpec& spec, size_t config_index) {
  if (spec.origin != "config") return spec.origin + ": certificate";
  std::string where;
  if (!spec.loc.file.empty()) {
    where = spec.loc.file + ":" + std::to_string(spec.loc.line) + ": ";
  }
  return where + "tls.certificate[" + std::to_string(config_index) + "]";
}

// How the status pages show a certificate's stapling (its full problem is a build warning).
std::string ocspState(const LoadedCertificate& cert, std::chrono::system_clock::time_point now) {
  if (cert.ocsp_file.empty()) return "none";
  if (cert.ocsp.empty()) {
    const size_t at = cert.ocsp_problem.find("not stapled: ");
    return at == std::string::npos ? "not stapled" : cert.ocsp_problem.substr(at);
  }
  if (cert.ocsp_next_update < now) return "not stapled: the response has expired";
  return "stapled";
}

}  // namespace

ContextBuilder::ContextBuilder()
    : ticket_keys_(std::make_shared<TicketKeys>()),
      ticket_stamp_(std::make_unique<FileStamp>()),
      watched_stamp_(std::make_unique<FileStamp>()) {}
ContextBuilder::~ContextBuilder() = default;

core::Result<ContextBuilder::Build> ContextBuilder::build(
    const conf::TlsSpec& spec, std::span<const conf::CertificateSpec> extra) {
  Build out;
  pending_tickets_.reset();  // only the last build's plan may be committed
  auto tickets = std::make_unique<TicketPlan>();
  auto planned = planTicketKeys(spec, *tickets);
  // Seen, whatever comes of this build: the watch asks again only when the file changes.
  watched_ticket_file_ = tickets->file;
  *watched_stamp_ = tickets->stamp;
  ticket_error_ = planned ? tickets->error : planned.error().detail;
  if (!planned) return core::fail(std::move(planned.error()));
  if (!tickets->error.empty()) out.errors.push_back(tickets->error);
  std::vector<const conf::CertificateSpec*> specs;
  for (const auto& c : spec.certificates) specs.push_back(&c);
  for (const auto& c : extra) specs.push_back(&c);

  std::vector<std::string> order;
  std::vector<std::shared_ptr<const LoadedCertificate>> certs;
  std::vector<std::string> cert_keys;
  const auto now = std::chrono::system_clock::now();
  for (size_t i = 0; i < specs.size(); ++i) {
    const conf::CertificateSpec& c = *specs[i];
    const std::string key = identityOf(c);
    if (std::find(order.begin(), order.end(), key) != order.end()) continue;  // listed twice
    order.push_back(key);
    auto& slot = slots_[key];
    if (!slot) slot = std::make_unique<Slot>();
    slot->spec = c;
    slot->where = whereOf(c, i);
    slot->stamps = stampsOf(c);
    // Unchanged files since the last good load: reuse it without reading anything.
    if (!slot->good || slot->stamps != slot->good_stamps || slot->good_ciphers != spec.ciphers) {
      auto loaded = loadCertificate(c, slot->where, spec.ciphers);
      if (loaded) {
        slot->good = std::move(*loaded);
        slot->good_stamps = slot->stamps;
        slot->good_ciphers = spec.ciphers;
        slot->last_error.clear();
      } else {
        slot->last_error = loaded.error().detail;
        out.errors.push_back(slot->last_error + (slot->good ? " (still serving the previous one)"
                                                            : " (certificate skipped)"));
      }
    }
    // A load checked under another [tls] ciphers (security level) would fail the contexts of
    // this one: left out of this build (kept for a build with its list, e.g. a refused reload's
    // old config).
    if (!slot->good || slot->good_ciphers != spec.ciphers) continue;
    if (slot->good->not_after < now) {
      out.warnings.push_back(slot->where + ": " + c.cert + ": certificate has expired");
    } else if (slot->good->not_before > now) {
      out.warnings.push_back(slot->where + ": " + c.cert + ": certificate is not valid yet");
    }
    if (!slot->good->ocsp_problem.empty()) {
      out.warnings.push_back(slot->good->ocsp_problem);
    } else if (!slot->good->ocsp.empty() && slot->good->ocsp_next_update < now) {
      out.warnings.push_back(slot->where + ".ocsp: " + slot->good->ocsp_file +
                             ": not stapled any more: the response has expired");
    }
    certs.push_back(slot->good);
    cert_keys.push_back(key);
  }
  // Forget certificates no longer configured (a removed Marathon app's label).
  std::erase_if(slots_, [&](const auto& kv) {
    return std::find(order.begin(), order.end(), kv.first) == order.end();
  });
  order_ = std::move(order);

  if (certs.empty()) {
    return core::fail(core::Error::config(out.errors.empty() ? "tls: no certificate configured"
                                                             : "tls: no usable certificate: " +
                                                                   out.errors.front()));
  }
  size_t default_index = 0;
  for (size_t i = 0; i < cert_keys.size(); ++i) {
    if (slots_.at(cert_keys[i])->spec.is_default) {
      default_index = i;
      break;
    }
  }
  auto impl = ServerContexts::Impl::create(
      spec, std::move(certs), default_index,
      spec.ticket_key_rotation.count() > 0 || !spec.ticket_key_file.empty() ? ticket_keys_
                                                                            : nullptr,
      &out.warnings);
  if (!impl) return core::fail(std::move(impl.error()));
  pending_tickets_ = std::move(tickets);
  default_key_ = cert_keys[default_index];
  out.contexts = std::make_shared<ServerContexts>(std::move(*impl));
  return out;
}

void ContextBuilder::forgetFileStamps() {
  for (auto& [key, slot] : slots_) slot->good_stamps.clear();
  *ticket_stamp_ = FileStamp{};
  *watched_stamp_ = FileStamp{};
}

core::Result<void> ContextBuilder::planTicketKeys(const conf::TlsSpec& spec,
                                                  TicketPlan& plan) const {
  plan.file = spec.ticket_key_file;
  if (plan.file.empty()) return {};
  plan.stamp = stampOf(plan.file);
  if (plan.stamp.exists && plan.file == ticket_file_good_ && plan.stamp == *ticket_stamp_) {
    return {};  // the keys in use
  }
  if (plan.file == watched_ticket_file_ && plan.stamp == *watched_stamp_ &&
      !ticket_error_.empty()) {
    // Unchanged since an attempt that failed: the same answer, without reading it again.
    if (plan.file != ticket_file_good_) return core::fail(core::Error::config(ticket_error_));
    plan.error = ticket_error_;
    return {};
  }
  auto text = readWholeFile(plan.file);
  auto keys = text
                  ? parseTicketKeyFile(*text)
                  : core::Result<std::vector<TicketKeys::Key>>(core::fail(std::move(text.error())));
  if (keys) {
    plan.keys = std::move(*keys);
    return {};
  }
  const std::string message = "tls.ticket_key_file: " + plan.file + ": " + keys.error().detail;
  if (plan.file != ticket_file_good_) return core::fail(core::Error::config(message));
  plan.error = message + " (still using the keys it held before)";
  return {};
}

void ContextBuilder::dropPendingTicketKeys() {
  pending_tickets_.reset();
}

void ContextBuilder::commitTicketKeys() {
  if (!pending_tickets_) return;
  TicketPlan plan = std::move(*pending_tickets_);
  pending_tickets_.reset();
  if (plan.file.empty()) {
    ticket_keys_->setOwn();
    ticket_file_good_.clear();
  } else if (plan.keys) {
    ticket_keys_->setShared(std::move(*plan.keys));
    ticket_file_good_ = plan.file;
    *ticket_stamp_ = plan.stamp;
  }
}

bool ContextBuilder::filesChanged() const {
  if (!watched_ticket_file_.empty() && stampOf(watched_ticket_file_) != *watched_stamp_) {
    return true;
  }
  for (const auto& key : order_) {
    const Slot& slot = *slots_.at(key);
    if (stampsOf(slot.spec) != slot.stamps) return true;
  }
  return false;
}

std::vector<CertificateStatus> ContextBuilder::describe() const {
  std::vector<CertificateStatus> out;
  const auto now = std::chrono::system_clock::now();
  for (const auto& key : order_) {
    const Slot& slot = *slots_.at(key);
    CertificateStatus s;
    s.origin = slot.spec.origin;
    s.where = slot.where;
    s.cert_file = slot.spec.cert;
    s.serving = slot.good != nullptr;
    s.is_default = key == default_key_;
    s.last_error = slot.last_error;
    if (slot.good) {
      s.names = slot.good->names;
      s.not_after = slot.good->not_after;
      s.expired = slot.good->not_after < now;
      s.ocsp = ocspState(*slot.good, now);
    }
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace baton::tls
