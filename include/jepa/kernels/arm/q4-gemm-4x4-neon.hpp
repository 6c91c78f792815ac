// jepa/kernels/arm/q4-gemm-4x4-neon.hpp: q4_gemm_4x4__neon, the q4 GEMM for the
// AArch64 baseline (ARMv8.0 NEON, no dotprod): 4-bit weights (canonical
// row_major: blocks of 32 along K, f16 scale per block) against activations
// quantized to int8 per row. The same tile and block loop as the dotprod kernel
// (q4-gemm-4x4-neondot.hpp) with SMULL/SADALP in place of SDOT; the per-block
// integer sums are the same, so the results are bit identical to it.
#ifndef JEPA_KERNELS_ARM_Q4_GEMM_4X4_NEON_HPP
#define JEPA_KERNELS_ARM_Q4_GEMM_4X4_NEON_HPP

#include "neon-int8-common.hpp"

#if defined(JEPA_KERNELS_ARM_NEON)
namespace jepa {
namespace kernels {
namespace arm {

struct Q4TileNeon {
  template <int MR>
  static void tile(const GemmArgs& a, const QuantRows& xq, int32_t m0, int32_t n0, int32_t cols) {
    const Q4View wv(*a.w);
    const int8_t* xr[MR];
#pragma GCC unroll 4
    for (int i = 0; i < MR; ++i) xr[i] = xq.row(m0 + i);
    int32_t nr[kStrip];
#pragma GCC unroll 4
    for (int j = 0; j < kStrip; ++j) nr[j] = n0 + min_i32(j, cols - 1);
    float32x4_t facc[MR];
#pragma GCC unroll 4
    for (int i = 0; i < MR; ++i) facc[i] = vdupq_n_f32(0.0f);
    for (int32_t b = 0; b < wv.kb; ++b) {
      int8x16_t wlo[kStrip], whi[kStrip];
#pragma GCC unroll 4
      for (int j = 0; j < kStrip; ++j) unpack_q4(wv.block(nr[j], b), &wlo[j], &whi[j]);
      const float32x4_t ws = wv.block_scales4(nr, b);
#pragma GCC unroll 4
      for (int i = 0; i < MR; ++i) {
        // Activation rows are zero-padded to xq.ld (a multiple of 64).
        const int8x16_t xlo = vld1q_s8(xr[i] + 32 * b), xhi = vld1q_s8(xr[i] + 32 * b + 16);
        int32x4_t s[kStrip];
#pragma GCC unroll 4
        for (int j = 0; j < kStrip; ++j)
          s[j] = dot16_neon(dot16_neon(vdupq_n_s32(0), xlo, wlo[j]), xhi, whi[j]);
        facc[i] = vfmaq_f32(facc[i], vcvtq_f32_s32(reduce4(s[0], s[1], s[2], s[3])), ws);
      }
    }
#pragma GCC unroll 4
    for (int i = 0; i < MR; ++i) store_strip_q4(a, m0 + i, n0, cols, facc[i], xq.scale[m0 + i]);
  }
};

// Rows [0, a.m), columns [a.n0, a.n_end()); activations from *a.xp
// (ActFormat::s8: int8 per row).
inline void q4_gemm_4x4__neon(const GemmArgs& a) {
  int8_gemm<Q4TileNeon>(a);
}

}  // namespace arm
}  // namespace kernels
}  // namespace jepa
#endif  // JEPA_KERNELS_ARM_NEON

#endif  // JEPA_KERNELS_ARM_Q4_GEMM_4X4_NEON_HPP
