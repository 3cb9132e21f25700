#include "concur/detail/future_state.hpp"

#include <cstdint>
#include <cstdio>
#include <iterator>
#include <memory>
#include <string>
#include <utility>

#include "concur/detail/sys/futex.hpp"
#include "concur/detail/sys/spin.hpp"
#include "concur/futures.hpp"

namespace concur::futures_detail {

using futures::CancelledError;
using futures::InvalidStateError;

namespace {
bool is_done(std::uint64_t word) noexcept {
  return (word & StateBase::kStateMask) >= StateBase::kCancelled;
}

// Python logs "exception calling callback for <Future>" and goes on.
void run_callback(std::function<void()>& callback) noexcept {
  try {
    callback();
  } catch (const std::exception& e) {
    std::string text = std::string("exception calling callback for future: ") +
                       e.what() + "\n";
    std::fputs(text.c_str(), stderr);
  } catch (...) {
    std::fputs("exception calling callback for future: unknown exception\n",
               stderr);
  }
}

// The listener locks, each on its own cache line. Constant-initialised, so
// usable from static initialisers of other files.
struct alignas(64) PaddedLock {
  threading::Lock lock;
};
constinit PaddedLock listener_locks[64];

// A done-callback's entry in a state's listener list, which owns it.
struct CallbackLink : ListenerLink {
  explicit CallbackLink(std::function<void()> fn) : callback(std::move(fn)) {}
  std::function<void()> callback;
};
}  // namespace

threading::Lock& StateBase::listener_lock() const noexcept {
  // States are at least 16 bytes apart; dropping the low bits spreads
  // neighbours over different locks.
  auto stripe = reinterpret_cast<std::uintptr_t>(this) >> 4;
  return listener_locks[stripe % std::size(listener_locks)].lock;
}

void throw_invalid_state(const char* what) { throw InvalidStateError(what); }
void throw_cancelled() { throw CancelledError("the future was cancelled"); }
void throw_timeout(const std::string& what) { throw TimeoutError(what); }

bool StateBase::set_running_or_notify_cancel() {
  std::uint64_t w = word_.load(std::memory_order_relaxed);
  for (;;) {
    switch (w & kStateMask) {
      case kCancelled:
        return false;
      case kPending:
        // Acquire: the runner sees everything the submitter wrote, even for
        // a future handed over by other means than a pool queue.
        CONCUR_CHAOS_POINT();
        if (word_.compare_exchange_weak(w, (w & ~kStateMask) | kRunning,
                                        std::memory_order_acquire,
                                        std::memory_order_relaxed)) {
          return true;
        }
        break;
      default:
        throw RuntimeError(
            "Future in unexpected state: already running or done");
    }
  }
}

bool StateBase::start_call() noexcept {
  std::uint64_t w = word_.load(std::memory_order_relaxed);
  // A hand setter's claim stops the call from starting: its result is on
  // the way, and the call's would be dropped.
  while ((w & (kStateMask | kClaimed)) == kPending) {
    CONCUR_CHAOS_POINT();
    // Acquire: as in set_running_or_notify_cancel.
    if (word_.compare_exchange_weak(w, w | kRunning | kClaimed,
                                    std::memory_order_acquire,
                                    std::memory_order_relaxed)) {
      return true;
    }
  }
  return false;
}

bool StateBase::claim() noexcept {
  std::uint64_t w = word_.load(std::memory_order_relaxed);
  // Relaxed: the claim orders nothing; only its winner writes the result,
  // and finish() publishes it.
  while (!is_done(w) && (w & kClaimed) == 0) {
    CONCUR_CHAOS_POINT();
    if (word_.compare_exchange_weak(w, w | kClaimed,
                                    std::memory_order_relaxed)) {
      return true;
    }
  }
  return false;
}

bool StateBase::cancel() {
  std::uint64_t w = word_.load(std::memory_order_relaxed);
  for (;;) {
    std::uint64_t state = w & kStateMask;
    if (state == kCancelled) return true;
    if (state != kPending) return false;
    CONCUR_CHAOS_POINT();
    // acq_rel: as finish(); cancelling publishes "cancelled" to waiters.
    if (word_.compare_exchange_weak(w, (w & ~kStateMask) | kCancelled,
                                    std::memory_order_acq_rel,
                                    std::memory_order_relaxed)) {
      complete(w);
      return true;
    }
  }
}

bool StateBase::finish() noexcept {
  std::uint64_t w = word_.load(std::memory_order_relaxed);
  for (;;) {
    std::uint64_t state = w & kStateMask;
    if (state == kCancelled || state == kFinished) return false;
    // Release: publishes value_ / error_ to every reader that sees
    // kFinished with an acquire load. Acquire: orders the listener flags we
    // read with the registrations that set them (under the listener lock).
    CONCUR_CHAOS_POINT();
    if (word_.compare_exchange_weak(w, (w & ~kStateMask) | kFinished,
                                    std::memory_order_acq_rel,
                                    std::memory_order_relaxed)) {
      // Only the claimant stores a result and finishes (see claim()).
      CONCUR_ASSERT((w & kClaimed) != 0, "a future finished without a claim");
      complete(w);
      return true;
    }
  }
}

void StateBase::publish_and_release() noexcept {
  std::uint64_t w = word_.load(std::memory_order_relaxed);
  // The runner holds the claim, so nothing else can end a running task.
  // With nobody asleep or listening, finishing and dropping the pool's
  // reference are one step; otherwise the listeners run first, while the
  // reference still keeps the state alive.
  CONCUR_ASSERT((w & kClaimed) != 0 && (w & kStateMask) == kRunning,
                "a task published without running it");
  while ((w & (kSleepers | kListeners)) == 0) {
    CONCUR_CHAOS_POINT();
    // acq_rel: as finish() and release() together.
    if (word_.compare_exchange_weak(
            w, ((w & ~kStateMask) | kFinished) - kOneRef,
            std::memory_order_acq_rel, std::memory_order_relaxed)) {
      if (w < 2 * kOneRef) delete this;
      return;
    }
  }
  finish();
  release();
}

void StateBase::complete(std::uint64_t old_word) noexcept {
  if ((old_word & kSleepers) != 0) sys::futex_wake_all(word_);
  if ((old_word & kListeners) == 0) return;
  // Popping the newest-first list onto this one puts the callbacks oldest
  // first: they run in the order they were added, as in Python.
  ListenerLink* callbacks = nullptr;
  {
    concur::ScopedLock guard(listener_lock());
    ListenerLink* list = std::exchange(listeners_, nullptr);
    while (list != nullptr) {
      ListenerLink* link = list;
      list = link->next;  // read first: a told waiter may reuse its link
      if (link->waiter != nullptr) {
        link->waiter->on_done(*this, link->index);
      } else {
        link->next = callbacks;
        callbacks = link;
      }
    }
  }
  while (callbacks != nullptr) {
    std::unique_ptr<CallbackLink> link(static_cast<CallbackLink*>(callbacks));
    callbacks = link->next;
    run_callback(link->callback);
  }
}

void StateBase::drop_listeners() noexcept {
  // The last reference is gone, so nobody registers or completes meanwhile;
  // a waiter holds a reference while it is linked, so only callbacks are
  // left.
  while (listeners_ != nullptr) {
    CONCUR_ASSERT(listeners_->waiter == nullptr,
                  "a future state died with a waiter linked");
    std::unique_ptr<CallbackLink> link(static_cast<CallbackLink*>(listeners_));
    listeners_ = link->next;
  }
}

bool StateBase::wait_until(const Deadline& deadline) {
  if (sys::spin_until([this] { return done(); })) return true;
  std::uint64_t w = word_.load(std::memory_order_relaxed);
  while (!is_done(w)) {
    if ((w & kSleepers) == 0) {
      CONCUR_CHAOS_POINT();
      // Relaxed: the flag only asks the completer for a wake-up; the
      // completer's CAS reads it as part of the same word.
      if (!word_.compare_exchange_weak(w, w | kSleepers,
                                       std::memory_order_relaxed)) {
        continue;
      }
      w |= kSleepers;
    }
    // The futex compares the status half only: a reference count that
    // changes meanwhile does not wake the sleeper.
    if (!sys::futex_wait(word_, static_cast<std::uint32_t>(w), deadline)) break;
    w = word_.load(std::memory_order_relaxed);
  }
  return done();
}

void StateBase::add_done_callback(std::function<void()> callback) {
  auto link = std::make_unique<CallbackLink>(std::move(callback));
  {
    concur::ScopedLock guard(listener_lock());
    // The flag and the done check are one atomic step: either the completer
    // will see the flag (and run the list, after we unlock), or we see it
    // done and run the callback ourselves. Never both, never neither.
    std::uint64_t old = word_.fetch_or(kListeners, std::memory_order_acq_rel);
    if (!is_done(old)) {
      link->next = listeners_;
      listeners_ = link.release();
      return;
    }
  }
  run_callback(link->callback);
}

bool StateBase::add_waiter(ListenerLink& link) {
  concur::ScopedLock guard(listener_lock());
  std::uint64_t old = word_.fetch_or(kListeners, std::memory_order_acq_rel);
  if (is_done(old)) return false;
  link.next = listeners_;
  listeners_ = &link;
  return true;
}

void StateBase::remove_waiter(ListenerLink& link) {
  concur::ScopedLock guard(listener_lock());
  for (ListenerLink** at = &listeners_; *at != nullptr; at = &(*at)->next) {
    if (*at == &link) {
      *at = link.next;
      return;
    }
  }
}

bool StateBase::try_set_exception(std::exception_ptr error) {
  if (!claim()) return false;
  error_ = std::move(error);
  return finish();
}

}  // namespace concur::futures_detail
