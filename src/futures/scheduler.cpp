#include "futures/scheduler.hpp"

#include <cstdio>
#include <string>
#include <thread>
#include <unordered_set>

#include "common/exit_registry.hpp"
#include "common/fork.hpp"
#include "concur/detail/assert.hpp"
#include "concur/detail/deadlock_hooks.hpp"
#include "concur/detail/sys/spin.hpp"
#include "concur/futures.hpp"

namespace concur::futures_detail {

namespace cd = concur::detail;
using futures::BrokenThreadPool;

struct Scheduler::Worker {
  explicit Worker(std::size_t i) : index(i), victim(i) {}
  WorkStealingDeque<StateBase*> deque;
  const std::size_t index;
  std::size_t victim;  // where the next steal starts; owner only
  threading::Thread thread;
  // Whether its thread started (written under state_mu_): a worker whose
  // thread could not start keeps its slot, idle, with an empty deque.
  bool started = false;
};

namespace {

thread_local Scheduler* tls_scheduler = nullptr;
thread_local void* tls_worker = nullptr;
// The tasks running on this thread, innermost first: a worker waiting for a
// future runs other tasks meanwhile, nested on the waiting task's stack.
// None of them can finish before the innermost returns, so a wait on any
// of them from inside it can never end (the deadlock detector reports it).
struct Running {
  const StateBase* task;
  const Running* outer;
};
thread_local const Running* tls_running = nullptr;

// Python's atexit behaviour for executors: at normal exit, every pool that
// is still alive is shut down and its queued work finishes (the exit
// sequence's first stage, before threading joins its threads). The workers
// are daemon threads so that the join of non-daemon threads does not wait
// on idle workers of a pool that nobody shut down; this does it instead.
class LivePools {
 public:
  void add(Scheduler* s) {
    concur::ScopedLock guard(mu_);
    if (!registered_) {
      registered_ = true;
      cd::at_exit(cd::ExitStage::kExecutors, [this] { drain(); });
    }
    pools_.insert(s);
  }
  // Called by a dying pool: waits while the exit drain is shutting it
  // down, so the drain never touches a pool that is gone.
  void remove(Scheduler* s) {
    concur::ScopedLock guard(mu_);
    while (draining_ == s) drained_.wait();
    pools_.erase(s);
  }

  // Around fork() (common/fork.hpp): the registry and every pool's state
  // lock are held, so the child finds both whole.
  void lock_for_fork() CONCUR_NO_THREAD_SAFETY_ANALYSIS {
    mu_.acquire();
    for (Scheduler* s : pools_) s->lock_for_fork();
  }
  void unlock_after_fork(bool in_child) CONCUR_NO_THREAD_SAFETY_ANALYSIS {
    for (Scheduler* s : pools_) s->unlock_after_fork(in_child);
    // The child has no drain in progress (it ran on a thread that is gone).
    if (in_child) draining_ = nullptr;
    mu_.release();
  }

 private:
  // One pool at a time, without the lock held while it shuts down (its
  // tasks may make pools of their own); pools made meanwhile are drained
  // too.
  void drain() {
    std::unordered_set<Scheduler*> done;
    for (;;) {
      Scheduler* next = nullptr;
      {
        concur::ScopedLock guard(mu_);
        for (Scheduler* s : pools_) {
          if (!done.contains(s)) next = s;
        }
        if (next == nullptr) return;
        draining_ = next;
      }
      next->shutdown(true, false);
      done.insert(next);
      concur::ScopedLock guard(mu_);
      draining_ = nullptr;
      drained_.notify_all();
    }
  }

