// Type identity and tagged frames: type_name and fingerprint are
// compile-time constants, display_name reads well, and a tagged frame of one
// type is never decoded as another.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "concur/codec.hpp"
#include "counting_new.hpp"

namespace demo {
struct Order {
  int id;
  std::string item;
  bool operator==(const Order&) const = default;
};
}  // namespace demo

namespace {

namespace codec = concur::codec;
using codec::Buffer;

static_assert(codec::type_name<int>() == "int");
static_assert(codec::type_name<demo::Order>() == "demo::Order");
static_assert(codec::fingerprint<int>() == codec::detail::fnv1a("int"));
static_assert(codec::fingerprint<int>() != codec::fingerprint<unsigned>());
static_assert(codec::fingerprint<std::vector<int>>() !=
              codec::fingerprint<std::vector<long>>());

TEST(Identity, DisplayNames) {
  EXPECT_EQ(codec::display_name(codec::type_name<std::string>()),
            "std::string");
  EXPECT_EQ(codec::display_name(
                codec::type_name<std::vector<std::vector<std::string>>>()),
            "std::vector<std::vector<std::string>>");
  EXPECT_EQ(codec::display_name(codec::type_name<std::map<std::string, int>>()),
            "std::map<std::string, int>");
  EXPECT_EQ(codec::display_name(
                codec::type_name<std::map<unsigned long, long long>>()),
            "std::map<unsigned long, long long>");
  EXPECT_EQ(codec::display_name("std::__cxx11::basic_string<char>"),
            "std::string");
  EXPECT_EQ(
      codec::display_name("std::basic_string<char, std::char_traits<char>, "
                          "std::allocator<char> >"),
      "std::string");
  // Untrusted names: unprintable bytes masked, length capped.
  EXPECT_EQ(codec::display_name(std::string_view("a\n\0b", 4)), "a??b");
  EXPECT_EQ(codec::display_name(std::string(1000, 'x')).size(), 303u);
}

TEST(Tagged, RoundTripAndLayout) {
  const demo::Order order{7, "tea"};
  const Buffer b = codec::dumps_tagged(order);
  constexpr std::string_view name = codec::type_name<demo::Order>();
  ASSERT_EQ(b.size(), 8 + 1 + name.size() + codec::encoded_size(order));
  std::uint64_t print;
  std::memcpy(&print, b.data(), 8);
  EXPECT_EQ(print, codec::fingerprint<demo::Order>());
  EXPECT_EQ(static_cast<std::size_t>(b.data()[8]), name.size());
  codec::Reader r(b);
  const codec::Tag tag = codec::read_tag(r);
  EXPECT_EQ(tag.fingerprint, codec::fingerprint<demo::Order>());
  EXPECT_EQ(tag.name, name);
  EXPECT_EQ(codec::decode<demo::Order>(r), order);
  EXPECT_EQ(codec::loads_tagged<demo::Order>(b), order);
}

TEST(Tagged, WrongTypeIsTypeErrorNamingBoth) {
  const Buffer s = codec::dumps_tagged(std::string("five"));
  try {
    codec::loads_tagged<int>(s);
    ADD_FAILURE() << "no TypeError";
  } catch (const concur::TypeError& e) {
    EXPECT_STREQ(e.what(), "codec: expected int, received std::string");
  }
  // Same size, same bytes would fit: still refused.
  EXPECT_THROW(codec::loads_tagged<unsigned>(codec::dumps_tagged(5)),
               concur::TypeError);
  EXPECT_THROW(codec::loads_tagged<std::vector<long>>(
                   codec::dumps_tagged(std::vector<int>{1})),
               concur::TypeError);
}

TEST(Tagged, CorruptTag) {
  Buffer b = codec::dumps_tagged(5);
  // A fingerprint that does not hash its name: corrupt, not another type.
  b.data()[0] ^= std::byte{1};
  EXPECT_THROW(codec::loads_tagged<int>(b), concur::ValueError);
  // A name length past the end: EOFError; past the limit: ValueError.
  Buffer longer = codec::dumps_tagged(5);
  longer.data()[8] = std::byte{100};
  EXPECT_THROW(codec::loads_tagged<int>(longer), concur::EOFError);
  std::vector<std::byte> huge(8, std::byte{0});
  for (int v : {0x80, 0x80, 0x80, 0x01}) huge.push_back(std::byte(v));
  huge.resize(huge.size() + 64);
  EXPECT_THROW(codec::loads_tagged<int>(huge), concur::ValueError);
  // A name of another type with a matching fingerprint: TypeError.
  std::vector<std::byte> other(8);
  const std::uint64_t print = codec::detail::fnv1a("Other");
  std::memcpy(other.data(), &print, 8);
  other.push_back(std::byte{5});
  for (char c : std::string_view("Other")) other.push_back(std::byte(c));
  other.resize(other.size() + 4);
  EXPECT_THROW(codec::loads_tagged<int>(other), concur::TypeError);
}

// An int or a 20-character string travels through a Buffer with no heap
// allocation: encode, decode of the int, and the tagged frame of the int.
TEST(Allocation, SmallValuesStayInline) {
  const std::string twenty(20, 's');
  Buffer reused;
  codec_test::CountAllocations counting;
  Buffer i = codec::dumps(12345);
  const int back = codec::loads<int>(i);
  Buffer s = codec::dumps(twenty);
  Buffer t = codec::dumps_tagged(12345);
  const int tagged_back = codec::loads_tagged<int>(t);
  {
    codec::Writer w(reused);
    codec::encode(w, twenty);
    codec::encode(w, 7);
  }
  reused.clear();
  const auto seen = counting.stop();
  EXPECT_EQ(seen.count, 0u);
  EXPECT_EQ(back, 12345);
  EXPECT_EQ(tagged_back, 12345);
  EXPECT_EQ(codec::loads<std::string>(s), twenty);
}

// A decoded value allocates what the value needs, once: a vector<double>
// of 1000 is one allocation of 8000 bytes.
TEST(Allocation, BulkVectorAllocatesOnce) {
  const std::vector<double> v(1000, 1.0);
  const Buffer b = codec::dumps(v);
  codec_test::CountAllocations counting;
  const auto back = codec::loads<std::vector<double>>(b);
  const auto seen = counting.stop();
  EXPECT_EQ(seen.count, 1u);
  EXPECT_EQ(seen.largest, 8000u);
  EXPECT_EQ(back, v);
}

}  // namespace
