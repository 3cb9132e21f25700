#include "concur/detail/shared_ring.hpp"

#include <algorithm>
#include <atomic>
#include <bit>
#include <chrono>
#include <cstring>
#include <new>
#include <vector>

#include "concur/annotations.hpp"
#include "concur/detail/sys/futex.hpp"
#include "concur/detail/sys/robust_mutex.hpp"
#include "concur/detail/sys/spin.hpp"
#include "concur/errors.hpp"

namespace concur::multiprocessing_detail {

namespace {

using sys::Deadline;
using sys::FutexScope;
using Result = sys::RobustMutex::Result;

// A position word: the byte position modulo 2^40, and the count of whole
// items that passed it modulo 2^24.
constexpr int kPosBits = 40;
constexpr std::uint64_t kPosMask = (std::uint64_t{1} << kPosBits) - 1;
constexpr std::uint32_t kItemMask = (std::uint32_t{1} << 24) - 1;

constexpr std::uint64_t pos_of(std::uint64_t word) noexcept {
  return word & kPosMask;
}
constexpr std::uint32_t items_of(std::uint64_t word) noexcept {
  return static_cast<std::uint32_t>(word >> kPosBits);
}
constexpr std::uint64_t advance(std::uint64_t word, std::size_t bytes,
                                std::uint32_t items) noexcept {
  return ((word + bytes) & kPosMask) |
         (std::uint64_t{(items_of(word) + items) & kItemMask} << kPosBits);
}

enum Kind : std::uint32_t {
  kWhole = 1,  // one item
  kFirst,      // a streamed item's first chunk: its total size, then bytes
  kMiddle,
  kLast,   // the chunk that completes (and counts) a streamed item
  kPad,    // the unused end of the ring before a record that wraps
  kAbort,  // the stream in progress was abandoned by a dead producer
};

struct RecordHeader {
  std::uint32_t length;  // payload bytes
  std::uint32_t kind;
};
constexpr std::size_t kRecordHeader = sizeof(RecordHeader);
constexpr std::size_t record_size(std::size_t payload) noexcept {
  return (kRecordHeader + payload + 7) & ~std::size_t{7};
}

// How long a sleeper sleeps before it looks again on its own: the longest
// a peer killed between its commit and its wake-up can delay it.
constexpr auto kWatchdog = std::chrono::milliseconds(100);

// How many spaced looks a side takes for the other before it sleeps
// (spin.hpp): some twenty microseconds, less than the sleep and wake-up it
// saves.
constexpr int kSpinLooks = 8;

Deadline nap_until(const Deadline& deadline) {
  if (!deadline.is_never() && deadline.remaining() <= kWatchdog) {
    return deadline;
  }
  return Deadline::after(kWatchdog);
}

}  // namespace

struct RingHeader {
  std::uint64_t fingerprint = 0;
  std::uint64_t capacity = 0;
  std::uint64_t maxsize = 0;
  char type_name[192] = {};

  // The producers' side, touched by the holder of put_mu only.
  alignas(64) sys::RobustMutex put_mu;
  bool put_streaming = false;
  std::uint64_t head_seen = 0;  // a recent head, to compute room
  // Release/seq_cst stores by the put_mu holder commit records; acquire
  // loads by consumers see the bytes written before. seq_cst where it is
  // the store half of the Dekker handshake with data_sleeper.
  alignas(64) std::atomic<std::uint64_t> tail{0};

  // The consumers' side, touched by the holder of get_mu only.
  alignas(64) sys::RobustMutex get_mu;
  bool get_streaming = false;
  std::uint64_t tail_seen = 0;
  // The same for the bytes consumed; producers read it to find room.
  alignas(64) std::atomic<std::uint64_t> head{0};

