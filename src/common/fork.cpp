#include "common/fork.hpp"

#include <pthread.h>

namespace concur::detail {

namespace {

constexpr int kSlots = static_cast<int>(ForkOrder::kExitSequence) + 1;

// A pthread mutex, not a concur Lock: it is taken inside pthread_atfork's
// handlers, and it orders registration against a fork in another thread.
pthread_mutex_t slots_mu = PTHREAD_MUTEX_INITIALIZER;
ForkHandlers slots[kSlots];
bool installed = false;

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

}  // namespace

void at_fork(ForkOrder order, ForkHandlers handlers) {
  pthread_mutex_lock(&slots_mu);
  slots[static_cast<int>(order)] = handlers;
  if (!installed) {
    installed = true;
    pthread_atfork(prepare, finish<&ForkHandlers::parent>,
                   finish<&ForkHandlers::child>);
  }
  pthread_mutex_unlock(&slots_mu);
}

}  // namespace concur::detail
