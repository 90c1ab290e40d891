#include "proxy/tls_manager.h"

#include <algorithm>

#include "proxy/core/log.h"

namespace baton::proxy {

namespace {

bool usesTls(const conf::ConfigSpec& config) {
  return std::any_of(config.listeners.begin(), config.listeners.end(),
                     [](const conf::ListenerSpec& l) { return l.tls; });
}

}  // namespace

TlsManager::TlsManager(core::EventLoop& loop, std::function<std::string()> on_files_changed)
    : loop_(loop),
      on_files_changed_(std::move(on_files_changed)),
      watch_timer_(loop, [this] { onWatch(); }),
      rotate_timer_(loop, [this] { onRotate(); }) {}

TlsManager::~TlsManager() = default;

core::Result<std::shared_ptr<const tls::ServerContexts>> TlsManager::contextsFor(
    const conf::ConfigSpec& config, bool strict) {
  active_ = usesTls(config);
  if (!active_) {
    watch_timer_.cancel();
    rotate_timer_.cancel();
    // Nothing kept for TLS's return: a pending build (a refused publish's) must not be
    // committed by this publish, and kept contexts would skip the timers' re-arming then.
    pending_.reset();
    builder_.dropPendingTicketKeys();
    last_.reset();
    return std::shared_ptr<const tls::ServerContexts>();
  }
  // Marathon publishes on every change; the contexts depend only on [tls] and its files, so an
  // unchanged spec with unchanged files keeps the contexts (and their SSL_CTXs) it already has.
  // A build whose publish was refused (pending_ never committed) may have read files the kept
  // contexts do not serve yet: build again rather than reuse them.
  if (!strict && !files_changed_ && pending_ == nullptr && last_ != nullptr &&
      last_spec_ == config.tls) {
    return last_;
  }
  files_changed_ = false;
  pending_.reset();  // only this build's contexts may be committed
  auto built = builder_.build(config.tls);
  if (!built) {
    if (strict) return core::fail(std::move(built.error()));
    last_errors_ = {built.error().detail};
    logOnce(core::LogLevel::Error, built.error().detail);
    schedule(config.tls);
    return last_;
  }
  pending_ = built->contexts;
  pending_spec_ = config.tls;
  last_errors_ = built->errors;
  // Each problem is logged when it first appears, not on every publish (discovery publishes
  // often); it stays visible in the status pages meanwhile.
  std::vector<std::string> now;
  for (const auto* list : {&built->errors, &built->warnings}) {
    for (const auto& message : *list) {
      now.push_back(message);
      if (std::find(logged_.begin(), logged_.end(), message) == logged_.end()) {
        core::logf(list == &built->errors ? core::LogLevel::Error : core::LogLevel::Warn,
                   "baton: tls: %s", message.c_str());
      }
    }
  }
  logged_ = std::move(now);
  schedule(config.tls);
  return built->contexts;
}

void TlsManager::commit() {
  if (pending_ == nullptr) return;
  last_ = std::move(pending_);
  last_spec_ = std::move(pending_spec_);
  pending_.reset();
  builder_.commitTicketKeys();
}

void TlsManager::logOnce(core::LogLevel level, const std::string& message) {
  if (std::find(logged_.begin(), logged_.end(), message) != logged_.end()) return;
  core::logf(level, "baton: tls: %s", message.c_str());
  logged_.push_back(message);
}

void TlsManager::schedule(const conf::TlsSpec& spec) {
  if (spec.watch_interval != watch_interval_ || !watch_timer_.armed()) {
    watch_interval_ = spec.watch_interval;
    if (watch_interval_.count() > 0) {
      watch_timer_.arm(watch_interval_);
    } else {
      watch_timer_.cancel();
    }
  }
  if (spec.ticket_key_rotation != rotation_ || !rotate_timer_.armed()) {
    rotation_ = spec.ticket_key_rotation;
    if (rotation_.count() > 0) {
      rotate_timer_.arm(rotation_);
    } else {
      rotate_timer_.cancel();
    }
  }
}

void TlsManager::onWatch() {
  if (!active_) return;
  // pending_: a build whose publish was refused may have read changed files the served
  // contexts lack (their stamps are recorded): publish again, at most once per tick.
  if (builder_.filesChanged() || pending_ != nullptr) {
    files_changed_ = true;
    core::logf(core::LogLevel::Info, "baton: tls: certificate files changed, reloading them");
    (void)on_files_changed_();  // a refusal is logged by the publisher
  }
  if (watch_interval_.count() > 0) watch_timer_.arm(watch_interval_);
}

std::string TlsManager::reloadFiles() {
  files_changed_ = true;
  builder_.forgetFileStamps();
  core::logf(core::LogLevel::Info, "baton: tls: reloading the certificate files (admin)");
  return on_files_changed_();
}

void TlsManager::onRotate() {
  if (!active_) return;
  builder_.ticketKeys().rotate();
  if (rotation_.count() > 0) rotate_timer_.arm(rotation_);
}

}  // namespace baton::proxy
