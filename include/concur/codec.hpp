// concur/codec.hpp — what crosses a process: a compact, checked binary
// encoding of C++ values, the part Python's pickle plays for multiprocessing.
//
// Everything that leaves a process (multiprocessing queues and pipes, later
// MPI messages) is encoded here. Encoding is driven by the static type: the
// receiver names the type it expects, and decoding rebuilds a value of that
// type from bytes, checking every byte it reads.
//
//   Buffer b = codec::dumps(std::tuple{42, std::string("ping")});
//   auto [n, s] = codec::loads<std::tuple<int, std::string>>(b);
//
// What can be encoded (the Encodable concept says so at compile time):
//   * every arithmetic type (bool as exactly 0 or 1) and std::byte;
//   * enums with a fixed underlying type (every `enum class`, and `enum E :
//     int`), as that type. A plain `enum E {...}` is refused: its valid
//     values depend on its enumerators, so a decoded one could be undefined
//     behaviour; give it an underlying type;
//   * std::string, std::vector (std::vector<bool> packed to bits), std::deque,
//     std::array, std::pair, std::tuple, std::optional, std::variant and
//     std::monostate, std::map, std::set, std::unordered_map,
//     std::unordered_set, std::chrono::duration and time_point, of encodable
//     types;
//   * aggregates (plain structs) of encodable fields, reflected by Boost.PFR
//     (no base classes, no C-array members: PFR cannot see those);
//   * a type of your own, through one of two hooks (not both):
//       1. a member `codec_fields()` returning `std::tie(...)` of the members
//          to send, in a const and a non-const overload (the same one-line
//          body twice):
//            auto codec_fields() { return std::tie(id_, name_); }
//            auto codec_fields() const { return std::tie(id_, name_); }
//          Encoding writes the fields in order; decoding assigns them into a
//          value-initialized T (so T must be default-constructible). A
//          codec_fields() on an aggregate takes precedence over PFR.
//       2. a specialization of concur::codec::Codec<T> with
//            static void encode(Writer&, const T&);
//            static T decode(Reader&);
//            static std::size_t encoded_size(const T&);   // exact
//          and optionally `static constexpr std::size_t fixed_size` (every
//          value encodes to that many bytes) or `min_size` (the fewest bytes
//          a value can take; 1 when not given), for types that are not
//          default-constructible or that keep invariants. On an aggregate
//          it takes precedence over PFR; specializing Codec for a type that
//          has a built-in encoding, or that also has codec_fields(), is a
//          compile-time error, so that no type has two encodings.
//   Raw pointers, references, std::string_view, smart pointers and classes
//   with private state and no hook are not encodable.
//
// The format, byte by byte (a stream of values has no framing of its own;
// the transport delimits messages):
//   integers, floating point   fixed width, little endian (long double: its
//                              10 value bytes on x86-64)
//   bool                       one byte, 0 or 1
//   enum, duration, time_point as the underlying type / the count
//   lengths, counts, variant   unsigned LEB128, in its shortest form
//     indices
//   std::string                length, then the bytes
//   vector, deque              count, then the elements (one memcpy when the
//                              element's memory is its encoding: integers,
//                              floats, enums, std::byte, arrays and padding-
//                              free aggregates of those)
//   std::vector<bool>          count, then the bits, 8 to a byte, low first
//   std::array, pair, tuple,   the elements in order, no count
//     aggregates, codec_fields
//   std::optional              0, or 1 then the value
//   std::variant               the index, then the alternative
//   map, set (ordered)         count, then the entries in increasing order
//   unordered_map, _set        count, then the entries in iteration order
// Tagged frames (encode_tagged) prefix the value with the type's identity:
// fingerprint (u64, FNV-1a of the name), LEB128 name length, the name.
//
// A decoder never trusts its input:
//   * EOFError when the input ends before a whole value: a truncation at any
//     byte gives EOFError, and so does a length or count that claims more
//     elements than the remaining input could hold, at the fewest bytes an
//     element can take. The check comes before any allocation, so what a
//     decode allocates is bounded by the input's size times a factor the
//     type fixes (an element's sizeof over its smallest encoding), whatever
//     the lengths say; containers of elements that can take no bytes at
//     all (std::vector<std::monostate>) are therefore not encodable;
//   * ValueError when the bytes are there but wrong: a bool or optional tag
//     that is not 0 or 1, a variant index out of range, a LEB128 longer than
//     10 bytes, overflowing 64 bits or not in its shortest form, a duplicate
//     key in a map or set (or keys out of order in an ordered one), nonzero
//     padding bits in a vector<bool>, bytes left after a whole value in
//     loads();
//   * TypeError when a tagged frame holds another type ("expected int,
//     received std::string"): a value is never reinterpreted as another type.
// Messages name the C++ type being decoded. After an error the Reader's
// position is unspecified. Decoding depth is bounded by the static type
// (a type cannot contain itself except through a Codec<T> hook, which then
// owns its depth), so no input can cause unbounded recursion. Because the
// encoding is canonical (shortest lengths, sorted keys, zero padding bits),
// a value without unordered containers re-encodes to exactly the bytes it
// was decoded from.
//
// Type identity: type_name<T>() is the compiler's spelling of T, taken from
// __PRETTY_FUNCTION__ at compile time, and fingerprint<T>() its FNV-1a hash;
// display_name() turns the spelling into the one a reader expects
// (std::string, not std::__cxx11::basic_string<char>) for messages. Two
// programs agree on a type's identity when the same compiler and standard
// library built them (multiprocessing's children run the parent's binary;
// MPI ranks run one build); otherwise a tagged frame is refused with a
// TypeError rather than misread.
//
// Threads: Buffer, Writer and Reader are like the standard containers:
// distinct objects may be used from distinct threads; one object must not be
// written from one thread while another uses it. The free functions touch
// only their arguments.
//
// Differences from Python's pickle: pickle encodes any object graph (shared
// and cyclic references, classes by module path) and executes code named by
// its input, so it must never read untrusted bytes; the codec encodes values
// of static types only (no pointers, no sharing, no cycles), checks every
// byte, and is safe on any input. There are no protocol versions: both ends
// must be built from the same definitions.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <chrono>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <deque>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <variant>
#include <vector>

#include <boost/pfr.hpp>

#include "concur/errors.hpp"

