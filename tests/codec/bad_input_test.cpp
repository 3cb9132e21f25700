// Corrupt and truncated input: every case the header lists throws the error
// it names (EOFError when bytes are missing, ValueError when they are wrong),
// with a message naming the type, and a corrupt length never makes the
// decoder allocate in proportion to the length.
#include <cstddef>
#include <cstdint>
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
#include "counting_new.hpp"

namespace {

namespace codec = concur::codec;
using codec::Buffer;

std::vector<std::byte> Bytes(std::initializer_list<int> values) {
  std::vector<std::byte> out;
  for (int v : values) out.push_back(static_cast<std::byte>(v));
  return out;
}

// Runs `call`, expecting an exception of type E whose message contains
// `fragment`.
template <class E, class Call>
void ExpectError(Call call, const std::string& fragment) {
  try {
    call();
    ADD_FAILURE() << "no exception; expected one containing: " << fragment;
  } catch (const E& e) {
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos)
        << "message: " << e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "wrong exception: " << e.what();
  }
}

template <class T>
T Load(std::initializer_list<int> bytes) {
  const std::vector<std::byte> in = Bytes(bytes);
  return codec::loads<T>(in);
}

struct Record {
  int id;
  std::string name;
  std::vector<std::optional<double>> samples;
  std::map<std::string, std::variant<int, std::string>> attributes;
  std::set<int> tags;
  std::vector<bool> flags;
};

Record SampleRecord() {
  return Record{42,
                "record",
                {1.5, std::nullopt, -2.0},
                {{"a", 1}, {"b", std::string("bee")}},
                {3, 1, 2},
                {true, false, true}};
}

TEST(BadInput, TruncationAtEveryOffsetIsEOFError) {
  using Composite =
      std::tuple<Record, std::unordered_map<int, std::string>,
                 std::unordered_set<std::string>, std::optional<Record>>;
  const Composite value{
      SampleRecord(), {{1, "one"}, {2, "two"}}, {"x", "y"}, SampleRecord()};
  const Buffer b = codec::dumps(value);
  ASSERT_EQ(b.size(), codec::encoded_size(value));
  EXPECT_NO_THROW(codec::loads<Composite>(b));
  for (std::size_t n = 0; n < b.size(); ++n) {
    EXPECT_THROW(codec::loads<Composite>(std::span(b.data(), n)),
                 concur::EOFError)
        << n;
  }
  const Buffer tagged = codec::dumps_tagged(value);
  for (std::size_t n = 0; n < tagged.size(); ++n) {
    EXPECT_THROW(codec::loads_tagged<Composite>(std::span(tagged.data(), n)),
                 concur::EOFError)
        << n;
  }
}

TEST(BadInput, EOFMessageNamesTheType) {
  const Buffer b = codec::dumps(std::int64_t{1});
  ExpectError<concur::EOFError>(
      [&] { codec::loads<std::int64_t>(std::span(b.data(), 3)); },
      "codec: input ended: 8 more bytes needed for long, 3 left");
  ExpectError<concur::EOFError>(
      [] {
        Load<std::string>({5, 'a', 'b'});
      },
      "needed for std::string of 5 elements, 2 left");
  ExpectError<concur::EOFError>([] { Load<int>({}); }, "for int, 0 left");
}

TEST(BadInput, Bool) {
  EXPECT_EQ(Load<bool>({1}), true);
  ExpectError<concur::ValueError>(
      [] { Load<bool>({2}); }, "corrupt input for bool: byte 2 is not 0 or 1");
  EXPECT_THROW((Load<std::tuple<int, bool>>({0, 0, 0, 0, 0xff})),
               concur::ValueError);
}

TEST(BadInput, OptionalTag) {
  ExpectError<concur::ValueError>([] { Load<std::optional<int>>({2}); },
                                  "std::optional<int>: tag 2 is not 0 or 1");
}

TEST(BadInput, VariantIndex) {
  using V = std::variant<int, std::string>;
  ExpectError<concur::ValueError>(
      [] {
        Load<V>({2, 0});
      },
      "variant index 2 is out of range (2 alternatives)");
  EXPECT_THROW(Load<V>({0x80, 0x01}), concur::ValueError);
}

TEST(BadInput, Leb128) {
  // Overlong: eleven bytes.
  EXPECT_THROW(Load<std::string>({0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
                                  0x80, 0x80, 0x80, 0x00}),
               concur::ValueError);
  // Ten bytes that overflow 64 bits.
  ExpectError<concur::ValueError>(
      [] {
        Load<std::string>(
            {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02});
      },
      "overflows 64 bits");
  // Not in the shortest form (0 written in two bytes).
  ExpectError<concur::ValueError>(
      [] {
        Load<std::string>({0x80, 0x00});
      },
      "shortest form");
  // Ends inside the LEB128.
  EXPECT_THROW(Load<std::string>({0x80}), concur::EOFError);
}

