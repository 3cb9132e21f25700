// Out-of-line template bodies of <concur/futures.hpp>: map() and
// as_completed(). Included at the end of that header; not for direct use.
#pragma once

#include <deque>
#include <unordered_map>

#include "concur/detail/progress_bar.hpp"
#include "concur/futures.hpp"

namespace concur::futures {

// ---------------------------------------------------------------------------
// ThreadPoolExecutor::map

template <class F, class... Ranges>
auto ThreadPoolExecutor::map_ranges(const MapOptions& options, F& fn,
                                    Ranges&&... ranges) {
  static_assert(sizeof...(Ranges) > 0, "map needs at least one range");
  using Item = std::tuple<std::ranges::range_value_t<Ranges>...>;
  using R = std::invoke_result_t<F&, std::ranges::range_value_t<Ranges>&...>;
  using Stored = detail::Stored<R>;
  if (options.chunksize == 0) throw ValueError("chunksize must be >= 1");
  std::optional<detail::Deadline> deadline;
  if (options.timeout) deadline = detail::Deadline::after(*options.timeout);

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

  std::vector<Future<std::vector<Stored>>> chunks;
  std::size_t total = 0;
  while (!exhausted(kIndices)) {
    std::vector<Item> chunk;
    chunk.reserve(options.chunksize);
    while (chunk.size() < options.chunksize && !exhausted(kIndices)) {
      chunk.push_back(take(kIndices));
    }
    total += chunk.size();
    chunks.push_back(submit([fn, chunk = std::move(chunk)]() mutable {
      std::vector<Stored> out;
      out.reserve(chunk.size());
      for (auto& item : chunk) {
        if constexpr (std::is_void_v<R>) {
          std::apply(fn, item);
          out.emplace_back();
        } else {
          out.push_back(std::apply(fn, item));
        }
      }
      return out;
    }));
  }
  return MapResults<R>(
      std::move(chunks), deadline,
      detail::ProgressBar::make(options.progress, total, "map"), total);
}

template <class R>
MapResults<R>::MapResults(std::vector<Future<std::vector<Stored>>> chunks,
                          std::optional<detail::Deadline> deadline,
                          std::unique_ptr<detail::ProgressBar> progress,
                          std::size_t total)
    : chunks_(std::move(chunks)),
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
      chunks_[chunk_].result(deadline_->remaining());
    } else {
      chunks_[chunk_].result();
    }
  } catch (...) {
    // As closing Python's map generator does: the rest will not be wanted.
    cancel_rest();
    chunk_ = chunks_.size();
    throw;
  }
}

template <class R>
auto MapResults<R>::current() -> Stored {
  wait_current();
  return std::move(
      detail::FutureAccess::state(chunks_[chunk_]).mutable_value()[item_]);
}

template <class R>
void MapResults<R>::advance() {
  wait_current();
  if (progress_) progress_->update(++done_);
  if (++item_ ==
      detail::FutureAccess::state(chunks_[chunk_]).mutable_value().size()) {
    ++chunk_;
    item_ = 0;
  }
}

template <class R>
void MapResults<R>::cancel_rest() noexcept {
  for (std::size_t i = chunk_; i < chunks_.size(); ++i) chunks_[i].cancel();
}

// ---------------------------------------------------------------------------
// as_completed

// Collects the futures that complete, for the iterating thread to pick up.
template <class T>
class AsCompleted<T>::Waiter final : public detail::CompletionWaiter {
 public:
  void on_done(detail::StateBase& state) override {
    {
      concur::detail::ScopedLock guard(mu_);
      finished_.push_back(&state);
    }
    event_.set();
  }
  std::vector<detail::StateBase*> take() {
    concur::detail::ScopedLock guard(mu_);
    // Cleared under the lock that on_done sets it after, so no completion
    // is missed between the take and the next wait.
    event_.clear();
    return std::exchange(finished_, {});
  }
  bool wait_until(const detail::Deadline& deadline) {
    return event_.wait_until(deadline);
  }

 private:
  threading::Lock mu_;
  std::vector<detail::StateBase*> finished_ CONCUR_GUARDED_BY(mu_);
  detail::Signal event_;
};

template <class T>
template <class Range>
AsCompleted<T>::AsCompleted(const Range& futures,
                            const AsCompletedOptions& options)
    : waiter_(std::make_unique<Waiter>()) {
  if (options.timeout) deadline_ = detail::Deadline::after(*options.timeout);
  for (const Future<T>& f : futures) {
    auto& state = detail::FutureAccess::state(f);
    if (pending_.contains(&state) ||
        std::find(ready_.begin(), ready_.end(), f) != ready_.end()) {
      continue;
    }
    ++total_;
    if (state.add_waiter(*waiter_)) {
      pending_.emplace(&state, f);
      registered_.push_back(f);
    } else {
      ready_.push_back(f);
    }
  }
  progress_ =
      detail::ProgressBar::make(options.progress, total_, "as_completed");
}

template <class T>
AsCompleted<T>::~AsCompleted() {
  if (!waiter_) return;  // moved from
  // Every future the waiter was given to, finished or not: removing it
  // takes the future's lock, under which a completing future runs
  // on_done, so no completion is still inside the waiter when it dies.
  for (auto& f : registered_) {
    detail::FutureAccess::state(f).remove_waiter(*waiter_);
  }
}

template <class T>
void AsCompleted<T>::advance() {
  started_ = true;
  while (ready_.empty() && !pending_.empty()) {
    for (detail::StateBase* state : waiter_->take()) {
      auto it = pending_.find(state);
      if (it == pending_.end()) continue;
      ready_.push_back(std::move(it->second));
      pending_.erase(it);
    }
    if (!ready_.empty()) break;
    if (!waiter_->wait_until(deadline_ ? *deadline_
                                       : detail::Deadline::never())) {
      detail::throw_timeout(std::to_string(pending_.size()) + " (of " +
                            std::to_string(total_) + ") futures unfinished");
    }
  }
  if (ready_.empty()) {
    current_.reset();
    return;
  }
  current_ = std::move(ready_.front());
  ready_.pop_front();
  if (progress_) progress_->update(++yielded_);
}

}  // namespace concur::futures
