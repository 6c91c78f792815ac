// jepa/kernels/arm/bf16-gemm-4x16-neon.hpp: bf16_gemm_4x16__neon, the AArch64
// baseline (ARMv8-A NEON, fp32 FMA) GEMM for bfloat16 weights in panels of 16
// rows with k interleaved in pairs (Layout::panel, NR = 16, KR = 2, the layout
// x86's vdpbf16ps reads). A 16-byte load holds 4 rows x 2 k; as u32 lanes, k0 is
// the low half (SHL #16 makes it an f32) and k1 the high half (AND 0xFFFF0000),
// both exact. Tiles of 4 activation rows x 16 columns, broadcast form with
// FMLA-by-element from x read in place as f32 (no bf16 rounding of x).
#ifndef JEPA_KERNELS_ARM_BF16_GEMM_4X16_NEON_HPP
#define JEPA_KERNELS_ARM_BF16_GEMM_4X16_NEON_HPP

#include "neon-panel-common.hpp"

#if defined(JEPA_KERNELS_ARM_NEON)
namespace jepa {
namespace kernels {
namespace arm {

struct Bf16PanelTile {
  // k-pair group g (k = 2g, 2g+1); x[i][2g] is lane L of xv[i], x[i][2g+1] lane L+1.
  template <int MR, int L>
  static void step(const uint8_t* panel, int32_t g, const float32x4_t* xv, float32x4_t (*acc)[4]) {
    const uint32_t* p = reinterpret_cast<const uint32_t*>(panel) + (size_t)g * kPanelRows;
    float32x4_t w0[4], w1[4];
#pragma GCC unroll 4
    for (int c = 0; c < 4; ++c) {
      const uint32x4_t u = vld1q_u32(p + 4 * c);
      w0[c] = vreinterpretq_f32_u32(vshlq_n_u32(u, 16));
      w1[c] = vreinterpretq_f32_u32(vandq_u32(u, vdupq_n_u32(0xFFFF0000u)));
    }
#pragma GCC unroll 4
    for (int i = 0; i < MR; ++i)
#pragma GCC unroll 4
      for (int c = 0; c < 4; ++c) {
        acc[i][c] = vfmaq_laneq_f32(acc[i][c], w0[c], xv[i], L);
        acc[i][c] = vfmaq_laneq_f32(acc[i][c], w1[c], xv[i], L + 1);
      }
  }

  template <int MR>
  static void tile(const GemmArgs& a, const PanelView& v, int32_t m0, int32_t n, int32_t valid) {
    const uint8_t* panel = v.panel(n);
    const int32_t K = a.w->k;
    const float* xr[MR];
#pragma GCC unroll 4
    for (int i = 0; i < MR; ++i) xr[i] = a.x + (size_t)(m0 + i) * a.ldx;
    float32x4_t acc[MR][4];
#pragma GCC unroll 4
    for (int i = 0; i < MR; ++i)
#pragma GCC unroll 4
      for (int c = 0; c < 4; ++c) acc[i][c] = vdupq_n_f32(0.0f);
    int32_t k = 0;
    for (; k + 4 <= K; k += 4) {
      float32x4_t xv[MR];
#pragma GCC unroll 4
      for (int i = 0; i < MR; ++i) xv[i] = vld1q_f32(xr[i] + k);
      step<MR, 0>(panel, k / 2, xv, acc);
      step<MR, 2>(panel, k / 2 + 1, xv, acc);
    }
    if (k < K) {  // 1..3 columns left: x zero-padded; the panel pads K to even with zeros
      const int32_t rem = K - k;
      float32x4_t xv[MR];
#pragma GCC unroll 4
      for (int i = 0; i < MR; ++i) xv[i] = load_tail_f32(xr[i] + k, rem);
      step<MR, 0>(panel, k / 2, xv, acc);
      if (rem > 2) step<MR, 2>(panel, k / 2 + 1, xv, acc);
    }
#pragma GCC unroll 4
    for (int i = 0; i < MR; ++i) store_panel_row(a, m0 + i, n, valid, acc[i], 4);
  }
};

// Rows [0, a.m), columns [a.n0, a.n_end()) (a.n0 a multiple of 16).
inline void bf16_gemm_4x16__neon(const GemmArgs& a) { panel_gemm<Bf16PanelTile, 4>(a); }

}  // namespace arm
}  // namespace kernels
}  // namespace jepa
#endif  // JEPA_KERNELS_ARM_NEON

#endif  // JEPA_KERNELS_ARM_BF16_GEMM_4X16_NEON_HPP
