// jepa/ops/layernorm.hpp: LayerNorm over the last dimension, as nn.LayerNorm
// and F.layer_norm: y = (x - mean) / sqrt(var + eps) * gamma + beta, with the
// biased variance. Statistics are two-pass in float (mean first, then the mean
// squared deviation), which stays well inside the fp32 golden tolerances at
// the widths we run (<= 1408). gamma/beta may be null: the affine-free
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
  for (int64_t i = 0; i < dim; ++i) {
    float v = (x[i] - mean) * rstd;
    if (gamma != nullptr) v *= gamma[i];
    if (beta != nullptr) v += beta[i];
    y[i] = v;
  }
}

// rows x dim, row-major and contiguous; y may alias x.
inline void layernorm(const float* x, float* y, int64_t rows, int64_t dim, const float* gamma,
                      const float* beta, float eps) {
  for (int64_t r = 0; r < rows; ++r) layernorm_row(x + r * dim, y + r * dim, dim, gamma, beta, eps);
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
