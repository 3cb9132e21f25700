// concur/detail/mp_sharedctypes.hpp — Python's multiprocessing.Value,
// Array, RawValue and RawArray: values and arrays in memory shared between
// processes. Part of <concur/multiprocessing.hpp>, which includes it:
// include that.
//
// T is any trivially copyable object type (arithmetic types, enums, and
// trivially copyable structs and std::arrays of them), Python's ctypes;
// pointers are refused, since an address means nothing in another process
// that maps the memory elsewhere. Like the synchronization objects
// (mp_synchronize.hpp), each object is a handle: copies, and the copies a
// child inherits through fork(), refer to the same memory, which lives as
// long as any process holds a handle. Each object maps one anonymous shared
// memory segment (a memfd; a Value or Array shares it with its own lock);
// nothing is left in /dev/shm.
//
// Value<T> and Array<T> come with a lock, get_lock(): by default a new
// multiprocessing RLock, as in Python; Value<T, Lock> takes a Lock, and a
// lock given to the constructor is shared (Python's lock=<a lock>).
// RawValue<T> and RawArray<T> have none (Python's lock=False or
// RawValue/RawArray); get_obj() gives the raw object of a Value or Array.
//
// Value::value() and set_value() hold the lock, as Python's do; a
// read-modify-write such as `v.set_value(v.value() + 1)` is therefore not
// atomic, as `v.value += 1` is not in Python: hold get_lock() around it
// (an RLock may be taken again by value() inside), or use the atomic
// helpers. Where std::atomic_ref<T> is always lock-free, every Value and
// RawValue offers load, store, exchange, compare_exchange and, for
// arithmetic T, fetch_add and fetch_sub: single atomic instructions on the
// shared memory, which do NOT take the lock (they are atomic with respect
// to each other, not to a section that holds the lock and writes the value
// plainly). A RawValue's value()/set_value() are relaxed atomic accesses
// where T is lock-free, plain copies otherwise (then the caller must order
// concurrent access itself).
//
// Difference from Python: an Array's elements are references into the
// shared memory (operator[], begin/end, span()), which cannot take the lock
// for each access as Python's item access does: hold get_lock() around
// accesses that other processes may race with, or use atomic(i) where T is
// lock-free. As with std::vector, `Array<int> a(10)` has ten zeros and
// `Array<int> a{10}` one ten.
//
// Thread safety: handles may be used from any thread of any process; the
// memory they refer to follows the rules above.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <memory>
#include <span>
#include <type_traits>
#include <utility>

#include "concur/annotations.hpp"
#include "concur/errors.hpp"

namespace concur::multiprocessing_detail {

// What a Value or Array may hold.
template <class T>
concept SharedCType =
    std::is_object_v<T> && std::is_trivially_copyable_v<T> &&
    !std::is_pointer_v<T> &&
    !std::is_member_pointer_v<T> && !std::is_array_v<T> &&
    !std::is_const_v<T> && !std::is_volatile_v<T> && alignof(T) <= 64;

template <class T>
inline constexpr bool kLockFree = std::atomic_ref<T>::is_always_lock_free;
template <class T>
inline constexpr bool kArithmetic = (std::is_integral_v<T> &&
                                     !std::is_same_v<T, bool>) ||
                                    std::is_floating_point_v<T>;

// The bytes `count` values of `size` bytes take; ValueError if that does not
// fit in memory at all.
inline std::size_t checked_bytes(std::size_t count, std::size_t size) {
  constexpr auto kMax =
      static_cast<std::size_t>(std::numeric_limits<std::ptrdiff_t>::max()) / 2;
  if (size != 0 && count > kMax / size) {
    throw ValueError("array of " + std::to_string(count) +
                     " elements is too large for memory");
  }
  return count * size;
}

// `size` zeroed bytes (at least one), 64-byte aligned, in a new shared
// block. Throws OSError. (synchronize.cpp)
std::shared_ptr<std::byte> shared_bytes(std::size_t size);
// The same after the state of a new lock, in one block.
std::pair<multiprocessing::Lock, std::shared_ptr<std::byte>> shared_bytes_with(
    std::size_t size, std::type_identity<multiprocessing::Lock>);
std::pair<multiprocessing::RLock, std::shared_ptr<std::byte>> shared_bytes_with(
    std::size_t size, std::type_identity<multiprocessing::RLock>);

template <class L>
concept ValueLock = std::is_same_v<L, multiprocessing::Lock> ||
    std::is_same_v<L, multiprocessing::RLock>;

// The atomic helpers of a value in shared memory.
template <class T>
class SharedScalar {
 public:
  using value_type = T;

