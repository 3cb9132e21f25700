// The codec tests' global operator new and delete (counting_new.cpp):
// while counting is on, every allocation in the process is counted and the
// largest is remembered, so that a test can say "no allocation" or "no large
// allocation" about the calls it makes.
#pragma once

#include <cstddef>

namespace codec_test {

struct AllocationCount {
  std::size_t count;
  std::size_t largest;
};

// Counts allocations from construction to stop() (or destruction). One at a
// time; the counters are process-wide.
class CountAllocations {
 public:
  CountAllocations();
  ~CountAllocations();
  CountAllocations(const CountAllocations&) = delete;
  CountAllocations& operator=(const CountAllocations&) = delete;

  AllocationCount stop();

 private:
  bool stopped_ = false;
};

}  // namespace codec_test
