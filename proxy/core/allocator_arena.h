// jemalloc's arenas, where the binary links jemalloc (unit tests other than core's do not): the
// one place that calls mallctl. Without jemalloc every call here does nothing and says so.
//
// Why: an idle-class thread (background_lane.h) can be preempted, for want of an idle core,
// while it holds one of its arena's bin locks (a thread-cache refill or flush). Threads share
// arenas (jemalloc keeps 4 per core and gives each new thread the least used), so a worker could
// then wait on it. Background work allocates from an arena of its own instead.
#pragma once

namespace baton::core {

// Moves the calling thread's future allocations to the background arena (made on first use,
// shared by every thread that asks). Returns its index; -1 without jemalloc.
int useBackgroundArena();

// The calling thread's arena index; -1 without jemalloc.
int currentArena();

// Gives the calling thread its thread cache now; false without jemalloc. A thread that has only
// ever freed (the reclaimer: what it frees was allocated elsewhere, and it allocates nothing)
// stays in jemalloc's "minimal" state, which has no thread cache: every free then locks its
// bin, one lock per object, instead of one per batch of a cache flush.
bool enableThreadCache();

// Returns everything in the calling thread's cache to the arenas' bins (one lock per bin);
// false without jemalloc. The reclaimer's cache fills with what it frees; flushed after each
// batch, that memory can be reused by others or purged instead of waiting for its next batch.
bool flushThreadCache();

}  // namespace baton::core
