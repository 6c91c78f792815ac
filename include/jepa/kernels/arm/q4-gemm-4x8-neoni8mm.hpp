// jepa/kernels/arm/q4-gemm-4x8-neoni8mm.hpp: q4_gemm_4x8__neoni8mm, the q4 GEMM
// for the int8 matrix-multiply extension (SMMLA) over panel-packed 4-bit weights
// (Layout::panel, NR = 16, KR = 4; see q4-gemm-4x8-neondot.hpp) against
// activations quantized to int8 per row. Per 32-block and pair of quads (j, j+1):
// unpack both, ZIP1/ZIP2 of 32-bit lanes give weight rows (r, r+1) x 8
// consecutive k (low nibbles: k 8q..8q+7, high: 16+8q..), multiplied with
// activation row pairs x the same 8 k. The block's exact int32 sums are then
// converted and FMA'd with the block scales: bit identical to the dotprod kernel.
#ifndef JEPA_KERNELS_ARM_Q4_GEMM_4X8_NEONI8MM_HPP
#define JEPA_KERNELS_ARM_Q4_GEMM_4X8_NEONI8MM_HPP

#include "neon-panel-common.hpp"
#include "q8-gemm-4x4-neoni8mm.hpp"  // pair_lo / pair_hi

#if defined(JEPA_KERNELS_ARM_I8MM)
namespace jepa {
namespace kernels {
namespace arm {

struct Q4PanelTileNeonI8mm {
  // Quads 2qp, 2qp+1 of a block (q) for weight rows 8h..8h+7; alo[p] / ahi[p]:
  // activation pair p x k 8qp..8qp+7 / 16+8qp..16+8qp+7 of the block.
  template <int P>
  JEPA_TARGET_I8MM static void quad_pair(const uint8_t* q, int qp, int h, const int8x16_t* alo,
                                         const int8x16_t* ahi, int32x4_t (*acc)[4]) {
#pragma GCC unroll 2
    for (int c = 0; c < 2; ++c) {
      int8x16_t l0, h0, l1, h1;
      unpack_q4(q + (2 * qp) * 64 + (2 * h + c) * 16, &l0, &h0);
      unpack_q4(q + (2 * qp + 1) * 64 + (2 * h + c) * 16, &l1, &h1);
      const int32x4_t L0 = vreinterpretq_s32_s8(l0), L1 = vreinterpretq_s32_s8(l1);
      const int32x4_t H0 = vreinterpretq_s32_s8(h0), H1 = vreinterpretq_s32_s8(h1);
      const int8x16_t lo01 = vreinterpretq_s8_s32(vzip1q_s32(L0, L1)), lo23 = vreinterpretq_s8_s32(vzip2q_s32(L0, L1));
      const int8x16_t hi01 = vreinterpretq_s8_s32(vzip1q_s32(H0, H1)), hi23 = vreinterpretq_s8_s32(vzip2q_s32(H0, H1));
#pragma GCC unroll 2
      for (int p = 0; p < P; ++p) {
        acc[p][2 * c] = vmmlaq_s32(vmmlaq_s32(acc[p][2 * c], alo[p], lo01), ahi[p], hi01);
        acc[p][2 * c + 1] = vmmlaq_s32(vmmlaq_s32(acc[p][2 * c + 1], alo[p], lo23), ahi[p], hi23);
      }
    }
  }

  template <int MR>
  JEPA_TARGET_I8MM static void half(const GemmArgs& a, const PanelView& v, int32_t m0, int32_t n, int h,
                                    int32_t valid) {
    constexpr int P = (MR + 1) / 2;  // an odd MR repeats its last row, results dropped
    const QuantRows xq(*a.xp);
    const int32_t kb = v.kp() / 32;
    const uint8_t* panel = v.panel(n);
    const uint16_t* scales = v.q4_scales() + (size_t)(n / kPanelRows) * (size_t)kb * kPanelRows + 8 * h;
    const int8_t* xr[2 * P];
#pragma GCC unroll 4
    for (int i = 0; i < 2 * P; ++i) xr[i] = xq.row(m0 + min_i32(i, MR - 1));
    float32x4_t facc[2 * P][2];
#pragma GCC unroll 4
    for (int i = 0; i < 2 * P; ++i) facc[i][0] = facc[i][1] = vdupq_n_f32(0.0f);
    for (int32_t b = 0; b < kb; ++b) {
      // acc[p][j]: activation rows (2p, 2p+1) x weight rows (8h + 2j, 8h + 2j + 1)
      int32x4_t acc[P][4];
      int8x16_t alo[2][P], ahi[2][P];  // [quad pair][activation pair]
#pragma GCC unroll 2
      for (int p = 0; p < P; ++p) {
        acc[p][0] = acc[p][1] = acc[p][2] = acc[p][3] = vdupq_n_s32(0);
        const int8_t* x0 = xr[2 * p] + 32 * b;
        const int8_t* x1 = xr[2 * p + 1] + 32 * b;
        const int8x16_t x0l = vld1q_s8(x0), x0h = vld1q_s8(x0 + 16);
        const int8x16_t x1l = vld1q_s8(x1), x1h = vld1q_s8(x1 + 16);
        alo[0][p] = pair_lo(x0l, x1l);
        alo[1][p] = pair_hi(x0l, x1l);
        ahi[0][p] = pair_lo(x0h, x1h);
        ahi[1][p] = pair_hi(x0h, x1h);
      }
      const uint8_t* q = panel + (size_t)b * 256;
      quad_pair<P>(q, 0, h, alo[0], ahi[0], acc);
      quad_pair<P>(q, 1, h, alo[1], ahi[1], acc);
      float32x4_t ws[2];
      q4_panel_scales8(scales + (size_t)b * kPanelRows, ws);
#pragma GCC unroll 2
      for (int p = 0; p < P; ++p)
#pragma GCC unroll 2
        for (int c = 0; c < 2; ++c) {
          const int32x4_t even = vcombine_s32(vget_low_s32(acc[p][2 * c]), vget_low_s32(acc[p][2 * c + 1]));
          const int32x4_t odd = vcombine_s32(vget_high_s32(acc[p][2 * c]), vget_high_s32(acc[p][2 * c + 1]));
          facc[2 * p][c] = vfmaq_f32(facc[2 * p][c], vcvtq_f32_s32(even), ws[c]);
          facc[2 * p + 1][c] = vfmaq_f32(facc[2 * p + 1][c], vcvtq_f32_s32(odd), ws[c]);
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
inline void q4_gemm_4x8__neoni8mm(const GemmArgs& a) { panel_gemm<Q4PanelTileNeonI8mm, 4>(a); }

}  // namespace arm
}  // namespace kernels
}  // namespace jepa
#endif  // JEPA_KERNELS_ARM_I8MM

#endif  // JEPA_KERNELS_ARM_Q4_GEMM_4X8_NEONI8MM_HPP
