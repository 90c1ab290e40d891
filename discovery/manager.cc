#include "discovery/manager.h"

#include <chrono>
#include <set>
#include <utility>

#include "discovery/model/fast_drain.h"
#include "discovery/state_store.h"
#include "proxy/core/clock.h"
#include "proxy/core/log.h"

namespace baton::discovery {

namespace {

// A suspicious document (empty, or most tasks gone at once) is applied only when the next
// resync, this long after, says the same: a Marathon hiccup must not empty the edge.
constexpr std::chrono::milliseconds kConfirmDelay{1000};

TranslateOptions optionsFrom(const conf::MarathonSpec& spec, std::string self_app_id) {
  TranslateOptions options;
  options.groups = spec.groups;
  options.strict_mode = spec.strict_mode;
  options.domain = spec.domain;
  options.bind_address = spec.bind_address;
  options.http_port = spec.http_port;
  options.app_id_port = spec.app_id_port;
  options.https_port = spec.https_port;
  options.bind_service_ports = spec.bind_service_ports;
  options.self_app_id = std::move(self_app_id);
  return options;
}

}  // namespace

DiscoveryManager::DiscoveryManager(core::EventLoop& loop, conf::MarathonSpec spec,
                                   std::string self_app_id, core::Reclaimer& reclaimer,
                                   SpecCallback on_spec)
    : loop_(loop),
      spec_(std::move(spec)),
      self_app_id_(std::move(self_app_id)),
      on_spec_(std::move(on_spec)),
      reclaimer_(reclaimer),
      confirm_timer_(loop,
                     [this] {
                       if (source_) source_->resync();
                     }),
      drain_timer_(loop, [this] { publishFreshDrains(); }) {}

DiscoveryManager::~DiscoveryManager() = default;

core::Result<void> DiscoveryManager::start() {
  resolver_ = std::make_unique<HostResolver>(loop_);
  pipeline_ = std::make_unique<PipelineThread>(
      loop_,
      std::make_unique<DiscoveryPipeline>(spec_, optionsFrom(spec_, self_app_id_), reclaimer_),
      reclaimer_, [this](PipelineStep step) { onStep(std::move(step)); });
  if (!spec_.state_file.empty()) {
    // Queued first: the pipeline applies it unless a document from the source overtakes it.
    auto saved = loadState(spec_.state_file);
    if (saved) {
      pipeline_->document(std::move(*saved), /*from_disk=*/true);
    } else if (saved.error().code != core::ErrorCode::ConfigIo) {
      core::logf(core::LogLevel::Warn, "discovery: ignoring saved state %s: %s",
                 spec_.state_file.c_str(), saved.error().detail.c_str());
    }
  }
  Source::Callbacks callbacks;
  callbacks.on_document = [this](std::string body) {
    pipeline_->document(std::move(body), /*from_disk=*/false);
  };
  callbacks.on_task_ending = [this](const std::string& task_id, const std::string&) {
    onTaskEnding(task_id);
  };
  callbacks.on_error = [this](const std::string& error) { onSourceError(error); };
  auto source = createSource(loop_, spec_, std::move(callbacks));
  if (!source) return core::fail(std::move(source.error()));
  source_ = std::move(*source);
  source_->start();
  return {};
}

void DiscoveryManager::resync() {
  if (source_) source_->resync();
}

DiscoveryStatus DiscoveryManager::status() const {
  DiscoveryStatus out = status_;
  if (source_) out.source = source_->status();
  if (pipeline_) out.starved_resyncs = pipeline_->starvedRaises();
  return out;
}

int64_t DiscoveryManager::stalenessMs() const {
  if (status_.last_applied_unix_ms == 0) return -1;
  return core::unixNowMs() - status_.last_applied_unix_ms;
}

void DiscoveryManager::onStep(PipelineStep step) {
  // Drains reported before this step was made are published first (and so are pending when it
  // answers them): the timer may not have fired yet.
  if (!fresh_drains_.empty()) {
    drain_timer_.cancel();
    publishFreshDrains();
  }
  if (source_ && step.body.capacity() != 0) source_->recycle(std::move(step.body));
  status_.holding = step.holding;
  if (step.parse_ms >= 0) status_.last_parse_ms = step.parse_ms;
  if (!step.refusal.empty()) refuse(step.refusal);
  if (step.hold) confirm_timer_.arm(kConfirmDelay);
  if (step.accepted) {
    status_.from_state_file = step.from_disk;
    status_.apps = step.apps;
    status_.tasks = step.tasks;
  }
  if (!step.resolve.empty()) resolveThenTranslate(std::move(step.resolve), step.round);
  if (step.spec) {
    status_.last_translate_ms = step.translate_ms;
    // A spec translated before the pipeline saw a drain published here must not undo it.
    if (auto drained = withTasksDraining(*step.spec, pending_drains_)) {
      reclaimer_.dispose(std::exchange(step.spec, std::move(drained)));
    }
    applySpec(std::move(step.spec), /*from_document=*/true);
  }
  for (const std::string& id : step.ended_tasks) pending_drains_.erase(id);
}

// The fast path: the task's hosts drain in the published spec on this thread, as soon as the
// burst of events it came in has been read, and the pipeline records the drain for every later
// translate (it runs at low priority: on a saturated machine its translate may wait seconds for
// a core).
void DiscoveryManager::onTaskEnding(const std::string& task_id) {
  pipeline_->taskEnding(task_id);
  fresh_drains_.insert(task_id);
  if (!drain_timer_.armed()) drain_timer_.arm(std::chrono::milliseconds{0});
}

void DiscoveryManager::publishFreshDrains() {
  auto ids = std::exchange(fresh_drains_, {});
  auto drained = last_spec_ ? withTasksDraining(*last_spec_, ids) : nullptr;
  if (drained) {
    for (const std::string& id : ids) {
      core::logf(core::LogLevel::Info, "discovery: draining task %s (ending)", id.c_str());
    }
  }
  // Pending even when nothing drains here: a host other tasks share is left to the translate
  // (fast_drain.h), and a translate already running without this drain may publish that host
  // un-shared (the other task gone); the pipeline's step for these ids ends them (onStep).
  pending_drains_.merge(ids);
  if (drained) applySpec(std::move(drained), /*from_document=*/false);
}

// Resolves on this loop, then hands the answers to the pipeline, which translates unless a newer
// document has come meanwhile.
void DiscoveryManager::resolveThenTranslate(std::vector<std::string> names, uint64_t round) {
  auto asked = std::make_shared<std::vector<std::string>>(std::move(names));
  resolver_->resolveAll(*asked, [this, asked, round] {
    HostLookups lookups;
    for (const auto& name : *asked) lookups.emplace(name, resolver_->lookup(name));
    pipeline_->resolved(round, std::move(lookups));
  });
}

void DiscoveryManager::applySpec(std::shared_ptr<const conf::DiscoveredSpec> spec,
                                 bool from_document) {
  // Log issues once each, when they first appear; status keeps the full list.
  std::set<std::string> before;
  for (const auto& issue : status_.issues) before.insert(issue.text());
  for (const auto& issue : spec->issues) {
    if (!before.contains(issue.text())) {
      core::logf(core::LogLevel::Warn, "discovery: %s", issue.text().c_str());
    }
  }
  status_.issues = spec->issues;
  if (from_document) ++status_.documents_applied;
  status_.last_applied_unix_ms = core::unixNowMs();
  reclaimer_.dispose(std::exchange(last_spec_, spec));
  on_spec_(std::move(spec));
}

void DiscoveryManager::onSourceError(const std::string& error) {
  core::logf(core::LogLevel::Warn, "discovery: %s (keeping the last good state)", error.c_str());
}

void DiscoveryManager::refuse(const std::string& why) {
  ++status_.documents_refused;
  status_.last_refusal = why;
  core::logf(core::LogLevel::Warn, "discovery: refused: %s (keeping the last good state)",
             why.c_str());
}

}  // namespace baton::discovery
