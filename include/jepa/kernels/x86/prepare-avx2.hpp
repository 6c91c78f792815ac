// jepa/kernels/x86/prepare-avx2.hpp: prepare_rows__avx2, the AVX2 version of
// the activation preparation in ref/prepare-ref.hpp (per-row int8
// quantization for the integer GEMMs). Same operations in the same order
// (max |x|, one float division 127 / amax, one multiply per element, round
// half to even by cvtps2dq under the default MXCSR, clamp), so the bytes are
// identical to the reference; the tests check that. bf16 rows use the
// reference (they are cheap next to the GEMM).
#ifndef JEPA_KERNELS_X86_PREPARE_AVX2_HPP
#define JEPA_KERNELS_X86_PREPARE_AVX2_HPP

#include "../ref/prepare-ref.hpp"
#include "common-x86.hpp"

#if defined(JEPA_KERNELS_X86_AVX2)
#define JEPA_HAVE_PREPARE_AVX2 1
namespace jepa {
namespace kernels {
namespace x86 {

// One row: returns the scale; q gets k values (the caller zero-pads).
JEPA_TARGET_AVX2 inline float quantize_row_s8_avx2(const float* x, int32_t k, int8_t* q) {
  const __m256 sign = _mm256_set1_ps(-0.0f), big = _mm256_set1_ps(3.4028234663852886e38f);
  __m256 vmax = _mm256_setzero_ps(), bad = _mm256_setzero_ps();
  int32_t i = 0;
  for (; i + 8 <= k; i += 8) {
    const __m256 a = _mm256_andnot_ps(sign, _mm256_loadu_ps(x + i));
    bad = _mm256_or_ps(bad, _mm256_cmp_ps(a, big, _CMP_NLE_UQ));  // NaN or Inf
    vmax = _mm256_max_ps(vmax, a);
  }
  float lanes[8];
  _mm256_storeu_ps(lanes, vmax);
  float amax = 0.0f;
  for (float l : lanes) amax = l > amax ? l : amax;
  bool finite = _mm256_movemask_ps(bad) == 0;
  for (; i < k; ++i) {
    const float a = x[i] < 0 ? -x[i] : x[i];
    if (!(a <= 3.4028234663852886e38f)) finite = false;
    amax = a > amax ? a : amax;
  }
  if (!finite) {
    std::memset(q, 0, (size_t)k);
    return std::nanf("");
  }
  const float inv = quantize_multiplier(amax);
  const __m256 vinv = _mm256_set1_ps(inv), hi = _mm256_set1_ps(127.0f), lo = _mm256_set1_ps(-127.0f);
  i = 0;
  for (; i + 32 <= k; i += 32) {
    __m256i v[4];
    for (int j = 0; j < 4; ++j) {
      __m256 s = _mm256_mul_ps(_mm256_loadu_ps(x + i + 8 * j), vinv);
      s = _mm256_min_ps(_mm256_max_ps(s, lo), hi);
      v[j] = _mm256_cvtps_epi32(s);
    }
    // packs work per 128-bit lane: fix the order with one dword permute.
    const __m256i p16a = _mm256_packs_epi32(v[0], v[1]), p16b = _mm256_packs_epi32(v[2], v[3]);
    const __m256i p8 = _mm256_packs_epi16(p16a, p16b);
    const __m256i fixed = _mm256_permutevar8x32_epi32(p8, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(q + i), fixed);
  }
  for (; i < k; ++i) {
    float v = std::nearbyint(x[i] * inv);
    v = v > 127.0f ? 127.0f : (v < -127.0f ? -127.0f : v);
    q[i] = (int8_t)v;
  }
  return amax / 127.0f;
}

// sums[b] = the sum of the 32 int8 values q[32 b, 32 b + 32), b < blocks
// (ActFormat::s8_sums): maddubs(1, v) pairs, then madd pairs, exact in int32.
JEPA_INLINE_AVX2 void block_sums_s8_avx2(const int8_t* q, size_t blocks, int32_t* sums) {
  const __m256i ones8 = _mm256_set1_epi8(1), ones16 = _mm256_set1_epi16(1);
  for (size_t b = 0; b < blocks; ++b) {
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q + 32 * b));
    const __m256i s32 = _mm256_madd_epi16(_mm256_maddubs_epi16(ones8, v), ones16);
    const __m128i s = _mm_add_epi32(_mm256_castsi256_si128(s32), _mm256_extracti128_si256(s32, 1));
    const __m128i s2 = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
    sums[b] = _mm_cvtsi128_si32(_mm_add_epi32(s2, _mm_shuffle_epi32(s2, 0xB1)));
  }
}

JEPA_TARGET_AVX2 inline void prepare_rows__avx2(ActFormat f, const float* x, size_t ldx, int32_t m, int32_t k,
                                                int32_t r0, int32_t r1, void* scratch) {
  if (f == ActFormat::bf16 || f == ActFormat::f32) {
    ref::prepare_rows__ref(f, x, ldx, m, k, r0, r1, scratch);
    return;
  }
  const PreparedX p = prepared_view(f, m, k, scratch);
  uint8_t* data = static_cast<uint8_t*>(scratch);
  for (int32_t r = r0; r < r1; ++r) {
    uint8_t* row = data + (size_t)r * p.ld;
    int8_t* q = reinterpret_cast<int8_t*>(row);
    std::memset(row + k, 0, p.ld - (size_t)k);
    const_cast<float*>(p.scale)[r] = quantize_row_s8_avx2(x + (size_t)r * ldx, k, q);
    if (f == ActFormat::s8_sums) block_sums_s8_avx2(q, p.ld_sums, const_cast<int32_t*>(p.sums) + (size_t)r * p.ld_sums);
    if (f == ActFormat::u8) {
      const __m256i off = _mm256_set1_epi8((char)0x80);
      for (size_t i = 0; i < p.ld; i += 32) {
        __m256i* at = reinterpret_cast<__m256i*>(row + i);
        _mm256_storeu_si256(at, _mm256_xor_si256(_mm256_loadu_si256(at), off));  // q + 128 (mod 256)
      }
    }
  }
}

}  // namespace x86
}  // namespace kernels
}  // namespace jepa
#endif  // JEPA_KERNELS_X86_AVX2

#endif  // JEPA_KERNELS_X86_PREPARE_AVX2_HPP
