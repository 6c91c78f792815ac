// jepa/kernels/arm/q4-gemm-4x4-neondot.hpp: q4_gemm_4x4__neondot, the q4 GEMM for
// ARMv8.2-A dotprod (SDOT): 4-bit weights (canonical row_major: blocks of 32
// along K, f16 scale per block) against activations quantized to int8 per row.
// Per 32-block: unpack 16 bytes to 32 int8 weights in registers (AND / USHR,
// minus 8), two SDOTs per (row, column), fold the 4 columns' lanes into one
// int32x4, convert and FMA with the 4 block scales. So a 4x4 tile carries only 4
// float accumulators, and float rounding happens once per block per output.
#ifndef JEPA_KERNELS_ARM_Q4_GEMM_4X4_NEONDOT_HPP
#define JEPA_KERNELS_ARM_Q4_GEMM_4X4_NEONDOT_HPP

#include "neon-int8-common.hpp"

#if defined(JEPA_KERNELS_ARM_DOTPROD)
namespace jepa {
namespace kernels {
namespace arm {

struct Q4TileNeonDot {
  template <int MR>
  JEPA_TARGET_DOTPROD static void tile(const GemmArgs& a, const QuantRows& xq, int32_t m0, int32_t n0, int32_t cols) {
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
        for (int j = 0; j < kStrip; ++j) s[j] = vdotq_s32(vdotq_s32(vdupq_n_s32(0), xlo, wlo[j]), xhi, whi[j]);
        facc[i] = vfmaq_f32(facc[i], vcvtq_f32_s32(reduce4(s[0], s[1], s[2], s[3])), ws);
      }
    }
#pragma GCC unroll 4
    for (int i = 0; i < MR; ++i) store_strip_q4(a, m0 + i, n0, cols, facc[i], xq.scale[m0 + i]);
  }
};

// Rows [0, a.m), columns [a.n0, a.n_end()); activations from *a.xp
// (ActFormat::s8: int8 per row).
inline void q4_gemm_4x4__neondot(const GemmArgs& a) {
  int8_gemm<Q4TileNeonDot>(a);
}

}  // namespace arm
}  // namespace kernels
}  // namespace jepa
#endif  // JEPA_KERNELS_ARM_DOTPROD

#endif  // JEPA_KERNELS_ARM_Q4_GEMM_4X4_NEONDOT_HPP
