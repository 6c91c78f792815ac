// jepa/kernels/arm/neon-float-gemm.hpp: the one AArch64 NEON fp32 GEMM body that
// the f32, f16 and bf16 weight kernels instantiate (f32-gemm-4x4-neon.hpp, ...).
//
// It reads the canonical [N][K] row-major weights in place, in "dot" form: a
// tile of up to 4 activation rows x 4 weight rows keeps 16 float32x4
// accumulators, each summing 4 lanes of x[m][k..k+3] * w[n][k..k+3] with FMA,
// reduced across lanes at the end. A weight loader (WL) turns 4 stored weights
// into a float32x4 in registers (f16: FCVTL, bf16: SHLL #16), so f16/bf16 weights
// cost half the memory traffic and nothing else. Results differ from the
// sequential reference only by float summation order (tolerance, not bit-exact).
#ifndef JEPA_KERNELS_ARM_NEON_FLOAT_GEMM_HPP
#define JEPA_KERNELS_ARM_NEON_FLOAT_GEMM_HPP

#include "neon-common.hpp"

#if defined(JEPA_KERNELS_ARM_NEON)
namespace jepa {
namespace kernels {
namespace arm {

// One tile: rows m0..m0+MR of x against weight rows n0..n0+cols (cols <= 4).
template <class WL, int MR>
inline void float_dot_tile(const GemmArgs& a, int32_t m0, int32_t n0, int32_t cols) {
  const WeightMatrix& w = *a.w;
  const int32_t K = w.k;
  const float* xr[MR];
#pragma GCC unroll 4
  for (int i = 0; i < MR; ++i) xr[i] = a.x + (size_t)(m0 + i) * a.ldx;
  const typename WL::Elem* wr[kStrip];
#pragma GCC unroll 4
  for (int j = 0; j < kStrip; ++j) wr[j] = WL::row(w, n0 + min_i32(j, cols - 1));

  // Every loop over i and j is fully unrolled so acc lives in 16 registers
  // (a loop left rolled anywhere makes GCC keep the array on the stack).
  float32x4_t acc[MR][kStrip];
#pragma GCC unroll 4
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 4
    for (int j = 0; j < kStrip; ++j) acc[i][j] = vdupq_n_f32(0.0f);

  int32_t k = 0;
  for (; k + 4 <= K; k += 4) {
    float32x4_t wv[kStrip];
#pragma GCC unroll 4
    for (int j = 0; j < kStrip; ++j) wv[j] = WL::load4(wr[j] + k);
#pragma GCC unroll 4
    for (int i = 0; i < MR; ++i) {
      const float32x4_t xv = vld1q_f32(xr[i] + k);
#pragma GCC unroll 4
      for (int j = 0; j < kStrip; ++j) acc[i][j] = vfmaq_f32(acc[i][j], xv, wv[j]);
    }
  }
  if (k < K) {  // K % 4 tail: zero-padded on both sides, so padding adds 0*0
    const int32_t rem = K - k;
    float32x4_t wv[kStrip];
#pragma GCC unroll 4
    for (int j = 0; j < kStrip; ++j) wv[j] = WL::load_tail(wr[j] + k, rem);
#pragma GCC unroll 4
    for (int i = 0; i < MR; ++i) {
      const float32x4_t xv = load_tail_f32(xr[i] + k, rem);
#pragma GCC unroll 4
      for (int j = 0; j < kStrip; ++j) acc[i][j] = vfmaq_f32(acc[i][j], xv, wv[j]);
    }
  }
#pragma GCC unroll 4
  for (int i = 0; i < MR; ++i)
    store_strip(a, m0 + i, n0, cols, reduce4(acc[i][0], acc[i][1], acc[i][2], acc[i][3]));
}

// The whole GEMM for output columns [a.n0, a.n_end()): column strips outer (a
// 4 x K weight strip stays in L1 while every activation row passes), row tiles
// of 4 inner, a 1..3-row tile for the M tail.
template <class WL>
inline void float_dot_gemm(const GemmArgs& a) {
  const int32_t n_begin = a.n0, n_end = a.n_end();
  for (int32_t n0 = n_begin; n0 < n_end; n0 += kStrip) {
    const int32_t cols = min_i32(kStrip, n_end - n0);
    int32_t m0 = 0;
    for (; m0 + 4 <= a.m; m0 += 4) float_dot_tile<WL, 4>(a, m0, n0, cols);
    switch (a.m - m0) {
      case 3: float_dot_tile<WL, 3>(a, m0, n0, cols); break;
      case 2: float_dot_tile<WL, 2>(a, m0, n0, cols); break;
      case 1: float_dot_tile<WL, 1>(a, m0, n0, cols); break;
      default: break;
    }
  }
}

// Weight loaders: row(w, n) -> first stored element of row n; load4(p) -> the 4
// weights at p as f32; load_tail(p, n) -> the first n (< 4), zero-filled.
struct LoadF32 {
  using Elem = float;
  static const float* row(const WeightMatrix& w, int32_t n) {
    return static_cast<const float*>(w.data) + (size_t)n * (size_t)w.k;
  }
  static float32x4_t load4(const float* p) { return vld1q_f32(p); }
  static float32x4_t load_tail(const float* p, int32_t n) { return load_tail_f32(p, n); }
};

struct LoadF16 {  // IEEE half -> f32 with FCVTL (ARMv8.0 baseline, exact)
  using Elem = uint16_t;
  static const uint16_t* row(const WeightMatrix& w, int32_t n) {
    return static_cast<const uint16_t*>(w.data) + (size_t)n * (size_t)w.k;
  }
  static float32x4_t load4(const uint16_t* p) { return vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(p))); }
  static float32x4_t load_tail(const uint16_t* p, int32_t n) {
    uint16_t t[4] = {0, 0, 0, 0};
    std::memcpy(t, p, 2 * (size_t)n);
    return load4(t);
  }
};

struct LoadBF16 {  // bfloat16 = the high half of an f32: shift left by 16 (exact)
  using Elem = uint16_t;
  static const uint16_t* row(const WeightMatrix& w, int32_t n) {
    return static_cast<const uint16_t*>(w.data) + (size_t)n * (size_t)w.k;
  }
  static float32x4_t load4(const uint16_t* p) { return vreinterpretq_f32_u32(vshll_n_u16(vld1_u16(p), 16)); }
  static float32x4_t load_tail(const uint16_t* p, int32_t n) {
    uint16_t t[4] = {0, 0, 0, 0};
    std::memcpy(t, p, 2 * (size_t)n);
    return load4(t);
  }
};

}  // namespace arm
}  // namespace kernels
}  // namespace jepa
#endif  // JEPA_KERNELS_ARM_NEON

#endif  // JEPA_KERNELS_ARM_NEON_FLOAT_GEMM_HPP
