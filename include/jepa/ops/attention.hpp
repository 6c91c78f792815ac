// jepa/ops/attention.hpp: fused, tiled multi-head attention, the op every model
// runs. Same arguments and meaning as the scalar reference (attention-ref.hpp:
// segments, shared prefix, block-causal steps, explicit mask), but no score
// row is ever stored: each task takes a chunk of at most kAttnTaskRows query
// rows of one head (attention_chunk_rows: the chunks split nq evenly) and
// streams the keys in blocks of kAttnKeys through an online softmax (running
// max and sum, accumulator rescaled), kAttnRows rows at a time, in a tile
// kernel chosen by kernels/attention-dispatch.hpp (AVX-512, AVX2, NEON or
// portable C++; with a.math = bf16, the AMX tile, a whole chunk at a time).
// Each key block is packed once per task for all its query blocks (V
// rows contiguous, K transposed if the kernel has a packer): K/V rows of a
// qkv buffer are a multiple of 4 KiB apart and would thrash L1. Segments
// stored as f16 or q8 (a KV cache, ops/kv_dtype.hpp) are widened to f32 in
// that same load, so the tile kernels only ever see f32. Tasks are
// batch x heads x query chunks, a split fixed by the shape: each output row is
// made by one task with the same arithmetic (key blocks fixed per segment),
// so results are bit-identical for any thread count. Per-task state lives on
// the stack (about 100 KiB) for head_dim <= kAttentionStackHeadDim; larger
// heads take caller scratch.
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

// Head dims up to this keep their task state on the stack (every model here:
// 24..88).
constexpr int64_t kAttentionStackHeadDim = 96;
static_assert(kAttentionStackHeadDim == kernels::kAttnBf16MaxHeadDim, "bf16 tiles pack into the stack buffers");
// Query rows per task: each packed key block serves this many rows.
constexpr int32_t kAttnTaskRows = kernels::kAttnMaxCallRows;

// Floats of one task's state: accumulators, transposed K block, V block.
inline size_t attention_task_floats(int64_t head_dim) {
  return (size_t)((kAttnTaskRows + 2 * kernels::kAttnKeys) * head_dim);
}

// Query chunks of one (batch, head): tasks are batch x heads x chunks.
inline int64_t attention_chunks(int64_t nq) { return (nq + kAttnTaskRows - 1) / kAttnTaskRows; }

// Query rows per chunk: the chunks split nq evenly (in multiples of the tile's
// rows), so tasks are near equal and threads finish together (197 tokens:
// 104 + 93 rather than 128 + 69). A function of nq only.
inline int32_t attention_chunk_rows(int64_t nq) {
  const int64_t chunks = attention_chunks(nq);
  if (chunks <= 0) return kAttnTaskRows;
  const int64_t even = (nq + chunks - 1) / chunks;
  const int64_t rows = (even + kernels::kAttnRows - 1) / kernels::kAttnRows * kernels::kAttnRows;
  return (int32_t)(rows < kAttnTaskRows ? rows : kAttnTaskRows);
}

inline int64_t attention_tasks(int64_t batch, int64_t heads, int64_t nq) {
  return batch * heads * attention_chunks(nq);
}

// Caller scratch attention() needs (0 for head_dim <= kAttentionStackHeadDim):
// one task state per task, independent of the key count.
inline size_t attention_scratch_floats(int64_t batch, int64_t heads, int64_t head_dim, int64_t nq) {
  if (head_dim <= kAttentionStackHeadDim) return 0;
  return (size_t)attention_tasks(batch, heads, nq) * attention_task_floats(head_dim);
}

inline size_t attention_scratch_floats(const AttentionArgs& a) {
  return attention_scratch_floats(a.batch, a.heads, a.head_dim, a.nq);
}

