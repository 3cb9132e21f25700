#include <atomic>
#include <cstdint>
#include <memory>
#include <unordered_map>
#include <utility>

#include "concur/threading.hpp"

namespace concur::threading_detail {

// What one local<T> shares with the threads that hold a value for it. The
// local owns it; each thread keeps only a weak reference, so destroying the
// local destroys every thread's value at once.
struct LocalControl {
  std::uint64_t id = 0;  // never reused, unlike the address
  threading::Lock mu;
  // Each thread's value, by thread key. Guarded by mu.
  std::unordered_map<std::uint64_t, std::shared_ptr<void>> values;
};

namespace {

// The calling thread's values, by local id. The raw pointer is the fast path
// of get(); it is valid while the local lives, and a dead local's id is never
// looked up again.
struct ThreadSlots {
  struct Slot {
    void* value;
    std::weak_ptr<LocalControl> control;
  };
  std::unordered_map<std::uint64_t, Slot> slots;

  ~ThreadSlots() { release(); }

  void release() noexcept {
    const std::uint64_t key = this_thread_key();
    auto taken = std::exchange(slots, {});
    for (auto& [id, slot] : taken) {
      std::shared_ptr<LocalControl> control = slot.control.lock();
      if (!control) continue;  // the local is gone, and its values with it
      std::shared_ptr<void> value;
      {
        concur::ScopedLock guard(control->mu);
        auto it = control->values.find(key);
        if (it != control->values.end()) {
          value = std::move(it->second);
          control->values.erase(it);
        }
      }
      // `value` dies here, outside the lock: its destructor may use locals.
    }
  }
};

thread_local ThreadSlots tls_slots;

}  // namespace

void* local_find(std::uint64_t id) noexcept {
  auto it = tls_slots.slots.find(id);
  return it == tls_slots.slots.end() ? nullptr : it->second.value;
}

void* local_insert(const std::shared_ptr<LocalControl>& control,
                   std::shared_ptr<void> value) {
  void* raw = value.get();
  {
    concur::ScopedLock guard(control->mu);
    control->values[this_thread_key()] = std::move(value);
  }
  tls_slots.slots[control->id] = {raw, control};
  return raw;
}

std::shared_ptr<LocalControl> local_control() {
  // Relaxed: ids only have to be distinct.
  static std::atomic<std::uint64_t> next_id{0};
  auto control = std::make_shared<LocalControl>();
  control->id = next_id.fetch_add(1, std::memory_order_relaxed) + 1;
  return control;
}

std::uint64_t local_id(const LocalControl& control) noexcept {
  return control.id;
}

void local_release_thread() noexcept { tls_slots.release(); }

}  // namespace concur::threading_detail
