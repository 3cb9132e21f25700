// ProcessPoolExecutor: the workers, the two shared rings between them and
// the caller, and the caller's collector and monitor threads.
//
// Calls go into one SharedRing that every worker takes from (the free one
// takes the next call), results come back through another that the
// collector thread alone reads; the monitor thread waits on the workers'
// process descriptors and posts each death into the result ring, behind
// every result the dead worker had sent. So the collector sees one ordered
// story per worker and is the only thread that completes futures.
//
// Which call a worker took: the ring numbers its items, and a worker
// writes its id into claims_[index] inside the ring's claim, before the
// item counts as taken (SharedRing::take). When a worker dies, a call that
// the ring counts as taken and whose claim is the dead worker's was lost
// with it; a call not yet counted as taken stays in the ring for the next
// worker (whose claim then overwrites the dead one's before it commits).
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/exception_type.hpp"
#include "common/fork.hpp"
#include "concur/annotations.hpp"
#include "concur/detail/assert.hpp"
#include "concur/detail/shared_ring.hpp"
#include "concur/detail/sys/shared_memory.hpp"
#include "concur/futures.hpp"
#include "concur/multiprocessing.hpp"
#include "concur/sys.hpp"
#include "futures/remote_error.hpp"
#include "sys/fd.hpp"

namespace concur::futures_detail {

namespace {

namespace mp = concur::multiprocessing;
using multiprocessing_detail::SharedRing;
using sys::Deadline;

constexpr std::uint32_t kIndexMask = SharedRing::kMaxItems;
// Calls sent ahead beyond one per worker: enough that a worker finishing a
// small call finds the next one without waiting for the collector.
constexpr std::size_t kExtraSent = 32;

Deadline now() { return Deadline::after(std::chrono::seconds(0)); }

// Whether item `index` is among the first `taken` items (modulo 2^24; the
// items in flight span far less than half of that).
bool is_taken(std::uint32_t index, std::uint32_t taken) {
  const std::uint32_t distance = (taken - index) & kIndexMask;
  return distance != 0 && distance <= (kIndexMask >> 1) + 1;
}

std::size_t next_power_of_two(std::size_t n) {
  std::size_t p = 1;
  while (p < n) p <<= 1;
  return p;
}

// What travels back: a header, then the payload.
enum class Kind : std::uint32_t {
  kValue = 1,   // payload: the encoded result
  kError,       // payload: an encoded SentError
  kLost,        // the call's bytes were lost (its earlier reader died)
  kExit,        // the worker ends: code 0 after a stop, 1 when it retires
  kInitFailed,  // the worker's initializer threw
  kDeath,       // posted by the monitor: the worker ended, code its exitcode
};

struct ResultHeader {
  Kind kind;
  std::uint32_t worker;  // its id
  std::uint32_t index;   // the call's
  std::int32_t code;
};

// A call's first word is its invoker; a stop is a call with none.
constexpr std::uint64_t kStop = 0;

std::string how_it_ended(pid_t pid, int code) {
  std::string text = "the worker process (pid " + std::to_string(pid) + ") ";
  if (code < 0) {
    const char* name = sigabbrev_np(-code);
    return text + "was killed by signal " + std::to_string(-code) +
           (name != nullptr ? std::string(" (SIG") + name + ")" : "");
  }
  return text + "exited with code " + std::to_string(code);
}

constexpr const char* kTerminated =
    "A process in the process pool was terminated abruptly while the future "
    "was running or pending.";

}  // namespace

// What a worker works with: in a forked worker, the pool's own rings and
// claims; in a forkserver worker, mappings of the descriptors it was sent.
struct WorkerLink {
  std::shared_ptr<SharedRing> calls;
  std::shared_ptr<SharedRing> results;
  std::shared_ptr<sys::SharedMapping> claims;
  std::uint32_t id = 0;
  std::uint64_t table_size = 0;
  std::uint64_t max_tasks = 0;  // 0: no limit
  std::function<void()> initializer;
};

// A worker's life: runs calls until a stop, its task limit, or its death.
void run_worker(const WorkerLink& link);

}  // namespace concur::futures_detail

