// The event loop: the ready ring, the timer heap, epoll, and the queue of
// callbacks from other threads.
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <limits>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "asyncio/loop_registry.hpp"
#include "common/exception_type.hpp"
#include "common/fork.hpp"
#include "concur/asyncio/events.hpp"
#include "concur/futures.hpp"
#include "sys/fd.hpp"

namespace concur::asyncio_detail {

namespace {

// The running loop of this thread (Python's _get_running_loop()).
constinit thread_local asyncio::EventLoop* tls_running_loop = nullptr;
// This thread's default loop (get_event_loop()).
thread_local std::unique_ptr<asyncio::EventLoop> tls_default_loop;

// A forked child starts with no running loop, as Python's: the parent's
// loops share their epoll and eventfd with the parent, so the child must
// never run them (nor close them: their objects are left to the child's
// exit).
void forget_loops_in_child() {
  tls_running_loop = nullptr;
  tls_current_task = nullptr;
  (void)tls_default_loop.release();
}

using Clock = std::chrono::steady_clock;

struct Timer {
  Clock::time_point when;
  std::uint64_t seq;
  HandleBase* handle;
};
// std::push_heap keeps the greatest first: "greater" puts the earliest
// (and, among equal times, the first scheduled) on top.
struct Later {
  bool operator()(const Timer& a, const Timer& b) const noexcept {
    return a.when != b.when ? a.when > b.when : a.seq > b.seq;
  }
};

}  // namespace

// Callbacks from other threads, and the eventfd that wakes the loop for
// them. Shared with whoever may post after the loop is gone (a pool
// finishing a wrapped future): a closed inbox refuses, and its descriptor
// stays open until the last holder lets go.
struct ThreadsafeInbox {
  sys::FileDescriptor wake;
  // Both under `mutex`; `signalled` (the eventfd has been written since the
  // loop last took the callbacks) is also read without it, as a hint.
  std::mutex mutex;
  std::vector<HandleBase*> callbacks;
  std::atomic<bool> signalled{false};
  bool refusing = false;

  // Adopts one reference to h; false (and h released) once closed.
  bool push(HandleBase* h) {
    bool write = false;
    {
      std::lock_guard lock(mutex);
      if (refusing) {
        h->release();
        return false;
      }
      callbacks.push_back(h);
      write = !signalled.exchange(true, std::memory_order_relaxed);
    }
    if (write) {
      const std::uint64_t one = 1;
      (void)!::write(wake.get(), &one, sizeof one);
    }
    return true;
  }
};

bool post_threadsafe(const std::shared_ptr<ThreadsafeInbox>& inbox,
                     HandleBase* h) {
  return inbox->push(h);
}

struct LoopImpl {
  sys::FileDescriptor epoll;
  std::shared_ptr<ThreadsafeInbox> inbox = std::make_shared<ThreadsafeInbox>();

  std::vector<Timer> timers;
  std::uint64_t timer_seq = 0;
  std::size_t cancelled_timers = 0;

  struct Watch {
    HandleBase* reader = nullptr;
    HandleBase* writer = nullptr;
  };
  std::unordered_map<int, Watch> watches;
  std::vector<epoll_event> events = std::vector<epoll_event>(128);