namespace concur::codec {

// The format is little endian, and memcpy is how integers are written: a
// big-endian port would add byte swaps here.
static_assert(std::endian::native == std::endian::little,
              "concur::codec assumes a little-endian host");
static_assert(CHAR_BIT == 8, "concur::codec assumes 8-bit bytes");

class Buffer;
class Writer;
class Reader;

// The hook a type of your own specializes (see the header comment). The
// primary template marks "no hook" with a member a specialization lacks.
template <class T>
struct Codec {
  using unspecialized = void;
};

// ---------------------------------------------------------------------------
// Type identity.

namespace detail {

template <class T>
constexpr auto pretty_function() noexcept {
  return std::string_view(__PRETTY_FUNCTION__);
}

// Where T's spelling sits in pretty_function<T>(): found once by probing
// with int ("... [with T = int]" on g++, "... [T = int]" on clang).
inline constexpr std::string_view kProbe = pretty_function<int>();
inline constexpr std::size_t kNamePrefix = kProbe.rfind("int");
inline constexpr std::size_t kNameSuffix = kProbe.size() - kNamePrefix - 3;

template <class T>
inline constexpr std::string_view kTypeName = [] {
  constexpr std::string_view full = pretty_function<T>();
  return full.substr(kNamePrefix, full.size() - kNamePrefix - kNameSuffix);
}();

constexpr std::uint64_t fnv1a(std::string_view bytes) noexcept {
  std::uint64_t hash = 14695981039346656037ull;
  for (char c : bytes) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 1099511628211ull;
  }
  return hash;
}

template <class T>
inline constexpr std::uint64_t kFingerprint = fnv1a(kTypeName<T>);

// (Builds a new string: std::string::replace trips g++ 12's -Wrestrict.)
inline std::string replace_all(std::string_view s, std::string_view from,
                               std::string_view to) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t at; (at = s.find(from)) != std::string_view::npos;) {
    out.append(s.substr(0, at));
    out.append(to);
    s.remove_prefix(at + from.size());
  }
  out.append(s);
  return out;
}

}  // namespace detail

// The compiler's spelling of T, e.g. "std::vector<int>" (a compile-time
// constant; g++ and clang spell some types differently).
template <class T>
constexpr std::string_view type_name() noexcept {
  return detail::kTypeName<T>;
}

// A 64-bit hash of type_name<T>() (FNV-1a): what a tagged frame starts with.
template <class T>
constexpr std::uint64_t fingerprint() noexcept {
  return detail::kFingerprint<T>;
}

// A type name as a reader expects it in a message: standard library
// internals removed (std::string for std::__cxx11::basic_string<char>), no
// space inside ">>", "unsigned long" for g++'s "long unsigned int". Safe on
// names read from untrusted input: unprintable bytes become '?' and the
// result is cut at 300 characters.
inline std::string display_name(std::string_view name) {
  constexpr std::size_t kMax = 300;
  std::string s(name.substr(0, kMax));
  for (char& c : s) {
    if (c < 0x20 || c > 0x7e) c = '?';
  }
  static constexpr std::string_view kRewrites[][2] = {
      {"std::__cxx11::", "std::"},
      {"std::__1::", "std::"},
      {"std::basic_string<char, std::char_traits<char>, "
       "std::allocator<char> >",
       "std::string"},
      {"std::basic_string<char, std::char_traits<char>, "
       "std::allocator<char>>",
       "std::string"},
      {"std::basic_string<char>", "std::string"},
      {"std::basic_string_view<char>", "std::string_view"},
      {" >", ">"},
      // g++'s spelling of the integer types, as clang and people write them.
      {"long long unsigned int", "unsigned long long"},
      {"long long int", "long long"},
      {"long unsigned int", "unsigned long"},
      {"short unsigned int", "unsigned short"},
      {"long int", "long"},
      {"short int", "short"},
  };
  for (const auto& [from, to] : kRewrites) s = detail::replace_all(s, from, to);
  if (name.size() > kMax) s += "...";
  return s;
}

// ---------------------------------------------------------------------------
// Errors. Out of line and cold, so that the checks on the hot paths are one
// compare and a branch that is never taken.

namespace detail {

inline std::string bytes_text(std::size_t n) {
  return std::to_string(n) + (n == 1 ? " more byte" : " more bytes");
}

[[noreturn, gnu::cold, gnu::noinline]] inline void throw_eof(
    std::size_t needed, std::size_t left, std::string_view what) {
  throw EOFError("codec: input ended: " + bytes_text(needed) + " needed for " +
                 display_name(what) + ", " + std::to_string(left) + " left");
}

[[noreturn, gnu::cold, gnu::noinline]] inline void throw_count_eof(
    std::uint64_t count, std::size_t min_size, std::size_t left,
    std::string_view what) {
  const std::string elements = display_name(what) + " of " +
                               std::to_string(count) +
                               (count == 1 ? " element" : " elements");
  if (count > std::numeric_limits<std::size_t>::max() / min_size) {
    throw EOFError("codec: input ended: " + elements + " cannot fit in the " +
                   std::to_string(left) + " bytes left");
  }
  throw EOFError("codec: input ended: at least " +
                 bytes_text(static_cast<std::size_t>(count) * min_size) +
                 " needed for " + elements + ", " + std::to_string(left) +
                 " left");
}

[[noreturn, gnu::cold, gnu::noinline]] inline void throw_corrupt(
    std::string_view what, const std::string& problem) {
  throw ValueError("codec: corrupt input for " + display_name(what) + ": " +
                   problem);
}

// A view's byte size as an object of type T: for the bulk copies.
template <class T>
std::size_t bytes_of(std::size_t count) noexcept {
  return count * sizeof(T);
}

}  // namespace detail

// ---------------------------------------------------------------------------
// Buffer, Writer, Reader.

namespace detail {
// Where a Writer writes: a Buffer's storage, or a span the caller gave.
struct Bytes {
  std::byte* data;
  std::size_t size;
  std::size_t capacity;
};
}  // namespace detail

// A growable byte buffer whose first inline_capacity bytes live inside the
// object, so that a small value (an int, a short string, a small struct)
// encodes with no heap allocation. Copyable and movable; a move leaves the
// source empty.
class Buffer {
 public:
  // sizeof(Buffer) is 128: two cache lines.
  static constexpr std::size_t inline_capacity = 104;

  Buffer() noexcept : bytes_{inline_, 0, inline_capacity} {}
  explicit Buffer(std::span<const std::byte> bytes) : Buffer() {
    append(bytes);
  }
  Buffer(const Buffer& other) : Buffer() { append(other.bytes()); }
  Buffer(Buffer&& other) noexcept : Buffer() { steal(other); }
  Buffer& operator=(const Buffer& other) {
    if (this != &other) {
      clear();
      append(other.bytes());
    }
    return *this;
  }
  Buffer& operator=(Buffer&& other) noexcept {
    if (this != &other) {
      release();
      steal(other);
    }
    return *this;
  }
  ~Buffer() { release(); }

  std::byte* data() noexcept { return bytes_.data; }
  const std::byte* data() const noexcept { return bytes_.data; }
  std::size_t size() const noexcept { return bytes_.size; }
  std::size_t capacity() const noexcept { return bytes_.capacity; }
  bool empty() const noexcept { return bytes_.size == 0; }
  std::span<const std::byte> bytes() const noexcept {
    return {bytes_.data, bytes_.size};
  }
  operator std::span<const std::byte>() const noexcept { return bytes(); }

  // Empties the buffer and keeps its storage.
  void clear() noexcept { bytes_.size = 0; }
  void reserve(std::size_t capacity) {
    if (capacity > bytes_.capacity) reallocate(capacity);
  }
  // New bytes are zero.
  void resize(std::size_t size) {
    if (size > bytes_.size) {
      reserve(size);
      std::memset(bytes_.data + bytes_.size, 0, size - bytes_.size);
    }
    bytes_.size = size;
  }
  void append(std::span<const std::byte> bytes) {
    if (bytes.empty()) return;
    if (bytes_.capacity - bytes_.size < bytes.size()) grow_for(bytes.size());
    std::memcpy(bytes_.data + bytes_.size, bytes.data(), bytes.size());
    bytes_.size += bytes.size();
  }

