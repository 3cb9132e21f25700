// concur/queue.hpp — Python's `queue` module for C++20.
//
// Thread-safe queues for handing items from producer threads to consumer
// threads: Queue (first in, first out), LifoQueue (last in, first out),
// PriorityQueue (smallest first) and SimpleQueue (unbounded FIFO without
// task tracking or shutdown, and the fastest). They are class templates on
// the item type; move-only items (std::unique_ptr, ...) work.
//
// Conventions shared by every class here:
//   * Blocking calls come in three forms, as in Python: blocking
//     (`q.get()`), with a timeout (`q.get(500ms)`, any std::chrono duration)
//     and non-blocking (`q.get_nowait()`). On timeout, or when nothing is
//     available at once, get throws queue::Empty and put throws queue::Full,
//     as Python raises them. For C++ callers, try_get() and try_get(timeout)
//     return std::optional<T> instead of throwing Empty. A negative timeout
//     throws ValueError.
//   * Nothing is lost: a get that times out, or is woken by shutdown, has
//     taken no item; a put that throws (Full, ShutDown, or an exception from
//     the item's copy) has stored none.
//   * Memory ordering: everything a thread did before put() is visible to
//     the thread whose get() returns that item; everything a consumer did
//     before task_done() is visible to the thread whose join() returns
//     because of it.
//   * qsize(), empty() and full() are snapshots, as in Python: another
//     thread may change the answer before the caller uses it.
//
// Differences from Python: a timeout is a std::chrono duration and a
// negative one throws ValueError in every call that takes one (Python lets
// put on an unbounded queue ignore it); maxsize is fixed at construction;
// exceptions carry a message (Python's have none).
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "concur/annotations.hpp"
#include "concur/detail/segmented_queue.hpp"
#include "concur/detail/sys/deadline.hpp"
#include "concur/detail/sys/event_count.hpp"
#include "concur/errors.hpp"
#include "concur/threading.hpp"

namespace concur::queue {

// Raised by get_nowait(), and by get(timeout) when no item arrived in time.
CONCUR_DEFINE_ERROR(Empty, Error);
// Raised by put_nowait(), and by put(item, timeout) when no room appeared in
// time, on a queue with a maxsize.
CONCUR_DEFINE_ERROR(Full, Error);
// Raised by put on a queue that is shut down, and by get once such a queue
// is empty (at once after shutdown(true)).
CONCUR_DEFINE_ERROR(ShutDown, Error);

}  // namespace concur::queue

namespace concur::queue_detail {

using queue::Empty;
using queue::Full;
using queue::ShutDown;
using sys::Deadline;

// How BasicQueue stores its items: Python's _init/_qsize/_put/_get. A store
// has push (strong guarantee), next (the item a get returns now), pop_next
// (removes that item, which may have been moved from; never throws when T's
// move does not), size, and take_all (empties the store, returning its
// items). Each is at most four words, so that it fits on the queue lock's
// cache line (see BasicQueue), and frees its memory when drained after a
// backlog of more than kKeptCapacity items, so that a burst does not pin
// memory for the queue's life.
inline constexpr std::size_t kKeptCapacity = 4096;

// A growable ring buffer, in the role Python's deque plays for queue.Queue.
// std::deque would take two more cache lines than the lock's.
template <class T>
class FifoStore {
 public:
  FifoStore() noexcept = default;
  FifoStore(FifoStore&& other) noexcept
      : items_(std::exchange(other.items_, nullptr)),
        capacity_(std::exchange(other.capacity_, 0)),
        head_(std::exchange(other.head_, 0)),
        size_(std::exchange(other.size_, 0)) {}
  FifoStore& operator=(FifoStore&&) = delete;
  ~FifoStore() { release(); }

  bool empty() const noexcept { return size_ == 0; }
  std::size_t size() const noexcept { return size_; }
  template <class U>
  void push(U&& item) {
    if (size_ == capacity_) grow();
    ::new (static_cast<void*>(slot(head_ + size_))) T(std::forward<U>(item));
    ++size_;
  }
  T& next() noexcept { return *slot(head_); }
  void pop_next() noexcept {
    slot(head_)->~T();
    head_ = (head_ + 1) & (capacity_ - 1);
    if (--size_ == 0 && capacity_ > kKeptCapacity) release();
  }
  FifoStore take_all() noexcept { return FifoStore(std::move(*this)); }

 private:
  static constexpr std::size_t kFirstCapacity = 16;

