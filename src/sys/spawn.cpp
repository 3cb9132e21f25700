// spawn: the clone(CLONE_VM | CLONE_VFORK) child and the parent's side.
//
// The child shares this process's memory and, without CLONE_SETTLS, the
// calling thread's thread-local storage, while that thread is suspended
// until the child executes the program or exits. So the child calls
// nothing but syscall() (bound by the parent before the clone, so no lazy
// binding runs in the child) and is built without sanitizer
// instrumentation, whose runtime would take the child for the thread.
#include "sys/spawn.hpp"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstddef>

#include "concur/errors.hpp"
#include "sys/process.hpp"

// glibc's own name for clone(). The sanitizers intercept clone() and treat
// a CLONE_VM child as a fork, running their runtime in it; __clone is the
// same function without the interceptor.
extern "C" int __clone(int (*fn)(void*), void* stack, int flags,  // NOLINT
                       void* arg, ...);

namespace concur::sys {
namespace {

#define CONCUR_SPAWN_CHILD \
  __attribute__((no_sanitize("address", "thread", "undefined")))

// The kernel's struct sigaction and signal set (what rt_sigaction and
// rt_sigprocmask take, unlike libc's larger sigset_t).
struct KernelSigaction {
  void (*handler)(int);
  unsigned long flags;
  void (*restorer)();
  unsigned long mask;
};
constexpr long kKernelSigsetBytes = sizeof(unsigned long);
constexpr int kLastSignal = 64;

constexpr std::size_t kChildStackBytes = std::size_t{64} << 10;

// What parent and child share; the child writes `failed` and `error` just
// before it exits, and the parent reads them once clone returns, which is
// after the child's exit: the kernel orders the two.
struct Shared {
  const SpawnPlan* plan;
  long open_max;
  SpawnStep failed;
  int error;
};

[[noreturn]] CONCUR_SPAWN_CHILD void child_fail(Shared& shared,
                                                SpawnStep step) {
  shared.error = errno;
  shared.failed = step;
  ::syscall(SYS_exit_group, 127);
  __builtin_unreachable();
}

// Closes [low, high], by close_range or, on kernels without it, one by
// one up to the descriptor limit.
CONCUR_SPAWN_CHILD bool close_between(unsigned low, unsigned high,
                                      long open_max) {
  if (low > high) return true;
  if (::syscall(SYS_close_range, low, high, 0) == 0) return true;
  if (errno != ENOSYS) return false;
  for (long fd = low; fd <= static_cast<long>(high) && fd < open_max; ++fd) {
    ::syscall(SYS_close, fd);
  }
  return true;
}

CONCUR_SPAWN_CHILD int child_main(void* arg) {
  Shared& shared = *static_cast<Shared*>(arg);
  const SpawnPlan& plan = *shared.plan;

  // No handler of the parent may run on its memory: caught signals go
  // back to their default; so do SIGPIPE and SIGXFSZ, which Python (and
  // concur's pipes) ignore. Every signal stays blocked until the exec.
  for (int sig = 1; sig <= kLastSignal; ++sig) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    KernelSigaction old{};
    if (::syscall(SYS_rt_sigaction, sig, nullptr, &old, kKernelSigsetBytes) !=
        0) {
      continue;
    }
    const bool caught = old.handler != SIG_DFL && old.handler != SIG_IGN;
    const bool restored = sig == SIGPIPE || sig == SIGXFSZ;
    if (caught || (restored && old.handler == SIG_IGN)) {
      const KernelSigaction dfl{};
      ::syscall(SYS_rt_sigaction, sig, &dfl, nullptr, kKernelSigsetBytes);
    }
  }

  if (plan.new_session && ::syscall(SYS_setsid) < 0) {
    child_fail(shared, SpawnStep::kSession);
  }
  if (plan.process_group >= 0 &&
      ::syscall(SYS_setpgid, 0, plan.process_group) != 0) {
    child_fail(shared, SpawnStep::kSession);
  }

  // Before the streams, so that a descriptor the streams step makes can
  // never be taken for a passed one that is not open.
  for (std::size_t i = 0; i < plan.pass_fd_count; ++i) {
    const int fd = plan.pass_fds[i];
    if (::syscall(SYS_fcntl, fd, F_SETFD, 0) != 0) {
      child_fail(shared, SpawnStep::kPassFds);
    }
  }