  friend bool operator==(const Buffer& a, const Buffer& b) noexcept {
    return a.size() == b.size() &&
           (a.empty() || std::memcmp(a.data(), b.data(), a.size()) == 0);
  }

 private:
  friend class Writer;

  bool on_heap() const noexcept { return bytes_.data != inline_; }
  // Makes room for `extra` more bytes, at least doubling the capacity.
  [[gnu::noinline]] void grow_for(std::size_t extra) {
    if (extra > std::numeric_limits<std::size_t>::max() / 2 - bytes_.size) {
      throw std::length_error("concur::codec::Buffer: too large");
    }
    reallocate(std::max(bytes_.size + extra, 2 * bytes_.capacity));
  }
  void reallocate(std::size_t capacity) {
    std::byte* data = std::allocator<std::byte>().allocate(capacity);
    const std::size_t size = bytes_.size;
    if (size != 0) std::memcpy(data, bytes_.data, size);
    release();
    bytes_ = {data, size, capacity};
  }
  void release() noexcept {
    if (on_heap()) {
      std::allocator<std::byte>().deallocate(bytes_.data, bytes_.capacity);
    }
    bytes_ = {inline_, 0, inline_capacity};
  }
  void steal(Buffer& other) noexcept {
    if (other.on_heap()) {
      bytes_ = other.bytes_;
    } else {
      if (other.bytes_.size != 0) {
        std::memcpy(inline_, other.inline_, other.bytes_.size);
      }
      bytes_.size = other.bytes_.size;
    }
    other.bytes_ = {other.inline_, 0, inline_capacity};
  }

  detail::Bytes bytes_;
  std::byte inline_[inline_capacity];
};

// Appends encoded bytes to a Buffer (growing it), or writes them into a
// span the caller provides (encode_to), where running out of room throws
// ValueError instead of writing past the end. A Writer refers to its Buffer:
// keep the buffer in place (do not move it) while the Writer is in use.
class Writer {
 public:
  explicit Writer(Buffer& out) noexcept : out_(&out.bytes_), buffer_(&out) {}
  explicit Writer(std::span<std::byte> out) noexcept
      : span_{out.data(), 0, out.size()}, out_(&span_), buffer_(nullptr) {}
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  // Bytes in the output: the Buffer's size, or the bytes written to the span.
  std::size_t size() const noexcept { return out_->size; }

  // Reserves n bytes at the end of the output and returns where they start;
  // the caller fills them.
  std::byte* extend(std::size_t n) {
    detail::Bytes& out = *out_;
    if (out.capacity - out.size < n) [[unlikely]] {
      grow(n);
    }
    std::byte* at = out.data + out.size;
    out.size += n;
    return at;
  }
  void write(const void* bytes, std::size_t n) {
    if (n != 0) std::memcpy(extend(n), bytes, n);
  }
  void write_byte(std::uint8_t byte) {
    *extend(1) = static_cast<std::byte>(byte);
  }
  // Unsigned LEB128, shortest form.
  void write_varint(std::uint64_t value) {
    if (value < 0x80) [[likely]] {
      write_byte(static_cast<std::uint8_t>(value));
      return;
    }
    std::uint8_t bytes[10];
    std::size_t n = 0;
    while (value >= 0x80) {
      bytes[n++] = static_cast<std::uint8_t>(value | 0x80);
      value >>= 7;
    }
    bytes[n++] = static_cast<std::uint8_t>(value);
    write(bytes, n);
  }

 private:
  [[gnu::noinline]] void grow(std::size_t n) {
    if (buffer_ != nullptr) {
      buffer_->grow_for(n);
      return;
    }
    throw ValueError(
        "codec: the output span of " + std::to_string(span_.capacity) +
        " bytes is too small: " + std::to_string(span_.size) + " written, " +
        std::to_string(n) + " more needed (size it with encoded_size)");
  }

  detail::Bytes span_{nullptr, 0, 0};
  detail::Bytes* out_;
  Buffer* buffer_;  // null when writing into a span
};

// Reads encoded bytes from a span, checking each read against the end.
// `what` arguments name the type being decoded, for the error messages.
class Reader {
 public:
  explicit Reader(std::span<const std::byte> in) noexcept
      : begin_(in.data()), pos_(in.data()), end_(in.data() + in.size()) {}

  std::size_t remaining() const noexcept {
    return static_cast<std::size_t>(end_ - pos_);
  }
  std::size_t position() const noexcept {
    return static_cast<std::size_t>(pos_ - begin_);
  }

  // The next n bytes (EOFError if fewer remain), consumed.
  const std::byte* take(std::size_t n, std::string_view what) {
    if (remaining() < n) [[unlikely]] {
      detail::throw_eof(n, remaining(), what);
    }
    const std::byte* at = pos_;
    pos_ += n;
    return at;
  }
  void read(void* out, std::size_t n, std::string_view what) {
    const std::byte* at = take(n, what);
    if (n != 0) std::memcpy(out, at, n);
  }
  std::span<const std::byte> read_bytes(std::size_t n, std::string_view what) {
    return {take(n, what), n};
  }
  std::uint8_t read_byte(std::string_view what) {
    return static_cast<std::uint8_t>(*take(1, what));
  }
  // Unsigned LEB128 in its shortest form, at most 10 bytes.
  std::uint64_t read_varint(std::string_view what) {
    if (pos_ != end_ && (static_cast<std::uint8_t>(*pos_) & 0x80) == 0)
        [[likely]] {
      return static_cast<std::uint8_t>(*pos_++);
    }
    return read_varint_slow(what);
  }
  // A count of elements that each take at least min_size bytes: EOFError,
  // before anything is allocated, if the rest of the input cannot hold them.
  std::size_t read_count(std::size_t min_size, std::string_view what) {
    const std::uint64_t count = read_varint(what);
    if (count > remaining() / min_size) [[unlikely]] {
      detail::throw_count_eof(count, min_size, remaining(), what);
    }
    return static_cast<std::size_t>(count);
  }

 private:
  [[gnu::noinline]] std::uint64_t read_varint_slow(std::string_view what) {
    std::uint64_t value = 0;
    for (int i = 0;; ++i) {
      if (pos_ == end_) detail::throw_eof(1, 0, what);
      const auto byte = static_cast<std::uint8_t>(*pos_++);
      if (i == 9 && byte > 1) {
        detail::throw_corrupt(what, (byte & 0x80) != 0
                                        ? "a LEB128 length is over 10 bytes"
                                        : "a LEB128 length overflows 64 bits");
      }
      value |= static_cast<std::uint64_t>(byte & 0x7f) << (7 * i);
      if ((byte & 0x80) == 0) {
        if (byte == 0 && i > 0) {
          detail::throw_corrupt(what,
                                "a LEB128 length is not in its shortest form");
        }
        return value;
      }
    }
  }

  const std::byte* begin_;
  const std::byte* pos_;
  const std::byte* end_;
};

// The number of bytes write_varint(value) writes.
constexpr std::size_t varint_size(std::uint64_t value) noexcept {
  return (static_cast<std::size_t>(std::bit_width(value | 1)) + 6) / 7;
}

