// The pool's table of workers (src/futures/scheduler.hpp): every index
// keeps its own slot, in place or in a chunk, however many are used.

#include <cstddef>
#include <memory>

#include <gtest/gtest.h>

#include "futures/scheduler.hpp"

namespace {

using concur::futures_detail::SlotTable;

TEST(SlotTable, EveryIndexKeepsItsSlotAcrossChunks) {
  SlotTable<std::size_t> table;
  constexpr std::size_t kUsed = 64 + 128 + 256 + 5;  // into the fourth chunk
  for (std::size_t i = 0; i < kUsed; ++i) {
    table.put(i, std::make_unique<std::size_t>(i));
  }
  for (std::size_t i = 0; i < kUsed; ++i) {
    ASSERT_NE(table.get(i), nullptr) << i;
    EXPECT_EQ(*table.get(i), i);
  }
  table.put(100, nullptr);
  EXPECT_EQ(table.get(100), nullptr);
  EXPECT_EQ(*table.get(99), 99u);
}

}  // namespace