  threading::Lock mu_;
  threading::Condition drained_{mu_};
  bool registered_ CONCUR_GUARDED_BY(mu_) = false;
  std::unordered_set<Scheduler*> pools_ CONCUR_GUARDED_BY(mu_);
  Scheduler* draining_ CONCUR_GUARDED_BY(mu_) = nullptr;
};

// Never destroyed: the exit sequence uses it while statics die.
LivePools& live_pools() {
  static auto* pools = [] {
    cd::at_fork(cd::ForkOrder::kPools,
                {[] { live_pools().lock_for_fork(); },
                 [] { live_pools().unlock_after_fork(false); },
                 [] { live_pools().unlock_after_fork(true); }});
    return new LivePools;
  }();
  return *pools;
}

std::atomic<std::uint64_t> pool_counter{0};

void report_initializer_failure() {
  std::string text = "Exception in initializer of ThreadPoolExecutor";
  try {
    throw;
  } catch (const std::exception& e) {
    text += std::string(": ") + e.what();
  } catch (...) {  // not a std::exception: nothing more to say
  }
  text += "\n";
  std::fputs(text.c_str(), stderr);
}

}  // namespace

Scheduler::Scheduler(Options options)
    : name_prefix_(options.thread_name_prefix.empty()
                       ? "ThreadPoolExecutor-" +
                             std::to_string(pool_counter.fetch_add(
                                 1, std::memory_order_relaxed))
                       : std::move(options.thread_name_prefix)),
      initializer_(std::move(options.initializer)),
      max_workers_(options.max_workers) {
  live_pools().add(this);
}

Scheduler::~Scheduler() {
  shutdown(true, false);
  live_pools().remove(this);
}

void Scheduler::lock_for_fork() CONCUR_NO_THREAD_SAFETY_ANALYSIS {
  state_mu_.acquire();
}

void Scheduler::unlock_after_fork(bool in_child)
    CONCUR_NO_THREAD_SAFETY_ANALYSIS {
  if (in_child) {
    // The workers are gone, and so is any submit that was in progress: the
    // pool is broken, and shutdown touches none of its queues.
    inherited_ = true;
    submitting_.store(0, std::memory_order_relaxed);
    if (!broken_.load(std::memory_order_relaxed)) {
      broken_reason_ =
          "the pool was inherited through fork(): its worker threads do not "
          "exist in this process";
      broken_.store(true, std::memory_order_relaxed);
    }
  }
  state_mu_.release();
}

void Scheduler::spawn_worker() {
  std::string failure;
  {
    concur::ScopedLock guard(state_mu_);
    const std::size_t n = spawned_.load(std::memory_order_relaxed);
    if (n >= max_workers_ || shutdown_.load(std::memory_order_relaxed)) return;
    // With a worker running, a thread that fails to start only costs
    // parallelism: the others run the work.
    if (start_worker(n, failure) || started_workers_ > 0) return;
  }
  // Not one worker: nothing would ever run the queued tasks.
  break_pool("can't start a worker thread: " + failure);
}

bool Scheduler::start_worker(std::size_t n, std::string& failure) {
  auto worker = std::make_unique<Worker>(n);
  Worker* w = worker.get();
  w->thread = threading::Thread(
      threading::ThreadOptions{name_prefix_ + "_" + std::to_string(n), true},
      [this, w] { worker_main(*w); });
  workers_.put(n, std::move(worker));
  // Release: a thief that reads the new count sees the worker object.
  // Raised before the thread starts, so that the worker's first idle token
  // counts it (see grant_idle_token).
  spawned_.store(n + 1, std::memory_order_release);
  try {
    w->thread.start();
  } catch (const std::exception& e) {
    // Readers may see the slot already: it stays, as a worker that never
    // runs. The next worker takes the next index.
    failure = e.what();
    return false;
  }
  w->started = true;
  ++started_workers_;
  return true;
}

void Scheduler::submit(StateBase* task) {
  // Python's rule: an external submit starts a thread unless it can claim
  // an idle worker's token. (A nested submit has no such worker to claim:
  // its submitter is busy.) Claimed before the task is queued: a worker
  // that ran the task first would find its token unclaimed and not grant
  // another, and the next submit would start a thread needlessly.
  // Once every worker is started, there is no thread left to decide on.
  bool external = tls_scheduler != this;
  bool claimed_idle = external && !all_started() && take_idle_token();
  if (!external) {
    // From one of our own tasks: no race with shutdown is possible, since
    // this worker drains its deque before it exits.
    if (shutdown_.load(std::memory_order_relaxed)) {
      // Dropping the item cancels it and destroys the call.
      futures::WorkItem::adopt(task);
      throw RuntimeError("cannot schedule new futures after shutdown");
    }
    static_cast<Worker*>(tls_worker)->deque.push(task);
  } else {
    // Dekker with shutdown() and break_pool(): both sides seq_cst.
    submitting_.fetch_add(1, std::memory_order_seq_cst);
    CONCUR_CHAOS_POINT();
    if (shutdown_.load(std::memory_order_seq_cst) ||
        broken_.load(std::memory_order_seq_cst)) {
      submitting_.fetch_sub(1, std::memory_order_release);
      futures::WorkItem::adopt(task);
      if (claimed_idle) grant_idle_token();
      if (broken_.load(std::memory_order_relaxed)) {
        concur::ScopedLock guard(state_mu_);
        throw BrokenThreadPool(broken_reason_);
      }
      throw RuntimeError("cannot schedule new futures after shutdown");
    }
    inbox_.push(task);
    CONCUR_CHAOS_POINT();
    // Release: a shutdown that sees the count drop sees the task queued.
    submitting_.fetch_sub(1, std::memory_order_release);
  }
  bool someone_looks = external ? notify_work() : hint_work();
  bool need_thread = external ? !claimed_idle : !someone_looks;
  if (need_thread && !all_started()) {
    spawn_worker();
  }
}

bool Scheduler::take_idle_token() {
  std::uint32_t tokens = idle_tokens_.load(std::memory_order_relaxed);
  // Relaxed: a token is a hint for spawning, guarding no data.
  while (tokens != 0) {
    if (idle_tokens_.compare_exchange_weak(tokens, tokens - 1,
                                           std::memory_order_relaxed)) {
      return true;
    }
  }
  return false;
}

void Scheduler::grant_idle_token() {
  // Python's worker releases its idle token when it finds the queue empty.
  // Capped at the number of workers; the load first keeps a busy pool from
  // writing the shared line on every task.
  if (all_started()) return;
  std::uint32_t tokens = idle_tokens_.load(std::memory_order_relaxed);
  auto cap =
      static_cast<std::uint32_t>(spawned_.load(std::memory_order_relaxed));
  while (tokens < cap && !inbox_.maybe_nonempty()) {
    if (idle_tokens_.compare_exchange_weak(tokens, tokens + 1,
                                           std::memory_order_relaxed)) {
      return;
    }
  }
}

bool Scheduler::notify_work() {
  // Dekker with a worker that stops searching or goes to sleep (see the
  // header): the inbox push that published the task is a seq_cst exchange
  // and these loads are seq_cst, while the worker's update of searching_ or
  // its announcement on idle_ is a seq_cst read-modify-write followed by a
  // seq_cst read of the inbox tail. In the single order of those four, either
  // the worker reads the task or we read the worker; no fence is needed on top.
  // Sleepers first: in a busy pool there are none, and that line stays in
  // the submitter's cache. A searching worker will find the task; waking a
  // sleeper as well would only make two threads race for one task.
  if (!idle_.has_waiters()) return false;
  if (searching_.load(std::memory_order_seq_cst) == 0) idle_.wake_one();
  return true;
}

bool Scheduler::hint_work() {
  // A task on a worker's own deque cannot be stranded: its owner is awake
  // (running the task that pushed it) and looks at its own deque before it
  // sleeps. Waking another worker only adds parallelism, so this reads
  // without notify_work's handshake (x86 reads seq_cst as plainly as
  // relaxed; the order is not relied on here). In the rare race it loses (a
  // worker announcing its sleep just now, not yet visible here), that worker
  // sleeps until the next push or submit wakes it. Once every worker runs,
  // the answer decides nothing, and searching_ (a line that workers write
  // often) is not read.
  if (!idle_.has_waiters()) {
    return all_started() || searching_.load(std::memory_order_relaxed) != 0;
  }
  if (searching_.load(std::memory_order_relaxed) == 0) idle_.wake_one();
  return true;
}

StateBase* Scheduler::take_from_inbox() {
  if (!inbox_.maybe_nonempty()) return nullptr;
  // One task at a time, straight from the inbox: a batch moved to our deque
  // would let a thief start its newest task before older ones, and Python
  // hands a free worker the oldest submission.
  StateBase* task = nullptr;
  return inbox_.pop_batch(&task, 1) == 1 ? task : nullptr;
}

void Scheduler::wait_for_submitters() const {
  // Acquire: pairs with the release decrement in submit(), so the tasks of
  // the submits we waited for are visible in the inbox.
  while (submitting_.load(std::memory_order_acquire) != 0)
    std::this_thread::yield();
}

StateBase* Scheduler::find_task(Worker& self) {
  if (StateBase* task = self.deque.pop()) return task;
  if (StateBase* task = take_from_inbox()) return task;
  std::size_t n = spawned_.load(std::memory_order_acquire);
  for (std::size_t k = 0; k < n; ++k) {
    self.victim = self.victim + 1 < n ? self.victim + 1 : 0;
    if (self.victim == self.index) continue;
    Worker* victim = workers_.get(self.victim);
    if (victim->deque.maybe_empty()) continue;
    if (StateBase* task = victim->deque.steal()) return task;
  }
  return nullptr;
}

bool Scheduler::has_work() {
  if (inbox_.maybe_nonempty()) return true;
  std::size_t n = spawned_.load(std::memory_order_acquire);
  for (std::size_t i = 0; i < n; ++i) {
    if (!workers_.get(i)->deque.maybe_empty()) return true;
  }
  return false;
}

void Scheduler::execute(StateBase* task, bool top_level) {
  // Relaxed: shutdown(cancel_futures) sets it before draining; a task that
  // slips past here simply runs, as one already started would.
  if (cancel_futures_.load(std::memory_order_relaxed)) task->cancel();
  const Running running{task, tls_running};
  tls_running = &running;
  bool ran = task->run_call();
  tls_running = running.outer;
  // Idle before the result is out: a thread that waited for it and submits
  // again must find this worker's token, or it would start another thread.
  // Relaxed: publishing below is a release, and the submitter takes the
  // token after acquiring the result.
  if (top_level) grant_idle_token();
  if (ran) {
    task->publish_and_release();
  } else {
    task->release();
  }
}

void Scheduler::worker_main(Worker& self) {
  tls_scheduler = this;
  tls_worker = &self;
  if (initializer_) {
    try {
      initializer_();
    } catch (...) {
      report_initializer_failure();
      break_pool(
          "A thread initializer failed, the thread pool is not usable anymore");
      tls_scheduler = nullptr;
      tls_worker = nullptr;
      return;
    }
  }
  for (;;) {
    StateBase* task = find_task(self);
    if (task == nullptr) task = search(self);
    if (task != nullptr) {
      execute(task, true);
      continue;
    }
    if (shutdown_.load(std::memory_order_seq_cst) &&
        submitting_.load(std::memory_order_seq_cst) == 0 && !has_work()) {
      break;
    }
    const auto key = idle_.prepare_wait();
    CONCUR_CHAOS_POINT();
    if (!has_work() && !shutdown_.load(std::memory_order_seq_cst)) {
      idle_.wait(key, Deadline::never());
    } else {
      idle_.cancel_wait();
    }
  }
  tls_scheduler = nullptr;
  tls_worker = nullptr;
}

StateBase* Scheduler::search(Worker& self) {
  searching_.fetch_add(1, std::memory_order_seq_cst);
  CONCUR_CHAOS_POINT();
  StateBase* task = nullptr;
  // First spin, then yield the core between looks: together about as long
  // as a futex wake-up takes, so that a steady trickle of submissions is
  // picked up without system calls. Yielding matters when there are more
  // threads than cores: a searcher must not keep the submitter that would
  // feed it off its core.
  sys::spin_until([&] { return (task = find_task(self)) != nullptr; });
  constexpr int kYields = 16;
  for (int i = 0; task == nullptr && i < kYields; ++i) {
    std::this_thread::yield();
    task = find_task(self);
  }
  // seq_cst: pairs with notify_work's loads. The last searcher to leave
  // with a task hands the search on, since more work may be queued that
  // submitters did not wake anyone for while it searched.
  const std::uint32_t searchers =
      searching_.fetch_sub(1, std::memory_order_seq_cst);
  CONCUR_ASSERT(searchers >= 1, "more searchers left than entered");
  if (searchers == 1 && task != nullptr && has_work() && !notify_work() &&
      !all_started()) {
    // Work is left and nobody sleeps: the submits that queued it saw this
    // worker searching and started no thread, so start one now.
    spawn_worker();
  }
  return task;
}

template <class Ready>
bool Scheduler::help_until(const Ready& ready, StateBase* watch,
                           const Deadline& deadline) {
  Worker& self = *static_cast<Worker*>(tls_worker);
  // Told of the watched future's completion, it bumps the epoch that this
  // worker sleeps on, so one sleep waits for "the future is done" and
  // "there is work to run" at once. (A Signal does the same by itself.)
  // notify_all, not has_waiters: the completion it reacts to is an acq_rel
  // step, not the seq_cst one that has_waiters pairs with.
  struct EpochWaker final : CompletionWaiter {
    explicit EpochWaker(Scheduler& s) : scheduler(s) {}
    void on_done(StateBase&, std::size_t) override {
      scheduler.idle_.notify_all();
    }
    Scheduler& scheduler;
  } waker(*this);
  ListenerLink link{.waiter = &waker};
  bool registered = false;
  bool announced = false;
  while (!ready()) {
    StateBase* task = nullptr;
    sys::spin_until(
        [&] { return (task = find_task(self)) != nullptr || ready(); });
    if (task != nullptr) {
      execute(task, false);  // not idle after it: inside the waiting task
      continue;
    }
    if (ready() || deadline.expired()) break;
    if (watch != nullptr && !registered) {
      // Fails only if the future is done, and then ready() says so.
      if (!watch->add_waiter(link)) continue;
      registered = true;
    }
    const auto key = idle_.prepare_wait();
    announced = true;
    CONCUR_CHAOS_POINT();
    if (ready() || has_work()) {
      idle_.cancel_wait();
    } else if (!idle_.wait(key, deadline)) {
      break;
    }
  }
  if (registered) watch->remove_waiter(link);
  // Leaving idle_ may have taken a wake-up meant for work queued since
  // (wake_one coalesces, see event_count.hpp), and this worker goes back
  // to its waiting task instead of looking for it: pass the wake-up on.
  if (announced && has_work()) notify_work();
  return ready();
}

void Scheduler::break_pool(const std::string& reason) {
  {
    concur::ScopedLock guard(state_mu_);
    if (broken_.load(std::memory_order_relaxed)) return;
    broken_reason_ = reason;
    broken_.store(true, std::memory_order_seq_cst);
  }
  wait_for_submitters();
  for (StateBase* task : inbox_.drain()) {
    task->try_set_exception(std::make_exception_ptr(BrokenThreadPool(reason)));
    futures::WorkItem::adopt(task);  // destroys the call
  }
}

void Scheduler::shutdown(bool wait, bool cancel_futures) {
  if (inherited_) return;
  if (cancel_futures) cancel_futures_.store(true, std::memory_order_relaxed);
  shutdown_.store(true, std::memory_order_seq_cst);
  wait_for_submitters();
  if (cancel_futures) {
    for (StateBase* task : inbox_.drain()) {
      futures::WorkItem::adopt(task);  // cancels, destroys the call
    }
  }
  {
    // A submit that got in before the flag may find it set by the time it
    // comes to start a thread (spawn_worker refuses then). If no worker has
    // started, its task would never run: start one here, as Python's submit
    // starts its thread under the lock that shutdown takes.
    std::string failure;
    bool stranded = false;
    {
      concur::ScopedLock guard(state_mu_);
      const std::size_t n = spawned_.load(std::memory_order_relaxed);
      stranded = started_workers_ == 0 && inbox_.maybe_nonempty() &&
                 !broken_.load(std::memory_order_relaxed) &&
                 (n == max_workers_ || !start_worker(n, failure));
    }
    if (stranded) break_pool("can't start a worker thread: " + failure);
  }
  idle_.wake_all();
  if (!wait) return;
  std::size_t n = 0;
  {
    // After this, no worker can start: spawn_worker checks the flag under
    // the same lock.
    concur::ScopedLock guard(state_mu_);
    n = spawned_.load(std::memory_order_relaxed);
  }
  for (std::size_t i = 0; i < n; ++i) {
    Worker* w = workers_.get(i);
    if (tls_worker == w || !w->started) continue;  // ourselves; never ran
    w->thread.join();
  }
}

void schedule(Scheduler& scheduler, StateBase* task) { scheduler.submit(task); }

void SchedulerDeleter::operator()(Scheduler* scheduler) const noexcept {
  delete scheduler;
}

bool wait_for_state(StateBase& state, const Deadline& deadline) {
  if (state.done()) return true;
  if (deadlock_detail::active()) {
    for (const Running* r = tls_running; r != nullptr; r = r->outer) {
      if (r->task == &state) {
        deadlock_detail::report_wait_on_own_future();
        break;
      }
    }
  }
  if (tls_scheduler != nullptr) {
    return tls_scheduler->help_until([&] { return state.done(); }, &state,
                                     deadline);
  }
  return state.wait_until(deadline);
}

void Signal::set() {
  event_.set();
  // seq_cst: Dekker with wait_until (helper_ store, then is_set).
  if (Scheduler* helper = helper_.load(std::memory_order_seq_cst)) {
    helper->wake_all_sleepers();
  }
}

bool Signal::wait_until(const Deadline& deadline) {
  if (event_.is_set()) return true;
  if (tls_scheduler == nullptr) return event_.wait_until(deadline);
  helper_.store(tls_scheduler, std::memory_order_seq_cst);
  bool set = tls_scheduler->help_until([this] { return event_.is_set(); },
                                       nullptr, deadline);
  helper_.store(nullptr, std::memory_order_relaxed);
  return set;
}

}  // namespace concur::futures_detail
