// concur/os.hpp — the parts of Python's `os` module that concurrency code
// asks for: how many CPUs there are.
//
// These are the one CPU count concur itself uses: ThreadPoolExecutor's
// default size and the decision whether blocked threads spin first both
// come from process_cpu_count().
//
// Thread safety: both may be called from any thread.
//
// Differences from Python: both return at least 1 where Python may return
// None (a count the system cannot tell).
#pragma once

#include <cstddef>

namespace concur::os {

// Logical CPUs online in the system (Python's os.cpu_count()).
std::size_t cpu_count() noexcept;
// Logical CPUs the calling thread may run on now: its affinity set, as
// taskset or a container's CPU set limits it, which a process's threads
// inherit (Python 3.13's os.process_cpu_count(), which reads the same).
std::size_t process_cpu_count() noexcept;

}  // namespace concur::os