  asyncio::EventLoop::ExceptionHandler handler;
  std::unique_ptr<futures::ThreadPoolExecutor> executor;
  std::exception_ptr exit;  // a SystemExit raised by a callback
};

namespace {
std::mutex& registry_mutex() {
  static std::mutex m;
  return m;
}
std::vector<const asyncio::EventLoop*>& registry() {
  static std::vector<const asyncio::EventLoop*> loops;
  return loops;
}
}  // namespace

void register_loop(const asyncio::EventLoop* loop) {
  std::lock_guard lock(registry_mutex());
  registry().push_back(loop);
}

void unregister_loop(const asyncio::EventLoop* loop) noexcept {
  std::lock_guard lock(registry_mutex());
  auto& loops = registry();
  loops.erase(std::remove(loops.begin(), loops.end(), loop), loops.end());
}

bool loop_alive(const asyncio::EventLoop* loop) noexcept {
  if (loop == nullptr) return false;
  std::lock_guard lock(registry_mutex());
  const auto& loops = registry();
  return std::find(loops.begin(), loops.end(), loop) != loops.end();
}

void report_to_loop(asyncio::EventLoop* loop, const char* message,
                    std::exception_ptr error, const std::string& object) {
  if (loop_alive(loop)) {
    loop->call_exception_handler({message, std::move(error), object});
    return;
  }
  asyncio::EventLoop::print_report({message, std::move(error), object});
}

void ReadyRing::grow() {
  std::vector<Ready> bigger(slots_.empty() ? 1024 : slots_.size() * 2);
  const std::size_t n = size();
  for (std::size_t i = 0; i < n; ++i) bigger[i] = pop();
  slots_ = std::move(bigger);
  head_ = 0;
  tail_ = n;
}

void HandleBase::cancel() noexcept {
  if (cancelled_.exchange(true, std::memory_order_acq_rel)) return;
  if (in_heap_ && loop_ != nullptr) loop_->timer_cancelled();
}

void HandleBase::run_entry(void* self) noexcept {
  auto* h = static_cast<HandleBase*>(self);
  if (!h->cancelled()) {
    try {
      h->run();
    } catch (const SystemExit&) {
      if (h->loop_ != nullptr) h->loop_->impl_->exit = std::current_exception();
    } catch (...) {
      if (h->loop_ != nullptr) {
        h->loop_->call_exception_handler(
            {"Exception in callback", std::current_exception(), "<Handle>"});
      }
    }
  }
  h->release();
}

}  // namespace concur::asyncio_detail

namespace concur::asyncio {

using asyncio_detail::HandleBase;
using asyncio_detail::LoopImpl;
using asyncio_detail::tls_running_loop;

double Handle::when() const noexcept {
  if (h_ == nullptr || h_->when() == HandleBase::Clock::time_point{}) return 0;
  return std::chrono::duration<double>(h_->when().time_since_epoch()).count();
}

EventLoop::EventLoop() : impl_(std::make_unique<LoopImpl>()) {
  const int ep = ::epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) throw_os_error(errno);
  impl_->epoll.reset(ep);
  const int ev = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (ev < 0) throw_os_error(errno);
  impl_->inbox->wake.reset(ev);
  epoll_event e{};
  e.events = EPOLLIN;
  e.data.fd = ev;
  if (::epoll_ctl(ep, EPOLL_CTL_ADD, ev, &e) != 0) throw_os_error(errno);
  asyncio_detail::register_loop(this);
  static std::once_flag fork_handlers;
  std::call_once(fork_handlers, [] {
    detail::at_fork(detail::ForkOrder::kAsyncio,
                    {nullptr, nullptr, &asyncio_detail::forget_loops_in_child});
  });
}

EventLoop::~EventLoop() {
  if (owner_.load(std::memory_order_relaxed) != nullptr) {
    std::fputs("concur: an asyncio EventLoop was destroyed while running\n",
               stderr);
    std::terminate();
  }
  try {
    close();
  } catch (...) {
    // close() of a loop that is not running only fails in the executor's
    // shutdown, which has reported its own error.
  }
  asyncio_detail::unregister_loop(this);
}

void EventLoop::wrong_thread() {
  throw RuntimeError(
      "Non-thread-safe operation invoked on an event loop other than the "
      "current one");
}

bool EventLoop::is_running() const noexcept {
  return owner_.load(std::memory_order_relaxed) != nullptr;
}
bool EventLoop::is_closed() const noexcept { return closed_; }
void EventLoop::stop() noexcept { stopping_ = true; }
std::size_t EventLoop::task_count() const noexcept { return task_count_; }

double EventLoop::time() const noexcept {
  return std::chrono::duration<double>(Clock::now().time_since_epoch()).count();
}

EventLoop::Clock::time_point EventLoop::time_point_of(double when) noexcept {
  using Seconds = std::chrono::duration<double>;
  const double now = Seconds(Clock::now().time_since_epoch()).count();
  const double cap = now + Seconds(sys::kMaxTimeout).count();
  if (std::isnan(when) || when > cap) when = cap;
  if (when < 0) when = 0;
  return Clock::time_point(
      std::chrono::duration_cast<Clock::duration>(Seconds(when)));
}