  T* slot(std::size_t index) const noexcept {
    return items_ + (index & (capacity_ - 1));
  }
  // Doubles the ring; if an allocation or a copy throws, the old ring is
  // untouched (items are copied rather than moved when their move may
  // throw, as std::vector does).
  void grow() {
    const std::size_t capacity =
        capacity_ == 0 ? kFirstCapacity : 2 * capacity_;
    T* items = std::allocator<T>().allocate(capacity);
    std::size_t moved = 0;
    try {
      for (; moved < size_; ++moved) {
        ::new (static_cast<void*>(items + moved))
            T(std::move_if_noexcept(*slot(head_ + moved)));
      }
    } catch (...) {
      std::destroy_n(items, moved);
      std::allocator<T>().deallocate(items, capacity);
      throw;
    }
    release();
    items_ = items;
    capacity_ = capacity;
    size_ = moved;
  }
  void release() noexcept {
    for (std::size_t i = 0; i < size_; ++i) slot(head_ + i)->~T();
    if (items_ != nullptr) std::allocator<T>().deallocate(items_, capacity_);
    items_ = nullptr;
    capacity_ = head_ = size_ = 0;
  }

  T* items_ = nullptr;
  std::size_t capacity_ = 0;  // 0 or a power of two
  std::size_t head_ = 0;      // where the oldest item is, modulo capacity_
  std::size_t size_ = 0;
};

template <class T>
class LifoStore {
 public:
  bool empty() const noexcept { return items_.empty(); }
  std::size_t size() const noexcept { return items_.size(); }
  template <class U>
  void push(U&& item) {
    items_.push_back(std::forward<U>(item));
  }
  T& next() noexcept { return items_.back(); }
  void pop_next() noexcept {
    items_.pop_back();
    if (items_.empty() && items_.capacity() > kKeptCapacity) {
      std::vector<T>().swap(items_);
    }
  }
  std::vector<T> take_all() noexcept { return std::exchange(items_, {}); }

 private:
  std::vector<T> items_;
};

// A binary min-heap, as Python's heapq: items_[0] is the smallest under
// Compare, and no parent is greater than its children.
template <class T, class Compare>
class HeapStore {
 public:
  HeapStore() = default;
  explicit HeapStore(const Compare& less) : less_(less) {}

  bool empty() const noexcept { return items_.empty(); }
  std::size_t size() const noexcept { return items_.size(); }
  template <class U>
  void push(U&& item) {
    items_.push_back(std::forward<U>(item));
    std::push_heap(items_.begin(), items_.end(), greater());
  }
  T& next() noexcept { return items_.front(); }
  // Written out rather than std::pop_heap, whose precondition (a valid heap)
  // a moved-from top may break: this never compares the top, it refills the
  // hole with the last item and sifts that down.
  void pop_next() noexcept(std::is_nothrow_move_constructible_v<T>&&
                               std::is_nothrow_move_assignable_v<T>) {
    T last = std::move(items_.back());
    items_.pop_back();
    if (items_.empty()) {
      if (items_.capacity() > kKeptCapacity) std::vector<T>().swap(items_);
      return;
    }
    const std::size_t n = items_.size();
    std::size_t hole = 0;
    for (std::size_t child = 1; child < n; child = 2 * hole + 1) {
      if (child + 1 < n && less_(items_[child + 1], items_[child])) ++child;
      if (!less_(items_[child], last)) break;
      items_[hole] = std::move(items_[child]);
      hole = child;
    }
    items_[hole] = std::move(last);
  }
  std::vector<T> take_all() noexcept { return std::exchange(items_, {}); }

 private:
  // std::push_heap keeps the greatest on top; inverting the order keeps the
  // smallest there.
  auto greater() const {
    return [this](const T& a, const T& b) { return less_(b, a); };
  }

  std::vector<T> items_;
  [[no_unique_address]] Compare less_;
};

// Queue, LifoQueue and PriorityQueue: Python's queue.Queue, parameterised
// on how the items are stored. The structure is Python's: one lock, and
// three conditions over it (not_empty for getters, not_full for putters,
// all_tasks_done for joiners).
//
// Performance: concur's Lock makes a system call only to park or wake a
// thread that found it held, and put and get notify a condition only when
// a thread waits on it, so a call that does not have to wait makes no
// system call. Everything such a call touches shares the lock's cache line
// (see the members).
//
// Thread safety: distinct objects, safe; a shared object, every member may
// be called concurrently from any thread.
//
// Memory ordering: the lock orders everything. What a thread did before
// put() happens-before the get() that returns the item; what a consumer
// did before task_done() happens-before the join() that returns after it.
template <class T, class Store>
class BasicQueue {
 public:
  // maxsize <= 0 means unbounded, as in Python.
  explicit BasicQueue(std::ptrdiff_t maxsize = 0)
      : BasicQueue(maxsize, Store()) {}
  BasicQueue(const BasicQueue&) = delete;
  BasicQueue& operator=(const BasicQueue&) = delete;

