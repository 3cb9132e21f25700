// multiprocessing's synchronization objects: state in shared memory (one
// memfd mapping per object, see mp_synchronize.hpp), robust mutexes for the
// locks, process-shared futexes for everything that sleeps.
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <exception>
#include <limits>
#include <memory>
#include <new>
#include <string>
#include <utility>

#include "concur/detail/sys/futex.hpp"
#include "concur/detail/sys/robust_mutex.hpp"
#include "concur/detail/sys/shared_memory.hpp"
#include "concur/detail/sys/spin.hpp"
#include "concur/multiprocessing.hpp"
#include "multiprocessing/block.hpp"

namespace concur::multiprocessing_detail {

using sys::FutexScope;
using sys::RobustMutex;

namespace {

// ---------------------------------------------------------------------------
// Who the calling thread is, across processes: its process id in the high
// half and its kernel thread id in the low half. Both are needed: a tid is
// unique among the live threads of the system, but a dead holder's tid may
// be reused by a new thread, which then also needs the dead one's pid.
// Cached per thread; a forked child's only thread forgets the parent's
// value in a pthread_atfork handler.
thread_local std::uint64_t cached_self = 0;

void forget_self() noexcept { cached_self = 0; }

std::uint64_t self_id() noexcept {
  if (cached_self == 0) {
    static const bool registered =
        (pthread_atfork(nullptr, nullptr, forget_self), true);
    static_cast<void>(registered);
    const auto pid = static_cast<std::uint32_t>(::getpid());
    const auto tid = static_cast<std::uint32_t>(::syscall(SYS_gettid));
    cached_self = (std::uint64_t{pid} << 32) | tid;
  }
  return cached_self;
}

pid_t pid_of(std::uint64_t id) noexcept { return static_cast<pid_t>(id >> 32); }
pid_t tid_of(std::uint64_t id) noexcept {
  return static_cast<pid_t>(id & 0xffffffffu);
}

constexpr std::size_t round_up(std::size_t n, std::size_t align) {
  return (n + align - 1) / align * align;
}

}  // namespace

// ---------------------------------------------------------------------------
// A Lock's or RLock's state.
struct LockState {
  RobustMutex mutex;
  // The holder's self_id(), 0 while free. Only the holder writes it: after
  // the mutex is taken and before it is given back; others read it for
  // locked(), for misuse messages and, after the holder's death, for its
  // pid. Relaxed: the mutex orders everything it guards; this word is
  // only ever compared with the reader's own id (which only the reader
  // itself can have stored) or reported.
  std::atomic<std::uint64_t> owner{0};
  // RLock's depth: read and written by the holder only, handed from holder
  // to holder through the mutex.
  std::uint32_t count = 0;
};

// Builds handles over states that live in a shared block.
struct Access {
  static multiprocessing::Lock lock(std::shared_ptr<LockState> s) {
    return multiprocessing::Lock(std::move(s));
  }
  static multiprocessing::RLock rlock(std::shared_ptr<LockState> s) {
    return multiprocessing::RLock(std::move(s));
  }
  static multiprocessing::Condition condition(
      std::shared_ptr<ConditionState> s, std::optional<multiprocessing::Lock> l,
      std::optional<multiprocessing::RLock> r) {
    return multiprocessing::Condition(std::move(s), std::move(l), std::move(r));
  }
};

namespace {

std::shared_ptr<LockState> new_lock_state() {
  auto block = map_block(sizeof(LockState), "concur-mp-lock");
  return alias<LockState>(block, new (block->data()) LockState);
}

// After the mutex was taken from a holder that died: records nothing of
// the dead one, makes the mutex usable, frees it and reports.
[[noreturn]] void owner_died(LockState& s, const char* kind) {
  const std::uint64_t dead = s.owner.load(std::memory_order_relaxed);
  s.owner.store(0, std::memory_order_relaxed);
  s.count = 0;
  s.mutex.mark_consistent();
  s.mutex.unlock();
  const pid_t pid = pid_of(dead);
  std::string who;
  if (pid == 0) {
    who = "its holder";
  } else if (pid == ::getpid()) {
    who = "its holder (thread " + std::to_string(tid_of(dead)) +
          " of this process, pid " + std::to_string(pid) + ")";
  } else {
    who = "its holder (pid " + std::to_string(pid) + ")";
  }
  throw multiprocessing::OwnerDiedError(
      std::string("multiprocessing ") + kind + ": " + who +
          " died while holding it, so the data it guarded may be "
          "half-changed; the lock is free now and acquiring it again "
          "takes it",
      pid);
}

// Takes the mutex, or returns false when the deadline passes. A deadline
// of "now" (acquire(false), try_lock) only tries.
bool take(LockState& s, const sys::Deadline& deadline, bool blocking,
          const char* kind) {
  RobustMutex::Result r = s.mutex.try_lock();
  if (r == RobustMutex::Result::kTimedOut && blocking) {
    // A short spin first: a cross-process critical section is often over
    // within a microsecond, and the robust mutex parks at once.
    sys::spin_backoff_until([&] {
      r = s.mutex.try_lock();
      return r != RobustMutex::Result::kTimedOut;
    });
    if (r == RobustMutex::Result::kTimedOut) r = s.mutex.lock(deadline);
  }
  switch (r) {
    case RobustMutex::Result::kAcquired:
      s.owner.store(self_id(), std::memory_order_relaxed);
      return true;
    case RobustMutex::Result::kOwnerDied:
      owner_died(s, kind);
    case RobustMutex::Result::kTimedOut:
      break;
  }
  return false;
}

void give_back(LockState& s) noexcept {
  s.owner.store(0, std::memory_order_relaxed);
  s.mutex.unlock();
}

}  // namespace

// ---------------------------------------------------------------------------
// Semaphore: the counter in the low half (the futex word, which sleepers
// wait on while it is 0) and the number of sleepers in the high half, as
// threading's Semaphore keeps them, so that a release learns in its own
// atomic step whether to wake. A sleeper killed while asleep leaves its
// count behind: releases then make a wake-up call nobody needs, no more.
struct SemaphoreState {
  std::atomic<std::uint64_t> value{0};
  std::uint32_t bound = 0;  // constant
};

// Event: threading's Event word (bit 0 the flag, bits 1..31 a count of
// sets; the high half the sleepers).
struct EventState {
  std::atomic<std::uint64_t> word{0};
};

// ---------------------------------------------------------------------------
// Condition: a fixed table of waiter slots, guarded by the Condition's lock
// except for each slot's state word. Every field is zero in fresh memory,
// and a slot is set up only when first used, so the table costs memory
// only as deep as the most waiters ever seen at once.
struct WaiterSlot {
  // The futex word, accessed through atomic_ref:
  //   kFree     unused; only a thread holding the lock moves it;
  //   kWaiting  a waiter's, not notified, its thread not (yet) asleep;
  //   kParked   as kWaiting, but its thread sleeps: a notifier must wake it;
  //   kNotified a notifier chose it; the waiter frees it.
  // Under the lock: kFree -> kWaiting (wait), kWaiting/kParked -> kNotified
  // (notify), any -> kFree (the waiter, or a thread reclaiming a dead
  // waiter's slot). Without it: kWaiting -> kParked (the waiter).
  std::uint32_t state;
  std::uint32_t set_up;  // the alive mutex is constructed (under the lock)
  std::uint64_t ticket;  // arrival order (under the lock)
  // Held by the waiting thread for as long as the slot is its own: a
  // notifier that finds it "owner died" knows the waiter is gone.
  alignas(RobustMutex) unsigned char alive[sizeof(RobustMutex)];