  T load(std::memory_order order =
             std::memory_order_seq_cst) const noexcept requires kLockFree<T> {
    return ref().load(order);
  }
  void store(T desired, std::memory_order order = std::memory_order_seq_cst)
      const noexcept requires kLockFree<T> {
    ref().store(desired, order);
  }
  T exchange(T desired, std::memory_order order = std::memory_order_seq_cst)
      const noexcept requires kLockFree<T> {
    return ref().exchange(desired, order);
  }
  // Strong: false only if the value differed (then `expected` holds it).
  bool compare_exchange(T& expected, T desired,
                        std::memory_order order = std::memory_order_seq_cst)
      const noexcept requires kLockFree<T> {
    return ref().compare_exchange_strong(expected, desired, order);
  }
  T fetch_add(T arg, std::memory_order order = std::memory_order_seq_cst)
      const noexcept requires(kLockFree<T>&& kArithmetic<T>) {
    return ref().fetch_add(arg, order);
  }
  T fetch_sub(T arg, std::memory_order order = std::memory_order_seq_cst)
      const noexcept requires(kLockFree<T>&& kArithmetic<T>) {
    return ref().fetch_sub(arg, order);
  }
  // The value as a std::atomic_ref, for every other atomic operation.
  std::atomic_ref<T> atomic() const noexcept requires kLockFree<T> {
    return ref();
  }

 protected:
  explicit SharedScalar(std::shared_ptr<T> ptr) noexcept
      : ptr_(std::move(ptr)) {}
  std::atomic_ref<T> ref() const noexcept { return std::atomic_ref<T>(*ptr_); }

  std::shared_ptr<T> ptr_;
};

// The element access of an array in shared memory.
template <class T>
class SharedSequence {
 public:
  using value_type = T;
  using iterator = T*;
  using const_iterator = const T*;

  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  T& operator[](std::size_t i) const noexcept { return data_.get()[i]; }
  T* data() const noexcept { return data_.get(); }
  T* begin() const noexcept { return data_.get(); }
  T* end() const noexcept { return data_.get() + size_; }
  std::span<T> span() const noexcept { return {data_.get(), size_}; }
  operator std::span<T>() const noexcept { return span(); }
  // Element i as a std::atomic_ref (no lock taken).
  std::atomic_ref<T> atomic(std::size_t i) const noexcept
      requires(kLockFree<T>&& std::atomic_ref<T>::required_alignment <=
               alignof(T)) {
    return std::atomic_ref<T>(data_.get()[i]);
  }

 protected:
  SharedSequence(std::shared_ptr<T> data, std::size_t size) noexcept
      : data_(std::move(data)), size_(size) {}

  std::shared_ptr<T> data_;
  std::size_t size_;
};

template <class T>
std::shared_ptr<T> construct_value(std::shared_ptr<std::byte> bytes,
                                   const T& initial) {
  T* p = std::construct_at(reinterpret_cast<T*>(bytes.get()), initial);
  return std::shared_ptr<T>(std::move(bytes), p);
}

template <class T>
std::shared_ptr<T> construct_array(std::shared_ptr<std::byte> bytes,
                                   std::size_t size) {
  T* p = reinterpret_cast<T*>(bytes.get());
  // Fresh memory is zero, which is value-initialisation for a type with a
  // trivial default constructor: only others (default member initialisers)
  // are constructed one by one, so a huge array is not touched here.
  if constexpr (std::is_trivially_default_constructible_v<T>) {
    p = std::launder(p);
  } else {
    std::uninitialized_value_construct_n(p, size);
  }
  return std::shared_ptr<T>(std::move(bytes), p);
}

template <class T>
std::shared_ptr<T> construct_array(std::shared_ptr<std::byte> bytes,
                                   std::span<const T> values) {
  T* p = reinterpret_cast<T*>(bytes.get());
  std::uninitialized_copy(values.begin(), values.end(), p);
  return std::shared_ptr<T>(std::move(bytes), p);
}

}  // namespace concur::multiprocessing_detail

namespace concur::multiprocessing {

template <multiprocessing_detail::SharedCType T>
class RawArray;
template <multiprocessing_detail::SharedCType T,
          multiprocessing_detail::ValueLock L>
class Value;
template <multiprocessing_detail::SharedCType T,
          multiprocessing_detail::ValueLock L>
class Array;

// ---------------------------------------------------------------------------
// RawValue — Python's multiprocessing.RawValue: a T in shared memory, with
// no lock.
template <multiprocessing_detail::SharedCType T>
class RawValue : public multiprocessing_detail::SharedScalar<T> {
  using Base = multiprocessing_detail::SharedScalar<T>;

 public:
  // A new value; T{} by default (zero for arithmetic types, as Python).
  explicit RawValue(const T& initial = T{})
      : Base(multiprocessing_detail::construct_value(
            multiprocessing_detail::shared_bytes(sizeof(T)), initial)) {}

