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
#include <unordered_map>
#include <unordered_set>
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
  // The thread holding the lock, as far as the detector knows; written by
  // that thread (relaxed: read under the mutex by walkers, which see the
  // values stored before the holder's own wait was published).
  std::atomic<ThreadRecord*> holder{nullptr};
  // Where the holder took it; as holder.
  std::atomic<const char*> held_file{""};
  std::atomic<std::uint_least32_t> held_line{0};
  // Released once by a thread that did not take it: a signal, not a mutex.
  std::atomic<bool> handoff{false};
  // Under the mutex:
  std::string name;  // a given name, else "made at file:line"
  std::vector<Edge> out;
  std::vector<Node*> in;
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
struct EdgeKeyHash {
  std::size_t operator()(const EdgeKey& k) const noexcept {
    return std::hash<std::uint64_t>()(k.from * 0x9E3779B97F4A7C15ull ^ k.to);
  }
};

}  // namespace

struct ThreadRecord {
  // The thread's own, touched by it alone.
  std::vector<Held> held;
  std::unordered_set<EdgeKey, EdgeKeyHash> known;
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

  Node* make_node(const char* name, concur::detail::CallSite site) {
    std::lock_guard guard(mu);
    Node* n = nullptr;
    if (free_nodes.empty()) {
      n = &nodes.emplace_back();
    } else {
      n = free_nodes.back();
      free_nodes.pop_back();
    }
    n->name =
        name != nullptr ? std::string(name) : "made at " + site_text(site);
    n->handoff.store(false, std::memory_order_relaxed);
    n->holder.store(nullptr, std::memory_order_relaxed);
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
    n->holder.store(nullptr, std::memory_order_relaxed);
    free_nodes.push_back(n);
  }

  // Whether `to` is reachable from `from`; if so, `path` holds the edges.
  static bool find_path(Node* from, Node* to, std::vector<const Edge*>& path) {
    // Each node reached, with the node and the edge it was reached by.
    std::unordered_map<Node*, std::pair<Node*, const Edge*>> reached_by{
        {from, {nullptr, nullptr}}};
    std::vector<Node*> stack{from};
    while (!stack.empty()) {
      Node* n = stack.back();
      stack.pop_back();
      for (const Edge& e : n->out) {
        if (!reached_by.emplace(e.to, std::pair(n, &e)).second) continue;
        if (e.to == to) {
          for (Node* at = to; at != from; at = reached_by[at].first) {
            path.push_back(reached_by[at].second);
          }
          std::reverse(path.begin(), path.end());
          return true;
        }
        stack.push_back(e.to);
      }
    }
    return false;
  }
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

void refresh_name(ThreadRecord* self) {
  std::string name;
  {
    const Busy busy;
    name = threading_detail::known_thread_name();
  }
  std::lock_guard guard(detector().mu);
  if (!name.empty()) self->name = std::move(name);
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
            h.node->holder.load(std::memory_order_relaxed) == self) {
          holding.push_back(h.node);
          message +=
              "  lock " + h.node->name + ", taken at " + site_text(h.at) + "\n";
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
    n->holder.compare_exchange_strong(expected, nullptr,
                                      std::memory_order_relaxed);
  }
  self->held.clear();
  self->known.clear();
  self->waiting_for = nullptr;
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
  Node* made = detector().make_node(name_, site_);
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

void LockTracker::acquired(concur::detail::CallSite where, bool ordered) {
  ThreadRecord* self = nullptr;
  Node* n = watched_node(self);
  if (n == nullptr) return;
  const std::uint64_t id = n->id.load(std::memory_order_relaxed);
  n->held_file.store(where.file_name(), std::memory_order_relaxed);
  n->held_line.store(where.line(), std::memory_order_relaxed);
  n->holder.store(self, std::memory_order_relaxed);
  bool stale = false;
  std::vector<Held> new_edges;
  for (const Held& h : self->held) {
    if (!valid(h)) {
      stale = true;
    } else if (ordered && h.node != n && !self->known.contains({h.id, id})) {
      new_edges.push_back(h);
    }
  }
  if (stale) std::erase_if(self->held, [](const Held& h) { return !valid(h); });
  self->held.push_back({n, id, where});
  if (new_edges.empty()) return;

  refresh_name(self);
  Detector& d = detector();
  std::vector<deadlock::Report> reports;
  {
    std::lock_guard guard(d.mu);
    for (const Held& h : new_edges) {
      if (!valid(h) || n->id.load(std::memory_order_relaxed) != id) continue;
      self->known.insert({h.id, id});
      const bool exists = std::any_of(h.node->out.begin(), h.node->out.end(),
                                      [n](const Edge& e) { return e.to == n; });
      if (exists) continue;
      std::vector<const Edge*> path;
      if (!Detector::find_path(n, h.node, path)) {
        h.node->out.push_back({n, id, self->name, h.at, where});
        n->in.push_back(h.node);
        continue;
      }
      if (!d.reported.emplace(h.id, id).second) continue;
      deadlock::Report report{deadlock::Finding::kLockOrderCycle, {}, {}};
      report.cycle.push_back({self->name, h.node->name, site_text(h.at),
                              n->name, site_text(where)});
      Node* from = n;
      for (const Edge* e : path) {
        report.cycle.push_back({e->thread, from->name, site_text(e->held_at),
                                e->to->name, site_text(e->wanted_at)});
        from = e->to;
      }
      report.message = "concur: potential deadlock: a cycle in lock order\n";
      for (const deadlock::Link& link : report.cycle) {
        report.message += link_text(link, "takes");
      }
      reports.push_back(std::move(report));
    }
    if (self->known.size() > 65536) self->known.clear();
  }
  for (const deadlock::Report& r : reports) deliver(r);
}

void LockTracker::releasing() noexcept {
  if (tls_busy) return;
  Node* n = node_.load(std::memory_order_acquire);
  if (n == nullptr || n->handoff.load(std::memory_order_relaxed)) return;
  ThreadRecord* holder = n->holder.load(std::memory_order_relaxed);
  if (holder == nullptr) return;  // taken while the detector was off
  ThreadRecord* self = tls_record;
  if (holder == self) {
    for (auto it = self->held.rbegin(); it != self->held.rend(); ++it) {
      if (it->node == n) {
        self->held.erase(std::next(it).base());
        break;
      }
    }
    n->holder.store(nullptr, std::memory_order_relaxed);
    return;
  }
  // Another thread's Lock: it is a signal, and leaves the graphs.
  std::lock_guard guard(detector().mu);
  n->handoff.store(true, std::memory_order_relaxed);
  n->holder.store(nullptr, std::memory_order_relaxed);
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
    bool closed = false;
    for (std::size_t steps = 0; steps <= d.records.size(); ++steps) {
      Node* wanted = t->waiting_for;
      ThreadRecord* h = wanted->holder.load(std::memory_order_relaxed);
      if (h == nullptr) break;
      chain.push_back(wanted);
      report.cycle.push_back(
          {t->name, {}, {}, wanted->name, site_text(t->waiting_at)});
      if (h == self) {
        closed = true;
        break;
      }
      if (h->waiting_for == nullptr) break;
      t = h;
    }
    if (!closed) return;
    // Each thread holds the lock the one before it waits for.
    const std::size_t size = report.cycle.size();
    for (std::size_t i = 0; i < size; ++i) {
      const Node* held = chain[(i + size - 1) % size];
      report.cycle[i].held = held->name;
      report.cycle[i].held_at =
          site_text(held->held_file.load(std::memory_order_relaxed),
                    held->held_line.load(std::memory_order_relaxed));
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
