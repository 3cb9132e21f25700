// libFuzzer target for concur/codec.hpp: decodes the input as one of the
// types in codec_types.hpp (the first byte picks which). Any input may be
// refused with EOFError, ValueError or TypeError, never with a crash, a leak
// or undefined behaviour (the build adds ASan and UBSan). When a decode
// succeeds, the value is re-encoded: the encoding is canonical, so for the
// ordered types the bytes must be the ones consumed, and for the unordered
// one the value must decode back equal; any mismatch aborts.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <span>

#include "codec_types.hpp"

namespace {

namespace codec = concur::codec;
using namespace codec_fuzz;

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "codec_fuzz: %s\n", what);
  std::abort();
}

// Decodes a T from `in`; if that works, checks that its encoding is exactly
// the bytes consumed and that encoded_size agrees.
template <class T, bool Tagged = false>
void check_canonical(std::span<const std::byte> in) {
  codec::Reader r(in);
  T value = Tagged ? codec::decode_tagged<T>(r) : codec::decode<T>(r);
  const std::size_t consumed = r.position();
  codec::Buffer out;
  codec::Writer w(out);
  if constexpr (Tagged) {
    codec::encode_tagged(w, value);
    if (out.size() != codec::encoded_size_tagged(value)) {
      fail("encoded_size_tagged disagrees with encode_tagged");
    }
  } else {
    codec::encode(w, value);
    if (out.size() != codec::encoded_size(value)) {
      fail("encoded_size disagrees with encode");
    }
  }
  if (out.size() != consumed ||
      (consumed != 0 && std::memcmp(out.data(), in.data(), consumed) != 0)) {
    fail("re-encoding differs from the bytes decoded");
  }
}

void check_unordered(std::span<const std::byte> in) {
  codec::Reader r(in);
  const auto value = codec::decode<Unordered>(r);
  const codec::Buffer out = codec::dumps(value);
  if (out.size() != r.position()) fail("unordered: re-encoding size differs");
  if (codec::loads<Unordered>(out) != value) fail("unordered: value differs");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  if (size == 0) return 0;
  const std::span<const std::byte> in(
      reinterpret_cast<const std::byte*>(data) + 1, size - 1);
  try {
    switch (data[0] % kKinds) {
      case kComposite:
        check_canonical<Composite>(in);
        break;
      case kTaggedComposite:
        check_canonical<Composite, true>(in);
        break;
      case kVectorDouble:
        check_canonical<std::vector<double>>(in);
        break;
      case kNested:
        check_canonical<Nested>(in);
        break;
      case kUnordered:
        check_unordered(in);
        break;
      case kTaggedSample:
        check_canonical<Sample, true>(in);
        break;
    }
  } catch (const concur::EOFError&) {
  } catch (const concur::ValueError&) {
  } catch (const concur::TypeError&) {
  }
  return 0;
}