namespace detail {

// Keys/values [j0, j0 + keys) of head h, batch element b, loaded as the tile
// kernel reads them: V rows contiguous in vp; K transposed into kt when the
// kernel has a packer. f32 K without a packer is read in place (*k_rows into
// the segment); f16/q8 K is widened to f32 rows first (into vp, which V then
// overwrites, when there is a packer; else into kt, which is free then).
inline void attention_load_block(const kernels::AttnKernelInfo& kern, const KvSegment& seg, int64_t b, int64_t h,
                                 int32_t hd, int64_t j0, int32_t keys, float* kt, float* vp, const float** k_rows,
                                 size_t* ldk) {
  const size_t hd_ = (size_t)hd;
  if (seg.dtype == KvDtype::f32) {
    const size_t e = (size_t)b * seg.batch_stride + (size_t)j0 * seg.ld + (size_t)h * hd_;
    const float* k = static_cast<const float*>(seg.k) + e;
    const float* v = static_cast<const float*>(seg.v) + e;
    *k_rows = k;
    *ldk = seg.ld;
    if (kern.pack_kt) kern.pack_kt(k, seg.ld, keys, hd, kt);
    if (kern.pack_v) {  // a bf16 tile (only ever given f32 segments: attention_kernel_takes)
      kern.pack_v(v, seg.ld, keys, hd, vp);
      return;
    }
    for (int32_t j = 0; j < keys; ++j) {
      const float* src = v + (size_t)j * seg.ld;
      float* dst = vp + (size_t)j * hd_;
#if defined(__GNUC__)
      if (j + 8 < keys)  // rows ld apart defeat the stream prefetcher
        for (int32_t d = 0; d < hd; d += 16) __builtin_prefetch(src + 8 * seg.ld + d);
#endif
      for (int32_t d = 0; d < hd; ++d) dst[d] = src[d];
    }
    return;
  }
  auto load = [&](bool values, float* dst) {
    if (seg.dtype == KvDtype::f16 && kern.widen_f16) {
      const size_t e = (size_t)b * seg.batch_stride + (size_t)j0 * seg.ld + (size_t)h * hd_;
      kern.widen_f16(static_cast<const uint16_t*>(values ? seg.v : seg.k) + e, seg.ld, keys, hd, dst, hd_);
    } else {
      kv_segment_load(seg, values, b, h, hd, j0, keys, dst, hd_);
    }
  };
  float* k_f32 = kern.pack_kt ? vp : kt;
  load(false, k_f32);
  if (kern.pack_kt) kern.pack_kt(k_f32, hd_, keys, hd, kt);
  *k_rows = kern.pack_kt ? nullptr : k_f32;
  *ldk = hd_;
  load(true, vp);
}

// Query chunk qc (attention_chunk_rows rows) of head h, batch element b: every key block of every segment
// up to the chunk's last visible key, packed once, against each block of the
// kernel's rows_per_call query rows that sees any of it; then out = acc / sum.
// state: attention_task_floats. On the stack (head_dim <= 96) its layout is
// fixed whatever head_dim: acc rows padded to 16 floats (AMX tiles load and
// store whole 16-float columns), K and V buffers of kAttnKeys x 96 floats.
inline void attention_fused_task(const AttentionArgs& a, const kernels::AttnKernelInfo& kern, int64_t b, int64_t h,
                                 int64_t qc, float* state) {
  using kernels::kAttnKeys;
  using kernels::kAttnRows;
  const int32_t hd = (int32_t)a.head_dim;
  const int32_t chunk_rows = attention_chunk_rows(a.nq);
  const int64_t nk_total = attention_total_keys(a), i0 = qc * chunk_rows;
  const int32_t rows = (int32_t)(a.nq - i0 < chunk_rows ? a.nq - i0 : chunk_rows);
  const bool on_stack = hd <= kAttentionStackHeadDim;
  const size_t ldacc = on_stack ? (size_t)(hd + 15) / 16 * 16 : (size_t)hd;
  const size_t kv_floats = (size_t)kAttnKeys * (size_t)(on_stack ? kAttentionStackHeadDim : hd);
  float* acc = state;
  float* kt = acc + (size_t)kAttnTaskRows * ldacc;
  float* vp = kt + kv_floats;
  float mx[kAttnTaskRows], sum[kAttnTaskRows];
  alignas(64) float scores[kAttnRows * kAttnKeys];
  int32_t visible[kAttnTaskRows];
  int64_t seg_visible[kAttnTaskRows];
  for (int32_t r = 0; r < kAttnTaskRows; ++r) {
    mx[r] = -std::numeric_limits<float>::infinity();
    sum[r] = 0.0f;
  }
  for (size_t e = 0; e < (size_t)kAttnTaskRows * ldacc; ++e) acc[e] = 0.0f;
  const float* qbase = a.q + (size_t)b * a.q_batch_stride + (size_t)i0 * a.ldq + (size_t)(h * hd);
  kernels::AttnTileArgs t;
  t.head_dim = hd;
  t.scale = a.scale;
  t.ldq = a.ldq;
  t.visible = visible;
  t.ldmask = (size_t)nk_total;
  t.ldacc = ldacc;
  t.scores = scores;
  t.v = vp;
  t.ldv = (size_t)hd;
  t.kt = kern.pack_kt ? kt : nullptr;
  t.vp = kern.pack_v ? vp : nullptr;
  const int32_t step = kern.rows_per_call;  // query rows per tile call
  int64_t col = 0;  // first key column of the segment in the explicit mask
  if (kern.task_begin) kern.task_begin();
  for (int s = 0; s < a.n_kv; ++s) {
    const KvSegment& seg = a.kv[s];
    int64_t last = 0;  // keys of the segment the chunk's rows see, at most
    for (int32_t r = 0; r < rows; ++r) {
      const int64_t qs = a.step_tokens > 0 ? a.q_first_step + (i0 + r) / a.step_tokens : 0;
      seg_visible[r] = visible_rows(a, seg, qs);
      last = seg_visible[r] > last ? seg_visible[r] : last;
    }
    for (int64_t j0 = 0; j0 < last; j0 += kAttnKeys) {
      const int32_t nk = (int32_t)(last - j0 < kAttnKeys ? last - j0 : kAttnKeys);
      t.keys = nk;
      attention_load_block(kern, seg, b, h, hd, j0, nk, kt, vp, &t.k, &t.ldk);
      for (int32_t r0 = 0; r0 < rows; r0 += step) {
        const int32_t br = rows - r0 < step ? rows - r0 : step;
        bool any = false;
        for (int32_t r = 0; r < br; ++r) {
          const int64_t v = seg_visible[r0 + r] - j0;
          visible[r] = (int32_t)(v < 0 ? 0 : v > nk ? nk : v);
          any = any || visible[r] > 0;
        }
        if (!any) continue;  // block-causal: this block sees none of these keys
        t.rows = br;
        t.q = qbase + (size_t)r0 * a.ldq;
        t.max = mx + r0;
        t.sum = sum + r0;
        t.acc = acc + (size_t)r0 * ldacc;
        t.mask = a.mask ? a.mask + (size_t)(i0 + r0) * (size_t)nk_total + (size_t)(col + j0) : nullptr;
        kern.fn(t);
      }
    }
    col += seg.rows;
  }
  if (kern.task_end) kern.task_end();
  for (int32_t r = 0; r < rows; ++r) {
    float* o = a.out + (size_t)b * a.out_batch_stride + (size_t)(i0 + r) * a.ldo + (size_t)(h * hd);
    const float inv = sum[r] > 0.0f ? 1.0f / sum[r] : 0.0f;  // nothing visible: zeros, as the reference
    for (int32_t d = 0; d < hd; ++d) o[d] = acc[(size_t)r * ldacc + (size_t)d] * inv;
  }
}

}  // namespace detail

