#include <cstddef>
#include <vector>

#include "concur/futures.hpp"

namespace concur::futures_detail {

using futures::ReturnWhen;

bool failed(StateBase& state) {
  return state.state() == StateBase::kFinished &&
         state.error_after_done() != nullptr;
}

namespace {

// Python's _FirstCompletedWaiter and _FirstExceptionWaiter in one: counts the
// completions it is told of and sets its signal once `when` holds.
class FirstWaiter final : public CompletionWaiter {
 public:
  FirstWaiter(ReturnWhen when, std::size_t pending)
      : when_(when), pending_(pending) {}

  void on_done(StateBase& state, std::size_t) override {
    bool enough = false;
    {
      concur::ScopedLock guard(mu_);
      --pending_;
      // Called with the state done: reading its error is safe.
      enough = when_ == ReturnWhen::FIRST_COMPLETED || pending_ == 0 ||
               failed(state);
    }
    if (enough) signal_.set();
  }
  bool wait_until(const Deadline& deadline) {
    return signal_.wait_until(deadline);
  }

 private:
  const ReturnWhen when_;
  threading::Lock mu_;
  std::size_t pending_ CONCUR_GUARDED_BY(mu_);
  Signal signal_;
};

}  // namespace

void wait_first(const std::vector<StateBase*>& pending, ReturnWhen when,
                const Deadline& deadline) {
  FirstWaiter waiter(when, pending.size());
  // links[i] is linked into states[i]; each is unlinked before the waiter
  // dies.
  struct Registered {
    std::vector<ListenerLink> links;
    std::vector<StateBase*> states;
    ~Registered() {
      for (std::size_t i = 0; i < states.size(); ++i) {
        states[i]->remove_waiter(links[i]);
      }
    }
  } registered{std::vector<ListenerLink>(pending.size()), {}};
  registered.states.reserve(pending.size());
  for (StateBase* s : pending) {
    ListenerLink& link = registered.links[registered.states.size()];
    link.waiter = &waiter;
    if (s->add_waiter(link)) {
      registered.states.push_back(s);
    } else {
      waiter.on_done(*s, 0);  // done since the scan; its link is reused
    }
  }
  waiter.wait_until(deadline);
}

}  // namespace concur::futures_detail
