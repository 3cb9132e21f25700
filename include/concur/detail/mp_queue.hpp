// multiprocessing's Queue, JoinableQueue and SimpleQueue (included by
// <concur/multiprocessing.hpp>; see there for the module's conventions).
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <span>

#include "concur/codec.hpp"
#include "concur/detail/shared_ring.hpp"
#include "concur/detail/sys/deadline.hpp"
#include "concur/errors.hpp"
#include "concur/queue.hpp"

namespace concur::multiprocessing {

struct QueueOptions {
  // Items; 0: no limit on the count (below 2^24 either way). The buffer
  // still bounds the bytes waiting: see Queue's differences from Python.
  std::size_t maxsize = 0;
  // The shared ring's size: items up to half of it travel in one record,
  // larger ones are streamed through it in quarters.
  std::size_t buffer_bytes = std::size_t{1} << 18;
};

// ---------------------------------------------------------------------------
// Queue<T> — Python's multiprocessing.Queue: a FIFO queue shared by any
// number of producer and consumer processes (and their threads), for items
// of any encodable type (codec.hpp).
//
// The items live in shared memory made at construction and inherited by
// the processes forked after it (SharedRing, detail/shared_ring.hpp). There
// is no feeder thread and no pipe: put() encodes the item straight into the
// ring and returns when it is there, so an item whose put returned is in
// the queue, in order, whatever happens to its producer afterwards. Blocked
// callers sleep on futexes in the shared memory.
//
// Crash safety, which Python's Queue lacks: a process killed at any instant
// inside put or get neither corrupts the queue nor blocks the others
// beyond 100 ms. Every item whose put returned is delivered exactly once,
// unless the process that was taking it died; no part of an item is ever
// delivered.
//
// Thread safety: every member may be called from any thread of any process
// that has the queue. A Queue is a handle: copies share the queue, and a
// copy's close() closes this process's use of it for every copy.
//
// Differences from Python: the item type is fixed; put() is synchronous
// (Python's feeder thread makes it return before the item is in the
// pipe), so join_thread() and cancel_join_thread() have nothing to do and
// are no-ops; a timed put() of an item larger than half the buffer waits
// without a limit once its first chunk is in, since a consumer may be
// reading it; an item of another type cannot arrive, since the queue's
// type is fixed when it is made. A queue without a maxsize is not
// unbounded: the items waiting in it must fit in its buffer (buffer_bytes,
// 256 KiB by default), so put() waits for room (put_nowait throws
// queue::Full) while the buffer is full, where Python's feeder thread would
// hold them in the producer's memory; full() reports the maxsize only.
template <codec::Encodable T>
class Queue {
 public:
  explicit Queue(std::size_t maxsize = 0)
      : Queue(QueueOptions{.maxsize = maxsize}) {}
  explicit Queue(QueueOptions options)
      : local_(
            std::make_shared<Local>(multiprocessing_detail::SharedRing::Options{
                .maxsize = options.maxsize,
                .capacity = options.buffer_bytes,
                .fingerprint = codec::fingerprint<T>(),
                .type_name = codec::type_name<T>()})) {}

  // Blocks until there is room (on a queue with a maxsize).
  void put(const T& item) { put_until(item, sys::Deadline::never()); }
  // Waits at most `timeout` for room; then throws queue::Full.
  template <class Rep, class Period>
  void put(const T& item, std::chrono::duration<Rep, Period> timeout) {
    put_until(item, sys::Deadline::after(timeout));
  }
  // Throws queue::Full unless there is room now.
  void put_nowait(const T& item) { put_until(item, now()); }

  T get() { return get_until(sys::Deadline::never()); }
  template <class Rep, class Period>
  T get(std::chrono::duration<Rep, Period> timeout) {
    return get_until(sys::Deadline::after(timeout));
  }
  T get_nowait() { return get_until(now()); }
  [[nodiscard]] std::optional<T> try_get() { return try_get_until(now()); }
  template <class Rep, class Period>
  [[nodiscard]] std::optional<T> try_get(
      std::chrono::duration<Rep, Period> timeout) {
    return try_get_until(sys::Deadline::after(timeout));
  }

  // Snapshots, as in Python.
  std::size_t qsize() const noexcept { return local_->ring.qsize(); }
  bool empty() const noexcept { return qsize() == 0; }
  bool full() const noexcept {
    const std::size_t max = local_->ring.maxsize();
    return max != 0 && qsize() >= max;
  }

  // This process will use the queue no more: later put and get throw
  // ValueError. The queue itself lives on for the other processes.
  void close() noexcept {
    local_->closed.store(true, std::memory_order_relaxed);
  }
  // No feeder thread to join or abandon (see above).
  void join_thread() const noexcept {}
  void cancel_join_thread() const noexcept {}

 protected:
  multiprocessing_detail::SharedRing& ring() const noexcept {
    return local_->ring;
  }

 private:
  friend struct multiprocessing_detail::Transfer<Queue>;
  struct Local {
    explicit Local(const multiprocessing_detail::SharedRing::Options& o)
        : ring(o) {}
    explicit Local(int fd)
        : ring(fd, codec::fingerprint<T>(), codec::type_name<T>()) {}
    multiprocessing_detail::SharedRing ring;
    // Relaxed: a flag of this process's own, read on its own.
    std::atomic<bool> closed{false};
  };