inline bool attention_kv_all_f32(const AttentionArgs& a) {
  for (int s = 0; s < a.n_kv; ++s)
    if (a.kv[s].dtype != KvDtype::f32) return false;
  return true;
}

// The fused op with a given tile kernel (tests and benchmarks pin one; a bf16
// tile that does not take the problem, attention_kernel_takes, gives way to
// the f32 tile dispatch picks). out may not alias q, k or v. scratch:
// attention_scratch_floats(a) floats (may be null when that is 0).
inline void attention_with(const ParallelFor& par, const AttentionArgs& a, float* scratch,
                           const kernels::AttnKernelInfo& pinned) {
  JEPA_ASSERT(a.n_kv >= 1 && a.n_kv <= kMaxKvSegments);
  const int64_t hd = a.head_dim;
  const kernels::AttnKernelInfo& kern = kernels::attention_kernel_takes(pinned, hd, attention_kv_all_f32(a))
                                            ? pinned
                                            : kernels::choose_attention_kernel();
  const int64_t chunks = attention_chunks(a.nq);
  auto task = [&](size_t t) {
    const int64_t qc = (int64_t)t % chunks, bh = (int64_t)t / chunks;
    const int64_t b = bh / a.heads, h = bh % a.heads;
    if (hd <= kAttentionStackHeadDim) {
      alignas(64) float state[(kAttnTaskRows + 2 * kernels::kAttnKeys) * kAttentionStackHeadDim];
      detail::attention_fused_task(a, kern, b, h, qc, state);
    } else {
      detail::attention_fused_task(a, kern, b, h, qc, scratch + t * attention_task_floats(hd));
    }
  };
  par.for_each((size_t)attention_tasks(a.batch, a.heads, a.nq), task);
}

// What the models call: the tile kernel dispatch picks for this CPU, cap and
// the arithmetic a.math allows.
inline void attention(const ParallelFor& par, const AttentionArgs& a, float* scratch) {
  attention_with(par, a, scratch, kernels::choose_attention_kernel(a.math, a.head_dim, attention_kv_all_f32(a)));
}

}  // namespace ops
}  // namespace jepa

#endif  // JEPA_OPS_ATTENTION_HPP
