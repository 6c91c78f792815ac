// jepa/kernels/arm/q4-gemm-4x8-neondot.hpp: q4_gemm_4x8__neondot, the q4 GEMM for
// ARMv8.2-A dotprod over panel-packed 4-bit weights (Layout::panel, NR = 16,
// KR = 4: per 32-block b and quad j, 64 bytes = 16 rows x 4 bytes whose low
// nibbles are k-group 32b+4j.. and high nibbles k-group 32b+16+4j..; f16 scales
// [panel][block][16 rows]) against activations quantized to int8 per row.
// Per block: AND / USHR #4 and -8 turn 16 bytes into two SDOT-ready 4 rows x 4 k
// registers; SDOT-by-element against x[m][32b..32b+15] / [32b+16..32b+31]. The
// block's exact int32 sums are converted and FMA'd with the block scales
// (ref::prepared_dot's order). Tile 4 rows x 8 columns (half a panel: 8 int32
// + 8 float accumulators), two halves per panel.
#ifndef JEPA_KERNELS_ARM_Q4_GEMM_4X8_NEONDOT_HPP
#define JEPA_KERNELS_ARM_Q4_GEMM_4X8_NEONDOT_HPP

#include "neon-panel-common.hpp"

#if defined(JEPA_KERNELS_ARM_DOTPROD)
namespace jepa {
namespace kernels {
namespace arm {

struct Q4PanelTileNeonDot {
  // Quad j of a block (64 bytes at q): rows 8h..8h+7 = chunks 2h, 2h+1.
  template <int MR, int J>
  JEPA_TARGET_DOTPROD static void quad(const uint8_t* q, int h, const int8x16_t* xlo, const int8x16_t* xhi,
                                       int32x4_t (*acc)[2]) {
#pragma GCC unroll 2
    for (int c = 0; c < 2; ++c) {
      int8x16_t lo, hi;
      unpack_q4(q + J * 64 + (2 * h + c) * 16, &lo, &hi);
#pragma GCC unroll 4
      for (int i = 0; i < MR; ++i) {
        acc[i][c] = vdotq_laneq_s32(acc[i][c], lo, xlo[i], J);
        acc[i][c] = vdotq_laneq_s32(acc[i][c], hi, xhi[i], J);
      }
    }
  }

  template <int MR>
  JEPA_TARGET_DOTPROD static void half(const GemmArgs& a, const PanelView& v, int32_t m0, int32_t n, int h,
                                       int32_t valid) {
    const QuantRows xq(*a.xp);
    const int32_t kb = v.kp() / 32;
    const uint8_t* panel = v.panel(n);
    const uint16_t* scales = v.q4_scales() + (size_t)(n / kPanelRows) * (size_t)kb * kPanelRows + 8 * h;
    const int8_t* xr[MR];
#pragma GCC unroll 4
    for (int i = 0; i < MR; ++i) xr[i] = xq.row(m0 + i);
    float32x4_t facc[MR][2];
#pragma GCC unroll 4
    for (int i = 0; i < MR; ++i) facc[i][0] = facc[i][1] = vdupq_n_f32(0.0f);
    for (int32_t b = 0; b < kb; ++b) {
      int8x16_t xlo[MR], xhi[MR];
#pragma GCC unroll 4
      for (int i = 0; i < MR; ++i) {
        xlo[i] = vld1q_s8(xr[i] + 32 * b);
        xhi[i] = vld1q_s8(xr[i] + 32 * b + 16);
      }
      int32x4_t acc[MR][2];
#pragma GCC unroll 4
      for (int i = 0; i < MR; ++i) acc[i][0] = acc[i][1] = vdupq_n_s32(0);
      const uint8_t* q = panel + (size_t)b * 256;
      quad<MR, 0>(q, h, xlo, xhi, acc);
      quad<MR, 1>(q, h, xlo, xhi, acc);
      quad<MR, 2>(q, h, xlo, xhi, acc);
      quad<MR, 3>(q, h, xlo, xhi, acc);
      float32x4_t ws[2];
      q4_panel_scales8(scales + (size_t)b * kPanelRows, ws);
#pragma GCC unroll 4
      for (int i = 0; i < MR; ++i) {
        facc[i][0] = vfmaq_f32(facc[i][0], vcvtq_f32_s32(acc[i][0]), ws[0]);
        facc[i][1] = vfmaq_f32(facc[i][1], vcvtq_f32_s32(acc[i][1]), ws[1]);
      }
    }
    const int32_t nh = n + 8 * h;
#pragma GCC unroll 4
    for (int i = 0; i < MR; ++i)
      for (int c = 0; c < 2 && 8 * h + 4 * c < valid; ++c)
        store_strip_q4(a, m0 + i, nh + 4 * c, min_i32(4, valid - 8 * h - 4 * c), facc[i][c], xq.scale[m0 + i]);
  }

  template <int MR>
  static void tile(const GemmArgs& a, const PanelView& v, int32_t m0, int32_t n, int32_t valid) {
    half<MR>(a, v, m0, n, 0, valid);
    if (valid > 8) half<MR>(a, v, m0, n, 1, valid);
  }
};

// Rows [0, a.m), columns [a.n0, a.n_end()) (a.n0 a multiple of 16);
// activations from *a.xp (ActFormat::s8).
inline void q4_gemm_4x8__neondot(const GemmArgs& a) { panel_gemm<Q4PanelTileNeonDot, 4>(a); }

}  // namespace arm
}  // namespace kernels
}  // namespace jepa
#endif  // JEPA_KERNELS_ARM_DOTPROD

#endif  // JEPA_KERNELS_ARM_Q4_GEMM_4X8_NEONDOT_HPP
