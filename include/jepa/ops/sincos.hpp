// jepa/ops/sincos.hpp: the fixed sine-cosine position-embedding tables of
// I-JEPA (src/models/vision_transformer.py) and V-JEPA (src/models/utils/pos_embs.py).
// The models load these tables from the checkpoint (I-JEPA stores them); the
// generators exist to check a checkpoint's table and to build one for a file
// that lacks it. Pitfall (ARCHITECTURE.md §5): I-JEPA's 2D table puts the
// *column* in the first half, V-JEPA's the row; each half is [sin | cos].
// Computed in double (as numpy does), stored as float.
#ifndef JEPA_OPS_SINCOS_HPP
#define JEPA_OPS_SINCOS_HPP

#include <cmath>
#include <cstdint>

namespace jepa {
namespace ops {

// out[dim] = [sin(pos*omega_j) | cos(pos*omega_j)], omega_j = 10000^(-j/(dim/2)), dim even.
inline void sincos_1d(double pos, int64_t dim, float* out) {
  const int64_t half = dim / 2;
  for (int64_t j = 0; j < half; ++j) {
    const double a = pos / std::pow(10000.0, (double)j / ((double)dim / 2.0));
    out[j] = (float)std::sin(a);
    out[half + j] = (float)std::cos(a);
  }
}

// I-JEPA get_2d_sincos_pos_embed: [grid*grid][dim], token n = row*grid + col,
// first dim/2 values encode the column, the rest the row.
inline void ijepa_sincos_2d(int64_t dim, int64_t grid, float* out) {
  for (int64_t r = 0; r < grid; ++r)
    for (int64_t c = 0; c < grid; ++c) {
      float* row = out + (r * grid + c) * dim;
      sincos_1d((double)c, dim / 2, row);
      sincos_1d((double)r, dim / 2, row + dim / 2);
    }
}

// V-JEPA get_2d_sincos_pos_embed: the row first, then the column.
inline void vjepa_sincos_2d(int64_t dim, int64_t grid, float* out) {
  for (int64_t r = 0; r < grid; ++r)
    for (int64_t c = 0; c < grid; ++c) {
      float* row = out + (r * grid + c) * dim;
      sincos_1d((double)r, dim / 2, row);
      sincos_1d((double)c, dim / 2, row + dim / 2);
    }
}

// V-JEPA get_3d_sincos_pos_embed: [depth*grid*grid][dim], tokens (t, h, w);
// [t (dim/2) | h (dim/4) | w (dim/4)], or 2*ceil(dim/6) each with
// uniform_power, truncated to dim.
inline void vjepa_sincos_3d(int64_t dim, int64_t grid, int64_t depth, bool uniform_power, float* out) {
  const int64_t dd = uniform_power ? 2 * ((dim + 5) / 6) : dim / 2;
  const int64_t dh = uniform_power ? dd : dim / 4;
  const int64_t width[3] = {dd, dh, dh}, offset[3] = {0, dd, dd + dh};
  for (int64_t t = 0; t < depth; ++t)
    for (int64_t h = 0; h < grid; ++h)
      for (int64_t w = 0; w < grid; ++w) {
        float* row = out + ((t * grid + h) * grid + w) * dim;
        const double pos[3] = {(double)t, (double)h, (double)w};
        for (int part = 0; part < 3; ++part) {
          const int64_t half = width[part] / 2;
          for (int64_t j = 0; j < half; ++j) {
            const double a = pos[part] / std::pow(10000.0, (double)j / ((double)width[part] / 2.0));
            const int64_t is = offset[part] + j, ic = offset[part] + half + j;
            if (is < dim) row[is] = (float)std::sin(a);
            if (ic < dim) row[ic] = (float)std::cos(a);
          }
        }
      }
}

}  // namespace ops
}  // namespace jepa

#endif  // JEPA_OPS_SINCOS_HPP
