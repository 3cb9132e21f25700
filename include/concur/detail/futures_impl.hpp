// Out-of-line template bodies of <concur/futures.hpp>: ExecutorBase::map,
// MapResults and as_completed(). Included at the end of that header; not
// for direct use.
#pragma once

#include <deque>

#include "concur/detail/progress_bar.hpp"
#include "concur/futures.hpp"

namespace concur::futures_detail {

// One chunk of a map: fn applied to each item, in order. A plain function,
// so that a chunk is submitted as a call like any other.
template <class Fn, class Item, class R>
typename futures::MapResults<R>::Chunk run_chunk(Fn fn,
                                                 std::vector<Item> chunk) {
  typename futures::MapResults<R>::Chunk out;
  out.reserve(chunk.size());
  for (auto& item : chunk) {
    if constexpr (std::is_void_v<R>) {
      std::apply(fn, item);
      out.emplace_back();
    } else {
      out.push_back({std::apply(fn, item)});
    }
  }
  return out;
}

// The ranges as the map holds them (see HeldRange), shared by its chunks,
// with their count of references. A RangesRef owns one of them. The map takes
// the chunks' references in one step, before it submits any, so that handing
// one to a chunk touches no shared counter: a shared_ptr copy per chunk bounced
// the count's cache line between the submitting thread and the workers (a tenth
// of a microsecond per chunk of one item).
template <class Ranges>
struct RangesBlock {
  template <class... Args>
  explicit RangesBlock(Args&&... args) : ranges(std::forward<Args>(args)...) {}
  std::atomic<std::size_t> refs{1};
  const Ranges ranges;
};

template <class Ranges>
class RangesRef {
 public:
  // Adopts one reference already counted in block->refs.
  explicit RangesRef(RangesBlock<Ranges>* block) noexcept : block_(block) {}
  RangesRef(RangesRef&& other) noexcept
      : block_(std::exchange(other.block_, nullptr)) {}
  RangesRef& operator=(RangesRef&&) = delete;
  ~RangesRef() {
    if (block_ != nullptr) release(block_, 1);
  }
  const Ranges& operator*() const noexcept { return block_->ranges; }
  RangesBlock<Ranges>* block() const noexcept { return block_; }

  static void release(RangesBlock<Ranges>* block, std::size_t n) noexcept {
    // acq_rel: every chunk's reads of the ranges happen before the delete
    // by whichever release is last.
    if (block->refs.fetch_sub(n, std::memory_order_acq_rel) == n) delete block;
  }

 private:
  RangesBlock<Ranges>* block_;
};

// How a chunk hands fn an item it reads in place through an iterator It: a
// const reference to an element (the ranges are shared by every chunk, and
// fn must not change the caller's data), or, where the range computes its
// elements or hands out proxies (std::vector<bool>), the value, as the
// copying path would.
template <class It>
using ItemArg = std::conditional_t<
    std::is_lvalue_reference_v<std::iter_reference_t<It>>,
    const std::remove_reference_t<std::iter_reference_t<It>>&,
    std::iter_value_t<It>>;
template <class Held>
using HeldItemArg = ItemArg<std::ranges::iterator_t<const Held>>;

// One chunk of a map over random-access ranges, [first, last) of their
// common length: fn applied to the items where they are stored. The
// results go to `out`, emptied first: the storage of a chunk the iteration
// has passed, with a buffersize (see MapResults::advance), else a new one.
template <class Fn, class R, class Ranges>
typename futures::MapResults<R>::Chunk run_range_chunk(
    Fn fn, RangesRef<Ranges> ranges, std::size_t first, std::size_t last,
    typename futures::MapResults<R>::Chunk out) {
  out.clear();
  out.reserve(last - first);
  auto its = std::apply(
      [](const auto&... range) {
        return std::make_tuple(std::ranges::begin(range)...);
      },
      *ranges);
  auto call = [&](std::ptrdiff_t at) -> decltype(auto) {
    return std::apply(
        [&](const auto&... it) -> decltype(auto) {
          return std::invoke(
              fn, static_cast<ItemArg<std::remove_cvref_t<decltype(it)>>>(
                      it[at])...);
        },
        its);
  };
  for (std::size_t i = first; i < last; ++i) {
    const auto at = static_cast<std::ptrdiff_t>(i);
    if constexpr (std::is_void_v<R>) {
      call(at);
      out.emplace_back();
    } else {
      out.push_back({call(at)});
    }
  }
  return out;
}

// A container map() reads in place without owning it: const access only.
// (Not std::ranges::ref_view, which clang 14 cannot instantiate over
// libstdc++ 12's ranges.)
template <class Range>
class BorrowedRange {
 public:
  explicit BorrowedRange(const Range& range) noexcept : range_(&range) {}
  auto begin() const { return std::ranges::begin(*range_); }
  auto end() const { return std::ranges::end(*range_); }
  auto size() const { return std::ranges::size(*range_); }

