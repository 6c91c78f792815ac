// jepa/kernels/arm/q8-gemm-4x4-neondot.hpp: q8_gemm_4x4__neondot, the q8 GEMM for
// ARMv8.2-A dotprod (SDOT): int8 weights (canonical row_major, one f32 scale per
// row) against activations quantized to int8 per row (neon-int8-common.hpp).
// Tile 4 activation rows x 4 weight rows in dot form: 16 int32x4 accumulators,
// each SDOT adding 16 products. Integer sums are exact, so the result is bit
// identical to q8_gemm_4x4__neon and q8_gemm_4x4__neoni8mm.
#ifndef JEPA_KERNELS_ARM_Q8_GEMM_4X4_NEONDOT_HPP
#define JEPA_KERNELS_ARM_Q8_GEMM_4X4_NEONDOT_HPP

#include "neon-int8-common.hpp"

#if defined(JEPA_KERNELS_ARM_DOTPROD)
namespace jepa {
namespace kernels {
namespace arm {

struct Q8TileNeonDot {
  template <int MR>
  JEPA_TARGET_DOTPROD static void tile(const GemmArgs& a, const QuantRows& xq, int32_t m0, int32_t n0, int32_t cols) {
    const Q8View wv(*a.w);
    const int32_t K = a.w->k;
    const int8_t* xr[MR];
#pragma GCC unroll 4
    for (int i = 0; i < MR; ++i) xr[i] = xq.row(m0 + i);
    const int8_t* wr[kStrip];
#pragma GCC unroll 4
    for (int j = 0; j < kStrip; ++j) wr[j] = wv.row(n0 + min_i32(j, cols - 1));
    int32x4_t acc[MR][kStrip];
#pragma GCC unroll 4
    for (int i = 0; i < MR; ++i)
#pragma GCC unroll 4
      for (int j = 0; j < kStrip; ++j) acc[i][j] = vdupq_n_s32(0);
    // Activation rows are zero-padded to xq.ld, so only the weights need a tail.
    for (int32_t k = 0; k < K; k += 16) {
      int8x16_t w[kStrip];
      if (K - k >= 16) {
#pragma GCC unroll 4
        for (int j = 0; j < kStrip; ++j) w[j] = vld1q_s8(wr[j] + k);
      } else {
#pragma GCC unroll 4
        for (int j = 0; j < kStrip; ++j) w[j] = load_tail_s8(wr[j] + k, K - k);
      }
#pragma GCC unroll 4
      for (int i = 0; i < MR; ++i) {
        const int8x16_t x = vld1q_s8(xr[i] + k);
#pragma GCC unroll 4
        for (int j = 0; j < kStrip; ++j) acc[i][j] = vdotq_s32(acc[i][j], x, w[j]);
      }
    }
#pragma GCC unroll 4
    for (int i = 0; i < MR; ++i)
      store_strip_q8(a, m0 + i, n0, cols, reduce4(acc[i][0], acc[i][1], acc[i][2], acc[i][3]), xq.scale[m0 + i],
                     wv.scale);
  }
};

// Rows [0, a.m), columns [a.n0, a.n_end()); activations from *a.xp
// (ActFormat::s8: int8 per row).
inline void q8_gemm_4x4__neondot(const GemmArgs& a) {
  int8_gemm<Q8TileNeonDot>(a);
}

}  // namespace arm
}  // namespace kernels
}  // namespace jepa
#endif  // JEPA_KERNELS_ARM_DOTPROD

#endif  // JEPA_KERNELS_ARM_Q8_GEMM_4X4_NEONDOT_HPP