  // A source among 0, 1, 2 could be overwritten by an earlier target:
  // such sources move above 2 first (close-on-exec, so they do not stay).
  int source[3] = {plan.streams[0], plan.streams[1], plan.streams[2]};
  for (int target = 0; target < 3; ++target) {
    const int from = source[target];
    if (from < 0 || from > 2 || from == target) continue;
    const long moved = ::syscall(SYS_fcntl, from, F_DUPFD_CLOEXEC, 3);
    if (moved < 0) child_fail(shared, SpawnStep::kStreams);
    for (int later = target; later < 3; ++later) {
      if (source[later] == from) source[later] = static_cast<int>(moved);
    }
  }
  for (int target = 0; target < 3; ++target) {
    const int from = source[target];
    if (from < 0) continue;
    const long rc = from == target ? ::syscall(SYS_fcntl, from, F_SETFD, 0)
                                   : ::syscall(SYS_dup3, from, target, 0);
    if (rc < 0) child_fail(shared, SpawnStep::kStreams);
  }
  if (plan.streams[2] == SpawnPlan::kChildStdout &&
      ::syscall(SYS_dup3, 1, 2, 0) < 0) {
    child_fail(shared, SpawnStep::kStreams);
  }

  if (plan.close_fds) {
    unsigned low = 3;
    for (std::size_t i = 0; i < plan.pass_fd_count; ++i) {
      const auto kept = static_cast<unsigned>(plan.pass_fds[i]);
      if (kept < low) continue;
      if (!close_between(low, kept - 1, shared.open_max)) {
        child_fail(shared, SpawnStep::kCloseFds);
      }
      low = kept + 1;
    }
    if (!close_between(low, UINT_MAX, shared.open_max)) {
      child_fail(shared, SpawnStep::kCloseFds);
    }
  }

  if (plan.cwd != nullptr && ::syscall(SYS_chdir, plan.cwd) != 0) {
    child_fail(shared, SpawnStep::kCwd);
  }
  if (plan.umask >= 0) ::syscall(SYS_umask, plan.umask);

  const unsigned long none = 0;
  ::syscall(SYS_rt_sigprocmask, SIG_SETMASK, &none, nullptr,
            kKernelSigsetBytes);
  ::syscall(SYS_execve, plan.file, plan.argv, plan.envp);
  child_fail(shared, SpawnStep::kExec);
}

// The stack the child runs on, unmapped once it has left it.
class ChildStack {
 public:
  ChildStack()
      : base_(::mmap(nullptr, kChildStackBytes, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0)) {
    if (base_ == MAP_FAILED) throw_os_error(errno);
  }
  ChildStack(const ChildStack&) = delete;
  ChildStack& operator=(const ChildStack&) = delete;
  ~ChildStack() { ::munmap(base_, kChildStackBytes); }
  void* top() const noexcept {
    return static_cast<char*>(base_) + kChildStackBytes;
  }

 private:
  void* base_;
};

}  // namespace

SpawnResult spawn(const SpawnPlan& plan) {
  Shared shared{&plan, ::sysconf(_SC_OPEN_MAX), SpawnStep::kNone, 0};
  ChildStack stack;
  // Every signal, glibc's own included (which pthread_sigmask would
  // leave out), stays blocked in this thread while the child runs on its
  // memory, so that no handler runs there before the child resets them.
  const unsigned long all = ~0UL;
  unsigned long saved = 0;
  ::syscall(SYS_rt_sigprocmask, SIG_SETMASK, &all, &saved, kKernelSigsetBytes);
  const int pid = __clone(child_main, stack.top(),
                          CLONE_VM | CLONE_VFORK | SIGCHLD, &shared);
  const int clone_error = errno;
  ::syscall(SYS_rt_sigprocmask, SIG_SETMASK, &saved, nullptr,
            kKernelSigsetBytes);
  if (pid < 0) throw_os_error(clone_error);
  if (shared.failed == SpawnStep::kNone) return {pid, SpawnStep::kNone, 0};
  try {
    static_cast<void>(reap(pid, true));
  } catch (const ChildProcessError&) {
    // SIGCHLD is ignored: the kernel reaped it.
  }
  return {-1, shared.failed, shared.error};
}

}  // namespace concur::sys