  // Futex words, bumped by a committer that found the other side asleep,
  // and the flags that say so (see sleep_until).
  alignas(64) std::atomic<std::uint32_t> data_seq{0};
  std::atomic<std::uint32_t> data_sleeper{0};
  alignas(64) std::atomic<std::uint32_t> room_seq{0};
  std::atomic<std::uint32_t> room_sleeper{0};
  // JoinableQueue: task_done() calls, modulo 2^24.
  alignas(64) std::atomic<std::uint32_t> done{0};
  std::atomic<std::uint32_t> join_waiters{0};
};

namespace {

// One side's sleep. Only the holder of that side's lock sleeps, so
// `sleeper` is a flag: set (seq_cst) before the last look at the
// condition, against the committer's seq_cst store of the position and
// seq_cst look at the flag. The committer that finds it set takes it
// (exchange) and wakes, so that the commits made before the sleeper runs
// again cost no system call; the sleeper clears it on its way out, and a
// sleeper that died leaves it set for one needless wake-up at most.
template <class Ready>
bool sleep_until(Ready&& ready, std::atomic<std::uint32_t>& seq,
                 std::atomic<std::uint32_t>& sleeper, const Deadline& nap) {
  const std::uint32_t seen = seq.load(std::memory_order_acquire);
  sleeper.store(1, std::memory_order_seq_cst);
  if (!ready()) sys::futex_wait(seq, seen, nap, FutexScope::kShared);
  sleeper.store(0, std::memory_order_relaxed);
  return ready();
}

void wake(std::atomic<std::uint32_t>& seq,
          std::atomic<std::uint32_t>& sleeper) {
  if (sleeper.load(std::memory_order_seq_cst) == 0 ||
      sleeper.exchange(0, std::memory_order_seq_cst) == 0) {
    return;
  }
  seq.fetch_add(1, std::memory_order_release);
  sys::futex_wake_all(seq, FutexScope::kShared);
}

}  // namespace

SharedRing::SharedRing(const Options& options) {
  if (options.maxsize > kMaxItems) {
    throw ValueError("maxsize must be below " + std::to_string(kMaxItems + 1));
  }
  capacity_ = std::bit_ceil(
      std::clamp<std::size_t>(options.capacity, 4096, std::size_t{1} << 27));
  const std::size_t header_bytes = (sizeof(RingHeader) + 63) & ~std::size_t{63};
  mapping_ =
      sys::SharedMapping::anonymous(header_bytes + capacity_, "concur-queue");
  auto* h = new (mapping_.data()) RingHeader;
  h->fingerprint = options.fingerprint;
  h->capacity = capacity_;
  h->maxsize = options.maxsize;
  const std::size_t n =
      std::min(options.type_name.size(), sizeof h->type_name - 1);
  std::memcpy(h->type_name, options.type_name.data(), n);
}

SharedRing::SharedRing(int fd, std::uint64_t fingerprint,
                       std::string_view type_name)
    : mapping_(sys::SharedMapping::map(fd)) {
  const std::size_t header_bytes = (sizeof(RingHeader) + 63) & ~std::size_t{63};
  if (mapping_.size() < header_bytes + 4096) {
    throw ValueError("a queue sent from another process is not a queue");
  }
  capacity_ = mapping_.size() - header_bytes;
  const RingHeader& h = header();
  if (h.capacity != capacity_ || !std::has_single_bit(capacity_)) {
    throw ValueError("a queue sent from another process is not a queue");
  }
  if (h.fingerprint != fingerprint) {
    throw TypeError("expected a queue of " + std::string(type_name) +
                    ", received a queue of " + this->type_name());
  }
}

RingHeader& SharedRing::header() const noexcept {
  return *std::launder(static_cast<RingHeader*>(mapping_.data()));
}

std::byte* SharedRing::ring() const noexcept {
  return static_cast<std::byte*>(mapping_.data()) +
         ((sizeof(RingHeader) + 63) & ~std::size_t{63});
}

std::size_t SharedRing::qsize() const noexcept {
  const RingHeader& h = header();
  // Head first: a tail read after it is at least as new, so the count is
  // never negative.
  const std::uint32_t got = items_of(h.head.load(std::memory_order_acquire));
  const std::uint32_t put = items_of(h.tail.load(std::memory_order_acquire));
  return (put - got) & kItemMask;
}

std::size_t SharedRing::maxsize() const noexcept { return header().maxsize; }

std::uint64_t SharedRing::fingerprint() const noexcept {
  return header().fingerprint;
}

std::string SharedRing::type_name() const { return header().type_name; }

namespace {

// The producer side: holds put_mu for its lifetime.
class Producer {
 public:
  Producer(RingHeader& h, std::byte* ring, std::size_t capacity)
      : h_(h), ring_(ring), capacity_(capacity) {}