  // A relaxed atomic load where T is lock-free, a plain copy otherwise.
  T value() const noexcept {
    if constexpr (multiprocessing_detail::kLockFree<T>) {
      return this->ref().load(std::memory_order_relaxed);
    } else {
      return *this->ptr_;
    }
  }
  void set_value(const T& v) const noexcept {
    if constexpr (multiprocessing_detail::kLockFree<T>) {
      this->ref().store(v, std::memory_order_relaxed);
    } else {
      *this->ptr_ = v;
    }
  }
  // The object itself, in shared memory.
  T& get() const noexcept { return *this->ptr_; }

  friend bool operator==(const RawValue& a, const RawValue& b) noexcept {
    return a.ptr_ == b.ptr_;
  }

 private:
  template <multiprocessing_detail::SharedCType U,
            multiprocessing_detail::ValueLock L>
  friend class Value;
  friend struct multiprocessing_detail::Transfer<RawValue>;
  explicit RawValue(std::shared_ptr<T> ptr) noexcept : Base(std::move(ptr)) {}
};

// ---------------------------------------------------------------------------
// Value — Python's multiprocessing.Value: a T in shared memory with a lock.
template <multiprocessing_detail::SharedCType T,
          multiprocessing_detail::ValueLock L = RLock>
class Value : public multiprocessing_detail::SharedScalar<T> {
  using Base = multiprocessing_detail::SharedScalar<T>;

 public:
  // A new value (T{} by default) with a new lock of its own.
  explicit Value(const T& initial = T{})
      : Value(multiprocessing_detail::shared_bytes_with(
                  sizeof(T), std::type_identity<L>{}),
              initial) {}
  // A new value that shares `lock` (Python's lock=<a lock>).
  Value(const T& initial, L lock)
      : Base(multiprocessing_detail::construct_value(
            multiprocessing_detail::shared_bytes(sizeof(T)), initial)),
        lock_(std::move(lock)) {}

  // Under the lock, as Python's Value.value.
  T value() const {
    concur::ScopedLock guard(lock_);
    return *this->ptr_;
  }
  void set_value(const T& v) const {
    concur::ScopedLock guard(lock_);
    *this->ptr_ = v;
  }
  L& get_lock() const noexcept { return lock_; }
  // The value without its lock (Python's get_obj()).
  RawValue<T> get_obj() const noexcept { return RawValue<T>(this->ptr_); }

  friend bool operator==(const Value& a, const Value& b) noexcept {
    return a.ptr_ == b.ptr_;
  }

 private:
  friend struct multiprocessing_detail::Transfer<Value>;
  Value(std::shared_ptr<T> ptr, L lock) noexcept
      : Base(std::move(ptr)), lock_(std::move(lock)) {}
  Value(std::pair<L, std::shared_ptr<std::byte>> parts, const T& initial)
      : Base(multiprocessing_detail::construct_value(std::move(parts.second),
                                                     initial)),
        lock_(std::move(parts.first)) {}

  mutable L lock_;
};

// ---------------------------------------------------------------------------
// RawArray — Python's multiprocessing.RawArray: `size` T in shared memory,
// with no lock. Sizes too large for memory throw ValueError (or OSError
// from the system); size 0 is allowed, as in Python.
template <multiprocessing_detail::SharedCType T>
class RawArray : public multiprocessing_detail::SharedSequence<T> {
  using Base = multiprocessing_detail::SharedSequence<T>;

 public:
  // `size` elements, each T{} (zero for arithmetic types).
  explicit RawArray(std::size_t size)
      : Base(multiprocessing_detail::construct_array<T>(
                 multiprocessing_detail::shared_bytes(
                     multiprocessing_detail::checked_bytes(size, sizeof(T))),
                 size),
             size) {}
  RawArray(std::initializer_list<T> values)
      : RawArray(std::span<const T>(values.begin(), values.size())) {}
  explicit RawArray(std::span<const T> values)
      : Base(multiprocessing_detail::construct_array<T>(
                 multiprocessing_detail::shared_bytes(values.size_bytes()),
                 values),
             values.size()) {}

  friend bool operator==(const RawArray& a, const RawArray& b) noexcept {
    return a.data_ == b.data_;
  }

 private:
  template <multiprocessing_detail::SharedCType U,
            multiprocessing_detail::ValueLock L>
  friend class Array;
  friend struct multiprocessing_detail::Transfer<RawArray>;
  RawArray(std::shared_ptr<T> data, std::size_t size) noexcept
      : Base(std::move(data), size) {}
};

// ---------------------------------------------------------------------------
// Array — Python's multiprocessing.Array: `size` T in shared memory with a
// lock (see the header comment: element access does not take it).
template <multiprocessing_detail::SharedCType T,
          multiprocessing_detail::ValueLock L = RLock>
class Array : public multiprocessing_detail::SharedSequence<T> {
  using Base = multiprocessing_detail::SharedSequence<T>;

