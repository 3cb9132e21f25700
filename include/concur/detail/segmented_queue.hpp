// SegmentedQueue: the unbounded multi-producer multi-consumer FIFO without
// locks behind queue::SimpleQueue, with a blocking pop that parks on a futex.
//
// Structure. Items live in blocks of kSlots slots linked in a list. Each end
// of the queue (head for pops, tail for pushes) is an index word and a
// pointer to the block the index is in. Every push and every pop takes the
// next position of its end with a compare-exchange on the index, and then
// works on that position's slot alone, so producers and consumers meet only
// in the slot they share: a producer writes the item and sets the slot's
// state to kWritten; the consumer waits for that and moves the item out. The
// design follows crossbeam's SegQueue (one lap of positions per block, the
// last position of each lap a sentinel while the next block is linked),
// adapted for C++ items, with a simpler way to free blocks and with
// sleeping consumers.
//
// Why a position's claim and its block agree. An end's index only grows, so
// a compare-exchange that succeeds proves the index did not move since the
// thread loaded it; the block pointer, loaded in between, was therefore the
// one for that index (it changes only while the index sits on a sentinel,
// which threads wait out). A thread never touches a block it has not claimed
// a position in, so a stale pointer is harmless: its compare-exchange fails.
//
// Emptiness. A consumer claims a position only if the tail is past it, so
// every claimed position has a producer, which may still be writing (the
// consumer then waits a few instructions for kWritten). Hence a pop that
// finds the queue empty, or times out, has claimed nothing and loses nothing.
//
// Freeing blocks. Every consumer counts the item it took in its block's
// `taken`; the one that brings it to kSlots frees the block (into a
// one-block spare, which the next push to need a block takes, sparing the
// allocator in steady state). Producers are done with a slot before its
// consumer reads it, so the consumers alone decide. The counter shares its
// cache line only with `next`, which is written once per block, so
// consumers never write to the lines that producers fill.
//
// Memory ordering. The item is written before the release that sets
// kWritten, and read after the acquire that sees it: everything the
// producer did before push() happens-before the pop() that returns the item.
// Linking a block stores, in this order, the tail's block, the tail's index
// (past the sentinel) and the old block's `next`, all with release; a
// consumer moves the head into the new block only after acquiring `next`,
// so the head never passes the tail.
//
// Sleeping. A consumer that finds the queue empty spins a little, then
// announces itself in sleepers_, looks at the tail once more, and sleeps on
// the futex word wakeups_. A producer, after moving the tail, looks at
// sleepers_; if a consumer announced itself, the producer claims it
// (sleepers_ - 1), grants it a wake-up (wakeups_ + 1) and wakes one
// sleeper. The announcement and the look at the tail, and the tail's move
// and the look at sleepers_, are seq_cst: in their single total order
// either the producer looks after the announcement, and wakes the consumer,
// or the consumer looks after the tail moved, and sees the item (the Dekker
// pattern), so no wake-up is lost. Claiming makes one sleep cost one wake-up
// system call, however many pushes come before the consumer runs. That is
// why this queue does not park on the shared EventCount: there a sleeper
// stays counted until it runs again, so every push until then would make a
// wake-up call of its own.
//
// Progress. Pushes and pops never block each other except for a few
// instructions: a consumer waiting for the producer of its slot to finish
// writing, or a thread waiting for the next block to be linked. Those waits
// spin briefly, then yield the processor, so that on an oversubscribed
// machine the preempted thread gets to run.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <new>
#include <optional>
#include <thread>
#include <type_traits>
#include <utility>

#include "concur/detail/assert.hpp"
#include "concur/detail/sys/deadline.hpp"
#include "concur/detail/sys/futex.hpp"
#include "concur/detail/sys/spin.hpp"

namespace concur::detail {

template <class T>
class SegmentedQueue {
  // A claimed slot must be filled and a claimed item must be delivered, so
  // the moves into and out of a slot may not fail. SimpleQueue uses a
  // locked queue for other types.
  static_assert(std::is_nothrow_move_constructible_v<T>,
                "SegmentedQueue needs items that move without throwing");
  static_assert(std::is_nothrow_destructible_v<T>);

 public:
  SegmentedQueue() {
    Block* first = new Block;
    head_.block.store(first, std::memory_order_relaxed);
    tail_.block.store(first, std::memory_order_relaxed);
  }
  SegmentedQueue(const SegmentedQueue&) = delete;
  SegmentedQueue& operator=(const SegmentedQueue&) = delete;

