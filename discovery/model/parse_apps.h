// Marathon's app document → typed apps (app.h). The only file of baton that includes simdjson.
//
// Called by the discovery manager on the control thread with the body of
// `GET /v2/apps?embed=apps.tasks` (or the same JSON read from a file), once per document.
// Pure: no I/O, no state kept between calls; the result owns all its strings.
//
// All or nothing: the whole document is validated before anything is returned, so a document
// that is only half understood is never applied (the caller keeps its last good state).
// Unknown fields are ignored and `null` counts as absent (marathon-lb strips nulls); a wrong
// type on a field baton reads is an error naming its path, e.g. `apps[3].labels.X: expected a
// string`. Network modes, service ports and task endpoints are resolved here (network.h).
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "discovery/model/app.h"
#include "proxy/core/error.h"

namespace baton::discovery {

// Apps shared from one document to the next (see AppsParser::parseShared).
using SharedApps = std::vector<std::shared_ptr<const App>>;

// `{"apps":[...]}` → the apps in document order. Errors are ErrorCode::ConfigInvalid with a
// detail naming what is wrong and where ("apps[3].id: missing", "document: not valid JSON: ...").
// Required: a JSON object with an `apps` array; each app an object whose `id` is a string
// starting with "/"; each task an object with a string `id`.
core::Result<std::vector<App>> parseApps(std::string_view json);

// The same, keeping simdjson's buffers (a few times the largest document seen) from one
// document to the next. Worth it for the discovery manager, which parses a document on every
// resync: on a 33 MB, 100,000-task document a fresh parser spends most of its time faulting in
// new buffers (measured: 650 ms in all with a fresh parser, 70-160 ms with a reused one).
// Not thread-safe: one instance per thread (the control thread).
class AppsParser {
 public:
  AppsParser();
  ~AppsParser();
  AppsParser(AppsParser&&) noexcept;
  AppsParser& operator=(AppsParser&&) noexcept;

  core::Result<std::vector<App>> parse(std::string_view json);
  // The same without copying the document: simdjson reads up to kPadding bytes past its end, so
  // they are zero-filled in `body`'s spare capacity (no reallocation when the source reserved
  // them, as FileSource does), and `body` is given back unchanged. Saves a copy of the whole
  // document per resync, and keeping a buffer of its size (33 MB for 100,000 tasks).
  core::Result<std::vector<App>> parseInPlace(std::string& body);

  // parseInPlace, but an app whose JSON is unchanged since the last successful call (as far as
  // baton reads it) is the very same App object as then, not a new one: most resyncs change one
  // app or none, and building 100,000 tasks was most of a resync's parse. Translate recognises a
  // reused app by its address (translate.h, TranslateCache). "Unchanged" is a 64-bit hash of
  // the app's bytes (or of its parsed DOM, see Stats) leaving out the health-check result
  // members other than `alive` (Marathon rewrites lastSuccess on every check), and the app id
  // must match.
  // The whole document is still validated, and a reused app is one that passed validation
  // before with the same content, so a document is accepted exactly when parseInPlace accepts
  // it, with the same apps, and refused with the same message. Unlike parseInPlace it keeps no
  // buffer the size of the document: the document is split into its apps (the skeleton between
  // them checked byte by byte) and simdjson parses one app at a time (~90 MB less resident for
  // 100,000 tasks); anything unusual or invalid is handed to the whole-document parse, whose
  // buffers are then released. Apps whose service ports came from the
  // IP-per-task assigner (which depends on the apps before them) are always parsed anew.
  // A failed parse keeps the previous call's apps as the reference.
  core::Result<SharedApps> parseShared(std::string& body);

  // How the last successful parseShared came by its apps. An app is looked up by a hash of its
  // bytes taken during the split (leaving out the result members other than `alive`, so a
  // rewritten lastSuccess still matches), with no parse at all; an app whose print cannot be
  // used (an escaped id, or the whole-document path) by the fingerprint of its parsed DOM.
  // A large document's second half is split and parsed on a helper thread when an app
  // boundary was found where it was guessed (parse_apps.cc, "the split on two threads").
  struct Stats {
    size_t by_print = 0;
    size_t by_fingerprint = 0;
    size_t parsed = 0;
    bool split_on_two_threads = false;
    bool whole_document = false;  // parsed as one DOM: the split found something unusual
  };
  Stats lastStats() const;

  static constexpr size_t kPadding = 64;  // simdjson::SIMDJSON_PADDING (checked in the .cc)

 private:
  // `padded` is followed by kPadding readable bytes.
  core::Result<std::vector<App>> parsePadded(std::string_view padded);
  core::Result<SharedApps> parseSharedPadded(std::string_view padded);
  // parseSharedPadded's usual path: the document split into apps, each parsed alone (no
  // document-sized buffers kept). nullopt: anything unusual or wrong, for the whole-document
  // parse to handle (and name the error).
  std::optional<SharedApps> parseSpans(std::string_view padded);

  struct Impl;  // simdjson stays out of this header
  std::unique_ptr<Impl> impl_;
};

// "TASK_RUNNING" → TaskState::Running, ...; any other string → TaskState::Unknown.
TaskState taskStateFromName(std::string_view name);

}  // namespace baton::discovery
