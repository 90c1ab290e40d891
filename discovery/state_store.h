// The last good Marathon document on disk, so a restart while Marathon is down starts from it
// (faults.md: "baton restarts while Marathon is down").
//
// Called by the discovery manager on the control thread: saveState after a document was
// accepted, loadState once at start. Blocking file I/O, small and rare (not on the data path).
// Format: one header line "baton-state v1 fnv1a64=<16 hex> length=<n>\n", then the document.
// Written to a temp file in the same directory, fsynced, renamed over the old one, and the
// directory fsynced: a crash leaves the old file or the new one, never a mix. A torn, truncated
// or edited file fails the checksum and is refused on load.
#pragma once

#include <string>
#include <string_view>

#include "proxy/core/error.h"

namespace baton::discovery {

core::Result<void> saveState(const std::string& path, std::string_view document);
core::Result<std::string> loadState(const std::string& path);

}  // namespace baton::discovery
