#include "discovery/source.h"

#include "discovery/file_source.h"
#include "discovery/marathon_source.h"

namespace baton::discovery {

core::Result<std::unique_ptr<Source>> createSource(core::EventLoop& loop,
                                                   const conf::MarathonSpec& spec,
                                                   Source::Callbacks callbacks) {
  if (spec.urls.empty()) return core::fail(core::Error::config("marathon: no URL configured"));
  if (spec.urls.front().starts_with("file:")) {
    if (spec.urls.size() > 1)
      return core::fail(core::Error::config("marathon: a file: source takes exactly one URL"));
    auto file = FileSource::create(loop, spec.urls.front().substr(5), std::move(callbacks));
    if (!file) return core::fail(std::move(file.error()));
    return std::unique_ptr<Source>(std::move(*file));
  }
  auto marathon = MarathonSource::create(loop, spec, std::move(callbacks));
  if (!marathon) return core::fail(std::move(marathon.error()));
  return std::unique_ptr<Source>(std::move(*marathon));
}

}  // namespace baton::discovery
