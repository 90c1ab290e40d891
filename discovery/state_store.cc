#include "discovery/state_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>

namespace baton::discovery {
namespace {

constexpr std::string_view kMagic = "baton-state v1";

uint64_t fnv1a64(std::string_view bytes) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h;
}

core::Error ioError(const std::string& what, const std::string& path) {
  return core::Error{core::ErrorCode::ConfigIo, core::ErrorSource::Internal, false,
                     "state file " + path + ": " + what + ": " + std::strerror(errno)};
}

std::string header(std::string_view document) {
  char buf[96];
  std::snprintf(buf, sizeof buf, "%s fnv1a64=%016" PRIx64 " length=%zu\n", kMagic.data(),
                fnv1a64(document), document.size());
  return buf;
}

bool writeAll(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

std::string dirOf(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

}  // namespace

core::Result<void> saveState(const std::string& path, std::string_view document) {
  std::string tmp = path + ".tmp.XXXXXX";
  const int fd = ::mkstemp(tmp.data());
  if (fd < 0) return core::fail(ioError("create temp file", path));
  const bool ok = writeAll(fd, header(document)) && writeAll(fd, document) && ::fsync(fd) == 0;
  const int saved_errno = errno;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    if (!ok) errno = saved_errno;
    auto err = ioError(ok ? "rename" : "write", path);
    ::unlink(tmp.c_str());
    return core::fail(std::move(err));
  }
  // The rename is durable only once the directory entry is.
  if (const int dfd = ::open(dirOf(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return {};
}

core::Result<std::string> loadState(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return core::fail(ioError("open", path));
  std::string content;
  char buf[65536];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) != 0) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      auto err = ioError("read", path);
      ::close(fd);
      return core::fail(std::move(err));
    }
    content.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  const size_t nl = content.find('\n');
  auto refuse = [&](const std::string& why) {
    return core::fail(core::Error{core::ErrorCode::ConfigInvalid, core::ErrorSource::Internal,
                                  false, "state file " + path + ": " + why});
  };
  if (nl == std::string::npos) return refuse("no header line");
  std::string_view document = std::string_view(content).substr(nl + 1);
  if (std::string_view(content).substr(0, nl + 1) != header(document))
    return refuse("checksum or length mismatch (torn or edited file)");
  return std::string(document);
}

}  // namespace baton::discovery