  // Takes put_mu; closes a stream a dead producer left open.
  bool lock(const Deadline& deadline) CONCUR_NO_THREAD_SAFETY_ANALYSIS {
    const Result r = h_.put_mu.lock(deadline);
    if (r == Result::kTimedOut) return false;
    if (r == Result::kOwnerDied) {
      // It may have died announced as a waiter, or mid-stream.
      h_.room_sleeper.store(0, std::memory_order_relaxed);
      if (h_.put_streaming) {
        std::uint64_t at = 0;
        if (!reserve(record_size(0), deadline, at)) {
          h_.put_mu.mark_consistent();
          h_.put_mu.unlock();
          return false;
        }
        write_header(at, 0, kAbort);
        commit(at, record_size(0), 0);
        h_.put_streaming = false;
      }
      h_.put_mu.mark_consistent();
    }
    return true;
  }
  void unlock() CONCUR_NO_THREAD_SAFETY_ANALYSIS { h_.put_mu.unlock(); }

  bool wait_below_maxsize(const Deadline& deadline) {
    auto below = [&] {
      const std::uint32_t put =
          items_of(h_.tail.load(std::memory_order_relaxed));
      const std::uint32_t got =
          items_of(h_.head.load(std::memory_order_seq_cst));
      return ((put - got) & kItemMask) < h_.maxsize;
    };
    return wait(below, deadline);
  }

  // Waits for `bytes` contiguous free bytes at the tail, first padding out
  // the end of the ring if the record would cross it; `at` is the tail
  // word the record starts at.
  bool reserve(std::size_t bytes, const Deadline& deadline, std::uint64_t& at) {
    for (;;) {
      const std::uint64_t t = h_.tail.load(std::memory_order_relaxed);
      const std::size_t offset = pos_of(t) & (capacity_ - 1);
      const std::size_t pad =
          offset + bytes > capacity_ ? capacity_ - offset : 0;
      const std::size_t need = pad + bytes;
      auto fits = [&] {
        return capacity_ - ((pos_of(t) - pos_of(h_.head_seen)) & kPosMask) >=
               need;
      };
      if (!fits()) {
        auto refreshed = [&] {
          h_.head_seen = h_.head.load(std::memory_order_seq_cst);
          return fits();
        };
        if (!wait(refreshed, deadline)) return false;
      }
      if (pad == 0) {
        at = t;
        return true;
      }
      write_header(t, static_cast<std::uint32_t>(pad - kRecordHeader), kPad);
      commit(t, pad, 0);
    }
  }

  std::byte* payload(std::uint64_t at) const noexcept {
    return ring_ + (pos_of(at) & (capacity_ - 1)) + kRecordHeader;
  }
  void write_header(std::uint64_t at, std::uint32_t length,
                    std::uint32_t kind) noexcept {
    const RecordHeader rh{length, kind};
    std::memcpy(ring_ + (pos_of(at) & (capacity_ - 1)), &rh, sizeof rh);
  }
  void commit(std::uint64_t at, std::size_t bytes, std::uint32_t items) {
    h_.tail.store(advance(at, bytes, items), std::memory_order_seq_cst);
    wake(h_.data_seq, h_.data_sleeper);
  }

