// jepa/kernels/arm/neon-common.hpp: what every AArch64 GEMM kernel shares: which
// ISA levels this build compiles (and the per-function target attributes that let
// one baseline ARMv8-A binary hold them all), the scalar epilogue of a 4-column
// strip, lane reductions and zero-padded tail loads. Included only by the
// kernels/arm/*.hpp kernel files; generic code never sees these intrinsics.
#ifndef JEPA_KERNELS_ARM_NEON_COMMON_HPP
#define JEPA_KERNELS_ARM_NEON_COMMON_HPP

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "../../config.hpp"
#include "../gemm.hpp"
#include "../ref/gemm-ref.hpp"  // ref::finish, ref::gelu

// Which families compile is decided in config.hpp (JEPA_KERNELS_ARM_*). With
// JEPA_ARM_TARGET_ATTRIBUTES each kernel enables its own extension; GCC 12
// needs the arch spelled out (a bare "+dotprod" fails with "target specific
// option mismatch", as arm_neon.h declares vdotq_s32 under that arch).
#if defined(JEPA_KERNELS_ARM_NEON)
#include <arm_neon.h>
#endif
#if defined(JEPA_ARM_TARGET_ATTRIBUTES)
#define JEPA_TARGET_DOTPROD __attribute__((target("arch=armv8.2-a+dotprod")))
#define JEPA_TARGET_I8MM __attribute__((target("arch=armv8.2-a+dotprod+i8mm")))
#define JEPA_TARGET_SVE __attribute__((target("arch=armv8.2-a+dotprod+sve")))
#else
#define JEPA_TARGET_DOTPROD
#define JEPA_TARGET_I8MM
#define JEPA_TARGET_SVE
#endif