// ---------------------------------------------------------------------------
// The encodings. Impl<T> holds, for each kind of type:
//   supported   T is encodable (its parts are)
//   min_size    the fewest bytes a value of T encodes to
//   fixed       every value encodes to fixed_size bytes
//   bulk        T's object representation is its encoding and every byte
//               pattern is a valid T: arrays of T are copied with memcpy
//   encode, decode, size (size only where not fixed)

namespace detail {

enum class Kind {
  unsupported,
  unfixed_enum,  // an enum without a fixed underlying type
  conflict,      // Codec<T> specialized for a built-in or codec_fields type
  hook,          // Codec<T>
  boolean,
  arithmetic,
  enumeration,
  string,
  vector_bool,
  sequence,  // vector, deque
  array,
  tuple,  // pair, tuple
  optional,
  variant,
  monostate,
  ordered,    // map, set
  unordered,  // unordered_map, unordered_set
  duration,
  time_point,
  fields,     // codec_fields()
  aggregate,  // Boost.PFR
};

template <class T, template <class...> class Template>
inline constexpr bool is_instance_v = false;
template <template <class...> class Template, class... Args>
inline constexpr bool is_instance_v<Template<Args...>, Template> = true;

template <class T>
inline constexpr bool is_std_array_v = false;
template <class T, std::size_t N>
inline constexpr bool is_std_array_v<std::array<T, N>> = true;

template <class T>
inline constexpr bool is_duration_v = false;
template <class Rep, class Period>
inline constexpr bool is_duration_v<std::chrono::duration<Rep, Period>> = true;

template <class T>
inline constexpr bool is_time_point_v = false;
template <class Clock, class Duration>
inline constexpr bool
    is_time_point_v<std::chrono::time_point<Clock, Duration>> = true;

// List-initializing an enum from an integer compiles exactly when the enum
// has a fixed underlying type.
template <class E>
concept fixed_enum = requires {
  E{std::underlying_type_t<E>{}};
};

template <class T>
concept has_codec_hook = !requires {
  typename Codec<T>::unspecialized;
};

template <class T>
concept has_codec_fields = requires(const T& c) {
  c.codec_fields();
};

template <class T>
constexpr Kind builtin_kind() {
  if constexpr (std::is_same_v<T, bool>) {
    return Kind::boolean;
  } else if constexpr (std::is_arithmetic_v<T>) {
    return Kind::arithmetic;
  } else if constexpr (std::is_enum_v<T>) {
    return fixed_enum<T> ? Kind::enumeration : Kind::unfixed_enum;
  } else if constexpr (std::is_same_v<T, std::string>) {
    return Kind::string;
  } else if constexpr (is_instance_v<T, std::vector>) {
    return std::is_same_v<typename T::value_type, bool> ? Kind::vector_bool
                                                        : Kind::sequence;
  } else if constexpr (is_instance_v<T, std::deque>) {
    return Kind::sequence;
  } else if constexpr (is_std_array_v<T>) {
    return Kind::array;
  } else if constexpr (is_instance_v<T, std::pair> ||
                       is_instance_v<T, std::tuple>) {
    return Kind::tuple;
  } else if constexpr (is_instance_v<T, std::optional>) {
    return Kind::optional;
  } else if constexpr (is_instance_v<T, std::variant>) {
    return Kind::variant;
  } else if constexpr (std::is_same_v<T, std::monostate>) {
    return Kind::monostate;
  } else if constexpr (is_instance_v<T, std::map> ||
                       is_instance_v<T, std::set>) {
    return Kind::ordered;
  } else if constexpr (is_instance_v<T, std::unordered_map> ||
                       is_instance_v<T, std::unordered_set>) {
    return Kind::unordered;
  } else if constexpr (is_duration_v<T>) {
    return Kind::duration;
  } else if constexpr (is_time_point_v<T>) {
    return Kind::time_point;
  } else {
    return Kind::unsupported;
  }
}

// One kind per type, by precedence: a Codec<T> hook (alone), a built-in
// encoding, codec_fields(), an aggregate.
template <class T>
constexpr Kind kind_of() {
  if constexpr (std::is_reference_v<T> || std::is_const_v<T> ||
                std::is_volatile_v<T>) {
    return Kind::unsupported;
  } else {
    constexpr Kind builtin = builtin_kind<T>();
    if constexpr (has_codec_hook<T>) {
      return builtin == Kind::unsupported && !has_codec_fields<T>
                 ? Kind::hook
                 : Kind::conflict;
    } else if constexpr (builtin != Kind::unsupported) {
      return builtin;
    } else if constexpr (has_codec_fields<T>) {
      return Kind::fields;
    } else if constexpr (std::is_class_v<T> && std::is_aggregate_v<T>) {
      return Kind::aggregate;
    } else {
      return Kind::unsupported;
    }
  }
}

template <class T, Kind K = kind_of<T>()>
struct Impl {
  static constexpr bool supported = false;
  static constexpr std::size_t min_size = 0;
  static constexpr bool fixed = false;
  static constexpr std::size_t fixed_size = 0;
  static constexpr bool bulk = false;
};

// What memcpy may stand in for, beyond the encoding being the bytes.
template <class T>
inline constexpr bool copyable_bytes_v = (std::is_trivially_copyable_v<T> &&
                                          std::is_default_constructible_v<T> &&
                                          std::is_copy_assignable_v<T>);

template <class T>
std::size_t size_of(const T& value) {
  if constexpr (Impl<T>::fixed) {
    return Impl<T>::fixed_size;
  } else {
    return Impl<T>::size(value);
  }
}

// The properties of a sequence of parts (tuple elements, struct fields).
template <class... Ts>
struct Parts {
  static constexpr bool supported = (Impl<Ts>::supported && ...);
  static constexpr std::size_t min_size =
      (std::size_t{0} + ... + Impl<Ts>::min_size);
  static constexpr bool fixed = (Impl<Ts>::fixed && ...);
  static constexpr std::size_t fixed_size =
      (std::size_t{0} + ... + Impl<Ts>::fixed_size);
  static constexpr bool bulk = (Impl<Ts>::bulk && ...);
  static constexpr std::size_t sizeof_sum = (std::size_t{0} + ... + sizeof(Ts));
};

template <>
struct Impl<bool, Kind::boolean> {
  static constexpr bool supported = true;
  static constexpr std::size_t min_size = 1;
  static constexpr bool fixed = true;
  static constexpr std::size_t fixed_size = 1;
  static constexpr bool bulk = false;  // only 0 and 1 are bools
  static void encode(Writer& w, bool value) { w.write_byte(value ? 1 : 0); }
  static bool decode(Reader& r) {
    const std::uint8_t byte = r.read_byte(kTypeName<bool>);
    if (byte > 1) [[unlikely]] {
      throw_corrupt(kTypeName<bool>,
                    "byte " + std::to_string(byte) + " is not 0 or 1");
    }
    return byte == 1;
  }
};

template <class T>
struct Impl<T, Kind::arithmetic> {
  // x87's long double has 10 value bytes and 6 of padding, which are not
  // sent (they hold whatever the stack held).
  static constexpr std::size_t value_bytes =
      std::is_same_v<T, long double> &&
              std::numeric_limits<long double>::digits == 64
          ? 10
          : sizeof(T);
  static constexpr bool supported = true;
  static constexpr std::size_t min_size = value_bytes;
  static constexpr bool fixed = true;
  static constexpr std::size_t fixed_size = value_bytes;
  static constexpr bool bulk = value_bytes == sizeof(T);
  static void encode(Writer& w, T value) { w.write(&value, value_bytes); }
  static T decode(Reader& r) {
    T value{};
    r.read(&value, value_bytes, kTypeName<T>);
    return value;
  }
};

template <class T>
struct Impl<T, Kind::enumeration> {
  using U = std::underlying_type_t<T>;
  static constexpr bool supported = true;
  static constexpr std::size_t min_size = Impl<U>::min_size;
  static constexpr bool fixed = true;
  static constexpr std::size_t fixed_size = Impl<U>::fixed_size;
  static constexpr bool bulk = !std::is_same_v<U, bool>;
  static void encode(Writer& w, T value) {
    Impl<U>::encode(w, static_cast<U>(value));
  }
  static T decode(Reader& r) { return static_cast<T>(Impl<U>::decode(r)); }
};

template <>
struct Impl<std::string, Kind::string> {
  static constexpr bool supported = true;
  static constexpr std::size_t min_size = 1;
  static constexpr bool fixed = false;
  static constexpr std::size_t fixed_size = 0;
  static constexpr bool bulk = false;
  static void encode(Writer& w, const std::string& s) {
    w.write_varint(s.size());
    w.write(s.data(), s.size());
  }
  static std::string decode(Reader& r) {
    constexpr std::string_view what = kTypeName<std::string>;
    const std::size_t n = r.read_count(1, what);
    return std::string(reinterpret_cast<const char*>(r.take(n, what)), n);
  }
  static std::size_t size(const std::string& s) {
    return varint_size(s.size()) + s.size();
  }
};

template <class T>
struct Impl<T, Kind::vector_bool> {
  static constexpr bool supported = true;
  static constexpr std::size_t min_size = 1;
  static constexpr bool fixed = false;
  static constexpr std::size_t fixed_size = 0;
  static constexpr bool bulk = false;
  static void encode(Writer& w, const T& bits) {
    const std::size_t n = bits.size();
    w.write_varint(n);
    std::byte* out = w.extend(n / 8 + (n % 8 != 0));
    std::uint8_t byte = 0;
    for (std::size_t i = 0; i < n; ++i) {
      if (bits[i]) byte |= static_cast<std::uint8_t>(1u << (i % 8));
      if (i % 8 == 7 || i + 1 == n) {
        *out++ = static_cast<std::byte>(byte);
        byte = 0;
      }
    }
  }
  static T decode(Reader& r) {
    constexpr std::string_view what = kTypeName<T>;
    const std::uint64_t n = r.read_varint(what);
    const std::uint64_t n_bytes = n / 8 + (n % 8 != 0);
    if (n_bytes > r.remaining()) [[unlikely]] {
      throw_eof(static_cast<std::size_t>(n_bytes), r.remaining(), what);
    }
    const std::byte* in = r.take(static_cast<std::size_t>(n_bytes), what);
    if (n % 8 != 0 &&
        (static_cast<unsigned>(in[n_bytes - 1]) >> (n % 8)) != 0) {
      throw_corrupt(what, "the padding bits after the last bool are not 0");
    }
    T bits(static_cast<std::size_t>(n));
    for (std::size_t i = 0; i < n; ++i) {
      bits[i] = ((static_cast<unsigned>(in[i / 8]) >> (i % 8)) & 1u) != 0;
    }
    return bits;
  }
  static std::size_t size(const T& bits) {
    const std::size_t n = bits.size();
    return varint_size(n) + n / 8 + (n % 8 != 0);
  }
};

template <class T>
struct Impl<T, Kind::sequence> {
  using E = typename T::value_type;
  static constexpr bool memcpy_elements =
      Impl<E>::bulk && is_instance_v<T, std::vector>;
  static constexpr bool supported = Impl<E>::supported && Impl<E>::min_size > 0;
  static constexpr std::size_t min_size = 1;
  static constexpr bool fixed = false;
  static constexpr std::size_t fixed_size = 0;
  static constexpr bool bulk = false;
  static void encode(Writer& w, const T& items) {
    w.write_varint(items.size());
    if constexpr (memcpy_elements) {
      w.write(items.data(), bytes_of<E>(items.size()));
    } else {
      for (const E& item : items) Impl<E>::encode(w, item);
    }
  }
  static T decode(Reader& r) {
    constexpr std::string_view what = kTypeName<T>;
    const std::size_t n = r.read_count(Impl<E>::min_size, what);
    T items;
    if constexpr (memcpy_elements) {
      items.resize(n);
      r.read(items.data(), bytes_of<E>(n), what);
    } else {
      if constexpr (is_instance_v<T, std::vector>) items.reserve(n);
      for (std::size_t i = 0; i < n; ++i) {
        items.push_back(Impl<E>::decode(r));
      }
    }
    return items;
  }
  static std::size_t size(const T& items) {
    std::size_t total = varint_size(items.size());
    if constexpr (Impl<E>::fixed) {
      total += items.size() * Impl<E>::fixed_size;
    } else {
      for (const E& item : items) total += Impl<E>::size(item);
    }
    return total;
  }
};

template <class E, std::size_t N>
struct Impl<std::array<E, N>, Kind::array> {
  using T = std::array<E, N>;
  static constexpr bool supported = Impl<E>::supported;
  static constexpr std::size_t min_size = N * Impl<E>::min_size;
  static constexpr bool fixed = Impl<E>::fixed;
  static constexpr std::size_t fixed_size = N * Impl<E>::fixed_size;
  static constexpr bool bulk = Impl<E>::bulk && N > 0 &&
                               sizeof(T) == N * sizeof(E) &&
                               copyable_bytes_v<T>;
  static void encode(Writer& w, const T& items) {
    if constexpr (Impl<E>::bulk) {
      w.write(items.data(), N * sizeof(E));
    } else {
      for (const E& item : items) Impl<E>::encode(w, item);
    }
  }
  static T decode(Reader& r) {
    if constexpr (Impl<E>::bulk) {
      T items;
      r.read(items.data(), N * sizeof(E), kTypeName<T>);
      return items;
    } else if constexpr (std::is_default_constructible_v<E> &&
                         std::is_move_assignable_v<E>) {
      T items{};
      for (E& item : items) item = Impl<E>::decode(r);
      return items;
    } else {
      return [&]<std::size_t... I>(std::index_sequence<I...>) {
        return T{((void)I, Impl<E>::decode(r))...};  // in order: braces
      }
      (std::make_index_sequence<N>());
    }
  }
  static std::size_t size(const T& items) {
    std::size_t total = 0;
    for (const E& item : items) total += size_of(item);
    return total;
  }
};

template <class T, class... Es>
struct TupleImpl {
  using P = Parts<Es...>;
  static constexpr bool supported = P::supported;
  static constexpr std::size_t min_size = P::min_size;
  static constexpr bool fixed = P::fixed;
  static constexpr std::size_t fixed_size = P::fixed_size;
  static constexpr bool bulk = false;  // libstdc++ lays tuples out backwards
  static void encode(Writer& w, const T& t) {
    std::apply([&](const Es&... e) { (Impl<Es>::encode(w, e), ...); }, t);
  }
  static T decode(Reader& r) {
    return T{Impl<Es>::decode(r)...};  // braces: evaluated in order
  }
  static std::size_t size(const T& t) {
    return std::apply(
        [](const Es&... e) { return (std::size_t{0} + ... + size_of(e)); }, t);
  }
};
template <class A, class B>
struct Impl<std::pair<A, B>, Kind::tuple> : TupleImpl<std::pair<A, B>, A, B> {};
template <class... Es>
struct Impl<std::tuple<Es...>, Kind::tuple>
    : TupleImpl<std::tuple<Es...>, Es...> {};

template <class E>
struct Impl<std::optional<E>, Kind::optional> {
  using T = std::optional<E>;
  static constexpr bool supported = Impl<E>::supported;
  static constexpr std::size_t min_size = 1;
  static constexpr bool fixed = false;
  static constexpr std::size_t fixed_size = 0;
  static constexpr bool bulk = false;
  static void encode(Writer& w, const T& value) {
    w.write_byte(value.has_value() ? 1 : 0);
    if (value) Impl<E>::encode(w, *value);
  }
  static T decode(Reader& r) {
    const std::uint8_t tag = r.read_byte(kTypeName<T>);
    if (tag == 0) return std::nullopt;
    if (tag != 1) [[unlikely]] {
      throw_corrupt(kTypeName<T>,
                    "tag " + std::to_string(tag) + " is not 0 or 1");
    }
    return T(std::in_place, Impl<E>::decode(r));
  }
  static std::size_t size(const T& value) {
    return 1 + (value ? size_of(*value) : 0);
  }
};

template <class... Es>
struct Impl<std::variant<Es...>, Kind::variant> {
  using T = std::variant<Es...>;
  static constexpr bool supported = (Impl<Es>::supported && ...);
  static constexpr std::size_t min_size = 1 + std::min({Impl<Es>::min_size...});
  static constexpr bool fixed = false;
  static constexpr std::size_t fixed_size = 0;
  static constexpr bool bulk = false;
  static void encode(Writer& w, const T& value) {
    if (value.valueless_by_exception()) [[unlikely]] {
      throw ValueError("codec: cannot encode a valueless " +
                       display_name(kTypeName<T>));
    }
    w.write_varint(value.index());
    std::visit(
        [&]<class E>(const E& alternative) { Impl<E>::encode(w, alternative); },
        value);
  }
  static T decode(Reader& r) {
    const std::uint64_t index = r.read_varint(kTypeName<T>);
    if (index >= sizeof...(Es)) [[unlikely]] {
      throw_corrupt(kTypeName<T>, "variant index " + std::to_string(index) +
                                      " is out of range (" +
                                      std::to_string(sizeof...(Es)) +
                                      " alternatives)");
    }
    // One decoder per alternative, indexed (built here, not as a member, so
    // that it is instantiated only for encodable variants).
    static constexpr auto decoders =
        []<std::size_t... I>(std::index_sequence<I...>) {
      return std::array<T (*)(Reader&), sizeof...(Es)>{
          &decode_alternative<I>...};
    }
    (std::index_sequence_for<Es...>());
    return decoders[index](r);
  }
  static std::size_t size(const T& value) {
    return varint_size(value.index()) +
           std::visit(
               [](const auto& alternative) { return size_of(alternative); },
               value);
  }

