// jepa/kernels/x86/f32-attention-8x64-avx2.hpp: f32_attention_8x64__avx2, the
// online-softmax attention tile (kernels/attention-tile.hpp) for up to 8 query
// rows x 64 keys, AVX2 + FMA, and its K packer. Rows go in groups of 4:
// scaled scores as a 4-row x 16-key register tile over head_dim against the
// key block transposed once per task by the op (no horizontal sums; K rows of
// a qkv buffer alias in L1, the packed block does not), the row max taken on
// the way out; then mask and e^(s - m) (exp_nonpositive_avx2, ~1 ulp) on 8
// keys a vector, 4 rows interleaved when the group sees every key; then
// acc = acc * alpha + P V with 4 rows x 16 dims of accumulators in registers.
// Any head_dim (tails masked), any key count.
#ifndef JEPA_KERNELS_X86_F32_ATTENTION_8X64_AVX2_HPP
#define JEPA_KERNELS_X86_F32_ATTENTION_8X64_AVX2_HPP

#include <limits>

#include "../attention-tile.hpp"
#include "common-x86.hpp"

#if defined(JEPA_KERNELS_X86_AVX2)
namespace jepa {
namespace kernels {
namespace x86 {
namespace attn {

JEPA_INLINE_AVX2 float hmax8(__m256 v) {
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  m = _mm_max_ss(m, _mm_movehdup_ps(m));
  return _mm_cvtss_f32(m);
}

JEPA_INLINE_AVX2 float hsum8(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// Lanes of keys [j, j + n) (n <= 8) the mask allows; never reads past n bytes.
JEPA_INLINE_AVX2 __m256 mask_lanes(const uint8_t* m, int32_t n) {
  uint64_t bytes = 0;
  std::memcpy(&bytes, m, (size_t)(n < 8 ? n : 8));
  const __m256i w = _mm256_cvtepu8_epi32(_mm_cvtsi64_si128((long long)bytes));
  return _mm256_castsi256_ps(_mm256_xor_si256(_mm256_cmpeq_epi32(w, _mm256_setzero_si256()),
                                              _mm256_set1_epi32(-1)));
}

// 8 rows of k (rows past `rows` read as zeros) x 8 floats from column d
// (`cols` of them, the rest zeros), transposed into kt rows d..d+cols-1.
JEPA_INLINE_AVX2 void transpose8x8_to_kt(const float* k, size_t ldk, int32_t rows, int32_t d, int32_t cols,
                                          float* kt) {
  const __m256i tail = tail_mask8(cols);
  __m256 r[8];
  for (int32_t i = 0; i < 8; ++i)
    r[i] = i < rows ? (cols == 8 ? _mm256_loadu_ps(k + (size_t)i * ldk + d)
                                 : _mm256_maskload_ps(k + (size_t)i * ldk + d, tail))
                    : _mm256_setzero_ps();
  const __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
  const __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
  const __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
  const __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
  const __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
  const __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
  const __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE);
  const __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
  const __m256 out[8] = {_mm256_permute2f128_ps(u0, u4, 0x20), _mm256_permute2f128_ps(u1, u5, 0x20),
                         _mm256_permute2f128_ps(u2, u6, 0x20), _mm256_permute2f128_ps(u3, u7, 0x20),
                         _mm256_permute2f128_ps(u0, u4, 0x31), _mm256_permute2f128_ps(u1, u5, 0x31),
                         _mm256_permute2f128_ps(u2, u6, 0x31), _mm256_permute2f128_ps(u3, u7, 0x31)};
  for (int32_t c = 0; c < cols; ++c) _mm256_storeu_ps(kt + (size_t)(d + c) * kAttnKeys, out[c]);
}

// Scaled scores (q_r . k_j) * scale for rows i0..i0+3 (rows past `nrows`
// repeat the last one; their scores are overwritten later) and keys [0, jmax
// rounded up to 8; -inf past jmax) into scores[i][j], from the transposed
// block: 4 rows x 16 keys of accumulators, one broadcast q element against two
// kt vectors. vmax[r]: lane-wise max of what was stored for row r.
JEPA_INLINE_AVX2 void scores_4rows(const AttnTileArgs& a, int32_t i0, int32_t nrows, int32_t jmax, __m256* vmax) {
  const int32_t hd = a.head_dim, jpad = (jmax + 7) & ~7;
  const float* q[4];
  float* s[4];
  for (int r = 0; r < 4; ++r) {
    q[r] = a.q + (size_t)(i0 + (r < nrows ? r : nrows - 1)) * a.ldq;
    s[r] = a.scores + (size_t)(i0 + r) * kAttnKeys;
  }
  const __m256 vscale = _mm256_set1_ps(a.scale), vneg = _mm256_set1_ps(-std::numeric_limits<float>::infinity());
  for (int r = 0; r < 4; ++r) vmax[r] = vneg;
  int32_t j = 0;
  for (; j + 16 <= jpad; j += 16) {
    __m256 c[4][2];
    for (int r = 0; r < 4; ++r) c[r][0] = c[r][1] = _mm256_setzero_ps();
    const float* kt = a.kt + j;
    for (int32_t d = 0; d < hd; ++d, kt += kAttnKeys) {
      const __m256 k0 = _mm256_loadu_ps(kt), k1 = _mm256_loadu_ps(kt + 8);
      for (int r = 0; r < 4; ++r) {
        const __m256 qb = _mm256_broadcast_ss(q[r] + d);
        c[r][0] = _mm256_fmadd_ps(qb, k0, c[r][0]);
        c[r][1] = _mm256_fmadd_ps(qb, k1, c[r][1]);
      }
    }
    // Keys in [jmax, jpad) may be real keys other rows of the tile see: -inf here.
    const __m256 keep0 = _mm256_castsi256_ps(tail_mask8(jmax - j));
    const __m256 keep1 = _mm256_castsi256_ps(tail_mask8(jmax - j - 8));
    for (int r = 0; r < 4; ++r) {
      const __m256 x0 = _mm256_blendv_ps(vneg, _mm256_mul_ps(c[r][0], vscale), keep0);
      const __m256 x1 = _mm256_blendv_ps(vneg, _mm256_mul_ps(c[r][1], vscale), keep1);
      _mm256_storeu_ps(s[r] + j, x0);
      _mm256_storeu_ps(s[r] + j + 8, x1);
      vmax[r] = _mm256_max_ps(vmax[r], _mm256_max_ps(x0, x1));
    }
  }
  if (j < jpad) {  // a last 8 keys
    __m256 c[4];
    for (int r = 0; r < 4; ++r) c[r] = _mm256_setzero_ps();
    const float* kt = a.kt + j;
    for (int32_t d = 0; d < hd; ++d, kt += kAttnKeys) {
      const __m256 k0 = _mm256_loadu_ps(kt);
      for (int r = 0; r < 4; ++r) c[r] = _mm256_fmadd_ps(_mm256_broadcast_ss(q[r] + d), k0, c[r]);
    }
    const __m256 keep = _mm256_castsi256_ps(tail_mask8(jmax - j));
    for (int r = 0; r < 4; ++r) {
      const __m256 x = _mm256_blendv_ps(vneg, _mm256_mul_ps(c[r], vscale), keep);
      _mm256_storeu_ps(s[r] + j, x);
      vmax[r] = _mm256_max_ps(vmax[r], x);
    }
  }
}

// Row i: mask its scaled scores, update max/sum, leave p in scores[i][0, jmax)
// (0 for keys it does not see); returns alpha (1 if the row is unchanged).
JEPA_INLINE_AVX2 float softmax_row(const AttnTileArgs& a, int32_t i, int32_t jmax) {
  const float neg_inf = -std::numeric_limits<float>::infinity();
  const int32_t vis = a.visible[i];
  float* s = a.scores + (size_t)i * kAttnKeys;
  const uint8_t* mrow = a.mask ? a.mask + (size_t)i * a.ldmask : nullptr;
  const __m256 vneg = _mm256_set1_ps(neg_inf);
  __m256 vmax = vneg;
  int32_t j = 0;
  for (; j < vis; j += 8) {
    const int32_t n = vis - j < 8 ? vis - j : 8;
    __m256 ok = _mm256_castsi256_ps(tail_mask8(n));
    if (mrow) ok = _mm256_and_ps(ok, mask_lanes(mrow + j, n));
    const __m256 x = _mm256_blendv_ps(vneg, _mm256_loadu_ps(s + j), ok);
    _mm256_storeu_ps(s + j, x);
    vmax = _mm256_max_ps(vmax, x);
  }
  const float mx = hmax8(vmax);
  if (mx == neg_inf) {
    for (int32_t z = 0; z < jmax; ++z) s[z] = 0.0f;
    return 1.0f;
  }
  const float m_old = a.max[i], m_new = m_old > mx ? m_old : mx;
  const float alpha = m_old == neg_inf ? 0.0f : _mm256_cvtss_f32(exp_nonpositive_avx2(_mm256_set1_ps(m_old - m_new)));
  const __m256 vm = _mm256_set1_ps(m_new);
  __m256 vsum = _mm256_setzero_ps();
  for (j = 0; j < vis; j += 8) {
    const __m256 x = _mm256_loadu_ps(s + j);
    const __m256 live = _mm256_cmp_ps(x, vneg, _CMP_GT_OQ);  // masked lanes are -inf
    const __m256 p = _mm256_and_ps(live, exp_nonpositive_avx2(_mm256_sub_ps(x, vm)));
    _mm256_storeu_ps(s + j, p);
    vsum = _mm256_add_ps(vsum, p);
  }
  for (; j < jmax; ++j) s[j] = 0.0f;  // other rows of the group see further
  a.sum[i] = a.sum[i] * alpha + hsum8(vsum);
  a.max[i] = m_new;
  return alpha;
}

// The 4 rows of a group that sees all jmax keys, no mask:
// softmax_row's arithmetic, bit for bit, with the row max already taken
// while storing the scores and the rows' exps interleaved (4 independent
// chains instead of one). Rows past `nrows` get p too (overwritten later).
JEPA_INLINE_AVX2 void softmax_4rows_dense(const AttnTileArgs& a, int32_t i0, int32_t nrows, int32_t jmax,
                                          const __m256* vmax, float* alpha) {
  const float neg_inf = -std::numeric_limits<float>::infinity();
  alignas(32) float diff[8] = {0, 0, 0, 0, 0, 0, 0, 0}, ex[8];
  float m_new[4];
  for (int r = 0; r < 4; ++r) {
    const int32_t i = i0 + (r < nrows ? r : nrows - 1);
    const float mx = hmax8(vmax[r]), m_old = a.max[i];
    m_new[r] = m_old > mx ? m_old : mx;
    diff[r] = m_old - m_new[r];
  }
  _mm256_store_ps(ex, exp_nonpositive_avx2(_mm256_load_ps(diff)));
  __m256 vm[4], vsum[4];
  float* s[4];
  for (int r = 0; r < 4; ++r) {
    vm[r] = _mm256_set1_ps(m_new[r]);
    vsum[r] = _mm256_setzero_ps();
    s[r] = a.scores + (size_t)(i0 + r) * kAttnKeys;
  }
  const __m256 vneg = _mm256_set1_ps(neg_inf);
  for (int32_t j = 0; j < jmax; j += 8)
    for (int r = 0; r < 4; ++r) {
      const __m256 x = _mm256_loadu_ps(s[r] + j);
      const __m256 live = _mm256_cmp_ps(x, vneg, _CMP_GT_OQ);  // keys past jmax are -inf
      const __m256 p = _mm256_and_ps(live, exp_nonpositive_avx2(_mm256_sub_ps(x, vm[r])));
      _mm256_storeu_ps(s[r] + j, p);
      vsum[r] = _mm256_add_ps(vsum[r], p);
    }
  for (int r = 0; r < nrows; ++r) {
    const int32_t i = i0 + r;
    alpha[r] = a.max[i] == neg_inf ? 0.0f : ex[r];
    a.sum[i] = a.sum[i] * alpha[r] + hsum8(vsum[r]);
    a.max[i] = m_new[r];
  }
}

// acc[i0 + r] = acc[i0 + r] * alpha[r] + sum_j p[r][j] v_j for 4 rows (rows
// past the tile's have p = 0 and alpha = 1: the contract gives acc 8 rows).
JEPA_INLINE_AVX2 void pv_4rows(const AttnTileArgs& a, int32_t i0, const float* alpha, int32_t jmax) {
  const int32_t hd = a.head_dim;
  const float* p[4];
  float* o[4];
  __m256 al[4];
  for (int r = 0; r < 4; ++r) {
    p[r] = a.scores + (size_t)(i0 + r) * kAttnKeys;
    o[r] = a.acc + (size_t)(i0 + r) * a.ldacc;
    al[r] = _mm256_set1_ps(alpha[r]);
  }
  int32_t d = 0;
  for (; d + 16 <= hd; d += 16) {
    __m256 c[4][2];
    for (int r = 0; r < 4; ++r) {
      c[r][0] = _mm256_mul_ps(_mm256_loadu_ps(o[r] + d), al[r]);
      c[r][1] = _mm256_mul_ps(_mm256_loadu_ps(o[r] + d + 8), al[r]);
    }
    for (int32_t j = 0; j < jmax; ++j) {
      const float* v = a.v + (size_t)j * a.ldv + d;
      const __m256 v0 = _mm256_loadu_ps(v), v1 = _mm256_loadu_ps(v + 8);
      for (int r = 0; r < 4; ++r) {
        const __m256 pb = _mm256_broadcast_ss(p[r] + j);
        c[r][0] = _mm256_fmadd_ps(pb, v0, c[r][0]);
        c[r][1] = _mm256_fmadd_ps(pb, v1, c[r][1]);
      }
    }
    for (int r = 0; r < 4; ++r) {
      _mm256_storeu_ps(o[r] + d, c[r][0]);
      _mm256_storeu_ps(o[r] + d + 8, c[r][1]);
    }
  }
  for (; d < hd; d += 8) {
    const __m256i m = tail_mask8(hd - d);
    __m256 c[4];
    for (int r = 0; r < 4; ++r) c[r] = _mm256_mul_ps(_mm256_maskload_ps(o[r] + d, m), al[r]);
    for (int32_t j = 0; j < jmax; ++j) {
      const __m256 v0 = _mm256_maskload_ps(a.v + (size_t)j * a.ldv + d, m);
      for (int r = 0; r < 4; ++r) c[r] = _mm256_fmadd_ps(_mm256_broadcast_ss(p[r] + j), v0, c[r]);
    }
    for (int r = 0; r < 4; ++r) _mm256_maskstore_ps(o[r] + d, m, c[r]);
  }
}

}  // namespace attn

// The packer (AttnPackKtFn): k's rows [0, keys) transposed 8 x 8 at a time.
JEPA_TARGET_AVX2 inline void f32_attention_pack_kt__avx2(const float* k, size_t ldk, int32_t keys, int32_t head_dim,
                                                         float* kt) {
  for (int32_t j = 0; j < keys; j += 8) {
    for (int32_t i = j + 8; i < j + 16 && i < keys; ++i)  // rows ldk apart: no stream prefetch
      for (int32_t d = 0; d < head_dim; d += 16) _mm_prefetch((const char*)(k + (size_t)i * ldk + d), _MM_HINT_T0);
    for (int32_t d = 0; d < head_dim; d += 8)
      attn::transpose8x8_to_kt(k + (size_t)j * ldk, ldk, keys - j < 8 ? keys - j : 8, d,
                               head_dim - d < 8 ? head_dim - d : 8, kt + j);
  }
}

// AttnWidenF16Fn with F16C, 8 halfs a step (tails through a masked copy).
JEPA_TARGET_AVX2 inline void f16_widen_rows__avx2(const uint16_t* src, size_t ld, int32_t rows, int32_t n, float* dst,
                                                  size_t ld_dst) {
  for (int32_t j = 0; j < rows; ++j) {
    const uint16_t* s = src + (size_t)j * ld;
    float* d = dst + (size_t)j * ld_dst;
    int32_t i = 0;
    for (; i + 8 <= n; i += 8)
      _mm256_storeu_ps(d + i, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(s + i))));
    if (i < n) {
      alignas(16) uint16_t tail[8] = {0, 0, 0, 0, 0, 0, 0, 0};
      alignas(32) float out[8];
      for (int32_t t = 0; t < n - i; ++t) tail[t] = s[i + t];
      _mm256_store_ps(out, _mm256_cvtph_ps(_mm_load_si128(reinterpret_cast<const __m128i*>(tail))));
      for (int32_t t = 0; t < n - i; ++t) d[i + t] = out[t];
    }
  }
}

// Needs a.kt (f32_attention_pack_kt__avx2's layout).
JEPA_TARGET_AVX2 inline void f32_attention_8x64__avx2(const AttnTileArgs& a) {
  for (int32_t i0 = 0; i0 < a.rows; i0 += 4) {
    const AttnRowGroup grp = attn_row_group(a, i0, 4);
    const int32_t nrows = grp.rows, jmax = grp.jmax;
    const bool dense = grp.dense;
    if (jmax == 0) continue;
    __m256 vmax[4];
    attn::scores_4rows(a, i0, nrows, jmax, vmax);
    float alpha[4] = {1.0f, 1.0f, 1.0f, 1.0f};
    if (dense) {
      attn::softmax_4rows_dense(a, i0, nrows, jmax, vmax, alpha);
    } else {
      for (int32_t r = 0; r < nrows; ++r) alpha[r] = attn::softmax_row(a, i0 + r, jmax);
    }
    for (int32_t r = nrows; r < 4; ++r) {
      float* s = a.scores + (size_t)(i0 + r) * kAttnKeys;
      for (int32_t z = 0; z < jmax; ++z) s[z] = 0.0f;
    }
    attn::pv_4rows(a, i0, alpha, jmax);
  }
}

}  // namespace x86
}  // namespace kernels
}  // namespace jepa
#endif  // JEPA_KERNELS_X86_AVX2

#endif  // JEPA_KERNELS_X86_F32_ATTENTION_8X64_AVX2_HPP
