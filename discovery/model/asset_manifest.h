// Asset manifests (BATON_PIN_MANIFEST, asset pinning rule 5): the files a version's build holds,
// read from the manifest its bundler writes, so the learned map starts knowing which version has
// which content-hashed file instead of learning it from a 404.
//
// Accepted bodies: JSON (webpack/CRA `asset-manifest.json`, Vite `.vite/manifest.json`, a plain
// array or object of paths: every string VALUE that looks like a file path is taken, keys are
// not), or plain text with one path per line. A relative path ("assets/app.1a2b3c4d.js") is made
// absolute; URLs with a scheme, protocol-relative ones, strings with whitespace or control bytes
// and anything longer than kMaxPathBytes are skipped. At most kMaxPaths paths are kept.
//
// Pure; called on the control thread when a fetched manifest arrives.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "proxy/core/error.h"

namespace baton::discovery {

constexpr size_t kMaxManifestPaths = 100'000;
constexpr size_t kMaxManifestPathBytes = 1024;

// Error: malformed JSON (a body starting with '{' or '['), naming what simdjson found.
core::Result<std::vector<std::string>> parseAssetManifest(std::string_view body);

}  // namespace baton::discovery