  // Puts an item, blocking while the queue is full. Throws ShutDown if the
  // queue is shut down (also when that happens while this call waits).
  void put(const T& item) CONCUR_EXCLUDES(mutex_) {
    put_until(item, &kForever);
  }
  void put(T&& item) CONCUR_EXCLUDES(mutex_) {
    put_until(std::move(item), &kForever);
  }
  // As put, waiting at most `timeout` for room; then throws Full.
  template <class Rep, class Period>
  void put(const T& item, std::chrono::duration<Rep, Period> timeout)
      CONCUR_EXCLUDES(mutex_) {
    const Deadline deadline = Deadline::after(timeout);
    put_until(item, &deadline);
  }
  template <class Rep, class Period>
  void put(T&& item, std::chrono::duration<Rep, Period> timeout)
      CONCUR_EXCLUDES(mutex_) {
    const Deadline deadline = Deadline::after(timeout);
    put_until(std::move(item), &deadline);
  }
  // Puts an item if there is room now; otherwise throws Full.
  void put_nowait(const T& item) CONCUR_EXCLUDES(mutex_) {
    put_until(item, nullptr);
  }
  void put_nowait(T&& item) CONCUR_EXCLUDES(mutex_) {
    put_until(std::move(item), nullptr);
  }

  // Removes and returns an item, blocking while the queue is empty. Throws
  // ShutDown once the queue is shut down and empty.
  T get() CONCUR_EXCLUDES(mutex_) { return get_until(&kForever); }
  // As get, waiting at most `timeout` for an item; then throws Empty.
  template <class Rep, class Period>
  T get(std::chrono::duration<Rep, Period> timeout) CONCUR_EXCLUDES(mutex_) {
    const Deadline deadline = Deadline::after(timeout);
    return get_until(&deadline);
  }
  // Returns an item if there is one now; otherwise throws Empty.
  T get_nowait() CONCUR_EXCLUDES(mutex_) { return get_until(nullptr); }
  // As get_nowait and get(timeout), but an empty result instead of Empty.
  // ShutDown is still thrown: it is not a timeout.
  [[nodiscard]] std::optional<T> try_get() CONCUR_EXCLUDES(mutex_) {
    return try_get_until(nullptr);
  }
  template <class Rep, class Period>
  [[nodiscard]] std::optional<T> try_get(
      std::chrono::duration<Rep, Period> timeout) CONCUR_EXCLUDES(mutex_) {
    const Deadline deadline = Deadline::after(timeout);
    return try_get_until(&deadline);
  }

  std::size_t qsize() CONCUR_EXCLUDES(mutex_) {
    ScopedLock hold(mutex_);
    return store_.size();
  }
  bool empty() CONCUR_EXCLUDES(mutex_) { return qsize() == 0; }
  bool full() CONCUR_EXCLUDES(mutex_) {
    ScopedLock hold(mutex_);
    return capacity_ != 0 && store_.size() >= capacity_;
  }
  // The maxsize given at construction.
  std::ptrdiff_t maxsize() const noexcept { return maxsize_; }

  // Tells the queue that one item taken by get() has been processed. When
  // every item put has been processed, join() returns. Throws ValueError if
  // called more times than items were put.
  void task_done() CONCUR_EXCLUDES(mutex_) {
    ScopedLock hold(mutex_);
    if (unfinished_ == 0) throw ValueError("task_done() called too many times");
    if (--unfinished_ == 0) all_tasks_done_.notify_all();
  }
  // Blocks until every item put has been taken and marked with task_done().
  void join() CONCUR_EXCLUDES(mutex_) {
    ScopedLock hold(mutex_);
    while (unfinished_ != 0) all_tasks_done_.wait();
  }
  // Items put and not yet marked done (Python's unfinished_tasks).
  std::size_t unfinished_tasks() CONCUR_EXCLUDES(mutex_) {
    ScopedLock hold(mutex_);
    return unfinished_;
  }

