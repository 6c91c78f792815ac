// jepa/kernels/arm/q4-gemm-2x8-neon.hpp: q4_gemm_2x8__neon, the q4 GEMM for the
// AArch64 baseline (ARMv8.0 NEON, no dotprod) over panel-packed 4-bit weights
// (Layout::panel, NR = 16, KR = 4; see q4-gemm-4x8-neondot.hpp) against
// activations quantized to int8 per row. The dotprod kernel's block loop with
// SDOT-by-element emulated by DUP + SMULL/SMULL2 + SADALP (q8-gemm-4x8-neon.hpp);
// that needs two int32 accumulators per 4 columns, so the tile is 2 rows x 8
// columns. The per-block integer sums are the same: bit identical results.
#ifndef JEPA_KERNELS_ARM_Q4_GEMM_2X8_NEON_HPP
#define JEPA_KERNELS_ARM_Q4_GEMM_2X8_NEON_HPP

#include "neon-panel-common.hpp"

#if defined(JEPA_KERNELS_ARM_NEON)
namespace jepa {
namespace kernels {
namespace arm {

struct Q4PanelTileNeon {
  template <int MR, int J>
  static void quad(const uint8_t* q, int h, const int8x16_t* xlo, const int8x16_t* xhi, int32x4_t (*lo)[2],
                   int32x4_t (*hi)[2]) {
#pragma GCC unroll 2
    for (int c = 0; c < 2; ++c) {
      int8x16_t wl, wh;
      unpack_q4(q + J * 64 + (2 * h + c) * 16, &wl, &wh);
#pragma GCC unroll 2
      for (int i = 0; i < MR; ++i) {
        dot4x4_neon(wl, broadcast_group<J>(xlo[i]), &lo[i][c], &hi[i][c]);
        dot4x4_neon(wh, broadcast_group<J>(xhi[i]), &lo[i][c], &hi[i][c]);
      }
    }
  }

  template <int MR>
  static void half(const GemmArgs& a, const PanelView& v, int32_t m0, int32_t n, int h, int32_t valid) {
    const QuantRows xq(*a.xp);
    const int32_t kb = v.kp() / 32;
    const uint8_t* panel = v.panel(n);
    const uint16_t* scales = v.q4_scales() + (size_t)(n / kPanelRows) * (size_t)kb * kPanelRows + 8 * h;
    const int8_t* xr[MR];
#pragma GCC unroll 2
    for (int i = 0; i < MR; ++i) xr[i] = xq.row(m0 + i);
    float32x4_t facc[MR][2];
#pragma GCC unroll 2
    for (int i = 0; i < MR; ++i) facc[i][0] = facc[i][1] = vdupq_n_f32(0.0f);
    for (int32_t b = 0; b < kb; ++b) {
      int8x16_t xlo[MR], xhi[MR];
      int32x4_t lo[MR][2], hi[MR][2];
#pragma GCC unroll 2
      for (int i = 0; i < MR; ++i) {
        xlo[i] = vld1q_s8(xr[i] + 32 * b);
        xhi[i] = vld1q_s8(xr[i] + 32 * b + 16);
        lo[i][0] = lo[i][1] = hi[i][0] = hi[i][1] = vdupq_n_s32(0);
      }
      const uint8_t* q = panel + (size_t)b * 256;
      quad<MR, 0>(q, h, xlo, xhi, lo, hi);
      quad<MR, 1>(q, h, xlo, xhi, lo, hi);
      quad<MR, 2>(q, h, xlo, xhi, lo, hi);
      quad<MR, 3>(q, h, xlo, xhi, lo, hi);
      float32x4_t ws[2];
      q4_panel_scales8(scales + (size_t)b * kPanelRows, ws);
#pragma GCC unroll 2
      for (int i = 0; i < MR; ++i)
#pragma GCC unroll 2
        for (int c = 0; c < 2; ++c)
          facc[i][c] = vfmaq_f32(facc[i][c], vcvtq_f32_s32(vpaddq_s32(lo[i][c], hi[i][c])), ws[c]);
    }
    const int32_t nh = n + 8 * h;
#pragma GCC unroll 2
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
inline void q4_gemm_2x8__neon(const GemmArgs& a) { panel_gemm<Q4PanelTileNeon, 2>(a); }

}  // namespace arm
}  // namespace kernels
}  // namespace jepa
#endif  // JEPA_KERNELS_ARM_NEON

#endif  // JEPA_KERNELS_ARM_Q4_GEMM_2X8_NEON_HPP
