// jepa/kernels/x86/f32-attention-8x64-avx2.hpp: f32_attention_8x64__avx2, the
// online-softmax attention tile (kernels/attention-tile.hpp) for up to 8 query
// rows x 64 keys, AVX2 + FMA. Rows go in groups of 4: scores as 4 x 2
// (query, key) dot products over head_dim, reduced 8 at a time with hadd;
// then mask, scale, row max and e^(s - m) (exp_nonpositive_avx2, ~1 ulp) on 8
// keys a vector; then acc = acc * alpha + P V with 4 rows x 16 dims of
// accumulators in registers. Any head_dim (tails masked), any key count.
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

// Lane r = horizontal sum of c[r].
JEPA_INLINE_AVX2 __m256 hsum8x8(const __m256* c) {
  const __m256 t0 = _mm256_hadd_ps(c[0], c[1]), t1 = _mm256_hadd_ps(c[2], c[3]);
  const __m256 t2 = _mm256_hadd_ps(c[4], c[5]), t3 = _mm256_hadd_ps(c[6], c[7]);
  const __m256 u0 = _mm256_hadd_ps(t0, t1), u1 = _mm256_hadd_ps(t2, t3);
  return _mm256_add_ps(_mm256_permute2f128_ps(u0, u1, 0x20), _mm256_permute2f128_ps(u0, u1, 0x31));
}

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

// Raw scores q_r . k_j for rows i0..i0+3 (rows past `nrows` repeat the last
// one and are dropped) and keys [0, jmax) into scores[i][j].
JEPA_INLINE_AVX2 void scores_4rows(const AttnTileArgs& a, int32_t i0, int32_t nrows, int32_t jmax) {
  const int32_t hd = a.head_dim;
  const float* q[4];
  for (int r = 0; r < 4; ++r) q[r] = a.q + (size_t)(i0 + (r < nrows ? r : nrows - 1)) * a.ldq;
  const __m256i tail = tail_mask8(hd % 8);
  for (int32_t j = 0; j < jmax; j += 2) {
    const float* k0 = a.k + (size_t)j * a.ldkv;
    const float* k1 = a.k + (size_t)(j + 1 < jmax ? j + 1 : j) * a.ldkv;
    __m256 c[8];
    for (int u = 0; u < 8; ++u) c[u] = _mm256_setzero_ps();
    int32_t d = 0;
    for (; d + 8 <= hd; d += 8) {
      const __m256 kv0 = _mm256_loadu_ps(k0 + d), kv1 = _mm256_loadu_ps(k1 + d);
      for (int r = 0; r < 4; ++r) {
        const __m256 qv = _mm256_loadu_ps(q[r] + d);
        c[2 * r] = _mm256_fmadd_ps(qv, kv0, c[2 * r]);
        c[2 * r + 1] = _mm256_fmadd_ps(qv, kv1, c[2 * r + 1]);
      }
    }
    if (d < hd) {
      const __m256 kv0 = _mm256_maskload_ps(k0 + d, tail), kv1 = _mm256_maskload_ps(k1 + d, tail);
      for (int r = 0; r < 4; ++r) {
        const __m256 qv = _mm256_maskload_ps(q[r] + d, tail);
        c[2 * r] = _mm256_fmadd_ps(qv, kv0, c[2 * r]);
        c[2 * r + 1] = _mm256_fmadd_ps(qv, kv1, c[2 * r + 1]);
      }
    }
    alignas(32) float s[8];
    _mm256_store_ps(s, hsum8x8(c));
    for (int r = 0; r < nrows; ++r) {
      float* row = a.scores + (size_t)(i0 + r) * kAttnKeys;
      row[j] = s[2 * r];
      if (j + 1 < jmax) row[j + 1] = s[2 * r + 1];
    }
  }
}

// Row i: scale + mask its raw scores, update max/sum, leave p in scores[i][0, jmax)
// (0 for keys it does not see); returns alpha (1 if the row is unchanged).
JEPA_INLINE_AVX2 float softmax_row(const AttnTileArgs& a, int32_t i, int32_t jmax) {
  const float neg_inf = -std::numeric_limits<float>::infinity();
  const int32_t vis = a.visible[i];
  float* s = a.scores + (size_t)i * kAttnKeys;
  const uint8_t* mrow = a.mask ? a.mask + (size_t)i * a.ldmask : nullptr;
  const __m256 vneg = _mm256_set1_ps(neg_inf), vscale = _mm256_set1_ps(a.scale);
  __m256 vmax = vneg;
  int32_t j = 0;
  for (; j < vis; j += 8) {
    const int32_t n = vis - j < 8 ? vis - j : 8;
    __m256 ok = _mm256_castsi256_ps(tail_mask8(n));
    if (mrow) ok = _mm256_and_ps(ok, mask_lanes(mrow + j, n));
    const __m256 x = _mm256_blendv_ps(vneg, _mm256_mul_ps(_mm256_loadu_ps(s + j), vscale), ok);
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
      const float* v = a.v + (size_t)j * a.ldkv + d;
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
      const __m256 v0 = _mm256_maskload_ps(a.v + (size_t)j * a.ldkv + d, m);
      for (int r = 0; r < 4; ++r) c[r] = _mm256_fmadd_ps(_mm256_broadcast_ss(p[r] + j), v0, c[r]);
    }
    for (int r = 0; r < 4; ++r) _mm256_maskstore_ps(o[r] + d, m, c[r]);
  }
}

}  // namespace attn

JEPA_TARGET_AVX2 inline void f32_attention_8x64__avx2(const AttnTileArgs& a) {
  for (int32_t i0 = 0; i0 < a.rows; i0 += 4) {
    const int32_t nrows = a.rows - i0 < 4 ? a.rows - i0 : 4;
    int32_t jmax = 0;
    for (int32_t r = 0; r < nrows; ++r) jmax = a.visible[i0 + r] > jmax ? a.visible[i0 + r] : jmax;
    if (jmax == 0) continue;
    attn::scores_4rows(a, i0, nrows, jmax);
    float alpha[4] = {1.0f, 1.0f, 1.0f, 1.0f};
    for (int32_t r = 0; r < nrows; ++r) alpha[r] = attn::softmax_row(a, i0 + r, jmax);
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
