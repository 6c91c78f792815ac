// jepa/kernels/arm/q8-gemm-4x8-neon.hpp: q8_gemm_4x8__neon, the q8 GEMM for the
// AArch64 baseline (ARMv8.0 NEON, no dotprod: Cortex-A53/A72, Raspberry Pi 3/4)
// over panel-packed int8 weights (Layout::panel, NR = 16, KR = 4) against
// activations quantized to int8 per row (a.xp, ActFormat::s8).
// SDOT-by-element emulated: the k-group x[m][4g..4g+3] is broadcast (DUP of a
// 32-bit lane), SMULL/SMULL2 multiply it with 4 rows x 4 k of W, and SADALP folds
// the products into pairs: per 4 weight rows two int32x4 of partial sums, added
// pairwise at the end. A 4 x 8 tile (half a panel) has 16 accumulators.
// Exact integer sums: bit identical to q8_gemm_4x16__neondot.
#ifndef JEPA_KERNELS_ARM_Q8_GEMM_4X8_NEON_HPP
#define JEPA_KERNELS_ARM_Q8_GEMM_4X8_NEON_HPP

#include "neon-panel-common.hpp"

#if defined(JEPA_KERNELS_ARM_NEON)
namespace jepa {
namespace kernels {
namespace arm {

struct Q8PanelTileNeon {
  template <int MR, int L>
  static void step(const int8_t* q, const int8x16_t* xv, int32x4_t (*lo)[2], int32x4_t (*hi)[2]) {
    const int8x16_t w0 = vld1q_s8(q), w1 = vld1q_s8(q + 16);
#pragma GCC unroll 4
    for (int i = 0; i < MR; ++i) {
      const int8x16_t xb = broadcast_group<L>(xv[i]);
      dot4x4_neon(w0, xb, &lo[i][0], &hi[i][0]);
      dot4x4_neon(w1, xb, &lo[i][1], &hi[i][1]);
    }
  }

  template <int MR>
  static void half(const GemmArgs& a, const PanelView& v, int32_t m0, int32_t n, int h, int32_t valid) {
    const QuantRows xq(*a.xp);
    const int8_t* panel = reinterpret_cast<const int8_t*>(v.panel(n)) + 32 * h;
    const int32_t groups = v.kp() / 4;
    const int8_t* xr[MR];
#pragma GCC unroll 4
    for (int i = 0; i < MR; ++i) xr[i] = xq.row(m0 + i);
    int32x4_t lo[MR][2], hi[MR][2];
#pragma GCC unroll 4
    for (int i = 0; i < MR; ++i) lo[i][0] = lo[i][1] = hi[i][0] = hi[i][1] = vdupq_n_s32(0);
    for (int32_t g = 0; g < groups; g += 4) {  // 16 k per x load (rows zero-padded to 64)
      int8x16_t xv[MR];
#pragma GCC unroll 4
      for (int i = 0; i < MR; ++i) xv[i] = vld1q_s8(xr[i] + 4 * g);
      const int8_t* q = panel + (size_t)g * 64;
      step<MR, 0>(q, xv, lo, hi);
      if (g + 1 < groups) step<MR, 1>(q + 64, xv, lo, hi);
      if (g + 2 < groups) step<MR, 2>(q + 128, xv, lo, hi);
      if (g + 3 < groups) step<MR, 3>(q + 192, xv, lo, hi);
    }
    const float* ws = v.q8_scales();
    const int32_t nh = n + 8 * h;
#pragma GCC unroll 4
    for (int i = 0; i < MR; ++i)
      for (int c = 0; c < 2 && 8 * h + 4 * c < valid; ++c)
        store_strip_q8(a, m0 + i, nh + 4 * c, min_i32(4, valid - 8 * h - 4 * c), vpaddq_s32(lo[i][c], hi[i][c]),
                       xq.scale[m0 + i], ws);
  }

  template <int MR>
  static void tile(const GemmArgs& a, const PanelView& v, int32_t m0, int32_t n, int32_t valid) {
    half<MR>(a, v, m0, n, 0, valid);
    if (valid > 8) half<MR>(a, v, m0, n, 1, valid);
  }
};

// Rows [0, a.m), columns [a.n0, a.n_end()) (a.n0 a multiple of 16);
// activations from *a.xp (ActFormat::s8).
inline void q8_gemm_4x8__neon(const GemmArgs& a) { panel_gemm<Q8PanelTileNeon, 4>(a); }

}  // namespace arm
}  // namespace kernels
}  // namespace jepa
#endif  // JEPA_KERNELS_ARM_NEON

#endif  // JEPA_KERNELS_ARM_Q8_GEMM_4X8_NEON_HPP
