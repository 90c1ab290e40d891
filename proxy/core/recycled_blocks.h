// A per-thread free list for one block size, behind a class's operator new/delete.
#pragma once

#include <cstddef>
#include <new>

namespace baton::core {

// Freed blocks of one size kept per thread for the next object of that size, newest first, at
// most kMaxBlocks (beyond that they go back to the allocator). For the per-request objects that
// live in the thousands at once (HTTP/2 at 100 streams per connection: ~1,000 Streams in flight
// on ten connections): jemalloc's per-thread cache holds ~20 blocks of Stream's 2 KiB size
// class, so each burst went to the arena (lock, slab bookkeeping; ~400 instructions per new
// and per delete by callgrind) and came back cache-cold. Use as a class's operator new/delete
// (proxy::Stream, the HTTP/2 StreamSink); a block freed on another thread joins that thread's
// cache. Off under AddressSanitizer, which must see every block freed to catch a use after free.
// Threading: each thread its own cache; blocks left at thread exit are freed.
template <size_t kBlockSize, size_t kMaxBlocks>
class RecycledBlocks {
 public:
#if defined(__SANITIZE_ADDRESS__)
  static constexpr bool kEnabled = false;
#else
  static constexpr bool kEnabled = true;
#endif

  static void* take(size_t size) {
    Cache& cache = t_cache;
    if (size != kBlockSize || cache.head == nullptr) return ::operator new(size);
    Link* block = cache.head;
    cache.head = block->next;
    --cache.count;
    return block;
  }
  static void give(void* p, size_t size) {
    Cache& cache = t_cache;
    if (!kEnabled || size != kBlockSize || cache.count >= kMaxBlocks) {
      ::operator delete(p, size);
      return;
    }
    cache.head = new (p) Link{cache.head};
    ++cache.count;
  }

 private:
  struct Link {
    Link* next;
  };
  struct Cache {
    ~Cache() {
      while (head != nullptr) {
        Link* next = head->next;
        ::operator delete(static_cast<void*>(head), kBlockSize);
        head = next;
      }
    }
    Link* head = nullptr;
    size_t count = 0;
  };
  static thread_local Cache t_cache;
};
template <size_t kBlockSize, size_t kMaxBlocks>
thread_local typename RecycledBlocks<kBlockSize, kMaxBlocks>::Cache
    RecycledBlocks<kBlockSize, kMaxBlocks>::t_cache;

// A std allocator whose single objects come from RecycledBlocks (arrays, e.g. a hash table's
// buckets, from operator new): for containers with one node per in-flight request, such as the
// stream maps of an HTTP/2 connection, whose nodes come and go in the same bursts as the streams.
template <typename T, size_t kMaxBlocks = 4096>
struct RecyclingAllocator {
  using value_type = T;
  RecyclingAllocator() = default;
  template <typename U>
  RecyclingAllocator(const RecyclingAllocator<U, kMaxBlocks>&) {}  // NOLINT: rebinding

  T* allocate(size_t n) {
    static_assert(sizeof(T) >= sizeof(void*), "a recycled block holds a link");
    if (n == 1) return static_cast<T*>(RecycledBlocks<sizeof(T), kMaxBlocks>::take(sizeof(T)));
    return static_cast<T*>(::operator new(n * sizeof(T)));
  }
  void deallocate(T* p, size_t n) {
    if (n == 1) {
      RecycledBlocks<sizeof(T), kMaxBlocks>::give(p, sizeof(T));
    } else {
      ::operator delete(p, n * sizeof(T));
    }
  }
  template <typename U>
  struct rebind {
    using other = RecyclingAllocator<U, kMaxBlocks>;
  };
  template <typename U>
  bool operator==(const RecyclingAllocator<U, kMaxBlocks>&) const {
    return true;
  }
};

}  // namespace baton::core
