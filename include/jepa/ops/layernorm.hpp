// jepa/ops/layernorm.hpp: LayerNorm over the last dimension, as nn.LayerNorm
// and F.layer_norm: y = (x - mean) / sqrt(var + eps) * gamma + beta, with the
// biased variance. Statistics are two-pass in float (mean first, then the mean
// squared deviation), which stays well inside the fp32 golden tolerances at
// the widths we run (<= 1408). gamma/beta may be null: the affine-free
// F.layer_norm that V-JEPA 2-AC applies to latents (eps 1e-5).
#ifndef JEPA_OPS_LAYERNORM_HPP
#define JEPA_OPS_LAYERNORM_HPP

#include <cmath>
#include <cstdint>

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

}  // namespace ops
}  // namespace jepa

#endif  // JEPA_OPS_LAYERNORM_HPP
