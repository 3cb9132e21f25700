// The two hooks a type of your own adds (codec_fields() and a Codec<T>
// specialization), and the Encodable concept's answers, checked at compile
// time where they can be.
#include <memory>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>

#include "concur/codec.hpp"

namespace {

namespace codec = concur::codec;

// Form 1: private state, codec_fields() names what is sent.
class Account {
 public:
  Account() = default;
  Account(int id, std::string owner, long balance)
      : id_(id), owner_(std::move(owner)), balance_(balance) {}
  bool operator==(const Account&) const = default;

  auto codec_fields() { return std::tie(id_, owner_, balance_); }
  auto codec_fields() const { return std::tie(id_, owner_, balance_); }

 private:
  int id_ = 0;
  std::string owner_;
  long balance_ = 0;
  int cache_ = 0;  // not sent
};

// codec_fields() on an aggregate wins over PFR: only `kept` travels.
struct Partial {
  int kept = 0;
  int dropped = 0;
  auto codec_fields() { return std::tie(kept); }
  auto codec_fields() const { return std::tie(kept); }
};

// Form 2: not default-constructible, keeps an invariant (lo <= hi).
class Range {
 public:
  Range(int lo, int hi) : lo_(lo), hi_(hi) {
    if (lo > hi) throw concur::ValueError("Range: lo > hi");
  }
  int lo() const { return lo_; }
  int hi() const { return hi_; }
  bool operator==(const Range&) const = default;

 private:
  int lo_;
  int hi_;
};

// A variable-size hook, for containers of hook types.
class Name {
 public:
  explicit Name(std::string s) : s_(std::move(s)) {}
  const std::string& str() const { return s_; }
  bool operator==(const Name&) const = default;

 private:
  std::string s_;
};

// Neither form complete: not encodable.
class Incomplete {
 public:
  explicit Incomplete(int) {}
};

// Both hooks on one type: refused rather than picking one.
struct BothHooks {
  int a = 0;
  auto codec_fields() { return std::tie(a); }
  auto codec_fields() const { return std::tie(a); }
};
// A Codec for a type with a built-in encoding: refused too.
using BuiltIn = std::pair<Incomplete, Incomplete>;

struct WithPointer {
  int* p;
};
struct WithUnique {
  std::unique_ptr<int> p;
};
struct WithView {
  std::string_view s;
};
enum Plain { kA, kB };  // no fixed underlying type

}  // namespace

template <>
struct concur::codec::Codec<Range> {
  static constexpr std::size_t fixed_size = 8;
  static void encode(Writer& w, const Range& r) {
    codec::encode(w, r.lo());
    codec::encode(w, r.hi());
  }
  static Range decode(Reader& r) {
    const int lo = codec::decode<int>(r);
    const int hi = codec::decode<int>(r);
    return Range(lo, hi);  // throws ValueError on a broken invariant
  }
  static std::size_t encoded_size(const Range&) { return fixed_size; }
};

template <>
struct concur::codec::Codec<Name> {
  static void encode(Writer& w, const Name& n) { codec::encode(w, n.str()); }
  static Name decode(Reader& r) { return Name(codec::decode<std::string>(r)); }
  static std::size_t encoded_size(const Name& n) {
    return codec::encoded_size(n.str());
  }
};

template <>
struct concur::codec::Codec<Incomplete> {
  static void encode(Writer&, const Incomplete&) {}
};

template <>
struct concur::codec::Codec<BothHooks> {
  static void encode(Writer& w, const BothHooks& b) { codec::encode(w, b.a); }
  static BothHooks decode(Reader& r) {
    return BothHooks{codec::decode<int>(r)};
  }
  static std::size_t encoded_size(const BothHooks&) { return 4; }
};

template <>
struct concur::codec::Codec<BuiltIn> {
  static void encode(Writer&, const BuiltIn&) {}
  static BuiltIn decode(Reader&) { return {Incomplete(0), Incomplete(0)}; }
  static std::size_t encoded_size(const BuiltIn&) { return 0; }
};