  // Shuts the queue down: from now on put throws ShutDown, and get throws
  // it once the queue is empty. With immediate, the items still queued are
  // dropped (destroyed after the lock is released) and each counts as done,
  // so join() returns once the items already taken are done. Every blocked
  // put, get and join wakes to re-check. Calling it again is harmless, and
  // may upgrade to immediate.
  void shutdown(bool immediate = false) CONCUR_EXCLUDES(mutex_) {
    // The dropped items that close() returns die at the end of this
    // statement, after it released the lock, so that an item's destructor
    // may use the queue.
    close(immediate);
  }
  // Whether shutdown() has been called (Python's is_shutdown).
  bool is_shutdown() CONCUR_EXCLUDES(mutex_) {
    ScopedLock hold(mutex_);
    return shutdown_;
  }

 protected:
  BasicQueue(std::ptrdiff_t maxsize, Store store)
      : capacity_(maxsize > 0 ? static_cast<std::size_t>(maxsize) : 0),
        store_(std::move(store)),
        maxsize_(maxsize) {}

 private:
  // A finite wait is a Deadline; a null one means "do not wait". kForever
  // is the wait of the blocking forms.
  static constexpr Deadline kForever = Deadline::never();

  template <class U>
  void put_until(U&& item, const Deadline* deadline) CONCUR_EXCLUDES(mutex_) {
    ScopedLock hold(mutex_);
    if (shutdown_) throw ShutDown("put() on a queue that is shut down");
    while (capacity_ != 0 && store_.size() >= capacity_) {
      if (deadline == nullptr) throw Full("queue is full");
      if (deadline->expired())
        throw Full("queue stayed full for the whole timeout");
      wait(not_full_, putters_waiting_, *deadline);
      if (shutdown_) throw ShutDown("put() on a queue that is shut down");
    }
    store_.push(std::forward<U>(item));
    ++unfinished_;
    if (getters_waiting_ != 0) not_empty_.notify();
  }

  T get_until(const Deadline* deadline) CONCUR_EXCLUDES(mutex_) {
    ScopedLock hold(mutex_);
    if (!await_item(deadline)) {
      throw Empty(deadline == nullptr
                      ? "queue is empty"
                      : "queue stayed empty for the whole timeout");
    }
    // Built before the item leaves the store, so that a copy or move that
    // throws leaves it queued; returned by NRVO, with no further move.
    T item(std::move_if_noexcept(store_.next()));
    store_.pop_next();
    if (putters_waiting_ != 0) not_full_.notify();
    return item;
  }

  std::optional<T> try_get_until(const Deadline* deadline)
      CONCUR_EXCLUDES(mutex_) {
    ScopedLock hold(mutex_);
    std::optional<T> item;
    if (await_item(deadline)) {
      item.emplace(std::move_if_noexcept(store_.next()));
      store_.pop_next();
      if (putters_waiting_ != 0) not_full_.notify();
    }
    return item;
  }

  // Waits until there is an item (true) or the deadline has passed (false).
  // Throws ShutDown once the queue is shut down and empty, as Python's get.
  bool await_item(const Deadline* deadline) CONCUR_REQUIRES(mutex_) {
    for (;;) {
      if (!store_.empty()) return true;
      if (shutdown_)
        throw ShutDown("get() on a queue that is shut down and empty");
      if (deadline == nullptr || deadline->expired()) return false;
      wait(not_empty_, getters_waiting_, *deadline);
    }
  }

  auto close(bool immediate) CONCUR_EXCLUDES(mutex_) {
    ScopedLock hold(mutex_);
    shutdown_ = true;
    std::optional<decltype(store_.take_all())> dropped;
    if (immediate) {
      dropped.emplace(store_.take_all());
      unfinished_ -= std::min(unfinished_, dropped->size());
      all_tasks_done_.notify_all();
    }
    not_empty_.notify_all();
    not_full_.notify_all();
    return dropped;
  }

  void wait(threading::Condition& condition, std::uint32_t& waiting,
            const Deadline& deadline) CONCUR_REQUIRES(mutex_) {
    ++waiting;
    if (deadline.is_never()) {
      condition.wait();
    } else {
      // The caller re-checks its condition and the deadline.
      static_cast<void>(condition.wait(deadline.remaining()));
    }
    --waiting;
  }

  // Everything a put or a get reads or writes when it does not wait sits
  // with the lock on one cache line (with the standard stores): taking the
  // lock brings the line to this core, and the critical section then misses
  // nothing. Under contention that line moving between cores is the cost
  // of every call, so one line rather than four is what makes it fast.
  alignas(64) threading::Lock mutex_;
  bool shutdown_ CONCUR_GUARDED_BY(mutex_) = false;
  // Threads waiting on not_empty_ and not_full_, so that put and get make
  // no notify call when nobody waits.
  std::uint32_t getters_waiting_ CONCUR_GUARDED_BY(mutex_) = 0;
  std::uint32_t putters_waiting_ CONCUR_GUARDED_BY(mutex_) = 0;
  std::size_t unfinished_ CONCUR_GUARDED_BY(mutex_) = 0;
  const std::size_t capacity_;  // 0: unbounded
  Store store_ CONCUR_GUARDED_BY(mutex_);

