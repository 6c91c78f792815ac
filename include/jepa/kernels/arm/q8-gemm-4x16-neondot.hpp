// jepa/kernels/arm/q8-gemm-4x16-neondot.hpp: q8_gemm_4x16__neondot, the q8 GEMM
// for ARMv8.2-A dotprod over panel-packed int8 weights (Layout::panel, NR = 16,
// KR = 4: each k-group of 4 is 64 bytes, 4 rows x 4 k per register; the layout
// x86's vpdpbusd reads) against activations quantized to int8 per row (a.xp,
// ActFormat::s8). Broadcast form: SDOT-by-element multiplies 4 rows x 4 k of W by
// the k-group x[m][4g..4g+3] taken from a register holding 4 groups, so a 4 x 16
// tile needs 16 int32x4 accumulators and no lane reduction. Exact integer sums:
// bit identical to ref::gemm_prepared__ref before the epilogue.
#ifndef JEPA_KERNELS_ARM_Q8_GEMM_4X16_NEONDOT_HPP
#define JEPA_KERNELS_ARM_Q8_GEMM_4X16_NEONDOT_HPP

#include "neon-panel-common.hpp"

#if defined(JEPA_KERNELS_ARM_DOTPROD)
namespace jepa {
namespace kernels {
namespace arm {

struct Q8PanelTileNeonDot {
  // acc[i][c] += W(group g, rows 4c..4c+3) . x[i][4g..4g+3] (lane L of xv[i]).
  template <int MR, int L>
  JEPA_TARGET_DOTPROD static void step(const int8_t* panel, int32_t g, const int8x16_t* xv, int32x4_t (*acc)[4]) {
    const int8_t* p = panel + (size_t)g * 64;
    const int8x16_t w0 = vld1q_s8(p), w1 = vld1q_s8(p + 16), w2 = vld1q_s8(p + 32), w3 = vld1q_s8(p + 48);
#pragma GCC unroll 4
    for (int i = 0; i < MR; ++i) {
      acc[i][0] = vdotq_laneq_s32(acc[i][0], w0, xv[i], L);
      acc[i][1] = vdotq_laneq_s32(acc[i][1], w1, xv[i], L);
      acc[i][2] = vdotq_laneq_s32(acc[i][2], w2, xv[i], L);
      acc[i][3] = vdotq_laneq_s32(acc[i][3], w3, xv[i], L);
    }
  }

  template <int MR>
  JEPA_TARGET_DOTPROD static void tile(const GemmArgs& a, const PanelView& v, int32_t m0, int32_t n, int32_t valid) {
    const QuantRows xq(*a.xp);
    const int8_t* panel = reinterpret_cast<const int8_t*>(v.panel(n));
    const int32_t groups = v.kp() / 4;
    const int8_t* xr[MR];
#pragma GCC unroll 4
    for (int i = 0; i < MR; ++i) xr[i] = xq.row(m0 + i);
    int32x4_t acc[MR][4];
#pragma GCC unroll 4
    for (int i = 0; i < MR; ++i)
#pragma GCC unroll 4
      for (int c = 0; c < 4; ++c) acc[i][c] = vdupq_n_s32(0);
    // 16 k per x load; prepared rows are zero-padded to a multiple of 64 >= Kp,
    // so the last (partial) load stays inside the row.
    int32_t g = 0;
    for (; g + 4 <= groups; g += 4) {
      int8x16_t xv[MR];
#pragma GCC unroll 4
      for (int i = 0; i < MR; ++i) xv[i] = vld1q_s8(xr[i] + 4 * g);
      step<MR, 0>(panel, g, xv, acc);
      step<MR, 1>(panel, g + 1, xv, acc);
      step<MR, 2>(panel, g + 2, xv, acc);
      step<MR, 3>(panel, g + 3, xv, acc);
    }
    if (g < groups) {
      int8x16_t xv[MR];
#pragma GCC unroll 4
      for (int i = 0; i < MR; ++i) xv[i] = vld1q_s8(xr[i] + 4 * g);
      step<MR, 0>(panel, g, xv, acc);
      if (g + 1 < groups) step<MR, 1>(panel, g + 1, xv, acc);
      if (g + 2 < groups) step<MR, 2>(panel, g + 2, xv, acc);
    }
    const float* ws = v.q8_scales();
#pragma GCC unroll 4
    for (int i = 0; i < MR; ++i)
      for (int c = 0; c < 4 && 4 * c < valid; ++c)
        store_strip_q8(a, m0 + i, n + 4 * c, min_i32(4, valid - 4 * c), acc[i][c], xq.scale[m0 + i], ws);
  }
};

// Rows [0, a.m), columns [a.n0, a.n_end()) (a.n0 a multiple of 16);
// activations from *a.xp (ActFormat::s8).
inline void q8_gemm_4x16__neondot(const GemmArgs& a) { panel_gemm<Q8PanelTileNeonDot, 4>(a); }

}  // namespace arm
}  // namespace kernels
}  // namespace jepa
#endif  // JEPA_KERNELS_ARM_DOTPROD

#endif  // JEPA_KERNELS_ARM_Q8_GEMM_4X16_NEONDOT_HPP