namespace concur::multiprocessing_detail {

template <>
struct Transfer<futures_detail::WorkerLink> {
  using Link = futures_detail::WorkerLink;
  using Initializer = void (*)();
  static void send(codec::Writer& w, Outbox& out, const Link& link) {
    codec::encode(w, out.add(link.calls->fd()));
    codec::encode(w, out.add(link.results->fd()));
    codec::encode(w, out.add(link.claims->fd()));
    codec::encode(w, link.id);
    codec::encode(w, link.table_size);
    codec::encode(w, link.max_tasks);
    const Initializer* init = link.initializer.target<Initializer>();
    codec::encode(w, init != nullptr);
    if (init != nullptr) detail::send_argument<Initializer>(w, *init);
  }
  static Link receive(codec::Reader& r, Inbox& in) {
    Link link;
    const std::string_view name = "process pool ring";
    link.calls = std::make_shared<SharedRing>(
        in.take(codec::decode<std::uint32_t>(r)), 0, name);
    link.results = std::make_shared<SharedRing>(
        in.take(codec::decode<std::uint32_t>(r)), 0, name);
    link.claims = std::make_shared<sys::SharedMapping>(
        sys::SharedMapping::map(in.take(codec::decode<std::uint32_t>(r))));
    link.id = codec::decode<std::uint32_t>(r);
    link.table_size = codec::decode<std::uint64_t>(r);
    link.max_tasks = codec::decode<std::uint64_t>(r);
    if (link.table_size == 0 || !std::has_single_bit(link.table_size) ||
        link.claims->size() < link.table_size * sizeof(std::uint32_t)) {
      throw ValueError("a process pool worker was sent a bad claims table");
    }
    if (codec::decode<bool>(r)) {
      link.initializer = detail::receive_argument<Initializer>(r);
    }
    return link;
  }
};

}  // namespace concur::multiprocessing_detail

namespace concur::futures_detail {

class ProcessPool {
 public:
  struct Config {
    std::size_t max_workers;
    std::function<void()> initializer;
    std::size_t max_tasks_per_child;  // 0: no limit
    bool replace_dead_workers;
    std::size_t buffer_bytes;
    multiprocessing::Context context;
  };

  explicit ProcessPool(Config config);
  ProcessPool(const ProcessPool&) = delete;
  ProcessPool& operator=(const ProcessPool&) = delete;
  ~ProcessPool();

  void submit(codec::Buffer&& call, StateBase& state, Completer complete);
  void shutdown(bool wait, bool cancel_futures);
  void stop_workers(int signum);
  std::size_t max_workers() const noexcept { return config_.max_workers; }
  std::size_t max_call_bytes() const noexcept {
    return config_.buffer_bytes / 2;
  }

 private:
  // A call sent (or a stop), by its ring index; state null for a stop.
  struct Entry {
    bool used = false;
    std::uint32_t index = 0;
    StateBase* state = nullptr;
    Completer complete = nullptr;
  };
  // A call not yet sent, holding a reference to its state (null: a stop).
  struct Pending {
    codec::Buffer call;
    StateBase* state = nullptr;
    Completer complete = nullptr;
    bool started = false;  // its future is already running
  };
  struct Worker {
    std::uint32_t id;
    mp::Process process;
    pid_t pid;
    bool exiting = false;  // it said it ends (kExit)
    bool retiring = false;
    bool reaped = false;  // the monitor has posted its death
  };
  // Futures to fail once the lock is released.
  struct Failure {
    StateBase* state;
    std::exception_ptr error;
  };

  // In the caller.
  bool inherited() const noexcept {
    return concur::detail::current_pid() != creator_;
  }
  void start_locked() CONCUR_REQUIRES(mu_);
  void spawn_locked() CONCUR_REQUIRES(mu_);
  void flush_locked() CONCUR_REQUIRES(mu_);
  void push_stop_locked() CONCUR_REQUIRES(mu_);
  // Moves the calls not yet sent out of pending_, to be cancelled by
  // cancel() once the lock is released.
  void take_unsent_locked(std::vector<StateBase*>& unsent) CONCUR_REQUIRES(mu_);
  static void cancel(std::vector<StateBase*>& unsent) noexcept;
  void break_locked(std::string reason, std::vector<Failure>& failures)
      CONCUR_REQUIRES(mu_);
  bool finished_locked() const CONCUR_REQUIRES(mu_);
  Worker* find_locked(std::uint32_t id) CONCUR_REQUIRES(mu_);
  void wake_monitor() noexcept;
  void join_threads();