 private:
  const Range* range_;
};

// How map() holds a range it reads in place, as std::views::all would: a
// view as it is, an lvalue container by reference, an rvalue container
// moved in.
template <class Range>
using HeldRange = std::conditional_t<
    std::ranges::view<std::remove_cvref_t<Range>>, std::remove_cvref_t<Range>,
    std::conditional_t<std::is_lvalue_reference_v<Range>,
                       BorrowedRange<std::remove_reference_t<Range>>,
                       std::remove_cvref_t<Range>>>;

template <class Range>
HeldRange<Range> hold(Range&& range) {
  return HeldRange<Range>(std::forward<Range>(range));
}

template <class Range>
concept HeldRandomAccess = std::constructible_from<HeldRange<Range>, Range &&>&&
    std::ranges::random_access_range<const HeldRange<Range>>&&
        std::ranges::sized_range<const HeldRange<Range>>;

// Whether map() can give its chunks index ranges of the ranges as held:
// the executor runs calls in this process (it says so with kSharesMemory),
// and every range, as held, is random access and sized.
template <class Derived, class Fn, class... Ranges>
concept MapsInPlace = requires {
  requires Derived::kSharesMemory;
}
&&(HeldRandomAccess<Ranges>&&...) &&
    std::invocable<Fn&, HeldItemArg<HeldRange<Ranges>>...>;

// Whether a held range refers to storage that map() does not own (all but
// an rvalue container), so that the map's results must not outlive a call
// that may still read it.
template <class Range>
constexpr bool kBorrows = std::is_lvalue_reference_v<Range> ||
                          std::ranges::view<std::remove_cvref_t<Range>>;

// With a timeout: an lvalue container that can be copied is held as a copy,
// any other range as hold() holds it.
template <class Range>
constexpr bool kCopiedUnderTimeout =
    std::is_lvalue_reference_v<Range> &&
    !std::ranges::view<std::remove_cvref_t<Range>> &&
    std::copy_constructible<std::remove_cvref_t<Range>>;

template <class Range>
auto hold_copy(Range&& range) {
  if constexpr (kCopiedUnderTimeout<Range>) {
    return std::remove_cvref_t<Range>(range);
  } else {
    return hold(std::forward<Range>(range));
  }
}
template <class Range>
constexpr bool kBorrowsCopy = kBorrows<Range> && !kCopiedUnderTimeout<Range>;

// The chunks of a map over ranges held in place (see ExecutorBase), made
// one at a time for a map with a buffersize: each takes a reference to the
// held ranges and the index range of its items.
template <class Executor, class Fn, class R, class Ranges>
class InPlaceChunks final : public futures::MapResults<R>::ChunkSource {
 public:
  using Chunk = typename futures::MapResults<R>::Chunk;
  InPlaceChunks(Executor& executor, const Fn& fn, const RangesRef<Ranges>& own,
                std::size_t total, std::size_t chunksize)
      : executor_(executor),
        fn_(fn),
        own_(share(own)),
        total_(total),
        chunksize_(chunksize) {}

  std::optional<futures::Future<Chunk>> next(Chunk spare) override {
    if (first_ >= total_) return std::nullopt;
    const std::size_t last = first_ + std::min(chunksize_, total_ - first_);
    auto chunk = executor_.submit(&run_range_chunk<Fn, R, Ranges>, Fn(fn_),
                                  share(own_), first_, last, std::move(spare));
    first_ = last;
    return chunk;
  }

 private:
  static RangesRef<Ranges> share(const RangesRef<Ranges>& ref) {
    // Relaxed: made from `ref`, which keeps the block alive meanwhile.
    ref.block()->refs.fetch_add(1, std::memory_order_relaxed);
    return RangesRef<Ranges>(ref.block());
  }