  // Runs with no other thread using the queue, so every claimed position
  // holds an item and relaxed loads see the last values.
  ~SegmentedQueue() {
    std::uint64_t position =
        head_.index.load(std::memory_order_relaxed) >> kShift;
    const std::uint64_t end =
        tail_.index.load(std::memory_order_relaxed) >> kShift;
    Block* block = head_.block.load(std::memory_order_relaxed);
    for (; position != end; ++position) {
      const std::uint64_t offset = position % kLap;
      if (offset == kSlots) {
        Block* next = block->next.load(std::memory_order_relaxed);
        delete block;
        block = next;
      } else {
        block->slots[offset].item()->~T();
      }
    }
    delete block;
    delete spare_.load(std::memory_order_relaxed);
  }

  // Appends an item and returns true; once close() was called, stores
  // nothing and returns false. Never blocks. If constructing the item (or a
  // block for it) throws, the queue is unchanged.
  template <class U>
  bool push(U&& item) {
    if constexpr (!std::is_nothrow_constructible_v<T, U&&>) {
      // Whatever may throw happens before a slot is claimed.
      T built(std::forward<U>(item));
      return push(std::move(built));
    } else {
      Block* fresh = nullptr;
      // Acquire: pairs with the release stores that link a block (see the
      // header), so that the block this index lies in is the one loaded.
      std::uint64_t tail = tail_.index.load(std::memory_order_acquire);
      Block* block = tail_.block.load(std::memory_order_acquire);
      sys::Backoff backoff;
      for (;;) {
        if ((tail & kClosed) != 0) {
          if (fresh != nullptr) recycle(fresh);
          return false;
        }
        const std::uint64_t offset = (tail >> kShift) % kLap;
        if (offset == kSlots) {
          backoff.pause();  // the next block is being linked
          tail = tail_.index.load(std::memory_order_acquire);
          block = tail_.block.load(std::memory_order_acquire);
          continue;
        }
        // Taking the block's last slot obliges us to link the next block:
        // allocate it first, while a failure still leaves nothing claimed.
        if (offset + 1 == kSlots && fresh == nullptr) fresh = new_block();
        CONCUR_CHAOS_POINT();
        // seq_cst: the producer half of the Dekker pattern with sleeping
        // consumers (see wake_one); acquire on failure, as for the load.
        if (tail_.index.compare_exchange_weak(tail, tail + kStep,
                                              std::memory_order_seq_cst,
                                              std::memory_order_acquire)) {
          if (offset + 1 == kSlots) {
            link(block, fresh);
            fresh = nullptr;
          }
          Slot& slot = block->slots[offset];
          CONCUR_ASSERT(slot.state.load(std::memory_order_relaxed) == 0,
                        "a slot claimed twice by producers");
          CONCUR_CHAOS_POINT();
          ::new (static_cast<void*>(slot.storage)) T(std::forward<U>(item));
          // Release: publishes the item to the consumer that sees kWritten.
          slot.state.store(kWritten, std::memory_order_release);
          CONCUR_CHAOS_POINT();
          if (fresh != nullptr) recycle(fresh);
          wake_one();
          return true;
        }
        block = tail_.block.load(std::memory_order_acquire);
      }
    }
  }

  // Removes and returns the oldest item, or nothing if the queue is empty.
  std::optional<T> try_pop() noexcept {
    std::uint64_t head = head_.index.load(std::memory_order_acquire);
    Block* block = head_.block.load(std::memory_order_acquire);
    sys::Backoff backoff;
    for (;;) {
      const std::uint64_t offset = (head >> kShift) % kLap;
      if (offset == kSlots) {
        backoff.pause();  // the head is moving to the next block
        head = head_.index.load(std::memory_order_acquire);
        block = head_.block.load(std::memory_order_acquire);
        continue;
      }
      std::uint64_t new_head = head + kStep;
      if ((head & kHasNext) == 0) {
        // seq_cst: the consumer half of the Dekker pattern (see pop). It is
        // a plain load on x86, unlike a fence.
        const std::uint64_t tail = tail_.index.load(std::memory_order_seq_cst);
        if ((head >> kShift) == (tail >> kShift)) return std::nullopt;
        // The tail is in a later block, so this block is full of claimed
        // positions: no need to look at the tail again until we leave it.
        if ((head >> kShift) / kLap != (tail >> kShift) / kLap) {
          new_head |= kHasNext;
        }
      }
      CONCUR_CHAOS_POINT();
      // Acquire: pairs with the release stores that move the head (and, on
      // success, makes the block pointer loaded above the current one).
      if (head_.index.compare_exchange_weak(head, new_head,
                                            std::memory_order_acquire,
                                            std::memory_order_acquire)) {
        if (offset + 1 == kSlots) advance_head(block, new_head);
        return take(block, offset);
      }
      block = head_.block.load(std::memory_order_acquire);
    }
  }

