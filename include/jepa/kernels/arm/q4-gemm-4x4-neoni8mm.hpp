// jepa/kernels/arm/q4-gemm-4x4-neoni8mm.hpp: q4_gemm_4x4__neoni8mm, the q4 GEMM for
// the int8 matrix-multiply extension (SMMLA; FEAT_I8MM): 4-bit weights
// (canonical row_major: blocks of 32 along K, f16 scale per block) against
// activations quantized to int8 per row. Per 32-block: unpack 4 weight rows,
// regroup row pairs x 8 k (ZIP1/ZIP2 of 64-bit halves), 4 SMMLAs per 2x2 block of
// (activation pair, weight pair); convert and FMA with the 4 block scales. The
// per-block integer sums equal the dotprod kernel's: bit identical results.
#ifndef JEPA_KERNELS_ARM_Q4_GEMM_4X4_NEONI8MM_HPP
#define JEPA_KERNELS_ARM_Q4_GEMM_4X4_NEONI8MM_HPP

#include "q8-gemm-4x4-neoni8mm.hpp"  // pair_lo / pair_hi

#if defined(JEPA_KERNELS_ARM_I8MM)
namespace jepa {
namespace kernels {
namespace arm {

struct Q4TileNeonI8mm {
  // MR = 1..4; an odd MR pairs its last row with itself and drops the copy.
  template <int MR>
  JEPA_TARGET_I8MM static void tile(const GemmArgs& a, const QuantRows& xq, int32_t m0, int32_t n0, int32_t cols) {
    constexpr int P = (MR + 1) / 2;
    const Q4View wv(*a.w);
    const int8_t* xr[2 * P];
#pragma GCC unroll 4
    for (int i = 0; i < 2 * P; ++i) xr[i] = xq.row(m0 + min_i32(i, MR - 1));
    int32_t nr[kStrip];
#pragma GCC unroll 4
    for (int j = 0; j < kStrip; ++j) nr[j] = n0 + min_i32(j, cols - 1);
    float32x4_t facc[2 * P];
#pragma GCC unroll 4
    for (int i = 0; i < 2 * P; ++i) facc[i] = vdupq_n_f32(0.0f);
    for (int32_t b = 0; b < wv.kb; ++b) {
      int8x16_t wlo[kStrip], whi[kStrip];
#pragma GCC unroll 4
      for (int j = 0; j < kStrip; ++j) unpack_q4(wv.block(nr[j], b), &wlo[j], &whi[j]);
      // bq[q][c]: weight rows 2q, 2q+1 x k-chunk c (k = 8c .. 8c+7 of the block)
      int8x16_t bq[2][4];
#pragma GCC unroll 2
      for (int q = 0; q < 2; ++q) {
        bq[q][0] = pair_lo(wlo[2 * q], wlo[2 * q + 1]);
        bq[q][1] = pair_hi(wlo[2 * q], wlo[2 * q + 1]);
        bq[q][2] = pair_lo(whi[2 * q], whi[2 * q + 1]);
        bq[q][3] = pair_hi(whi[2 * q], whi[2 * q + 1]);
      }
      const float32x4_t ws = wv.block_scales4(nr, b);
#pragma GCC unroll 2
      for (int p = 0; p < P; ++p) {
        const int8_t* x0 = xr[2 * p] + 32 * b;
        const int8_t* x1 = xr[2 * p + 1] + 32 * b;
        const int8x16_t x0l = vld1q_s8(x0), x0h = vld1q_s8(x0 + 16);
        const int8x16_t x1l = vld1q_s8(x1), x1h = vld1q_s8(x1 + 16);
        const int8x16_t ap[4] = {pair_lo(x0l, x1l), pair_hi(x0l, x1l), pair_lo(x0h, x1h), pair_hi(x0h, x1h)};
        int32x4_t s[2];
#pragma GCC unroll 2
        for (int q = 0; q < 2; ++q) {
          s[q] = vdupq_n_s32(0);
#pragma GCC unroll 4
          for (int c = 0; c < 4; ++c) s[q] = vmmlaq_s32(s[q], ap[c], bq[q][c]);
        }
        const int32x4_t even = vcombine_s32(vget_low_s32(s[0]), vget_low_s32(s[1]));
        const int32x4_t odd = vcombine_s32(vget_high_s32(s[0]), vget_high_s32(s[1]));
        facc[2 * p] = vfmaq_f32(facc[2 * p], vcvtq_f32_s32(even), ws);
        facc[2 * p + 1] = vfmaq_f32(facc[2 * p + 1], vcvtq_f32_s32(odd), ws);
      }
    }
#pragma GCC unroll 4
    for (int i = 0; i < MR; ++i) store_strip_q4(a, m0 + i, n0, cols, facc[i], xq.scale[m0 + i]);
  }
};

// Rows [0, a.m), columns [a.n0, a.n_end()); activations from *a.xp
// (ActFormat::s8: int8 per row).
inline void q4_gemm_4x4__neoni8mm(const GemmArgs& a) {
  int8_gemm<Q4TileNeonI8mm>(a);
}

}  // namespace arm
}  // namespace kernels
}  // namespace jepa
#endif  // JEPA_KERNELS_ARM_I8MM

#endif  // JEPA_KERNELS_ARM_Q4_GEMM_4X4_NEONI8MM_HPP
