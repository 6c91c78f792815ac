// jepa/ops/attention.hpp: fused, tiled multi-head attention, the op every model
// runs. Same arguments and meaning as the scalar reference (attention-ref.hpp:
// segments, shared prefix, block-causal steps, explicit mask), but no score
// row is ever stored: each task takes kAttnRows query rows of one head and
// streams the keys in blocks of kAttnKeys through an online softmax (running
// max and sum, accumulator rescaled), in a tile kernel chosen by
// kernels/attention-dispatch.hpp (AVX2, NEON or portable C++). Tasks are
// batch x heads x query blocks, a split fixed by the shape: each output row is
// made by one task with the same arithmetic, so results are bit-identical
// for any thread count. Per-task state lives on the stack (about 10 KiB) for
// head_dim <= kAttentionStackHeadDim; larger heads take caller scratch.
#ifndef JEPA_OPS_ATTENTION_HPP
#define JEPA_OPS_ATTENTION_HPP

#include <cstddef>
#include <cstdint>
#include <limits>

#include "../kernels/attention-dispatch.hpp"
#include "../runtime/parallel.hpp"
#include "attention-ref.hpp"

namespace jepa {
namespace ops {

// Head dims up to this keep their accumulator on the task's stack (every
// model here: 24..88).
constexpr int64_t kAttentionStackHeadDim = 256;

// Caller scratch attention() needs (0 for head_dim <= kAttentionStackHeadDim):
// one accumulator tile per task, independent of the key count.
inline size_t attention_scratch_floats(int64_t batch, int64_t heads, int64_t head_dim, int64_t nq) {
  if (head_dim <= kAttentionStackHeadDim) return 0;
  const int64_t blocks = (nq + kernels::kAttnRows - 1) / kernels::kAttnRows;
  return (size_t)(batch * heads * blocks * kernels::kAttnRows * head_dim);
}

inline size_t attention_scratch_floats(const AttentionArgs& a) {
  return attention_scratch_floats(a.batch, a.heads, a.head_dim, a.nq);
}

namespace detail {

// Query block qb of head h, batch element b: every key block of every segment
// up to the block's last visible key, then out = acc / sum.
inline void attention_fused_task(const AttentionArgs& a, kernels::AttnTileFn fn, int64_t b, int64_t h, int64_t qb,
                                 float* acc) {
  using kernels::kAttnKeys;
  using kernels::kAttnRows;
  const int64_t hd = a.head_dim, nk_total = attention_total_keys(a), i0 = qb * kAttnRows;
  const int32_t rows = (int32_t)(a.nq - i0 < kAttnRows ? a.nq - i0 : kAttnRows);
  float mx[kAttnRows], sum[kAttnRows];
  alignas(64) float scores[kAttnRows * kAttnKeys];
  int32_t visible[kAttnRows];
  int64_t seg_visible[kAttnRows];
  for (int32_t r = 0; r < kAttnRows; ++r) {
    mx[r] = -std::numeric_limits<float>::infinity();
    sum[r] = 0.0f;
  }
  for (int64_t e = 0; e < kAttnRows * hd; ++e) acc[e] = 0.0f;
  kernels::AttnTileArgs t;
  t.rows = rows;
  t.head_dim = (int32_t)hd;
  t.scale = a.scale;
  t.q = a.q + (size_t)b * a.q_batch_stride + (size_t)i0 * a.ldq + (size_t)(h * hd);
  t.ldq = a.ldq;
  t.visible = visible;
  t.ldmask = (size_t)nk_total;
  t.max = mx;
  t.sum = sum;
  t.acc = acc;
  t.ldacc = (size_t)hd;
  t.scores = scores;
  int64_t col = 0;  // first key column of the segment in the explicit mask
  for (int s = 0; s < a.n_kv; ++s) {
    const KvSegment& seg = a.kv[s];
    int64_t last = 0;  // keys of the segment the block's rows see, at most
    for (int32_t r = 0; r < rows; ++r) {
      const int64_t qs = a.step_tokens > 0 ? a.q_first_step + (i0 + r) / a.step_tokens : 0;
      seg_visible[r] = visible_rows(a, seg, qs);
      last = seg_visible[r] > last ? seg_visible[r] : last;
    }
    const float* kb = seg.k + (size_t)b * seg.batch_stride + (size_t)(h * hd);
    const float* vb = seg.v + (size_t)b * seg.batch_stride + (size_t)(h * hd);
    for (int64_t j0 = 0; j0 < last; j0 += kAttnKeys) {
      const int64_t nk = last - j0 < kAttnKeys ? last - j0 : kAttnKeys;
      for (int32_t r = 0; r < rows; ++r) {
        const int64_t v = seg_visible[r] - j0;
        visible[r] = (int32_t)(v < 0 ? 0 : v > nk ? nk : v);
      }
      t.keys = (int32_t)nk;
      t.k = kb + (size_t)j0 * seg.ld;
      t.v = vb + (size_t)j0 * seg.ld;
      t.ldkv = seg.ld;
      t.mask = a.mask ? a.mask + (size_t)i0 * (size_t)nk_total + (size_t)(col + j0) : nullptr;
      fn(t);
    }
    col += seg.rows;
  }
  for (int32_t r = 0; r < rows; ++r) {
    float* o = a.out + (size_t)b * a.out_batch_stride + (size_t)(i0 + r) * a.ldo + (size_t)(h * hd);
    const float inv = sum[r] > 0.0f ? 1.0f / sum[r] : 0.0f;  // nothing visible: zeros, as the reference
    for (int64_t d = 0; d < hd; ++d) o[d] = acc[r * hd + d] * inv;
  }
}

}  // namespace detail

// The fused op with a given tile kernel (tests and benchmarks pin one).
// out may not alias q, k or v. scratch: attention_scratch_floats(a) floats
// (may be null when that is 0).
inline void attention_with(const ParallelFor& par, const AttentionArgs& a, float* scratch, kernels::AttnTileFn fn) {
  JEPA_ASSERT(a.n_kv >= 1 && a.n_kv <= kMaxKvSegments);
  const int64_t hd = a.head_dim;
  const int64_t qblocks = (a.nq + kernels::kAttnRows - 1) / kernels::kAttnRows;
  auto task = [&](size_t t) {
    const int64_t qb = (int64_t)t % qblocks, bh = (int64_t)t / qblocks;
    const int64_t b = bh / a.heads, h = bh % a.heads;
    if (hd <= kAttentionStackHeadDim) {
      alignas(64) float acc[kernels::kAttnRows * kAttentionStackHeadDim];
      detail::attention_fused_task(a, fn, b, h, qb, acc);
    } else {
      detail::attention_fused_task(a, fn, b, h, qb, scratch + t * (size_t)(kernels::kAttnRows * hd));
    }
  };
  par.for_each((size_t)(a.batch * a.heads * qblocks), task);
}

// What the models call: the tile kernel dispatch picks for this CPU and cap.
inline void attention(const ParallelFor& par, const AttentionArgs& a, float* scratch) {
  attention_with(par, a, scratch, kernels::choose_attention_kernel().fn);
}

}  // namespace ops
}  // namespace jepa

#endif  // JEPA_OPS_ATTENTION_HPP