 private:
  template <std::size_t I>
  static T decode_alternative(Reader& r) {
    using E = std::variant_alternative_t<I, T>;
    return T(std::in_place_index<I>, Impl<E>::decode(r));
  }
};

template <>
struct Impl<std::monostate, Kind::monostate> {
  static constexpr bool supported = true;
  static constexpr std::size_t min_size = 0;
  static constexpr bool fixed = true;
  static constexpr std::size_t fixed_size = 0;
  static constexpr bool bulk = false;
  static void encode(Writer&, std::monostate) {}
  static std::monostate decode(Reader&) { return {}; }
};

// map, set, unordered_map, unordered_set.
template <class T>
struct MappedOf {
  using type = std::monostate;
};
template <class T>
requires requires { typename T::mapped_type; }
struct MappedOf<T> {
  using type = typename T::mapped_type;
};

template <class T, bool Ordered>
struct Associative {
  static constexpr bool is_map = requires { typename T::mapped_type; };
  using K = typename T::key_type;
  using V = typename MappedOf<T>::type;  // monostate for a set: no bytes
  static constexpr std::size_t entry_min_size =
      Impl<K>::min_size + (is_map ? Impl<V>::min_size : 0);
  static constexpr bool supported = Impl<K>::supported &&
                                    (!is_map || Impl<V>::supported) &&
                                    entry_min_size > 0;
  static constexpr std::size_t min_size = 1;
  static constexpr bool fixed = false;
  static constexpr std::size_t fixed_size = 0;
  static constexpr bool bulk = false;