  Executor& executor_;
  const Fn fn_;
  const RangesRef<Ranges> own_;
  const std::size_t total_;
  const std::size_t chunksize_;
  std::size_t first_ = 0;
};

// The chunks of a map over any other ranges: each reads the next chunksize
// items, in lockstep, into a vector of tuples (which an executor that runs
// calls elsewhere can send). It holds what it reads from: an lvalue range
// by pointer, an rvalue one moved in (a map with a buffersize reads its
// inputs while the caller iterates, after the call has returned).
template <class Executor, class Fn, class R, class... Ranges>
class InputChunks final : public futures::MapResults<R>::ChunkSource {
 public:
  using Chunk = typename futures::MapResults<R>::Chunk;
  using Item = std::tuple<std::ranges::range_value_t<Ranges>...>;

  InputChunks(Executor& executor, const Fn& fn, std::size_t chunksize,
              Ranges&&... ranges)
      : executor_(executor),
        fn_(fn),
        chunksize_(chunksize),
        kept_(keep(std::forward<Ranges>(ranges))...),
        its_(std::apply(
            [](auto&... k) {
              return std::make_tuple(std::ranges::begin(at(k))...);
            },
            kept_)),
        ends_(std::apply(
            [](auto&... k) {
              return std::make_tuple(std::ranges::end(at(k))...);
            },
            kept_)) {}
  InputChunks(const InputChunks&) = delete;
  InputChunks& operator=(const InputChunks&) = delete;

  // The spare storage is not used: the chunk's results may be made
  // elsewhere (an executor of other processes).
  std::optional<futures::Future<Chunk>> next(Chunk /*spare*/) override {
    std::vector<Item> chunk;
    chunk.reserve(chunksize_);
    while (chunk.size() < chunksize_ && !exhausted(kIndices)) {
      chunk.push_back(take(kIndices));
    }
    if (chunk.empty()) return std::nullopt;
    read_ += chunk.size();
    return executor_.submit(&run_chunk<Fn, Item, R>, Fn(fn_), std::move(chunk));
  }
  // Items read so far.
  std::size_t read() const noexcept { return read_; }

 private:
  template <class Range>
  using Kept = std::conditional_t<std::is_lvalue_reference_v<Range>,
                                  std::remove_reference_t<Range>*,
                                  std::remove_cvref_t<Range>>;
  template <class Range>
  static Kept<Range> keep(Range&& range) {
    if constexpr (std::is_lvalue_reference_v<Range>) {
      return &range;
    } else {
      return std::forward<Range>(range);  // an rvalue: moved in
    }
  }
  template <class K>
  static auto& at(K& kept) {
    if constexpr (std::is_pointer_v<K>) {
      return *kept;
    } else {
      return kept;
    }
  }
  static constexpr auto kIndices = std::index_sequence_for<Ranges...>{};
  template <std::size_t... I>
  bool exhausted(std::index_sequence<I...>) const {
    return ((std::get<I>(its_) == std::get<I>(ends_)) || ...);
  }
  template <std::size_t... I>
  Item take(std::index_sequence<I...>) {
    Item item(*std::get<I>(its_)...);
    (++std::get<I>(its_), ...);
    return item;
  }

  Executor& executor_;
  const Fn fn_;
  const std::size_t chunksize_;
  std::size_t read_ = 0;
  // Never moved (the object lives on the heap or on the stack of map()),
  // so the iterators into owned ranges stay valid.
  std::tuple<Kept<Ranges>...> kept_;
  std::tuple<decltype(std::ranges::begin(at(std::declval<Kept<Ranges>&>())))...>
      its_;
  std::tuple<decltype(std::ranges::end(at(std::declval<Kept<Ranges>&>())))...>
      ends_;
};

}  // namespace concur::futures_detail

