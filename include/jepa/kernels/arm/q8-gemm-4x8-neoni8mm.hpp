// jepa/kernels/arm/q8-gemm-4x8-neoni8mm.hpp: q8_gemm_4x8__neoni8mm, the q8 GEMM
// for the int8 matrix-multiply extension (SMMLA) over panel-packed int8 weights
// (Layout::panel, NR = 16, KR = 4, as q8-gemm-4x16-neondot.hpp) against
// activations quantized to int8 per row (a.xp, ActFormat::s8).
// SMMLA wants 2 rows x 8 k per operand: for weights, ZIP1/ZIP2 of 32-bit lanes
// of two consecutive k-groups give rows (r, r+1) x 8 k; for activations, the
// 64-bit halves of two rows' 16-byte loads. A 4 x 8 tile (half a panel) is 2
// activation pairs x 4 weight pairs = 8 accumulators of 2 x 2 outputs, 16 SMMLAs
// (512 products) per 16 k. Exact integer sums: bit identical to the dotprod
// kernel and to ref::gemm_prepared__ref before the epilogue.
#ifndef JEPA_KERNELS_ARM_Q8_GEMM_4X8_NEONI8MM_HPP
#define JEPA_KERNELS_ARM_Q8_GEMM_4X8_NEONI8MM_HPP

#include "neon-panel-common.hpp"
#include "q8-gemm-4x4-neoni8mm.hpp"  // pair_lo / pair_hi

#if defined(JEPA_KERNELS_ARM_I8MM)
namespace jepa {
namespace kernels {
namespace arm {

struct Q8PanelTileNeonI8mm {
  // k-groups g and g+1 (g+1 absent: zero weights) of weight rows 8h .. 8h+7
  // against the activation pairs ap[p] (2 rows x those 8 k).
  template <int P>
  JEPA_TARGET_I8MM static void k8(const int8_t* panel, int32_t g, bool second, int h, const int8x16_t* ap,
                                  int32x4_t (*acc)[4]) {
    const int8_t* p0 = panel + (size_t)g * 64 + 32 * h;
#pragma GCC unroll 2
    for (int c = 0; c < 2; ++c) {
      const int32x4_t w0 = vreinterpretq_s32_s8(vld1q_s8(p0 + 16 * c));
      const int32x4_t w1 = second ? vreinterpretq_s32_s8(vld1q_s8(p0 + 64 + 16 * c)) : vdupq_n_s32(0);
      const int8x16_t b01 = vreinterpretq_s8_s32(vzip1q_s32(w0, w1));  // rows 4c, 4c+1 (of the half)
      const int8x16_t b23 = vreinterpretq_s8_s32(vzip2q_s32(w0, w1));  // rows 4c+2, 4c+3
#pragma GCC unroll 2
      for (int p = 0; p < P; ++p) {
        acc[p][2 * c] = vmmlaq_s32(acc[p][2 * c], ap[p], b01);
        acc[p][2 * c + 1] = vmmlaq_s32(acc[p][2 * c + 1], ap[p], b23);
      }
    }
  }

  template <int MR>
  JEPA_TARGET_I8MM static void half(const GemmArgs& a, const PanelView& v, int32_t m0, int32_t n, int h,
                                    int32_t valid) {
    constexpr int P = (MR + 1) / 2;  // activation row pairs; an odd MR repeats its last row
    const QuantRows xq(*a.xp);
    const int8_t* panel = reinterpret_cast<const int8_t*>(v.panel(n));
    const int32_t groups = v.kp() / 4;
    const int8_t* xr[2 * P];
#pragma GCC unroll 4
    for (int i = 0; i < 2 * P; ++i) xr[i] = xq.row(m0 + min_i32(i, MR - 1));
    // acc[p][j]: rows (2p, 2p+1) x weight rows (8h + 2j, 8h + 2j + 1)
    int32x4_t acc[P][4];
#pragma GCC unroll 2
    for (int p = 0; p < P; ++p) acc[p][0] = acc[p][1] = acc[p][2] = acc[p][3] = vdupq_n_s32(0);
    int32_t g = 0;
    for (; g + 4 <= groups; g += 4) {  // 16 k
      int8x16_t alo[P], ahi[P];
#pragma GCC unroll 2
      for (int p = 0; p < P; ++p) {
        const int8x16_t x0 = vld1q_s8(xr[2 * p] + 4 * g), x1 = vld1q_s8(xr[2 * p + 1] + 4 * g);
        alo[p] = pair_lo(x0, x1);
        ahi[p] = pair_hi(x0, x1);
      }
      k8<P>(panel, g, true, h, alo, acc);
      k8<P>(panel, g + 2, true, h, ahi, acc);
    }
    for (; g < groups; g += 2) {  // 8 k (the last group may be alone; x is zero past Kp)
      int8x16_t ap[P];
#pragma GCC unroll 2
      for (int p = 0; p < P; ++p) ap[p] = vcombine_s8(vld1_s8(xr[2 * p] + 4 * g), vld1_s8(xr[2 * p + 1] + 4 * g));
      k8<P>(panel, g, g + 1 < groups, h, ap, acc);
    }
    const float* ws = v.q8_scales();
    const int32_t nh = n + 8 * h;
#pragma GCC unroll 2
    for (int p = 0; p < P; ++p)
      for (int c = 0; c < 2 && 8 * h + 4 * c < valid; ++c) {
        const int32_t cols = min_i32(4, valid - 8 * h - 4 * c);
        const int32x4_t even = vcombine_s32(vget_low_s32(acc[p][2 * c]), vget_low_s32(acc[p][2 * c + 1]));
        store_strip_q8(a, m0 + 2 * p, nh + 4 * c, cols, even, xq.scale[m0 + 2 * p], ws);
        if (2 * p + 1 < MR) {
          const int32x4_t odd = vcombine_s32(vget_high_s32(acc[p][2 * c]), vget_high_s32(acc[p][2 * c + 1]));
          store_strip_q8(a, m0 + 2 * p + 1, nh + 4 * c, cols, odd, xq.scale[m0 + 2 * p + 1], ws);
        }
      }
  }

  template <int MR>
  static void tile(const GemmArgs& a, const PanelView& v, int32_t m0, int32_t n, int32_t valid) {
    half<MR>(a, v, m0, n, 0, valid);
    if (valid > 8) half<MR>(a, v, m0, n, 1, valid);
  }
};

// Rows [0, a.m), columns [a.n0, a.n_end()) (a.n0 a multiple of 16);
// activations from *a.xp (ActFormat::s8).
inline void q8_gemm_4x8__neoni8mm(const GemmArgs& a) { panel_gemm<Q8PanelTileNeonI8mm, 4>(a); }

}  // namespace arm
}  // namespace kernels
}  // namespace jepa
#endif  // JEPA_KERNELS_ARM_I8MM

#endif  // JEPA_KERNELS_ARM_Q8_GEMM_4X8_NEONI8MM_HPP