  void collect();
  // Handles one record; false once the pool has nothing left to do.
  bool handle(const ResultHeader& header, std::span<const std::byte> payload);
  bool handle_death(const ResultHeader& header);
  void monitor();

  const Config config_;
  const pid_t creator_ = concur::detail::current_pid();
  const std::size_t send_ahead_;  // calls waiting in the ring at most
  const std::size_t table_size_;  // a power of two above the calls in flight
  SharedRing calls_;
  SharedRing results_;
  // claims_[index & (table_size_ - 1)]: the id of the worker that took the
  // call. Relaxed stores inside the ring's claim are published by its
  // commit (seq_cst) and read after an acquire load of taken().
  sys::SharedMapping claims_mapping_;
  std::atomic<std::uint32_t>* claims_;

  mutable threading::Lock mu_;
  std::vector<Entry> table_ CONCUR_GUARDED_BY(mu_);
  std::deque<Pending> pending_ CONCUR_GUARDED_BY(mu_);
  std::uint32_t next_index_ CONCUR_GUARDED_BY(mu_) = 0;
  std::vector<Worker> workers_ CONCUR_GUARDED_BY(mu_);
  std::uint32_t next_id_ CONCUR_GUARDED_BY(mu_) = 1;
  bool started_ CONCUR_GUARDED_BY(mu_) = false;
  bool shutdown_ CONCUR_GUARDED_BY(mu_) = false;
  bool terminating_ CONCUR_GUARDED_BY(mu_) = false;
  std::string broken_ CONCUR_GUARDED_BY(mu_);  // empty while usable
  bool done_ CONCUR_GUARDED_BY(mu_) = false;   // the collector has ended
  sys::Pipe wake_;
  std::optional<threading::Thread> collector_;
  std::optional<threading::Thread> monitor_;
};

ProcessPool::ProcessPool(Config config)
    : config_(std::move(config)),
      send_ahead_(config_.max_workers + kExtraSent),
      table_size_(next_power_of_two(2 * (send_ahead_ + config_.max_workers) +
                                    2 * config_.max_workers + 16)),
      calls_(SharedRing::Options{.capacity = config_.buffer_bytes,
                                 .type_name = "process pool calls"}),
      results_(SharedRing::Options{.type_name = "process pool results"}),
      claims_mapping_(sys::SharedMapping::anonymous(
          table_size_ * sizeof(std::uint32_t), "concur-pool-claims")),
      claims_(static_cast<std::atomic<std::uint32_t>*>(claims_mapping_.data())),
      table_(table_size_),
      wake_(sys::make_pipe(O_NONBLOCK)) {
  if (table_size_ > kIndexMask / 4) {
    throw ValueError("max_workers is too large for a process pool");
  }
}

ProcessPool::~ProcessPool() {
  if (!inherited()) shutdown(true, false);
}

// ---------------------------------------------------------------------------
// The worker.

namespace {

void post(SharedRing& results, const ResultHeader& header,
          std::span<const std::byte> payload) {
  struct Record {
    const ResultHeader& header;
    std::span<const std::byte> payload;
  } record{header, payload};
  auto fill = [](void* context, std::span<std::byte> out) {
    const auto& r = *static_cast<const Record*>(context);
    std::memcpy(out.data(), &r.header, sizeof r.header);
    if (!r.payload.empty()) {
      std::memcpy(out.data() + sizeof r.header, r.payload.data(),
                  r.payload.size());
    }
  };
  results.put(sizeof header + payload.size(), fill, &record, Deadline::never());
}

}  // namespace

void run_worker(const WorkerLink& link) {
  SharedRing& results = *link.results;
  const std::uint32_t id = link.id;
  if (link.initializer) {
    try {
      link.initializer();
    } catch (...) {
      const std::string what = concur::detail::describe_current_exception();
      std::fprintf(stderr, "Exception in initializer:\n%s\n", what.c_str());
      post(results, {Kind::kInitFailed, id, 0, 0}, {});
      concur::sys::exit(1);
    }
  }
  struct Taken {
    std::atomic<std::uint32_t>* claims;
    std::size_t mask;
    std::uint32_t id;
    std::uint32_t index = 0;
    bool lost = false;
    std::vector<std::byte> call;
  } taken{static_cast<std::atomic<std::uint32_t>*>(link.claims->data()),
          link.table_size - 1,
          id,
          0,
          false,
          {}};
  auto claim = [](void* context, std::uint32_t index,
                  std::span<const std::byte> in, bool lost) {
    auto& t = *static_cast<Taken*>(context);
    t.claims[index & t.mask].store(t.id, std::memory_order_relaxed);
    t.index = index;
    t.lost = lost;
    t.call.assign(in.begin(), in.end());
  };
  codec::Buffer out;
  std::size_t ran = 0;
  for (;;) {
    link.calls->take(claim, &taken, Deadline::never());
    if (taken.lost) {
      post(results, {Kind::kLost, id, taken.index, 0}, {});
      continue;
    }
    codec::Reader in(taken.call);
    std::uint64_t invoker = kStop;
    in.read(&invoker, sizeof invoker, "a call's invoker");
    if (invoker == kStop) {
      post(results, {Kind::kExit, id, taken.index, 0}, {});
      return;
    }
    out.clear();
    Kind kind = Kind::kValue;
    try {
      reinterpret_cast<Invoker>(concur::detail::local_code_address(invoker))(
          in, out);
    } catch (...) {
      const SentError error = describe_current_error();
      out.clear();
      codec::Writer w(out);
      codec::encode(w, error);
      kind = Kind::kError;
    }
    post(results, {kind, id, taken.index, 0}, out.bytes());
    if (link.max_tasks != 0 && ++ran == link.max_tasks) {
      post(results, {Kind::kExit, id, 0, 1}, {});
      return;
    }
  }
}

// ---------------------------------------------------------------------------
// The caller's side.

void submit(ProcessPool& pool, codec::Buffer&& call, StateBase& state,
            Completer complete) {
  pool.submit(std::move(call), state, complete);
}

void ProcessPoolDeleter::operator()(ProcessPool* pool) const noexcept {
  delete pool;
}

void ProcessPool::submit(codec::Buffer&& call, StateBase& state,
                         Completer complete) {
  if (call.size() > max_call_bytes()) {
    throw ValueError("a call of " + std::to_string(call.size()) +
                     " bytes does not fit in the process pool's buffer, "
                     "which takes calls of up to " +
                     std::to_string(config_.buffer_bytes / 2) +
                     " bytes (ProcessPoolOptions::buffer_bytes / 2)");
  }
  if (inherited()) {
    throw futures::BrokenProcessPool(
        "the process pool was inherited through fork()");
  }
  ScopedLock guard(mu_);
  if (!broken_.empty()) throw futures::BrokenProcessPool(broken_);
  if (shutdown_) {
    throw RuntimeError("cannot schedule new futures after shutdown");
  }
  if (!started_) start_locked();
  state.retain();
  pending_.push_back({std::move(call), &state, complete});
  flush_locked();
}

void ProcessPool::start_locked() {
  started_ = true;
  // Every worker before the pool's own threads exist, as Python forks them.
  try {
    for (std::size_t i = 0; i < config_.max_workers; ++i) spawn_locked();
  } catch (...) {
    if (workers_.empty()) {
      broken_ = "the process pool could not start a worker";
      throw;
    }
  }
  collector_.emplace(
      threading::ThreadOptions{.name = "ProcessPoolExecutor-collector",
                               .daemon = true},
      [this] { collect(); });
  monitor_.emplace(
      threading::ThreadOptions{.name = "ProcessPoolExecutor-monitor",
                               .daemon = true},
      [this] { monitor(); });
  collector_->start();
  monitor_->start();
}

void ProcessPool::spawn_locked() {
  const std::uint32_t id = next_id_++;
  // Borrowed: a forked worker has the pool's own copies; a forkserver
  // worker is sent their descriptors.
  const std::shared_ptr<void> none;
  WorkerLink link{std::shared_ptr<SharedRing>(none, &calls_),
                  std::shared_ptr<SharedRing>(none, &results_),
                  std::shared_ptr<sys::SharedMapping>(none, &claims_mapping_),
                  id,
                  table_size_,
                  config_.max_tasks_per_child,
                  config_.initializer};
  mp::Process process =
      config_.context.uses_forkserver()
          ? config_.context.Process(&run_worker, std::move(link))
          : mp::Process([link = std::move(link)] { run_worker(link); });
  process.start();
  const pid_t pid = process.pid().value_or(0);
  workers_.push_back({id, std::move(process), pid});
  wake_monitor();
}

void ProcessPool::flush_locked() {
  auto fill = [](void* context, std::span<std::byte> out) {
    const auto& call = *static_cast<const codec::Buffer*>(context);
    std::memcpy(out.data(), call.data(), call.size());
  };
  while (!pending_.empty() && calls_.qsize() < send_ahead_) {
    Pending& p = pending_.front();
    if (p.state != nullptr && !p.started) {
      if (!RemoteCompletion::start(*p.state)) {
        // Cancelled (or its result set by hand) while it waited.
        p.state->release();
        pending_.pop_front();
        continue;
      }
      p.started = true;
    }
    Entry& entry = table_[next_index_ & (table_size_ - 1)];
    if (entry.used) break;  // the calls in flight span the whole table
    if (!calls_.put(p.call.size(), fill, &p.call, now())) break;
    entry = {true, next_index_, p.state, p.complete};
    next_index_ = (next_index_ + 1) & kIndexMask;
    pending_.pop_front();
  }
}

void ProcessPool::push_stop_locked() {
  codec::Buffer stop;
  codec::Writer w(stop);
  w.write(&kStop, sizeof kStop);
  pending_.push_back({std::move(stop)});
}

void ProcessPool::take_unsent_locked(std::vector<StateBase*>& unsent) {
  std::erase_if(pending_, [&](Pending& p) {
    if (p.state == nullptr || p.started) return false;
    unsent.push_back(p.state);
    return true;
  });
}

void ProcessPool::cancel(std::vector<StateBase*>& unsent) noexcept {
  // Outside the lock: cancelling runs the futures' callbacks, which may
  // wait for the collector, which takes the lock.
  for (StateBase* state : unsent) {
    state->cancel();
    state->release();
  }
}

void ProcessPool::break_locked(std::string reason,
                               std::vector<Failure>& failures) {
  broken_ = std::move(reason);
  const auto error =
      std::make_exception_ptr(futures::BrokenProcessPool(kTerminated));
  for (Entry& entry : table_) {
    if (entry.used && entry.state != nullptr) {
      failures.push_back({entry.state, error});
    }
    entry = {};
  }
  for (Pending& p : pending_) {
    if (p.state == nullptr) continue;
    if (p.started || RemoteCompletion::start(*p.state)) {
      failures.push_back({p.state, error});
    } else {
      p.state->release();  // cancelled while it waited
    }
  }
  pending_.clear();
  for (Worker& w : workers_) {
    if (!w.reaped) w.process.terminate();
  }
}

bool ProcessPool::finished_locked() const {
  return workers_.empty() && (shutdown_ || !broken_.empty());
}

ProcessPool::Worker* ProcessPool::find_locked(std::uint32_t id) {
  for (Worker& w : workers_) {
    if (w.id == id) return &w;
  }
  return nullptr;
}

void ProcessPool::wake_monitor() noexcept {
  const char byte = 1;
  // A full pipe already holds a wake-up.
  const ssize_t n = ::write(wake_.write.get(), &byte, 1);
  static_cast<void>(n);
}

void ProcessPool::shutdown(bool wait, bool cancel_futures) {
  if (inherited()) return;
  std::vector<StateBase*> unsent;
  {
    ScopedLock guard(mu_);
    if (cancel_futures) take_unsent_locked(unsent);
    if (!shutdown_) {
      shutdown_ = true;
      if (started_ && broken_.empty()) {
        for (std::size_t i = 0; i < workers_.size(); ++i) push_stop_locked();
        flush_locked();
      }
    }
  }
  cancel(unsent);
  if (wait) join_threads();
}

void ProcessPool::stop_workers(int signum) {
  if (inherited()) return;
  std::vector<StateBase*> unsent;
  {
    ScopedLock guard(mu_);
    take_unsent_locked(unsent);
    shutdown_ = true;
    terminating_ = true;
    for (Worker& w : workers_) {
      if (w.reaped) continue;
      if (signum == SIGKILL) {
        w.process.kill();
      } else {
        w.process.terminate();
      }
    }
  }
  cancel(unsent);
}

void ProcessPool::join_threads() {
  if (collector_) collector_->join();
  if (monitor_) monitor_->join();
}

// The collector thread.
void ProcessPool::collect() {
  std::vector<std::byte> payload;
  ResultHeader header{};
  struct Received {
    ResultHeader& header;
    std::vector<std::byte>& payload;
  } received{header, payload};
  auto consume = [](void* context, std::span<const std::byte> in) {
    auto& r = *static_cast<Received*>(context);
    if (in.size() < sizeof r.header) {
      throw ValueError("a process pool result too short for its header");
    }
    std::memcpy(&r.header, in.data(), sizeof r.header);
    r.payload.assign(in.begin() + sizeof r.header, in.end());
  };
  for (;;) {
    try {
      results_.get(consume, &received, Deadline::never());
    } catch (const Error&) {
      continue;  // a corrupt record: dropped by the ring
    }
    if (!handle(header, payload)) break;
  }
  ScopedLock guard(mu_);
  done_ = true;
  wake_monitor();
}

bool ProcessPool::handle(const ResultHeader& header,
                         std::span<const std::byte> payload) {
  switch (header.kind) {
    case Kind::kValue:
    case Kind::kError:
    case Kind::kLost: {
      Entry entry;
      {
        ScopedLock guard(mu_);
        Entry& slot = table_[header.index & (table_size_ - 1)];
        entry = std::exchange(slot, {});
        flush_locked();
      }
      if (entry.state == nullptr) return true;  // failed when it broke
      if (header.kind == Kind::kValue) {
        entry.complete(*entry.state, payload);
      } else if (header.kind == Kind::kError) {
        std::exception_ptr error;
        try {
          error = rebuild_error(codec::loads<SentError>(payload));
        } catch (...) {
          error = std::current_exception();
        }
        RemoteCompletion::fail(*entry.state, error);
      } else {
        RemoteCompletion::fail(
            *entry.state,
            std::make_exception_ptr(futures::WorkerDiedError(
                "a worker process died while receiving the task")));
      }
      entry.state->release();
      return true;
    }
    case Kind::kExit: {
      ScopedLock guard(mu_);
      if (header.code == 0) table_[header.index & (table_size_ - 1)] = {};
      if (Worker* w = find_locked(header.worker)) {
        w->exiting = true;
        w->retiring = header.code == 1;
      }
      return true;
    }
    case Kind::kInitFailed: {
      std::vector<Failure> failures;
      {
        ScopedLock guard(mu_);
        if (broken_.empty()) {
          break_locked(
              "A process initializer failed, the process pool is not usable "
              "anymore",
              failures);
        }
      }
      for (Failure& f : failures) {
        RemoteCompletion::fail(*f.state, f.error);
        f.state->release();
      }
      return true;
    }
    case Kind::kDeath:
      return handle_death(header);
  }
  return true;
}

bool ProcessPool::handle_death(const ResultHeader& header) {
  std::vector<Failure> failures;
  bool finished = false;
  {
    ScopedLock guard(mu_);
    Worker* w = find_locked(header.worker);
    CONCUR_ASSERT(w != nullptr, "a death is posted once per worker");
    if (w == nullptr) return true;
    const bool clean = w->exiting;
    const bool retired = w->retiring;
    const pid_t pid = w->pid;
    std::erase_if(workers_,
                  [&](const Worker& x) { return x.id == header.worker; });
    const bool usable = broken_.empty() && !terminating_;
    if (clean) {
      // A worker that retired during a shutdown left its stop in the ring:
      // a new one is needed only while calls may be left.
      if (retired && usable &&
          (!shutdown_ || calls_.qsize() > 0 || !pending_.empty())) {
        spawn_locked();
      }
    } else if (config_.replace_dead_workers && usable) {
      // The call it had taken, if any, is the one lost.
      const std::uint32_t taken = calls_.taken();
      for (std::size_t i = 0; i < table_size_; ++i) {
        Entry& entry = table_[i];
        if (!entry.used || !is_taken(entry.index, taken) ||
            claims_[i].load(std::memory_order_relaxed) != header.worker) {
          continue;
        }
        if (entry.state != nullptr) {
          failures.push_back(
              {entry.state, std::make_exception_ptr(futures::WorkerDiedError(
                                how_it_ended(pid, header.code) +
                                " while running the task"))});
        }
        entry = {};
      }
      spawn_locked();
      // Its stop may be in the ring still, or gone with it: one more stop
      // left over is harmless, one missing would keep a worker waiting.
      if (shutdown_) push_stop_locked();
    } else if (broken_.empty()) {
      // Python's rule, and always when the workers are being stopped.
      break_locked(
          "A child process terminated abruptly, the process pool is not "
          "usable anymore",
          failures);
    }
    flush_locked();
    finished = finished_locked();
  }
  for (Failure& f : failures) {
    RemoteCompletion::fail(*f.state, f.error);
    f.state->release();
  }
  return !finished;
}

// The monitor thread.
void ProcessPool::monitor() {
  std::vector<int> fds;
  std::vector<std::uint32_t> ids;
  for (;;) {
    fds.assign(1, wake_.read.get());
    ids.assign(1, 0);
    {
      ScopedLock guard(mu_);
      if (done_) return;
      for (const Worker& w : workers_) {
        if (w.reaped) continue;
        fds.push_back(w.process.sentinel());
        ids.push_back(w.id);
      }
    }
    for (const std::size_t i : sys::wait_any_readable(fds, Deadline::never())) {
      if (i == 0) {
        std::byte drain[64];
        while (::read(wake_.read.get(), drain, sizeof drain) > 0) {
        }
        continue;
      }
      std::optional<mp::Process> process;
      {
        ScopedLock guard(mu_);
        if (Worker* w = find_locked(ids[i])) process = w->process;
      }
      if (!process) continue;
      process->join();
      const int code = process->exitcode().value_or(0);
      {
        ScopedLock guard(mu_);
        if (Worker* w = find_locked(ids[i])) w->reaped = true;
      }
      post(results_, {Kind::kDeath, ids[i], 0, code}, {});
    }
  }
}

}  // namespace concur::futures_detail

