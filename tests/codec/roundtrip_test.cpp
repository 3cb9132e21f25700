// Round trips through concur/codec.hpp: every supported type and nestings
// of them decode to the value encoded; encoded_size is exact; encode_to
// writes the same bytes; every strict prefix of an encoding is an EOFError;
// a few encodings are checked byte by byte against the format.
#include <array>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <unordered_map>
#include <unordered_set>
#include <variant>
#include <vector>

#include <gtest/gtest.h>

#include "concur/codec.hpp"

namespace {

namespace codec = concur::codec;
using codec::Buffer;

std::vector<std::byte> Bytes(std::initializer_list<int> values) {
  std::vector<std::byte> out;
  for (int v : values) out.push_back(static_cast<std::byte>(v));
  return out;
}

bool SameBytes(std::span<const std::byte> a, std::span<const std::byte> b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end());
}

// Everything a round trip of `value` must satisfy.
template <class T>
void ExpectRoundTrip(const T& value) {
  SCOPED_TRACE(codec::display_name(codec::type_name<T>()));
  static_assert(codec::Encodable<T>);
  const Buffer encoded = codec::dumps(value);
  EXPECT_EQ(encoded.size(), codec::encoded_size(value));
  EXPECT_EQ(codec::loads<T>(encoded), value);

  std::vector<std::byte> out(encoded.size());
  EXPECT_EQ(codec::encode_to(out, value), encoded.size());
  EXPECT_TRUE(SameBytes(out, encoded));

  Buffer appended;
  codec::Writer w(appended);
  codec::encode(w, value);
  codec::encode(w, value);
  EXPECT_EQ(appended.size(), 2 * encoded.size());
  codec::Reader r(appended);
  EXPECT_EQ(codec::decode<T>(r), value);
  EXPECT_EQ(r.position(), encoded.size());
  EXPECT_EQ(codec::decode<T>(r), value);
  EXPECT_EQ(r.remaining(), 0u);

  const Buffer tagged = codec::dumps_tagged(value);
  EXPECT_EQ(tagged.size(), codec::encoded_size_tagged(value));
  EXPECT_EQ(codec::loads_tagged<T>(tagged), value);

  if constexpr (codec::is_fixed_size_v<T>) {
    EXPECT_EQ(encoded.size(), codec::fixed_size_v<T>);
  }
  // Every strict prefix ends before a whole value.
  for (std::size_t n = 0; n < encoded.size(); ++n) {
    EXPECT_THROW(codec::loads<T>(std::span(encoded.data(), n)),
                 concur::EOFError)
        << "prefix of " << n << " of " << encoded.size() << " bytes";
  }
}

enum class Color : std::uint8_t { red, green, blue };
enum Legacy : short { kOne = 1, kTwo = 2 };

struct Point {
  double x;
  double y;
  bool operator==(const Point&) const = default;
};

struct Padded {
  std::uint8_t tag;
  std::uint32_t value;
  bool operator==(const Padded&) const = default;
};

struct Inner {
  std::string label;
  std::optional<int> weight;
  bool operator==(const Inner&) const = default;
};

struct Outer {
  int id = 0;
  Inner inner;
  std::vector<Point> path;
  std::map<std::string, std::vector<int>> index;
  std::variant<std::monostate, double, std::string> extra;
  Color color = Color::red;
  bool operator==(const Outer&) const = default;
};

struct Empty {
  bool operator==(const Empty&) const = default;
};

TEST(RoundTrip, Integers) {
  ExpectRoundTrip(0);
  ExpectRoundTrip(-1);
  ExpectRoundTrip(std::numeric_limits<int>::min());
  ExpectRoundTrip(std::numeric_limits<std::int64_t>::max());
  ExpectRoundTrip(std::numeric_limits<std::uint64_t>::max());
  ExpectRoundTrip(static_cast<std::int8_t>(-128));
  ExpectRoundTrip(static_cast<std::uint16_t>(65535));
  ExpectRoundTrip('x');
  ExpectRoundTrip(static_cast<signed char>(-3));
  ExpectRoundTrip(static_cast<unsigned char>(250));
  ExpectRoundTrip(L'w');
  ExpectRoundTrip(u8'u');
  ExpectRoundTrip(u'\u00e9');
  ExpectRoundTrip(U'\U0001F600');
  ExpectRoundTrip(true);
  ExpectRoundTrip(false);
}

