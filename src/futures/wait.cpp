#include <vector>

#include "concur/futures.hpp"

namespace concur::futures_detail {

using futures::ReturnWhen;

namespace {

// Python's _FirstCompletedWaiter / _AllCompletedWaiter in one: counts the
// completions it is told of and sets its event once `when` holds.
class MultiWaiter final : public CompletionWaiter {
 public:
  MultiWaiter(ReturnWhen when, std::size_t pending)
      : when_(when), pending_(pending) {}

  void on_done(StateBase& state) override {
    bool enough = false;
    {
      concur::detail::ScopedLock guard(mu_);
      --pending_;
      switch (when_) {
        case ReturnWhen::FIRST_COMPLETED:
          enough = true;
          break;
        case ReturnWhen::FIRST_EXCEPTION:
          // Called with the state finished: reading its error is safe.
          enough = pending_ == 0 ||
                   (state.state() == StateBase::kFinished && failed(state));
          break;
        case ReturnWhen::ALL_COMPLETED:
          enough = pending_ == 0;
          break;
      }
    }
    if (enough) event_.set();
  }
  bool wait_until(const Deadline& deadline) {
    return event_.wait_until(deadline);
  }

  static bool failed(StateBase& state) {
    return state.state() == StateBase::kFinished &&
           state.error_after_done() != nullptr;
  }

 private:
  const ReturnWhen when_;
  threading::Lock mu_;
  std::size_t pending_ CONCUR_GUARDED_BY(mu_);
  Signal event_;
};

}  // namespace

void wait_states(const std::vector<StateBase*>& states, ReturnWhen when,
                 const Deadline& deadline) {
  // One pass: a state either takes the waiter (and reports to it when it
  // completes) or is done already and is reported here. Counting done
  // states in a separate pass first would miss those that complete between
  // the two passes.
  MultiWaiter waiter(when, states.size());
  // Every state that took the waiter gives it back before it dies, also
  // when a registration throws.
  struct Registered {
    MultiWaiter& waiter;
    std::vector<StateBase*> states;
    ~Registered() {
      for (StateBase* s : states) s->remove_waiter(waiter);
    }
  } registered{waiter, {}};
  registered.states.reserve(states.size());
  for (StateBase* s : states) {
    if (s->add_waiter(waiter)) {
      registered.states.push_back(s);
    } else {
      waiter.on_done(*s);
    }
  }
  if (!states.empty()) waiter.wait_until(deadline);
}

}  // namespace concur::futures_detail
