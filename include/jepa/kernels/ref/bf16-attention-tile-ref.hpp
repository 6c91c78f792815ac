// jepa/kernels/ref/bf16-attention-tile-ref.hpp: bf16_attention_tile__ref, the
// online-softmax tile (kernels/attention-tile.hpp) with AttnMath::bf16
// arithmetic in plain C++: q, k, p and v rounded to bf16 (nearest even),
// products summed in f32, the softmax itself (max, e^x, sum of the f32 p) in
// f32, as FlashAttention-2 does. The statement of what a bf16 tile kernel
// (x86/bf16-attention-128x64-amx.hpp) computes; the tests hold those kernels to
// it within the float accumulation bound.
#ifndef JEPA_KERNELS_REF_BF16_ATTENTION_TILE_REF_HPP
#define JEPA_KERNELS_REF_BF16_ATTENTION_TILE_REF_HPP

#include <cstdint>
#include <limits>

#include "../../config.hpp"
#include "../attention-tile.hpp"
#include "f32-attention-tile-ref.hpp"
#include "math.hpp"

namespace jepa {
namespace kernels {
namespace ref {

// x rounded to the nearest bf16, back in f32.
inline float round_bf16(float x) { return bf16_to_f32(f32_to_bf16(x)); }

// head_dim <= kAttnBf16MaxHeadDim (the op never asks for more).
inline void bf16_attention_tile__ref(const AttnTileArgs& a) {
  JEPA_ASSERT(a.head_dim <= kAttnBf16MaxHeadDim);
  const float neg_inf = -std::numeric_limits<float>::infinity();
  const int32_t hd = a.head_dim;
  float qb[kAttnBf16MaxHeadDim], kb[kAttnBf16MaxHeadDim];
  for (int32_t i = 0; i < a.rows; ++i) {
    const int32_t vis = a.visible[i];
    const float* q = a.q + (size_t)i * a.ldq;
    for (int32_t d = 0; d < hd; ++d) qb[d] = round_bf16(q[d]);
    const uint8_t* mrow = a.mask ? a.mask + (size_t)i * a.ldmask : nullptr;
    float* s = a.scores + (size_t)i * kAttnKeys;
    float mx = neg_inf;
    for (int32_t j = 0; j < vis; ++j) {
      if (mrow && mrow[j] == 0) {
        s[j] = neg_inf;
        continue;
      }
      const float* k = a.k + (size_t)j * a.ldk;
      for (int32_t d = 0; d < hd; ++d) kb[d] = round_bf16(k[d]);
      s[j] = dot_f32(qb, kb, hd) * a.scale;
      mx = s[j] > mx ? s[j] : mx;
    }
    if (!online_softmax_row(a, i, mx, s, vis)) continue;  // nothing visible here: the row is unchanged
    float* o = a.acc + (size_t)i * a.ldacc;
    for (int32_t j = 0; j < vis; ++j) {
      if (s[j] == 0.0f) continue;  // as the f32 tile: a masked key's v is never read
      const float p = round_bf16(s[j]);
      const float* v = a.v + (size_t)j * a.ldv;
      for (int32_t d = 0; d < hd; ++d) o[d] += p * round_bf16(v[d]);
    }
  }
}

}  // namespace ref
}  // namespace kernels
}  // namespace jepa

#endif  // JEPA_KERNELS_REF_BF16_ATTENTION_TILE_REF_HPP