  // Read only, or written only around waits (the conditions' lists of
  // waiters), so these lines stay cached on every core.
  alignas(64) const std::ptrdiff_t maxsize_;
  threading::Condition not_empty_{mutex_};
  threading::Condition not_full_{mutex_};
  threading::Condition all_tasks_done_{mutex_};
};

// Queue's body when it has no maxsize and its items move without throwing:
// the segmented queue without locks (detail/segmented_queue.hpp), with the
// task count, join and shutdown kept in atomics beside it. Put and get touch
// no lock and make no system call unless a getter or a joiner sleeps.
//
// Shutdown closes the segmented queue's tail: a put either claimed its
// position before, and its item is got (or dropped by an immediate
// shutdown), or is refused with nothing stored. An immediate shutdown first
// raises dropping_, and a get that took an item looks at it before
// returning the item: once it is up the item is dropped and the get raises
// ShutDown. So, as under Python's lock, no get that runs after the shutdown
// has begun returns an item, not even one woken by the shutdown itself.
//
// Task count: the items ever put (the segmented queue's tail counts them)
// less the task_done calls, so put adds nothing to the cost of a push.
//
// Memory ordering: the segmented queue orders put before the get of the
// item. task_done's increment is a release and join's read an acquire, so
// what consumers did before task_done happens-before join's return.
// task_done and sleeping joiners meet in a Dekker handshake of seq_cst
// operations, as the segmented queue's producers and consumers do.
template <class T>
class LockFreeQueue {
 public:
  explicit LockFreeQueue(std::ptrdiff_t maxsize) noexcept : maxsize_(maxsize) {}

  // The calls and their meaning are BasicQueue's; with no maxsize, put
  // never waits, so its timeout is only checked.
  void put(const T& item) { put_item(item); }
  void put(T&& item) { put_item(std::move(item)); }
  template <class Rep, class Period>
  void put(const T& item, std::chrono::duration<Rep, Period> timeout) {
    sys::checked_timeout(timeout);
    put_item(item);
  }
  template <class Rep, class Period>
  void put(T&& item, std::chrono::duration<Rep, Period> timeout) {
    sys::checked_timeout(timeout);
    put_item(std::move(item));
  }
  void put_nowait(const T& item) { put_item(item); }
  void put_nowait(T&& item) { put_item(std::move(item)); }

  T get() { return get_until(Deadline::never()); }
  template <class Rep, class Period>
  T get(std::chrono::duration<Rep, Period> timeout) {
    return get_until(Deadline::after(timeout));
  }
  T get_nowait() {
    std::optional<T> item = try_get();
    if (!item) throw Empty("queue is empty");
    return std::move(*item);
  }
  [[nodiscard]] std::optional<T> try_get() {
    std::optional<T> item = items_.try_pop();
    if (!item && items_.closed()) {
      // Look again: a put may have claimed its place after our look and
      // before the close.
      item = items_.try_pop();
      if (!item) throw_shut_down();
    }
    return unless_dropping(std::move(item));
  }
  template <class Rep, class Period>
  [[nodiscard]] std::optional<T> try_get(
      std::chrono::duration<Rep, Period> timeout) {
    std::optional<T> item = items_.pop(Deadline::after(timeout));
    // pop looked once more after it saw the queue closed.
    if (!item && items_.closed()) throw_shut_down();
    return unless_dropping(std::move(item));
  }

  std::size_t qsize() const noexcept { return items_.size(); }
  bool empty() const noexcept { return qsize() == 0; }
  bool full() const noexcept { return false; }
  std::ptrdiff_t maxsize() const noexcept { return maxsize_; }

  // Python's unfinished_tasks is the number of items ever put, which the
  // segmented queue's tail counts, less the task_done calls: put adds to
  // no counter of its own.
  void task_done() {
    std::uint64_t done = done_.load(std::memory_order_relaxed);
    // Release, so that join sees this consumer's work; acquire, so that the
    // last one carries the others' work on to the joiner; seq_cst on top:
    // the Dekker handshake with a joiner going to sleep. Items put are only
    // ever added, so a count below them stays below until the exchange.
    do {
      if (done >= items_.pushed()) {
        throw ValueError("task_done() called too many times");
      }
    } while (!done_.compare_exchange_weak(
        done, done + 1, std::memory_order_seq_cst, std::memory_order_relaxed));
    if (done + 1 == items_.pushed()) wake_joiners();
  }
  void join() {
    // The count's loads are seq_cst, after the event count's announcement:
    // the joiner's half of the handshake with task_done.
    joined_.await([this] { return unfinished_tasks() == 0; },
                  Deadline::never());
  }
  std::size_t unfinished_tasks() const noexcept {
    // Done first: both only grow, so the items put, read after, are at
    // least as many as were put when that many were done.
    const std::uint64_t done = done_.load(std::memory_order_seq_cst);
    const std::uint64_t put = items_.pushed();
    return put > done ? static_cast<std::size_t>(put - done) : 0;
  }

