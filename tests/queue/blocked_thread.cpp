// Support for the tests that must know a thread is blocked inside a queue
// call before they act: the kernel's view of the thread, read from /proc,
// instead of a sleep of a guessed length. Each test file that uses it
// declares it:
//   namespace concur_queue_test {
//   std::thread StartBlocked(std::function<void()> call);
//   }

#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <utility>

namespace concur_queue_test {

namespace {

// Whether the kernel reports thread `tid` of this process as sleeping.
bool IsSleeping(long tid) {
  std::ifstream stat("/proc/self/task/" + std::to_string(tid) + "/stat");
  std::string line;
  std::getline(stat, line);
  // The state follows the parenthesised command name, which may hold spaces.
  auto close = line.rfind(')');
  return close != std::string::npos && close + 2 < line.size() &&
         line[close + 2] == 'S';
}

struct Progress {
  std::atomic<long> tid{0};
  std::atomic<bool> finished{false};
};

}  // namespace

// Runs call() on a new thread and returns that thread once call() blocks
// (its thread sleeps in the kernel, after the queue's spin) or returns; the
// caller tells which from its own flags, and joins the thread.
std::thread StartBlocked(std::function<void()> call) {
  auto progress = std::make_shared<Progress>();
  std::thread thread([progress, call = std::move(call)] {
    progress->tid = static_cast<long>(::syscall(SYS_gettid));
    call();
    progress->finished = true;
  });
  while (progress->tid == 0) std::this_thread::yield();
  while (!progress->finished && !IsSleeping(progress->tid)) {
    std::this_thread::yield();
  }
  return thread;
}

}  // namespace concur_queue_test
