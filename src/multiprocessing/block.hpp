// The shared blocks that hold multiprocessing's locks, events and values:
// each one a memfd mapping, owned so that a pointer into it (an aliasing
// shared_ptr) can name its block's descriptor when it travels to a
// forkserver child (mp_transfer.hpp).
#pragma once

#include <cstddef>
#include <memory>

#include "concur/detail/sys/shared_memory.hpp"

namespace concur::multiprocessing_detail {

// A zeroed block of shared memory of `size` bytes, alive while any handle
// in this process refers into it. Throws OSError.
std::shared_ptr<sys::SharedMapping> map_block(std::size_t size,
                                              const char* name);

template <class T>
std::shared_ptr<T> alias(const std::shared_ptr<sys::SharedMapping>& block,
                         void* where) {
  return std::shared_ptr<T>(block, static_cast<T*>(where));
}

}  // namespace concur::multiprocessing_detail
