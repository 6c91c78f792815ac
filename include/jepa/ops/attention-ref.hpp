// jepa/ops/attention-ref.hpp: the attention arguments (AttentionArgs,
// KvSegment) and the scalar reference, softmax(q k^T * scale [masked]) v as
// F.scaled_dot_product_attention with a boolean mask (True = may attend).
// q, k, v are read in place with row strides (a qkv buffer [3][heads][head_dim]
// per row, a KV cache); keys come in up to 3 segments (e.g. a prefix shared by
// the whole batch, a cache, the new tokens). Masks: none, block-causal over
// steps (V-JEPA 2-AC; masked scores are never computed), or an explicit byte
// mask. The reference builds one whole score row per query in caller scratch
// (batch*heads*keys floats); ops/attention.hpp is the fused, tiled op the
// models run, tested against this one.
#ifndef JEPA_OPS_ATTENTION_REF_HPP
#define JEPA_OPS_ATTENTION_REF_HPP

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>

#include "../config.hpp"
#include "../kernels/attention-tile.hpp"
#include "../runtime/parallel.hpp"
#include "kv_dtype.hpp"
#include "softmax.hpp"

namespace jepa {
namespace ops {

constexpr int kMaxKvSegments = 3;

struct KvSegment {
  // Head h of row j for batch element b: element b*batch_stride + j*ld +
  // h*head_dim of k (and v), elements of type `dtype` (kv_dtype.hpp).
  const void* k = nullptr;
  const void* v = nullptr;
  size_t ld = 0;            // row stride (elements) of k and v
  size_t batch_stride = 0;  // elements; 0: the segment is shared by every batch element
  int64_t rows = 0;
  int64_t first_step = 0;   // block-causal only: step of row 0
  KvDtype dtype = KvDtype::f32;
  // q8 only: the scale of (b, j, h) at k_scale[b*scale_batch_stride + j*ld_scale + h].
  const float* k_scale = nullptr;
  const float* v_scale = nullptr;
  size_t ld_scale = 0;
  size_t scale_batch_stride = 0;
};

// Keys (or values) [j0, j0 + rows) of head h, batch element b, as f32 rows of
// head_dim floats ld_dst apart: the scalar load every path is checked against.
inline void kv_segment_load(const KvSegment& seg, bool values, int64_t b, int64_t h, int64_t head_dim, int64_t j0,
                            int32_t rows, float* dst, size_t ld_dst) {
  const size_t e = (size_t)b * seg.batch_stride + (size_t)j0 * seg.ld + (size_t)(h * head_dim);
  const void* base = static_cast<const uint8_t*>(values ? seg.v : seg.k) + e * kv_elem_bytes(seg.dtype);
  const float* sc = values ? seg.v_scale : seg.k_scale;
  if (sc) sc += (size_t)b * seg.scale_batch_stride + (size_t)j0 * seg.ld_scale + (size_t)h;
  kv_decode_head_rows(seg.dtype, base, seg.ld, sc, seg.ld_scale, rows, (int32_t)head_dim, dst, ld_dst);
}

// Block-causal (step_tokens > 0): query i sits at step q_first_step +
// i / step_tokens, row j of a segment at seg.first_step + j / step_tokens; a
// query attends to keys of steps <= its own (within a step bidirectionally).
// Keys being in step order, each query sees a prefix of every segment.
struct AttentionArgs {
  int64_t batch = 1;
  int64_t heads = 1;
  int64_t head_dim = 0;
  int64_t nq = 0;                // query rows per batch element
  const float* q = nullptr;      // head h of query i, batch b: q + b*q_batch_stride + i*ldq + h*head_dim
  size_t ldq = 0;
  size_t q_batch_stride = 0;
  KvSegment kv[kMaxKvSegments];
  int n_kv = 1;                  // segments used, in key order
  float* out = nullptr;          // [b][i][h*head_dim], same addressing with ldo / out_batch_stride
  size_t ldo = 0;
  size_t out_batch_stride = 0;
  float scale = 1.0f;            // 1/sqrt(head_dim) in every model here
  int64_t step_tokens = 0;       // > 0: block-causal mask over steps of this many tokens
  int64_t q_first_step = 0;      // step of query row 0 (block-causal)
  const uint8_t* mask = nullptr; // or: explicit [nq][total keys] mask, 1 = may attend; batch/head-shared
  // What the fused op (ops/attention.hpp) may round to (kernels::AttnMath);
  // attention_ref is always f32.
  kernels::AttnMath math = kernels::AttnMath::f32;
};

inline int64_t attention_total_keys(const AttentionArgs& a) {
  int64_t n = 0;
  for (int s = 0; s < a.n_kv; ++s) n += a.kv[s].rows;
  return n;
}

// Scratch attention_ref needs: one score row and one decoded key/value row
// per (batch, head) task.
inline size_t attention_ref_task_floats(const AttentionArgs& a) {
  return (size_t)(attention_total_keys(a) + a.head_dim);
}

inline size_t attention_ref_scratch_floats(const AttentionArgs& a) {
  return (size_t)(a.batch * a.heads) * attention_ref_task_floats(a);
}

namespace detail {

// Keys of segment seg visible to a query at step qs (a prefix of the segment).
inline int64_t visible_rows(const AttentionArgs& a, const KvSegment& seg, int64_t qs) {
  if (a.step_tokens <= 0) return seg.rows;
  const int64_t steps = qs - seg.first_step + 1;
  if (steps <= 0) return 0;
  const int64_t n = steps * a.step_tokens;
  return n < seg.rows ? n : seg.rows;
}

inline float dot(const float* a, const float* b, int64_t n) {
  float acc = 0.0f;
  for (int64_t i = 0; i < n; ++i) acc += a[i] * b[i];
  return acc;
}

// One (batch, head) task: every query row of that head.
inline void attention_ref_task(const AttentionArgs& a, int64_t b, int64_t h, float* scores) {
  const int64_t hd = a.head_dim, nk_total = attention_total_keys(a);
  float* row = scores + nk_total;  // one key or value of this head, as f32
  const float neg_inf = -std::numeric_limits<float>::infinity();
  for (int64_t i = 0; i < a.nq; ++i) {
    const float* q = a.q + (size_t)b * a.q_batch_stride + (size_t)i * a.ldq + (size_t)(h * hd);
    const int64_t qs = a.step_tokens > 0 ? a.q_first_step + i / a.step_tokens : 0;
    const uint8_t* mrow = a.mask ? a.mask + (size_t)i * (size_t)nk_total : nullptr;
    // Scores of the visible keys, segment after segment.
    int64_t n = 0, col = 0;
    for (int s = 0; s < a.n_kv; ++s) {
      const KvSegment& seg = a.kv[s];
      const int64_t vis = visible_rows(a, seg, qs);
      for (int64_t j = 0; j < vis; ++j) {
        const bool allowed = mrow == nullptr || mrow[col + j] != 0;
        kv_segment_load(seg, false, b, h, hd, j, 1, row, 0);
        scores[n++] = allowed ? dot(q, row, hd) * a.scale : neg_inf;
      }
      col += seg.rows;
    }
    softmax_inplace(scores, n);
    float* o = a.out + (size_t)b * a.out_batch_stride + (size_t)i * a.ldo + (size_t)(h * hd);
    for (int64_t d = 0; d < hd; ++d) o[d] = 0.0f;
    n = 0;
    for (int s = 0; s < a.n_kv; ++s) {
      const KvSegment& seg = a.kv[s];
      const int64_t vis = visible_rows(a, seg, qs);
      for (int64_t j = 0; j < vis; ++j) {
        const float p = scores[n++];
        if (p == 0.0f) continue;
        kv_segment_load(seg, true, b, h, hd, j, 1, row, 0);
        for (int64_t d = 0; d < hd; ++d) o[d] += p * row[d];
      }
    }
  }
}

}  // namespace detail

// out may not alias q, k or v. scratch: attention_ref_scratch_floats(a) floats.
// batch*heads tasks of fixed arithmetic: the result does not depend on the
// thread count.
inline void attention_ref(const ParallelFor& par, const AttentionArgs& a, float* scratch) {
  JEPA_ASSERT(a.n_kv >= 1 && a.n_kv <= kMaxKvSegments);
  const size_t per_task = attention_ref_task_floats(a);
  auto task = [&](size_t t) {
    const int64_t b = (int64_t)t / a.heads, h = (int64_t)t % a.heads;
    detail::attention_ref_task(a, b, h, scratch + t * per_task);
  };
  par.for_each((size_t)(a.batch * a.heads), task);
}

// The V-JEPA 2-AC mask (modules.py build_action_block_causal_attention_mask):
// [steps*tokens_per_step]^2 bytes, 1 where the key's step <= the query's step.
inline void build_block_causal_mask(int64_t steps, int64_t tokens_per_step, uint8_t* out) {
  const int64_t n = steps * tokens_per_step;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j) out[i * n + j] = (j / tokens_per_step) <= (i / tokens_per_step) ? 1 : 0;
}

}  // namespace ops
}  // namespace jepa

#endif  // JEPA_OPS_ATTENTION_REF_HPP