  void shutdown(bool immediate = false) {
    // seq_cst: before the close, in the single order with the gets' look
    // at it (unless_dropping), so a get woken by the close sees it.
    if (immediate) dropping_.store(true, std::memory_order_seq_cst);
    items_.close();
    if (!immediate) return;
    // Destroyed when this returns, with the queue already empty, so that
    // an item's destructor may use the queue.
    std::vector<T> dropped;
    while (std::optional<T> item = items_.try_pop()) {
      dropped.push_back(std::move(*item));
    }
    finish_tasks(dropped.size());
    // Python releases every joiner here, even if items taken before are not
    // done yet; they re-check the count and wait on.
    wake_joiners();
  }
  bool is_shutdown() const noexcept { return items_.closed(); }

 private:
  template <class U>
  void put_item(U&& item) {
    if (!items_.push(std::forward<U>(item))) {
      throw ShutDown("put() on a queue that is shut down");
    }
  }

  T get_until(const Deadline& deadline) {
    std::optional<T> item = unless_dropping(items_.pop(deadline));
    if (item) return std::move(*item);
    if (items_.closed()) throw_shut_down();
    throw Empty("queue stayed empty for the whole timeout");
  }

  // The item a get took, unless an immediate shutdown has begun: then the
  // item counts as one the shutdown dropped (it is destroyed and done) and
  // the get raises ShutDown.
  std::optional<T> unless_dropping(std::optional<T> item) {
    if (item && dropping_.load(std::memory_order_seq_cst)) {
      item.reset();
      finish_tasks(1);
      wake_joiners();
      throw_shut_down();
    }
    return item;
  }

  [[noreturn]] static void throw_shut_down() {
    throw ShutDown("get() on a queue that is shut down and empty");
  }

  // Marks `n` dropped items done, never past the items put (task_done may
  // have been called for items still queued).
  void finish_tasks(std::uint64_t n) {
    std::uint64_t done = done_.load(std::memory_order_relaxed);
    while (!done_.compare_exchange_weak(
        done, std::min(done + n, items_.pushed()), std::memory_order_seq_cst,
        std::memory_order_relaxed)) {
    }
  }

  void wake_joiners() noexcept {
    // The count's change was a seq_cst compare-exchange: the notifier's
    // half of the handshake needs no fence on top.
    if (joined_.has_waiters()) joined_.wake_all();
  }

  concur::detail::SegmentedQueue<T> items_;
  // task_done calls so far; written by consumers only.
  alignas(64) std::atomic<std::uint64_t> done_{0};
  // Read by every get, written once: its line stays in every cache.
  alignas(64) const std::ptrdiff_t maxsize_;
  std::atomic<bool> dropping_{false};
  // Where joiners sleep until the count reaches zero.
  sys::EventCount joined_;
};

}  // namespace concur::queue_detail

namespace concur::queue {

// ---------------------------------------------------------------------------
// Queue — Python's queue.Queue: a first-in, first-out queue, optionally
// bounded (maxsize > 0), with task tracking (task_done/join) and shutdown.
//
// Thread safety: distinct objects, safe; a shared object, every member may
// be called concurrently from any thread.
//
// Memory ordering: everything a thread did before put() is visible to the
// thread whose get() returns that item.
//
// Exceptions: if copying or moving an item out throws, get leaves the item
// at the front of the queue (the strong guarantee; std::move_if_noexcept
// copies items whose move may throw); put has the strong guarantee too.
//
// Performance: a Queue without a maxsize, of items that move without
// throwing, takes no lock: it is SimpleQueue's lock-free queue with the
// task count and shutdown in atomics beside it. Otherwise it is Python's
// structure, one lock and three conditions (see BasicQueue).
//
// Differences from Python: see the top of this file.
template <class T>
class Queue {
  using Locked = queue_detail::BasicQueue<T, queue_detail::FifoStore<T>>;
  static constexpr bool kMayBeLockFree =
      std::is_nothrow_move_constructible_v<T> &&
      std::is_nothrow_destructible_v<T>;
  using LockFree = std::conditional_t<kMayBeLockFree,
                                      queue_detail::LockFreeQueue<T>, Locked>;

