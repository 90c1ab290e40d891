// nghttp2's allocator: see session_memory.h.
#include "proxy/http/http2/session_memory.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <cstdlib>
#include <cstring>

namespace baton::proxy::http2 {

namespace {

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kRecycle = false;
#else
constexpr bool kRecycle = true;
#endif

// In front of every block: keeps the payload 16-byte aligned, as malloc's is.
struct alignas(16) Header {
  uint32_t size_class;  // 0 .. kClasses - 1, or kLarge
  size_t bytes;         // the payload asked for (a large block's capacity)
};
static_assert(sizeof(Header) == 16);

constexpr size_t kClasses = 7;  // 64 B << class, header included: 64 B .. 4 KiB
constexpr size_t kMinClassBytes = 64;
constexpr uint32_t kLarge = kClasses;
// Enough for a burst of ~1,000 streams (ten connections at 100 streams) to be served from the
// lists (256 KiB per class was not: one block in nine still went to malloc).
constexpr size_t kCachedBytesPerClass = 1024 * 1024;
constexpr size_t kMaxBlocks = 2048;

constexpr size_t classBytes(uint32_t c) {
  return kMinClassBytes << c;
}
constexpr size_t classLimit(uint32_t c) {
  return std::min(kMaxBlocks, kCachedBytesPerClass / classBytes(c));
}

uint32_t classFor(size_t payload) {
  const size_t total = payload + sizeof(Header);
  const auto c = static_cast<uint32_t>(std::bit_width((total - 1) / kMinClassBytes));
  return c < kClasses ? c : kLarge;
}

size_t payloadCapacity(const Header* h) {
  return h->size_class == kLarge ? h->bytes : classBytes(h->size_class) - sizeof(Header);
}

struct Link {
  Link* next;
};

// One thread's lists, newest block first. Trivially destructible, so reaching it is one
// thread-pointer-relative access (no TLS init guard on the hot path); Reaper frees the blocks.
struct Lists {
  std::array<Link*, kClasses> heads;
  std::array<uint32_t, kClasses> counts;
};
constinit thread_local Lists t_lists{};

// Set once the thread's lists are freed: a block released later in the thread's exit (a session
// destroyed by another thread_local's destructor) goes straight back to free(), not to a list
// nobody would free.
constinit thread_local bool t_reaped = false;

// Frees the thread's cached blocks at its exit. Touched when a list goes from empty to non-empty
// (the only way blocks get cached), which registers its destructor once per thread.
struct Reaper {
  bool armed = false;
  ~Reaper() {
    t_reaped = true;
    for (Link*& head : t_lists.heads) {
      while (head != nullptr) {
        Link* next = head->next;
        std::free(head);
        head = next;
      }
    }
    t_lists.counts = {};
  }
};
thread_local Reaper t_reaper;

void* allocate(size_t payload, void* /*user_data*/) {
  const uint32_t c = classFor(payload);
  Lists& lists = t_lists;
  void* raw = nullptr;
  if (c != kLarge && lists.heads[c] != nullptr) {
    Link* block = lists.heads[c];
    lists.heads[c] = block->next;
    --lists.counts[c];
    raw = block;
  } else {
    raw = std::malloc(c == kLarge ? payload + sizeof(Header) : classBytes(c));
    if (raw == nullptr) return nullptr;
  }
  auto* h = static_cast<Header*>(raw);
  h->size_class = c;
  h->bytes = payload;
  return h + 1;
}

void release(void* p, void* /*user_data*/) {
  if (p == nullptr) return;
  Header* h = static_cast<Header*>(p) - 1;
  const uint32_t c = h->size_class;
  Lists& lists = t_lists;
  if (!kRecycle || c == kLarge || lists.counts[c] >= classLimit(c) || t_reaped) {
    std::free(h);
    return;
  }
  if (lists.counts[c] == 0) t_reaper.armed = true;
  auto* link = reinterpret_cast<Link*>(h);
  link->next = lists.heads[c];
  lists.heads[c] = link;
  ++lists.counts[c];
}

void* allocateZeroed(size_t n, size_t size, void* user_data) {
  if (size != 0 && n > SIZE_MAX / size) return nullptr;
  void* p = allocate(n * size, user_data);
  if (p != nullptr) std::memset(p, 0, n * size);
  return p;
}

void* reallocate(void* p, size_t size, void* user_data) {
  if (p == nullptr) return allocate(size, user_data);
  if (size == 0) {
    release(p, user_data);
    return nullptr;
  }
  const size_t have = payloadCapacity(static_cast<Header*>(p) - 1);
  if (size <= have) return p;
  void* grown = allocate(size, user_data);
  if (grown == nullptr) return nullptr;  // p stays valid, as realloc's contract says
  std::memcpy(grown, p, have);
  release(p, user_data);
  return grown;
}

nghttp2_mem g_memory = {nullptr, &allocate, &release, &allocateZeroed, &reallocate};

}  // namespace

nghttp2_mem* sessionMemory() {
  return &g_memory;
}

size_t sessionMemoryCachedBlocks() {
  size_t n = 0;
  for (uint32_t c : t_lists.counts) n += c;
  return n;
}

bool sessionMemoryRecycles() {
  return kRecycle;
}

}  // namespace baton::proxy::http2
