// Scheduler: the worker threads behind futures::ThreadPoolExecutor.
//
// Design.
//   * Each worker owns a WorkStealingDeque. A task submitted from inside a
//     task of the same pool goes to the submitting worker's deque (no lock,
//     no shared cache line); the worker pops its own deque LIFO, and idle
//     workers steal from the others FIFO.
//   * A task submitted from any other thread goes to the inbox, one FIFO
//     queue (task_inbox.hpp), so that external submissions start in the
//     order they were made, as in Python. Workers look at their own deque
//     first, then the inbox, then steal.
//   * Workers are started on demand, as in Python: a submission wakes a
//     sleeping worker if there is one, and otherwise starts a new one while
//     there are fewer than max_workers. Idle workers are reused.
//   * An idle worker searches (spins over the queues) for about as long as
//     a wake-up takes, then sleeps on the pool's event count (idle_, see
//     sys/event_count.hpp). A submitter wakes one sleeper only when no
//     worker is searching and someone sleeps, so a busy pool makes no
//     system calls; the last searcher to find work wakes the next one, so
//     parallelism still ramps up under a burst (the scheme of Go's and
//     Tokio's schedulers).
//   * A worker that waits on a future (Future::result inside a task) runs
//     other tasks meanwhile, so that nested submit-and-wait cannot starve
//     the pool; when there is nothing to run it sleeps on the future.
//
// Memory ordering.
//   * A task's data is published to the worker that runs it by the deque
//     (release store of bottom / acquire load, see work_stealing_deque.hpp)
//     or by the inbox (see task_inbox.hpp).
//   * Lost wake-ups: a worker going to sleep leaves searching_ and
//     announces itself on idle_ (prepare_wait), then re-checks every queue;
//     a submitter publishes the task, then reads searching_ and idle_'s
//     waiters. Both sides put a seq_cst operation between their write and
//     their read (Dekker), so either the worker sees the task or the
//     submitter sees the worker; the event count's epoch catches a wake
//     between the sleeper's re-check and its sleep. A task submitted from
//     inside a task needs no such guarantee (its worker is awake and will
//     run it), so nested submits skip the handshake and only hint at
//     sleepers.
//   * A task's state carries its reference count and its status in one
//     word (future_state.hpp), so a worker publishes a result and drops its
//     reference in one atomic step; task states come from a per-thread
//     block cache.
#pragma once

#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "concur/detail/future_state.hpp"
#include "concur/detail/sys/event_count.hpp"
#include "concur/threading.hpp"
#include "futures/task_inbox.hpp"
#include "futures/work_stealing_deque.hpp"

namespace concur::futures_detail {

// Owned objects by index, for indices handed out one by one from 0: the
// first kDirect slots in place (a pool's workers are read on every steal,
// and a lookup there is one load), the rest in chunks of doubling size
// (64, 128, ...), so that memory follows the indices used, not the largest
// possible one, while an index keeps its slot for ever. Writes happen under
// the owner's lock and are published to lock-free readers by a release
// store of the count of indices in use, which readers stay below.
template <class T>
class SlotTable {
 public:
  T* get(std::size_t i) const noexcept {
    if (i < kDirect) return direct_[i].get();
    const auto [chunk, slot] = place(i);
    return chunks_[chunk][slot].get();
  }
  void put(std::size_t i, std::unique_ptr<T> value) {
    if (i < kDirect) {
      direct_[i] = std::move(value);
      return;
    }
    const auto [chunk, slot] = place(i);
    if (!chunks_[chunk]) {
      chunks_[chunk] = std::make_unique<std::unique_ptr<T>[]>(kDirect << chunk);
    }
    chunks_[chunk][slot] = std::move(value);
  }

 private:
  static constexpr std::size_t kDirect = 64;
  // Chunk k holds indices kDirect * 2^k to kDirect * 2^(k+1) - 1.
  static std::pair<std::size_t, std::size_t> place(std::size_t i) noexcept {
    const std::size_t chunk = std::bit_width(i / kDirect) - 1;
    return {chunk, i - (kDirect << chunk)};
  }

  std::unique_ptr<T> direct_[kDirect];
  std::unique_ptr<std::unique_ptr<T>[]> chunks_[64 - 6];
};

class Scheduler {
 public:
  struct Options {
    std::size_t max_workers;
    std::string thread_name_prefix;
    std::function<void()> initializer;
  };

  explicit Scheduler(Options options);
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;
  // Shuts down and waits for every worker.
  ~Scheduler();

  // Queues `task`, taking over one reference to it. Throws RuntimeError
  // after shutdown and BrokenThreadPool once the pool is broken; the
  // reference is released in both cases.
  void submit(StateBase* task);
  void shutdown(bool wait, bool cancel_futures);

