#include <sched.h>
#include <unistd.h>

#include "concur/detail/sys/spin.hpp"
#include "concur/os.hpp"

namespace concur {

std::size_t os::cpu_count() noexcept {
  const long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? static_cast<std::size_t>(n) : 1;
}

std::size_t os::process_cpu_count() noexcept {
  cpu_set_t cpus;
  CPU_ZERO(&cpus);
  if (sched_getaffinity(0, sizeof cpus, &cpus) != 0) return cpu_count();
  const int n = CPU_COUNT(&cpus);
  return n > 0 ? static_cast<std::size_t>(n) : 1;
}

// Read at program start: a thread pinned later to one CPU may still be
// waiting for a thread on another, so a thread's own affinity at the time
// it waits is the wrong question. (A wait during static initialisation,
// before this is set, reads 0 and parks without spinning.)
extern const int sys::process_spin_limit =
    os::process_cpu_count() > 1 ? sys::kSpinLimit : 0;

}  // namespace concur
