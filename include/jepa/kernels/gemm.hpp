// jepa/kernels/gemm.hpp: the contract between the ops layer and every GEMM
// microkernel (scalar reference and SIMD alike).
//
//   y[m][n] = epilogue( sum_k x[m][k] * W[n][k] + bias[n] ) + residual[m][n]
//
// W is a weight matrix as stored in a .jepa file ([N][K], dtype and layout
// from its TensorEntry), used in place. Activations and outputs are float32
// rows with explicit strides (in elements).
#ifndef JEPA_KERNELS_GEMM_HPP
#define JEPA_KERNELS_GEMM_HPP

#include <cstddef>
#include <cstdint>

#include "../format/format.hpp"

namespace jepa {
namespace kernels {

enum class Epilogue : uint8_t {
  none = 0,
  gelu = 1,  // exact erf GELU, as nn.GELU()
};

// A weight matrix in place: [n][k] logical, bytes per dtype/layout (format.hpp).
struct WeightMatrix {
  format::DType dtype = format::DType::f32;
  format::Layout layout = format::Layout::row_major;
  int32_t n = 0;               // output features (rows)
  int32_t k = 0;               // input features
  const void* data = nullptr;  // start of the tensor's bytes
  uint32_t params[6] = {0, 0, 0, 0, 0, 0};  // TensorEntry::layout_params
};

struct GemmArgs {
  int32_t m = 0;                    // rows of x / y
  const float* x = nullptr;         // [m][ldx], k used
  size_t ldx = 0;
  const WeightMatrix* w = nullptr;
  const float* bias = nullptr;      // [n] or null
  const float* residual = nullptr;  // [m][ldr] or null; may alias y
  size_t ldr = 0;
  float* y = nullptr;               // [m][ldy], n written
  size_t ldy = 0;
  Epilogue epilogue = Epilogue::none;
};

}  // namespace kernels
}  // namespace jepa

#endif  // JEPA_KERNELS_GEMM_HPP