namespace concur::futures {

// ---------------------------------------------------------------------------
// ExecutorBase::map

template <class Derived>
template <class F, class... Args>
auto ExecutorBase<Derived>::map(F&& fn, Args&&... args) {
  if constexpr (sizeof...(Args) > 0 &&
                std::is_same_v<
                    std::decay_t<decltype(std::get<sizeof...(Args) - 1>(
                        std::declval<std::tuple<Args...>>()))>,
                    MapOptions>) {
    auto all = std::forward_as_tuple(std::forward<Args>(args)...);
    return [&]<std::size_t... I>(std::index_sequence<I...>) {
      return map_ranges(std::get<sizeof...(Args) - 1>(all), fn,
                        std::get<I>(std::move(all))...);
    }
    (std::make_index_sequence<sizeof...(Args) - 1>{});
  } else {
    return map_ranges(MapOptions{}, fn, std::forward<Args>(args)...);
  }
}

template <class Derived>
template <class F, class... Ranges>
auto ExecutorBase<Derived>::map_ranges(const MapOptions& options, F& fn,
                                       Ranges&&... ranges) {
  static_assert(sizeof...(Ranges) > 0, "map needs at least one range");
  using Fn = std::decay_t<F>;
  if (options.chunksize < 1) throw ValueError("chunksize must be >= 1");
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
  // Tasks in flight at most; 0 for no limit. (GCC 12 with the sanitizers
  // takes the read of the optional, from MapOptions{}, for a read of
  // uninitialized memory: a false positive, silenced for these lines.)
  std::size_t window = 0;
  if (options.buffersize) {
    if (*options.buffersize < 1) {
      throw ValueError("buffersize must be None or > 0");
    }
    window = static_cast<std::size_t>(*options.buffersize);
  }
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
  std::optional<sys::Deadline> deadline;
  if (options.timeout) deadline = sys::Deadline::after(*options.timeout);
  const auto chunksize = static_cast<std::size_t>(options.chunksize);
  Derived& executor = static_cast<Derived&>(*this);
  auto progress = [&](std::size_t total) {
    return concur::detail::ProgressBar::make(options.progress, total, "map");
  };

  if constexpr (futures_detail::MapsInPlace<Derived, Fn, Ranges...>) {
    // The ranges are held once and each chunk reads its items from there:
    // the caller builds nothing per item.
    auto in_place = [&](bool borrowed, auto&&... held) {
      using Stored = std::tuple<std::remove_cvref_t<decltype(held)>...>;
      using R = std::invoke_result_t<
          Fn&,
          futures_detail::HeldItemArg<std::remove_cvref_t<decltype(held)>>...>;
      using futures_detail::RangesBlock;
      using futures_detail::RangesRef;
      const RangesRef<Stored> own(
          new RangesBlock<Stored>(std::forward<decltype(held)>(held)...));
      const std::size_t total = std::apply(
          [](const auto&... range) {
            return std::min(
                {static_cast<std::size_t>(std::ranges::size(range))...});
          },
          *own);
      if (window != 0) {
        using Source = futures_detail::InPlaceChunks<Derived, Fn, R, Stored>;
        return MapResults<R>::buffered(
            std::make_unique<Source>(executor, fn, own, total, chunksize),
            window, deadline, progress(total), total, borrowed);
      }
      const std::size_t count = (total + chunksize - 1) / chunksize;
      std::vector<Future<typename MapResults<R>::Chunk>> chunks;
      chunks.reserve(count);
      // Relaxed: made from `own`, which keeps the block alive meanwhile.
      own.block()->refs.fetch_add(count, std::memory_order_relaxed);
      // The references not handed out (a submit threw) go back at the end.
      struct Unhanded {
        RangesBlock<Stored>* block;
        std::size_t left;
        ~Unhanded() {
          if (left != 0) RangesRef<Stored>::release(block, left);
        }
      } unhanded{own.block(), count};
      for (std::size_t first = 0; first < total; first += chunksize) {
        const std::size_t last = first + std::min(chunksize, total - first);
        RangesRef<Stored> ref(own.block());
        --unhanded.left;
        chunks.push_back(executor.submit(
            &futures_detail::run_range_chunk<Fn, R, Stored>, Fn(fn),
            std::move(ref), first, last, typename MapResults<R>::Chunk{}));
      }
      return MapResults<R>(std::move(chunks), deadline, progress(total), total,
                           borrowed);
    };
    // With a timeout the caller may give up on running calls, which must
    // then not read its containers: those are copied (where they can be).
    if (options.timeout) {
      return in_place(
          (futures_detail::kBorrowsCopy<Ranges> || ...),
          futures_detail::hold_copy(std::forward<Ranges>(ranges))...);
    }
    return in_place((futures_detail::kBorrows<Ranges> || ...),
                    futures_detail::hold(std::forward<Ranges>(ranges))...);
  } else {
    // Any other range is read in chunks of items copied into vectors (see
    // InputChunks): all of it here, or with a buffersize, a chunk at a time
    // as the iteration goes.
    using R = std::invoke_result_t<Fn&, std::ranges::range_value_t<Ranges>&...>;
    using Source = futures_detail::InputChunks<Derived, Fn, R, Ranges...>;
    if (window != 0) {
      std::size_t total = 0;  // unknown, unless every range is sized
      if constexpr ((std::ranges::sized_range<Ranges> && ...)) {
        total =
            std::min({static_cast<std::size_t>(std::ranges::size(ranges))...});
      }
      return MapResults<R>::buffered(
          std::make_unique<Source>(executor, fn, chunksize,
                                   std::forward<Ranges>(ranges)...),
          window, deadline, progress(total), total, false);
    }
    Source source(executor, fn, chunksize, std::forward<Ranges>(ranges)...);
    std::vector<Future<typename MapResults<R>::Chunk>> chunks;
    while (auto chunk = source.next({})) chunks.push_back(std::move(*chunk));
    return MapResults<R>(std::move(chunks), deadline, progress(source.read()),
                         source.read());
  }
}

// ---------------------------------------------------------------------------
// MapResults

template <class R>
MapResults<R>::MapResults(std::vector<Future<Chunk>> chunks,
                          std::optional<sys::Deadline> deadline,
                          std::unique_ptr<concur::detail::ProgressBar> progress,
                          std::size_t total, bool borrowed,
                          std::unique_ptr<ChunkSource> source)
    : chunks_(std::make_move_iterator(chunks.begin()),
              std::make_move_iterator(chunks.end())),
      source_(std::move(source)),
      deadline_(deadline),
      progress_(std::move(progress)),
      total_(total),
      borrowed_(borrowed) {}

template <class R>
MapResults<R> MapResults<R>::buffered(
    std::unique_ptr<ChunkSource> source, std::size_t window,
    std::optional<sys::Deadline> deadline,
    std::unique_ptr<concur::detail::ProgressBar> progress, std::size_t total,
    bool borrowed) {
  MapResults results({}, deadline, std::move(progress), total, borrowed,
                     std::move(source));
  results.window_ = window;
  // Filled once constructed, so that a submit that throws leaves a whole
  // object, whose destructor waits for the borrowing calls already made.
  results.refill();
  return results;
}

template <class R>
void MapResults<R>::refill() {
  while (source_ && chunks_.size() < window_) {
    if (auto chunk = source_->next(std::move(spare_))) {
      chunks_.push_back(std::move(*chunk));
    } else {
      source_.reset();
    }
  }
}

template <class R>
MapResults<R>::~MapResults() {
  if (started_) cancel_rest();
  settle();
}

template <class R>
void MapResults<R>::settle() noexcept {
  if (!borrowed_) return;
  // The calls read the caller's ranges: none may outlive this object. A
  // worker that waits here runs other tasks meanwhile.
  for (auto& chunk : chunks_) {
    futures_detail::wait_for_state(futures_detail::FutureAccess::state(chunk),
                                   sys::Deadline::never());
  }
}

template <class R>
void MapResults<R>::wait_current() {
  try {
    if (deadline_) {
      chunks_.front().result(deadline_->remaining());
    } else {
      chunks_.front().result();
    }
  } catch (...) {
    // As closing Python's map generator does: the rest will not be wanted.
    source_.reset();
    cancel_rest();
    settle();
    chunks_.clear();
    throw;
  }
  block_ =
      &futures_detail::FutureAccess::state(chunks_.front()).mutable_value();
}

template <class R>
auto MapResults<R>::current() -> Stored& {
  if (block_ == nullptr) wait_current();
  return (*block_)[item_].value;
}

template <class R>
void MapResults<R>::advance() {
  if (block_ == nullptr) wait_current();
  if (progress_) progress_->update(++done_);
  if (++item_ == block_->size()) {
    // With a buffersize, the passed chunk's storage goes to the next chunk
    // submitted: hot in cache, and never handed back to the allocator,
    // which (glibc's, freeing on another thread than the one that
    // allocated) returns such blocks to the kernel, so that every new one
    // is page-faulted in again.
    if (source_) spare_ = std::move(*block_);
    chunks_.pop_front();
    block_ = nullptr;
    item_ = 0;
    refill();
  }
}

template <class R>
void MapResults<R>::cancel_rest() noexcept {
  for (auto& chunk : chunks_) chunk.cancel();
}

// ---------------------------------------------------------------------------
// as_completed

// Collects the futures that complete, for the iterating thread to pick up.
// A future reports to it once, under the future's listener lock; the report
// is finished, signal included, before take() can see it, so a future that
// take() returned never touches the waiter again.
template <class T>
class AsCompleted<T>::Waiter final : public futures_detail::CompletionWaiter {
 public:
  void on_done(futures_detail::StateBase&, std::size_t index) override {
    concur::ScopedLock guard(mu_);
    finished_.push_back(index);
    signal_.set();
  }
  std::vector<std::size_t> take() {
    concur::ScopedLock guard(mu_);
    // Cleared under the lock that on_done sets it under, so no completion
    // is missed between the take and the next wait.
    signal_.clear();
    return std::exchange(finished_, {});
  }
  bool wait_until(const sys::Deadline& deadline) {
    return signal_.wait_until(deadline);
  }

