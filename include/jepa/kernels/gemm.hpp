// jepa/kernels/gemm.hpp: the contract between the ops layer and every GEMM
// microkernel (scalar reference and SIMD alike).
//
//   y[m][n] = epilogue( sum_k x[m][k] * W[n][k] + bias[n] ) + residual[m][n]
//
// W is a weight matrix as stored in a .jepa file ([N][K], dtype and layout
// from its TensorEntry), used in place. Activations and outputs are float32
// rows with explicit strides (in elements). A kernel computes rows [0, m) and
// columns [n0, n1) (n0 a multiple of the weight's panel NR for packed
// layouts), so ops::linear can split the work into fixed tiles.
// Kernels whose arithmetic is integer (q8/q4) or bf16 read the activations
// in a prepared form (PreparedX) that a separate pass writes once per call
// into caller scratch (kernels/prepare.hpp); float kernels read x directly.
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
  uint32_t flags = 0;  // TensorEntry::flags (format::TensorFlag), as the loader checked them
};

// How a kernel wants its activations (PreparedX). The quantization rule is
// the same for every ISA (kernels/ref/prepare-ref.hpp is the truth), so the
// integer kernels agree bit for bit with the scalar reference.
enum class ActFormat : uint8_t {
  f32 = 0,       // x used as is (no preparation, no scratch)
  s8 = 1,        // int8 per row: q = round_half_even(x * 127/amax), scale = amax/127
  u8 = 2,        // the same q stored as q + 128 (u8 operand of vpdpbusd)
  s8_sums = 3,   // s8 plus int32 sums of q over each 32-block of K (q4 kernels)
  bf16 = 4,      // x rounded to bf16 (round to nearest even), K padded to even
};

// Activations prepared for a kernel: rows of ld bytes, padded with zeros
// (x = 0) up to a multiple of 64 bytes, so kernels read whole k-groups.
struct PreparedX {
  ActFormat format = ActFormat::f32;
  const void* data = nullptr;      // [m][ld] bytes: int8/uint8/bf16 values
  size_t ld = 0;                   // bytes per row, multiple of 64
  const float* scale = nullptr;    // [m] (s8/u8/s8_sums): x[m][k] ~= q[m][k] * scale[m]
  const int32_t* sums = nullptr;   // [m][ld_sums] (s8_sums): sum of q over block b
  size_t ld_sums = 0;              // int32 per row
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
  // Column range [n0, n1); n1 < 0 means w->n.
  int32_t n0 = 0;
  int32_t n1 = -1;
  // The activations in the kernel's ActFormat (row 0 = x row 0); null for
  // float kernels. Written by kernels::prepare_x (prepare.hpp).
  const PreparedX* xp = nullptr;

  int32_t n_end() const { return n1 < 0 ? w->n : n1; }
};

// The panel params jepa's converter writes and the x86 kernels read for each
// weight dtype: NR = 16 rows; KR = 1 (f32, f16), 2 (bf16: vdpbf16ps pairs),
// 4 (q8, q4: vpdpbusd / sdot groups of 4). False for non-weight dtypes.
inline bool standard_panel_params(format::DType dt, uint32_t params[6]) {
  for (int i = 0; i < 6; ++i) params[i] = 0;
  params[0] = 16;
  switch (dt) {
    case format::DType::f32: case format::DType::f16: params[1] = 1; return true;
    case format::DType::bf16: params[1] = 2; return true;
    case format::DType::q8: case format::DType::q4: params[1] = 4; return true;
    default: params[0] = 0; return false;
  }
}

// A GEMM microkernel (or the reference): computes a.m rows, columns [n0, n1).
using GemmFn = void (*)(const GemmArgs& a);

}  // namespace kernels
}  // namespace jepa

#endif  // JEPA_KERNELS_GEMM_HPP
