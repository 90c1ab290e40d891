#include "proxy/core/allocator_arena.h"

#include <cstddef>

// Weak: resolved when jemalloc is linked (the baton binary), null otherwise. jemalloc's own
// header is not needed for this one declaration.
extern "C" int mallctl(const char* name, void* old_value, size_t* old_size, void* new_value,
                       size_t new_size) __attribute__((weak));

namespace baton::core {
namespace {

int createArena() {
  if (mallctl == nullptr) return -1;
  unsigned index = 0;
  size_t size = sizeof(index);
  return mallctl("arenas.create", &index, &size, nullptr, 0) == 0 ? static_cast<int>(index) : -1;
}

}  // namespace

int useBackgroundArena() {
  static const int arena = createArena();
  if (arena < 0) return -1;
  unsigned index = static_cast<unsigned>(arena);
  return mallctl("thread.arena", nullptr, nullptr, &index, sizeof(index)) == 0 ? arena : -1;
}

bool enableThreadCache() {
  if (mallctl == nullptr) return false;
  bool on = true;
  return mallctl("thread.tcache.enabled", nullptr, nullptr, &on, sizeof(on)) == 0;
}

bool flushThreadCache() {
  if (mallctl == nullptr) return false;
  return mallctl("thread.tcache.flush", nullptr, nullptr, nullptr, 0) == 0;
}

int currentArena() {
  if (mallctl == nullptr) return -1;
  unsigned index = 0;
  size_t size = sizeof(index);
  return mallctl("thread.arena", &index, &size, nullptr, 0) == 0 ? static_cast<int>(index) : -1;
}

}  // namespace baton::core
