// tests/kernels/test_vector_math.cpp: the vector GELU of the GEMM epilogues
// (gelu_avx2, gelu_avx512, gelu_neon: ref::gelu_erf's rational erf) against
// the exact GELU in double on a dense grid and at special values, and the
// AVX-512 exp against the AVX2 one, bit for bit (kernels/x86/common-x86.hpp).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "jepa/kernels/cpu_features.hpp"
#include "kernels/kernel_test_util.hpp"  // kt::small_grid
#include "jepa/kernels/ref/math.hpp"
#if JEPA_ARCH_X86_64 && !defined(JEPA_NO_SIMD)
#include "jepa/kernels/x86/common-x86.hpp"
#endif
#if JEPA_ARCH_AARCH64 && !defined(JEPA_NO_SIMD)
#include "jepa/kernels/arm/neon-common.hpp"
#endif

namespace {

// The bound ref::gelu_erf states (and tests/kernels' kGeluRelTol allows 6e-7).
constexpr double kVectorGeluRelTol = 2.5e-7;

double exact_gelu(double x) { return 0.5 * x * std::erfc(-x / std::sqrt(2.0)); }

// Inputs: a dense grid over [-14, 14] (2^20 steps; 2^16 under QEMU), tiny
// and huge magnitudes.
std::vector<float> gelu_inputs() {
  std::vector<float> xs;
  const int n = kt::small_grid() ? 1 << 16 : 1 << 20;
  for (int i = 0; i <= n; ++i) xs.push_back(-14.0f + 28.0f * (float)i / (float)n);
  for (float m : {1e-38f, 1e-30f, 1e-10f, 1e-3f, 1e3f, 1e10f, 1e30f, 3e38f}) {
    xs.push_back(m);
    xs.push_back(-m);
  }
  return xs;
}

// Runs gelu on every input (in vectors of `lanes`); checks the error bound
// and the special values. Returns the worst |err| / |x|.
template <typename Fn>
double check_vector_gelu(const char* what, int lanes, Fn gelu) {
  std::vector<float> xs = gelu_inputs();
  while (xs.size() % (size_t)lanes) xs.push_back(0.0f);
  std::vector<float> ys(xs.size());
  for (size_t i = 0; i < xs.size(); i += (size_t)lanes) gelu(xs.data() + i, ys.data() + i);
  double worst = 0.0;
  for (size_t i = 0; i < xs.size(); ++i) {
    const double x = xs[i], err = std::fabs((double)ys[i] - exact_gelu(x));
    if (std::fabs(x) < 1e30) worst = std::max(worst, err / std::max(std::fabs(x), 1e-38));
    if (std::fabs(x) >= 1e30) CHECK(ys[i] == (x > 0 ? xs[i] : 0.0f));  // the limits: x and (-)0
  }
  MESSAGE(std::string(what) << ": max |gelu - exact| / |x| = " << worst);
  CHECK(worst <= kVectorGeluRelTol);
  // NaN stays NaN; 0 and +inf map to themselves.
  float special[16] = {std::numeric_limits<float>::quiet_NaN(), -std::numeric_limits<float>::quiet_NaN(), 0.0f,
                       std::numeric_limits<float>::infinity()};
  float out[16];
  for (int i = 0; i < 16; i += lanes) gelu(special + i, out + i);
  CHECK(std::isnan(out[0]));
  CHECK(std::isnan(out[1]));
  CHECK(out[2] == 0.0f);
  CHECK(out[3] == std::numeric_limits<float>::infinity());
  return worst;
}

#if JEPA_ARCH_X86_64 && !defined(JEPA_NO_SIMD) && defined(JEPA_KERNELS_X86_AVX2)
JEPA_TARGET_AVX2 void gelu8(const float* x, float* y) {
  _mm256_storeu_ps(y, jepa::kernels::x86::gelu_avx2(_mm256_loadu_ps(x)));
}
#endif
#if JEPA_ARCH_X86_64 && !defined(JEPA_NO_SIMD) && defined(JEPA_KERNELS_X86_AVX512)
JEPA_TARGET_AVX512 void gelu16(const float* x, float* y) {
  _mm512_storeu_ps(y, jepa::kernels::x86::gelu_avx512(_mm512_loadu_ps(x)));
}
JEPA_TARGET_AVX512 void exp16(const float* x, float* y) {
  _mm512_storeu_ps(y, jepa::kernels::x86::exp_nonpositive_avx512(_mm512_loadu_ps(x)));
}
JEPA_TARGET_AVX2 void exp8(const float* x, float* y) {
  _mm256_storeu_ps(y, jepa::kernels::x86::exp_nonpositive_avx2(_mm256_loadu_ps(x)));
}
#endif

}  // namespace

TEST_CASE("vector math: the GEMM epilogues' GELU within 2.5e-7 |x| of the exact GELU") {
  using jepa::kernels::Isa;
  int ran = 0;
#if JEPA_ARCH_X86_64 && !defined(JEPA_NO_SIMD) && defined(JEPA_KERNELS_X86_AVX2)
  if (jepa::kernels::cpu_supports(Isa::avx2)) {
    check_vector_gelu("gelu_avx2", 8, gelu8);
    ++ran;
  }
#endif
#if JEPA_ARCH_X86_64 && !defined(JEPA_NO_SIMD) && defined(JEPA_KERNELS_X86_AVX512)
  if (jepa::kernels::cpu_supports(Isa::avx512)) {
    check_vector_gelu("gelu_avx512", 16, gelu16);
    ++ran;
  }
#endif
#if JEPA_ARCH_AARCH64 && !defined(JEPA_NO_SIMD) && defined(JEPA_KERNELS_ARM_NEON)
  check_vector_gelu("gelu_neon", 4, [](const float* x, float* y) {
    vst1q_f32(y, jepa::kernels::arm::gelu_neon(vld1q_f32(x)));
  });
  ++ran;
#endif
  if (ran == 0) MESSAGE("skipped: no vector GELU runs here");
}

TEST_CASE("vector math: the AVX-512 exp equals the AVX2 exp bit for bit on [-100, 0]") {
#if JEPA_ARCH_X86_64 && !defined(JEPA_NO_SIMD) && defined(JEPA_KERNELS_X86_AVX512)
  if (!jepa::kernels::cpu_supports(jepa::kernels::Isa::avx512)) {
    MESSAGE("skipped: CPU lacks avx512");
    return;
  }
  std::vector<float> z;
  for (int i = 0; i < (1 << 20); ++i) z.push_back(-100.0f * (float)i / (float)(1 << 20));
  z.push_back(-std::numeric_limits<float>::infinity());
  while (z.size() % 16) z.push_back(-0.0f);
  std::vector<float> a(z.size()), b(z.size());
  for (size_t i = 0; i < z.size(); i += 16) {
    exp16(z.data() + i, a.data() + i);
    exp8(z.data() + i, b.data() + i);
    exp8(z.data() + i + 8, b.data() + i + 8);
  }
  CHECK(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
#else
  MESSAGE("skipped: no AVX-512 kernels in this build");
#endif
}