void EventLoop::run_forever() {
  check_thread();
  if (closed_) throw RuntimeError("Event loop is closed");
  if (is_running()) throw RuntimeError("This event loop is already running");
  if (tls_running_loop != nullptr) {
    throw RuntimeError(
        "Cannot run the event loop while another loop is running");
  }
  owner_.store(&tls_thread_tag, std::memory_order_relaxed);
  tls_running_loop = this;
  struct Leave {
    EventLoop* loop;
    ~Leave() {
      loop->stopping_ = false;
      loop->owner_.store(nullptr, std::memory_order_relaxed);
      tls_running_loop = nullptr;
    }
  } leave{this};
  for (;;) {
    run_once();
    if (impl_->exit != nullptr)
      std::rethrow_exception(std::exchange(impl_->exit, nullptr));
    if (stopping_) break;
  }
}

void EventLoop::run_once() {
  LoopImpl& impl = *impl_;
  // A relaxed hint: a callback queued after this read also writes the
  // eventfd (signalled was false), so epoll reports it on a later pass.
  asyncio_detail::ThreadsafeInbox& inbox = *impl.inbox;
  if (inbox.signalled.load(std::memory_order_relaxed)) {
    std::vector<HandleBase*> taken;
    {
      std::lock_guard lock(inbox.mutex);
      taken.swap(inbox.callbacks);
      inbox.signalled.store(false, std::memory_order_relaxed);
    }
    for (HandleBase* h : taken) {
      h->loop_ = this;
      ready_.push({&HandleBase::run_entry, h});
    }
  }

  int timeout_ms = -1;
  if (!ready_.empty() || stopping_) {
    timeout_ms = 0;
  } else if (!impl.timers.empty()) {
    const auto left = impl.timers.front().when - Clock::now();
    const auto ms = std::chrono::ceil<std::chrono::milliseconds>(left).count();
    timeout_ms = ms <= 0 ? 0
                 : ms >= std::numeric_limits<int>::max()
                     ? std::numeric_limits<int>::max()
                     : static_cast<int>(ms);
  }
  // With nothing to watch but the eventfd and work at hand, skip the
  // system call: the eventfd's hint above stands in for it.
  if (timeout_ms != 0 || !impl.watches.empty()) {
    const int n =
        ::epoll_wait(impl.epoll.get(), impl.events.data(),
                     static_cast<int>(impl.events.size()), timeout_ms);
    if (n < 0 && errno != EINTR) throw_os_error(errno);
    for (int i = 0; i < n; ++i) {
      const epoll_event& e = impl.events[static_cast<std::size_t>(i)];
      if (e.data.fd == inbox.wake.get()) {
        std::uint64_t count = 0;
        (void)!::read(inbox.wake.get(), &count, sizeof count);
        continue;
      }
      auto it = impl.watches.find(e.data.fd);
      if (it == impl.watches.end()) continue;
      const bool failed = (e.events & (EPOLLHUP | EPOLLERR)) != 0;
      if (it->second.reader != nullptr && ((e.events & EPOLLIN) || failed)) {
        enqueue(it->second.reader);
      }
      if (it->second.writer != nullptr && ((e.events & EPOLLOUT) || failed)) {
        enqueue(it->second.writer);
      }
    }
    if (n == static_cast<int>(impl.events.size())) {
      impl.events.resize(impl.events.size() * 2);
    }
  }

  const auto now = Clock::now();
  while (!impl.timers.empty() && impl.timers.front().when <= now) {
    std::pop_heap(impl.timers.begin(), impl.timers.end(),
                  asyncio_detail::Later{});
    HandleBase* h = impl.timers.back().handle;
    impl.timers.pop_back();
    h->in_heap_ = false;
    if (h->cancelled()) {
      --impl.cancelled_timers;
      h->release();
    } else {
      ready_.push({&HandleBase::run_entry, h});
    }
  }

  // Only what was ready when the pass began: what these schedule waits.
  for (std::size_t n = ready_.size(); n > 0; --n) {
    const asyncio_detail::Ready r = ready_.pop();
    r.fn(r.arg);
  }
}

void EventLoop::add_timer(HandleBase* h, Clock::time_point when) {
  LoopImpl& impl = *impl_;
  h->retain();
  h->loop_ = this;
  h->when_ = when;
  h->in_heap_ = true;
  impl.timers.push_back({when, impl.timer_seq++, h});
  std::push_heap(impl.timers.begin(), impl.timers.end(),
                 asyncio_detail::Later{});
}

