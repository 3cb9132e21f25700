// Writes the seed corpus of concur_codec_fuzz into the directory named on
// the command line: valid encodings of each kind in codec_types.hpp, each
// file the kind byte followed by the encoding. Generated rather than
// committed, so that the seeds follow the format as it changes.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>

#include "codec_types.hpp"

namespace {

namespace codec = concur::codec;
using namespace codec_fuzz;

int written = 0;

void write_seed(const std::filesystem::path& dir, Kind kind,
                const codec::Buffer& encoding) {
  const auto path = dir / ("seed-" + std::to_string(written++));
  std::ofstream out(path, std::ios::binary);
  const char kind_byte = static_cast<char>(kind);
  out.write(&kind_byte, 1);
  out.write(reinterpret_cast<const char*>(encoding.data()),
            static_cast<std::streamsize>(encoding.size()));
  if (!out) {
    std::fprintf(stderr, "codec_corpus: cannot write %s\n", path.c_str());
    std::exit(1);
  }
}

Sample sample(int i) {
  return Sample{
      i,
      "sample-" + std::to_string(i),
      i % 2 ? std::optional<Point>(Point{i * 0.5, -1.0 * i}) : std::nullopt,
      std::vector<bool>(static_cast<std::size_t>(i % 11), i % 3 == 0),
      static_cast<Color>(i % 3),
      {static_cast<std::uint16_t>(i), 0, 65535}};
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s DIRECTORY\n", argv[0]);
    return 2;
  }
  const std::filesystem::path dir = argv[1];
  std::filesystem::create_directories(dir);

  const Composite empty{};
  const Composite full{"hello",
                       {1, -2, std::numeric_limits<std::int64_t>::min()},
                       std::string("maybe"),
                       {{"a", {1, 2, 3}}, {"bb", {}}},
                       sample(3),
                       {-5, 0, 7},
                       {sample(1), sample(2)},
                       true,
                       std::byte{0x7f}};
  const Composite with_string = [&] {
    Composite c = full;
    std::get<4>(c) = std::string(200, 'v');
    return c;
  }();
  for (const Composite* c : {&empty, &full, &with_string}) {
    write_seed(dir, kComposite, codec::dumps(*c));
    write_seed(dir, kTaggedComposite, codec::dumps_tagged(*c));
  }

  write_seed(dir, kVectorDouble, codec::dumps(std::vector<double>{}));
  write_seed(dir, kVectorDouble,
             codec::dumps(std::vector<double>{
                 0.0, -1.5, 1e300, std::numeric_limits<double>::quiet_NaN()}));
  write_seed(dir, kVectorDouble, codec::dumps(std::vector<double>(300, 2.0)));

  Nested nested{
      std::nullopt,
      std::vector<
          std::map<std::uint8_t,
                   std::variant<bool, std::string, std::vector<std::string>>>>{
          {{1, true}, {2, std::string("two")}},
          {},
          {{9, std::vector<std::string>{"x", "", "zz"}}}}};
  write_seed(dir, kNested, codec::dumps(nested));
  write_seed(dir, kNested, codec::dumps(Nested{}));

  Unordered unordered{{"k", {{1, true}, {2, false}}}, {"", {}}};
  write_seed(dir, kUnordered, codec::dumps(unordered));

  for (int i = 0; i < 4; ++i) {
    write_seed(dir, kTaggedSample, codec::dumps_tagged(sample(i)));
  }
  std::printf("codec_corpus: %d seeds in %s\n", written, dir.c_str());
  return 0;
}
