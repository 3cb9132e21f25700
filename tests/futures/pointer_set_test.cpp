// PointerSet, the set wait() and as_completed() take each future once with.

#include "concur/detail/pointer_set.hpp"

#include <cstddef>
#include <vector>

#include <gtest/gtest.h>

namespace {

using concur::detail::PointerSet;

TEST(PointerSet, InsertsOnceEach) {
  int a = 0, b = 0;
  PointerSet set(2);
  EXPECT_TRUE(set.insert(&a));
  EXPECT_TRUE(set.insert(&b));
  EXPECT_FALSE(set.insert(&a));
  EXPECT_FALSE(set.insert(&b));
}

TEST(PointerSet, ZeroCapacityStillHoldsOne) {
  int a = 0;
  PointerSet set(0);
  EXPECT_TRUE(set.insert(&a));
  EXPECT_FALSE(set.insert(&a));
}

TEST(PointerSet, FullToCapacityWithNeighboursAndDuplicates) {
  // Adjacent objects, as a pool's states are: the hash must spread them,
  // and probing must wrap past the table's end.
  constexpr std::size_t kCount = 100000;
  std::vector<std::byte> block(kCount * 16);
  PointerSet set(kCount);
  for (std::size_t i = 0; i < kCount; ++i) {
    ASSERT_TRUE(set.insert(&block[i * 16])) << i;
  }
  for (std::size_t i = 0; i < kCount; ++i) {
    ASSERT_FALSE(set.insert(&block[i * 16])) << i;
  }
}

}  // namespace
