// jepa/ops/activations.hpp: element-wise activations. GELU is nn.GELU()'s
// exact erf form (the released V-JEPA 2 / I-JEPA models use it; the tanh
// approximation is 2-7x over the golden tolerance). The scalar definitions are
// the kernels' reference ones (kernels/ref/math.hpp), so a Linear with the
// gelu epilogue and gelu_inplace() agree bit for bit.
#ifndef JEPA_OPS_ACTIVATIONS_HPP
#define JEPA_OPS_ACTIVATIONS_HPP

#include <cmath>
#include <cstdint>

#include "../kernels/ref/math.hpp"

namespace jepa {
namespace ops {

inline float gelu(float x) { return kernels::ref::gelu(x); }

// x * sigmoid(x), nn.SiLU (LeWM's action embedder, SwiGLU variants).
inline float silu(float x) { return x / (1.0f + std::exp(-x)); }

inline void gelu_inplace(float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) x[i] = gelu(x[i]);
}

inline void silu_inplace(float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) x[i] = silu(x[i]);
}

}  // namespace ops
}  // namespace jepa

#endif  // JEPA_OPS_ACTIVATIONS_HPP
