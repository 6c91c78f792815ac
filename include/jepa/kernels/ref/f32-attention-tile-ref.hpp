// jepa/kernels/ref/f32-attention-tile-ref.hpp: f32_attention_tile__ref, the
// portable online-softmax tile (kernels/attention-tile.hpp) in plain C++, and
// exp_nonpositive, the scalar twin of the SIMD kernels' exp (Cody-Waite
// reduction + Cephes degree-6 polynomial, <= 2 ulp on [-87, 0]). Used where no
// SIMD tile kernel is compiled in or the ISA cap forbids it, and as the
// readable statement of what every tile kernel computes.
#ifndef JEPA_KERNELS_REF_F32_ATTENTION_TILE_REF_HPP
#define JEPA_KERNELS_REF_F32_ATTENTION_TILE_REF_HPP

#include <cstdint>
#include <cstring>
#include <limits>

#include "../attention-tile.hpp"

namespace jepa {
namespace kernels {
namespace ref {

// e^z for z <= 0, clamped at -87 (e^-87 is still a normal float). The same
// steps as x86::exp_nonpositive_avx2 (the compiler may fuse a multiply-add
// where the SIMD code has an explicit FMA: within 1 ulp of each other).
inline float exp_nonpositive(float z) {
  if (!(z >= -87.0f)) z = -87.0f;
  const float t = z * 1.44269504088896341f;
  const float n = (float)(int32_t)(t - 0.5f);  // nearest integer (t <= 0)
  float r = z - n * 0.693359375f;               // exact: the constant has 10 bits
  r = r - n * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = (p * r) * r + (r + 1.0f);
  const uint32_t bits = (uint32_t)((int32_t)n + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, 4);
  return p * scale;
}

// q.k with 8 partial sums (a fixed order the compiler can vectorise).
inline float dot_f32(const float* a, const float* b, int32_t n) {
  float part[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int32_t d = 0;
  for (; d + 8 <= n; d += 8)
    for (int u = 0; u < 8; ++u) part[u] += a[d + u] * b[d + u];
  float acc = ((part[0] + part[1]) + (part[2] + part[3])) + ((part[4] + part[5]) + (part[6] + part[7]));
  for (; d < n; ++d) acc += a[d] * b[d];
  return acc;
}

// Row i's online-softmax step, given its scaled scores s[0, vis) (-inf:
// masked) and their max mx: p = e^(s - m') into s (0 where masked), max and
// sum updated, the accumulator row scaled by alpha. False (and the row left
// as it was) when the block shows it nothing.
inline bool online_softmax_row(const AttnTileArgs& a, int32_t i, float mx, float* s, int32_t vis) {
  const float neg_inf = -std::numeric_limits<float>::infinity();
  if (mx == neg_inf) return false;
  const float m_old = a.max[i], m_new = m_old > mx ? m_old : mx;
  const float alpha = m_old == neg_inf ? 0.0f : exp_nonpositive(m_old - m_new);
  float sum = 0.0f;
  for (int32_t j = 0; j < vis; ++j) {
    s[j] = s[j] == neg_inf ? 0.0f : exp_nonpositive(s[j] - m_new);
    sum += s[j];
  }
  a.sum[i] = a.sum[i] * alpha + sum;
  a.max[i] = m_new;
  float* o = a.acc + (size_t)i * a.ldacc;
  for (int32_t d = 0; d < a.head_dim; ++d) o[d] *= alpha;
  return true;
}

inline void f32_attention_tile__ref(const AttnTileArgs& a) {
  const float neg_inf = -std::numeric_limits<float>::infinity();
  const int32_t hd = a.head_dim;
  for (int32_t i = 0; i < a.rows; ++i) {
    const int32_t vis = a.visible[i];
    const float* q = a.q + (size_t)i * a.ldq;
    const uint8_t* mrow = a.mask ? a.mask + (size_t)i * a.ldmask : nullptr;
    float* s = a.scores + (size_t)i * kAttnKeys;
    float mx = neg_inf;
    for (int32_t j = 0; j < vis; ++j) {
      s[j] = (mrow && mrow[j] == 0) ? neg_inf : dot_f32(q, a.k + (size_t)j * a.ldk, hd) * a.scale;
      mx = s[j] > mx ? s[j] : mx;
    }
    if (!online_softmax_row(a, i, mx, s, vis)) continue;  // nothing visible here: the row is unchanged
    float* o = a.acc + (size_t)i * a.ldacc;
    for (int32_t j = 0; j < vis; ++j) {
      const float p = s[j];
      if (p == 0.0f) continue;  // as the reference op: a masked key's v is never read
      const float* v = a.v + (size_t)j * a.ldv;
      for (int32_t d = 0; d < hd; ++d) o[d] += p * v[d];
    }
  }
}

}  // namespace ref
}  // namespace kernels
}  // namespace jepa

#endif  // JEPA_KERNELS_REF_F32_ATTENTION_TILE_REF_HPP