  static void encode(Writer& w, const T& items) {
    w.write_varint(items.size());
    for (const auto& entry : items) {
      if constexpr (is_map) {
        Impl<K>::encode(w, entry.first);
        Impl<V>::encode(w, entry.second);
      } else {
        Impl<K>::encode(w, entry);
      }
    }
  }
  static T decode(Reader& r) {
    constexpr std::string_view what = kTypeName<T>;
    const std::size_t n = r.read_count(entry_min_size, what);
    T items;
    if constexpr (!Ordered) items.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
      K key = Impl<K>::decode(r);
      if constexpr (Ordered) {
        // Canonical order: each key after the last, which also rules out
        // duplicates and makes every insertion O(1) at the end.
        if (!items.empty()) {
          const K& last = key_of(*std::prev(items.end()));
          if (!items.key_comp()(last, key)) [[unlikely]] {
            throw_corrupt(what, items.key_comp()(key, last)
                                    ? "keys are not in increasing order"
                                    : "duplicate key");
          }
        }
        if constexpr (is_map) {
          items.emplace_hint(items.end(), std::move(key), Impl<V>::decode(r));
        } else {
          items.emplace_hint(items.end(), std::move(key));
        }
      } else {
        bool inserted;
        if constexpr (is_map) {
          inserted = items.emplace(std::move(key), Impl<V>::decode(r)).second;
        } else {
          inserted = items.insert(std::move(key)).second;
        }
        if (!inserted) [[unlikely]] {
          throw_corrupt(what, "duplicate key");
        }
      }
    }
    return items;
  }
  static std::size_t size(const T& items) {
    std::size_t total = varint_size(items.size());
    if constexpr (Impl<K>::fixed && (!is_map || Impl<V>::fixed)) {
      total += items.size() * entry_min_size;
    } else {
      for (const auto& entry : items) {
        if constexpr (is_map) {
          total += size_of(entry.first) + size_of(entry.second);
        } else {
          total += size_of(entry);
        }
      }
    }
    return total;
  }