  // As try_pop, but waits until `deadline` for an item: spins briefly, then
  // sleeps on the futex until a push wakes it. Returns nothing at once when
  // the queue is closed and empty.
  std::optional<T> pop(const sys::Deadline& deadline) {
    if (auto item = try_pop()) return item;
    if (deadline.expired()) return std::nullopt;
    if (closed()) return try_pop();
    if (auto item = sys::spin_take([this] { return try_pop(); },
                                   kPopSpinFactor * sys::spin_limit())) {
      return item;
    }
    for (;;) {
      // seq_cst: the consumer half of the Dekker pattern, with try_pop's
      // seq_cst load of the tail after it.
      sleepers_.fetch_add(1, std::memory_order_seq_cst);
      CONCUR_CHAOS_POINT();
      if (auto item = try_pop()) {
        withdraw();
        return item;
      }
      if (closed() || !sleep(deadline)) {
        withdraw();
        return try_pop();
      }
    }
  }

  // Refuses every later push (Queue's shutdown) and wakes every consumer
  // that sleeps in pop. Returns false if it was closed already. A push
  // either claimed its position before the close, and a pop returns its
  // item, or fails: the tail's word decides, as in crossbeam's channels.
  bool close() noexcept {
    // seq_cst: the producer half of the Dekker pattern with consumers going
    // to sleep, as a push's compare-exchange is.
    if ((tail_.index.fetch_or(kClosed, std::memory_order_seq_cst) & kClosed) !=
        0) {
      return false;
    }
    wake_all();
    return true;
  }
  // Whether close() was called. seq_cst: a consumer's look after its
  // announcement (Dekker). An empty try_pop after a true answer means no
  // item can come any more.
  bool closed() const noexcept {
    return (tail_.index.load(std::memory_order_seq_cst) & kClosed) != 0;
  }

 private:
  // Wakes every consumer that sleeps in pop, or is about to.
  void wake_all() noexcept {
    // seq_cst: either this sees a consumer's announcement, or that
    // consumer's look at the tail sees it closed.
    std::uint32_t announced = sleepers_.load(std::memory_order_seq_cst);
    while (announced != 0) {
      if (sleepers_.compare_exchange_weak(announced, 0,
                                          std::memory_order_seq_cst,
                                          std::memory_order_seq_cst)) {
        // Release: as in wake_one.
        wakeups_.fetch_add(announced, std::memory_order_release);
        sys::futex_wake(wakeups_, static_cast<int>(announced));
        return;
      }
    }
  }

 public:
  // Items ever pushed, counting pushes still writing their item. seq_cst:
  // Queue's task count reads it in Dekker handshakes with joiners.
  std::uint64_t pushed() const noexcept {
    return ordinal(tail_.index.load(std::memory_order_seq_cst));
  }

  // Items pushed and not yet popped (a snapshot: exact only when no push
  // or pop runs). Positions claimed by pushes still writing count as items.
  std::size_t size() const noexcept {
    // Head first: the tail is never behind the head and only grows, so a
    // tail read afterwards is at least as far on. The memory model does not
    // promise that across two words (a weakly ordered processor may return
    // an older tail), hence the clamp: "empty" rather than a huge size.
    const std::uint64_t head =
        ordinal(head_.index.load(std::memory_order_acquire));
    const std::uint64_t tail =
        ordinal(tail_.index.load(std::memory_order_acquire));
    return tail > head ? static_cast<std::size_t>(tail - head) : 0;
  }

 private:
  // Positions per lap; one block holds one lap. The last position of a lap
  // is the sentinel (see the header), so a block has kLap - 1 slots.
  static constexpr std::uint64_t kLap = 64;
  static constexpr std::uint64_t kSlots = kLap - 1;

