// Replaces the global operator new and delete of the codec test binary
// with ones over malloc that count while a CountAllocations is alive. The
// aligned forms are left to the library (they end in free() too).
#include "counting_new.hpp"

#include <atomic>
#include <cstdlib>
#include <new>

namespace {

std::atomic<bool> counting{false};
std::atomic<std::size_t> allocations{0};
std::atomic<std::size_t> largest{0};

void* allocate(std::size_t size) {
  if (counting.load(std::memory_order_relaxed)) {
    allocations.fetch_add(1, std::memory_order_relaxed);
    std::size_t seen = largest.load(std::memory_order_relaxed);
    while (size > seen && !largest.compare_exchange_weak(
                              seen, size, std::memory_order_relaxed)) {
    }
  }
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}

}  // namespace

void* operator new(std::size_t size) { return allocate(size); }
void* operator new[](std::size_t size) { return allocate(size); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

namespace codec_test {

CountAllocations::CountAllocations() {
  allocations.store(0);
  largest.store(0);
  counting.store(true);
}

CountAllocations::~CountAllocations() { stop(); }

AllocationCount CountAllocations::stop() {
  if (!stopped_) {
    counting.store(false);
    stopped_ = true;
  }
  return {allocations.load(), largest.load()};
}

}  // namespace codec_test