 private:
  template <class Ready>
  bool wait(Ready&& ready, const Deadline& deadline) {
    if (sys::spin_spaced_until(ready, kSpinLooks)) return true;
    for (;;) {
      if (sleep_until(ready, h_.room_seq, h_.room_sleeper,
                      nap_until(deadline))) {
        return true;
      }
      if (deadline.expired()) return false;
    }
  }

  RingHeader& h_;
  std::byte* ring_;
  std::size_t capacity_;
};

}  // namespace

bool SharedRing::put(std::size_t size, Fill fill, void* context,
                     const Deadline& deadline) {
  RingHeader& h = header();
  Producer p(h, ring(), capacity_);
  if (!p.lock(deadline)) return false;
  struct Unlock {
    Producer& p;
    ~Unlock() { p.unlock(); }
  } unlock{p};
  if (h.maxsize != 0 && !p.wait_below_maxsize(deadline)) return false;

  const std::size_t max_whole = capacity_ / 2 - kRecordHeader;
  if (size <= max_whole) {
    std::uint64_t at = 0;
    if (!p.reserve(record_size(size), deadline, at)) return false;
    fill(context, std::span(p.payload(at), size));
    p.write_header(at, static_cast<std::uint32_t>(size), kWhole);
    p.commit(at, record_size(size), 1);
    return true;
  }

  // Streamed: encoded aside first, so that an encoding that throws leaves
  // nothing in the ring. Once the first chunk is in, the rest follows
  // whatever the deadline: a consumer may be assembling it.
  std::vector<std::byte> staged(size);
  fill(context, staged);
  const std::size_t chunk = capacity_ / 4 - kRecordHeader;
  std::size_t sent = 0;
  bool first = true;
  // Set before the first chunk is committed: a producer that dies from
  // here on leaves a stream for the next one to close.
  h.put_streaming = true;
  while (sent < size) {
    const std::size_t lead = first ? sizeof(std::uint64_t) : 0;
    const std::size_t n = std::min(chunk - lead, size - sent);
    std::uint64_t at = 0;
    if (!p.reserve(record_size(lead + n), first ? deadline : Deadline::never(),
                   at)) {
      h.put_streaming = false;  // nothing of it was committed
      return false;
    }
    std::byte* out = p.payload(at);
    if (first) {
      const std::uint64_t total = size;
      std::memcpy(out, &total, sizeof total);
    }
    std::memcpy(out + lead, staged.data() + sent, n);
    sent += n;
    const bool last = sent == size;
    p.write_header(at, static_cast<std::uint32_t>(lead + n),
                   first  ? kFirst
                   : last ? kLast
                          : kMiddle);
    p.commit(at, record_size(lead + n), last ? 1 : 0);
    first = false;
  }
  h.put_streaming = false;
  return true;
}

namespace {

// The consumer side: holds get_mu for its lifetime.
class Consumer {
 public:
  explicit Consumer(RingHeader& h) : h_(h) {}

  bool lock(const Deadline& deadline) CONCUR_NO_THREAD_SAFETY_ANALYSIS {
    const Result r = h_.get_mu.lock(deadline);
    if (r == Result::kTimedOut) return false;
    if (r == Result::kOwnerDied) {
      // It may have died announced as a waiter; the stream it was reading,
      // if any, is skipped chunk by chunk (continuation records with no
      // stream open are dropped).
      h_.data_sleeper.store(0, std::memory_order_relaxed);
      h_.get_streaming = false;
      h_.get_mu.mark_consistent();
    }
    return true;
  }
  void unlock() CONCUR_NO_THREAD_SAFETY_ANALYSIS { h_.get_mu.unlock(); }

  enum class Wait { kData, kTimedOut, kAbandoned };

