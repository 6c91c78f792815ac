// jepa/kernels/arm/neon-float-panel.hpp: the AArch64 NEON fp32 GEMM body over
// panel-packed f32 / f16 weights (Layout::panel, NR = 16, KR = 1), instantiated
// by f32-gemm-4x16-neon.hpp and f16-gemm-4x16-neon.hpp.
//
// Broadcast form: a tile of 4 activation rows x 16 columns keeps 16 float32x4
// accumulators, one lane per output. Per k the panel gives 16 contiguous
// weights (4 registers; f16 widened by FCVTL/FCVTL2), and FMLA-by-element takes
// x[m][k] from a register holding x[m][k..k+3], so x needs no packing or
// broadcast loads. Each output is one FMA chain over k in order.
#ifndef JEPA_KERNELS_ARM_NEON_FLOAT_PANEL_HPP
#define JEPA_KERNELS_ARM_NEON_FLOAT_PANEL_HPP

#include "neon-panel-common.hpp"

#if defined(JEPA_KERNELS_ARM_NEON)
namespace jepa {
namespace kernels {
namespace arm {

// The 16 weights of panel column k as f32.
struct PanelLoadF32 {
  static void load16(const uint8_t* panel, int32_t k, float32x4_t* w) {
    const float* p = reinterpret_cast<const float*>(panel) + (size_t)k * kPanelRows;
    w[0] = vld1q_f32(p);
    w[1] = vld1q_f32(p + 4);
    w[2] = vld1q_f32(p + 8);
    w[3] = vld1q_f32(p + 12);
  }
};

struct PanelLoadF16 {
  static void load16(const uint8_t* panel, int32_t k, float32x4_t* w) {
    const uint16_t* p = reinterpret_cast<const uint16_t*>(panel) + (size_t)k * kPanelRows;
    const float16x8_t h0 = vreinterpretq_f16_u16(vld1q_u16(p));
    const float16x8_t h1 = vreinterpretq_f16_u16(vld1q_u16(p + 8));
    w[0] = vcvt_f32_f16(vget_low_f16(h0));
    w[1] = vcvt_high_f32_f16(h0);
    w[2] = vcvt_f32_f16(vget_low_f16(h1));
    w[3] = vcvt_high_f32_f16(h1);
  }
};

template <class WL>
struct FloatPanelTile {
  // acc[i][c] += w(k) * x[i][k] where x[i][k] is lane L of xv[i].
  template <int MR, int L>
  static void step(const uint8_t* panel, int32_t k, const float32x4_t* xv, float32x4_t (*acc)[4]) {
    float32x4_t w[4];
    WL::load16(panel, k, w);
#pragma GCC unroll 4
    for (int i = 0; i < MR; ++i)
#pragma GCC unroll 4
      for (int c = 0; c < 4; ++c) acc[i][c] = vfmaq_laneq_f32(acc[i][c], w[c], xv[i], L);
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
      step<MR, 0>(panel, k, xv, acc);
      step<MR, 1>(panel, k + 1, xv, acc);
      step<MR, 2>(panel, k + 2, xv, acc);
      step<MR, 3>(panel, k + 3, xv, acc);
    }
    for (; k < K; ++k) {  // K % 4 tail, one column at a time
      float32x4_t xv[MR];
#pragma GCC unroll 4
      for (int i = 0; i < MR; ++i) xv[i] = vdupq_n_f32(xr[i][k]);
      step<MR, 0>(panel, k, xv, acc);
    }
#pragma GCC unroll 4
    for (int i = 0; i < MR; ++i) store_panel_row(a, m0 + i, n, valid, acc[i], 4);
  }
};

}  // namespace arm
}  // namespace kernels
}  // namespace jepa
#endif  // JEPA_KERNELS_ARM_NEON

#endif  // JEPA_KERNELS_ARM_NEON_FLOAT_PANEL_HPP