 public:
  // maxsize <= 0 means unbounded, as in Python.
  explicit Queue(std::ptrdiff_t maxsize = 0) {
    if (kMayBeLockFree && maxsize <= 0) {
      body_.template emplace<kLockFree>(maxsize);
    } else {
      body_.template emplace<kLocked>(maxsize);
    }
  }
  Queue(const Queue&) = delete;
  Queue& operator=(const Queue&) = delete;

  // The calls, their blocking forms and their errors are BasicQueue's.
  void put(const T& item) {
    with_body([&](auto& q) { q.put(item); });
  }
  void put(T&& item) {
    with_body([&](auto& q) { q.put(std::move(item)); });
  }
  template <class Rep, class Period>
  void put(const T& item, std::chrono::duration<Rep, Period> timeout) {
    with_body([&](auto& q) { q.put(item, timeout); });
  }
  template <class Rep, class Period>
  void put(T&& item, std::chrono::duration<Rep, Period> timeout) {
    with_body([&](auto& q) { q.put(std::move(item), timeout); });
  }
  void put_nowait(const T& item) {
    with_body([&](auto& q) { q.put_nowait(item); });
  }
  void put_nowait(T&& item) {
    with_body([&](auto& q) { q.put_nowait(std::move(item)); });
  }

  T get() {
    return with_body([](auto& q) { return q.get(); });
  }
  template <class Rep, class Period>
  T get(std::chrono::duration<Rep, Period> timeout) {
    return with_body([&](auto& q) { return q.get(timeout); });
  }
  T get_nowait() {
    return with_body([](auto& q) { return q.get_nowait(); });
  }
  [[nodiscard]] std::optional<T> try_get() {
    return with_body([](auto& q) { return q.try_get(); });
  }
  template <class Rep, class Period>
  [[nodiscard]] std::optional<T> try_get(
      std::chrono::duration<Rep, Period> timeout) {
    return with_body([&](auto& q) { return q.try_get(timeout); });
  }

  std::size_t qsize() {
    return with_body([](auto& q) { return q.qsize(); });
  }
  bool empty() {
    return with_body([](auto& q) { return q.empty(); });
  }
  bool full() {
    return with_body([](auto& q) { return q.full(); });
  }
  std::ptrdiff_t maxsize() {
    return with_body([](auto& q) { return q.maxsize(); });
  }

  void task_done() {
    with_body([](auto& q) { q.task_done(); });
  }
  void join() {
    with_body([](auto& q) { q.join(); });
  }
  std::size_t unfinished_tasks() {
    return with_body([](auto& q) { return q.unfinished_tasks(); });
  }
  void shutdown(bool immediate = false) {
    with_body([&](auto& q) { q.shutdown(immediate); });
  }
  bool is_shutdown() {
    return with_body([](auto& q) { return q.is_shutdown(); });
  }

 private:
  static constexpr std::size_t kLocked = 1;
  static constexpr std::size_t kLockFree = 2;

  template <class F>
  decltype(auto) with_body(F&& call) {
    if constexpr (kMayBeLockFree) {
      if (body_.index() == kLockFree)
        return call(*std::get_if<kLockFree>(&body_));
    }
    return call(*std::get_if<kLocked>(&body_));
  }

  // Made in place by the constructor (neither body can move).
  std::variant<std::monostate, Locked, LockFree> body_;
};

// ---------------------------------------------------------------------------
// LifoQueue — Python's queue.LifoQueue: a last-in, first-out queue (a
// stack); otherwise exactly Queue, with the same thread safety, memory
// ordering and exception guarantees.
template <class T>
class LifoQueue
    : public queue_detail::BasicQueue<T, queue_detail::LifoStore<T>> {
 public:
  using queue_detail::BasicQueue<T, queue_detail::LifoStore<T>>::BasicQueue;
};

// ---------------------------------------------------------------------------
// PriorityQueue — Python's queue.PriorityQueue: get returns the smallest
// item under Compare (Python's heapq order; Compare = std::greater<T> makes
// it the largest). Items that compare equal come out in no particular order,
// as in Python; to keep insertion order among equals, queue a pair of
// (priority, sequence number) as Python's documentation suggests.
//
// Thread safety and memory ordering: as Queue.
//
// Exceptions: put has the strong guarantee if Compare and T's moves do not
// throw; get has it if they do not throw while the heap is reordered, which
// happens after the item has safely left the queue.
template <class T, class Compare = std::less<T>>
class PriorityQueue
    : public queue_detail::BasicQueue<T, queue_detail::HeapStore<T, Compare>> {
  using Base = queue_detail::BasicQueue<T, queue_detail::HeapStore<T, Compare>>;

 public:
  explicit PriorityQueue(std::ptrdiff_t maxsize = 0,
                         const Compare& compare = Compare())
      : Base(maxsize, queue_detail::HeapStore<T, Compare>(compare)) {}
};

}  // namespace concur::queue

