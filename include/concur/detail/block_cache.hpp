// BlockCache: each thread's cache of recently freed small blocks, in front of
// ::operator new, for objects made and freed at a high rate (the state of a
// submitted task: one per submit).
//
// glibc's per-thread cache keeps seven blocks of a size. A task that submits
// ten children and then drops their futures overflows it on every round and
// falls through to the arena's lock. This cache keeps up to kMaxBytes of
// freed blocks, in 16-byte size classes (malloc's own granule, so no block
// is larger than malloc would have made it) up to kMaxSize bytes; larger
// requests go straight to ::operator new.
//
// Thread safety: every thread has its own cache and nothing in it is shared,
// so no operation is atomic. A block freed by another thread than the one
// that made it joins the freeing thread's cache (as with tcmalloc's thread
// caches): memory migrates between threads, but each cache is bounded.
// Whatever hands an object from one thread to another (a reference count)
// also orders its last use before the block's reuse.
//
// A thread's cached blocks go back to ::operator delete when the thread
// ends; blocks freed after that (by later thread-exit or static destructors)
// go straight to ::operator delete. Under AddressSanitizer the cache is off,
// so that every use after free is still caught.
#pragma once

#include <cstddef>
#include <cstdint>
#include <new>

#if defined(__SANITIZE_ADDRESS__)
#define CONCUR_BLOCK_CACHE 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CONCUR_BLOCK_CACHE 0
#endif
#endif
#ifndef CONCUR_BLOCK_CACHE
#define CONCUR_BLOCK_CACHE 1
#endif

namespace concur::detail::block_cache {

inline constexpr std::size_t kGranule = 16;
inline constexpr std::size_t kClasses = 16;
inline constexpr std::size_t kMaxSize = kGranule * kClasses;
// Per thread, over all classes: hundreds of task states, enough for the
// outstanding children of a deep fork-join tree.
inline constexpr std::size_t kMaxBytes = std::size_t{64} * 1024;

struct FreeBlock {
  FreeBlock* next;
};

// Plain data with a constant initializer, so that the fast paths read it
// without a thread_local initialization check.
struct ThreadCache {
  enum Phase : std::uint8_t { kUnused, kLive, kGone };
  FreeBlock* head[kClasses];
  std::size_t bytes;  // cached, over all classes
  Phase phase;
};
inline constinit thread_local ThreadCache tls_cache{};

constexpr std::size_t class_of(std::size_t size) noexcept {
  return (size - 1) / kGranule;
}
constexpr std::size_t class_size(std::size_t size_class) noexcept {
  return (size_class + 1) * kGranule;
}

// The slow paths (block_cache.cpp): the cache is empty, full, not yet
// registered for thread exit, or gone.
void* allocate_slow(std::size_t size_class);
void deallocate_slow(void* block, std::size_t size_class) noexcept;

inline void* allocate(std::size_t size) {
  if (!CONCUR_BLOCK_CACHE || size > kMaxSize || size == 0) {
    return ::operator new(size);
  }
  const std::size_t k = class_of(size);
  ThreadCache& cache = tls_cache;
  if (FreeBlock* block = cache.head[k]) {
    cache.head[k] = block->next;
    cache.bytes -= class_size(k);
    return block;
  }
  return allocate_slow(k);
}

inline void deallocate(void* block, std::size_t size) noexcept {
  if (!CONCUR_BLOCK_CACHE || size > kMaxSize || size == 0) {
    ::operator delete(block);
    return;
  }
  const std::size_t k = class_of(size);
  ThreadCache& cache = tls_cache;
  if (cache.phase == ThreadCache::kLive &&
      cache.bytes + class_size(k) <= kMaxBytes) {
    cache.head[k] = ::new (block) FreeBlock{cache.head[k]};
    cache.bytes += class_size(k);
    return;
  }
  deallocate_slow(block, k);
}

}  // namespace concur::detail::block_cache
