// TaskInbox: the queue that carries tasks from threads outside a pool to its
// workers, in submission order.
//
// Producers never wait for consumers: a push is one exchange on the tail and
// one store (Dmitry Vyukov's intrusive multi-producer queue, linked through
// StateBase::next_in_queue). Consumers, the workers, take turns through a
// try-lock and take batches, so a worker that finds the lock busy looks
// elsewhere instead of queueing behind another worker.
//
// Thread safety: push from any thread; pop_batch and drain from any thread
// (they serialise on the consumer lock).
//
// Memory ordering: push publishes the task with the release half of the
// (seq_cst) tail exchange and the release store that links it; a consumer reads
// the link with acquire, so it sees everything the producer wrote into the
// task. Between a producer's exchange and its link the queue looks empty from
// the head; pop_batch then returns what it has, and the producer's notification
// after the link makes a worker look again.
#pragma once

#include <atomic>
#include <cstddef>
#include <vector>

#include "concur/annotations.hpp"
#include "concur/detail/assert.hpp"
#include "concur/detail/future_state.hpp"
#include "concur/threading.hpp"

namespace concur::futures_detail {

class TaskInbox {
 public:
  TaskInbox() noexcept = default;
  TaskInbox(const TaskInbox&) = delete;
  TaskInbox& operator=(const TaskInbox&) = delete;

  void push(StateBase* task) noexcept {
    task->next_in_queue.store(nullptr, std::memory_order_relaxed);
    // Release publishes the task's contents to the consumer that follows
    // the link; acquire orders our link store after the exchange. seq_cst
    // on top: the exchange is the producer's half of the scheduler's
    // Dekker handshake (see notify_work), in one total order with the
    // sleeper's read of the tail in maybe_nonempty.
    StateBase* prev = tail_.exchange(task, std::memory_order_seq_cst);
    // Between the exchange and the link the queue looks empty from the
    // head: the window consumers must tolerate.
    CONCUR_CHAOS_POINT();
    CONCUR_ASSERT(
        prev->next_in_queue.load(std::memory_order_relaxed) == nullptr,
        "an inbox node linked twice");
    prev->next_in_queue.store(task, std::memory_order_release);
  }

  // Takes up to `max` tasks, oldest first, into `out`; returns how many.
  // 0 when empty, when a push is half done, or when another consumer holds
  // the lock.
  std::size_t pop_batch(StateBase** out, std::size_t max) {
    if (!consumer_.try_lock()) return 0;
    std::size_t n = 0;
    while (n < max) {
      StateBase* task = pop_locked();
      if (task == nullptr) break;
      out[n++] = task;
    }
    consumer_.unlock();
    return n;
  }

  // Every task, for shutdown and for a broken pool. Call only when no push
  // is in progress.
  std::vector<StateBase*> drain() {
    std::vector<StateBase*> tasks;
    concur::ScopedLock guard(consumer_);
    while (StateBase* task = pop_locked()) tasks.push_back(task);
    return tasks;
  }

  // False only if the inbox is empty. seq_cst: a worker deciding to sleep
  // reads the tail in the single total order with the producers' exchanges.
  bool maybe_nonempty() const noexcept {
    return tail_.load(std::memory_order_seq_cst) != &sentinel_ ||
           head_.load(std::memory_order_relaxed) != &sentinel_;
  }

 private:
  // The placeholder node that keeps the list non-empty: the queue always
  // holds one node, the sentinel or the last real task not yet handed out.
  struct Sentinel final : StateBase {};

  StateBase* pop_locked() CONCUR_REQUIRES(consumer_) {
    CONCUR_CHAOS_POINT();
    StateBase* head = head_.load(std::memory_order_relaxed);
    StateBase* next = head->next_in_queue.load(std::memory_order_acquire);
    if (head == &sentinel_) {
      if (next == nullptr) return nullptr;
      head_.store(next, std::memory_order_relaxed);
      head = next;
      next = next->next_in_queue.load(std::memory_order_acquire);
    }
    if (next != nullptr) {
      head_.store(next, std::memory_order_relaxed);
      return head;
    }
    // `head` is the last linked node. Hand it out only once another node
    // follows it: re-insert the sentinel behind it, unless a producer is
    // between its exchange and its link (then tail moved on and we wait for
    // it).
    if (head != tail_.load(std::memory_order_acquire)) return nullptr;
    CONCUR_CHAOS_POINT();
    push(&sentinel_);
    next = head->next_in_queue.load(std::memory_order_acquire);
    if (next == nullptr) return nullptr;
    head_.store(next, std::memory_order_relaxed);
    return head;
  }

  Sentinel sentinel_;
  // Producers' end; a separate cache line from the consumers' end.
  alignas(64) std::atomic<StateBase*> tail_{&sentinel_};
  // Consumers' end: written under consumer_, read without it only by
  // maybe_nonempty (a hint).
  alignas(64) std::atomic<StateBase*> head_{&sentinel_};
  threading::Lock consumer_;
};

}  // namespace concur::futures_detail
