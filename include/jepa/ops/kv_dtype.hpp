// jepa/ops/kv_dtype.hpp: how cached keys and values are stored (a KV cache,
// a planner's shared context) and the scalar codec between that storage and
// f32, the truth the attention op's block loads are tested against.
//   f32  bit-exact, 4 bytes per element;
//   f16  IEEE half, round to nearest even (relative error <= 2^-11), 2 bytes;
//   q8   symmetric int8 with one f32 scale per (row, head): scale =
//        max|x| / 127 over the head's head_dim values, q = round(x / scale),
//        1 byte + 4/head_dim. Per head, not per row: heads differ in
//        magnitude, and the scale then stays local to the dot products it
//        serves.
// Values are stored at the same element offsets as the f32 layout they
// replace (row j, head h at j*ld + h*head_dim); q8 scales live in a separate
// [rows][heads] array.
#ifndef JEPA_OPS_KV_DTYPE_HPP
#define JEPA_OPS_KV_DTYPE_HPP

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "../kernels/ref/math.hpp"

namespace jepa {
namespace ops {

enum class KvDtype : uint8_t { f32 = 0, f16 = 1, q8 = 2 };

inline size_t kv_elem_bytes(KvDtype d) { return d == KvDtype::f32 ? 4 : d == KvDtype::f16 ? 2 : 1; }

inline const char* kv_dtype_name(KvDtype d) {
  return d == KvDtype::f32 ? "f32" : d == KvDtype::f16 ? "f16" : "q8";
}

// Parses "f32" / "f16" / "q8" (tools, benchmarks); false if none.
inline bool kv_dtype_from_name(const char* s, KvDtype* out) {
  for (KvDtype d : {KvDtype::f32, KvDtype::f16, KvDtype::q8})
    if (std::strcmp(s, kv_dtype_name(d)) == 0) {
      *out = d;
      return true;
    }
  return false;
}

// One head's values: q8 scale for x[0, hd).
inline float kv_q8_scale(const float* x, int64_t hd) {
  float amax = 0.0f;
  for (int64_t i = 0; i < hd; ++i) amax = std::fmax(amax, std::fabs(x[i]));
  return amax > 0.0f ? amax / 127.0f : 1.0f;
}

// Stores one row of heads*hd floats as dtype at element 0 of dst (scales:
// [heads], q8 only).
inline void kv_encode_row(KvDtype d, const float* x, int64_t heads, int64_t hd, void* dst, float* scales) {
  const int64_t n = heads * hd;
  if (d == KvDtype::f32) {
    std::memcpy(dst, x, (size_t)n * 4);
  } else if (d == KvDtype::f16) {
    uint16_t* o = static_cast<uint16_t*>(dst);
    for (int64_t i = 0; i < n; ++i) o[i] = kernels::ref::f32_to_f16(x[i]);
  } else {
    int8_t* o = static_cast<int8_t*>(dst);
    for (int64_t h = 0; h < heads; ++h) {
      const float* xh = x + h * hd;
      const float scale = kv_q8_scale(xh, hd);
      const float inv = 1.0f / scale;
      for (int64_t i = 0; i < hd; ++i) {
        float q = std::nearbyint(xh[i] * inv);
        q = q > 127.0f ? 127.0f : (q < -127.0f ? -127.0f : q);
        o[h * hd + i] = (int8_t)q;
      }
      scales[h] = scale;
    }
  }
}

// The reverse for `rows` rows of one head: src points at (row 0, head h)
// element, rows ld elements apart (scale of row j at scales[j * ld_scale]);
// writes rows x hd floats, ld_dst apart.
inline void kv_decode_head_rows(KvDtype d, const void* src, size_t ld, const float* scales, size_t ld_scale,
                                int32_t rows, int32_t hd, float* dst, size_t ld_dst) {
  for (int32_t j = 0; j < rows; ++j) {
    float* o = dst + (size_t)j * ld_dst;
    if (d == KvDtype::f32) {
      const float* x = static_cast<const float*>(src) + (size_t)j * ld;
      for (int32_t i = 0; i < hd; ++i) o[i] = x[i];
    } else if (d == KvDtype::f16) {
      const uint16_t* x = static_cast<const uint16_t*>(src) + (size_t)j * ld;
      for (int32_t i = 0; i < hd; ++i) o[i] = kernels::ref::f16_to_f32(x[i]);
    } else {
      const int8_t* x = static_cast<const int8_t*>(src) + (size_t)j * ld;
      const float s = scales[(size_t)j * ld_scale];
      for (int32_t i = 0; i < hd; ++i) o[i] = (float)x[i] * s;
    }
  }
}

}  // namespace ops
}  // namespace jepa

#endif  // JEPA_OPS_KV_DTYPE_HPP
