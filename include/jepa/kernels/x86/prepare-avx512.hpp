// jepa/kernels/x86/prepare-avx512.hpp: prepare_rows__avx512, the AVX-512
// version of the activation preparation in ref/prepare-ref.hpp (per-row int8
// quantization for the integer GEMMs): 16 floats a step with masked tails, and
// the u8 form's + 128 applied as the bytes are stored (no second pass over
// the row). Same operations as the reference and prepare_rows__avx2 (max |x|,
// one division 127 / amax, one multiply per element, round half to even by
// cvtps2dq under the default MXCSR; the reference's clamp, which cannot act
// here), so the bytes are identical; the tests check that. bf16 rows use the
// reference.
#ifndef JEPA_KERNELS_X86_PREPARE_AVX512_HPP
#define JEPA_KERNELS_X86_PREPARE_AVX512_HPP

#include <cmath>
#include <cstring>

#include "../ref/prepare-ref.hpp"
#include "common-x86.hpp"
#include "prepare-avx2.hpp"

#if defined(JEPA_KERNELS_X86_AVX512) && defined(JEPA_HAVE_PREPARE_AVX2)
#define JEPA_HAVE_PREPARE_AVX512 1
namespace jepa {
namespace kernels {
namespace x86 {

// One row of k values into q as (int8 value) ^ flip (flip 0x80: u8 = q + 128);
// returns the scale. A row with NaN or Inf gets value 0 everywhere and a NaN scale.
// max |x| is taken on the bit patterns: non-negative floats order as
// integers, and NaN and Inf sort above every finite value, so one integer max
// a vector also finds them.
JEPA_TARGET_AVX512 inline float quantize_row_avx512(const float* x, int32_t k, uint8_t* q, uint8_t flip) {
  const __m512i abs_bits = _mm512_set1_epi32(0x7FFFFFFF);
  __m512i vmax = _mm512_setzero_si512();
  for (int32_t i = 0; i < k; i += 16) {
    const __m512i a = _mm512_castps_si512(_mm512_maskz_loadu_ps(tail_mask16(k - i), x + i));
    vmax = _mm512_max_epu32(vmax, _mm512_and_si512(a, abs_bits));
  }
  alignas(64) uint32_t lanes[16];
  _mm512_store_si512(lanes, vmax);
  uint32_t bits = 0;
  for (int j = 0; j < 16; ++j) bits = lanes[j] > bits ? lanes[j] : bits;
  if (bits > 0x7F7FFFFFu) {  // NaN or Inf
    std::memset(q, flip, (size_t)k);
    return std::nanf("");
  }
  float amax;
  std::memcpy(&amax, &bits, 4);
  const __m512 vinv = _mm512_set1_ps(quantize_multiplier(amax));
  const __m128i vflip = _mm_set1_epi8((char)flip);
  for (int32_t i = 0; i < k; i += 16) {
    const __mmask16 live = tail_mask16(k - i);
    // |x| <= amax and the multiplier is finite, so |x * inv| <= 127 (1 + 2^-23)
    // < 127.5: the reference's clamp to +-127 cannot act, and the saturating
    // narrow is exact (and SIMDe has it).
    const __m512 s = _mm512_mul_ps(_mm512_maskz_loadu_ps(live, x + i), vinv);
    const __m128i b = _mm_xor_si128(_mm512_cvtsepi32_epi8(_mm512_cvtps_epi32(s)), vflip);
    if (live == 0xFFFF) {
      _mm_storeu_si128(reinterpret_cast<__m128i*>(q + i), b);
    } else {  // the tail: never write past q + k
      alignas(16) uint8_t tail[16];
      _mm_store_si128(reinterpret_cast<__m128i*>(tail), b);
      std::memcpy(q + i, tail, (size_t)(k - i));
    }
  }
  return amax / 127.0f;
}

JEPA_TARGET_AVX512 inline void prepare_rows__avx512(ActFormat f, const float* x, size_t ldx, int32_t m, int32_t k,
                                                    int32_t r0, int32_t r1, void* scratch) {
  if (f == ActFormat::bf16 || f == ActFormat::f32) {
    ref::prepare_rows__ref(f, x, ldx, m, k, r0, r1, scratch);
    return;
  }
  const PreparedX p = prepared_view(f, m, k, scratch);
  const uint8_t flip = f == ActFormat::u8 ? 0x80 : 0x00;
  uint8_t* data = static_cast<uint8_t*>(scratch);
  for (int32_t r = r0; r < r1; ++r) {
    uint8_t* row = data + (size_t)r * p.ld;
    std::memset(row + k, flip, p.ld - (size_t)k);  // padding: value 0
    const_cast<float*>(p.scale)[r] = quantize_row_avx512(x + (size_t)r * ldx, k, row, flip);
    if (f == ActFormat::s8_sums)
      block_sums_s8_avx2(reinterpret_cast<const int8_t*>(row), p.ld_sums,
                         const_cast<int32_t*>(p.sums) + (size_t)r * p.ld_sums);
  }
}

}  // namespace x86
}  // namespace kernels
}  // namespace jepa
#endif  // JEPA_KERNELS_X86_AVX512 && JEPA_HAVE_PREPARE_AVX2

#endif  // JEPA_KERNELS_X86_PREPARE_AVX512_HPP
