// concur/asyncio/queues.hpp — queues between the tasks of one loop
// (Python's asyncio.queues): Queue, LifoQueue, PriorityQueue.
#pragma once

#include <algorithm>
#include <coroutine>
#include <cstddef>
#include <deque>
#include <functional>
#include <utility>
#include <vector>

#include "concur/asyncio/locks.hpp"
#include "concur/asyncio/tasks.hpp"
#include "concur/detail/asyncio_core.hpp"

namespace concur::asyncio {

// get_nowait() on an empty queue, put_nowait() on a full one, and any call
// but get() of what is left after shutdown().
CONCUR_DEFINE_ERROR(QueueEmpty, Error);
CONCUR_DEFINE_ERROR(QueueFull, Error);
CONCUR_DEFINE_ERROR(QueueShutDown, Error);

namespace queues_detail {

template <class T>
struct Fifo {
  std::deque<T> items;
  void push(T item) { items.push_back(std::move(item)); }
  T pop() {
    T item = std::move(items.front());
    items.pop_front();
    return item;
  }
};
template <class T>
struct Lifo {
  std::vector<T> items;
  void push(T item) { items.push_back(std::move(item)); }
  T pop() {
    T item = std::move(items.back());
    items.pop_back();
    return item;
  }
};
// The smallest first, as Python's heapq.
template <class T, class Compare>
struct Heap {
  std::vector<T> items;
  struct Greater {
    bool operator()(const T& a, const T& b) const { return Compare{}(b, a); }
  };
  void push(T item) {
    items.push_back(std::move(item));
    std::push_heap(items.begin(), items.end(), Greater{});
  }
  T pop() {
    std::pop_heap(items.begin(), items.end(), Greater{});
    T item = std::move(items.back());
    items.pop_back();
    return item;
  }
};

}  // namespace queues_detail

// ---------------------------------------------------------------------------
// BasicQueue — Python's asyncio.Queue, with the order its Store keeps.
//
// maxsize <= 0 means unbounded. put() waits while the queue is full, get()
// while it is empty, each in FIFO order of the waiting tasks; a cancelled
// getter or putter loses nothing (an item handed its way goes to the next
// one). task_done() and join() count the items put and not yet done.
// shutdown(): put raises QueueShutDown, get raises it once the queue is
// empty; shutdown(true) also drops what is queued. Belongs to the loop's
// thread.
template <class T, class Store>
class BasicQueue {
 public:
  explicit BasicQueue(std::ptrdiff_t maxsize = 0) noexcept
      : maxsize_(maxsize) {}
  BasicQueue(const BasicQueue&) = delete;
  BasicQueue& operator=(const BasicQueue&) = delete;

  std::size_t qsize() const noexcept { return store_.items.size(); }
  std::ptrdiff_t maxsize() const noexcept { return maxsize_; }
  bool empty() const noexcept { return store_.items.empty(); }
  bool full() const noexcept {
    return maxsize_ > 0 && qsize() >= static_cast<std::size_t>(maxsize_);
  }

  Task<void> put(T item) {
    while (full()) {
      if (shutdown_) throw QueueShutDown("put() on a shut-down queue");
      co_await Waiting(*this, putters_);
    }
    put_nowait(std::move(item));
  }
  void put_nowait(T item) {
    if (shutdown_) throw QueueShutDown("put_nowait() on a shut-down queue");
    if (full()) throw QueueFull("the queue is full");
    store_.push(std::move(item));
    ++unfinished_;
    finished_.clear();
    getters_.pop_first();
  }
  Task<T> get() {
    while (empty()) {
      if (shutdown_) throw QueueShutDown("get() on a shut-down queue");
      co_await Waiting(*this, getters_);
    }
    co_return get_nowait();
  }
  T get_nowait() {
    if (empty()) {
      if (shutdown_) throw QueueShutDown("get_nowait() on a shut-down queue");
      throw QueueEmpty("the queue is empty");
    }
    T item = store_.pop();
    putters_.pop_first();
    return item;
  }

  void task_done() {
    if (unfinished_ == 0) throw ValueError("task_done() called too many times");
    if (--unfinished_ == 0) finished_.set();
  }
  // Waits until every item put has been marked done.
  Task<void> join() {
    if (unfinished_ > 0) {
      co_await finished_.wait();
    }
  }
  void shutdown(bool immediate = false) {
    shutdown_ = true;
    if (immediate) {
      while (!empty()) {
        (void)store_.pop();
        if (unfinished_ > 0) --unfinished_;
      }
      if (unfinished_ == 0) finished_.set();
    }
    while (getters_.pop_first()) {
    }
    while (putters_.pop_first()) {
    }
  }
  bool is_shutdown() const noexcept { return shutdown_; }

 private:
  // A getter's or putter's wait for a change of the queue.
  class Waiting {
   public:
    Waiting(BasicQueue& q, asyncio_detail::WaitList& list) noexcept
        : q_(q), list_(list) {}
    bool await_ready() const noexcept { return false; }
    bool await_suspend(std::coroutine_handle<> /*unused*/) {
      task_ = &asyncio_detail::current_task_or_throw();
      return list_.enqueue(waiter_, *task_);
    }
    void await_resume() {
      const bool woken = waiter_.woken();
      list_.leave(waiter_);
      if (task_->cancel_pending()) {
        // Pass a wake-up on to the next waiter of the same kind.
        const bool can_go = &list_ == &q_.getters_ ? !q_.empty() : !q_.full();
        if (woken && can_go) list_.pop_first();
        task_->throw_if_cancelled();
      }
    }

   private:
    BasicQueue& q_;
    asyncio_detail::WaitList& list_;
    asyncio_detail::WaitList::Waiter waiter_;
    asyncio_detail::TaskCore* task_ = nullptr;
  };

  std::ptrdiff_t maxsize_;
  Store store_;
  std::size_t unfinished_ = 0;
  bool shutdown_ = false;
  Event finished_;
  asyncio_detail::WaitList getters_;
  asyncio_detail::WaitList putters_;
};

template <class T>
using Queue = BasicQueue<T, queues_detail::Fifo<T>>;
template <class T>
using LifoQueue = BasicQueue<T, queues_detail::Lifo<T>>;
template <class T, class Compare = std::less<T>>
using PriorityQueue = BasicQueue<T, queues_detail::Heap<T, Compare>>;

}  // namespace concur::asyncio
