// jepa/ops/layernorm.hpp: LayerNorm over the last dimension, as nn.LayerNorm
// and F.layer_norm: y = (x - mean) / sqrt(var + eps) * gamma + beta, with the
// biased variance. Statistics are two-pass in float (mean first, then the mean
// squared deviation), which stays well inside the fp32 golden tolerances at
// the widths we run (<= 1408); layernorm_rows() interleaves a few rows' sums
// for speed with the same bits. gamma/beta may be null: the affine-free
// F.layer_norm that V-JEPA 2-AC applies to latents (eps 1e-5). The
// ParallelFor overload splits rows into fixed chunks (each row is computed
// alone, so the result is the same for any thread count).
#ifndef JEPA_OPS_LAYERNORM_HPP
#define JEPA_OPS_LAYERNORM_HPP

#include <cmath>
#include <cstddef>
#include <cstdint>

#include "../runtime/parallel.hpp"

namespace jepa {
namespace ops {

namespace detail {

// The last pass of a row, given its statistics: y = (x - mean) * rstd * gamma + beta.
inline void layernorm_apply(const float* x, float* y, int64_t dim, float mean, float rstd, const float* gamma,
                            const float* beta) {
  for (int64_t i = 0; i < dim; ++i) {
    float v = (x[i] - mean) * rstd;
    if (gamma != nullptr) v *= gamma[i];
    if (beta != nullptr) v += beta[i];
    y[i] = v;
  }
}

}  // namespace detail

// One row: y[dim] from x[dim]; y may alias x.
inline void layernorm_row(const float* x, float* y, int64_t dim, const float* gamma, const float* beta,
                          float eps) {
  float sum = 0.0f;
  for (int64_t i = 0; i < dim; ++i) sum += x[i];
  const float mean = sum / (float)dim;
  float sq = 0.0f;
  for (int64_t i = 0; i < dim; ++i) {
    const float d = x[i] - mean;
    sq += d * d;
  }
  const float rstd = 1.0f / std::sqrt(sq / (float)dim + eps);
  detail::layernorm_apply(x, y, dim, mean, rstd, gamma, beta);
}

// Rows layernorm_rows() normalises together.
constexpr int64_t kLayerNormRowGroup = 4;

// rows rows (x ldx floats apart, y ldy apart) with layernorm_row's arithmetic,
// bit for bit: each row's sums run in the same order, but the rows' chains
// are interleaved so the loop is not bound by the latency of one add chain.
// y may alias x only row for row (ldy == ldx).
inline void layernorm_rows(const float* x, size_t ldx, float* y, size_t ldy, int64_t rows, int64_t dim,
                           const float* gamma, const float* beta, float eps) {
  constexpr int64_t G = kLayerNormRowGroup;
  int64_t r = 0;
  for (; r + G <= rows; r += G) {
    const float* xr[G];
    for (int64_t g = 0; g < G; ++g) xr[g] = x + (size_t)(r + g) * ldx;
    float sum[G] = {}, mean[G], sq[G] = {};
    for (int64_t i = 0; i < dim; ++i)
      for (int64_t g = 0; g < G; ++g) sum[g] += xr[g][i];
    for (int64_t g = 0; g < G; ++g) mean[g] = sum[g] / (float)dim;
    for (int64_t i = 0; i < dim; ++i)
      for (int64_t g = 0; g < G; ++g) {
        const float d = xr[g][i] - mean[g];
        sq[g] += d * d;
      }
    for (int64_t g = 0; g < G; ++g) {
      const float rstd = 1.0f / std::sqrt(sq[g] / (float)dim + eps);
      detail::layernorm_apply(xr[g], y + (size_t)(r + g) * ldy, dim, mean[g], rstd, gamma, beta);
    }
  }
  for (; r < rows; ++r) layernorm_row(x + (size_t)r * ldx, y + (size_t)r * ldy, dim, gamma, beta, eps);
}

// rows x dim, row-major and contiguous; y may alias x.
inline void layernorm(const float* x, float* y, int64_t rows, int64_t dim, const float* gamma,
                      const float* beta, float eps) {
  layernorm_rows(x, (size_t)dim, y, (size_t)dim, rows, dim, gamma, beta, eps);
}

// Rows per task of the parallel overload: enough work to amortise a task.
constexpr int64_t kLayerNormRowsPerTask = 16;

inline void layernorm(const ParallelFor& par, const float* x, float* y, int64_t rows, int64_t dim,
                      const float* gamma, const float* beta, float eps) {
  const int64_t chunk = kLayerNormRowsPerTask;
  auto task = [&](size_t t) {
    const int64_t r0 = (int64_t)t * chunk, r1 = r0 + chunk < rows ? r0 + chunk : rows;
    layernorm(x + r0 * dim, y + r0 * dim, r1 - r0, dim, gamma, beta, eps);
  };
  par.for_each((size_t)((rows + chunk - 1) / chunk), task);
}

}  // namespace ops
}  // namespace jepa

#endif  // JEPA_OPS_LAYERNORM_HPP
