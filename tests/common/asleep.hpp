// Knowing that a thread is blocked without guessing at sleep lengths: the
// kernel's view of a thread of this process, read from /proc. A thread that
// spins is never seen asleep, so these also check that blocked calls park.
#pragma once

#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <utility>

namespace concur_test {

// The calling thread's kernel id.
inline long CurrentTid() { return static_cast<long>(::syscall(SYS_gettid)); }

// Whether /proc's stat file at `path` reports a sleeping task.
inline bool StatSaysSleeping(const std::string& path) {
  std::ifstream stat(path);
  std::string line;
  std::getline(stat, line);
  // The state follows the parenthesised command name, which may hold spaces.
  auto close = line.rfind(')');
  return close != std::string::npos && close + 2 < line.size() &&
         line[close + 2] == 'S';
}

// Whether the kernel reports thread `tid` of this process as sleeping.
inline bool IsSleeping(long tid) {
  return StatSaysSleeping("/proc/self/task/" + std::to_string(tid) + "/stat");
}

// Whether the kernel reports process `pid` (its main thread) as sleeping.
inline bool IsProcessSleeping(long pid) {
  return StatSaysSleeping("/proc/" + std::to_string(pid) + "/stat");
}

// Blocks until thread `tid` sleeps in the kernel.
inline void AwaitSleeping(long tid) {
  while (!IsSleeping(tid)) std::this_thread::yield();
}

// Runs call() on a new thread and returns that thread once call() blocks
// (its thread sleeps in the kernel, after any spin) or returns; the caller
// tells which from its own flags, and joins the thread.
inline std::thread StartBlocked(std::function<void()> call) {
  struct Progress {
    std::atomic<long> tid{0};
    std::atomic<bool> finished{false};
  };
  auto progress = std::make_shared<Progress>();
  std::thread thread([progress, call = std::move(call)] {
    progress->tid = CurrentTid();
    call();
    progress->finished = true;
  });
  while (progress->tid == 0) std::this_thread::yield();
  while (!progress->finished && !IsSleeping(progress->tid)) {
    std::this_thread::yield();
  }
  return thread;
}

}  // namespace concur_test
