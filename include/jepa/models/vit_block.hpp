// jepa/models/vit_block.hpp: the pre-norm transformer block shared by every
// V-JEPA 2 / I-JEPA encoder and predictor (modules.py Block / ACBlock, I-JEPA
// vision_transformer.py Block):
//   x = x + proj(attention(qkv(LN1(x))))
//   x = x + fc2(GELU(fc1(LN2(x))))
// LayerNorm with affine and the model's eps, exact-erf GELU, qkv bias optional,
// no layer-scale. The attention core differs per model (RoPE or not, masks,
// KV cache), so this header provides the two halves around it: vit_qkv()
// (LN1 + qkv Linear) and vit_attn_out_mlp() (proj + residual, then the MLP
// half); the model's forward does RoPE and attention in between.
#ifndef JEPA_MODELS_VIT_BLOCK_HPP
#define JEPA_MODELS_VIT_BLOCK_HPP

#include "../ops/attention.hpp"
#include "../ops/layernorm.hpp"
#include "../ops/linear.hpp"
#include "../ops/linear_layernorm.hpp"
#include "../ops/rope.hpp"
#include "common.hpp"

namespace jepa {
namespace models {

// Sizes of one block.
struct VitBlockDims {
  int64_t dim = 0;         // model width D (= heads * head_dim)
  int64_t heads = 1;       // attention heads
  int64_t mlp_hidden = 0;  // fc1 output width M
  bool qkv_bias = true;    // attn.qkv has a bias
  kernels::AttnMath attention = kernels::AttnMath::automatic;  // what the attention may round to
  int64_t head_dim() const { return dim / heads; }
};

// The arithmetic a layer's attention may use. AttnMath::automatic (every
// model's default) allows bf16 where the layer's qkv weights are not f32:
// rounding the weights (int8, or 16-bit floats) already moves the output far
// more than bf16 attention does (ViT-S/16 q8: rel L2 1.885 % with f32
// attention, 1.888 % with bf16; docs/BENCHMARKS.md), and both are judged by
// the same int8_weights bounds. An f32 model keeps f32 attention and its
// 1e-4 bounds. f32 and bf16 pin the choice.
inline kernels::AttnMath attention_math_for(kernels::AttnMath m, const kernels::WeightMatrix& qkv) {
  if (m != kernels::AttnMath::automatic) return m;
  return qkv.dtype == format::DType::f32 ? kernels::AttnMath::f32 : kernels::AttnMath::bf16;
}

// One block's weights, in place in the model file.
struct VitBlockWeights {
  const float* norm1_w = nullptr;  // [D]
  const float* norm1_b = nullptr;  // [D]
  kernels::WeightMatrix qkv;       // [3D][D]: rows q (head-major), then k, then v
  const float* qkv_b = nullptr;    // [3D] or null (qkv_bias = false)
  kernels::WeightMatrix proj;      // [D][D]
  const float* proj_b = nullptr;   // [D]
  const float* norm2_w = nullptr;  // [D]
  const float* norm2_b = nullptr;  // [D]
  kernels::WeightMatrix fc1;       // [M][D]
  const float* fc1_b = nullptr;    // [M]
  kernels::WeightMatrix fc2;       // [D][M]
  const float* fc2_b = nullptr;    // [D]
};

// The block's tensors under `prefix` + index, e.g. "blocks.3." or
// "predictor_blocks.0.", in the official state_dict order.
template <class Visit>
void for_each_vit_block_tensor(const char* prefix, int index, const VitBlockDims& d, Visit&& visit) {
  const int64_t D = d.dim, M = d.mlp_hidden;
  const int64_t vec_d[1] = {D}, vec_3d[1] = {3 * D}, vec_m[1] = {M};
  const int64_t qkv[2] = {3 * D, D}, proj[2] = {D, D}, fc1[2] = {M, D}, fc2[2] = {D, M};
  using detail::TensorName;
  const TensorRole W = TensorRole::weight_matrix, V = TensorRole::vector;
  visit(TensorName("%s%d.norm1.weight", prefix, index).s, vec_d, 1, V);
  visit(TensorName("%s%d.norm1.bias", prefix, index).s, vec_d, 1, V);
  visit(TensorName("%s%d.attn.qkv.weight", prefix, index).s, qkv, 2, W);
  if (d.qkv_bias) visit(TensorName("%s%d.attn.qkv.bias", prefix, index).s, vec_3d, 1, V);
  visit(TensorName("%s%d.attn.proj.weight", prefix, index).s, proj, 2, W);
  visit(TensorName("%s%d.attn.proj.bias", prefix, index).s, vec_d, 1, V);
  visit(TensorName("%s%d.norm2.weight", prefix, index).s, vec_d, 1, V);
  visit(TensorName("%s%d.norm2.bias", prefix, index).s, vec_d, 1, V);
  visit(TensorName("%s%d.mlp.fc1.weight", prefix, index).s, fc1, 2, W);
  visit(TensorName("%s%d.mlp.fc1.bias", prefix, index).s, vec_m, 1, V);
  visit(TensorName("%s%d.mlp.fc2.weight", prefix, index).s, fc2, 2, W);
  visit(TensorName("%s%d.mlp.fc2.bias", prefix, index).s, vec_d, 1, V);
}

// Binds one block; the caller has already checked the tensors' shapes.
inline Status bind_vit_block(const ModelFile& f, const char* prefix, int index, const VitBlockDims& d,
                             VitBlockWeights* w) {
  using detail::TensorName;
  JEPA_RETURN_IF_ERROR(detail::bind_vector(f, TensorName("%s%d.norm1.weight", prefix, index), &w->norm1_w));
  JEPA_RETURN_IF_ERROR(detail::bind_vector(f, TensorName("%s%d.norm1.bias", prefix, index), &w->norm1_b));
  JEPA_RETURN_IF_ERROR(detail::bind_matrix(f, TensorName("%s%d.attn.qkv.weight", prefix, index), &w->qkv));
  w->qkv_b = nullptr;
  if (d.qkv_bias)
    JEPA_RETURN_IF_ERROR(detail::bind_vector(f, TensorName("%s%d.attn.qkv.bias", prefix, index), &w->qkv_b));
  JEPA_RETURN_IF_ERROR(detail::bind_matrix(f, TensorName("%s%d.attn.proj.weight", prefix, index), &w->proj));
  JEPA_RETURN_IF_ERROR(detail::bind_vector(f, TensorName("%s%d.attn.proj.bias", prefix, index), &w->proj_b));
  JEPA_RETURN_IF_ERROR(detail::bind_vector(f, TensorName("%s%d.norm2.weight", prefix, index), &w->norm2_w));
  JEPA_RETURN_IF_ERROR(detail::bind_vector(f, TensorName("%s%d.norm2.bias", prefix, index), &w->norm2_b));
  JEPA_RETURN_IF_ERROR(detail::bind_matrix(f, TensorName("%s%d.mlp.fc1.weight", prefix, index), &w->fc1));
  JEPA_RETURN_IF_ERROR(detail::bind_vector(f, TensorName("%s%d.mlp.fc1.bias", prefix, index), &w->fc1_b));
  JEPA_RETURN_IF_ERROR(detail::bind_matrix(f, TensorName("%s%d.mlp.fc2.weight", prefix, index), &w->fc2));
  JEPA_RETURN_IF_ERROR(detail::bind_vector(f, TensorName("%s%d.mlp.fc2.bias", prefix, index), &w->fc2_b));
  return Status::ok();
}

// Scratch for running blocks over `rows` tokens: LN output, qkv, attention
// output and MLP hidden rows. Planned in the caller's arena (measure mode
// gives the size); pointers are null in measure mode.
struct VitBlockScratch {
  float* normed = nullptr;    // [rows][D]
  float* qkv = nullptr;       // [rows][3D]
  float* attn_out = nullptr;  // [rows][D]
  float* hidden = nullptr;    // [rows][M]
  float* scores = nullptr;    // ops::attention scratch (none unless head_dim > 256)
};

// rows = batch * tokens (the query rows). `keys` (keys per sequence the
// attention sees) no longer sizes anything: the fused attention keeps its
// score tiles on the stack, so its scratch is 0 for every head_dim <= 256.
inline VitBlockScratch plan_vit_block_scratch(Arena& arena, int64_t batch, int64_t tokens, int64_t keys,
                                              const VitBlockDims& d) {
  (void)keys;
  const int64_t rows = batch * tokens;
  VitBlockScratch s;
  s.normed = arena.alloc<float>((size_t)(rows * d.dim));
  s.qkv = arena.alloc<float>((size_t)(rows * 3 * d.dim));
  s.attn_out = arena.alloc<float>((size_t)(rows * d.dim));
  s.hidden = arena.alloc<float>((size_t)(rows * d.mlp_hidden));
  s.scores = arena.alloc<float>(ops::attention_scratch_floats(batch, d.heads, d.head_dim(), tokens));
  return s;
}

namespace detail {

// Rows per task when the forwards split row-wise work (RoPE, LayerNorm loops)
// over the ParallelFor: fixed, so results never depend on the thread count.
constexpr int64_t kRowsPerTask = 16;

// f(r0, r1) for consecutive row ranges covering [0, rows).
template <class F>
void for_row_chunks(const ParallelFor& par, int64_t rows, F&& f) {
  auto task = [&](size_t t) {
    const int64_t r0 = (int64_t)t * kRowsPerTask, r1 = r0 + kRowsPerTask < rows ? r0 + kRowsPerTask : rows;
    f(r0, r1);
  };
  par.for_each((size_t)((rows + kRowsPerTask - 1) / kRowsPerTask), task);
}

// The Linears' context: their prepared activations (the integer and bf16
// kernels' quantized rows) go into `buf`, a block buffer that is dead at that
// point, so a layer runs in one pass over all its rows instead of
// stack-sized row chunks. A buffer too small for a kernel's rows only brings
// the chunks back (ops/linear.hpp checks the size); the results are the same.
inline ops::LinearContext linear_context(const ParallelFor& par, float* buf, size_t floats) {
  ops::LinearContext ctx;
  ctx.par = par;
  ctx.scratch = buf;
  ctx.scratch_bytes = buf ? floats * sizeof(float) : 0;
  return ctx;
}

}  // namespace detail

// First half: qkv[rows][3D] = qkv(LN1(x)).
inline void vit_qkv(const ParallelFor& par, const VitBlockWeights& w, const VitBlockDims& d, float eps,
                    const float* x, int64_t rows, const VitBlockScratch& s) {
  // attn_out is dead until the attention writes it.
  const ops::LinearContext ctx = detail::linear_context(par, s.attn_out, (size_t)(rows * d.dim));
  ops::linear_layernorm(ctx, w.qkv, w.qkv_b, x, (int32_t)rows, w.norm1_w, w.norm1_b, eps, s.normed, s.qkv);
}

// Second half, given s.attn_out[rows][D] (heads concatenated):
// x += proj(attn_out); x += fc2(GELU(fc1(LN2(x)))).
inline void vit_attn_out_mlp(const ParallelFor& par, const VitBlockWeights& w, const VitBlockDims& d, float eps,
                             float* x, int64_t rows, const VitBlockScratch& s) {
  const int32_t m = (int32_t)rows;
  // qkv is dead once the attention has read it (and a KV cache copied it).
  const ops::LinearContext ctx = detail::linear_context(par, s.qkv, (size_t)(rows * 3 * d.dim));
  ops::linear(ctx, w.proj, w.proj_b, s.attn_out, m, x, kernels::Epilogue::none, x);
  ops::linear_layernorm(ctx, w.fc1, w.fc1_b, x, m, w.norm2_w, w.norm2_b, eps, s.normed, s.hidden,
                        kernels::Epilogue::gelu);
  ops::linear(ctx, w.fc2, w.fc2_b, s.hidden, m, x, kernels::Epilogue::none, x);
}

// A whole block over `batch` sequences of `tokens` tokens each (x is
// [batch*tokens][D]), full bidirectional attention within each sequence.
// rope: per-row RoPE tables (ops::rope_fill_token layout, rope_stride floats
// apart), or null for models with an additive pos-embed (I-JEPA).
inline void vit_block_forward(const ParallelFor& par, const VitBlockWeights& w, const VitBlockDims& d, float eps,
                              float* x, int64_t batch, int64_t tokens, const float* rope, int64_t rope_stride,
                              const VitBlockScratch& s) {
  const int64_t rows = batch * tokens, D = d.dim, hd = d.head_dim();
  vit_qkv(par, w, d, eps, x, rows, s);
  if (rope != nullptr)
    detail::for_row_chunks(par, rows, [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) ops::rope_apply_qk(s.qkv + r * 3 * D, d.heads, hd, rope + r * rope_stride, 3);
    });
  ops::AttentionArgs a;
  a.batch = batch;
  a.heads = d.heads;
  a.head_dim = hd;
  a.nq = tokens;
  a.q = s.qkv;
  a.ldq = (size_t)(3 * D);
  a.q_batch_stride = (size_t)(tokens * 3 * D);
  a.kv[0].k = s.qkv + D;
  a.kv[0].v = s.qkv + 2 * D;
  a.kv[0].ld = (size_t)(3 * D);
  a.kv[0].batch_stride = (size_t)(tokens * 3 * D);
  a.kv[0].rows = tokens;
  a.n_kv = 1;
  a.out = s.attn_out;
  a.ldo = (size_t)D;
  a.out_batch_stride = (size_t)(tokens * D);
  a.scale = 1.0f / std::sqrt((float)hd);
  a.math = attention_math_for(d.attention, w.qkv);
  ops::attention(par, a, s.scores);
  vit_attn_out_mlp(par, w, d, eps, x, rows, s);
}

}  // namespace models
}  // namespace jepa

#endif  // JEPA_MODELS_VIT_BLOCK_HPP