 private:
  template <class Entry>
  static const K& key_of(const Entry& entry) {
    if constexpr (is_map) {
      return entry.first;
    } else {
      return entry;
    }
  }
};
template <class T>
struct Impl<T, Kind::ordered> : Associative<T, true> {};
template <class T>
struct Impl<T, Kind::unordered> : Associative<T, false> {};

template <class T, class Part, class Get>
struct WrapperImpl {
  static constexpr bool supported = Impl<Part>::supported;
  static constexpr std::size_t min_size = Impl<Part>::min_size;
  static constexpr bool fixed = Impl<Part>::fixed;
  static constexpr std::size_t fixed_size = Impl<Part>::fixed_size;
  static constexpr bool bulk =
      Impl<Part>::bulk && sizeof(T) == sizeof(Part) && copyable_bytes_v<T>;
  static void encode(Writer& w, const T& value) {
    Impl<Part>::encode(w, Get::part(value));
  }
  static T decode(Reader& r) { return T(Impl<Part>::decode(r)); }
  static std::size_t size(const T& value) { return size_of(Get::part(value)); }
};
struct DurationCount {
  template <class D>
  static auto part(const D& d) {
    return d.count();
  }
};
struct SinceEpoch {
  template <class P>
  static auto part(const P& p) {
    return p.time_since_epoch();
  }
};
template <class T>
struct Impl<T, Kind::duration>
    : WrapperImpl<T, typename T::rep, DurationCount> {};
template <class T>
struct Impl<T, Kind::time_point>
    : WrapperImpl<T, typename T::duration, SinceEpoch> {};

// codec_fields(): the tuple of references names the parts.
template <class Tie>
struct TieParts {
  static constexpr bool valid = false;
  static constexpr bool assignable = false;
  using P = void;
};
template <class... Rs>
struct TieParts<std::tuple<Rs...>> {
  static constexpr bool valid = (std::is_lvalue_reference_v<Rs> && ...);
  static constexpr bool assignable =
      valid && (!std::is_const_v<std::remove_reference_t<Rs>> && ...);
  using P = Parts<std::remove_cvref_t<Rs>...>;
};

template <class T>
struct Impl<T, Kind::fields> {
  using ConstTie = decltype(std::declval<const T&>().codec_fields());
  using P = std::conditional_t<TieParts<ConstTie>::valid,
                               typename TieParts<ConstTie>::P, Parts<>>;
  // Decoding assigns through the non-const overload's references.
  static constexpr bool writable = [] {
    if constexpr (requires(T & t) { t.codec_fields(); }) {
      using Tie = decltype(std::declval<T&>().codec_fields());
      return TieParts<Tie>::assignable &&
             std::is_same_v<typename TieParts<Tie>::P, P>;
    } else {
      return false;
    }
  }();
  static constexpr bool supported = TieParts<ConstTie>::valid && writable &&
                                    std::is_default_constructible_v<T> &&
                                    P::supported;
  static constexpr std::size_t min_size = P::min_size;
  static constexpr bool fixed = P::fixed;
  static constexpr std::size_t fixed_size = P::fixed_size;
  static constexpr bool bulk = false;
  static void encode(Writer& w, const T& value) {
    std::apply(
        [&](const auto&... field) {
          (Impl<std::remove_cvref_t<decltype(field)>>::encode(w, field), ...);
        },
        value.codec_fields());
  }
  static T decode(Reader& r) {
    T value{};
    std::apply(
        [&](auto&... field) {
          ((field = Impl<std::remove_cvref_t<decltype(field)>>::decode(r)),
           ...);
        },
        value.codec_fields());
    return value;
  }
  static std::size_t size(const T& value) {
    return std::apply(
        [](const auto&... field) {
          return (std::size_t{0} + ... + size_of(field));
        },
        value.codec_fields());
  }
};

// Aggregates, through Boost.PFR.
template <class T,
          class = std::make_index_sequence<boost::pfr::tuple_size_v<T>>>
struct AggregateParts;
template <class T, std::size_t... I>
struct AggregateParts<T, std::index_sequence<I...>> {
  using P = Parts<std::remove_cv_t<boost::pfr::tuple_element_t<I, T>>...>;
};

template <class T>
struct Impl<T, Kind::aggregate> {
  static constexpr std::size_t kFields = boost::pfr::tuple_size_v<T>;
  using P = typename AggregateParts<T>::P;
  template <std::size_t I>
  using Field = std::remove_cv_t<boost::pfr::tuple_element_t<I, T>>;

  static constexpr bool supported = P::supported;
  static constexpr std::size_t min_size = P::min_size;
  static constexpr bool fixed = P::fixed;
  static constexpr std::size_t fixed_size = P::fixed_size;
  // No padding and every field bulk: the struct's bytes are its encoding.
  static constexpr bool bulk =
      (kFields > 0 && P::bulk && sizeof(T) == P::sizeof_sum &&
       copyable_bytes_v<T>);
  static void encode(Writer& w, const T& value) {
    if constexpr (bulk) {
      w.write(&value, sizeof(T));
    } else {
      [&]<std::size_t... I>(std::index_sequence<I...>) {
        (Impl<Field<I>>::encode(w, boost::pfr::get<I>(value)), ...);
      }
      (std::make_index_sequence<kFields>());
    }
  }
  static T decode(Reader& r) {
    if constexpr (bulk) {
      T value;
      r.read(&value, sizeof(T), kTypeName<T>);
      return value;
    } else {
      return [&]<std::size_t... I>(std::index_sequence<I...>) {
        return T{Impl<Field<I>>::decode(r)...};  // braces: in order
      }
      (std::make_index_sequence<kFields>());
    }
  }
  static std::size_t size(const T& value) {
    return [&]<std::size_t... I>(std::index_sequence<I...>) {
      return (std::size_t{0} + ... + size_of(boost::pfr::get<I>(value)));
    }
    (std::make_index_sequence<kFields>());
  }
};

template <class T>
struct Impl<T, Kind::hook> {
  static constexpr bool supported =
      requires(Writer & w, Reader& r, const T& value) {
    Codec<T>::encode(w, value);
    { Codec<T>::decode(r) } -> std::same_as<T>;
    { Codec<T>::encoded_size(value) } -> std::same_as<std::size_t>;
  };
  static constexpr bool fixed = requires {
    { Codec<T>::fixed_size } -> std::convertible_to<std::size_t>;
  };
  static constexpr std::size_t fixed_size = [] {
    if constexpr (fixed) {
      return static_cast<std::size_t>(Codec<T>::fixed_size);
    } else {
      return std::size_t{0};
    }
  }();
  static constexpr std::size_t min_size = [] {
    if constexpr (fixed) {
      return fixed_size;
    } else if constexpr (requires {
                           {
                             Codec<T>::min_size
                             } -> std::convertible_to<std::size_t>;
                         }) {
      return static_cast<std::size_t>(Codec<T>::min_size);
    } else {
      return std::size_t{1};
    }
  }();
  static constexpr bool bulk = false;
  static void encode(Writer& w, const T& value) { Codec<T>::encode(w, value); }
  static T decode(Reader& r) { return Codec<T>::decode(r); }
  static std::size_t size(const T& value) {
    return Codec<T>::encoded_size(value);
  }
};

