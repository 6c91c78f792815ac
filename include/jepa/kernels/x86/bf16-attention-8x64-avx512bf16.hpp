// jepa/kernels/x86/bf16-attention-8x64-avx512bf16.hpp:
// bf16_attention_8x64__avx512bf16, the online-softmax attention tile
// (kernels/attention-tile.hpp) with AttnMath::bf16 arithmetic on AVX-512 BF16
// (Zen 4 and later, Cooper Lake; AMX CPUs run the AMX tile unless capped
// below it): up to 8 query rows x 64
// keys, head_dim <= 96. The AVX-512 f32 tile's structure, with both products
// as vdpbf16ps (a bf16 pair's products summed into each f32 lane: half the
// instructions of the f32 FMAs):
//   S = Q K^T: 4 rows x 64 keys in 16 accumulators; per dim pair, 4 loads of
//       the packed K (bf16-attention-pack-avx512bf16.hpp) and a broadcast of
//       each row's bf16 pair;
//   P V:       4 rows x 64 dims; per key pair, 4 loads of the packed V and a
//       broadcast of each row's (p_j, p_j+1) in bf16.
// Between them, a group whose rows see every key of the block runs the online
// softmax on the scores in registers (softmax_4rows_dense's arithmetic, p
// converted to bf16 as it is made: 6 % faster at L = 197 than storing the
// scores); a group that masks keys stores them and runs the f32 tile's
// attn512::softmax_row. What it computes is
// ref::bf16_attention_tile__ref, within the float accumulation bound
// (vdpbf16ps also flushes bf16 denormals to zero).
#ifndef JEPA_KERNELS_X86_BF16_ATTENTION_8X64_AVX512BF16_HPP
#define JEPA_KERNELS_X86_BF16_ATTENTION_8X64_AVX512BF16_HPP

#include <limits>

#include "bf16-attention-pack-avx512bf16.hpp"
#include "f32-attention-8x64-avx512.hpp"