  RobustMutex& alive_mutex() noexcept {
    return *std::launder(reinterpret_cast<RobustMutex*>(alive));
  }
  std::atomic_ref<std::uint32_t> word() noexcept {
    return std::atomic_ref<std::uint32_t>(state);
  }
};
constexpr std::uint32_t kFree = 0;
constexpr std::uint32_t kWaiting = 1;
constexpr std::uint32_t kParked = 2;
constexpr std::uint32_t kNotified = 3;

struct ConditionState {
  std::uint64_t next_ticket;  // under the lock
  std::uint32_t used;         // slots [0, used) have been set up
  WaiterSlot slots[multiprocessing::Condition::kMaxWaiters];
};
static_assert(std::is_trivially_default_constructible_v<ConditionState>);
static_assert(std::atomic_ref<std::uint32_t>::required_alignment <=
              alignof(std::uint32_t));

namespace {

// A ConditionState in zeroed shared memory: an implicit-lifetime type, whose
// fields are all zero, which is its initial state.
ConditionState* condition_at(void* where) {
  return std::launder(static_cast<ConditionState*>(where));
}

// Whether the thread that holds `slot` is alive; if it died, the slot is
// made free again. Under the lock.
bool waiter_alive(WaiterSlot& slot) noexcept {
  RobustMutex& m = slot.alive_mutex();
  switch (m.try_lock()) {
    case RobustMutex::Result::kTimedOut:
      return true;  // held, by a live waiter
    case RobustMutex::Result::kOwnerDied:
      m.mark_consistent();
      m.unlock();
      break;
    case RobustMutex::Result::kAcquired:
      m.unlock();
      break;
  }
  slot.word().store(kFree, std::memory_order_relaxed);
  return false;
}

// A free slot for the calling waiter, owned by it on return. Under the
// lock.
WaiterSlot& take_slot(ConditionState& st) {
  WaiterSlot* found = nullptr;
  for (std::uint32_t i = 0; i < st.used && found == nullptr; ++i) {
    if (st.slots[i].word().load(std::memory_order_relaxed) == kFree) {
      found = &st.slots[i];
    }
  }
  if (found == nullptr && st.used < multiprocessing::Condition::kMaxWaiters) {
    found = &st.slots[st.used];
    if (found->set_up == 0) {
      new (found->alive) RobustMutex;
      found->set_up = 1;
    }
    ++st.used;
  }
  if (found == nullptr) {
    // Full: take back the slots of waiters that died.
    for (std::uint32_t i = 0; i < st.used && found == nullptr; ++i) {
      if (!waiter_alive(st.slots[i])) found = &st.slots[i];
    }
  }
  if (found == nullptr) {
    throw RuntimeError(
        "too many waiters: a multiprocessing Condition holds at most " +
        std::to_string(multiprocessing::Condition::kMaxWaiters) +
        " waiting threads at once");
  }
  if (found->alive_mutex().try_lock() == RobustMutex::Result::kOwnerDied) {
    found->alive_mutex().mark_consistent();
  }
  found->ticket = st.next_ticket++;
  found->word().store(kWaiting, std::memory_order_relaxed);
  return *found;
}

void free_slot(WaiterSlot& slot) noexcept {
  slot.word().store(kFree, std::memory_order_relaxed);
  slot.alive_mutex().unlock();
}

// Sleeps until notified or until the deadline; returns whether notified.
bool park(WaiterSlot& slot, const sys::Deadline& deadline) {
  auto w = slot.word();
  // Acquire on every read of kNotified: pairs with the notifier's release
  // (the lock that wait() takes back orders what matters anyway).
  if (sys::spin_until(
          [&] { return w.load(std::memory_order_acquire) == kNotified; })) {
    return true;
  }
  std::uint32_t expected = kWaiting;
  if (!w.compare_exchange_strong(expected, kParked,
                                 std::memory_order_acquire)) {
    return true;  // notified while spinning
  }
  while (w.load(std::memory_order_acquire) == kParked) {
    if (!sys::futex_wait_at(&slot.state, kParked, deadline,
                            FutexScope::kShared)) {
      return w.load(std::memory_order_acquire) == kNotified;
    }
  }
  return true;
}

void wake(WaiterSlot& slot) noexcept {
  if (slot.word().exchange(kNotified, std::memory_order_release) == kParked) {
    sys::futex_wake_at(&slot.state, 1, FutexScope::kShared);
  }
}

bool waiting(std::uint32_t state) noexcept {
  return state == kWaiting || state == kParked;
}

}  // namespace

// ---------------------------------------------------------------------------
// The blocks of Value and Array (mp_sharedctypes.hpp): the payload at a
// 64-byte boundary, after the lock's state when there is one.

namespace {
constexpr std::size_t kPayloadAlign = 64;
constexpr std::size_t kPayloadOffset =
    round_up(sizeof(LockState), kPayloadAlign);

std::pair<std::shared_ptr<LockState>, std::shared_ptr<std::byte>>
lock_and_bytes(std::size_t size) {
  if (size > std::numeric_limits<std::size_t>::max() - kPayloadOffset) {
    throw ValueError("shared value too large for memory");
  }
  auto block = map_block(kPayloadOffset + size, "concur-mp-value");
  auto* base = static_cast<std::byte*>(block->data());
  return {alias<LockState>(block, new (base) LockState),
          alias<std::byte>(block, base + kPayloadOffset)};
}
}  // namespace

std::shared_ptr<std::byte> shared_bytes(std::size_t size) {
  auto block = map_block(size == 0 ? 1 : size, "concur-mp-value");
  return alias<std::byte>(block, block->data());
}

std::pair<multiprocessing::Lock, std::shared_ptr<std::byte>> shared_bytes_with(
    std::size_t size, std::type_identity<multiprocessing::Lock>) {
  auto [lock, bytes] = lock_and_bytes(size);
  return {Access::lock(std::move(lock)), std::move(bytes)};
}

std::pair<multiprocessing::RLock, std::shared_ptr<std::byte>> shared_bytes_with(
    std::size_t size, std::type_identity<multiprocessing::RLock>) {
  auto [lock, bytes] = lock_and_bytes(size);
  return {Access::rlock(std::move(lock)), std::move(bytes)};
}

// ---------------------------------------------------------------------------
// Barrier: CPython's Barrier cycle (see src/threading/barrier.cpp) with its
// fields in shared memory, guarded by `lock`; its Condition lives in the
// same block, after it.
struct BarrierState {
  BarrierState(std::uint32_t p, std::int64_t t) : parties(p), timeout_ns(t) {}
  enum : std::int32_t { kFilling, kDraining, kResetting, kBroken };
  LockState lock;
  const std::uint32_t parties;
  const std::int64_t timeout_ns;  // < 0: none
  std::int32_t state = kFilling;
  std::uint32_t count = 0;
};

}  // namespace concur::multiprocessing_detail

