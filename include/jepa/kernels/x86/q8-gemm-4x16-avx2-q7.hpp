// jepa/kernels/x86/q8-gemm-4x16-avx2-q7.hpp: q8_gemm_4x16__avx2_q7, 7-bit
// int8 weights (tensor flag format::kTensorQ7: every value in [-63, 63],
// row sums exact, both checked at load) in panels (NR = 16, KR = 4),
// activations as u8 = q + 128 (ActFormat::u8), AVX2.
// vpmaddubsw multiplies u8 x s8 into pairs summed in saturating int16: with
// u8 <= 255 and |w| <= 63 a pair is at most 2 * 255 * 63 = 32130 < 32767, so
// it never saturates and needs no sign trick (q8_gemm_4x16__avx2 spends
// vpabsb + 2 vpsignb per row and k-group on it: this loop issues 7 of that
// kernel's 10 vector ops). The +128 offset is removed by starting every
// accumulator at -128 * row_sum[n]:
//   acc = sum (q_x + 128) q_w - 128 * row_sum[n] = sum q_x q_w
// (int32 wraparound cancels). Bit-identical to ref::gemm_prepared__ref and
// to the other q8 kernels before GELU.
#ifndef JEPA_KERNELS_X86_Q8_GEMM_4X16_AVX2_Q7_HPP
#define JEPA_KERNELS_X86_Q8_GEMM_4X16_AVX2_Q7_HPP

#include "q8-gemm-4x16-avx2.hpp"

#if defined(JEPA_KERNELS_X86_AVX2)
namespace jepa {
namespace kernels {
namespace x86 {

template <int MR>
JEPA_INLINE_AVX2 void q8q7_tile_4x16_avx2(const GemmArgs& a, const int8_t* panel, const float* sw,
                                          __m256i off0, __m256i off1, int32_t m0, int32_t n, int valid) {
  const PreparedX& xp = *a.xp;
  const int32_t groups = (a.w->k + 3) / 4;
  const uint8_t* xr[MR];
#pragma GCC unroll 4
  for (int i = 0; i < MR; ++i) xr[i] = static_cast<const uint8_t*>(xp.data) + (size_t)(m0 + i) * xp.ld;
  const __m256i ones = _mm256_set1_epi16(1);
  __m256i acc0[MR], acc1[MR];
#pragma GCC unroll 4
  for (int i = 0; i < MR; ++i) acc0[i] = off0, acc1[i] = off1;
  for (int32_t g = 0; g < groups; ++g) {
    const __m256i w0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(panel + (size_t)g * 64));
    const __m256i w1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(panel + (size_t)g * 64 + 32));
#pragma GCC unroll 4
    for (int i = 0; i < MR; ++i) {
      int32_t word;
      std::memcpy(&word, xr[i] + 4 * (size_t)g, 4);
      const __m256i xv = _mm256_set1_epi32(word);
      acc0[i] = _mm256_add_epi32(acc0[i], _mm256_madd_epi16(_mm256_maddubs_epi16(xv, w0), ones));
      acc1[i] = _mm256_add_epi32(acc1[i], _mm256_madd_epi16(_mm256_maddubs_epi16(xv, w1), ones));
    }
  }
#pragma GCC unroll 4
  for (int i = 0; i < MR; ++i) {
    const float sx = xp.scale[m0 + i];
    q8_finish8_avx2(a, m0 + i, n, acc0[i], sx, sw, valid);
    if (valid > 8) q8_finish8_avx2(a, m0 + i, n + 8, acc1[i], sx, sw + 8, valid - 8);
  }
}

JEPA_TARGET_AVX2 inline void q8_gemm_4x16__avx2_q7(const GemmArgs& a) {
  format::PanelGeometry g;
  format::panel_geometry(a.w->dtype, (uint64_t)a.w->n, (uint64_t)a.w->k, a.w->params, &g);
  const int8_t* w = static_cast<const int8_t*>(a.w->data);
  const uint8_t* bytes = static_cast<const uint8_t*>(a.w->data);
  const float* scales = reinterpret_cast<const float*>(bytes + g.scale_offset);
  const int32_t* row_sums = reinterpret_cast<const int32_t*>(bytes + g.sum_offset);
  const int32_t n1 = a.n_end();
  for (int32_t n = a.n0; n < n1; n += 16) {
    const int8_t* panel = w + (size_t)(n / 16) * 16 * g.kp;
    const int valid = n1 - n < 16 ? n1 - n : 16;
    // -128 * row_sum; padding rows of the panel (past N) hold zeros.
    const __m256i off0 = _mm256_sub_epi32(
        _mm256_setzero_si256(), _mm256_slli_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(row_sums + n)), 7));
    const __m256i off1 = _mm256_sub_epi32(
        _mm256_setzero_si256(),
        _mm256_slli_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(row_sums + n + 8)), 7));
    int32_t m = 0;
    for (; m + 4 <= a.m; m += 4) q8q7_tile_4x16_avx2<4>(a, panel, scales + n, off0, off1, m, n, valid);
    switch (a.m - m) {
      case 3: q8q7_tile_4x16_avx2<3>(a, panel, scales + n, off0, off1, m, n, valid); break;
      case 2: q8q7_tile_4x16_avx2<2>(a, panel, scales + n, off0, off1, m, n, valid); break;
      case 1: q8q7_tile_4x16_avx2<1>(a, panel, scales + n, off0, off1, m, n, valid); break;
      default: break;
    }
  }
}

}  // namespace x86
}  // namespace kernels
}  // namespace jepa
#endif  // JEPA_KERNELS_X86_AVX2

#endif  // JEPA_KERNELS_X86_Q8_GEMM_4X16_AVX2_Q7_HPP
