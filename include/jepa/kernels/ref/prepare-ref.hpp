// jepa/kernels/ref/prepare-ref.hpp: the scalar reference of activation
// preparation (PreparedX in gemm.hpp), the truth the SIMD prepare passes are
// tested against bit for bit.
//
// Integer GEMMs quantize each activation row on the fly, symmetric int8 with
// one scale per row: amax = max |x[k]|, q[k] = round_half_even(x[k] * (127 /
// amax)) clamped to [-127, 127], scale = amax / 127. The rule is written with
// single float operations in this order so every ISA reproduces it exactly.
// A row with a NaN/Inf gets scale NaN (its outputs become NaN, not garbage).
// A row whose amax is so small (below ~3.7e-37) that 127 / amax overflows
// quantizes to zeros (quantize_multiplier): x * inf would round to +-127, and
// 0 * inf is NaN, which no integer conversion defines.
#ifndef JEPA_KERNELS_REF_PREPARE_REF_HPP
#define JEPA_KERNELS_REF_PREPARE_REF_HPP

#include <cmath>
#include <cstring>

#include "../gemm.hpp"
#include "math.hpp"

namespace jepa {
namespace kernels {

// Bytes per prepared row: K padded to a multiple of 64 elements' bytes.
inline size_t prepared_row_bytes(ActFormat f, int32_t k) {
  const size_t elems = ((size_t)k + 63) & ~(size_t)63;
  return f == ActFormat::bf16 ? 2 * elems : elems;
}

// Scratch bytes a kernel with ActFormat f needs for m rows of k (0 for f32).
// Layout inside the scratch: rows at offset 0, then scales, then sums, each
// 64-aligned; the scratch itself must be 64-byte aligned.
inline size_t prepared_bytes(ActFormat f, int32_t m, int32_t k) {
  if (f == ActFormat::f32 || m <= 0) return 0;
  const size_t rows = (size_t)m * prepared_row_bytes(f, k);
  const size_t scales = (f == ActFormat::bf16) ? 0 : (((size_t)m * 4 + 63) & ~(size_t)63);
  const size_t sums = (f == ActFormat::s8_sums)
                          ? (((size_t)m * (prepared_row_bytes(f, k) / 32) * 4 + 63) & ~(size_t)63)
                          : 0;
  return rows + scales + sums;
}

// Points p at the parts of a scratch buffer laid out as prepared_bytes says.
inline PreparedX prepared_view(ActFormat f, int32_t m, int32_t k, void* scratch) {
  PreparedX p;
  p.format = f;
  if (f == ActFormat::f32) return p;
  uint8_t* base = static_cast<uint8_t*>(scratch);
  p.ld = prepared_row_bytes(f, k);
  p.data = base;
  const size_t rows = (size_t)m * p.ld;
  if (f != ActFormat::bf16) p.scale = reinterpret_cast<const float*>(base + rows);
  if (f == ActFormat::s8_sums) {
    p.ld_sums = p.ld / 32;
    p.sums = reinterpret_cast<const int32_t*>(base + rows + (((size_t)m * 4 + 63) & ~(size_t)63));
  }
  return p;
}

// 127 / amax, the multiplier of a row's quantization; 0 for amax 0 and where
// 127 / amax overflows (the rule above). Every ISA's prepare pass uses it.
inline float quantize_multiplier(float amax) {
  const float inv = amax > 0.0f ? 127.0f / amax : 0.0f;
  return inv <= 3.4028234663852886e38f ? inv : 0.0f;
}

namespace ref {

// Quantization of one row by the rule above; returns the scale.
inline float quantize_row_s8(const float* x, int32_t k, int8_t* q) {
  float amax = 0.0f;
  bool finite = true;
  for (int32_t i = 0; i < k; ++i) {
    const float a = std::fabs(x[i]);
    if (!(a <= 3.4028234663852886e38f)) finite = false;  // NaN or Inf
    amax = a > amax ? a : amax;
  }
  if (!finite) {
    for (int32_t i = 0; i < k; ++i) q[i] = 0;
    return std::nanf("");
  }
  const float inv = quantize_multiplier(amax);
  for (int32_t i = 0; i < k; ++i) {
    float v = std::nearbyint(x[i] * inv);  // default rounding: half to even
    v = v > 127.0f ? 127.0f : (v < -127.0f ? -127.0f : v);
    q[i] = (int8_t)v;
  }
  return amax / 127.0f;
}

// Writes rows [r0, r1) of the prepared form of x into scratch (viewed with
// prepared_view(f, m, k, scratch)). Rows are independent, so the work can be
// split over threads by row.
inline void prepare_rows__ref(ActFormat f, const float* x, size_t ldx, int32_t m, int32_t k,
                              int32_t r0, int32_t r1, void* scratch) {
  const PreparedX p = prepared_view(f, m, k, scratch);
  uint8_t* data = static_cast<uint8_t*>(scratch);
  for (int32_t r = r0; r < r1; ++r) {
    const float* xr = x + (size_t)r * ldx;
    uint8_t* row = data + (size_t)r * p.ld;
    std::memset(row, 0, p.ld);
    if (f == ActFormat::bf16) {
      for (int32_t i = 0; i < k; ++i) {
        const uint16_t h = f32_to_bf16(xr[i]);
        std::memcpy(row + 2 * (size_t)i, &h, 2);
      }
      continue;
    }
    int8_t* q = reinterpret_cast<int8_t*>(row);
    const_cast<float*>(p.scale)[r] = quantize_row_s8(xr, k, q);
    if (f == ActFormat::s8_sums) {
      int32_t* sums = const_cast<int32_t*>(p.sums) + (size_t)r * p.ld_sums;
      for (size_t b = 0; b < p.ld_sums; ++b) {
        int32_t s = 0;
        for (size_t j = 0; j < 32; ++j) s += q[b * 32 + j];
        sums[b] = s;
      }
    }
    if (f == ActFormat::u8)
      for (size_t i = 0; i < p.ld; ++i) row[i] = (uint8_t)(q[i] + 128);
  }
}

// The integer value of prepared activation (m, k) (u8 undoes the +128).
inline int32_t prepared_int(const PreparedX& p, int32_t m, int32_t k) {
  const uint8_t* row = static_cast<const uint8_t*>(p.data) + (size_t)m * p.ld;
  if (p.format == ActFormat::u8) return (int32_t)row[k] - 128;
  return (int32_t)(int8_t)row[k];
}

inline float prepared_bf16(const PreparedX& p, int32_t m, int32_t k) {
  uint16_t h;
  std::memcpy(&h, static_cast<const uint8_t*>(p.data) + (size_t)m * p.ld + 2 * (size_t)k, 2);
  return bf16_to_f32(h);
}

}  // namespace ref
}  // namespace kernels
}  // namespace jepa

#endif  // JEPA_KERNELS_REF_PREPARE_REF_HPP
