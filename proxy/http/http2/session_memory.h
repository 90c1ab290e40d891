// The allocator both nghttp2 sessions use (nghttp2_session_{server,client}_new3): nghttp2's small
// per-stream and per-frame blocks come from a per-thread free list instead of malloc.
//
// Why: nghttp2 makes ~5 allocations per request (stream, outbound items, the copied response
// header list, header buffers) and frees them when the stream closes. At 100 streams per
// connection they come and go in bursts of ~1,000, more than jemalloc's per-thread cache holds,
// so most went to the arena: by callgrind ~270 instructions per malloc/free pair, ~1,300 per
// request. From the lists each malloc or free is ~20.
//
// Blocks carry a 16-byte header (their size class; the size for large ones) so that free() and
// realloc() know what they hold; so a block from here must come back here, never to free() (only
// nghttp2 sees them). Classes are 64 B .. 4 KiB (header included); larger requests go straight
// to malloc. A class keeps at most 1 MiB and 2,048 freed blocks per thread (beyond that they go
// back to free()), so a thread holds at most ~5 MiB it is not using, and only after a burst that
// used that much. Off under AddressSanitizer (every block freed, so a use after free is caught).
//
// Threading: a block may be freed on any thread (it joins that thread's lists); each thread's
// lists are freed at thread exit. Included only by server_session.cc, client_session.cc and the
// unit test (nghttp2 stays inside proxy/http/http2/).
#pragma once

#include <nghttp2/nghttp2.h>

#include <cstddef>

namespace baton::proxy::http2 {

// The allocator to hand to nghttp2_session_*_new3 (nghttp2 keeps the pointer: static storage).
nghttp2_mem* sessionMemory();

// For tests: freed blocks the calling thread's lists hold, all classes together; whether blocks
// are recycled at all (false under AddressSanitizer).
size_t sessionMemoryCachedBlocks();
bool sessionMemoryRecycles();

}  // namespace baton::proxy::http2