TEST(RoundTrip, FloatingPoint) {
  ExpectRoundTrip(3.25f);
  ExpectRoundTrip(-0.0);
  ExpectRoundTrip(std::numeric_limits<double>::infinity());
  ExpectRoundTrip(std::numeric_limits<double>::denorm_min());
  ExpectRoundTrip(1.0L / 3.0L);
  // NaN keeps its bits (NaN != NaN, so compare the re-encoding).
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const Buffer b = codec::dumps(nan);
  EXPECT_TRUE(std::isnan(codec::loads<double>(b)));
  EXPECT_EQ(codec::dumps(codec::loads<double>(b)), b);
}

TEST(RoundTrip, EnumsAndBytes) {
  ExpectRoundTrip(Color::blue);
  ExpectRoundTrip(kTwo);
  ExpectRoundTrip(std::byte{0xab});
  // A scoped enum holds any value of its underlying type.
  ExpectRoundTrip(static_cast<Color>(200));
  EXPECT_EQ(codec::fixed_size_v<Color>, 1u);
  EXPECT_EQ(codec::fixed_size_v<Legacy>, 2u);
}

TEST(RoundTrip, Strings) {
  ExpectRoundTrip(std::string());
  ExpectRoundTrip(std::string("ping"));
  ExpectRoundTrip(std::string("with\0nul", 8));
  ExpectRoundTrip(std::string(300, 'z'));  // a two-byte length
  ExpectRoundTrip(std::string("\xff\xfe binary"));
}

TEST(RoundTrip, Vectors) {
  ExpectRoundTrip(std::vector<int>());
  ExpectRoundTrip(std::vector<int>{1, -2, 3});
  ExpectRoundTrip(std::vector<double>(1000, 0.5));
  ExpectRoundTrip(std::vector<std::string>{"a", "", "ccc"});
  ExpectRoundTrip(std::vector<std::vector<int>>{{}, {1}, {2, 3}});
  ExpectRoundTrip(std::vector<Color>{Color::green, Color::red});
  ExpectRoundTrip(std::vector<std::byte>{std::byte{1}, std::byte{255}});
  ExpectRoundTrip(std::vector<Point>{{1, 2}, {3, 4}});
  ExpectRoundTrip(std::vector<Padded>{{1, 2}, {3, 4}});
  ExpectRoundTrip(std::vector<std::array<float, 3>>{{1, 2, 3}, {4, 5, 6}});
  ExpectRoundTrip(std::vector<long double>{1.5L, -2.25L});
  ExpectRoundTrip(std::deque<int>{5, 6, 7});
  ExpectRoundTrip(std::deque<std::string>{"x", "yz"});
}

TEST(RoundTrip, VectorBool) {
  ExpectRoundTrip(std::vector<bool>());
  ExpectRoundTrip(std::vector<bool>{true});
  ExpectRoundTrip(
      std::vector<bool>{true, false, true, true, false, false, true, false});
  std::vector<bool> bits(77);
  for (std::size_t i = 0; i < bits.size(); i += 3) bits[i] = true;
  ExpectRoundTrip(bits);
  EXPECT_EQ(codec::encoded_size(bits), 1u + 10u);
  ExpectRoundTrip(std::vector<std::vector<bool>>{{true}, {}, {false, true}});
}

TEST(RoundTrip, ArraysPairsTuples) {
  ExpectRoundTrip(std::array<int, 4>{1, 2, 3, 4});
  ExpectRoundTrip(std::array<std::string, 2>{"a", "b"});
  ExpectRoundTrip(std::array<int, 0>{});
  ExpectRoundTrip(std::pair<int, std::string>{1, "one"});
  ExpectRoundTrip(std::tuple<>());
  ExpectRoundTrip(std::tuple<int, double, std::string>{1, 2.5, "three"});
  ExpectRoundTrip(std::tuple<std::pair<int, int>, std::array<bool, 3>>{
      {1, 2}, {true, false, true}});
}

TEST(RoundTrip, OptionalAndVariant) {
  ExpectRoundTrip(std::optional<int>());
  ExpectRoundTrip(std::optional<int>(5));
  ExpectRoundTrip(std::optional<std::optional<std::string>>(std::nullopt));
  ExpectRoundTrip(
      std::optional<std::optional<std::string>>(std::optional<std::string>()));
  ExpectRoundTrip(std::optional<std::optional<std::string>>("deep"));
  using V = std::variant<std::monostate, int, std::string, std::vector<int>>;
  ExpectRoundTrip(V());
  ExpectRoundTrip(V(7));
  ExpectRoundTrip(V("seven"));
  ExpectRoundTrip(V(std::vector<int>{7, 7}));
  // Alternatives of one type are told apart by index.
  using Twice = std::variant<int, int>;
  ExpectRoundTrip(Twice(std::in_place_index<1>, 3));
  EXPECT_EQ(codec::loads<Twice>(codec::dumps(Twice(std::in_place_index<1>, 3)))
                .index(),
            1u);
  ExpectRoundTrip(std::monostate());
}