namespace concur::multiprocessing {

namespace md = multiprocessing_detail;
using sys::CountedFutex;
using sys::FutexScope;

// ---------------------------------------------------------------------------
// Lock

Lock::Lock() : state_(md::new_lock_state()) {}

bool Lock::acquire(bool blocking) CONCUR_NO_THREAD_SAFETY_ANALYSIS {
  return md::take(*state_, sys::Deadline::never(), blocking, "Lock");
}

bool Lock::acquire_until(const sys::Deadline& deadline)
    CONCUR_NO_THREAD_SAFETY_ANALYSIS {
  return md::take(*state_, deadline, true, "Lock");
}

void Lock::release() CONCUR_NO_THREAD_SAFETY_ANALYSIS {
  const std::uint64_t owner = state_->owner.load(std::memory_order_relaxed);
  if (owner != md::self_id()) {
    if (owner == 0) {
      throw ValueError("semaphore or lock released too many times");
    }
    throw RuntimeError(
        "cannot release a multiprocessing Lock held by another thread "
        "(pid " +
        std::to_string(md::pid_of(owner)) +
        "): only the holder may release it, since the kernel tracks the "
        "lock by its holder to recover it when the holder dies");
  }
  md::give_back(*state_);
}

bool Lock::locked() const noexcept {
  return state_->owner.load(std::memory_order_relaxed) != 0;
}

bool Lock::is_owned() const noexcept {
  return state_->owner.load(std::memory_order_relaxed) == md::self_id();
}

// ---------------------------------------------------------------------------
// RLock

RLock::RLock() : state_(md::new_lock_state()) {}

bool RLock::acquire(bool blocking) CONCUR_NO_THREAD_SAFETY_ANALYSIS {
  if (is_owned()) {
    ++state_->count;
    return true;
  }
  if (!md::take(*state_, sys::Deadline::never(), blocking, "RLock")) {
    return false;
  }
  state_->count = 1;
  return true;
}

bool RLock::acquire_until(const sys::Deadline& deadline)
    CONCUR_NO_THREAD_SAFETY_ANALYSIS {
  if (is_owned()) {
    ++state_->count;
    return true;
  }
  if (!md::take(*state_, deadline, true, "RLock")) return false;
  state_->count = 1;
  return true;
}

void RLock::release() CONCUR_NO_THREAD_SAFETY_ANALYSIS {
  if (!is_owned()) throw RuntimeError("cannot release un-acquired lock");
  if (--state_->count == 0) md::give_back(*state_);
}

bool RLock::locked() const noexcept {
  return state_->owner.load(std::memory_order_relaxed) != 0;
}

bool RLock::is_owned() const noexcept {
  return state_->owner.load(std::memory_order_relaxed) == md::self_id();
}

std::size_t RLock::recursion_count() const noexcept {
  return is_owned() ? state_->count : 0;
}

std::uint32_t RLock::release_all() noexcept {
  const std::uint32_t count = state_->count;
  state_->count = 0;
  md::give_back(*state_);
  return count;
}

void RLock::restore(std::uint32_t count) {
  static_cast<void>(md::take(*state_, sys::Deadline::never(), true, "RLock"));
  state_->count = count;
}

// ---------------------------------------------------------------------------
// Semaphore

namespace {
constexpr std::int64_t kMaxValue = std::numeric_limits<std::uint32_t>::max();
}

Semaphore::Semaphore(std::int64_t value) : Semaphore(value, false) {}

Semaphore::Semaphore(std::int64_t value, bool bounded) {
  if (value < 0) throw ValueError("semaphore initial value must be >= 0");
  if (value > kMaxValue) {
    throw ValueError("semaphore initial value must be at most 4294967295");
  }
  auto block = md::map_block(sizeof(md::SemaphoreState), "concur-mp-semaphore");
  auto* s = new (block->data()) md::SemaphoreState;
  s->value.store(static_cast<std::uint64_t>(value), std::memory_order_relaxed);
  s->bound = bounded ? static_cast<std::uint32_t>(value)
                     : static_cast<std::uint32_t>(kMaxValue);
  state_ = md::alias<md::SemaphoreState>(block, s);
}

namespace {
bool try_take(std::atomic<std::uint64_t>& v) noexcept {
  std::uint64_t cur = v.load(std::memory_order_relaxed);
  // Acquire: pairs with the release in release(), so what the releaser did
  // before it is visible to the acquirer. The counter is non-zero, so the
  // decrement leaves the sleeper half alone.
  while (CountedFutex::word_of(cur) != 0) {
    if (v.compare_exchange_weak(cur, cur - 1, std::memory_order_acquire,
                                std::memory_order_relaxed)) {
      return true;
    }
  }
  return false;
}
}  // namespace

bool Semaphore::acquire(bool blocking) CONCUR_NO_THREAD_SAFETY_ANALYSIS {
  if (try_take(state_->value)) return true;
  return blocking && acquire_until(sys::Deadline::never());
}

bool Semaphore::acquire_until(const sys::Deadline& deadline)
    CONCUR_NO_THREAD_SAFETY_ANALYSIS {
  auto& v = state_->value;
  if (sys::spin_until([&] { return try_take(v); })) return true;
  // Count ourselves as a sleeper before the last check, so that a release
  // either sees us (and wakes us) or made the counter non-zero before the
  // futex compares it. seq_cst on both sides gives the single order this
  // store-then-load pattern needs.
  v.fetch_add(CountedFutex::kOneSleeper, std::memory_order_seq_cst);
  bool taken = false;
  while (!(taken = try_take(v))) {
    if (!sys::futex_wait(v, 0, deadline, FutexScope::kShared)) {
      taken = try_take(v);
      break;
    }
  }
  v.fetch_sub(CountedFutex::kOneSleeper, std::memory_order_relaxed);
  return taken;
}

void Semaphore::release(std::int64_t n) CONCUR_NO_THREAD_SAFETY_ANALYSIS {
  if (n < 1) throw ValueError("n must be one or more");
  auto& v = state_->value;
  const std::uint32_t bound = state_->bound;
  std::uint64_t cur = v.load(std::memory_order_relaxed);
  do {
    if (n > static_cast<std::int64_t>(bound) - CountedFutex::word_of(cur)) {
      throw ValueError("semaphore or lock released too many times");
    }
    // seq_cst: the release half publishes what this thread did before
    // release() to the thread that takes the unit; the total order pairs
    // with the sleeper count (see acquire_until).
  } while (!v.compare_exchange_weak(cur, cur + static_cast<std::uint64_t>(n),
                                    std::memory_order_seq_cst,
                                    std::memory_order_relaxed));
  if (CountedFutex::sleepers_of(cur) != 0) {
    sys::futex_wake(v, n > 0x7fffffff ? 0x7fffffff : static_cast<int>(n),
                    FutexScope::kShared);
  }
}

std::uint32_t Semaphore::get_value() const noexcept {
  return CountedFutex::word_of(state_->value.load(std::memory_order_relaxed));
}

// ---------------------------------------------------------------------------
// Event (threading's algorithm; see src/threading/event.cpp)

namespace {
constexpr std::uint64_t kSetBit = 1;
}

Event::Event() {
  auto block = md::map_block(sizeof(md::EventState), "concur-mp-event");
  state_ = md::alias<md::EventState>(block, new (block->data()) md::EventState);
}

bool Event::is_set() const noexcept {
  // Acquire: who sees the flag set sees what the setter did before set().
  return (state_->word.load(std::memory_order_acquire) & kSetBit) != 0;
}

void Event::set() noexcept {
  auto& v = state_->word;
  std::uint64_t cur = v.load(std::memory_order_relaxed);
  std::uint64_t next = 0;
  do {
    if ((cur & kSetBit) != 0) return;
    const std::uint32_t word = (CountedFutex::word_of(cur) + 2) | kSetBit;
    next = (cur & ~std::uint64_t{0xffffffff}) | word;
    // seq_cst: publishes the setter's writes, and orders this CAS against
    // a waiter's sleeper increment so that no sleeper is missed.
  } while (!v.compare_exchange_weak(cur, next, std::memory_order_seq_cst,
                                    std::memory_order_relaxed));
  if (CountedFutex::sleepers_of(cur) != 0) {
    sys::futex_wake_all(v, FutexScope::kShared);
  }
}

void Event::clear() noexcept {
  // Relaxed: clearing publishes nothing.
  state_->word.fetch_and(~kSetBit, std::memory_order_relaxed);
}

bool Event::wait_until(const sys::Deadline& deadline) {
  auto& v = state_->word;
  const std::uint32_t seen =
      CountedFutex::word_of(v.load(std::memory_order_acquire));
  if ((seen & kSetBit) != 0) return true;
  // Any change of the word since `seen` means a set() happened.
  auto was_set = [&] {
    return CountedFutex::word_of(v.load(std::memory_order_seq_cst)) != seen;
  };
  if (sys::spin_until(was_set)) return true;
  v.fetch_add(CountedFutex::kOneSleeper, std::memory_order_seq_cst);
  bool result = true;
  while (!was_set()) {
    if (!sys::futex_wait(v, seen, deadline, FutexScope::kShared)) {
      result = was_set();
      break;
    }
  }
  v.fetch_sub(CountedFutex::kOneSleeper, std::memory_order_relaxed);
  return result;
}

// ---------------------------------------------------------------------------
// Condition

Condition::Condition() {
  // The RLock and the waiter table in one block.
  constexpr std::size_t kTable =
      md::round_up(sizeof(md::LockState), alignof(md::ConditionState));
  auto block =
      md::map_block(kTable + sizeof(md::ConditionState), "concur-mp-condition");
  auto* base = static_cast<unsigned char*>(block->data());
  rlock_ = md::Access::rlock(
      md::alias<md::LockState>(block, new (base) md::LockState));
  state_ =
      md::alias<md::ConditionState>(block, md::condition_at(base + kTable));
}

Condition::Condition(const Lock& lock) : lock_(lock) {
  auto block = md::map_block(sizeof(md::ConditionState), "concur-mp-condition");
  state_ =
      md::alias<md::ConditionState>(block, md::condition_at(block->data()));
}

Condition::Condition(const RLock& lock) : rlock_(lock) {
  auto block = md::map_block(sizeof(md::ConditionState), "concur-mp-condition");
  state_ =
      md::alias<md::ConditionState>(block, md::condition_at(block->data()));
}

// The Condition's capability is its lock's; the analysis cannot equate
// them, so these forwarding functions and wait are checked by the tests.
bool Condition::acquire() CONCUR_NO_THREAD_SAFETY_ANALYSIS {
  return rlock_ ? rlock_->acquire() : lock_->acquire();
}
bool Condition::acquire(bool blocking) CONCUR_NO_THREAD_SAFETY_ANALYSIS {
  return rlock_ ? rlock_->acquire(blocking) : lock_->acquire(blocking);
}
void Condition::release() CONCUR_NO_THREAD_SAFETY_ANALYSIS {
  if (rlock_) {
    rlock_->release();
  } else {
    lock_->release();
  }
}

bool Condition::is_owned() const noexcept {
  return rlock_ ? rlock_->is_owned() : lock_->is_owned();
}

bool Condition::wait_until(const sys::Deadline& deadline)
    CONCUR_NO_THREAD_SAFETY_ANALYSIS {
  if (!is_owned()) throw RuntimeError("cannot wait on un-acquired lock");
  md::WaiterSlot& slot = md::take_slot(*state_);
  std::uint32_t depth = 0;
  if (rlock_) {
    depth = rlock_->release_all();
  } else {
    lock_->release();
  }
  static_cast<void>(md::park(slot, deadline));
  // Take the lock back whatever happens, so that the caller holds it when
  // wait() returns or throws. A holder that died meanwhile makes take()
  // free the lock and throw: take it again, and report that after.
  std::exception_ptr died;
  for (;;) {
    try {
      if (rlock_) {
        rlock_->restore(depth);
      } else {
        static_cast<void>(lock_->acquire());
      }
      break;
    } catch (const OwnerDiedError&) {
      died = std::current_exception();
    }
  }
  // With the lock held the slot's state is final: a notifier chose it (the
  // notification is ours, even if the timeout expired meanwhile) or not.
  const bool notified =
      slot.word().load(std::memory_order_acquire) == md::kNotified;
  md::free_slot(slot);
  if (died) std::rethrow_exception(died);
  return notified;
}

void Condition::notify(std::ptrdiff_t n) {
  if (!is_owned()) throw RuntimeError("cannot notify on un-acquired lock");
  md::ConditionState& st = *state_;
  while (n > 0) {
    md::WaiterSlot* oldest = nullptr;
    for (std::uint32_t i = 0; i < st.used; ++i) {
      md::WaiterSlot& s = st.slots[i];
      if (md::waiting(s.word().load(std::memory_order_relaxed)) &&
          (oldest == nullptr || s.ticket < oldest->ticket)) {
        oldest = &s;
      }
    }
    if (oldest == nullptr) break;
    if (!md::waiter_alive(*oldest)) continue;  // reclaimed; look again
    md::wake(*oldest);
    --n;
  }
}

void Condition::notify_all() {
  if (!is_owned()) throw RuntimeError("cannot notify on un-acquired lock");
  md::ConditionState& st = *state_;
  for (std::uint32_t i = 0; i < st.used; ++i) {
    md::WaiterSlot& s = st.slots[i];
    if (md::waiting(s.word().load(std::memory_order_relaxed)) &&
        md::waiter_alive(s)) {
      md::wake(s);
    }
  }
}

// ---------------------------------------------------------------------------
// Barrier

namespace {

std::uint32_t checked_parties(std::ptrdiff_t parties) {
  if (parties < 1) throw ValueError("parties must be >= 1");
  if (parties > static_cast<std::ptrdiff_t>(Condition::kMaxWaiters) + 1) {
    throw ValueError("a multiprocessing Barrier takes at most " +
                     std::to_string(Condition::kMaxWaiters + 1) + " parties");
  }
  return static_cast<std::uint32_t>(parties);
}

}  // namespace

struct Barrier::Parts {
  std::shared_ptr<md::BarrierState> state;
  Lock lock;
  Condition cond;
};

Barrier::Parts Barrier::make(std::ptrdiff_t parties,
                             std::optional<Duration> timeout) {
  const std::uint32_t p = checked_parties(parties);
  std::int64_t ns = -1;
  if (timeout) {
    ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
             sys::checked_timeout(*timeout))
             .count();
  }
  constexpr std::size_t kTable =
      md::round_up(sizeof(md::BarrierState), alignof(md::ConditionState));
  auto block =
      md::map_block(kTable + sizeof(md::ConditionState), "concur-mp-barrier");
  auto* base = static_cast<unsigned char*>(block->data());
  auto state =
      md::alias<md::BarrierState>(block, new (base) md::BarrierState(p, ns));
  Lock lock =
      md::Access::lock(std::shared_ptr<md::LockState>(block, &state->lock));
  Condition cond = md::Access::condition(
      md::alias<md::ConditionState>(block, md::condition_at(base + kTable)),
      lock, std::nullopt);
  return {std::move(state), std::move(lock), std::move(cond)};
}

