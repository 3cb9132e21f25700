// The types the codec fuzz target decodes, shared with its seed generator
// (codec_corpus.cpp) so that the seeds are valid encodings of exactly these.
// The first input byte picks one (kinds below); the rest is the encoding.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <unordered_map>
#include <variant>
#include <vector>

#include "concur/codec.hpp"

namespace codec_fuzz {

enum class Color : std::uint8_t { red, green, blue };

struct Point {
  double x;
  double y;
};

struct Sample {
  std::int32_t id;
  std::string label;
  std::optional<Point> where;
  std::vector<bool> flags;
  Color color;
  std::array<std::uint16_t, 3> triple;
};

using Composite =
    std::tuple<std::string, std::vector<std::int64_t>,
               std::optional<std::string>,
               std::map<std::string, std::vector<std::uint8_t>>,
               std::variant<std::monostate, std::int32_t, std::string, Sample>,
               std::set<std::int16_t>, std::vector<Sample>, bool, std::byte>;

using Nested = std::vector<std::optional<std::vector<std::map<
    std::uint8_t, std::variant<bool, std::string, std::vector<std::string>>>>>>;

// Unordered: decoded and re-encoded, compared by value, not by bytes.
using Unordered =
    std::unordered_map<std::string, std::unordered_map<std::int32_t, bool>>;

enum Kind : std::uint8_t {
  kComposite,
  kTaggedComposite,
  kVectorDouble,
  kNested,
  kUnordered,
  kTaggedSample,
  kKinds,
};

}  // namespace codec_fuzz
