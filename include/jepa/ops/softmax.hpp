// jepa/ops/softmax.hpp: numerically stable softmax over one row, in place:
// subtract the row maximum, exponentiate, divide by the sum (all in float).
// Entries equal to -inf (masked keys) become exactly 0. A row that is all
// -inf becomes all zeros (PyTorch would give NaN); the attention op never
// builds such a row for the masks the models use.
#ifndef JEPA_OPS_SOFTMAX_HPP
#define JEPA_OPS_SOFTMAX_HPP

#include <cmath>
#include <cstdint>
#include <limits>

namespace jepa {
namespace ops {

inline void softmax_inplace(float* x, int64_t n) {
  float mx = -std::numeric_limits<float>::infinity();
  for (int64_t i = 0; i < n; ++i) mx = x[i] > mx ? x[i] : mx;
  if (mx == -std::numeric_limits<float>::infinity()) {
    for (int64_t i = 0; i < n; ++i) x[i] = 0.0f;
    return;
  }
  float sum = 0.0f;
  for (int64_t i = 0; i < n; ++i) {
    x[i] = std::exp(x[i] - mx);
    sum += x[i];
  }
  const float inv = 1.0f / sum;
  for (int64_t i = 0; i < n; ++i) x[i] *= inv;
}

}  // namespace ops
}  // namespace jepa

#endif  // JEPA_OPS_SOFTMAX_HPP