// Holds the Barrier's lock. A party that died holding it may have left the
// fields half-changed: the barrier is then broken, for everyone.
struct Barrier::Guard {
  explicit Guard(Barrier& b) CONCUR_NO_THREAD_SAFETY_ANALYSIS : barrier(b) {
    try {
      b.lock_.acquire();
    } catch (const OwnerDiedError&) {
      b.lock_.acquire();
      b.state_->state = md::BarrierState::kBroken;
      b.cond_.notify_all();
    }
  }
  ~Guard() CONCUR_NO_THREAD_SAFETY_ANALYSIS { barrier.lock_.release(); }
  Guard(const Guard&) = delete;
  Guard& operator=(const Guard&) = delete;
  Barrier& barrier;
};

Barrier::Barrier(std::ptrdiff_t parties, std::function<void()> action,
                 std::optional<Duration> timeout)
    : Barrier(make(parties, timeout), std::move(action)) {}

Barrier::Barrier(Parts&& parts, std::function<void()> action)
    : state_(std::move(parts.state)),
      lock_(std::move(parts.lock)),
      cond_(std::move(parts.cond)),
      action_(
          std::make_shared<const std::function<void()>>(std::move(action))) {}

std::size_t Barrier::wait() {
  const std::int64_t ns = state_->timeout_ns;
  return wait_until(ns < 0
                        ? sys::Deadline::never()
                        : sys::Deadline::after(std::chrono::nanoseconds(ns)));
}