  std::size_t max_workers() const noexcept { return max_workers_; }
  // Threads started so far.
  std::size_t worker_count() const noexcept {
    return spawned_.load(std::memory_order_acquire);
  }

  // Around fork() (common/fork.hpp): holds the state lock from prepare
  // to parent/child. In the child the pool is broken and inherited: its
  // submits raise BrokenThreadPool, and shutdown returns at once without
  // touching queues that the vanished workers may have left half-changed.
  void lock_for_fork();
  void unlock_after_fork(bool in_child);

 private:
  struct Worker;
  friend bool wait_for_state(StateBase& state, const Deadline& deadline);
  friend class Signal;

  // Starts a worker unless max_workers are running or the pool is shut
  // down; breaks the pool if not one worker can start.
  void spawn_worker();
  // Starts worker n; false, with the reason, if its thread cannot start.
  bool start_worker(std::size_t n, std::string& failure)
      CONCUR_REQUIRES(state_mu_);
  void worker_main(Worker& self);
  StateBase* find_task(Worker& self);
  StateBase* take_from_inbox();
  void wait_for_submitters() const;
  bool has_work();
  // Runs a task; a top-level one (not run while helping) grants an idle
  // token once the call has returned.
  void execute(StateBase* task, bool top_level);
  // Relaxed: the count only grows, and a stale value only delays the
  // answer "yes" by one call.
  bool all_started() const noexcept {
    return spawned_.load(std::memory_order_relaxed) == max_workers_;
  }
  bool take_idle_token();
  void grant_idle_token();
  StateBase* search(Worker& self);
  // After publishing work: wakes a sleeper unless a worker is searching.
  // Returns false if nobody was asleep.
  bool notify_work();
  // The same for a task pushed on the calling worker's own deque, without
  // the fence: see the .cpp.
  bool hint_work();
  void break_pool(const std::string& reason);
  // On one of this pool's workers: runs the pool's tasks until ready() or
  // the deadline, sleeping when there is nothing to run until a task is
  // queued, `watch` (if given) completes, or wake_all_sleepers() is called.
  // A template, instantiated only in scheduler.cpp: it runs once per
  // result() inside a task, and a std::function there cost fork-join trees
  // a call through a pointer per look.
  template <class Ready>
  bool help_until(const Ready& ready, StateBase* watch,
                  const Deadline& deadline);
  void wake_all_sleepers() noexcept { idle_.wake_all(); }

  const std::string name_prefix_;
  const std::function<void()> initializer_;

  // The workers started so far, by index: readers index it below spawned_
  // without a lock (see SlotTable).
  const std::size_t max_workers_;
  SlotTable<Worker> workers_;
  std::atomic<std::size_t> spawned_{0};

  TaskInbox inbox_;
  // External submits between their shutdown check and their push:
  // shutdown() and break_pool() set their flag, then wait for this to drop
  // to zero, so a task is either refused or queued before they go on.
  // Touched by submitters only, on the hot path.
  alignas(64) std::atomic<std::size_t> submitting_{0};
  // Set once; read by submits and by workers deciding to exit (seq_cst
  // there, against submitting_ and the inbox; see the .cpp). Read by every
  // worker for every task: a cache line apart from submitting_, which the
  // submitter writes twice a submit.
  alignas(64) std::atomic<bool> shutdown_{false};
  std::atomic<bool> cancel_futures_{false};
  std::atomic<bool> broken_{false};

  // Where idle workers sleep. Its word is read by every submit and written
  // only around sleeps and wake-ups: on a line of its own, it stays in the
  // submitter's cache while the pool is busy.
  alignas(64) sys::EventCount idle_;
  // Workers spinning for work before they sleep. While one searches, a
  // submit wakes nobody. Written whenever a worker starts or stops
  // searching, which is often when the queues run dry.
  alignas(64) std::atomic<std::uint32_t> searching_{0};
  // Python's idle semaphore: a worker that finished a task and found the
  // inbox empty adds one (up to the number of workers); an external submit
  // that takes one starts no thread. Used only until every worker runs.
  std::atomic<std::uint32_t> idle_tokens_{0};

  // Serialises starting workers (ordered with shutdown's join) and the
  // broken transition.
  threading::Lock state_mu_;
  std::string broken_reason_ CONCUR_GUARDED_BY(state_mu_);
  // Workers whose thread started.
  std::size_t started_workers_ CONCUR_GUARDED_BY(state_mu_) = 0;
  // In a process forked while the pool lived: its threads are not here.
  // Set by the child's fork handler while the child has one thread.
  bool inherited_ = false;
};

}  // namespace concur::futures_detail
