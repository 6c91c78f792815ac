// jepa/kernels/ref/gemm-ref.hpp: the scalar reference GEMMs, the truth every
// SIMD GEMM is tested against. Plain loops, written for clarity: they read
// the canonical (row_major) and the panel layout of every weight dtype in
// format.hpp.
//   gemm__ref          float activations (the model's math; any weight dtype)
//   gemm_prepared__ref activations in a kernel's PreparedX form: the exact
//                      arithmetic of the int8 / bf16 kernels (integer dot
//                      products, then the float epilogue below), so integer
//                      kernels must match it bit for bit before the epilogue.
#ifndef JEPA_KERNELS_REF_GEMM_REF_HPP
#define JEPA_KERNELS_REF_GEMM_REF_HPP

#include <cmath>
#include <cstring>

#include "../gemm.hpp"
#include "math.hpp"
#include "prepare-ref.hpp"

namespace jepa {
namespace kernels {
namespace ref {

// Byte offset of element (n, k) inside a panel-packed tensor's data part,
// in units of elements (f32/f16/bf16/q8); q4 is handled by q4_panel_nibble.
inline size_t panel_index(const format::PanelGeometry& g, int32_t n, int32_t k) {
  const size_t p = (size_t)n / g.nr, r = (size_t)n % g.nr;
  return ((p * (g.kp / g.kr) + (size_t)k / g.kr) * g.nr + r) * g.kr + (size_t)k % g.kr;
}

inline format::PanelGeometry geometry(const WeightMatrix& w) {
  format::PanelGeometry g;
  format::panel_geometry(w.dtype, (uint64_t)w.n, (uint64_t)w.k, w.params, &g);
  return g;
}

// q4 value v in [-8, 7] (without the +8) of a panel-packed matrix.
inline int q4_panel_value(const WeightMatrix& w, const format::PanelGeometry& g, int32_t n, int32_t k) {
  const uint8_t* base = static_cast<const uint8_t*>(w.data);
  const size_t p = (size_t)n / g.nr, r = (size_t)n % g.nr, kb = g.kp / format::kQ4Block;
  const size_t b = (size_t)k / 32, j = (size_t)k % 32, hi = j >= 16, jj = j % 16;
  const uint8_t byte = base[((p * kb + b) * 4 + jj / 4) * g.nr * 4 + r * 4 + jj % 4];
  return (int)(hi ? byte >> 4 : byte & 0x0F) - 8;
}

// Scale of a q8 row or of a q4 (row, 32-block), in either layout.
inline float q_scale(const WeightMatrix& w, int32_t n, int32_t k) {
  const uint8_t* base = static_cast<const uint8_t*>(w.data);
  if (w.layout == format::Layout::panel) {
    const format::PanelGeometry g = geometry(w);
    if (w.dtype == format::DType::q8) {
      float s;
      std::memcpy(&s, base + g.scale_offset + 4 * (size_t)n, 4);
      return s;
    }
    const size_t p = (size_t)n / g.nr, r = (size_t)n % g.nr, kb = g.kp / format::kQ4Block;
    uint16_t h;
    std::memcpy(&h, base + g.scale_offset + 2 * ((p * kb + (size_t)k / 32) * g.nr + r), 2);
    return f16_to_f32(h);
  }
  if (w.dtype == format::DType::q8) {
    const size_t qbytes = ((size_t)w.n * (size_t)w.k + 63) & ~(size_t)63;
    float s;
    std::memcpy(&s, base + qbytes + 4 * (size_t)n, 4);
    return s;
  }
  const size_t kb = ((size_t)w.k + format::kQ4Block - 1) / format::kQ4Block;
  const size_t nib = ((size_t)w.n * kb * 16 + 63) & ~(size_t)63;
  uint16_t h;
  std::memcpy(&h, base + nib + 2 * ((size_t)n * kb + (size_t)k / format::kQ4Block), 2);
  return f16_to_f32(h);
}

// Integer weight of a q8 / q4 matrix (q4: v in [-8, 7]), either layout.
inline int32_t q_value(const WeightMatrix& w, int32_t n, int32_t k) {
  const uint8_t* base = static_cast<const uint8_t*>(w.data);
  if (w.layout == format::Layout::panel) {
    const format::PanelGeometry g = geometry(w);
    if (w.dtype == format::DType::q8) return (int8_t)base[panel_index(g, n, k)];
    return q4_panel_value(w, g, n, k);
  }
  if (w.dtype == format::DType::q8) return (int8_t)base[(size_t)n * (size_t)w.k + (size_t)k];
  const size_t kb = ((size_t)w.k + format::kQ4Block - 1) / format::kQ4Block;
  const size_t block = (size_t)n * kb + (size_t)k / format::kQ4Block;
  const size_t j = (size_t)k % format::kQ4Block;
  const uint8_t byte = base[block * 16 + (j & 15)];
  return (int32_t)(j < 16 ? (byte & 0x0F) : (byte >> 4)) - 8;
}

// Dequantised weight W[n][k] of a matrix in any layout.
inline float weight_at(const WeightMatrix& w, int32_t n, int32_t k) {
  using format::DType;
  const uint8_t* base = static_cast<const uint8_t*>(w.data);
  if (format::dtype_quantized(w.dtype)) return (float)q_value(w, n, k) * q_scale(w, n, k);
  size_t idx = (size_t)n * (size_t)w.k + (size_t)k;
  if (w.layout == format::Layout::panel) idx = panel_index(geometry(w), n, k);
  switch (w.dtype) {
    case DType::f32: {
      float v;
      std::memcpy(&v, base + 4 * idx, 4);
      return v;
    }
    case DType::f16: {
      uint16_t h;
      std::memcpy(&h, base + 2 * idx, 2);
      return f16_to_f32(h);
    }
    case DType::bf16: {
      uint16_t h;
      std::memcpy(&h, base + 2 * idx, 2);
      return bf16_to_f32(h);
    }
    default:
      return 0.0f;
  }
}

// The epilogue every kernel applies to a finished accumulator, in this order.
inline float finish(float acc, const GemmArgs& a, int32_t m, int32_t n) {
  if (a.bias) acc += a.bias[n];
  if (a.epilogue == Epilogue::gelu) acc = gelu(acc);
  if (a.residual) acc += a.residual[(size_t)m * a.ldr + (size_t)n];
  return acc;
}

inline void gemm__ref(const GemmArgs& a) {
  const WeightMatrix& w = *a.w;
  for (int32_t m = 0; m < a.m; ++m) {
    const float* x = a.x + (size_t)m * a.ldx;
    for (int32_t n = a.n0; n < a.n_end(); ++n) {
      float acc = 0.0f;
      for (int32_t k = 0; k < w.k; ++k) acc += x[k] * weight_at(w, n, k);
      a.y[(size_t)m * a.ldy + (size_t)n] = finish(acc, a, m, n);
    }
  }
}

// Integer kernels' pre-epilogue value (bias folded with one fma, as the SIMD
// code does):
//   q8: fma((float) sum_k qx*qw, scale_x[m] * scale_w[n], bias[n])
//   q4: acc = 0; per 32-block b: acc = fma((float) sum_{k in b} qx*v, s[n][b], acc);
//       then fma(acc, scale_x[m], bias[n])
//   bf16 activations: plain float sum of bf16(x) * w, plus bias.
inline float prepared_dot(const GemmArgs& a, int32_t m, int32_t n) {
  const WeightMatrix& w = *a.w;
  const PreparedX& p = *a.xp;
  const float bias = a.bias ? a.bias[n] : 0.0f;
  if (p.format == ActFormat::bf16) {
    float acc = 0.0f;
    for (int32_t k = 0; k < w.k; ++k) acc += prepared_bf16(p, m, k) * weight_at(w, n, k);
    return acc + bias;
  }
  if (w.dtype == format::DType::q8) {
    int32_t acc = 0;
    for (int32_t k = 0; k < w.k; ++k) acc += prepared_int(p, m, k) * q_value(w, n, k);
    return std::fma((float)acc, p.scale[m] * q_scale(w, n, 0), bias);
  }
  float acc = 0.0f;  // q4
  for (int32_t b = 0; b * 32 < w.k; ++b) {
    int32_t dot = 0;
    for (int32_t k = b * 32; k < w.k && k < b * 32 + 32; ++k) dot += prepared_int(p, m, k) * q_value(w, n, k);
    acc = std::fma((float)dot, q_scale(w, n, b * 32), acc);
  }
  return std::fma(acc, p.scale[m], bias);
}

inline void gemm_prepared__ref(const GemmArgs& a) {
  for (int32_t m = 0; m < a.m; ++m)
    for (int32_t n = a.n0; n < a.n_end(); ++n) {
      float v = prepared_dot(a, m, n);
      if (a.epilogue == Epilogue::gelu) v = gelu(v);
      if (a.residual) v += a.residual[(size_t)m * a.ldr + (size_t)n];
      a.y[(size_t)m * a.ldy + (size_t)n] = v;
    }
}

}  // namespace ref
}  // namespace kernels
}  // namespace jepa

#endif  // JEPA_KERNELS_REF_GEMM_REF_HPP
