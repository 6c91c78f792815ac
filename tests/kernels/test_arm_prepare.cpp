// tests/kernels/test_arm_prepare.cpp: the NEON activation preparation
// (arm/prepare-neon.hpp) against ref::prepare_rows__ref, byte for byte, for
// every ActFormat: random rows of every length around the 4/8/16/32-element
// vector steps, and the edge cases the rule names (rounding ties, all-zero
// rows, NaN/Inf rows, bf16 NaN/overflow/subnormals, partial row ranges).
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "jepa/kernels/dispatch.hpp"
#if defined(JEPA_KERNELS_ARM_NEON)
#include "jepa/kernels/arm/prepare-neon.hpp"  // the dispatch may only declare the tables
#endif

#if defined(JEPA_HAVE_PREPARE_NEON)

namespace {

using namespace jepa;
using namespace jepa::kernels;

struct Scratch {
  std::vector<uint8_t> raw;
  uint8_t* p;
  explicit Scratch(size_t n) : raw(n + 64, 0xA5) { p = raw.data() + ((64 - ((uintptr_t)raw.data() & 63)) & 63); }
};

// Prepares rows [r0, r1) both ways into scratch pre-filled with the same
// garbage; returns the first differing byte offset or -1.
long compare(ActFormat f, const std::vector<float>& x, size_t ldx, int32_t m, int32_t k, int32_t r0, int32_t r1) {
  const size_t bytes = prepared_bytes(f, m, k);
  Scratch a(bytes), b(bytes);
  ref::prepare_rows__ref(f, x.data(), ldx, m, k, r0, r1, a.p);
  arm::prepare_rows__neon(f, x.data(), ldx, m, k, r0, r1, b.p);
  for (size_t i = 0; i < bytes; ++i)
    if (a.p[i] != b.p[i]) return (long)i;
  return -1;
}

const ActFormat kFormats[] = {ActFormat::s8, ActFormat::u8, ActFormat::s8_sums, ActFormat::bf16};

}  // namespace

TEST_CASE("arm: NEON prepare equals the reference on random rows of every length") {
  std::mt19937 rng(5);
  std::normal_distribution<float> d(0.0f, 2.0f);
  for (ActFormat f : kFormats)
    for (int32_t k = 1; k <= 70; ++k) {
      const int32_t m = 3;
      const size_t ldx = (size_t)k + 1;
      std::vector<float> x(m * ldx);
      for (float& v : x) v = d(rng);
      const long at = compare(f, x, ldx, m, k, 0, m);
      CHECK_MESSAGE(at < 0, "format " << (int)f << " k " << k << ": first differing byte " << at);
    }
}

TEST_CASE("arm: NEON prepare edge cases") {
  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  const float sub = std::numeric_limits<float>::denorm_min(), big = std::numeric_limits<float>::max();
  // amax = 127 makes x * inv = x exactly, so the .5 values are rounding ties.
  const std::vector<std::vector<float>> rows = {
      {127.0f, 0.5f, 1.5f, 2.5f, -0.5f, -1.5f, -2.5f, 3.5f, 4.5f, -126.5f, 0.0f, -0.0f},
      {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},                          // scale 0
      {1.0f, 2.0f, nan, 3.0f, 1, 1, 1, 1, 1, 1, 1, 1},               // NaN inside a vector step
      {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, -inf},                       // Inf in the scalar tail
      {sub, -sub, 2 * sub, 0, sub, sub, sub, sub, sub, sub, sub, 0},  // subnormal amax
      {big, -big, big, 1e-30f, 3e38f, -3e38f, 1, 2, 3, 4, 5, 6},       // bf16 overflow to inf
      {1.00390625f, 1.01171875f, -1.00390625f, 65504.0f, 1e-40f, 3.0f, 7, 8, 9, 10, 11, 12},  // bf16 ties
  };
  const int32_t k = 12;
  std::vector<float> x;
  for (const auto& r : rows) x.insert(x.end(), r.begin(), r.end());
  const int32_t m = (int32_t)rows.size();
  for (ActFormat f : kFormats) {
    CHECK_MESSAGE(compare(f, x, k, m, k, 0, m) < 0, "format " << (int)f);
    CHECK_MESSAGE(compare(f, x, k, m, k, 2, 5) < 0, "format " << (int)f << ", rows [2, 5)");
  }
  // bf16 NaNs stay NaN (quiet), whatever their payload.
  std::vector<float> nans(8);
  const uint32_t payloads[8] = {0x7FC00000u, 0xFFC00000u, 0x7F800001u, 0xFF800001u,
                                0x7FFFFFFFu, 0x7F80FFFFu, 0x7FBFFFFFu, 0xFFFFFFFFu};
  for (int i = 0; i < 8; ++i) std::memcpy(&nans[i], &payloads[i], 4);
  CHECK(compare(ActFormat::bf16, nans, 8, 1, 8, 0, 1) < 0);
}

TEST_CASE("arm: the kernel table uses the NEON prepare unless the ISA is capped to scalar") {
  // (doctest cannot print function pointers: compare into bools)
  const bool uncapped = choose_kernels(cpu_features(), 255).prepare == &arm::prepare_rows__neon;
  const bool neon = choose_kernels(cpu_features(), (int)Isa::neon).prepare == &arm::prepare_rows__neon;
  const bool scalar = choose_kernels(cpu_features(), (int)Isa::scalar).prepare == &ref::prepare_rows__ref;
  CHECK(uncapped);
  CHECK(neon);
  CHECK(scalar);
}

#endif  // JEPA_HAVE_PREPARE_NEON