void EventLoop::timer_cancelled() noexcept {
  LoopImpl& impl = *impl_;
  ++impl.cancelled_timers;
  // Lazy cancellation keeps cancelled timers until their time; past half
  // of a large heap they are swept at once, so cancelled timeouts cannot
  // pile up.
  if (impl.timers.size() < 512 ||
      impl.cancelled_timers * 2 < impl.timers.size()) {
    return;
  }
  std::vector<HandleBase*> swept;
  auto end = std::remove_if(impl.timers.begin(), impl.timers.end(),
                            [&swept](const asyncio_detail::Timer& t) {
                              if (!t.handle->cancelled()) return false;
                              t.handle->in_heap_ = false;
                              swept.push_back(t.handle);
                              return true;
                            });
  impl.timers.erase(end, impl.timers.end());
  std::make_heap(impl.timers.begin(), impl.timers.end(),
                 asyncio_detail::Later{});
  impl.cancelled_timers = 0;
  // After the heap is whole again: a release may destroy a frame whose
  // destructors cancel timers.
  for (HandleBase* h : swept) h->release();
}

void EventLoop::enqueue_threadsafe(HandleBase* h) {
  // The caller's Handle keeps the creator's reference; the inbox takes one.
  h->retain();
  if (!impl_->inbox->push(h)) throw RuntimeError("Event loop is closed");
}

std::shared_ptr<asyncio_detail::ThreadsafeInbox> EventLoop::inbox() const {
  return impl_->inbox;
}

void EventLoop::watch(int fd, bool write, HandleBase* h) {
  std::unique_ptr<HandleBase, void (*)(HandleBase*)> owned(
      h, [](HandleBase* p) { p->release(); });
  check_thread();
  if (closed_) throw RuntimeError("Event loop is closed");
  if (fd < 0)
    throw ValueError("Invalid file descriptor: " + std::to_string(fd));
  LoopImpl& impl = *impl_;
  auto [it, added] = impl.watches.try_emplace(fd);
  LoopImpl::Watch& w = it->second;
  HandleBase*& slot = write ? w.writer : w.reader;
  epoll_event e{};
  e.events = ((write || w.writer != nullptr) ? EPOLLOUT : 0u) |
             ((!write || w.reader != nullptr) ? EPOLLIN : 0u);
  e.data.fd = fd;
  if (::epoll_ctl(impl.epoll.get(), added ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, fd,
                  &e) != 0) {
    const int err = errno;
    if (added) impl.watches.erase(it);
    throw_os_error(err);
  }
  h->loop_ = this;
  if (slot != nullptr) {
    slot->cancel();
    slot->release();
  }
  slot = owned.release();
}

bool EventLoop::unwatch(int fd, bool write) {
  check_thread();
  LoopImpl& impl = *impl_;
  auto it = impl.watches.find(fd);
  if (it == impl.watches.end()) return false;
  LoopImpl::Watch& w = it->second;
  HandleBase*& slot = write ? w.writer : w.reader;
  if (slot == nullptr) return false;
  slot->cancel();
  slot->release();
  slot = nullptr;
  if (w.reader == nullptr && w.writer == nullptr) {
    // The descriptor may be closed already; epoll then forgot it itself.
    (void)::epoll_ctl(impl.epoll.get(), EPOLL_CTL_DEL, fd, nullptr);
    impl.watches.erase(it);
  } else {
    epoll_event e{};
    e.events = w.reader != nullptr ? EPOLLIN : EPOLLOUT;
    e.data.fd = fd;
    (void)::epoll_ctl(impl.epoll.get(), EPOLL_CTL_MOD, fd, &e);
  }
  return true;
}

void EventLoop::set_exception_handler(ExceptionHandler handler) {
  impl_->handler = std::move(handler);
}

void EventLoop::call_exception_handler(
    const ExceptionContext& context) noexcept {
  try {
    if (impl_->handler) {
      impl_->handler(*this, context);
      return;
    }
  } catch (...) {
    std::fputs("Unhandled error in exception handler\n", stderr);
  }
  print_report(context);
}

