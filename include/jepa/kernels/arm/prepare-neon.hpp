// jepa/kernels/arm/prepare-neon.hpp: prepare_rows__neon, the AArch64 NEON
// version of the activation preparation in ref/prepare-ref.hpp (per-row int8
// quantization for the integer GEMMs, bf16 rounding for bf16-dot kernels). The
// same operations in the same order (max |x|, one division 127 / amax, one
// multiply per element, round half to even by FCVTNS, clamp; bf16 by integer
// round-to-nearest-even on the bits), so the bytes are identical to the
// reference and to the x86 pass; tests/kernels/test_arm_prepare.cpp checks it.
#ifndef JEPA_KERNELS_ARM_PREPARE_NEON_HPP
#define JEPA_KERNELS_ARM_PREPARE_NEON_HPP

#include "../ref/prepare-ref.hpp"
#include "neon-int8-common.hpp"

#if defined(JEPA_KERNELS_ARM_NEON)
#define JEPA_HAVE_PREPARE_NEON 1
namespace jepa {
namespace kernels {
namespace arm {

// ref::f32_to_bf16 on 4 lanes: NaN -> (bits >> 16) | 0x40 (quiet), else
// bits + 0x7FFF + lsb(bits >> 16), >> 16 (round to nearest even; overflow to inf).
inline uint16x4_t f32_to_bf16_neon(float32x4_t v) {
  const uint32x4_t bits = vreinterpretq_u32_f32(v);
  const uint32x4_t lsb = vandq_u32(vshrq_n_u32(bits, 16), vdupq_n_u32(1));
  const uint32x4_t rounded = vshrq_n_u32(vaddq_u32(vaddq_u32(bits, vdupq_n_u32(0x7FFFu)), lsb), 16);
  const uint32x4_t quiet = vorrq_u32(vshrq_n_u32(bits, 16), vdupq_n_u32(0x40u));
  const uint32x4_t is_nan = vcgtq_u32(vandq_u32(bits, vdupq_n_u32(0x7FFFFFFFu)), vdupq_n_u32(0x7F800000u));
  return vmovn_u32(vbslq_u32(is_nan, quiet, rounded));
}

inline void bf16_row_neon(const float* x, int32_t k, uint16_t* out) {
  int32_t i = 0;
  for (; i + 4 <= k; i += 4) vst1_u16(out + i, f32_to_bf16_neon(vld1q_f32(x + i)));
  for (; i < k; ++i) out[i] = ref::f32_to_bf16(x[i]);
}

// Rows [r0, r1) of x in format f into scratch (prepared_view(f, m, k, scratch)).
inline void prepare_rows__neon(ActFormat f, const float* x, size_t ldx, int32_t m, int32_t k, int32_t r0,
                               int32_t r1, void* scratch) {
  if (f == ActFormat::f32) return;
  const PreparedX p = prepared_view(f, m, k, scratch);
  uint8_t* data = static_cast<uint8_t*>(scratch);
  for (int32_t r = r0; r < r1; ++r) {
    uint8_t* row = data + (size_t)r * p.ld;
    const float* xr = x + (size_t)r * ldx;
    if (f == ActFormat::bf16) {
      std::memset(row + 2 * (size_t)k, 0, p.ld - 2 * (size_t)k);
      bf16_row_neon(xr, k, reinterpret_cast<uint16_t*>(row));
      continue;
    }
    int8_t* q = reinterpret_cast<int8_t*>(row);
    std::memset(row + k, 0, p.ld - (size_t)k);
    const_cast<float*>(p.scale)[r] = quantize_row_s8_neon(xr, k, q);
    if (f == ActFormat::s8_sums) {  // sum of q over each 32-block (rows are zero-padded)
      int32_t* sums = const_cast<int32_t*>(p.sums) + (size_t)r * p.ld_sums;
      for (size_t b = 0; b < p.ld_sums; ++b) {
        const int16x8_t s = vaddq_s16(vpaddlq_s8(vld1q_s8(q + 32 * b)), vpaddlq_s8(vld1q_s8(q + 32 * b + 16)));
        sums[b] = vaddlvq_s16(s);
      }
    }
    if (f == ActFormat::u8)  // q + 128 (mod 256), padding included
      for (size_t i = 0; i < p.ld; i += 16) vst1q_u8(row + i, veorq_u8(vld1q_u8(row + i), vdupq_n_u8(0x80)));
  }
}

}  // namespace arm
}  // namespace kernels
}  // namespace jepa
#endif  // JEPA_KERNELS_ARM_NEON

#endif  // JEPA_KERNELS_ARM_PREPARE_NEON_HPP