  // Waits for a record at `head`. While assembling, the deadline no longer
  // applies, and a stream whose producer died is reported as kAbandoned.
  Wait wait_data(std::uint64_t head, const Deadline& deadline,
                 bool assembling) {
    auto ready = [&] {
      h_.tail_seen = h_.tail.load(std::memory_order_seq_cst);
      return pos_of(h_.tail_seen) != pos_of(head);
    };
    if (pos_of(h_.tail_seen) != pos_of(head) ||
        sys::spin_spaced_until(ready, kSpinLooks)) {
      return Wait::kData;
    }
    for (;;) {
      const Deadline& limit = assembling ? Deadline::never() : deadline;
      if (sleep_until(ready, h_.data_seq, h_.data_sleeper, nap_until(limit))) {
        return Wait::kData;
      }
      if (assembling && stream_abandoned()) return Wait::kAbandoned;
      if (!assembling && deadline.expired()) return Wait::kTimedOut;
    }
  }

  // Consumes the record at `head` (bytes) and counts `items`.
  void commit(std::uint64_t head, std::size_t bytes, std::uint32_t items) {
    h_.head.store(advance(head, bytes, items), std::memory_order_seq_cst);
    wake(h_.room_seq, h_.room_sleeper);
  }

 private:
  // Whether the producer of the stream being assembled died: its put_mu
  // then comes with kOwnerDied. Everything it committed has been read (we
  // wait only at the tail), so closing the stream is all the repair.
  bool stream_abandoned() CONCUR_NO_THREAD_SAFETY_ANALYSIS {
    const Result r = h_.put_mu.try_lock();
    if (r == Result::kTimedOut) return false;
    const bool died = r == Result::kOwnerDied;
    if (died) {
      h_.put_streaming = false;
      h_.room_sleeper.store(0, std::memory_order_relaxed);
      h_.put_mu.mark_consistent();
    }
    h_.put_mu.unlock();
    return died;
  }