 private:
  threading::Lock mu_;
  std::vector<std::size_t> finished_ CONCUR_GUARDED_BY(mu_);
  futures_detail::Signal signal_;
};

template <class T>
template <class Range>
AsCompleted<T>::AsCompleted(const Range& futures,
                            const AsCompletedOptions& options)
    : waiter_(std::make_unique<Waiter>()) {
  if (options.timeout) deadline_ = sys::Deadline::after(*options.timeout);
  // Each future once, in input order: those done already go straight to
  // ready_, with no registration; the others are watched.
  std::vector<Future<T>> given;
  if constexpr (std::ranges::sized_range<Range>) {
    given.reserve(std::ranges::size(futures));
  }
  for (const Future<T>& f : futures) given.push_back(f);
  concur::detail::PointerSet seen(given.size());
  for (Future<T>& f : given) {
    if (!seen.insert(f.id())) continue;
    ++total_;
    if (f.done()) {
      ready_.push_back(std::move(f));
    } else {
      watched_.push_back(std::move(f));
    }
  }
  progress_ = concur::detail::ProgressBar::make(options.progress, total_,
                                                "as_completed");
  // Sized once, so the links never move while linked.
  links_.resize(watched_.size());
  try {
    for (std::size_t i = 0; i < watched_.size(); ++i) {
      links_[i].waiter = waiter_.get();
      links_[i].index = i;
      if (futures_detail::FutureAccess::state(watched_[i])
              .add_waiter(links_[i])) {
        ++unreported_;
      } else {
        ready_.push_back(std::move(watched_[i]));  // done since the scan
      }
    }
  } catch (...) {
    unlink();
    throw;
  }
}

template <class T>
void AsCompleted<T>::unlink() noexcept {
  // Removing a link takes the future's listener lock, under which a
  // completing future reports, so no report is still inside the waiter
  // once this returns. (Removing a link that has reported, or was never
  // linked, does nothing.)
  for (std::size_t i = 0; i < watched_.size(); ++i) {
    if (watched_[i].id() != nullptr) {
      futures_detail::FutureAccess::state(watched_[i]).remove_waiter(links_[i]);
    }
  }
}

template <class T>
AsCompleted<T>::~AsCompleted() {
  if (waiter_) unlink();  // else moved from
}

template <class T>
void AsCompleted<T>::advance() {
  started_ = true;
  // The future yielded last is let go here, before waiting for the next.
  current_.reset();
  while (ready_.empty() && unreported_ != 0) {
    for (std::size_t index : waiter_->take()) {
      ready_.push_back(std::move(watched_[index]));  // leaves a null handle
      --unreported_;
    }
    if (!ready_.empty()) break;
    if (!waiter_->wait_until(deadline_ ? *deadline_ : sys::Deadline::never())) {
      futures_detail::throw_timeout(std::to_string(unreported_) + " (of " +
                                    std::to_string(total_) +
                                    ") futures unfinished");
    }
  }
  if (ready_.empty()) return;
  current_ = std::move(ready_.front());
  ready_.pop_front();
  if (progress_) progress_->update(++yielded_);
}

}  // namespace concur::futures
