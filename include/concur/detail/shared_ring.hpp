// SharedRing: the shared-memory byte ring behind multiprocessing's Queue,
// SimpleQueue and JoinableQueue. Not API: the queue templates encode items
// with the codec and hand the bytes here.
//
// Layout: a header and a ring of 8-byte-aligned records in one memfd
// mapping, inherited by fork. Producers serialise on one robust mutex and
// consumers on another, so a producer and a consumer never contend on a
// lock; they meet only in the ring's two position words. Each position word
// packs the byte position (low 40 bits) and the count of whole items (high
// 24 bits), so that one store commits a record and counts its item.
//
// An item that does not fit in half the ring is streamed through it in
// chunks (kFirst, kMiddle..., kLast) while its producer holds the producer
// lock and its consumer the consumer lock.
//
// Crash safety: a process may be killed at any instant. A record becomes
// visible only by the store that commits it, so a producer that dies leaves
// either a whole record or none; one that dies mid-stream leaves a stream
// that the next producer closes with kAbort (or that the waiting consumer
// finds abandoned through the producer lock), and its consumer drops the
// part it holds. A consumer that dies before its commit leaves the item for
// the next consumer; one that dies mid-stream makes the next consumer skip
// that stream's remaining chunks. The robust mutexes tell the next holder
// that the last one died, before the dead process is even reaped. Sleepers
// wait on futexes in the mapping, re-checking every kWatchdog so that a
// peer killed between its commit and its wake-up delays them that long at
// most.
//
// Thread safety: every member may be called from any thread of any process
// that inherited the ring.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "concur/detail/sys/deadline.hpp"
#include "concur/detail/sys/shared_memory.hpp"

namespace concur::multiprocessing_detail {

struct RingHeader;

class SharedRing {
 public:
  // Writes an item's `size` bytes into `out` (encodes it).
  using Fill = void (*)(void* context, std::span<std::byte> out);
  // Reads a whole item from `in` (decodes it).
  using Consume = void (*)(void* context, std::span<const std::byte> in);

  struct Options {
    std::size_t maxsize = 0;         // items; 0: unbounded
    std::size_t capacity = 1 << 18;  // ring bytes; rounded to a power of two
    std::uint64_t fingerprint = 0;   // the item type's (codec.hpp)
    std::string_view type_name;
  };

  // Items in the queue are counted modulo 2^24: maxsize must be below.
  static constexpr std::size_t kMaxItems = (std::size_t{1} << 24) - 1;

  explicit SharedRing(const Options& options);
  // Maps the ring another process made, behind descriptor `fd` (taken
  // over). TypeError if its items are not of the type `fingerprint` names;
  // ValueError if it is not a ring.
  SharedRing(int fd, std::uint64_t fingerprint, std::string_view type_name);
  SharedRing(const SharedRing&) = delete;
  SharedRing& operator=(const SharedRing&) = delete;

  // Stores one item of `size` bytes; false if `deadline` passed first
  // (then nothing is stored). `fill` may throw: nothing is stored then.
  bool put(std::size_t size, Fill fill, void* context,
           const sys::Deadline& deadline);
  // Takes one item and passes it to `consume`; false if `deadline` passed
  // first. If `consume` throws, the item is gone and the error propagates.
  bool get(Consume consume, void* context, const sys::Deadline& deadline);

  // For a consumer that must account for every item (the process pool):
  // `claim` gets the item's index (the count of items put before it, modulo
  // 2^24) and its bytes, and runs before the item counts as taken, so a
  // consumer that dies inside it leaves the item to the next one. An item
  // whose bytes are gone (its earlier reader died while it was streamed) is
  // passed with `lost` set and no bytes, where get() skips it.
  using Claim = void (*)(void* context, std::uint32_t index,
                         std::span<const std::byte> in, bool lost);
  bool take(Claim claim, void* context, const sys::Deadline& deadline);
  // The count of items taken so far, modulo 2^24: item `index` is taken
  // once the distance from it to this count is in [1, 2^23].
  std::uint32_t taken() const noexcept;

  std::size_t qsize() const noexcept;
  std::size_t maxsize() const noexcept;
  std::uint64_t fingerprint() const noexcept;
  std::string type_name() const;
  // The ring's memory, for sending it to another process.
  int fd() const noexcept { return mapping_.fd(); }

  // JoinableQueue: unfinished items are those put and not yet task_done().
  // task_done throws ValueError when called more often than items were put.
  void task_done();
  bool join(const sys::Deadline& deadline);

 private:
  RingHeader& header() const noexcept;
  std::byte* ring() const noexcept;

  sys::SharedMapping mapping_;
  std::size_t capacity_ = 0;
};

}  // namespace concur::multiprocessing_detail