  // An index word is (position << kShift) | flag, where position counts
  // every position ever taken at that end, sentinels included (so block n
  // holds positions n*kLap .. n*kLap + kSlots - 1). The flag at the head is
  // kHasNext: set when the tail was seen in a later block, so that pops in
  // this block need not read the tail to know the queue is not empty. At
  // the tail it is kClosed (see close()). Each end's position only grows:
  // 2^63 of them outlast any program.
  static constexpr std::uint64_t kShift = 1;
  static constexpr std::uint64_t kStep = std::uint64_t{1} << kShift;
  static constexpr std::uint64_t kHasNext = 1;
  static constexpr std::uint64_t kClosed = 1;

  // A slot's state: 0 while empty, kWritten once its producer has stored
  // the item (set once, by that producer; a block from the spare has every
  // state back at 0).
  static constexpr std::uint32_t kWritten = 1;

  // pop() spins this many times longer than the locks before it parks,
  // since a consumer that catches up with its producer usually has the
  // next item within a few hundred nanoseconds.
  static constexpr int kPopSpinFactor = 2;

  struct Slot {
    T* item() noexcept { return std::launder(reinterpret_cast<T*>(storage)); }
    std::atomic<std::uint32_t> state{0};
    alignas(T) std::byte storage[sizeof(T)];
  };

  struct Block {
    std::atomic<Block*> next{nullptr};
    // Items taken out of this block; written by consumers only.
    std::atomic<std::uint32_t> taken{0};
    alignas(64) Slot slots[kSlots];
  };

  // One end of the queue, alone on its cache lines (two, because x86
  // processors fetch lines in adjacent pairs), so that producers and
  // consumers do not slow each other down through false sharing.
  struct alignas(128) End {
    std::atomic<std::uint64_t> index{0};
    std::atomic<Block*> block{nullptr};
  };

  // Slots before a position, counting only real slots (a sentinel position
  // counts as the start of the next block).
  static std::uint64_t ordinal(std::uint64_t index) noexcept {
    const std::uint64_t position = index >> kShift;
    const std::uint64_t offset = position % kLap;
    return position / kLap * kSlots + (offset < kSlots ? offset : kSlots);
  }

  // Called by the producer that took the last slot of `block`, which moved
  // the tail onto the sentinel.
  void link(Block* block, Block* fresh) noexcept {
    // Release, in this order (see the header): a producer that loads the
    // new index finds the new block; a consumer that finds `next` set knows
    // the tail has left this block.
    tail_.block.store(fresh, std::memory_order_release);
    CONCUR_CHAOS_POINT();
    // An add, not a store: close() may have set kClosed while the tail sat
    // on the sentinel, and the flag must survive.
    tail_.index.fetch_add(kStep, std::memory_order_release);
    CONCUR_CHAOS_POINT();
    block->next.store(fresh, std::memory_order_release);
  }

  // Called by the consumer that took the last slot of `block`; `index` is
  // the head it installed, on the sentinel.
  void advance_head(Block* block, std::uint64_t index) noexcept {
    Block* next = wait_next(block);
    std::uint64_t next_index = (index & ~kHasNext) + kStep;
    // Acquire: a non-null `next` of the new block means the tail has moved
    // past it already, the same promise as kHasNext.
    if (next->next.load(std::memory_order_acquire) != nullptr) {
      next_index |= kHasNext;
    }
    // Release: pairs with the acquire loads of head_ in try_pop, handing on
    // what we learned through `next` (the tail is in that block or later).
    head_.block.store(next, std::memory_order_release);
    CONCUR_CHAOS_POINT();
    head_.index.store(next_index, std::memory_order_release);
  }

  static Block* wait_next(Block* block) noexcept {
    sys::Backoff backoff;
    for (;;) {
      // Acquire: pairs with the release in link().
      Block* next = block->next.load(std::memory_order_acquire);
      if (next != nullptr) return next;
      backoff.pause();
    }
  }

  // Moves the item out of a claimed slot; frees the block if that was the
  // last item in it.
  std::optional<T> take(Block* block, std::uint64_t offset) noexcept {
    Slot& slot = block->slots[offset];
    sys::Backoff backoff;
    // Acquire: pairs with the producer's release of kWritten.
    while (slot.state.load(std::memory_order_acquire) != kWritten) {
      backoff.pause();
    }
    CONCUR_CHAOS_POINT();
    std::optional<T> item(std::in_place, std::move(*slot.item()));
    slot.item()->~T();
    // acq_rel: release tells the consumer that frees the block that we are
    // done with it; acquire, for that consumer, sees every other consumer
    // done (the increments form one release sequence).
    const std::uint32_t taken =
        block->taken.fetch_add(1, std::memory_order_acq_rel) + 1;
    CONCUR_ASSERT(taken <= kSlots,
                  "more items taken from a block than it holds");
    if (taken == kSlots) recycle(block);
    return item;
  }