  RingHeader& h_;
};

// Commits a whole item when the claim has returned or thrown: the item is
// taken either way, and a consumer that dies inside the claim leaves it.
struct Commit {
  Consumer& c;
  std::uint64_t head;
  std::size_t bytes;
  ~Commit() { c.commit(head, bytes, 1); }
};

}  // namespace

std::uint32_t SharedRing::taken() const noexcept {
  return items_of(header().head.load(std::memory_order_acquire));
}

bool SharedRing::get(Consume consume, void* context, const Deadline& deadline) {
  struct Adapter {
    Consume consume;
    void* context;
    bool lost;
  } adapter{consume, context, false};
  auto claim = [](void* a, std::uint32_t, std::span<const std::byte> in,
                  bool lost) {
    auto& self = *static_cast<Adapter*>(a);
    self.lost = lost;
    if (!lost) self.consume(self.context, in);
  };
  for (;;) {
    if (!take(claim, &adapter, deadline)) return false;
    if (!adapter.lost) return true;
  }
}

bool SharedRing::take(Claim claim, void* context, const Deadline& deadline) {
  RingHeader& h = header();
  Consumer c(h);
  if (!c.lock(deadline)) return false;
  struct Unlock {
    Consumer& c;
    ~Unlock() { c.unlock(); }
  } unlock{c};

  std::vector<std::byte> assembly;
  bool assembling = false;
  for (;;) {
    const std::uint64_t head = h.head.load(std::memory_order_relaxed);
    switch (c.wait_data(head, deadline, assembling)) {
      case Consumer::Wait::kTimedOut:
        return false;
      case Consumer::Wait::kAbandoned:
        assembly.clear();
        assembling = false;
        h.get_streaming = false;
        continue;
      case Consumer::Wait::kData:
        break;
    }
    const std::size_t offset = pos_of(head) & (capacity_ - 1);
    RecordHeader rh{};
    std::memcpy(&rh, ring() + offset, sizeof rh);
    const std::size_t bytes =
        rh.kind == kPad ? capacity_ - offset : record_size(rh.length);
    const std::size_t used = (pos_of(h.tail_seen) - pos_of(head)) & kPosMask;
    if (rh.kind < kWhole || rh.kind > kAbort || offset + bytes > capacity_ ||
        bytes > used) {
      // Only a process writing where it must not can cause this: drop what
      // is there rather than read past a record.
      c.commit(head, used, 0);
      throw ValueError("corrupt record in a multiprocessing queue");
    }
    const std::span<const std::byte> payload(ring() + offset + kRecordHeader,
                                             rh.kind == kPad ? 0 : rh.length);
    switch (rh.kind) {
      case kPad:
        c.commit(head, bytes, 0);
        continue;
      case kAbort:
        assembly.clear();
        assembling = false;
        h.get_streaming = false;
        c.commit(head, bytes, 0);
        continue;
      case kWhole: {
        // A stream cut off without kAbort (its producer died and we found
        // out through put_mu) left nothing to deliver.
        assembling = false;
        h.get_streaming = false;
        const Commit commit{c, head, bytes};
        claim(context, items_of(head), payload, false);
        return true;
      }
      case kFirst: {
        std::uint64_t total = 0;
        if (payload.size() < sizeof total) break;
        std::memcpy(&total, payload.data(), sizeof total);
        assembly.clear();
        // Grown by the chunks that arrive, never by the claim alone.
        assembly.reserve(static_cast<std::size_t>(
            std::min<std::uint64_t>(total, std::uint64_t{64} << 20)));
        assembly.insert(assembly.end(), payload.begin() + sizeof total,
                        payload.end());
        assembling = true;
        h.get_streaming = true;
        c.commit(head, bytes, 0);
        continue;
      }
      case kMiddle:
        if (assembling) {
          assembly.insert(assembly.end(), payload.begin(), payload.end());
        }
        c.commit(head, bytes, 0);
        continue;
      case kLast: {
        // Without a stream open this ends one whose reader died: the item
        // leaves the count, reported lost.
        const Commit commit{c, head, bytes};
        if (!assembling) {
          claim(context, items_of(head), {}, true);
          return true;
        }
        assembly.insert(assembly.end(), payload.begin(), payload.end());
        h.get_streaming = false;
        claim(context, items_of(head), assembly, false);
        return true;
      }
    }
    // A kFirst too short to hold its size.
    c.commit(head, bytes, 0);
    throw ValueError("corrupt record in a multiprocessing queue");
  }
}

void SharedRing::task_done() {
  RingHeader& h = header();
  std::uint32_t done = h.done.load(std::memory_order_relaxed);
  for (;;) {
    const std::uint32_t put = items_of(h.tail.load(std::memory_order_acquire));
    if (done == put) throw ValueError("task_done() called too many times");
    const std::uint32_t next = (done + 1) & kItemMask;
    // seq_cst: the store half of the handshake with join_waiters.
    if (h.done.compare_exchange_weak(done, next, std::memory_order_seq_cst)) {
      // The count is the futex word: it changed, so a wake alone will do.
      if (next == put && h.join_waiters.load(std::memory_order_seq_cst) != 0) {
        sys::futex_wake_all(h.done, FutexScope::kShared);
      }
      return;
    }
  }
}

bool SharedRing::join(const Deadline& deadline) {
  RingHeader& h = header();
  for (;;) {
    const std::uint32_t done = h.done.load(std::memory_order_seq_cst);
    if (done == items_of(h.tail.load(std::memory_order_seq_cst))) return true;
    h.join_waiters.fetch_add(1, std::memory_order_seq_cst);
    if (h.done.load(std::memory_order_seq_cst) == done &&
        done != items_of(h.tail.load(std::memory_order_seq_cst))) {
      sys::futex_wait(h.done, done, nap_until(deadline), FutexScope::kShared);
    }
    h.join_waiters.fetch_sub(1, std::memory_order_relaxed);
    if (deadline.expired()) {
      return h.done.load(std::memory_order_seq_cst) ==
             items_of(h.tail.load(std::memory_order_seq_cst));
    }
  }
}

}  // namespace concur::multiprocessing_detail