TEST(RoundTrip, Maps) {
  ExpectRoundTrip(std::map<int, std::string>());
  ExpectRoundTrip(std::map<int, std::string>{{3, "c"}, {1, "a"}, {2, "b"}});
  ExpectRoundTrip(std::map<std::string, std::map<int, bool>>{{"x", {{1, true}}},
                                                             {"y", {}}});
  ExpectRoundTrip(std::map<int, int, std::greater<>>{{1, 1}, {2, 2}});
  ExpectRoundTrip(std::set<std::string>{"b", "a", "c"});
  ExpectRoundTrip(std::set<std::tuple<int, int>>{{1, 2}, {0, 5}});
  ExpectRoundTrip(
      std::unordered_map<std::string, int>{{"a", 1}, {"b", 2}, {"c", 3}});
  ExpectRoundTrip(std::unordered_set<int>{4, 5, 6, 7});
  ExpectRoundTrip(
      std::unordered_map<int, std::vector<std::string>>{{1, {"x"}}, {2, {}}});
}

TEST(RoundTrip, Chrono) {
  using namespace std::chrono_literals;
  ExpectRoundTrip(1500ms);
  ExpectRoundTrip(std::chrono::duration<double>(0.25));
  ExpectRoundTrip(std::chrono::system_clock::time_point(123456789us));
  ExpectRoundTrip(std::chrono::steady_clock::now());
  ExpectRoundTrip(std::vector<std::chrono::nanoseconds>{1ns, 2ns});
  EXPECT_EQ(codec::fixed_size_v<std::chrono::milliseconds>, 8u);
}

TEST(RoundTrip, Aggregates) {
  ExpectRoundTrip(Point{1.5, -2});
  ExpectRoundTrip(Padded{7, 0xdeadbeef});
  ExpectRoundTrip(Empty{});
  Outer outer;
  outer.id = 42;
  outer.inner = {"inner", 9};
  outer.path = {{0, 0}, {1, 1}};
  outer.index = {{"evens", {0, 2, 4}}, {"odds", {1, 3}}};
  outer.extra = std::string("extra");
  outer.color = Color::green;
  ExpectRoundTrip(outer);
  ExpectRoundTrip(std::vector<Outer>{outer, Outer{}});
  ExpectRoundTrip(std::map<int, Inner>{{1, {"a", std::nullopt}}});
}

// Formats pinned byte by byte: the wire is an interface.
TEST(Format, Bytes) {
  EXPECT_TRUE(SameBytes(codec::dumps(0x01020304), Bytes({4, 3, 2, 1})));
  EXPECT_TRUE(SameBytes(codec::dumps(true), Bytes({1})));
  EXPECT_TRUE(SameBytes(codec::dumps(std::string("hi")), Bytes({2, 'h', 'i'})));
  EXPECT_TRUE(SameBytes(codec::dumps(std::string(128, 'a')).bytes().first(2),
                        Bytes({0x80, 0x01})));
  EXPECT_TRUE(SameBytes(codec::dumps(std::vector<std::uint16_t>{1, 2}),
                        Bytes({2, 1, 0, 2, 0})));
  EXPECT_TRUE(
      SameBytes(codec::dumps(std::vector<bool>{true, false, true, true, false,
                                               false, false, false, true}),
                Bytes({9, 0b00001101, 0b1})));
  EXPECT_TRUE(
      SameBytes(codec::dumps(std::optional<std::uint8_t>()), Bytes({0})));
  EXPECT_TRUE(
      SameBytes(codec::dumps(std::optional<std::uint8_t>(7)), Bytes({1, 7})));
  EXPECT_TRUE(
      SameBytes(codec::dumps(std::variant<std::uint8_t, std::string>("")),
                Bytes({1, 0})));
  EXPECT_TRUE(SameBytes(
      codec::dumps(std::map<std::uint8_t, bool>{{2, false}, {1, true}}),
      Bytes({2, 1, 1, 2, 0})));
  EXPECT_TRUE(SameBytes(codec::dumps(Padded{1, 2}), Bytes({1, 2, 0, 0, 0})));
}