#if defined(JEPA_KERNELS_ARM_NEON)
namespace jepa {
namespace kernels {
namespace arm {

// Column tile of the dot-product kernels: 4 weight rows at a time. A ragged last
// tile repeats the last valid row (clamped pointer) and drops those results.
constexpr int32_t kStrip = 4;

// The first n (<= 4) floats at p as a vector, zero-filled past n (never reads
// past n): bias, residual and x tails.
inline float32x4_t load_upto4_f32(const float* p, int32_t n) {
  if (n >= 4) return vld1q_f32(p);
  float t[4] = {0.0f, 0.0f, 0.0f, 0.0f};
  std::memcpy(t, p, sizeof(float) * (size_t)n);
  return vld1q_f32(t);
}

inline void store_upto4_f32(float* p, int32_t n, float32x4_t v) {
  if (n >= 4) {
    vst1q_f32(p, v);
    return;
  }
  float t[4];
  vst1q_f32(t, v);
  std::memcpy(p, t, sizeof(float) * (size_t)n);
}

// e^z for z <= 0 (clamped at -87, where e^z is still a normal float):
// Cody-Waite range reduction + the Cephes degree-6 polynomial, ~1 ulp. The
// same operations as x86's exp_nonpositive_avx2, so both GELUs agree.
inline float32x4_t exp_nonpositive_neon(float32x4_t z) {
  z = vmaxq_f32(z, vdupq_n_f32(-87.0f));
  const float32x4_t n = vrndnq_f32(vmulq_f32(z, vdupq_n_f32(1.44269504088896341f)));
  float32x4_t r = vfmsq_f32(z, n, vdupq_n_f32(0.693359375f));
  r = vfmsq_f32(r, n, vdupq_n_f32(-2.12194440e-4f));
  float32x4_t p = vdupq_n_f32(1.9875691500e-4f);
  p = vfmaq_f32(vdupq_n_f32(1.3981999507e-3f), p, r);
  p = vfmaq_f32(vdupq_n_f32(8.3334519073e-3f), p, r);
  p = vfmaq_f32(vdupq_n_f32(4.1665795894e-2f), p, r);
  p = vfmaq_f32(vdupq_n_f32(1.6666665459e-1f), p, r);
  p = vfmaq_f32(vdupq_n_f32(5.0000001201e-1f), p, r);
  p = vfmaq_f32(vaddq_f32(r, vdupq_n_f32(1.0f)), vmulq_f32(p, r), r);
  const int32x4_t e = vshlq_n_s32(vaddq_s32(vcvtnq_s32_f32(n), vdupq_n_s32(127)), 23);
  return vmulq_f32(p, vreinterpretq_f32_s32(e));
}

// Exact-erf GELU, 0.5 x (1 + erf(x / sqrt 2)), with erf as the rational
// function of ref::gelu_erf (its comment gives the error); the x86 kernels'
// steps. Vectorized because a scalar std::erf per output costs as much as the
// GEMM itself for a K = 384 MLP layer. NaN stays NaN.
inline float32x4_t gelu_neon(float32x4_t x) {
  using namespace ref::gelu_erf;
  // vmaxq/vminq return NaN for a NaN lane: it comes through hx either way.
  const float32x4_t u =
      vminq_f32(vmaxq_f32(vmulq_f32(x, vdupq_n_f32(kInvSqrt2)), vdupq_n_f32(-kClamp)), vdupq_n_f32(kClamp));
  const float32x4_t s = vmulq_f32(u, u);
  float32x4_t p = vdupq_n_f32(kP[5]), q = vdupq_n_f32(kQ[5]);
  for (int i = 4; i >= 0; --i) {
    p = vfmaq_f32(vdupq_n_f32(kP[i]), p, s);
    q = vfmaq_f32(vdupq_n_f32(kQ[i]), q, s);
  }
  const float32x4_t erf =
      vminq_f32(vmaxq_f32(vdivq_f32(vmulq_f32(u, p), q), vdupq_n_f32(-1.0f)), vdupq_n_f32(1.0f));
  const float32x4_t hx = vmulq_f32(x, vdupq_n_f32(0.5f));
  return vfmaq_f32(hx, hx, erf);
}

// y[m][n0 .. n0+cols) (cols <= 4) = v, after GELU (if asked) and + residual.
// v already holds the bias: the float kernels add it with one vector add (as
// ref::finish), the integer kernels fold it into their last FMA (as
// ref::prepared_dot). residual may alias y (each lane is read before written).
inline void store_strip_biased(const GemmArgs& a, int32_t m, int32_t n0, int32_t cols, float32x4_t v) {
  if (a.epilogue == Epilogue::gelu) v = gelu_neon(v);
  if (a.residual) v = vaddq_f32(v, load_upto4_f32(a.residual + (size_t)m * a.ldr + n0, cols));
  store_upto4_f32(a.y + (size_t)m * a.ldy + n0, cols, v);
}

// The bias of columns n0 .. n0+cols (zeros without bias).
inline float32x4_t load_bias4(const GemmArgs& a, int32_t n0, int32_t cols) {
  return a.bias ? load_upto4_f32(a.bias + n0, cols) : vdupq_n_f32(0.0f);
}

// Float kernels: y = finish(sums): + bias, GELU, + residual.
inline void store_strip(const GemmArgs& a, int32_t m, int32_t n0, int32_t cols, float32x4_t sums) {
  if (a.bias) sums = vaddq_f32(sums, load_upto4_f32(a.bias + n0, cols));
  store_strip_biased(a, m, n0, cols, sums);
}

// [sum(v0), sum(v1), sum(v2), sum(v3)] with two pairwise-add levels.
inline float32x4_t reduce4(float32x4_t v0, float32x4_t v1, float32x4_t v2, float32x4_t v3) {
  return vpaddq_f32(vpaddq_f32(v0, v1), vpaddq_f32(v2, v3));
}

inline int32x4_t reduce4(int32x4_t v0, int32x4_t v1, int32x4_t v2, int32x4_t v3) {
  return vpaddq_s32(vpaddq_s32(v0, v1), vpaddq_s32(v2, v3));
}

// The first n (< 4) floats at p, zero-filled: K tails never read past a row.
inline float32x4_t load_tail_f32(const float* p, int32_t n) { return load_upto4_f32(p, n); }

// The first n (< 16) bytes at p, zero-filled.
inline int8x16_t load_tail_s8(const int8_t* p, int32_t n) {
  int8_t t[16] = {0};
  std::memcpy(t, p, (size_t)n);
  return vld1q_s8(t);
}

inline int32_t min_i32(int32_t a, int32_t b) { return a < b ? a : b; }

}  // namespace arm
}  // namespace kernels
}  // namespace jepa
#endif  // JEPA_KERNELS_ARM_NEON

#endif  // JEPA_KERNELS_ARM_NEON_COMMON_HPP