namespace concur::futures {

namespace {

futures_detail::ProcessPool::Config checked(ProcessPoolOptions options) {
  std::size_t workers = multiprocessing::process_cpu_count();
  if (options.max_workers) {
    if (*options.max_workers <= 0) {
      throw ValueError("max_workers must be greater than 0");
    }
    workers = static_cast<std::size_t>(*options.max_workers);
  }
  std::size_t tasks = 0;
  if (options.max_tasks_per_child) {
    if (*options.max_tasks_per_child < 1) {
      throw ValueError("max_tasks_per_child must be >= 1");
    }
    tasks = static_cast<std::size_t>(*options.max_tasks_per_child);
  }
  if (options.buffer_bytes < 4096) {
    throw ValueError("buffer_bytes must be at least 4096");
  }
  const multiprocessing::Context context =
      options.mp_context.value_or(multiprocessing::get_context());
  if (context.uses_forkserver() && options.initializer &&
      options.initializer.target<void (*)()>() == nullptr) {
    throw ValueError(
        "with the forkserver start method the initializer must be a plain "
        "function: it is sent to the workers");
  }
  return {workers,
          std::move(options.initializer),
          tasks,
          options.replace_dead_workers,
          options.buffer_bytes,
          context};
}

}  // namespace

ProcessPoolExecutor::ProcessPoolExecutor(std::ptrdiff_t max_workers)
    : ProcessPoolExecutor(ProcessPoolOptions{.max_workers = max_workers}) {}

ProcessPoolExecutor::ProcessPoolExecutor(ProcessPoolOptions options)
    : pool_(new futures_detail::ProcessPool(checked(std::move(options)))) {}

ProcessPoolExecutor::~ProcessPoolExecutor() = default;

void ProcessPoolExecutor::shutdown(bool wait, bool cancel_futures) {
  pool_->shutdown(wait, cancel_futures);
}

void ProcessPoolExecutor::terminate_workers() { pool_->stop_workers(SIGTERM); }

void ProcessPoolExecutor::kill_workers() { pool_->stop_workers(SIGKILL); }

std::size_t ProcessPoolExecutor::max_workers() const noexcept {
  return pool_->max_workers();
}

std::size_t ProcessPoolExecutor::max_call_bytes() const noexcept {
  return pool_->max_call_bytes();
}

}  // namespace concur::futures