std::size_t Barrier::wait_until(const sys::Deadline& deadline)
    CONCUR_NO_THREAD_SAFETY_ANALYSIS {
  using S = md::BarrierState;
  Guard guard(*this);
  S& st = *state_;
  auto broken_by_death = [&] {
    st.state = S::kBroken;
    cond_.notify_all();
    return BrokenBarrierError(
        "a party died holding the barrier's lock: the barrier is broken");
  };
  // Enter: wait out a cycle that is draining or resetting.
  try {
    while (st.state == S::kDraining || st.state == S::kResetting) {
      cond_.wait();
    }
  } catch (const OwnerDiedError&) {
    throw broken_by_death();
  }
  if (st.state == S::kBroken) throw BrokenBarrierError("barrier is broken");
  const std::size_t index = st.count++;
  struct Leave {  // on the normal and the exceptional path
    Barrier& b;
    S& st;
    ~Leave() CONCUR_NO_THREAD_SAFETY_ANALYSIS {
      --st.count;
      if (st.count == 0 &&
          (st.state == S::kResetting || st.state == S::kDraining)) {
        st.state = S::kFilling;
        b.cond_.notify_all();
      }
    }
  } leave{*this, st};
  if (index + 1 == st.parties) {
    try {
      if (*action_) (*action_)();
    } catch (...) {
      st.state = S::kBroken;
      cond_.notify_all();
      throw;
    }
    st.state = S::kDraining;
    cond_.notify_all();
    return index;
  }
  try {
    while (st.state == S::kFilling && !deadline.expired()) {
      static_cast<void>(cond_.wait_until(deadline));
    }
  } catch (const OwnerDiedError&) {
    throw broken_by_death();
  }
  if (st.state == S::kFilling) {
    st.state = S::kBroken;
    cond_.notify_all();
    throw BrokenBarrierError("barrier wait timed out");
  }
  if (st.state != S::kDraining) {
    throw BrokenBarrierError("barrier was aborted or reset");
  }
  return index;
}

