// WorkStealingDeque: the Chase-Lev deque, as made correct for weak memory
// models by Lê, Pop, Cohen and Zappa Nardelli (PPoPP 2013).
//
// One owner thread pushes and pops at the bottom (LIFO: the task it just
// made is the one whose data is still in its cache); any other thread steals
// from the top (FIFO: the oldest task, usually the biggest piece of a
// divide-and-conquer tree). Owner operations touch no shared cache line in
// the common case; only the last element is contended, and there one CAS on
// `top_` decides between the owner and the thieves.
//
// Thread safety: push and pop only from the owner thread; steal from any.
//
// Memory ordering, in the paper's terms:
//   * push writes the slot, then publishes it with a release store of
//     bottom_; a thief's acquire load of bottom_ therefore sees the slot and
//     everything the owner wrote into the task before pushing it. (The
//     paper uses a release fence and a relaxed store; a release store is
//     the same instruction on x86 and is what ThreadSanitizer understands.)
//   * pop's store of bottom_ and its load of top_, and steal's load of top_
//     and its load of bottom_, must not be reordered with each other: both
//     sides use seq_cst, which gives the store-load order the fences give
//     in the paper.
//   * The CAS on top_ is seq_cst: it is the single point where the owner
//     and the thieves agree who takes the last element.
// The ring grows when full; old rings are kept until the deque dies,
// because a thief may still be reading a slot of one.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "concur/detail/assert.hpp"

namespace concur::futures_detail {

template <class T>
class WorkStealingDeque {
  static_assert(std::is_pointer_v<T>, "the deque holds task pointers");

 public:
  explicit WorkStealingDeque(std::size_t capacity = 256)
      : ring_(new Ring(capacity)) {
    rings_.emplace_back(ring_.load(std::memory_order_relaxed));
  }
  WorkStealingDeque(const WorkStealingDeque&) = delete;
  WorkStealingDeque& operator=(const WorkStealingDeque&) = delete;

  // Owner only.
  void push(T item) {
    std::int64_t b = bottom_.load(std::memory_order_relaxed);
    std::int64_t t = top_.load(std::memory_order_acquire);
    Ring* ring = ring_.load(std::memory_order_relaxed);
    if (b - t > static_cast<std::int64_t>(ring->mask)) ring = grow(ring, t, b);
    CONCUR_ASSERT(b >= t, "the deque's bottom is below its top");
    ring->put(b, item);
    CONCUR_CHAOS_POINT();
    bottom_.store(b + 1, std::memory_order_release);
  }

  // Owner only. nullptr when empty.
  T pop() {
    std::int64_t b = bottom_.load(std::memory_order_relaxed) - 1;
    Ring* ring = ring_.load(std::memory_order_relaxed);
    bottom_.store(b, std::memory_order_seq_cst);
    CONCUR_CHAOS_POINT();
    std::int64_t t = top_.load(std::memory_order_seq_cst);
    CONCUR_ASSERT(t <= b + 1, "the deque's top passed its bottom");
    if (t > b) {  // empty
      bottom_.store(b + 1, std::memory_order_relaxed);
      return nullptr;
    }
    T item = ring->get(b);
    if (t == b) {  // the last one: race the thieves for it
      CONCUR_CHAOS_POINT();
      if (!top_.compare_exchange_strong(t, t + 1, std::memory_order_seq_cst,
                                        std::memory_order_relaxed)) {
        item = nullptr;
      }
      bottom_.store(b + 1, std::memory_order_relaxed);
    }
    return item;
  }

  // Any thread. nullptr when empty or when another thread won the race
  // (the caller may retry elsewhere).
  T steal() {
    std::int64_t t = top_.load(std::memory_order_seq_cst);
    CONCUR_CHAOS_POINT();
    std::int64_t b = bottom_.load(std::memory_order_seq_cst);
    if (t >= b) return nullptr;
    // Acquire: the ring, if new, was published by grow()'s release store.
    T item = ring_.load(std::memory_order_acquire)->get(t);
    CONCUR_CHAOS_POINT();
    if (!top_.compare_exchange_strong(t, t + 1, std::memory_order_seq_cst,
                                      std::memory_order_relaxed)) {
      return nullptr;
    }
    return item;
  }

  // A snapshot, for deciding whether to look here at all.
  bool maybe_empty() const noexcept {
    return bottom_.load(std::memory_order_relaxed) <=
           top_.load(std::memory_order_relaxed);
  }

 private:
  struct Ring {
    explicit Ring(std::size_t capacity)
        : mask(capacity - 1), slots(new std::atomic<T>[capacity]) {}
    // Relaxed: the slot is published by bottom_ (push) and claimed through
    // top_ (steal/pop); the slot access itself needs no order.
    void put(std::int64_t i, T item) noexcept {
      slots[static_cast<std::size_t>(i) & mask].store(
          item, std::memory_order_relaxed);
    }
    T get(std::int64_t i) const noexcept {
      return slots[static_cast<std::size_t>(i) & mask].load(
          std::memory_order_relaxed);
    }
    const std::size_t mask;
    std::unique_ptr<std::atomic<T>[]> slots;
  };

  Ring* grow(Ring* old, std::int64_t t, std::int64_t b) {
    auto* bigger = new Ring(2 * (old->mask + 1));
    for (std::int64_t i = t; i < b; ++i) bigger->put(i, old->get(i));
    rings_.emplace_back(bigger);
    // Release: a thief that loads the new ring sees its copied slots.
    ring_.store(bigger, std::memory_order_release);
    return bigger;
  }

  // top_ is written by thieves, bottom_ by the owner: separate cache lines,
  // so that pushes do not bounce the line thieves are reading.
  alignas(64) std::atomic<std::int64_t> top_{0};
  alignas(64) std::atomic<std::int64_t> bottom_{0};
  alignas(64) std::atomic<Ring*> ring_;
  std::vector<std::unique_ptr<Ring>> rings_;  // owner only
};

}  // namespace concur::futures_detail
