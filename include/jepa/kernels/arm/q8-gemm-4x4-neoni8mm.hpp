// jepa/kernels/arm/q8-gemm-4x4-neoni8mm.hpp: q8_gemm_4x4__neoni8mm, the q8 GEMM for
// the ARMv8.6 int8 matrix-multiply extension (SMMLA; FEAT_I8MM): int8 weights
// (canonical row_major, one f32 scale per row) against per-row int8 activations.
// SMMLA multiplies a 2x8 by an 8x2 int8 block into a 2x2 int32 block: 32
// products per instruction, twice SDOT's 16. The canonical [N][K] rows are
// regrouped in registers (ZIP1/ZIP2 of 64-bit halves) into row pairs x 8 k, so a
// 4x4 tile needs 4 accumulators. Exact integer sums: bit identical to the
// __neon and __neondot q8 kernels.
#ifndef JEPA_KERNELS_ARM_Q8_GEMM_4X4_NEONI8MM_HPP
#define JEPA_KERNELS_ARM_Q8_GEMM_4X4_NEONI8MM_HPP

#include "neon-int8-common.hpp"

#if defined(JEPA_KERNELS_ARM_I8MM)
namespace jepa {
namespace kernels {
namespace arm {

// [r0 k0..7 | r1 k0..7] and [r0 k8..15 | r1 k8..15] from two 16-byte row chunks.
JEPA_TARGET_I8MM inline int8x16_t pair_lo(int8x16_t r0, int8x16_t r1) {
  return vreinterpretq_s8_s64(vzip1q_s64(vreinterpretq_s64_s8(r0), vreinterpretq_s64_s8(r1)));
}
JEPA_TARGET_I8MM inline int8x16_t pair_hi(int8x16_t r0, int8x16_t r1) {
  return vreinterpretq_s8_s64(vzip2q_s64(vreinterpretq_s64_s8(r0), vreinterpretq_s64_s8(r1)));
}

struct Q8TileNeonI8mm {
  // MR = 1..4 activation rows; an odd MR pairs its last row with itself
  // (clamped pointer), and that duplicate's results are dropped.
  template <int MR>
  JEPA_TARGET_I8MM static void tile(const GemmArgs& a, const QuantRows& xq, int32_t m0, int32_t n0, int32_t cols) {
    constexpr int P = (MR + 1) / 2;  // activation row pairs
    const Q8View wv(*a.w);
    const int32_t K = a.w->k;
    const int8_t* xr[2 * P];
#pragma GCC unroll 4
    for (int i = 0; i < 2 * P; ++i) xr[i] = xq.row(m0 + min_i32(i, MR - 1));
    const int8_t* wr[kStrip];
#pragma GCC unroll 4
    for (int j = 0; j < kStrip; ++j) wr[j] = wv.row(n0 + min_i32(j, cols - 1));
    // acc[p][q] = [x(2p).w(2q), x(2p).w(2q+1), x(2p+1).w(2q), x(2p+1).w(2q+1)]
    int32x4_t acc[P][2];
#pragma GCC unroll 2
    for (int p = 0; p < P; ++p) acc[p][0] = acc[p][1] = vdupq_n_s32(0);
    for (int32_t k = 0; k < K; k += 16) {
      int8x16_t w[kStrip];
      if (K - k >= 16) {
#pragma GCC unroll 4
        for (int j = 0; j < kStrip; ++j) w[j] = vld1q_s8(wr[j] + k);
      } else {
#pragma GCC unroll 4
        for (int j = 0; j < kStrip; ++j) w[j] = load_tail_s8(wr[j] + k, K - k);
      }
      const int8x16_t b0l = pair_lo(w[0], w[1]), b0h = pair_hi(w[0], w[1]);
      const int8x16_t b1l = pair_lo(w[2], w[3]), b1h = pair_hi(w[2], w[3]);
#pragma GCC unroll 2
      for (int p = 0; p < P; ++p) {
        const int8x16_t x0 = vld1q_s8(xr[2 * p] + k), x1 = vld1q_s8(xr[2 * p + 1] + k);
        const int8x16_t al = pair_lo(x0, x1), ah = pair_hi(x0, x1);
        acc[p][0] = vmmlaq_s32(vmmlaq_s32(acc[p][0], al, b0l), ah, b0h);
        acc[p][1] = vmmlaq_s32(vmmlaq_s32(acc[p][1], al, b1l), ah, b1h);
      }
    }
#pragma GCC unroll 2
    for (int p = 0; p < P; ++p) {
      const int32x4_t even = vcombine_s32(vget_low_s32(acc[p][0]), vget_low_s32(acc[p][1]));
      store_strip_q8(a, m0 + 2 * p, n0, cols, even, xq.scale[m0 + 2 * p], wv.scale);
      if (2 * p + 1 < MR) {
        const int32x4_t odd = vcombine_s32(vget_high_s32(acc[p][0]), vget_high_s32(acc[p][1]));
        store_strip_q8(a, m0 + 2 * p + 1, n0, cols, odd, xq.scale[m0 + 2 * p + 1], wv.scale);
      }
    }
  }
};

// Rows [0, a.m), columns [a.n0, a.n_end()); activations from *a.xp
// (ActFormat::s8: int8 per row).
inline void q8_gemm_4x4__neoni8mm(const GemmArgs& a) {
  int8_gemm<Q8TileNeonI8mm>(a);
}

}  // namespace arm
}  // namespace kernels
}  // namespace jepa
#endif  // JEPA_KERNELS_ARM_I8MM

#endif  // JEPA_KERNELS_ARM_Q8_GEMM_4X4_NEONI8MM_HPP
