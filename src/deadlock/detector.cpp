// The deadlock detector (concur/deadlock.hpp): the lock-order graph, the
// wait-for chains, and the reports.
//
// Each lock has a Node once the detector has seen it taken. A thread keeps
// the locks it holds in its own ThreadRecord, with no lock; it takes the
// detector's mutex only to add an edge it has not seen before, to publish
// that it is about to sleep on a lock, and to report. So the steady state
// (known edges, no sleeping) takes no global lock.
//
// Why a chain found under the mutex is a real deadlock: every thread in it
// published its wait under the mutex, after storing itself as the holder
// of the locks it holds, so the walker sees those stores. A holder is
// cleared before its lock is released, so a lock read as held is held at
// that moment. The walker holds the lock the last thread of the chain
// waits for, and does not release it while it walks, so that thread cannot
// go on, nor release what it holds, nor can the one before it, and so on
// round the cycle. Only a release by a thread outside the cycle could undo
// it: a Lock used as a signal, which leaves the graphs at its first such
// release.
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <mutex>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "common/fork.hpp"
#include "concur/deadlock.hpp"
#include "concur/detail/deadlock_hooks.hpp"
#include "concur/errors.hpp"
#include "threading/thread_name.hpp"

namespace concur::deadlock_detail {

namespace {
constexpr int kUnread = -1;
}  // namespace

std::atomic<int> state_word{kUnread};

struct ThreadRecord;

// An edge of the lock-order graph, kept by the node it leaves: while
// holding that lock (taken at held_at), `thread` took `to` at wanted_at.
struct Edge {
  Node* to;
  std::uint64_t to_id;
  std::string thread;
  concur::detail::CallSite held_at;
  concur::detail::CallSite wanted_at;
};

struct Node {
  // The incarnation: unique while the lock lives, 0 once it is destroyed.
  // Node memory is reused, so a held entry names its node by both. Written
  // under the mutex; relaxed reads elsewhere are rechecked under it.
  std::atomic<std::uint64_t> id{0};
  // The holder as the lock records it (in the lock, which outlives the
  // node's incarnation); the pointer is set under the mutex.
  std::atomic<ThreadRecord*>* holder = nullptr;
  // Released once by a thread that did not take it: a signal, not a mutex.
  std::atomic<bool> handoff{false};
  // Under the mutex:
  const char* given_name = nullptr;  // else named by where it was made
  concur::detail::CallSite made_at;
  std::vector<Edge> out;
  std::vector<Node*> in;
  // The last search that reached this node, and from where.
  std::uint64_t reached_in = 0;
  Node* reached_from = nullptr;
  const Edge* reached_by = nullptr;
};

namespace {

struct Held {
  Node* node;
  std::uint64_t id;
  concur::detail::CallSite at;
};

struct EdgeKey {
  std::uint64_t from;
  std::uint64_t to;
  bool operator==(const EdgeKey&) const = default;
};

// The edges a thread knows are in the graph: a set of incarnation pairs in
// one array (open addressing, linear probing), so that a lookup touches a
// cache line or two and an insert allocates nothing. It forgets everything
// when half full, so that probes stay short; a forgotten edge is only
// looked up in the graph once more. Incarnations start at 1, so {0, 0}
// marks a free slot.
class KnownEdges {
 public:
  bool contains(EdgeKey key) const noexcept {
    if (slots_.empty()) return false;
    for (std::size_t i = slot(key);; i = (i + 1) & (slots_.size() - 1)) {
      if (slots_[i] == key) return true;
      if (slots_[i] == EdgeKey{}) return false;
    }
  }
  void insert(EdgeKey key) {
    if (slots_.empty()) slots_.resize(kSlots);
    if (used_ == kSlots / 2) clear();
    std::size_t i = slot(key);
    for (; slots_[i] != EdgeKey{}; i = (i + 1) & (kSlots - 1)) {
      if (slots_[i] == key) return;
    }
    slots_[i] = key;
    ++used_;
  }
  void clear() noexcept {
    std::fill(slots_.begin(), slots_.end(), EdgeKey{});
    used_ = 0;
  }