namespace concur::queue_detail {

// SimpleQueue's body for items that move without throwing: the segmented
// queue without locks in detail/segmented_queue.hpp.
template <class T>
class LockFreeSimpleQueue {
 public:
  void put(const T& item) { items_.push(item); }
  void put(T&& item) { items_.push(std::move(item)); }
  template <class Rep, class Period>
  void put(const T& item, std::chrono::duration<Rep, Period> timeout) {
    sys::checked_timeout(timeout);
    items_.push(item);
  }
  template <class Rep, class Period>
  void put(T&& item, std::chrono::duration<Rep, Period> timeout) {
    sys::checked_timeout(timeout);
    items_.push(std::move(item));
  }
  void put_nowait(const T& item) { items_.push(item); }
  void put_nowait(T&& item) { items_.push(std::move(item)); }

  T get() { return std::move(*items_.pop(Deadline::never())); }
  template <class Rep, class Period>
  T get(std::chrono::duration<Rep, Period> timeout) {
    std::optional<T> item = items_.pop(Deadline::after(timeout));
    if (!item) throw Empty("queue stayed empty for the whole timeout");
    return std::move(*item);
  }
  T get_nowait() {
    std::optional<T> item = items_.try_pop();
    if (!item) throw Empty("queue is empty");
    return std::move(*item);
  }
  [[nodiscard]] std::optional<T> try_get() noexcept { return items_.try_pop(); }
  template <class Rep, class Period>
  [[nodiscard]] std::optional<T> try_get(
      std::chrono::duration<Rep, Period> timeout) {
    return items_.pop(Deadline::after(timeout));
  }

  std::size_t qsize() const noexcept { return items_.size(); }
  bool empty() const noexcept { return items_.size() == 0; }

 private:
  concur::detail::SegmentedQueue<T> items_;
};

// SimpleQueue's body for items whose move may throw: Queue's, which can
// keep an item queued when taking it out fails. The task count it keeps is
// never read.
template <class T>
class LockedSimpleQueue : private BasicQueue<T, FifoStore<T>> {
  using Base = BasicQueue<T, FifoStore<T>>;

 public:
  using Base::empty;
  using Base::get;
  using Base::get_nowait;
  using Base::put;
  using Base::put_nowait;
  using Base::qsize;
  using Base::try_get;
};

template <class T>
using SimpleQueueBody =
    std::conditional_t<std::is_nothrow_move_constructible_v<T>,
                       LockFreeSimpleQueue<T>, LockedSimpleQueue<T>>;

}  // namespace concur::queue_detail

namespace concur::queue {

// ---------------------------------------------------------------------------
// SimpleQueue — Python's queue.SimpleQueue: an unbounded first-in,
// first-out queue without task tracking or shutdown, and the fastest queue
// here.
//
// put never blocks (put(item, timeout) and put_nowait exist for code written
// against Queue; the timeout is only checked). get, get(timeout),
// get_nowait and try_get behave as Queue's.
//
// Thread safety: distinct objects, safe; a shared object, every member may
// be called concurrently from any thread.
//
// Memory ordering: everything a thread did before put() is visible to the
// thread whose get() returns that item.
//
// Performance: for items that move without throwing (almost every type:
// numbers, pointers, strings, containers, unique_ptr) it takes no lock: puts
// and gets claim positions with an atomic compare-exchange and never wait
// for one another beyond a few instructions, a get that finds an item makes
// no system call, and a put makes one only when a getter sleeps. For other
// types it is a Queue without a maxsize, so that a move that throws leaves
// the item queued. If copying an item into the queue throws, put has stored
// nothing.
//
// Differences from Python: put(item, timeout) rejects a negative timeout
// (Python ignores the argument).
template <class T>
class SimpleQueue : public queue_detail::SimpleQueueBody<T> {
 public:
  SimpleQueue() = default;
  SimpleQueue(const SimpleQueue&) = delete;
  SimpleQueue& operator=(const SimpleQueue&) = delete;
};

}  // namespace concur::queue