void Barrier::reset() {
  using S = md::BarrierState;
  Guard guard(*this);
  S& st = *state_;
  if (st.count > 0) {
    if (st.state == S::kFilling || st.state == S::kBroken) {
      st.state = S::kResetting;
    }
  } else {
    st.state = S::kFilling;
  }
  cond_.notify_all();
}

void Barrier::abort() {
  Guard guard(*this);
  state_->state = md::BarrierState::kBroken;
  cond_.notify_all();
}

std::size_t Barrier::parties() const noexcept { return state_->parties; }

std::size_t Barrier::n_waiting() {
  Guard guard(*this);
  return state_->state == md::BarrierState::kFilling ? state_->count : 0;
}

bool Barrier::broken() {
  Guard guard(*this);
  return state_->state == md::BarrierState::kBroken;
}

}  // namespace concur::multiprocessing

// ---------------------------------------------------------------------------
// To a forkserver child.

namespace concur::multiprocessing_detail {

using multiprocessing::Barrier;
using multiprocessing::BoundedSemaphore;
using multiprocessing::Condition;
using multiprocessing::Event;
using multiprocessing::Lock;
using multiprocessing::RLock;
using multiprocessing::Semaphore;

void Transfer<Lock>::send(codec::Writer& w, Outbox& out, const Lock& value) {
  send_block_pointer(w, out, value.state_);
}
Lock Transfer<Lock>::receive(codec::Reader& r, Inbox& in) {
  return Lock(receive_block_object<LockState>(r, in));
}

void Transfer<RLock>::send(codec::Writer& w, Outbox& out, const RLock& value) {
  send_block_pointer(w, out, value.state_);
}
RLock Transfer<RLock>::receive(codec::Reader& r, Inbox& in) {
  return RLock(receive_block_object<LockState>(r, in));
}

void Transfer<Semaphore>::send(codec::Writer& w, Outbox& out,
                               const Semaphore& value) {
  send_block_pointer(w, out, value.state_);
}
Semaphore Transfer<Semaphore>::receive(codec::Reader& r, Inbox& in) {
  return Semaphore(receive_block_object<SemaphoreState>(r, in));
}

void Transfer<BoundedSemaphore>::send(codec::Writer& w, Outbox& out,
                                      const BoundedSemaphore& value) {
  send_block_pointer(w, out, value.state_);
}
BoundedSemaphore Transfer<BoundedSemaphore>::receive(codec::Reader& r,
                                                     Inbox& in) {
  return BoundedSemaphore(receive_block_object<SemaphoreState>(r, in));
}

void Transfer<Event>::send(codec::Writer& w, Outbox& out, const Event& value) {
  send_block_pointer(w, out, value.state_);
}
Event Transfer<Event>::receive(codec::Reader& r, Inbox& in) {
  return Event(receive_block_object<EventState>(r, in));
}

void Transfer<Condition>::send(codec::Writer& w, Outbox& out,
                               const Condition& value) {
  send_block_pointer(w, out, value.state_);
  codec::encode(w, value.rlock_.has_value());
  if (value.rlock_) {
    Transfer<RLock>::send(w, out, *value.rlock_);
  } else {
    Transfer<Lock>::send(w, out, *value.lock_);
  }
}
Condition Transfer<Condition>::receive(codec::Reader& r, Inbox& in) {
  auto state = receive_block_object<ConditionState>(r, in);
  std::optional<Lock> lock;
  std::optional<RLock> rlock;
  if (codec::decode<bool>(r)) {
    rlock.emplace(Transfer<RLock>::receive(r, in));
  } else {
    lock.emplace(Transfer<Lock>::receive(r, in));
  }
  return Condition(std::move(state), std::move(lock), std::move(rlock));
}

void Transfer<Barrier>::send(codec::Writer& w, Outbox& out,
                             const Barrier& value) {
  if (*value.action_) {
    throw ValueError(
        "a Barrier with an action cannot be sent to a forkserver child");
  }
  send_block_pointer(w, out, value.state_);
  Transfer<Lock>::send(w, out, value.lock_);
  Transfer<Condition>::send(w, out, value.cond_);
}
Barrier Transfer<Barrier>::receive(codec::Reader& r, Inbox& in) {
  auto state = receive_block_object<BarrierState>(r, in);
  Lock lock = Transfer<Lock>::receive(r, in);
  Condition cond = Transfer<Condition>::receive(r, in);
  return Barrier(
      Barrier::Parts{std::move(state), std::move(lock), std::move(cond)}, {});
}

}  // namespace concur::multiprocessing_detail