  Block* new_block() {
    // Acquire: pairs with the release in recycle(), so the reset states are
    // seen.
    Block* spare = spare_.exchange(nullptr, std::memory_order_acquire);
    return spare != nullptr ? spare : new Block;
  }

  void recycle(Block* block) noexcept {
    // Relaxed: nobody else can see the block until the release below.
    block->next.store(nullptr, std::memory_order_relaxed);
    block->taken.store(0, std::memory_order_relaxed);
    for (Slot& slot : block->slots)
      slot.state.store(0, std::memory_order_relaxed);
    Block* none = nullptr;
    if (!spare_.compare_exchange_strong(none, block, std::memory_order_release,
                                        std::memory_order_relaxed)) {
      delete block;
    }
  }

  // Called after every push: if a consumer has announced that it is going
  // to sleep, claims it (one announcement fewer) and grants a wake-up. A
  // consumer is claimed once, so however many pushes follow before it runs,
  // its sleep costs one wake-up system call.
  void wake_one() noexcept {
    // seq_cst: the producer half of the Dekker pattern. The tail's
    // compare-exchange comes first in the single total order, so either
    // this load sees a consumer that announced itself, or that consumer's
    // look at the tail sees our item.
    CONCUR_CHAOS_POINT();
    std::uint32_t announced = sleepers_.load(std::memory_order_seq_cst);
    while (announced != 0) {
      if (sleepers_.compare_exchange_weak(announced, announced - 1,
                                          std::memory_order_seq_cst,
                                          std::memory_order_seq_cst)) {
        // Release: the consumer that takes this wake-up (acquire) also sees
        // our tail, so its next look finds the item unless another
        // consumer took it.
        wakeups_.fetch_add(1, std::memory_order_release);
        sys::futex_wake(wakeups_, 1);
        return;
      }
    }
  }

  // Sleeps until it takes a wake-up (true) or the deadline passes (false).
  bool sleep(const sys::Deadline& deadline) noexcept {
    for (;;) {
      if (take_wakeup()) return true;
      if (!sys::futex_wait(wakeups_, 0, deadline)) return take_wakeup();
    }
  }

  bool take_wakeup() noexcept {
    std::uint32_t granted = wakeups_.load(std::memory_order_relaxed);
    while (granted != 0) {
      // Acquire: pairs with the release in wake_one.
      if (wakeups_.compare_exchange_weak(granted, granted - 1,
                                         std::memory_order_acquire,
                                         std::memory_order_relaxed)) {
        return true;
      }
    }
    return false;
  }

  // Ends an announcement that no sleep followed (an item was found, or time
  // ran out). Announcements are anonymous: if producers have claimed them
  // all, one claim counts as ours, and its wake-up, granted a few
  // instructions after the claim, is ours to take; another announced
  // consumer then keeps its own announcement or wake-up.
  void withdraw() noexcept {
    sys::Backoff backoff;
    for (;;) {
      std::uint32_t announced = sleepers_.load(std::memory_order_relaxed);
      // Relaxed: withdrawing publishes nothing; the count only steers
      // producers to consumers that may sleep.
      while (announced != 0) {
        if (sleepers_.compare_exchange_weak(announced, announced - 1,
                                            std::memory_order_relaxed)) {
          return;
        }
      }
      if (take_wakeup()) return;
      backoff.pause();
    }
  }

  End head_;
  End tail_;
  // Consumers that announced they are about to sleep and that no producer
  // has claimed yet. Producers read it on every push; it changes only when
  // consumers run dry, so it shares its line with wakeups_, which changes
  // only then too.
  alignas(128) std::atomic<std::uint32_t> sleepers_{0};
  // The futex word: wake-ups granted by producers to claimed consumers and
  // not yet taken. A consumer sleeps while it is 0 and takes one (decrements
  // it) to leave. Every announcement ends either withdrawn from sleepers_ or
  // redeemed here, so no granted wake-up is left over for long.
  std::atomic<std::uint32_t> wakeups_{0};
  // A freed block kept for the next block a push needs, or null.
  alignas(128) std::atomic<Block*> spare_{nullptr};
};

}  // namespace concur::detail