TEST(Format, VarintSize) {
  EXPECT_EQ(codec::varint_size(0), 1u);
  EXPECT_EQ(codec::varint_size(127), 1u);
  EXPECT_EQ(codec::varint_size(128), 2u);
  EXPECT_EQ(codec::varint_size(16383), 2u);
  EXPECT_EQ(codec::varint_size(16384), 3u);
  EXPECT_EQ(codec::varint_size(std::numeric_limits<std::uint64_t>::max()), 10u);
  for (std::uint64_t v : std::initializer_list<std::uint64_t>{
           0, 1, 127, 128, 300, std::uint64_t{1} << 35,
           std::numeric_limits<std::uint64_t>::max()}) {
    Buffer b;
    codec::Writer w(b);
    w.write_varint(v);
    EXPECT_EQ(b.size(), codec::varint_size(v));
    codec::Reader r(b);
    EXPECT_EQ(r.read_varint("test"), v);
  }
}

TEST(FixedSize, Traits) {
  static_assert(codec::fixed_size_v<int> == 4);
  static_assert(codec::fixed_size_v<bool> == 1);
  static_assert(codec::fixed_size_v<std::byte> == 1);
  static_assert(codec::fixed_size_v<std::array<std::int16_t, 5>> == 10);
  static_assert(codec::fixed_size_v<std::pair<char, double>> == 9);
  static_assert(codec::fixed_size_v<std::tuple<int, Color, bool>> == 6);
  static_assert(codec::fixed_size_v<Point> == 16);
  static_assert(codec::fixed_size_v<Padded> == 5);  // no padding sent
  static_assert(codec::fixed_size_v<Empty> == 0);
  static_assert(codec::fixed_size_v<std::monostate> == 0);
  static_assert(codec::fixed_size_v<std::tuple<>> == 0);
  static_assert(codec::is_fixed_size_v<std::array<Point, 3>>);
  static_assert(!codec::is_fixed_size_v<std::string>);
  static_assert(!codec::is_fixed_size_v<std::optional<int>>);
  static_assert(!codec::is_fixed_size_v<std::variant<int, float>>);
  static_assert(!codec::is_fixed_size_v<Outer>);
  static_assert(!codec::is_fixed_size_v<int*>);
}

TEST(EncodeTo, WritesInPlaceAndRefusesAShortSpan) {
  const std::tuple<int, std::string> value{5, "five"};
  const std::size_t size = codec::encoded_size(value);
  std::vector<std::byte> ring(64, std::byte{0xee});
  EXPECT_EQ(codec::encode_to(std::span(ring).subspan(10), value), size);
  EXPECT_EQ(ring[9], std::byte{0xee});
  EXPECT_EQ(ring[10 + size], std::byte{0xee});
  EXPECT_EQ((codec::loads<std::tuple<int, std::string>>(
                std::span(ring).subspan(10, size))),
            value);
  // Too small: ValueError, and nothing written past the span's end.
  std::vector<std::byte> small(size + 1, std::byte{0xee});
  EXPECT_THROW(codec::encode_to(std::span(small).first(size - 1), value),
               concur::ValueError);
  EXPECT_EQ(small[size - 1], std::byte{0xee});
  EXPECT_EQ(codec::encode_to(std::span<std::byte>(), std::tuple<>()), 0u);
}

TEST(BufferTest, GrowsMovesAndCopies) {
  Buffer a;
  EXPECT_TRUE(a.empty());
  EXPECT_GE(a.capacity(), 64u);
  EXPECT_EQ(sizeof(Buffer), 128u);
  std::vector<std::byte> big(1000);
  for (std::size_t i = 0; i < big.size(); ++i) {
    big[i] = static_cast<std::byte>(i * 7);
  }
  a.append(big);
  EXPECT_TRUE(SameBytes(a, big));
  Buffer copy = a;
  EXPECT_EQ(copy, a);
  Buffer moved = std::move(a);
  EXPECT_TRUE(a.empty());  // NOLINT(bugprone-use-after-move): documented
  EXPECT_EQ(moved, copy);
  Buffer small{std::span(big).first(5)};
  Buffer small_moved = std::move(small);
  EXPECT_TRUE(SameBytes(small_moved, std::span(big).first(5)));
  small_moved = copy;
  EXPECT_EQ(small_moved, copy);
  copy = Buffer(std::span(big).first(3));
  EXPECT_EQ(copy.size(), 3u);
  copy.resize(6);
  EXPECT_EQ(copy.data()[5], std::byte{0});
  copy.clear();
  EXPECT_TRUE(copy.empty());
  copy.reserve(5000);
  EXPECT_GE(copy.capacity(), 5000u);
}

// A Writer over a Buffer stays valid while the buffer grows under it.
TEST(WriterTest, AppendsAcrossGrowth) {
  Buffer b;
  codec::Writer w(b);
  for (int i = 0; i < 1000; ++i) codec::encode(w, i);
  EXPECT_EQ(w.size(), 4000u);
  EXPECT_EQ(b.size(), 4000u);
  codec::Reader r(b);
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(codec::decode<int>(r), i);
}

}  // namespace