 private:
  static constexpr std::size_t kSlots = 4096;  // a power of two
  // Incarnations are consecutive numbers, so the key is mixed whole
  // (splitmix64's finaliser): a weak hash would put consecutive keys in
  // consecutive slots, one long run that every absent key probes through.
  static std::size_t slot(EdgeKey k) noexcept {
    std::uint64_t h = k.from * 0x9E3779B97F4A7C15ull + k.to;
    h = (h ^ (h >> 30)) * 0xBF58476D1CE4E5B9ull;
    h = (h ^ (h >> 27)) * 0x94D049BB133111EBull;
    return static_cast<std::size_t>(h ^ (h >> 31)) & (kSlots - 1);
  }
  std::vector<EdgeKey> slots_;
  std::size_t used_ = 0;
};

}  // namespace

struct ThreadRecord {
  // The thread's own, touched by it alone.
  std::vector<Held> held;
  KnownEdges known;
  std::vector<Held> new_edges;  // scratch for acquired()
  // thread_name_stamp() when `name` was last read.
  std::uint64_t name_stamp = ~std::uint64_t{0};
  // Under the mutex.
  std::string name;
  Node* waiting_for = nullptr;
  concur::detail::CallSite waiting_at;
};

namespace {

std::string site_text(const char* file, std::uint_least32_t line) {
  if (line == 0) return "?";
  const char* slash = std::strrchr(file, '/');
  return std::string(slash != nullptr ? slash + 1 : file) + ":" +
         std::to_string(line);
}
std::string site_text(concur::detail::CallSite where) {
  return site_text(where.file_name(), where.line());
}

// A lock's name in reports, made only when a report needs it. Under the
// detector's mutex.
std::string node_name(const Node& n) {
  return n.given_name != nullptr ? std::string(n.given_name)
                                 : "made at " + site_text(n.made_at);
}

bool valid(const Held& h) noexcept {
  return h.node->id.load(std::memory_order_relaxed) == h.id &&
         !h.node->handoff.load(std::memory_order_relaxed);
}

// The process-wide state. Never destroyed: locks with static storage
// outlive every other static object.
struct Detector {
  std::mutex mu;
  deadlock::Handler handler;
  std::uint64_t next_id = 1;
  std::deque<Node> nodes;  // stable addresses; reused through free_nodes
  std::vector<Node*> free_nodes;
  std::deque<ThreadRecord> records;
  std::vector<ThreadRecord*> free_records;
  std::set<std::pair<std::uint64_t, std::uint64_t>> reported;

  Node* make_node(const char* name, concur::detail::CallSite site,
                  std::atomic<ThreadRecord*>* holder) {
    std::lock_guard guard(mu);
    Node* n = nullptr;
    if (free_nodes.empty()) {
      n = &nodes.emplace_back();
    } else {
      n = free_nodes.back();
      free_nodes.pop_back();
    }
    n->given_name = name;
    n->made_at = site;
    n->handoff.store(false, std::memory_order_relaxed);
    n->holder = holder;
    n->id.store(next_id++, std::memory_order_relaxed);
    return n;
  }

  // Takes n out of the lock-order graph. Under mu.
  static void cut_edges(Node* n) {
    for (const Edge& e : n->out) std::erase(e.to->in, n);
    for (Node* from : n->in) {
      std::erase_if(from->out, [n](const Edge& e) { return e.to == n; });
    }
    n->out.clear();
    n->in.clear();
  }

  void release_node(Node* n) {
    std::lock_guard guard(mu);
    cut_edges(n);
    n->id.store(0, std::memory_order_relaxed);
    n->holder = nullptr;
    free_nodes.push_back(n);
  }

  // Whether `to` is reachable from `from`; if so, `path` holds the edges.
  // Under mu. Allocates nothing once the stack has grown: each node keeps
  // the search that last reached it.
  bool find_path(Node* from, Node* to, std::vector<const Edge*>& path) {
    const std::uint64_t search = ++searches;
    from->reached_in = search;
    stack.assign(1, from);
    while (!stack.empty()) {
      Node* n = stack.back();
      stack.pop_back();
      for (const Edge& e : n->out) {
        if (e.to->reached_in == search) continue;
        e.to->reached_in = search;
        e.to->reached_from = n;
        e.to->reached_by = &e;
        if (e.to == to) {
          for (Node* at = to; at != from; at = at->reached_from) {
            path.push_back(at->reached_by);
          }
          std::reverse(path.begin(), path.end());
          return true;
        }
        stack.push_back(e.to);
      }
    }
    return false;
  }
  std::uint64_t searches = 0;
  std::vector<Node*> stack;  // find_path's
};

Detector& detector() {
  static Detector* const d = new Detector;
  return *d;
}

int resolve() noexcept {
  int s = state_word.load(std::memory_order_relaxed);
  if (s != kUnread) return s;
  // NOLINTNEXTLINE(concurrency-mt-unsafe): read once, before any setenv.
  const char* value = std::getenv("CONCUR_DEADLOCK");
  int mode = static_cast<int>(deadlock::Mode::kOff);
  if (value != nullptr) {
    const std::string_view v(value);
    if (v == "report") mode = static_cast<int>(deadlock::Mode::kReport);
    if (v == "raise") mode = static_cast<int>(deadlock::Mode::kRaise);
    if (v == "abort") mode = static_cast<int>(deadlock::Mode::kAbort);
  }
  // Relaxed: as in active(). A set_mode() that got there first wins.
  state_word.compare_exchange_strong(s, mode, std::memory_order_relaxed);
  return state_word.load(std::memory_order_relaxed);
}

deadlock::Mode current() noexcept {
  return static_cast<deadlock::Mode>(resolve());
}

// Set while this thread is inside the detector or its handler: the locks
// those take are not watched.
thread_local bool tls_busy = false;
thread_local ThreadRecord* tls_record = nullptr;
thread_local bool tls_ended = false;

class Busy {
 public:
  Busy() noexcept : was_(tls_busy) { tls_busy = true; }
  ~Busy() { tls_busy = was_; }
  Busy(const Busy&) = delete;
  Busy& operator=(const Busy&) = delete;

