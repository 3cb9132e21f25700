#include "common/fork.hpp"

#include <pthread.h>
#include <unistd.h>

#include <atomic>

namespace concur::detail {

namespace {

constexpr int kSlots = static_cast<int>(ForkOrder::kAsyncio) + 1;

// A pthread mutex, not a concur Lock: it is taken inside pthread_atfork's
// handlers, and it orders registration against a fork in another thread.
pthread_mutex_t slots_mu = PTHREAD_MUTEX_INITIALIZER;
ForkHandlers slots[kSlots];
bool installed = false;
// 0 until the first current_pid(). Relaxed is enough: every thread that
// reads it stores the same value (this process's id), or, in a child,
// was started after the child's handler stored the child's.
std::atomic<pid_t> pid_now{0};

void prepare() {
  pthread_mutex_lock(&slots_mu);
  for (const ForkHandlers& h : slots) {
    if (h.prepare != nullptr) h.prepare();
  }
}

template <void (*ForkHandlers::*Which)()>
void finish() {
  for (int i = kSlots - 1; i >= 0; --i) {
    if (slots[i].*Which != nullptr) (slots[i].*Which)();
  }
  pthread_mutex_unlock(&slots_mu);
}

void child() {
  pid_now.store(::getpid(), std::memory_order_relaxed);
  finish<&ForkHandlers::child>();
}

void install_locked() {
  if (!installed) {
    installed = true;
    pthread_atfork(prepare, finish<&ForkHandlers::parent>, child);
  }
}

}  // namespace

void at_fork(ForkOrder order, ForkHandlers handlers) {
  pthread_mutex_lock(&slots_mu);
  slots[static_cast<int>(order)] = handlers;
  install_locked();
  pthread_mutex_unlock(&slots_mu);
}

pid_t current_pid() noexcept {
  pid_t pid = pid_now.load(std::memory_order_relaxed);
  if (pid == 0) [[unlikely]] {
    // The handler first, so that no fork can come between the store and
    // the handler that would correct it in the child.
    pthread_mutex_lock(&slots_mu);
    install_locked();
    pthread_mutex_unlock(&slots_mu);
    pid = ::getpid();
    pid_now.store(pid, std::memory_order_relaxed);
  }
  return pid;
}

}  // namespace concur::detail
