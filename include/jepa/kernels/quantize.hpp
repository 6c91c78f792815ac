// jepa/kernels/quantize.hpp: host-side weight conversion, used by
// jepa-convert --dtype and by the kernel tests: f32 -> f16 / bf16 / q8 / q4
// in the canonical (row_major) or panel layout, repacking of a canonical
// tensor into a panel layout, and error statistics for the converter's
// report. Pure functions over caller buffers; errors are Status values.
//
//   q8: per output row, scale = max|w| / 127, q = round_half_even(w / scale);
//       with format::kTensorQ7 in flags, / 63 instead (7-bit weights, the
//       range AVX2's u8 x s8 kernel multiplies without saturation).
//   q4: per row and 32-block along K, the element of largest magnitude m
//       maps to -8: scale = f16(m / -8), q = clamp(round(w / scale), -8, 7)
//       (the full signed range, as ggml's q4_0), scale stored as f16.
#ifndef JEPA_KERNELS_QUANTIZE_HPP
#define JEPA_KERNELS_QUANTIZE_HPP

#include <cmath>
#include <cstring>

#include "../status.hpp"
#include "gemm.hpp"
#include "ref/gemm-ref.hpp"
#include "ref/math.hpp"

namespace jepa {
namespace kernels {

// Bytes of an [n][k] weight in dtype/layout (params: layout_params, may be
// null for row_major).
inline Result<size_t> packed_bytes(format::DType dtype, format::Layout layout, int64_t n, int64_t k,
                                   const uint32_t* params = nullptr) {
  if (n <= 0 || k <= 0) return Status::error(Error::invalid_argument, "matrix %lldx%lld is empty",
                                             (long long)n, (long long)k);
  const uint64_t shape[2] = {(uint64_t)n, (uint64_t)k};
  uint64_t bytes = 0;
  if (!format::tensor_bytes(dtype, layout, shape, 2, &bytes, params))
    return Status::error(Error::unsupported, "%s in layout %s (params %u,%u) is not a valid combination",
                         format::dtype_name(dtype), format::layout_name(layout), params ? params[0] : 0,
                         params ? params[1] : 0);
  return (size_t)bytes;
}

namespace detail {

// Writes elements / integers / scales of one [n][k] matrix in either layout.
struct MatrixWriter {
  format::DType dtype = format::DType::f32;
  format::Layout layout = format::Layout::row_major;
  int64_t n = 0, k = 0;
  uint8_t* base = nullptr;
  format::PanelGeometry g;  // panel only