TEST(BadInput, HugeCountsFailBeforeAllocating) {
  // A count of 2^63 and of 2^64 - 1, then a few bytes.
  const auto huge = Bytes(
      {0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01, 1, 2, 3});
  const auto max = Bytes(
      {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 1, 2, 3});
  // 1 GB claimed with 3 bytes present, for every kind of container.
  const auto gig = Bytes({0x80, 0x80, 0x80, 0x80, 0x04, 1, 2, 3});
  for (const auto& in : {huge, max, gig}) {
    codec_test::CountAllocations counting;
    EXPECT_THROW(codec::loads<std::string>(in), concur::EOFError);
    EXPECT_THROW(codec::loads<std::vector<std::uint8_t>>(in), concur::EOFError);
    EXPECT_THROW(codec::loads<std::vector<double>>(in), concur::EOFError);
    EXPECT_THROW(codec::loads<std::vector<std::string>>(in), concur::EOFError);
    EXPECT_THROW(codec::loads<std::vector<bool>>(in), concur::EOFError);
    EXPECT_THROW(codec::loads<std::deque<int>>(in), concur::EOFError);
    EXPECT_THROW((codec::loads<std::map<int, int>>(in)), concur::EOFError);
    EXPECT_THROW((codec::loads<std::unordered_map<int, int>>(in)),
                 concur::EOFError);
    EXPECT_THROW(codec::loads<std::set<std::string>>(in), concur::EOFError);
    EXPECT_THROW(codec::loads<std::unordered_set<int>>(in), concur::EOFError);
    EXPECT_THROW(codec::loads<std::vector<std::optional<std::monostate>>>(in),
                 concur::EOFError);
    // Only the exceptions' messages were allocated.
    EXPECT_LT(counting.stop().largest, 1024u);
  }
  ExpectError<concur::EOFError>([&] { codec::loads<std::vector<double>>(max); },
                                "cannot fit in the 3 bytes left");
}

TEST(BadInput, DuplicateAndUnorderedKeys) {
  ExpectError<concur::ValueError>(
      [] {
        Load<std::map<std::uint8_t, std::uint8_t>>({2, 1, 0, 1, 0});
      },
      "duplicate key");
  ExpectError<concur::ValueError>(
      [] {
        Load<std::map<std::uint8_t, std::uint8_t>>({2, 2, 0, 1, 0});
      },
      "not in increasing order");
  ExpectError<concur::ValueError>(
      [] {
        Load<std::set<std::uint8_t>>({3, 1, 2, 2});
      },
      "duplicate key");
  ExpectError<concur::ValueError>(
      [] {
        Load<std::unordered_map<std::uint8_t, bool>>({2, 1, 0, 1, 1});
      },
      "duplicate key");
  ExpectError<concur::ValueError>(
      [] {
        Load<std::unordered_set<std::uint8_t>>({2, 9, 9});
      },
      "duplicate key");
  // Order is the map's own comparator's.
  EXPECT_EQ((Load<std::set<std::uint8_t, std::greater<>>>({2, 2, 1})).size(),
            2u);
}

TEST(BadInput, VectorBoolPadding) {
  EXPECT_EQ(Load<std::vector<bool>>({3, 0b101}),
            (std::vector<bool>{true, false, true}));
  ExpectError<concur::ValueError>(
      [] {
        Load<std::vector<bool>>({3, 0b1101});
      },
      "padding bits");
}

TEST(BadInput, TrailingBytes) {
  ExpectError<concur::ValueError>(
      [] {
        Load<std::uint8_t>({1, 2, 3});
      },
      "codec: 2 bytes left after a whole unsigned char");
  const Buffer b = codec::dumps_tagged(5);
  std::vector<std::byte> longer(b.data(), b.data() + b.size());
  longer.push_back(std::byte{0});
  EXPECT_THROW(codec::loads_tagged<int>(longer), concur::ValueError);
}

TEST(BadInput, HookErrorsPropagate) {
  // A ValueError from decoding a field surfaces unchanged.
  const Buffer b = codec::dumps(std::tuple<int, std::uint8_t>{1, 1});
  std::vector<std::byte> bytes(b.data(), b.data() + b.size());
  bytes.back() = std::byte{7};
  EXPECT_THROW((codec::loads<std::tuple<int, bool>>(bytes)),
               concur::ValueError);
}

}  // namespace