// The compile-time diagnosis an encode or decode of T starts with.
template <class T>
constexpr void check() {
  static_assert(
      !std::is_reference_v<T> && !std::is_const_v<T> && !std::is_volatile_v<T>,
      "concur::codec: encode and decode values of a plain type, "
      "not a reference or a cv-qualified type");
  static_assert(kind_of<T>() != Kind::unfixed_enum,
                "concur::codec: an enum without a fixed underlying type "
                "cannot be decoded safely (its valid values depend on its "
                "enumerators): declare it `enum class E` or `enum E : int`");
  static_assert(kind_of<T>() != Kind::conflict,
                "concur::codec: Codec<T> is specialized for a type that "
                "already has an encoding (built in, or codec_fields()): keep "
                "one of them");
  static_assert(Impl<T>::supported,
                "concur::codec: this type is not encodable. Encodable are "
                "arithmetic types, enums with a fixed underlying type, "
                "std::byte, std::string and the standard containers, "
                "optional, variant, pair, tuple, array and chrono types of "
                "encodable types, aggregates of them (through Boost.PFR), and "
                "types with a codec_fields() member or a Codec<T> "
                "specialization (see concur/codec.hpp); pointers are not");
}

}  // namespace detail

// ---------------------------------------------------------------------------
// The API.

// True exactly for the types the codec can encode and decode.
template <class T>
concept Encodable = detail::Impl<T>::supported;

// True when every value of T encodes to the same number of bytes,
// fixed_size_v<T>: arithmetic types, enums, and std::array, pair, tuple,
// chrono types and aggregates of fixed-size types.
template <class T>
inline constexpr bool is_fixed_size_v = (Encodable<T> &&
                                         detail::Impl<T>::fixed);

template <class T>
requires is_fixed_size_v<T>
inline constexpr std::size_t fixed_size_v = detail::Impl<T>::fixed_size;

// Appends the encoding of value.
template <class T>
void encode(Writer& w, const T& value) {
  detail::check<T>();
  if constexpr (Encodable<T>) detail::Impl<T>::encode(w, value);
}

// Reads one value of T (EOFError, ValueError: see the header comment).
template <class T>
T decode(Reader& r) {
  detail::check<T>();
  if constexpr (Encodable<T>) return detail::Impl<T>::decode(r);
}

// The exact number of bytes encode(value) writes, without writing them.
template <class T>
std::size_t encoded_size(const T& value) {
  detail::check<T>();
  if constexpr (Encodable<T>) {
    return detail::size_of(value);
  } else {
    return 0;
  }
}

// Encodes value into `out`, which must hold encoded_size(value) bytes (if it
// does not, ValueError is thrown and the bytes of `out` are unspecified),
// and returns the number of bytes written.
template <class T>
std::size_t encode_to(std::span<std::byte> out, const T& value) {
  Writer w(out);
  encode(w, value);
  return w.size();
}

namespace detail {

// What dumps and dumps_tagged share: a Buffer of its own, reserved for
// `size` bytes (0: let it grow), that encode_into(Writer&) fills.
template <class EncodeInto>
Buffer dump(std::size_t size, EncodeInto encode_into) {
  Buffer out;
  out.reserve(size);
  Writer w(out);
  encode_into(w);
  return out;
}

// What loads and loads_tagged share: the T that decode_from(Reader&) reads,
// which must take all of `bytes` (ValueError if bytes are left over).
template <class T, class DecodeFrom>
T load(std::span<const std::byte> bytes, DecodeFrom decode_from) {
  Reader r(bytes);
  T value = decode_from(r);
  if (r.remaining() != 0) [[unlikely]] {
    throw ValueError("codec: " + std::to_string(r.remaining()) +
                     " bytes left after a whole " +
                     display_name(type_name<T>()));
  }
  return value;
}

}  // namespace detail

// The encoding of value in a Buffer of its own.
template <class T>
Buffer dumps(const T& value) {
  return detail::dump(is_fixed_size_v<T> ? 0 : encoded_size(value),
                      [&](Writer& w) { encode(w, value); });
}

// The value `bytes` encodes, which must be all of them (ValueError if bytes
// are left over).
template <class T>
T loads(std::span<const std::byte> bytes) {
  return detail::load<T>(bytes, [](Reader& r) { return decode<T>(r); });
}

// ---------------------------------------------------------------------------
// Tagged frames: [fingerprint u64][LEB128 name length][name][value].

// The longest type name a tagged frame may carry; a longer one is corrupt.
inline constexpr std::size_t kMaxTypeNameSize = 1 << 16;

// A tagged frame's type identity, as read; `name` views the input.
struct Tag {
  std::uint64_t fingerprint;
  std::string_view name;
};

inline Tag read_tag(Reader& r) {
  constexpr std::string_view what = "a tagged frame's type name";
  Tag tag{};
  r.read(&tag.fingerprint, sizeof tag.fingerprint, what);
  const std::uint64_t size = r.read_varint(what);
  if (size > kMaxTypeNameSize) [[unlikely]] {
    detail::throw_corrupt(what, "a type name of " + std::to_string(size) +
                                    " bytes (at most " +
                                    std::to_string(kMaxTypeNameSize) + ")");
  }
  tag.name = std::string_view(reinterpret_cast<const char*>(
                                  r.take(static_cast<std::size_t>(size), what)),
                              static_cast<std::size_t>(size));
  return tag;
}

template <class T>
void encode_tagged(Writer& w, const T& value) {
  detail::check<T>();
  constexpr std::string_view name = type_name<T>();
  constexpr std::uint64_t print = fingerprint<T>();
  w.write(&print, sizeof print);
  w.write_varint(name.size());
  w.write(name.data(), name.size());
  encode(w, value);
}

template <class T>
std::size_t encoded_size_tagged(const T& value) {
  constexpr std::string_view name = type_name<T>();
  return sizeof(std::uint64_t) + varint_size(name.size()) + name.size() +
         encoded_size(value);
}

namespace detail {
[[noreturn, gnu::cold, gnu::noinline]] inline void throw_wrong_type(
    std::string_view expected, const Tag& tag) {
  if (fnv1a(tag.name) != tag.fingerprint) {
    throw ValueError(
        "codec: corrupt tagged frame: its fingerprint does not "
        "match its type name " +
        display_name(tag.name) + " (expected " + display_name(expected) + ")");
  }
  throw TypeError("codec: expected " + display_name(expected) + ", received " +
                  display_name(tag.name));
}
}  // namespace detail

// Reads a tagged frame holding a T: TypeError if it holds another type.
template <class T>
T decode_tagged(Reader& r) {
  detail::check<T>();
  const Tag tag = read_tag(r);
  if (tag.fingerprint != fingerprint<T>() || tag.name != type_name<T>())
      [[unlikely]] {
    detail::throw_wrong_type(type_name<T>(), tag);
  }
  return decode<T>(r);
}

template <class T>
Buffer dumps_tagged(const T& value) {
  return detail::dump(encoded_size_tagged(value),
                      [&](Writer& w) { encode_tagged(w, value); });
}

template <class T>
T loads_tagged(std::span<const std::byte> bytes) {
  return detail::load<T>(bytes, [](Reader& r) { return decode_tagged<T>(r); });
}

}  // namespace concur::codec