  size_t element_index(int64_t r, int64_t c) const {
    if (layout == format::Layout::row_major) return (size_t)(r * k + c);
    return kernels::ref::panel_index(g, (int32_t)r, (int32_t)c);
  }
  void put16(int64_t r, int64_t c, uint16_t bits) const { std::memcpy(base + 2 * element_index(r, c), &bits, 2); }
  void put32(int64_t r, int64_t c, float v) const { std::memcpy(base + 4 * element_index(r, c), &v, 4); }
  void put_q8(int64_t r, int64_t c, int v) const { base[element_index(r, c)] = (uint8_t)(int8_t)v; }
  // q4: v in [-8, 7]
  void put_q4(int64_t r, int64_t c, int v) const {
    const uint8_t nib = (uint8_t)(v + 8);
    size_t byte;
    bool hi;
    if (layout == format::Layout::row_major) {
      const int64_t kb = (k + 31) / 32, j = c % 32;
      byte = (size_t)((r * kb + c / 32) * 16 + (j & 15));
      hi = j >= 16;
    } else {
      const size_t p = (size_t)r / g.nr, rr = (size_t)r % g.nr, kb = g.kp / 32;
      const size_t b = (size_t)c / 32, j = (size_t)c % 32, jj = j % 16;
      byte = ((p * kb + b) * 4 + jj / 4) * g.nr * 4 + rr * 4 + jj % 4;
      hi = j >= 16;
    }
    base[byte] = hi ? (uint8_t)((base[byte] & 0x0F) | (nib << 4)) : (uint8_t)((base[byte] & 0xF0) | nib);
  }
  uint8_t* scales() const {
    if (layout == format::Layout::panel) return base + g.scale_offset;
    if (dtype == format::DType::q8) return base + (((size_t)(n * k) + 63) & ~(size_t)63);
    const size_t kb = (size_t)(k + 31) / 32;
    return base + (((size_t)n * kb * 16 + 63) & ~(size_t)63);
  }
  void put_row_scale(int64_t r, float s) const { std::memcpy(scales() + 4 * (size_t)r, &s, 4); }
  void put_row_sum(int64_t r, int32_t s) const {
    if (layout == format::Layout::panel) std::memcpy(base + g.sum_offset + 4 * (size_t)r, &s, 4);
  }
  void put_block_scale(int64_t r, int64_t b, uint16_t h) const {
    size_t idx;
    if (layout == format::Layout::panel) {
      const size_t kb = g.kp / 32;
      idx = ((size_t)r / g.nr * kb + (size_t)b) * g.nr + (size_t)r % g.nr;
    } else {
      idx = (size_t)(r * ((k + 31) / 32) + b);
    }
    std::memcpy(scales() + 2 * idx, &h, 2);
  }
  // q4 nibble bytes start as 0x88 (v = 0 in both halves): padding reads as 0.
  void clear() const {
    size_t bytes = packed_bytes(dtype, layout, n, k, layout == format::Layout::panel ? params_ : nullptr).value();
    std::memset(base, 0, bytes);
    if (dtype == format::DType::q4) {
      const size_t nib = layout == format::Layout::panel ? (size_t)g.data_bytes
                                                         : (size_t)n * (size_t)((k + 31) / 32) * 16;
      std::memset(base, 0x88, nib);
    }
  }
  const uint32_t* params_ = nullptr;
};

inline Status make_writer(format::DType dtype, format::Layout layout, int64_t n, int64_t k,
                          const uint32_t* params, void* dst, size_t dst_bytes, MatrixWriter* w) {
  Result<size_t> need = packed_bytes(dtype, layout, n, k, params);
  if (!need) return need.status();
  if (dst == nullptr || dst_bytes < need.value())
    return Status::error(Error::out_of_memory, "%s %s %lldx%lld needs %zu bytes, buffer has %zu",
                         format::dtype_name(dtype), format::layout_name(layout), (long long)n, (long long)k,
                         need.value(), dst_bytes);
  if (n > INT32_MAX || k > INT32_MAX)
    return Status::error(Error::invalid_argument, "matrix %lldx%lld too large", (long long)n, (long long)k);
  w->dtype = dtype;
  w->layout = layout;
  w->n = n;
  w->k = k;
  w->base = static_cast<uint8_t*>(dst);
  w->params_ = params;
  if (layout == format::Layout::panel)
    format::panel_geometry(dtype, (uint64_t)n, (uint64_t)k, params, &w->g);
  w->clear();
  return Status::ok();
}

inline float round_half_even(float v) { return std::nearbyint(v); }

}  // namespace detail

// f32 [n][k] (row stride k) -> dtype in layout. dst_bytes >= packed_bytes().
// Non-finite weights are rejected for q8/q4 (their scale would be garbage).
// flags: the TensorFlag bits the tensor will carry (kTensorQ7: q8 only).
inline Status quantize_matrix(const float* src, int64_t n, int64_t k, format::DType dtype,
                              format::Layout layout, const uint32_t* params, void* dst, size_t dst_bytes,
                              uint32_t flags = 0) {
  using format::DType;
  if ((flags & ~format::kKnownTensorFlags) || ((flags & format::kTensorQ7) && dtype != DType::q8))
    return Status::error(Error::invalid_argument, "flags 0x%x invalid for %s", flags, format::dtype_name(dtype));
  const float qmax = (flags & format::kTensorQ7) ? (float)format::kQ7Max : 127.0f;
  detail::MatrixWriter w;
  JEPA_RETURN_IF_ERROR(detail::make_writer(dtype, layout, n, k, params, dst, dst_bytes, &w));
  for (int64_t r = 0; r < n; ++r) {
    const float* row = src + r * k;
    if (format::dtype_quantized(dtype))
      for (int64_t c = 0; c < k; ++c)
        if (!std::isfinite(row[c]))
          return Status::error(Error::non_finite, "weight [%lld][%lld] is not finite; cannot quantize",
                               (long long)r, (long long)c);
    switch (dtype) {
      case DType::f32:
        for (int64_t c = 0; c < k; ++c) w.put32(r, c, row[c]);
        break;
      case DType::f16:
        for (int64_t c = 0; c < k; ++c) w.put16(r, c, ref::f32_to_f16(row[c]));
        break;
      case DType::bf16:
        for (int64_t c = 0; c < k; ++c) w.put16(r, c, ref::f32_to_bf16(row[c]));
        break;
      case DType::q8: {
        float amax = 0.0f;
        for (int64_t c = 0; c < k; ++c) amax = std::fmax(amax, std::fabs(row[c]));
        const float scale = amax / qmax;
        int32_t sum = 0;
        for (int64_t c = 0; c < k; ++c) {
          float q = scale > 0.0f ? detail::round_half_even(row[c] / scale) : 0.0f;
          q = std::fmin(qmax, std::fmax(-qmax, q));
          w.put_q8(r, c, (int)q);
          sum += (int)q;
        }
        w.put_row_scale(r, scale);
        w.put_row_sum(r, sum);
        break;
      }
      case DType::q4:
        for (int64_t b = 0; b * 32 < k; ++b) {
          float big = 0.0f;
          for (int64_t c = b * 32; c < k && c < b * 32 + 32; ++c)
            if (std::fabs(row[c]) > std::fabs(big)) big = row[c];
          const uint16_t h = ref::f32_to_f16(big / -8.0f);
          const float scale = ref::f16_to_f32(h);
          for (int64_t c = b * 32; c < k && c < b * 32 + 32; ++c) {
            float q = scale != 0.0f ? detail::round_half_even(row[c] / scale) : 0.0f;
            q = std::fmin(7.0f, std::fmax(-8.0f, q));
            w.put_q4(r, c, (int)q);
          }
          w.put_block_scale(r, b, h);
        }
        break;
      default:
        return Status::error(Error::unsupported, "cannot quantize to %s", format::dtype_name(dtype));
    }
  }
  return Status::ok();
}

// Re-lays a matrix (any dtype, canonical or panel) into `layout`/params, same
// dtype, values bit for bit (e.g. a row_major q8 file -> panels at bind time).
inline Status repack_matrix(const WeightMatrix& src, format::Layout layout, const uint32_t* params, void* dst,
                            size_t dst_bytes) {
  using format::DType;
  detail::MatrixWriter w;
  JEPA_RETURN_IF_ERROR(detail::make_writer(src.dtype, layout, src.n, src.k, params, dst, dst_bytes, &w));
  const uint8_t* base = static_cast<const uint8_t*>(src.data);
  const format::PanelGeometry sg = src.layout == format::Layout::panel ? ref::geometry(src) : format::PanelGeometry{};
  auto src_index = [&](int32_t r, int32_t c) {
    return src.layout == format::Layout::panel ? ref::panel_index(sg, r, c) : (size_t)r * (size_t)src.k + (size_t)c;
  };
  for (int32_t r = 0; r < src.n; ++r) {
    int32_t sum = 0;
    for (int32_t c = 0; c < src.k; ++c) {
      switch (src.dtype) {
        case DType::f32: {
          float v;
          std::memcpy(&v, base + 4 * src_index(r, c), 4);
          w.put32(r, c, v);
          break;
        }
        case DType::f16: case DType::bf16: {
          uint16_t h;
          std::memcpy(&h, base + 2 * src_index(r, c), 2);
          w.put16(r, c, h);
          break;
        }
        case DType::q8: {
          const int v = ref::q_value(src, r, c);
          w.put_q8(r, c, v);
          sum += v;
          break;
        }
        case DType::q4:
          w.put_q4(r, c, ref::q_value(src, r, c));
          break;
        default:
          return Status::error(Error::unsupported, "cannot repack %s", format::dtype_name(src.dtype));
      }
    }
    if (src.dtype == DType::q8) {
      w.put_row_scale(r, ref::q_scale(src, r, 0));
      w.put_row_sum(r, sum);
    }
    if (src.dtype == DType::q4)
      for (int32_t b = 0; b * 32 < src.k; ++b) w.put_block_scale(r, b, ref::f32_to_f16(ref::q_scale(src, r, b * 32)));
  }
  return Status::ok();
}

// Error of a converted matrix against the f32 original, for the converter's
// report: max |w - w'|, ||w - w'|| / ||w||, cosine(w, w').
struct QuantError {
  double max_abs = 0.0;
  double rel_l2 = 0.0;
  double cosine = 1.0;
};

inline QuantError quant_error(const float* original, const WeightMatrix& converted) {
  QuantError e;
  double d2 = 0, o2 = 0, c2 = 0, oc = 0;
  for (int32_t r = 0; r < converted.n; ++r)
    for (int32_t c = 0; c < converted.k; ++c) {
      const double o = original[(size_t)r * (size_t)converted.k + (size_t)c];
      const double v = ref::weight_at(converted, r, c);
      const double d = std::fabs(o - v);
      e.max_abs = d > e.max_abs ? d : e.max_abs;
      d2 += d * d;
      o2 += o * o;
      c2 += v * v;
      oc += o * v;
    }
  e.rel_l2 = o2 > 0 ? std::sqrt(d2 / o2) : std::sqrt(d2);
  e.cosine = (o2 > 0 && c2 > 0) ? oc / std::sqrt(o2 * c2) : (o2 == c2 ? 1.0 : 0.0);
  return e;
}

// A WeightMatrix view of converted bytes.
inline WeightMatrix weight_view(format::DType dtype, format::Layout layout, const uint32_t* params, int32_t n,
                                int32_t k, const void* data, uint32_t flags = 0) {
  WeightMatrix w;
  w.flags = flags;
  w.dtype = dtype;
  w.layout = layout;
  w.n = n;
  w.k = k;
  w.data = data;
  if (params) std::memcpy(w.params, params, sizeof w.params);
  return w;
}

}  // namespace kernels
}  // namespace jepa

#endif  // JEPA_KERNELS_QUANTIZE_HPP
