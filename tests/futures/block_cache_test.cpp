// The per-thread block cache behind task states (detail/block_cache.hpp):
// blocks are reused within a thread, any size up to the largest class is
// served, a block freed on another thread than its maker's is fine, the
// cache is bounded, and a thread's cache is given back when it ends.
#include "concur/detail/block_cache.hpp"

#include <gtest/gtest.h>

#include <cstddef>
#include <cstring>
#include <set>
#include <thread>
#include <vector>

namespace {

namespace bc = concur::detail::block_cache;

TEST(BlockCache, ServesEverySizeWithUsableMemory) {
  for (std::size_t size = 1; size <= bc::kMaxSize + 64; ++size) {
    void* block = bc::allocate(size);
    ASSERT_NE(block, nullptr);
    std::memset(block, 0xab, size);  // ASan checks the whole block is ours
    bc::deallocate(block, size);
  }
}

TEST(BlockCache, ReusesAFreedBlockOfTheSameClass) {
  if (!CONCUR_BLOCK_CACHE) GTEST_SKIP() << "the cache is off under ASan";
  void* first = bc::allocate(72);
  bc::deallocate(first, 72);
  // 80 is in the same 16-byte class as 72.
  void* second = bc::allocate(80);
  EXPECT_EQ(first, second);
  bc::deallocate(second, 80);
}

TEST(BlockCache, IsBoundedPerThread) {
  constexpr std::size_t kSize = 64;
  const std::size_t count = 4 * bc::kMaxBytes / kSize;
  std::vector<void*> blocks;
  for (std::size_t i = 0; i < count; ++i) blocks.push_back(bc::allocate(kSize));
  for (void* block : blocks) bc::deallocate(block, kSize);
  EXPECT_LE(bc::tls_cache.bytes, bc::kMaxBytes);
}

TEST(BlockCache, BlocksCrossThreads) {
  // Made here, freed by another thread (which caches them), and the other
  // way round: no block is handed out twice while live.
  constexpr int kBlocks = 1000;
  std::vector<void*> made;
  for (int i = 0; i < kBlocks; ++i) made.push_back(bc::allocate(48));
  std::vector<void*> theirs;
  std::thread([&] {
    for (void* block : made) bc::deallocate(block, 48);
    for (int i = 0; i < kBlocks; ++i) theirs.push_back(bc::allocate(48));
  }).join();
  std::set<void*> distinct(theirs.begin(), theirs.end());
  EXPECT_EQ(distinct.size(), theirs.size());
  for (void* block : theirs) bc::deallocate(block, 48);
}

TEST(BlockCache, ManyThreadsAllocateAndFree) {
  struct Live {
    unsigned char* block;
    std::size_t size;
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([t] {
      std::vector<Live> live;
      for (int round = 0; round < 2000; ++round) {
        std::size_t size = 1 + static_cast<std::size_t>((round * 7 + t) % 300);
        auto* block = static_cast<unsigned char*>(bc::allocate(size));
        std::memset(block, t, size);
        live.push_back({block, size});
        if (live.size() > 50) {
          for (const Live& l : live) {
            // Nobody else wrote into a live block.
            ASSERT_EQ(l.block[0], t);
            ASSERT_EQ(l.block[l.size - 1], t);
            bc::deallocate(l.block, l.size);
          }
          live.clear();
        }
      }
      for (const Live& l : live) bc::deallocate(l.block, l.size);
    });
  }
  for (auto& thread : threads) thread.join();
}

// Destroyed after the cache of its thread (made before it), so its
// destructor frees into a cache that is gone.
struct FreesAtThreadExit {
  void* block = nullptr;
  ~FreesAtThreadExit() { bc::deallocate(block, 40); }
};

TEST(BlockCache, ThreadExitGivesTheCacheBack) {
  std::thread([] {
    thread_local FreesAtThreadExit late;
    late.block = bc::allocate(40);
    for (int i = 0; i < 100; ++i) bc::deallocate(bc::allocate(32), 32);
    if (CONCUR_BLOCK_CACHE) {
      EXPECT_EQ(bc::tls_cache.phase, bc::ThreadCache::kLive);
      EXPECT_GT(bc::tls_cache.bytes, 0u);
    }
  }).join();
  // LeakSanitizer (make check-asan) and valgrind see every block returned.
}

}  // namespace
