// A discovery source reading a local file with the same JSON as GET /v2/apps?embed=apps.tasks
// (spec.urls[0] = "file:PATH"): for demos, tests and clusters where another tool writes it.
//
// Control thread only (see source.h). The file is read at start(), on resync(), and whenever it
// changes: inotify watches the file's directory (IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE for
// that name, so an editor's or a script's rename-into-place is seen), debounced a few ms so a
// create + write + close is read once. A missing or unreadable file is an on_error (the last
// state is kept) and watching goes on.
#pragma once

#include <memory>
#include <string>

#include "discovery/source.h"

struct event;

namespace baton::discovery {

class FileSource final : public Source {
 public:
  static constexpr std::chrono::milliseconds kDebounce{5};

  static core::Result<std::unique_ptr<FileSource>> create(core::EventLoop& loop, std::string path,
                                                          Callbacks callbacks);
  ~FileSource() override;

  void start() override;
  void resync() override { read_timer_.arm(std::chrono::milliseconds{0}); }
  SourceStatus status() const override { return status_; }
  // Kept for the next read while documents keep coming; freed kKeepBuffer after the last one.
  void recycle(std::string body) override;
  static constexpr std::chrono::seconds kKeepBuffer{5};

 private:
  FileSource(core::EventLoop& loop, std::string path, Callbacks callbacks);
  static void onInotify(int fd, short what, void* arg);
  void drainInotify();
  void readFile();

  core::EventLoop& loop_;
  std::string path_, dir_, name_;
  Callbacks callbacks_;
  int inotify_fd_ = -1;
  event* watch_event_ = nullptr;
  core::Timer read_timer_;
  std::string spare_;  // the last document's buffer (recycle), read into next
  core::Timer release_timer_;
  SourceStatus status_;
};

}  // namespace baton::discovery
