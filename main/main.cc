// baton: command line -> Server. The only catch-all in the program lives here: anything that
// escapes is a bug, reported and turned into a non-zero exit instead of an abort.
#include <unistd.h>

#include <cstdio>
#include <exception>
#include <string>

#include "main/cli.h"
#include "proxy/server.h"
#include "proxy/snapshot.h"
#include "proxy/upgrade/upgrade_handoff.h"

// jemalloc reads this at start-up. A proxied request allocates socket buffers of up to 64 KiB
// (one readv fills up to that much) and frees them when drained; above jemalloc's default
// thread-cache limit (32 KiB) each of those went to the arena (jemalloc stats: 2 "large"
// allocations per proxied request). Caching up to 128 KiB per thread measured 2-10% less CPU
// per keep-alive request (interleaved runs on a noisy VM: mean 28.9 -> 28.2 us).
// background_thread: jemalloc returns freed pages to the kernel from its own thread instead of
// the thread that frees them. A Marathon resync of 10,000 apps frees ~100 MB; purging it inline
// cost the control thread ~15-20 % of the resync's CPU (thousands of madvise calls), and only the
// background thread gives memory back while idle (RSS 480 -> 408 MiB 12 s after a resync).
// NOLINTNEXTLINE: jemalloc looks this symbol up by name.
extern "C" const char* malloc_conf;
const char* malloc_conf = "tcache_max:131072,background_thread:true";

namespace {

// What a binary upgrade runs again: this binary's path as of now (a new binary installed at the
// same path later is what runs: /proc/self/exe would then name the deleted old file) and the
// same arguments, without an --upgrade-fd of our own.
void rememberCommandLine(int argc, char** argv, baton::proxy::ServerOptions& options) {
  char path[4096];
  const ssize_t n = ::readlink("/proc/self/exe", path, sizeof(path) - 1);
  options.binary = n > 0 ? std::string(path, static_cast<size_t>(n)) : std::string(argv[0]);
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--upgrade-fd") {
      ++i;
      continue;
    }
    options.args.emplace_back(argv[i]);
  }
}

int runBaton(int argc, char** argv) {
  auto args = baton::cli::parseArguments(argc, argv);
  if (!args) {
    if (args.error().code == baton::core::ErrorCode::Ok) {  // --help
      std::fputs(baton::cli::kUsage, stdout);
      return 0;
    }
    std::fprintf(stderr, "baton: %s\n%s", args.error().detail.c_str(), baton::cli::kUsage);
    return 2;
  }
  for (const auto& note : args->settings.notes) std::fprintf(stderr, "baton: %s\n", note.c_str());
  if (args->check) {
    auto config = baton::proxy::Server::loadFileConfig(args->server);
    if (!config) {
      std::fprintf(stderr, "baton: %s\n", config.error().detail.c_str());
      return 2;
    }
    if (auto valid = baton::proxy::checkConfig(**config); !valid) {
      std::fprintf(stderr, "baton: %s\n", valid.error().detail.c_str());
      return 2;
    }
    std::fprintf(stderr, "baton: %s is valid\n", (*config)->file.c_str());
    return 0;
  }
  rememberCommandLine(argc, argv, args->server);
  auto server = baton::proxy::Server::create(args->server);
  if (!server) {
    std::fprintf(stderr, "baton: %s\n", server.error().detail.c_str());
    if (args->server.upgrade_fd >= 0) {  // the old process answers `batonctl upgrade` with it
      (void)baton::proxy::upgrade::sendFrame(args->server.upgrade_fd,
                                             baton::proxy::upgrade::kFailed, server.error().detail);
    }
    return 2;
  }
  return (*server)->run();
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return runBaton(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "baton: internal error: %s\n", e.what());
  } catch (...) {
    std::fprintf(stderr, "baton: internal error\n");
  }
  return 70;
}
