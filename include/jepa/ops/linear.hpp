// jepa/ops/linear.hpp: a Linear layer over a weight matrix in place.
//
// The one entry point models use for every matmul against weights; which
// kernel runs is decided by the kernel table chosen at load (kernels/dispatch).
#ifndef JEPA_OPS_LINEAR_HPP
#define JEPA_OPS_LINEAR_HPP

#include "../kernels/gemm.hpp"
#include "../kernels/ref/gemm-ref.hpp"
#include "../runtime/parallel.hpp"

namespace jepa {
namespace ops {

// y[m][n] = epi(x[m] . W[n] + bias[n]) + residual[m][n], rows contiguous
// (strides = k for x, n for y and residual). residual may alias y.
inline void linear(const ParallelFor& par, const kernels::WeightMatrix& w, const float* bias,
                   const float* x, int32_t m, float* y,
                   kernels::Epilogue epi = kernels::Epilogue::none,
                   const float* residual = nullptr) {
  (void)par;
  kernels::GemmArgs a;
  a.m = m;
  a.x = x;
  a.ldx = (size_t)w.k;
  a.w = &w;
  a.bias = bias;
  a.residual = residual;
  a.ldr = (size_t)w.n;
  a.y = y;
  a.ldy = (size_t)w.n;
  a.epilogue = epi;
  kernels::ref::gemm__ref(a);
}

}  // namespace ops
}  // namespace jepa

#endif  // JEPA_OPS_LINEAR_HPP
