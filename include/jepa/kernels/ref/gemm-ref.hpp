// jepa/kernels/ref/gemm-ref.hpp: the scalar reference GEMM, the truth every
// SIMD GEMM is tested against. Plain loops, written for clarity: it reads the
// canonical (row_major) layout of every weight dtype in format.hpp.
#ifndef JEPA_KERNELS_REF_GEMM_REF_HPP
#define JEPA_KERNELS_REF_GEMM_REF_HPP

#include <cstring>

#include "../gemm.hpp"
#include "math.hpp"

namespace jepa {
namespace kernels {
namespace ref {

// Dequantised weight W[n][k] of a canonical-layout matrix.
inline float weight_at(const WeightMatrix& w, int32_t n, int32_t k) {
  using format::DType;
  const uint8_t* base = static_cast<const uint8_t*>(w.data);
  const size_t row = (size_t)n * (size_t)w.k + (size_t)k;
  switch (w.dtype) {
    case DType::f32: {
      float v;
      std::memcpy(&v, base + 4 * row, 4);
      return v;
    }
    case DType::f16: {
      uint16_t h;
      std::memcpy(&h, base + 2 * row, 2);
      return f16_to_f32(h);
    }
    case DType::bf16: {
      uint16_t h;
      std::memcpy(&h, base + 2 * row, 2);
      return bf16_to_f32(h);
    }
    case DType::q8: {
      const size_t qbytes = ((size_t)w.n * (size_t)w.k + 63) & ~(size_t)63;
      float scale;
      std::memcpy(&scale, base + qbytes + 4 * (size_t)n, 4);
      return (float)(int8_t)base[row] * scale;
    }
    case DType::q4: {
      const size_t kb = ((size_t)w.k + format::kQ4Block - 1) / format::kQ4Block;
      const size_t block = (size_t)n * kb + (size_t)k / format::kQ4Block;
      const size_t j = (size_t)k % format::kQ4Block;
      const uint8_t byte = base[block * 16 + (j & 15)];
      const int v = (int)(j < 16 ? (byte & 0x0F) : (byte >> 4)) - 8;
      const size_t nib = ((size_t)w.n * kb * 16 + 63) & ~(size_t)63;
      uint16_t h;
      std::memcpy(&h, base + nib + 2 * block, 2);
      return (float)v * f16_to_f32(h);
    }
    default:
      return 0.0f;
  }
}

inline void gemm__ref(const GemmArgs& a) {
  const WeightMatrix& w = *a.w;
  for (int32_t m = 0; m < a.m; ++m) {
    const float* x = a.x + (size_t)m * a.ldx;
    float* y = a.y + (size_t)m * a.ldy;
    const float* r = a.residual ? a.residual + (size_t)m * a.ldr : nullptr;
    for (int32_t n = 0; n < w.n; ++n) {
      float acc = 0.0f;
      for (int32_t k = 0; k < w.k; ++k) acc += x[k] * weight_at(w, n, k);
      if (a.bias) acc += a.bias[n];
      if (a.epilogue == Epilogue::gelu) acc = gelu(acc);
      if (r) acc += r[n];
      y[n] = acc;
    }
  }
}

}  // namespace ref
}  // namespace kernels
}  // namespace jepa

#endif  // JEPA_KERNELS_REF_GEMM_REF_HPP
