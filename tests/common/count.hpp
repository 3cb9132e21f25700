// Count: 0, 1, 2, ... as an input range that is not sized, for the tests
// of what map() takes (pools of threads and of processes).
#pragma once

#include <atomic>
#include <cstddef>

namespace concur_test {

// 0, 1, 2, ... as an input range, as itertools.count(): without end, or up
// to `limit`, counting the reads of its elements in `reads` if given.
// (Not std::views::iota or a views::transform over a list, which clang 14
// cannot instantiate over libstdc++ 12's ranges.)
class Count {
 public:
  explicit Count(int limit = -1, std::atomic<int>* reads = nullptr)
      : limit_(limit), reads_(reads) {}
  struct End {};
  class Iterator {
   public:
    using value_type = int;
    using difference_type = std::ptrdiff_t;
    Iterator() = default;
    Iterator(int limit, std::atomic<int>* reads)
        : limit_(limit), reads_(reads) {}
    int operator*() const {
      if (reads_ != nullptr) reads_->fetch_add(1);
      return n_;
    }
    Iterator& operator++() {
      ++n_;
      return *this;
    }
    void operator++(int) { ++n_; }
    friend bool operator==(const Iterator& it, End) {
      return it.n_ == it.limit_;
    }

   private:
    int n_ = 0;
    int limit_ = -1;
    std::atomic<int>* reads_ = nullptr;
  };
  Iterator begin() const { return {limit_, reads_}; }
  End end() const { return {}; }

 private:
  int limit_;
  std::atomic<int>* reads_;
};

}  // namespace concur_test
