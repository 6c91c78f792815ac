// jepa/ops/layernorm.hpp: LayerNorm over the last dimension, as nn.LayerNorm
// and F.layer_norm: y = (x - mean) / sqrt(var + eps) * gamma + beta, with the
// biased variance. Statistics are two-pass in float (mean first, then the mean
// squared deviation), which stays well inside the fp32 golden tolerances at
// the widths we run (<= 1408). Each sum runs in kLayerNormLanes independent
// lanes (lane j adds elements j, j + 16, ...), folded in halves at the end:
// sixteen add chains instead of one, which compilers vectorize at any ISA
// level without -ffast-math, as the lane order is fixed whatever the vector
// width (only FMA contraction, where a compiler applies it, moves the last
// bits). At baseline x86-64 that is 3.4-3.9x the one-chain-per-row loop it
// replaced (bench_kernels rowop/layernorm; docs/BENCHMARKS.md). Where the CPU
// has AVX-512 or AVX2, layernorm_rows runs a row kernel bit-identical to it
// (kernels/layernorm-dispatch.hpp); layernorm_row stays the reference. gamma/beta
// may be null: the affine-free F.layer_norm that V-JEPA 2-AC applies to
// latents (eps 1e-5). The ParallelFor overload splits rows into fixed chunks
// (each row is computed alone, so the result is the same for any thread
// count).
#ifndef JEPA_OPS_LAYERNORM_HPP
#define JEPA_OPS_LAYERNORM_HPP

#include <cmath>
#include <cstddef>
#include <cstdint>

#include "../kernels/layernorm-dispatch.hpp"
#include "../kernels/ref/math.hpp"
#include "../runtime/parallel.hpp"

namespace jepa {
namespace ops {

// Independent partial sums per LayerNorm statistic (see the top of the file).
constexpr int64_t kLayerNormLanes = 16;
static_assert(kLayerNormLanes == 16, "the sums fold with kernels::ref::fold_lanes16, shared with the row kernels");

namespace detail {

// The last pass of a row, given its statistics: y = (x - mean) * rstd * gamma + beta.
// The affine case (every ViT norm) gets its own branch-free loop.
inline void layernorm_apply(const float* x, float* y, int64_t dim, float mean, float rstd, const float* gamma,
                            const float* beta) {
  if (gamma != nullptr && beta != nullptr) {
    for (int64_t i = 0; i < dim; ++i) y[i] = (x[i] - mean) * rstd * gamma[i] + beta[i];
    return;
  }
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
  constexpr int64_t L = kLayerNormLanes;
  float sum[L] = {};
  int64_t i = 0;
  for (; i + L <= dim; i += L)
    for (int64_t j = 0; j < L; ++j) sum[j] += x[i + j];
  for (int64_t j = 0; i + j < dim; ++j) sum[j] += x[i + j];
  const float mean = kernels::ref::fold_lanes16(sum) / (float)dim;
  float sq[L] = {};
  for (i = 0; i + L <= dim; i += L)
    for (int64_t j = 0; j < L; ++j) {
      const float d = x[i + j] - mean;
      sq[j] += d * d;
    }
  for (int64_t j = 0; i + j < dim; ++j) {
    const float d = x[i + j] - mean;
    sq[j] += d * d;
  }
  const float rstd = 1.0f / std::sqrt(kernels::ref::fold_lanes16(sq) / (float)dim + eps);
  detail::layernorm_apply(x, y, dim, mean, rstd, gamma, beta);
}

// rows rows (x ldx floats apart, y ldy apart), each as layernorm_row: by the
// row kernel the CPU has (kernels/layernorm-dispatch.hpp: AVX-512 or AVX2,
// the same bits), else by layernorm_row itself. y may alias x only row for row
// (ldy == ldx).
inline void layernorm_rows(const float* x, size_t ldx, float* y, size_t ldy, int64_t rows, int64_t dim,
                           const float* gamma, const float* beta, float eps) {
  if (const kernels::LayerNormRowsFn fn = kernels::layernorm_rows_kernel()) {
    fn(x, ldx, y, ldy, rows, dim, gamma, beta, eps);
    return;
  }
  for (int64_t r = 0; r < rows; ++r) layernorm_row(x + (size_t)r * ldx, y + (size_t)r * ldy, dim, gamma, beta, eps);
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