  explicit Queue(std::shared_ptr<Local> local) noexcept
      : local_(std::move(local)) {}
  static sys::Deadline now() {
    return sys::Deadline::after(std::chrono::seconds(0));
  }
  void check_open() const {
    if (local_->closed.load(std::memory_order_relaxed)) {
      throw ValueError("Queue is closed");
    }
  }

  void put_until(const T& item, const sys::Deadline& deadline) {
    check_open();
    const std::size_t size = codec::encoded_size(item);
    auto fill = [](void* context, std::span<std::byte> out) {
      codec::encode_to(out, *static_cast<const T*>(context));
    };
    if (!local_->ring.put(size, fill, const_cast<T*>(&item), deadline)) {
      throw queue::Full("multiprocessing queue is full");
    }
  }

  std::optional<T> try_get_until(const sys::Deadline& deadline) {
    check_open();
    std::optional<T> out;
    auto consume = [](void* context, std::span<const std::byte> in) {
      static_cast<std::optional<T>*>(context)->emplace(codec::loads<T>(in));
    };
    if (!local_->ring.get(consume, &out, deadline)) return std::nullopt;
    return out;
  }
  T get_until(const sys::Deadline& deadline) {
    std::optional<T> item = try_get_until(deadline);
    if (!item) throw queue::Empty("multiprocessing queue is empty");
    return std::move(*item);
  }

  std::shared_ptr<Local> local_;
};

// ---------------------------------------------------------------------------
// JoinableQueue<T> — Python's multiprocessing.JoinableQueue: a Queue that
// counts unfinished items. Every put adds one; task_done() (ValueError when
// called more often than items were put) removes one; join() waits until
// none is left. The count lives in the shared memory, so any process's
// task_done counts; an item whose consumer died before task_done() stays
// unfinished, as in Python.
template <codec::Encodable T>
class JoinableQueue : public Queue<T> {
 public:
  using Queue<T>::Queue;
  // The same queue, counted: how a JoinableQueue arrives in a forkserver
  // child.
  explicit JoinableQueue(Queue<T> queue) noexcept
      : Queue<T>(std::move(queue)) {}

  void task_done() { this->ring().task_done(); }
  void join() { static_cast<void>(this->ring().join(sys::Deadline::never())); }
  // Waits at most `timeout`; returns whether every item was done.
  template <class Rep, class Period>
  bool join(std::chrono::duration<Rep, Period> timeout) {
    return this->ring().join(sys::Deadline::after(timeout));
  }
};

// ---------------------------------------------------------------------------
// SimpleQueue<T> — Python's multiprocessing.SimpleQueue: an unbounded
// shared FIFO with get, put, empty and close; the same machinery as Queue.
template <codec::Encodable T>
class SimpleQueue {
 public:
  SimpleQueue() : queue_(0) {}
  explicit SimpleQueue(QueueOptions options) : queue_(options) {
    if (options.maxsize != 0) {
      throw ValueError("SimpleQueue is unbounded: maxsize must be 0");
    }
  }
  void put(const T& item) { queue_.put(item); }
  T get() { return queue_.get(); }
  bool empty() const noexcept { return queue_.empty(); }
  void close() noexcept { queue_.close(); }

 private:
  friend struct multiprocessing_detail::Transfer<SimpleQueue>;
  explicit SimpleQueue(Queue<T> queue) noexcept : queue_(std::move(queue)) {}
  Queue<T> queue_;
};

}  // namespace concur::multiprocessing

namespace concur::multiprocessing_detail {

// The queues travel to a forkserver child as their ring's descriptor.
template <class T>
struct Transfer<multiprocessing::Queue<T>> {
  using Q = multiprocessing::Queue<T>;
  static void send(codec::Writer& w, Outbox& out, const Q& q) {
    codec::encode(w, out.add(q.local_->ring.fd()));
  }
  static Q receive(codec::Reader& r, Inbox& in) {
    const int fd = in.take(codec::decode<std::uint32_t>(r));
    return Q(std::make_shared<typename Q::Local>(fd));
  }
};
template <class T>
struct Transfer<multiprocessing::JoinableQueue<T>> {
  static void send(codec::Writer& w, Outbox& out,
                   const multiprocessing::JoinableQueue<T>& q) {
    Transfer<multiprocessing::Queue<T>>::send(w, out, q);
  }
  static multiprocessing::JoinableQueue<T> receive(codec::Reader& r,
                                                   Inbox& in) {
    return multiprocessing::JoinableQueue<T>(
        Transfer<multiprocessing::Queue<T>>::receive(r, in));
  }
};
template <class T>
struct Transfer<multiprocessing::SimpleQueue<T>> {
  using Q = multiprocessing::SimpleQueue<T>;
  static void send(codec::Writer& w, Outbox& out, const Q& q) {
    Transfer<multiprocessing::Queue<T>>::send(w, out, q.queue_);
  }
  static Q receive(codec::Reader& r, Inbox& in) {
    return Q(Transfer<multiprocessing::Queue<T>>::receive(r, in));
  }
};

}  // namespace concur::multiprocessing_detail
