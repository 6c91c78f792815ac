// jepa/ops/linear_layernorm.hpp: a Linear layer over LayerNorm'd rows,
// y = epi(LN(x) W^T + b) (+ residual), the pre-norm half of every ViT block.
//
// When the chosen kernel reads prepared activations (q8/q4 int8 rows, bf16
// dot), each prepare task normalises a few rows into a stack row buffer with
// ops::layernorm_rows and quantizes them at once with the table's prepare
// function, so LN(x) never goes to memory as float (one pass over x instead
// of LN writing rows that prepare reads back). Otherwise (float kernels, an
// external backend such as xnnpack, K too wide for the row buffer) it runs
// ops::layernorm into `normed` and then ops::linear, as before. Both ways give
// the same bits as layernorm-then-linear, for any thread count: the same row
// arithmetic, the same prepare bytes, the same fixed tiles.
// Defining JEPA_NO_LN_FUSION always takes the second way (benchmark baseline).
#ifndef JEPA_OPS_LINEAR_LAYERNORM_HPP
#define JEPA_OPS_LINEAR_LAYERNORM_HPP

#include "layernorm.hpp"
#include "linear.hpp"

namespace jepa {
namespace ops {

namespace detail {

struct LayerNormRowParams {
  const float* gamma;
  const float* beta;
  float eps;
};

inline void layernorm_transform(const void* self, const float* x, size_t ldx, int32_t rows, float* out,
                                int32_t k) {
  const LayerNormRowParams& p = *static_cast<const LayerNormRowParams*>(self);
  layernorm_rows(x, ldx, out, (size_t)k, rows, k, p.gamma, p.beta, p.eps);
}

}  // namespace detail

// y[m][n] = epi(LN(x[m]) . W[n] + bias[n]) + residual[m][n]; x is [m][w.k],
// LN over w.k with gamma/beta (either may be null) and eps. normed [m][w.k]
// receives LN(x) only when the unfused way runs (its contents are unspecified
// afterwards); it must not alias x. y must not alias x; residual may alias y.
inline void linear_layernorm(const LinearContext& ctx, const kernels::WeightMatrix& w, const float* bias,
                             const float* x, int32_t m, const float* gamma, const float* beta, float eps,
                             float* normed, float* y, kernels::Epilogue epi = kernels::Epilogue::none,
                             const float* residual = nullptr) {
#if !defined(JEPA_NO_LN_FUSION)
  const detail::LayerNormRowParams params = {gamma, beta, eps};
  detail::RowTransform tf;
  tf.fn = &detail::layernorm_transform;
  tf.self = &params;
  if (detail::linear_transformed(ctx, w, bias, x, m, y, epi, residual, &tf)) return;
#endif
  layernorm(ctx.par, x, normed, m, w.k, gamma, beta, eps);
  linear(ctx, w, bias, normed, m, y, epi, residual);
}

inline void linear_layernorm(const ParallelFor& par, const kernels::WeightMatrix& w, const float* bias,
                             const float* x, int32_t m, const float* gamma, const float* beta, float eps,
                             float* normed, float* y, kernels::Epilogue epi = kernels::Epilogue::none,
                             const float* residual = nullptr) {
  LinearContext ctx;
  ctx.par = par;
  linear_layernorm(ctx, w, bias, x, m, gamma, beta, eps, normed, y, epi, residual);
}

}  // namespace ops
}  // namespace jepa

#endif  // JEPA_OPS_LINEAR_LAYERNORM_HPP
