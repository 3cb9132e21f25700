#include "concur/detail/block_cache.hpp"

namespace concur::detail::block_cache {

namespace {

// Constructed on a thread's first use of the cache; its destructor runs at
// that thread's exit and hands the cached blocks back.
struct ExitHook {
  ExitHook() noexcept { tls_cache.phase = ThreadCache::kLive; }
  ExitHook(const ExitHook&) = delete;
  ExitHook& operator=(const ExitHook&) = delete;
  ~ExitHook() {
    ThreadCache& cache = tls_cache;
    cache.phase = ThreadCache::kGone;
    for (std::size_t k = 0; k < kClasses; ++k) {
      while (FreeBlock* block = cache.head[k]) {
        cache.head[k] = block->next;
        ::operator delete(block);
      }
    }
    cache.bytes = 0;
  }
};

void start_cache() noexcept {
  // Touching the thread_local constructs it and registers its destructor.
  thread_local ExitHook hook;
  static_cast<void>(hook);
}

}  // namespace

void* allocate_slow(std::size_t size_class) {
  if (tls_cache.phase == ThreadCache::kUnused) start_cache();
  // Every block of a class has the class's full size, so that any block in
  // the list can serve any request of that class.
  return ::operator new(class_size(size_class));
}

void deallocate_slow(void* block, std::size_t size_class) noexcept {
  ThreadCache& cache = tls_cache;
  if (cache.phase == ThreadCache::kUnused) {
    start_cache();
    cache.head[size_class] = ::new (block) FreeBlock{cache.head[size_class]};
    cache.bytes += class_size(size_class);
    return;
  }
  ::operator delete(block);
}

}  // namespace concur::detail::block_cache