 private:
  bool was_;
};

bool watching() noexcept { return !tls_busy && resolve() != 0; }

void deliver(const deadlock::Report& report) {
  deadlock::Handler handler;
  {
    std::lock_guard guard(detector().mu);
    handler = detector().handler;
  }
  {
    const Busy busy;
    if (handler) {
      handler(report);
    } else {
      std::fputs(report.message.c_str(), stderr);
    }
  }
  if (current() == deadlock::Mode::kAbort) std::abort();
}

[[maybe_unused]] std::string link_text(const deadlock::Link& link,
                                       const char* verb) {
  return "  thread \"" + link.thread + "\" holds lock " + link.held +
         " (taken at " + link.held_at + ") and " + verb + " lock " +
         link.wanted + " at " + link.wanted_at + "\n";
}

// Reads the thread's name again, if it may have changed since last time.
void refresh_name(ThreadRecord* self) {
  const std::uint64_t stamp = threading_detail::thread_name_stamp();
  if (stamp == self->name_stamp) return;
  std::string name;
  {
    const Busy busy;
    name = threading_detail::known_thread_name();
  }
  if (name.empty()) return;  // not readable now: next time
  std::lock_guard guard(detector().mu);
  self->name = std::move(name);
  self->name_stamp = stamp;
}

// At the thread's end: reports the locks it still holds, and gives its
// record back. Locks the thread takes after this are not watched.
void end_thread() noexcept {
  ThreadRecord* self = tls_record;
  tls_ended = true;
  if (self == nullptr) return;
  std::vector<Node*> holding;
  try {
    if (!tls_busy && resolve() != 0) refresh_name(self);
    std::string message;
    {
      std::lock_guard guard(detector().mu);
      for (const Held& h : self->held) {
        if (valid(h) &&
            h.node->holder->load(std::memory_order_relaxed) == self) {
          holding.push_back(h.node);
          message += "  lock " + node_name(*h.node) + ", taken at " +
                     site_text(h.at) + "\n";
        }
      }
      message = "concur: thread \"" + self->name +
                "\" ended holding its locks:\n" + message;
    }
    if (!holding.empty() && !tls_busy && resolve() != 0) {
      deliver({deadlock::Finding::kThreadEndsHolding, {}, std::move(message)});
    }
  } catch (...) {
    // A report that cannot be built (no memory) is dropped.
  }
  std::lock_guard guard(detector().mu);
  for (Node* n : holding) {
    ThreadRecord* expected = self;
    n->holder->compare_exchange_strong(expected, nullptr,
                                       std::memory_order_relaxed);
  }
  self->held.clear();
  self->known.clear();
  self->waiting_for = nullptr;
  self->name_stamp = ~std::uint64_t{0};
  detector().free_records.push_back(self);
  tls_record = nullptr;
}

// Ends the record of a thread that did not start as a concur Thread.
struct RecordOwner {
  RecordOwner() = default;
  RecordOwner(const RecordOwner&) = delete;
  RecordOwner& operator=(const RecordOwner&) = delete;
  ~RecordOwner() { end_thread(); }
};

// (Unused when the hooks are built out.)
[[maybe_unused]] ThreadRecord* record() {
  if (tls_record != nullptr || tls_ended) return tls_record;
  thread_local RecordOwner owner;
  {
    Detector& d = detector();
    std::lock_guard guard(d.mu);
    if (d.free_records.empty()) {
      tls_record = &d.records.emplace_back();
    } else {
      tls_record = d.free_records.back();
      d.free_records.pop_back();
    }
  }
  refresh_name(tls_record);
  return tls_record;
}

void fork_prepare() { detector().mu.lock(); }
void fork_parent() { detector().mu.unlock(); }
// The other threads are gone: none of them waits any more. The locks they
// held stay held, so a wait for one hangs, as it would without detection.
void fork_child() {
  for (ThreadRecord& r : detector().records) {
    if (&r != tls_record) r.waiting_for = nullptr;
  }
  detector().mu.unlock();
}
[[maybe_unused]] const bool fork_handlers_installed =
    (detail::at_fork(detail::ForkOrder::kDeadlock,
                     {&fork_prepare, &fork_parent, &fork_child}),
     true);

}  // namespace

#if CONCUR_DEADLOCK_DETECTION
// The hooks; built without the detector, the locks have none.
Node* LockTracker::node() {
  Node* n = node_.load(std::memory_order_acquire);
  if (n != nullptr) return n;
  Node* made = detector().make_node(name_, site_, &holder_);
  // Acq_rel: publishes the node built above, or reads the one that won.
  if (node_.compare_exchange_strong(n, made, std::memory_order_acq_rel,
                                    std::memory_order_acquire)) {
    return made;
  }
  detector().release_node(made);
  return n;
}

void LockTracker::forget() noexcept {
  detector().release_node(node_.load(std::memory_order_acquire));
}

Node* LockTracker::watched_node(ThreadRecord*& self) {
  if (!watching()) return nullptr;
  self = record();
  if (self == nullptr) return nullptr;
  Node* n = node();
  return n->handoff.load(std::memory_order_relaxed) ? nullptr : n;
}

namespace {

// The slow half of acquired(), out of line so that the fast half stays
// small: adds the edges in self->new_edges, from locks the thread holds to
// n (incarnation id, taken at `where`), and reports those that close a
// cycle.
[[gnu::noinline]] void add_edges(ThreadRecord* self, Node* n, std::uint64_t id,
                                 concur::detail::CallSite where) {
  refresh_name(self);
  Detector& d = detector();
  std::vector<deadlock::Report> reports;
  {
    std::lock_guard guard(d.mu);
    for (const Held& h : self->new_edges) {
      if (!valid(h) || n->id.load(std::memory_order_relaxed) != id) continue;
      self->known.insert({h.id, id});
      const bool exists = std::any_of(h.node->out.begin(), h.node->out.end(),
                                      [n](const Edge& e) { return e.to == n; });
      if (exists) continue;
      std::vector<const Edge*> path;
      if (!d.find_path(n, h.node, path)) {
        h.node->out.push_back({n, id, self->name, h.at, where});
        n->in.push_back(h.node);
        continue;
      }
      if (!d.reported.emplace(h.id, id).second) continue;
      deadlock::Report report{deadlock::Finding::kLockOrderCycle, {}, {}};
      report.cycle.push_back({self->name, node_name(*h.node), site_text(h.at),
                              node_name(*n), site_text(where)});
      Node* from = n;
      for (const Edge* e : path) {
        report.cycle.push_back({e->thread, node_name(*from),
                                site_text(e->held_at), node_name(*e->to),
                                site_text(e->wanted_at)});
        from = e->to;
      }
      report.message = "concur: potential deadlock: a cycle in lock order\n";
      for (const deadlock::Link& link : report.cycle) {
        report.message += link_text(link, "takes");
      }
      reports.push_back(std::move(report));
    }
  }
  for (const deadlock::Report& r : reports) deliver(r);
}

}  // namespace

void LockTracker::acquired(concur::detail::CallSite where, bool ordered) {
  ThreadRecord* self = nullptr;
  Node* n = watched_node(self);
  if (n == nullptr) return;
  const std::uint64_t id = n->id.load(std::memory_order_relaxed);
  holder_.store(self, std::memory_order_relaxed);
  bool stale = false;
  self->new_edges.clear();
  for (const Held& h : self->held) {
    if (!valid(h)) {
      stale = true;
    } else if (ordered && h.node != n && !self->known.contains({h.id, id})) {
      self->new_edges.push_back(h);
    }
  }
  if (stale) std::erase_if(self->held, [](const Held& h) { return !valid(h); });
  self->held.push_back({n, id, where});
  if (!self->new_edges.empty()) add_edges(self, n, id, where);
}

void LockTracker::releasing() noexcept {
  if (tls_busy) return;
  Node* n = node_.load(std::memory_order_acquire);
  if (n == nullptr || n->handoff.load(std::memory_order_relaxed)) return;
  ThreadRecord* holder = holder_.load(std::memory_order_relaxed);
  if (holder == nullptr) return;  // taken while the detector was off
  ThreadRecord* self = tls_record;
  if (holder == self) {
    for (auto it = self->held.rbegin(); it != self->held.rend(); ++it) {
      if (it->node == n) {
        self->held.erase(std::next(it).base());
        break;
      }
    }
    holder_.store(nullptr, std::memory_order_relaxed);
    return;
  }
  // Another thread's Lock: it is a signal, and leaves the graphs.
  std::lock_guard guard(detector().mu);
  n->handoff.store(true, std::memory_order_relaxed);
  holder_.store(nullptr, std::memory_order_relaxed);
  Detector::cut_edges(n);
}

void LockTracker::before_park(concur::detail::CallSite where, bool may_raise) {
  ThreadRecord* self = nullptr;
  Node* n = watched_node(self);
  if (n == nullptr) return;
  refresh_name(self);
  const bool raise = may_raise && current() == deadlock::Mode::kRaise;
  deadlock::Report report{deadlock::Finding::kDeadlock, {}, {}};
  {
    Detector& d = detector();
    std::lock_guard guard(d.mu);
    self->waiting_for = n;
    self->waiting_at = where;
    // Follow the chain: each thread waits for a lock the next one holds.
    ThreadRecord* t = self;
    std::vector<const Node*> chain;
    std::vector<const ThreadRecord*> waiters;
    bool closed = false;
    for (std::size_t steps = 0; steps <= d.records.size(); ++steps) {
      Node* wanted = t->waiting_for;
      ThreadRecord* h = wanted->holder->load(std::memory_order_relaxed);
      if (h == nullptr) break;
      chain.push_back(wanted);
      waiters.push_back(t);
      report.cycle.push_back(
          {t->name, {}, {}, node_name(*wanted), site_text(t->waiting_at)});
      if (h == self) {
        closed = true;
        break;
      }
      if (h->waiting_for == nullptr) break;
      t = h;
    }
    if (!closed) return;
    // Each thread holds the lock the one before it waits for. Their held
    // lists are still: each published its wait under the mutex after
    // its last change, and changes them again only after after_park().
    const std::size_t size = report.cycle.size();
    for (std::size_t i = 0; i < size; ++i) {
      const Node* held = chain[(i + size - 1) % size];
      report.cycle[i].held = node_name(*held);
      const std::vector<Held>& list = waiters[i]->held;
      const auto it =
          std::find_if(list.rbegin(), list.rend(),
                       [held](const Held& h) { return h.node == held; });
      report.cycle[i].held_at =
          it != list.rend() ? site_text(it->at) : std::string("?");
    }
    if (raise) self->waiting_for = nullptr;
  }
  report.message = "concur: deadlock: threads wait for each other\n";
  for (const deadlock::Link& link : report.cycle) {
    report.message += link_text(link, "waits for");
  }
  deliver(report);
  if (raise) throw DeadlockError(report.message);
}

void LockTracker::after_park() noexcept {
  ThreadRecord* self = tls_record;
  if (self == nullptr || tls_busy) return;
  std::lock_guard guard(detector().mu);
  self->waiting_for = nullptr;
}

#endif  // CONCUR_DEADLOCK_DETECTION

void thread_ending() noexcept { end_thread(); }

void report_wait_on_own_future() {
  constexpr const char* kWhat =
      "a task waits for its own future: the wait could never end";
  report_misuse(deadlock::Finding::kWaitOnOwnFuture, kWhat,
                concur::detail::CallSite());
  if (watching() && current() == deadlock::Mode::kRaise) {
    throw DeadlockError(kWhat);
  }
}

void report_misuse(deadlock::Finding finding, const char* what,
                   concur::detail::CallSite where) noexcept {
  if (!watching()) return;
  try {
    std::string thread;
    {
      const Busy busy;
      thread = threading_detail::known_thread_name();
    }
    if (thread.empty()) thread.push_back('?');
    std::string message = "concur: ";
    message += what;
    message += " (thread \"";
    message += thread;
    message += "\", ";
    message += site_text(where);
    message += ")\n";
    deliver({finding, {}, std::move(message)});
  } catch (...) {
    // A report that cannot be built (no memory) is dropped; the caller
    // raises its own error next.
  }
}

}  // namespace concur::deadlock_detail

namespace concur::deadlock {

Mode mode() noexcept { return deadlock_detail::current(); }

void set_mode(Mode mode) noexcept {
  // Relaxed: as in active().
  deadlock_detail::state_word.store(static_cast<int>(mode),
                                    std::memory_order_relaxed);
}

Handler set_handler(Handler handler) {
  std::lock_guard guard(deadlock_detail::detector().mu);
  std::swap(handler, deadlock_detail::detector().handler);
  return handler;
}

}  // namespace concur::deadlock
