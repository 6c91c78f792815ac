// jepa/kernels/x86/f32-attention-8x64-avx512.hpp: f32_attention_8x64__avx512,
// the online-softmax attention tile (kernels/attention-tile.hpp) for up to 8
// query rows x 64 keys, AVX-512 (F/BW/VL/DQ). The AVX2 tile's structure at
// twice the width: rows in groups of 4; scores as 4 rows x 64 keys (16 zmm
// accumulators) over head_dim against the key block the op transposed once
// per task (the AVX2 packer's layout, kt[d][64]; lanes past the block's keys
// are never loaded: masked loads), the row max taken on the way out; then
// mask and e^(s - m) (exp_nonpositive_avx512, the same steps as the AVX2 and
// scalar exp) 16 keys a vector, 4 rows interleaved when the group sees every
// key; then acc = acc * alpha + P V with 4 rows x 64 dims in registers. Any
// head_dim (tail lanes masked), any key count.
#ifndef JEPA_KERNELS_X86_F32_ATTENTION_8X64_AVX512_HPP
#define JEPA_KERNELS_X86_F32_ATTENTION_8X64_AVX512_HPP

#include <cstring>
#include <limits>

#include "../attention-tile.hpp"
#include "common-x86.hpp"

#if defined(JEPA_KERNELS_X86_AVX512)
namespace jepa {
namespace kernels {
namespace x86 {
namespace attn512 {

// Lanes of keys [j, j + n) (n <= 16) the mask allows; never reads past n bytes.
JEPA_INLINE_AVX512 __mmask16 mask_lanes16(const uint8_t* m, int32_t n) {
  alignas(16) uint8_t bytes[16] = {0};
  std::memcpy(bytes, m, (size_t)(n < 16 ? n : 16));
  const __m128i zero = _mm_cmpeq_epi8(_mm_load_si128(reinterpret_cast<const __m128i*>(bytes)), _mm_setzero_si128());
  return (__mmask16)(~_mm_movemask_epi8(zero) & 0xFFFF);
}

// Scaled scores for rows i0..i0+3 (rows past `nrows` repeat the last one;
// their scores are overwritten later) against keys [0, 16 * NV) of the
// transposed block: -inf at keys >= jmax. row_max[r]: max of row r's stored scores.
template <int NV>
JEPA_INLINE_AVX512 void scores_4rows(const AttnTileArgs& a, int32_t i0, int32_t nrows, int32_t jmax,
                                     float* row_max) {
  const int32_t hd = a.head_dim;
  const float* q[4];
  float* s[4];
  for (int r = 0; r < 4; ++r) {
    q[r] = a.q + (size_t)(i0 + (r < nrows ? r : nrows - 1)) * a.ldq;
    s[r] = a.scores + (size_t)(i0 + r) * kAttnKeys;
  }
  __mmask16 live[NV];
  for (int v = 0; v < NV; ++v) live[v] = tail_mask16(jmax - 16 * v);
  __m512 c[4][NV];
  for (int r = 0; r < 4; ++r)
    for (int v = 0; v < NV; ++v) c[r][v] = _mm512_setzero_ps();
  const float* kt = a.kt;
  for (int32_t d = 0; d < hd; ++d, kt += kAttnKeys) {
    __m512 k[NV];
    for (int v = 0; v < NV; ++v) k[v] = _mm512_maskz_loadu_ps(live[v], kt + 16 * v);
    for (int r = 0; r < 4; ++r) {
      const __m512 qb = _mm512_set1_ps(q[r][d]);
      for (int v = 0; v < NV; ++v) c[r][v] = _mm512_fmadd_ps(qb, k[v], c[r][v]);
    }
  }
  const __m512 vscale = _mm512_set1_ps(a.scale), vneg = _mm512_set1_ps(-std::numeric_limits<float>::infinity());
  for (int r = 0; r < 4; ++r) {
    __m512 vmax = vneg;
    for (int v = 0; v < NV; ++v) {
      // Keys in [jmax, 16 NV) may be real keys other rows of the tile see: -inf here.
      const __m512 x = _mm512_mask_mov_ps(vneg, live[v], _mm512_mul_ps(c[r][v], vscale));
      _mm512_storeu_ps(s[r] + 16 * v, x);
      vmax = _mm512_max_ps(vmax, x);
    }
    row_max[r] = hmax16(vmax);
  }
}

JEPA_INLINE_AVX512 void scores_4rows_any(const AttnTileArgs& a, int32_t i0, int32_t nrows, int32_t jmax,
                                         float* row_max) {
  switch ((jmax + 15) / 16) {
    case 1: scores_4rows<1>(a, i0, nrows, jmax, row_max); break;
    case 2: scores_4rows<2>(a, i0, nrows, jmax, row_max); break;
    case 3: scores_4rows<3>(a, i0, nrows, jmax, row_max); break;
    default: scores_4rows<4>(a, i0, nrows, jmax, row_max); break;
  }
}

// Row i: mask its scaled scores (keys past visible[i], mask bytes of 0),
// update max/sum, leave p in scores[i][0, jmax) (0 for keys it does not see);
// returns alpha (1 if the row is unchanged).
JEPA_INLINE_AVX512 float softmax_row(const AttnTileArgs& a, int32_t i, int32_t jmax) {
  const float neg_inf = -std::numeric_limits<float>::infinity();
  const int32_t vis = a.visible[i];
  float* s = a.scores + (size_t)i * kAttnKeys;
  const uint8_t* mrow = a.mask ? a.mask + (size_t)i * a.ldmask : nullptr;
  const __m512 vneg = _mm512_set1_ps(neg_inf);
  __m512 vmax = vneg;
  int32_t j = 0;
  for (; j < vis; j += 16) {
    __mmask16 ok = tail_mask16(vis - j);
    if (mrow) ok = (__mmask16)(ok & mask_lanes16(mrow + j, vis - j));
    const __m512 x = _mm512_mask_mov_ps(vneg, ok, _mm512_loadu_ps(s + j));
    _mm512_storeu_ps(s + j, x);
    vmax = _mm512_max_ps(vmax, x);
  }
  const float mx = hmax16(vmax);
  if (mx == neg_inf) {
    for (int32_t z = 0; z < jmax; ++z) s[z] = 0.0f;
    return 1.0f;
  }
  const float m_old = a.max[i], m_new = m_old > mx ? m_old : mx;
  const float alpha =
      m_old == neg_inf ? 0.0f : _mm_cvtss_f32(_mm512_castps512_ps128(exp_nonpositive_avx512(_mm512_set1_ps(m_old - m_new))));
  const __m512 vm = _mm512_set1_ps(m_new);
  __m512 vsum = _mm512_setzero_ps();
  for (j = 0; j < vis; j += 16) {
    const __m512 x = _mm512_loadu_ps(s + j);
    const __mmask16 live = _mm512_cmp_ps_mask(x, vneg, _CMP_GT_OQ);  // masked lanes are -inf
    const __m512 p = _mm512_maskz_mov_ps(live, exp_nonpositive_avx512(_mm512_sub_ps(x, vm)));
    _mm512_storeu_ps(s + j, p);
    vsum = _mm512_add_ps(vsum, p);
  }
  for (; j < jmax; ++j) s[j] = 0.0f;  // other rows of the group see further
  a.sum[i] = a.sum[i] * alpha + hsum16(vsum);
  a.max[i] = m_new;
  return alpha;
}

// The 4 rows of a group that sees all jmax keys, no mask: softmax_row's
// arithmetic with the row max already taken while storing the scores and the
// rows' exps interleaved (4 independent chains). Rows past `nrows` get p too
// (overwritten later).
JEPA_INLINE_AVX512 void softmax_4rows_dense(const AttnTileArgs& a, int32_t i0, int32_t nrows, int32_t jmax,
                                            const float* row_max, float* alpha) {
  const float neg_inf = -std::numeric_limits<float>::infinity();
  float m_new[4], diff[4];
  for (int r = 0; r < 4; ++r) {
    const int32_t i = i0 + (r < nrows ? r : nrows - 1);
    const float m_old = a.max[i];
    m_new[r] = m_old > row_max[r] ? m_old : row_max[r];
    diff[r] = m_old - m_new[r];
  }
  alignas(64) float ex[16];
  _mm512_store_ps(ex, exp_nonpositive_avx512(_mm512_maskz_loadu_ps(0xF, diff)));
  __m512 vm[4], vsum[4];
  float* s[4];
  for (int r = 0; r < 4; ++r) {
    vm[r] = _mm512_set1_ps(m_new[r]);
    vsum[r] = _mm512_setzero_ps();
    s[r] = a.scores + (size_t)(i0 + r) * kAttnKeys;
  }
  const __m512 vneg = _mm512_set1_ps(neg_inf);
  for (int32_t j = 0; j < jmax; j += 16)
    for (int r = 0; r < 4; ++r) {
      const __m512 x = _mm512_loadu_ps(s[r] + j);
      const __mmask16 live = _mm512_cmp_ps_mask(x, vneg, _CMP_GT_OQ);  // keys past jmax are -inf
      const __m512 p = _mm512_maskz_mov_ps(live, exp_nonpositive_avx512(_mm512_sub_ps(x, vm[r])));
      _mm512_storeu_ps(s[r] + j, p);
      vsum[r] = _mm512_add_ps(vsum[r], p);
    }
  for (int r = 0; r < nrows; ++r) {
    const int32_t i = i0 + r;
    alpha[r] = a.max[i] == neg_inf ? 0.0f : ex[r];
    a.sum[i] = a.sum[i] * alpha[r] + hsum16(vsum[r]);
    a.max[i] = m_new[r];
  }
}

// acc[i0 + r][d0, d0 + 16 ND) = acc * alpha[r] + sum_j p[r][j] v_j for 4 rows
// (rows past the tile's have p = 0 and alpha = 1: the contract gives acc 8
// rows); lanes at or past head_dim are neither loaded nor stored.
template <int ND>
JEPA_INLINE_AVX512 void pv_4rows(const AttnTileArgs& a, int32_t i0, const float* alpha, int32_t jmax, int32_t d0) {
  const int32_t hd = a.head_dim;
  const float* p[4];
  float* o[4];
  for (int r = 0; r < 4; ++r) {
    p[r] = a.scores + (size_t)(i0 + r) * kAttnKeys;
    o[r] = a.acc + (size_t)(i0 + r) * a.ldacc + d0;
  }
  __mmask16 lanes[ND];
  for (int v = 0; v < ND; ++v) lanes[v] = tail_mask16(hd - d0 - 16 * v);
  __m512 c[4][ND];
  for (int r = 0; r < 4; ++r) {
    const __m512 al = _mm512_set1_ps(alpha[r]);
    for (int v = 0; v < ND; ++v) c[r][v] = _mm512_mul_ps(_mm512_maskz_loadu_ps(lanes[v], o[r] + 16 * v), al);
  }
  const float* vrow = a.v + d0;
  for (int32_t j = 0; j < jmax; ++j, vrow += a.ldv) {
    __m512 vv[ND];
    for (int v = 0; v < ND; ++v) vv[v] = _mm512_maskz_loadu_ps(lanes[v], vrow + 16 * v);
    for (int r = 0; r < 4; ++r) {
      const __m512 pb = _mm512_set1_ps(p[r][j]);
      for (int v = 0; v < ND; ++v) c[r][v] = _mm512_fmadd_ps(pb, vv[v], c[r][v]);
    }
  }
  for (int r = 0; r < 4; ++r)
    for (int v = 0; v < ND; ++v) _mm512_mask_storeu_ps(o[r] + 16 * v, lanes[v], c[r][v]);
}

JEPA_INLINE_AVX512 void pv_4rows_all(const AttnTileArgs& a, int32_t i0, const float* alpha, int32_t jmax) {
  for (int32_t d0 = 0; d0 < a.head_dim; d0 += 64) {
    switch ((a.head_dim - d0 + 15) / 16) {
      case 1: pv_4rows<1>(a, i0, alpha, jmax, d0); break;
      case 2: pv_4rows<2>(a, i0, alpha, jmax, d0); break;
      case 3: pv_4rows<3>(a, i0, alpha, jmax, d0); break;
      default: pv_4rows<4>(a, i0, alpha, jmax, d0); break;
    }
  }
}

}  // namespace attn512

// Needs a.kt (f32_attention_pack_kt__avx2's layout: the op packs with it).
JEPA_TARGET_AVX512 inline void f32_attention_8x64__avx512(const AttnTileArgs& a) {
  for (int32_t i0 = 0; i0 < a.rows; i0 += 4) {
    const AttnRowGroup grp = attn_row_group(a, i0, 4);
    const int32_t nrows = grp.rows, jmax = grp.jmax;
    const bool dense = grp.dense;
    if (jmax == 0) continue;
    float row_max[4];
    attn512::scores_4rows_any(a, i0, nrows, jmax, row_max);
    float alpha[4] = {1.0f, 1.0f, 1.0f, 1.0f};
    if (dense) {
      attn512::softmax_4rows_dense(a, i0, nrows, jmax, row_max, alpha);
    } else {
      for (int32_t r = 0; r < nrows; ++r) alpha[r] = attn512::softmax_row(a, i0 + r, jmax);
    }
    for (int32_t r = nrows; r < 4; ++r) {
      float* s = a.scores + (size_t)(i0 + r) * kAttnKeys;
      for (int32_t z = 0; z < jmax; ++z) s[z] = 0.0f;
    }
    attn512::pv_4rows_all(a, i0, alpha, jmax);
  }
}

}  // namespace x86
}  // namespace kernels
}  // namespace jepa
#endif  // JEPA_KERNELS_X86_AVX512

#endif  // JEPA_KERNELS_X86_F32_ATTENTION_8X64_AVX512_HPP