void EventLoop::print_report(const ExceptionContext& context) noexcept {
  std::string text = context.message + "\n";
  if (!context.object.empty()) text += "object: " + context.object + "\n";
  if (context.exception != nullptr) {
    try {
      std::rethrow_exception(context.exception);
    } catch (...) {
      text += detail::describe_current_exception() + "\n";
    }
  }
  std::fputs(text.c_str(), stderr);
}

futures::ThreadPoolExecutor& EventLoop::default_executor() {
  check_thread();
  if (closed_) throw RuntimeError("Event loop is closed");
  if (!impl_->executor) {
    impl_->executor = std::make_unique<futures::ThreadPoolExecutor>();
  }
  return *impl_->executor;
}

void EventLoop::adopt_task(asyncio_detail::TaskCore& task) noexcept {
  task.retain();
  task.prev_in_loop = last_task_;
  task.next_in_loop = nullptr;
  (last_task_ != nullptr ? last_task_->next_in_loop : tasks_) = &task;
  last_task_ = &task;
  ++task_count_;
}

void EventLoop::forget_task(asyncio_detail::TaskCore& task) noexcept {
  (task.prev_in_loop != nullptr ? task.prev_in_loop->next_in_loop : tasks_) =
      task.next_in_loop;
  (task.next_in_loop != nullptr ? task.next_in_loop->prev_in_loop
                                : last_task_) = task.prev_in_loop;
  task.prev_in_loop = task.next_in_loop = nullptr;
  --task_count_;
  task.release();
}

void EventLoop::drop_queued() noexcept {
  while (!ready_.empty()) {
    const asyncio_detail::Ready r = ready_.pop();
    if (r.fn == &HandleBase::run_entry) {
      static_cast<HandleBase*>(r.arg)->release();
    } else if (r.fn == &asyncio_detail::FutureCore::run_callbacks) {
      asyncio_detail::FutureCore::drop_callbacks(r.arg);
    }
    // Task steps hold no reference: their tasks are released below.
  }
}

void EventLoop::close() {
  check_thread();
  if (is_running()) throw RuntimeError("Cannot close a running event loop");
  if (closed_) return;
  closed_ = true;
  LoopImpl& impl = *impl_;
  std::vector<HandleBase*> late;
  {
    std::lock_guard lock(impl.inbox->mutex);
    impl.inbox->refusing = true;
    late.swap(impl.inbox->callbacks);
  }
  for (HandleBase* h : late) h->release();
  drop_queued();
  // Pending tasks: reported, and every one lets go of what it waits on
  // before any is released, since releasing a task destroys its frame and
  // with it the locks and queues that others may wait on.
  std::vector<asyncio_detail::TaskCore*> pending;
  for (auto* t = tasks_; t != nullptr; t = t->next_in_loop) {
    call_exception_handler(
        {"Task was destroyed but it is pending!", nullptr, t->describe()});
    t->abandon();
    pending.push_back(t);
  }
  for (auto* t : pending) {
    t->retain();
    forget_task(*t);
    t->forget_loop();
  }
  for (auto* t : pending) t->release();
  drop_queued();
  // Released after the heap is emptied: a release may destroy a frame
  // whose destructors cancel timers (and so touch the heap).
  std::vector<asyncio_detail::Timer> timers;
  timers.swap(impl.timers);
  impl.cancelled_timers = 0;
  for (const asyncio_detail::Timer& t : timers) t.handle->in_heap_ = false;
  for (const asyncio_detail::Timer& t : timers) t.handle->release();
  for (auto& [fd, w] : impl.watches) {
    if (w.reader != nullptr) w.reader->release();
    if (w.writer != nullptr) w.writer->release();
  }
  impl.watches.clear();
  if (impl.executor) {
    impl.executor->shutdown(true);
    impl.executor.reset();
  }
}

EventLoop& get_running_loop() {
  if (tls_running_loop == nullptr) throw RuntimeError("no running event loop");
  return *tls_running_loop;
}

EventLoop* running_loop() noexcept { return tls_running_loop; }

EventLoop& get_event_loop() {
  if (tls_running_loop != nullptr) return *tls_running_loop;
  auto& default_loop = asyncio_detail::tls_default_loop;
  if (!default_loop) default_loop = std::make_unique<EventLoop>();
  return *default_loop;
}

std::unique_ptr<EventLoop> new_event_loop() {
  return std::make_unique<EventLoop>();
}

}  // namespace concur::asyncio