 public:
  explicit Array(std::size_t size)
      : Array(multiprocessing_detail::shared_bytes_with(
                  multiprocessing_detail::checked_bytes(size, sizeof(T)),
                  std::type_identity<L>{}),
              size) {}
  Array(std::initializer_list<T> values)
      : Array(std::span<const T>(values.begin(), values.size())) {}
  explicit Array(std::span<const T> values)
      : Array(multiprocessing_detail::shared_bytes_with(
                  values.size_bytes(), std::type_identity<L>{}),
              values) {}
  // New elements that share `lock`.
  Array(std::size_t size, L lock)
      : Base(multiprocessing_detail::construct_array<T>(
                 multiprocessing_detail::shared_bytes(
                     multiprocessing_detail::checked_bytes(size, sizeof(T))),
                 size),
             size),
        lock_(std::move(lock)) {}
  Array(std::span<const T> values, L lock)
      : Base(multiprocessing_detail::construct_array<T>(
                 multiprocessing_detail::shared_bytes(values.size_bytes()),
                 values),
             values.size()),
        lock_(std::move(lock)) {}

  L& get_lock() const noexcept { return lock_; }
  RawArray<T> get_obj() const noexcept {
    return RawArray<T>(this->data_, this->size_);
  }

  friend bool operator==(const Array& a, const Array& b) noexcept {
    return a.data_ == b.data_;
  }

 private:
  friend struct multiprocessing_detail::Transfer<Array>;
  Array(std::shared_ptr<T> data, std::size_t size, L lock) noexcept
      : Base(std::move(data), size), lock_(std::move(lock)) {}
  Array(std::pair<L, std::shared_ptr<std::byte>> parts, std::size_t size)
      : Base(multiprocessing_detail::construct_array<T>(std::move(parts.second),
                                                        size),
             size),
        lock_(std::move(parts.first)) {}
  Array(std::pair<L, std::shared_ptr<std::byte>> parts,
        std::span<const T> values)
      : Base(multiprocessing_detail::construct_array<T>(std::move(parts.second),
                                                        values),
             values.size()),
        lock_(std::move(parts.first)) {}

  mutable L lock_;
};

}  // namespace concur::multiprocessing

namespace concur::multiprocessing_detail {

// Values and arrays travel to a forkserver child as their block's
// descriptor, with their lock.
template <class T>
struct Transfer<multiprocessing::RawValue<T>> {
  using V = multiprocessing::RawValue<T>;
  static void send(codec::Writer& w, Outbox& out, const V& v) {
    send_block_pointer(w, out, v.ptr_);
  }
  static V receive(codec::Reader& r, Inbox& in) {
    return V(receive_block_object<T>(r, in));
  }
};
template <class T, class L>
struct Transfer<multiprocessing::Value<T, L>> {
  using V = multiprocessing::Value<T, L>;
  static void send(codec::Writer& w, Outbox& out, const V& v) {
    send_block_pointer(w, out, v.ptr_);
    Transfer<L>::send(w, out, v.lock_);
  }
  static V receive(codec::Reader& r, Inbox& in) {
    std::shared_ptr<T> ptr = receive_block_object<T>(r, in);
    return V(std::move(ptr), Transfer<L>::receive(r, in));
  }
};
template <class T>
struct Transfer<multiprocessing::RawArray<T>> {
  using A = multiprocessing::RawArray<T>;
  static void send(codec::Writer& w, Outbox& out, const A& a) {
    codec::encode(w, static_cast<std::uint64_t>(a.size_));
    send_block_pointer(w, out, a.data_);
  }
  static A receive(codec::Reader& r, Inbox& in) {
    const auto size = static_cast<std::size_t>(codec::decode<std::uint64_t>(r));
    checked_bytes(size, sizeof(T));
    return A(receive_block_object<T>(r, in, size), size);
  }
};
template <class T, class L>
struct Transfer<multiprocessing::Array<T, L>> {
  using A = multiprocessing::Array<T, L>;
  static void send(codec::Writer& w, Outbox& out, const A& a) {
    codec::encode(w, static_cast<std::uint64_t>(a.size_));
    send_block_pointer(w, out, a.data_);
    Transfer<L>::send(w, out, a.lock_);
  }
  static A receive(codec::Reader& r, Inbox& in) {
    const auto size = static_cast<std::size_t>(codec::decode<std::uint64_t>(r));
    checked_bytes(size, sizeof(T));
    std::shared_ptr<T> data = receive_block_object<T>(r, in, size);
    return A(std::move(data), size, Transfer<L>::receive(r, in));
  }
};

}  // namespace concur::multiprocessing_detail