namespace {

static_assert(codec::detail::kind_of<BothHooks>() ==
              codec::detail::Kind::conflict);
static_assert(!codec::Encodable<BothHooks>);
static_assert(codec::detail::kind_of<BuiltIn>() ==
              codec::detail::Kind::conflict);
static_assert(!codec::Encodable<BuiltIn>);

static_assert(codec::Encodable<Account>);
static_assert(codec::Encodable<Partial>);
static_assert(codec::Encodable<Range>);
static_assert(codec::Encodable<Name>);
static_assert(codec::Encodable<std::vector<Range>>);
static_assert(codec::Encodable<std::map<int, Name>>);
static_assert(codec::is_fixed_size_v<Range> && codec::fixed_size_v<Range> == 8);
static_assert(codec::is_fixed_size_v<std::array<Range, 2>>);
static_assert(!codec::is_fixed_size_v<Name>);

static_assert(!codec::Encodable<Incomplete>);
static_assert(!codec::Encodable<int*>);
static_assert(!codec::Encodable<const char*>);
static_assert(!codec::Encodable<WithPointer>);
static_assert(!codec::Encodable<WithUnique>);
static_assert(!codec::Encodable<WithView>);
static_assert(!codec::Encodable<std::string_view>);
static_assert(!codec::Encodable<std::unique_ptr<int>>);
static_assert(!codec::Encodable<std::vector<int*>>);
static_assert(!codec::Encodable<std::optional<WithPointer>>);
static_assert(!codec::Encodable<std::variant<int, void*>>);
static_assert(!codec::Encodable<Plain>);
static_assert(!codec::Encodable<int&>);
static_assert(!codec::Encodable<const int>);
static_assert(!codec::Encodable<int[3]>);
// Elements that take no bytes would let a count claim anything.
static_assert(!codec::Encodable<std::vector<std::monostate>>);
static_assert(!codec::Encodable<std::set<std::tuple<>>>);
static_assert(codec::Encodable<std::vector<std::optional<std::monostate>>>);

TEST(Hooks, CodecFields) {
  const Account a(7, "ada", -30);
  const codec::Buffer b = codec::dumps(a);
  EXPECT_EQ(b.size(), 4u + 4u + 8u);
  EXPECT_EQ(codec::encoded_size(a), b.size());
  EXPECT_EQ(codec::loads<Account>(b), a);
  EXPECT_EQ(codec::loads_tagged<Account>(codec::dumps_tagged(a)), a);
  for (std::size_t n = 0; n < b.size(); ++n) {
    EXPECT_THROW(codec::loads<Account>(std::span(b.data(), n)),
                 concur::EOFError);
  }
}

TEST(Hooks, CodecFieldsOverridesReflection) {
  const Partial p{5, 9};
  EXPECT_EQ(codec::encoded_size(p), 4u);
  const Partial back = codec::loads<Partial>(codec::dumps(p));
  EXPECT_EQ(back.kept, 5);
  EXPECT_EQ(back.dropped, 0);
}

TEST(Hooks, CodecSpecialization) {
  const Range r(-3, 12);
  EXPECT_EQ(codec::loads<Range>(codec::dumps(r)), r);
  const std::vector<Range> many{{1, 2}, {3, 4}};
  EXPECT_EQ(codec::loads<std::vector<Range>>(codec::dumps(many)), many);
  EXPECT_EQ(codec::encoded_size(many), 1u + 16u);
  // The hook's own check runs on decode.
  const codec::Buffer broken = codec::dumps(std::pair<int, int>{5, 1});
  EXPECT_THROW(codec::loads<Range>(broken), concur::ValueError);

  const std::map<int, Name> names{{1, Name("one")}, {2, Name("two")}};
  const codec::Buffer b = codec::dumps(names);
  EXPECT_EQ(b.size(), codec::encoded_size(names));
  EXPECT_EQ((codec::loads<std::map<int, Name>>(b)), names);
}

}  // namespace
