// jepa/kernels/x86/q8-gemm-4x16-avx2.hpp: q8_gemm_4x16__avx2, int8 weights in
// panels (Layout::panel, NR = 16, KR = 4: one k-group = 16 rows x 4 int8 =
// two ymm), activations int8 per row (ActFormat::s8), AVX2.
// AVX2 has no int8 dot product with 32-bit accumulation; vpmaddubsw
// (u8 x s8 -> pairs summed into saturating i16) is the fast path, made exact
// by the sign trick: maddubs(|x|, sign(w, x)) = x * w per pair, with
// |x| <= 127 and |w| <= 127 so a pair sum <= 32258 never saturates. vpmaddwd
// by 1 widens to 32 bits. Integer sums are exact, so the output equals
// ref::gemm_prepared__ref bit for bit (before GELU).
#ifndef JEPA_KERNELS_X86_Q8_GEMM_4X16_AVX2_HPP
#define JEPA_KERNELS_X86_Q8_GEMM_4X16_AVX2_HPP

#include "common-x86.hpp"

#if defined(JEPA_KERNELS_X86_AVX2)
namespace jepa {
namespace kernels {
namespace x86 {

// The int8 epilogue: fma((float)acc, scale_x * scale_w, bias), then finish8.
JEPA_INLINE_AVX2 void q8_finish8_avx2(const GemmArgs& a, int32_t m, int32_t n, __m256i acc, float sx,
                                      const float* sw, int valid) {
  const __m256 scale = _mm256_mul_ps(_mm256_set1_ps(sx), _mm256_loadu_ps(sw));
  const __m256 bias = load8_or_zero(a.bias ? a.bias + n : nullptr, valid);
  finish8_avx2(a, m, n, _mm256_fmadd_ps(_mm256_cvtepi32_ps(acc), scale, bias), valid);
}

// One MR x 16 tile over all of K. kQ7 = false: full int8 weights, exact by
// the sign trick. kQ7 = true: 7-bit weights times u8 activations (q + 128),
// no sign trick; the accumulators start at off = -128 * row_sum
// (q8-gemm-4x16-avx2-q7.hpp says why that is exact).
template <int MR, bool kQ7>
JEPA_INLINE_AVX2 void q8_tile_4x16_avx2(const GemmArgs& a, const int8_t* panel, const float* sw, __m256i off0,
                                        __m256i off1, int32_t m0, int32_t n, int valid) {
  const PreparedX& xp = *a.xp;
  const int32_t groups = (a.w->k + 3) / 4;
  const uint8_t* xr[MR];  // one pointer per row, shared group index: no per-row address math
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
      __m256i p0, p1;
      if constexpr (kQ7) {
        p0 = _mm256_maddubs_epi16(xv, w0);
        p1 = _mm256_maddubs_epi16(xv, w1);
      } else {
        const __m256i ax = _mm256_abs_epi8(xv);
        p0 = _mm256_maddubs_epi16(ax, _mm256_sign_epi8(w0, xv));
        p1 = _mm256_maddubs_epi16(ax, _mm256_sign_epi8(w1, xv));
      }
      acc0[i] = _mm256_add_epi32(acc0[i], _mm256_madd_epi16(p0, ones));
      acc1[i] = _mm256_add_epi32(acc1[i], _mm256_madd_epi16(p1, ones));
    }
  }
#pragma GCC unroll 4
  for (int i = 0; i < MR; ++i) {
    const float sx = xp.scale[m0 + i];
    q8_finish8_avx2(a, m0 + i, n, acc0[i], sx, sw, valid);
    if (valid > 8) q8_finish8_avx2(a, m0 + i, n + 8, acc1[i], sx, sw + 8, valid - 8);
  }
}

// The column and row loops of both 4x16 q8 kernels.
template <bool kQ7>
JEPA_INLINE_AVX2 void q8_gemm_4x16_avx2_panels(const GemmArgs& a) {
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
    __m256i off0 = _mm256_setzero_si256(), off1 = _mm256_setzero_si256();
    if constexpr (kQ7) {  // -128 * row_sum; padding rows of the panel (past N) hold zeros
      const __m256i* rs = reinterpret_cast<const __m256i*>(row_sums + n);
      off0 = _mm256_sub_epi32(off0, _mm256_slli_epi32(_mm256_loadu_si256(rs), 7));
      off1 = _mm256_sub_epi32(off1, _mm256_slli_epi32(_mm256_loadu_si256(rs + 1), 7));
    }
    int32_t m = 0;
    for (; m + 4 <= a.m; m += 4) q8_tile_4x16_avx2<4, kQ7>(a, panel, scales + n, off0, off1, m, n, valid);
    switch (a.m - m) {
      case 3: q8_tile_4x16_avx2<3, kQ7>(a, panel, scales + n, off0, off1, m, n, valid); break;
      case 2: q8_tile_4x16_avx2<2, kQ7>(a, panel, scales + n, off0, off1, m, n, valid); break;
      case 1: q8_tile_4x16_avx2<1, kQ7>(a, panel, scales + n, off0, off1, m, n, valid); break;
      default: break;
    }
  }
}

JEPA_TARGET_AVX2 inline void q8_gemm_4x16__avx2(const GemmArgs& a) { q8_gemm_4x16_avx2_panels<false>(a); }

}  // namespace x86
}  // namespace kernels
}  // namespace jepa
#endif  // JEPA_KERNELS_X86_AVX2

#endif  // JEPA_KERNELS_X86_Q8_GEMM_4X16_AVX2_HPP
