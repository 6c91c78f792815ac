// jepa/kernels/arm/f32-attention-8x64-neon.hpp: f32_attention_8x64__neon, the
// online-softmax attention tile (kernels/attention-tile.hpp) for up to 8 query
// rows x 64 keys, AArch64 Advanced SIMD (baseline ARMv8-A). The same plan as
// the AVX2 kernel on 4 lanes: rows in groups of 4, scores as 4 x 2 (query,
// key) dot products reduced with vaddvq, then mask, scale, row max and
// e^(s - m) (exp_nonpositive_neon, the AVX2 formula), then acc = acc * alpha
// + P V with 4 rows x 16 dims of accumulators. Any head_dim, any key count.
#ifndef JEPA_KERNELS_ARM_F32_ATTENTION_8X64_NEON_HPP
#define JEPA_KERNELS_ARM_F32_ATTENTION_8X64_NEON_HPP

#include <limits>

#include "../attention-tile.hpp"
#include "neon-common.hpp"

#if defined(JEPA_KERNELS_ARM_NEON) && JEPA_ARCH_AARCH64
#define JEPA_HAVE_ATTENTION_NEON 1
namespace jepa {
namespace kernels {
namespace arm {
namespace attn {

// Raw scores q_r . k_j for rows i0..i0+3 (rows past nrows repeat the last and
// are dropped) and keys [0, jmax).
inline void scores_4rows(const AttnTileArgs& a, int32_t i0, int32_t nrows, int32_t jmax) {
  const int32_t hd = a.head_dim;
  const float* q[4];
  for (int r = 0; r < 4; ++r) q[r] = a.q + (size_t)(i0 + (r < nrows ? r : nrows - 1)) * a.ldq;
  for (int32_t j = 0; j < jmax; j += 2) {
    const float* k0 = a.k + (size_t)j * a.ldk;
    const float* k1 = a.k + (size_t)(j + 1 < jmax ? j + 1 : j) * a.ldk;
    float32x4_t c[8];
    for (int u = 0; u < 8; ++u) c[u] = vdupq_n_f32(0.0f);
    for (int32_t d = 0; d < hd; d += 4) {
      const int32_t n = hd - d < 4 ? hd - d : 4;
      const float32x4_t kv0 = load_upto4_f32(k0 + d, n), kv1 = load_upto4_f32(k1 + d, n);
      for (int r = 0; r < 4; ++r) {
        const float32x4_t qv = load_upto4_f32(q[r] + d, n);
        c[2 * r] = vfmaq_f32(c[2 * r], qv, kv0);
        c[2 * r + 1] = vfmaq_f32(c[2 * r + 1], qv, kv1);
      }
    }
    for (int r = 0; r < nrows; ++r) {
      float* row = a.scores + (size_t)(i0 + r) * kAttnKeys;
      row[j] = vaddvq_f32(c[2 * r]);
      if (j + 1 < jmax) row[j + 1] = vaddvq_f32(c[2 * r + 1]);
    }
  }
}

// Lanes of keys [j, j + n) (n <= 4) that are visible and allowed by the mask.
inline uint32x4_t live_lanes(const uint8_t* mrow, int32_t j, int32_t n) {
  const uint32_t idx[4] = {0, 1, 2, 3};
  uint32x4_t ok = vcltq_u32(vld1q_u32(idx), vdupq_n_u32((uint32_t)n));
  if (mrow) {
    uint32_t m[4] = {0, 0, 0, 0};
    for (int32_t u = 0; u < n; ++u) m[u] = mrow[j + u];
    ok = vandq_u32(ok, vtstq_u32(vld1q_u32(m), vld1q_u32(m)));
  }
  return ok;
}

// Row i: scale + mask its raw scores, update max/sum, leave p in scores[i][0,
// jmax) (0 where it sees nothing); returns alpha (1 if the row is unchanged).
inline float softmax_row(const AttnTileArgs& a, int32_t i, int32_t jmax) {
  const float neg_inf = -std::numeric_limits<float>::infinity();
  const int32_t vis = a.visible[i];
  float* s = a.scores + (size_t)i * kAttnKeys;
  const uint8_t* mrow = a.mask ? a.mask + (size_t)i * a.ldmask : nullptr;
  const float32x4_t vneg = vdupq_n_f32(neg_inf);
  float32x4_t vmax = vneg;
  int32_t j = 0;
  for (; j < vis; j += 4) {
    const int32_t n = vis - j < 4 ? vis - j : 4;
    const float32x4_t x = vbslq_f32(live_lanes(mrow, j, n), vmulq_n_f32(vld1q_f32(s + j), a.scale), vneg);
    vst1q_f32(s + j, x);
    vmax = vmaxq_f32(vmax, x);
  }
  const float mx = vmaxvq_f32(vmax);
  if (mx == neg_inf) {
    for (int32_t z = 0; z < jmax; ++z) s[z] = 0.0f;
    return 1.0f;
  }
  const float m_old = a.max[i], m_new = m_old > mx ? m_old : mx;
  const float alpha = m_old == neg_inf ? 0.0f : vgetq_lane_f32(exp_nonpositive_neon(vdupq_n_f32(m_old - m_new)), 0);
  const float32x4_t vm = vdupq_n_f32(m_new);
  float32x4_t vsum = vdupq_n_f32(0.0f);
  for (j = 0; j < vis; j += 4) {
    const float32x4_t x = vld1q_f32(s + j);
    const uint32x4_t live = vcgtq_f32(x, vneg);
    const float32x4_t p = vreinterpretq_f32_u32(
        vandq_u32(live, vreinterpretq_u32_f32(exp_nonpositive_neon(vsubq_f32(x, vm)))));
    vst1q_f32(s + j, p);
    vsum = vaddq_f32(vsum, p);
  }
  for (; j < jmax; ++j) s[j] = 0.0f;
  a.sum[i] = a.sum[i] * alpha + vaddvq_f32(vsum);
  a.max[i] = m_new;
  return alpha;
}

// acc[i0 + r] = acc[i0 + r] * alpha[r] + sum_j p[r][j] v_j, 4 rows x 16 dims
// of accumulators at a time (rows past the tile's have p = 0, alpha = 1).
inline void pv_4rows(const AttnTileArgs& a, int32_t i0, const float* alpha, int32_t jmax) {
  const int32_t hd = a.head_dim;
  const float* p[4];
  float* o[4];
  for (int r = 0; r < 4; ++r) {
    p[r] = a.scores + (size_t)(i0 + r) * kAttnKeys;
    o[r] = a.acc + (size_t)(i0 + r) * a.ldacc;
  }
  int32_t d = 0;
  for (; d + 16 <= hd; d += 16) {
    float32x4_t c[4][4];
    for (int r = 0; r < 4; ++r)
      for (int u = 0; u < 4; ++u) c[r][u] = vmulq_n_f32(vld1q_f32(o[r] + d + 4 * u), alpha[r]);
    for (int32_t j = 0; j < jmax; ++j) {
      const float* v = a.v + (size_t)j * a.ldv + d;
      const float32x4_t v0 = vld1q_f32(v), v1 = vld1q_f32(v + 4), v2 = vld1q_f32(v + 8), v3 = vld1q_f32(v + 12);
      for (int r = 0; r < 4; ++r) {
        const float pr = p[r][j];
        c[r][0] = vfmaq_n_f32(c[r][0], v0, pr);
        c[r][1] = vfmaq_n_f32(c[r][1], v1, pr);
        c[r][2] = vfmaq_n_f32(c[r][2], v2, pr);
        c[r][3] = vfmaq_n_f32(c[r][3], v3, pr);
      }
    }
    for (int r = 0; r < 4; ++r)
      for (int u = 0; u < 4; ++u) vst1q_f32(o[r] + d + 4 * u, c[r][u]);
  }
  for (; d < hd; d += 4) {
    const int32_t n = hd - d < 4 ? hd - d : 4;
    float32x4_t c[4];
    for (int r = 0; r < 4; ++r) c[r] = vmulq_n_f32(load_upto4_f32(o[r] + d, n), alpha[r]);
    for (int32_t j = 0; j < jmax; ++j) {
      const float32x4_t v0 = load_upto4_f32(a.v + (size_t)j * a.ldv + d, n);
      for (int r = 0; r < 4; ++r) c[r] = vfmaq_n_f32(c[r], v0, p[r][j]);
    }
    for (int r = 0; r < 4; ++r) store_upto4_f32(o[r] + d, n, c[r]);
  }
}

}  // namespace attn

// AttnWidenF16Fn: 4 halfs a step (vcvt_f32_f16 is baseline AArch64).
inline void f16_widen_rows__neon(const uint16_t* src, size_t ld, int32_t rows, int32_t n, float* dst, size_t ld_dst) {
  for (int32_t j = 0; j < rows; ++j) {
    const uint16_t* s = src + (size_t)j * ld;
    float* d = dst + (size_t)j * ld_dst;
    int32_t i = 0;
    for (; i + 4 <= n; i += 4) vst1q_f32(d + i, vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(s + i))));
    for (; i < n; ++i) {
      uint16_t h[4] = {s[i], 0, 0, 0};
      d[i] = vgetq_lane_f32(vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(h))), 0);
    }
  }
}

inline void f32_attention_8x64__neon(const AttnTileArgs& a) {
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

}  // namespace arm
}  // namespace kernels
}  // namespace jepa
#endif  // JEPA_KERNELS_ARM_NEON && AArch64

#endif  // JEPA_KERNELS_ARM_F32_ATTENTION_8X64_NEON_HPP
