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
                        std::get<I>(all)...);
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
  using Item = std::tuple<std::ranges::range_value_t<Ranges>...>;
  using R = std::invoke_result_t<Fn&, std::ranges::range_value_t<Ranges>&...>;
  if (options.chunksize < 1) throw ValueError("chunksize must be >= 1");
  std::optional<sys::Deadline> deadline;
  if (options.timeout) deadline = sys::Deadline::after(*options.timeout);
  const auto chunksize = static_cast<std::size_t>(options.chunksize);

  auto its = std::make_tuple(std::ranges::begin(ranges)...);
  auto ends = std::make_tuple(std::ranges::end(ranges)...);
  constexpr auto kIndices = std::index_sequence_for<Ranges...>{};
  auto exhausted = [&]<std::size_t... I>(std::index_sequence<I...>) {
    return ((std::get<I>(its) == std::get<I>(ends)) || ...);
  };
  auto take = [&]<std::size_t... I>(std::index_sequence<I...>) {
    Item item(*std::get<I>(its)...);
    (++std::get<I>(its), ...);
    return item;
  };

  Derived& executor = static_cast<Derived&>(*this);
  std::vector<Future<typename MapResults<R>::Chunk>> chunks;
  std::size_t total = 0;
  while (!exhausted(kIndices)) {
    std::vector<Item> chunk;
    chunk.reserve(chunksize);
    while (chunk.size() < chunksize && !exhausted(kIndices)) {
      chunk.push_back(take(kIndices));
    }
    total += chunk.size();
    chunks.push_back(executor.submit(&futures_detail::run_chunk<Fn, Item, R>,
                                     Fn(fn), std::move(chunk)));
  }
  return MapResults<R>(
      std::move(chunks), deadline,
      concur::detail::ProgressBar::make(options.progress, total, "map"), total);
}

// ---------------------------------------------------------------------------
// MapResults

template <class R>
MapResults<R>::MapResults(std::vector<Future<Chunk>> chunks,
                          std::optional<sys::Deadline> deadline,
                          std::unique_ptr<concur::detail::ProgressBar> progress,
                          std::size_t total)
    : chunks_(std::make_move_iterator(chunks.begin()),
              std::make_move_iterator(chunks.end())),
      deadline_(deadline),
      progress_(std::move(progress)),
      total_(total) {}

template <class R>
MapResults<R>::~MapResults() {
  if (started_) cancel_rest();
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
    cancel_rest();
    chunks_.clear();
    throw;
  }
}

template <class R>
auto MapResults<R>::current() -> Stored& {
  wait_current();
  return futures_detail::FutureAccess::state(chunks_.front())
      .mutable_value()[item_]
      .value;
}

template <class R>
void MapResults<R>::advance() {
  wait_current();
  if (progress_) progress_->update(++done_);
  if (++item_ == futures_detail::FutureAccess::state(chunks_.front())
                     .mutable_value()
                     .size()) {
    chunks_.pop_front();
    item_ = 0;
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
    concur::detail::ScopedLock guard(mu_);
    finished_.push_back(index);
    signal_.set();
  }
  std::vector<std::size_t> take() {
    concur::detail::ScopedLock guard(mu_);
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