#if defined(JEPA_KERNELS_X86_AVX512BF16)
namespace jepa {
namespace kernels {
namespace x86 {
namespace attn512bf16 {

using namespace attn_bf16;

// c[r][g] = the unscaled scores of 4 rows (qp: their bf16 pairs) against keys
// [16 g, 16 g + 16) of the packed block, g < NG.
template <int NG>
JEPA_INLINE_AVX512BF16 void qk_4rows(const AttnTileArgs& a, const uint32_t (*qp)[kMaxKSteps * 16], __m512 c[4][NG]) {
  const uint8_t* kp = reinterpret_cast<const uint8_t*>(a.kt);
  const int32_t pairs = (a.head_dim + 1) / 2;
  for (int r = 0; r < 4; ++r)
    for (int g = 0; g < NG; ++g) c[r][g] = _mm512_setzero_ps();
  for (int32_t d2 = 0; d2 < pairs; ++d2) {
    const uint8_t* row = kp + k_tile(d2 / 16, 0) + (size_t)(d2 % 16) * 64;
    __m512i k[NG];
    for (int g = 0; g < NG; ++g) k[g] = _mm512_loadu_si512(row + (size_t)g * 1024);
    for (int r = 0; r < 4; ++r) {
      const __m512i qb = _mm512_set1_epi32((int32_t)qp[r][d2]);
      for (int g = 0; g < NG; ++g) c[r][g] = dpbf16_inplace(c[r][g], (__m512bh)qb, (__m512bh)k[g]);
    }
  }
}

// A group that may mask keys: its scaled scores (-inf at keys >= jmax) into
// scores rows i0..i0+3, the f32 tile's softmax_row on each of its rows (p
// left in the scores), then p in bf16 pairs into pp (zero past jmax, to the
// 32-key step, and past nrows).
template <int NG>
JEPA_INLINE_AVX512BF16 void softmax_4rows_masked(const AttnTileArgs& a, const __m512 c[4][NG], int32_t i0,
                                                 int32_t nrows, int32_t jmax, float* alpha,
                                                 uint32_t (*pp)[kAttnKeys / 2]) {
  const __m512 vscale = _mm512_set1_ps(a.scale), vneg = _mm512_set1_ps(-std::numeric_limits<float>::infinity());
  for (int r = 0; r < nrows; ++r) {
    float* s = a.scores + (size_t)(i0 + r) * kAttnKeys;
    for (int g = 0; g < NG; ++g) {
      const __m512 x = _mm512_mul_ps(c[r][g], vscale);
      _mm512_storeu_ps(s + 16 * g, _mm512_mask_mov_ps(vneg, tail_mask16(jmax - 16 * g), x));
    }
    alpha[r] = attn512::softmax_row(a, i0 + r, jmax);
  }
  const int vsteps = (jmax + 31) / 32;
  for (int r = 0; r < 4; ++r)
    for (int kk = 0; kk < vsteps; ++kk) {
      const __m512i x = r < nrows ? bf16x32(a.scores + (size_t)(i0 + r) * kAttnKeys + kk * 32, jmax - kk * 32)
                                  : _mm512_setzero_si512();
      _mm512_store_si512(&pp[r][kk * 16], x);
    }
}

// A group whose rows all see keys [0, jmax), no mask: the online softmax on
// the scores in registers (softmax_4rows_dense's arithmetic and summation
// order, without storing them), p straight into bf16 pairs in pp (zero past
// jmax, to the 32-key step, and past nrows).
template <int NG>
JEPA_INLINE_AVX512BF16 void softmax_4rows_dense(const AttnTileArgs& a, __m512 c[4][NG], int32_t i0, int32_t nrows,
                                                int32_t jmax, float* alpha, uint32_t (*pp)[kAttnKeys / 2]) {
  const float neg_inf = -std::numeric_limits<float>::infinity();
  const __m512 vscale = _mm512_set1_ps(a.scale), vneg = _mm512_set1_ps(neg_inf);
  float m_new[4] = {0.0f, 0.0f, 0.0f, 0.0f}, diff[4] = {0.0f, 0.0f, 0.0f, 0.0f};
  for (int r = 0; r < 4; ++r) {
    __m512 vmax = vneg;
    for (int g = 0; g < NG; ++g) {
      c[r][g] = _mm512_mask_mov_ps(vneg, tail_mask16(jmax - 16 * g), _mm512_mul_ps(c[r][g], vscale));
      vmax = _mm512_max_ps(vmax, c[r][g]);
    }
    if (r < nrows) {
      const float m_old = a.max[i0 + r], mx = hmax16(vmax);
      m_new[r] = m_old > mx ? m_old : mx;
      diff[r] = m_old - m_new[r];
    }
  }
  alignas(64) float ex[16];
  _mm512_store_ps(ex, exp_nonpositive_avx512(_mm512_maskz_loadu_ps(0xF, diff)));
  for (int r = 0; r < 4; ++r) {
    if (r >= nrows) {
      for (int kk = 0; kk < (NG + 1) / 2; ++kk) _mm512_store_si512(&pp[r][kk * 16], _mm512_setzero_si512());
      continue;
    }
    const __m512 vm = _mm512_set1_ps(m_new[r]);
    __m512 vsum = _mm512_setzero_ps(), p[NG + 1];
    for (int g = 0; g < NG; ++g) {
      const __mmask16 live = _mm512_cmp_ps_mask(c[r][g], vneg, _CMP_GT_OQ);  // keys past jmax are -inf
      p[g] = _mm512_maskz_mov_ps(live, exp_nonpositive_avx512(_mm512_sub_ps(c[r][g], vm)));
      vsum = _mm512_add_ps(vsum, p[g]);
    }
    p[NG] = _mm512_setzero_ps();
    for (int kk = 0; kk < (NG + 1) / 2; ++kk) _mm512_store_si512(&pp[r][kk * 16], cvt2_bf16(p[2 * kk + 1], p[2 * kk]));
    const int32_t i = i0 + r;
    alpha[r] = a.max[i] == neg_inf ? 0.0f : ex[r];
    a.sum[i] = a.sum[i] * alpha[r] + hsum16(vsum);
    a.max[i] = m_new[r];
  }
}

// acc[i0 + r][d0, d0 + 16 ND) = acc * alpha[r] + sum_j p[r][j] v_j for the
// group's nrows rows (pp: their p in bf16 pairs, zero past jmax), over key
// pairs [0, (jmax + 1) / 2) of the packed values; d0 = 16 dg0. Whole 16-dim
// groups: the contract pads acc rows to 16 floats for a bf16 tile.
template <int ND>
JEPA_INLINE_AVX512BF16 void pv_4rows(const AttnTileArgs& a, const uint32_t (*pp)[kAttnKeys / 2], int32_t i0,
                                     int32_t nrows, const float* alpha, int32_t jmax, int dg0) {
  const uint8_t* vp = static_cast<const uint8_t*>(a.vp);
  const int32_t pairs = (jmax + 1) / 2;
  float* o[4];
  for (int r = 0; r < 4; ++r) o[r] = a.acc + (size_t)(i0 + (r < nrows ? r : 0)) * a.ldacc + (size_t)dg0 * 16;
  __m512 c[4][ND];
  for (int r = 0; r < 4; ++r) {
    const __m512 al = _mm512_set1_ps(alpha[r]);
    for (int v = 0; v < ND; ++v) c[r][v] = _mm512_mul_ps(_mm512_loadu_ps(o[r] + 16 * v), al);
  }
  for (int32_t j2 = 0; j2 < pairs; ++j2) {
    const uint8_t* row = vp + v_tile(j2 / 16, dg0) + (size_t)(j2 % 16) * 64;
    __m512i vv[ND];
    for (int v = 0; v < ND; ++v) vv[v] = _mm512_loadu_si512(row + (size_t)v * 1024);
    for (int r = 0; r < 4; ++r) {
      const __m512i pb = _mm512_set1_epi32((int32_t)pp[r][j2]);
      for (int v = 0; v < ND; ++v) c[r][v] = dpbf16_inplace(c[r][v], (__m512bh)pb, (__m512bh)vv[v]);
    }
  }
  for (int r = 0; r < nrows; ++r)
    for (int v = 0; v < ND; ++v) _mm512_storeu_ps(o[r] + 16 * v, c[r][v]);
}

template <int NG>
JEPA_INLINE_AVX512BF16 void qk_softmax_4rows(const AttnTileArgs& a, const uint32_t (*qp)[kMaxKSteps * 16],
                                             int32_t i0, int32_t nrows, int32_t jmax, bool dense, float* alpha,
                                             uint32_t (*pp)[kAttnKeys / 2]) {
  __m512 c[4][NG];
  qk_4rows<NG>(a, qp, c);
  if (dense) {
    softmax_4rows_dense<NG>(a, c, i0, nrows, jmax, alpha, pp);
  } else {
    softmax_4rows_masked<NG>(a, c, i0, nrows, jmax, alpha, pp);
  }
}

}  // namespace attn512bf16

// Needs a.kt and a.vp packed by bf16_attention_pack_k / _v__avx512bf16,
// head_dim <= 96 and a.acc rows padded as the contract says (ldacc >= head_dim
// rounded up to 16).
JEPA_TARGET_AVX512BF16 inline void bf16_attention_8x64__avx512bf16(const AttnTileArgs& a) {
  using namespace attn512bf16;
  const int32_t hd = a.head_dim;
  const int ksteps = (hd + 31) / 32, dgroups = (hd + 15) / 16;
  for (int32_t i0 = 0; i0 < a.rows; i0 += 4) {
    const AttnRowGroup grp = attn_row_group(a, i0, 4);
    const int32_t nrows = grp.rows, jmax = grp.jmax;
    const bool dense = grp.dense;
    if (jmax == 0) continue;

    // The group's query rows as bf16 pairs, zeros past head_dim and past its rows.
    alignas(64) uint32_t qp[4][kMaxKSteps * 16];
    for (int r = 0; r < 4; ++r)
      for (int ks = 0; ks < ksteps; ++ks) {
        const __m512i x =
            r < nrows ? bf16x32(a.q + (size_t)(i0 + r) * a.ldq + ks * 32, hd - ks * 32) : _mm512_setzero_si512();
        _mm512_store_si512(&qp[r][ks * 16], x);
      }
    alignas(64) uint32_t pp[4][kAttnKeys / 2];  // p in bf16 pairs
    float alpha[4] = {1.0f, 1.0f, 1.0f, 1.0f};
    switch ((jmax + 15) / 16) {
      case 1: qk_softmax_4rows<1>(a, qp, i0, nrows, jmax, dense, alpha, pp); break;
      case 2: qk_softmax_4rows<2>(a, qp, i0, nrows, jmax, dense, alpha, pp); break;
      case 3: qk_softmax_4rows<3>(a, qp, i0, nrows, jmax, dense, alpha, pp); break;
      default: qk_softmax_4rows<4>(a, qp, i0, nrows, jmax, dense, alpha, pp); break;
    }
    for (int dg0 = 0; dg0 < dgroups; dg0 += 4) {
      switch (dgroups - dg0) {
        case 1: pv_4rows<1>(a, pp, i0, nrows, alpha, jmax, dg0); break;
        case 2: pv_4rows<2>(a, pp, i0, nrows, alpha, jmax, dg0); break;
        case 3: pv_4rows<3>(a, pp, i0, nrows, alpha, jmax, dg0); break;
        default: pv_4rows<4>(a, pp, i0, nrows, alpha, jmax, dg0); break;
      }
    }
  }
}

}  // namespace x86
}  // namespace kernels
}  // namespace jepa
#endif  // JEPA_KERNELS_X86_AVX512BF16

#endif  // JEPA_KERNELS_X86_BF16_ATTENTION_8X64_AVX512BF16_HPP
