// jepa/kernels/x86/f32-gemm-3x4-avx2-dot.hpp: f32_gemm_3x4__avx2_dot, f32
// weights in the canonical row_major layout (as files and the models use
// them today: no packing), AVX2 + FMA, dot-product form: a tile of 3 x rows
// by 4 weight rows keeps 12 ymm accumulators over K (8 lanes of partial
// sums each), then reduces each with one fixed hadd tree, so an output's
// value is the same wherever it sits in a tile. K tails use masked loads
// (never reading past a row). Weight rows outer (4 x K floats stay in L1 /
// L2), x rows inner.
#ifndef JEPA_KERNELS_X86_F32_GEMM_3X4_AVX2_DOT_HPP
#define JEPA_KERNELS_X86_F32_GEMM_3X4_AVX2_DOT_HPP

#include "common-x86.hpp"

#if defined(JEPA_KERNELS_X86_AVX2)
namespace jepa {
namespace kernels {
namespace x86 {

// [sum a0, sum a1, sum a2, sum a3], each by the same tree.
JEPA_INLINE_AVX2 __m128 hsum4_avx2(__m256 a0, __m256 a1, __m256 a2, __m256 a3) {
  const __m256 t = _mm256_hadd_ps(_mm256_hadd_ps(a0, a1), _mm256_hadd_ps(a2, a3));
  return _mm_add_ps(_mm256_castps256_ps128(t), _mm256_extractf128_ps(t, 1));
}

template <int MR, int NR>
JEPA_INLINE_AVX2 void f32_dot_tile_3x4_avx2(const GemmArgs& a, int32_t m0, int32_t n0) {
  const int32_t K = a.w->k;
  const float* wbase = static_cast<const float*>(a.w->data);
  const float* xr[MR];
  const float* wr[4];
#pragma GCC unroll 4
  for (int i = 0; i < MR; ++i) xr[i] = a.x + (size_t)(m0 + i) * a.ldx;
#pragma GCC unroll 4
  for (int j = 0; j < 4; ++j) wr[j] = wbase + (size_t)(n0 + (j < NR ? j : NR - 1)) * (size_t)K;
  __m256 acc[MR][4];
#pragma GCC unroll 4
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 4
    for (int j = 0; j < 4; ++j) acc[i][j] = _mm256_setzero_ps();
  int32_t k = 0;
  for (; k + 8 <= K; k += 8) {
    __m256 wv[4];
#pragma GCC unroll 4
    for (int j = 0; j < 4; ++j) wv[j] = _mm256_loadu_ps(wr[j] + k);
#pragma GCC unroll 4
    for (int i = 0; i < MR; ++i) {
      const __m256 xv = _mm256_loadu_ps(xr[i] + k);
#pragma GCC unroll 4
      for (int j = 0; j < 4; ++j) acc[i][j] = _mm256_fmadd_ps(xv, wv[j], acc[i][j]);
    }
  }
  if (k < K) {
    const __m256i mask = tail_mask8(K - k);
    __m256 wv[4];
#pragma GCC unroll 4
    for (int j = 0; j < 4; ++j) wv[j] = _mm256_maskload_ps(wr[j] + k, mask);
#pragma GCC unroll 4
    for (int i = 0; i < MR; ++i) {
      const __m256 xv = _mm256_maskload_ps(xr[i] + k, mask);
#pragma GCC unroll 4
      for (int j = 0; j < 4; ++j) acc[i][j] = _mm256_fmadd_ps(xv, wv[j], acc[i][j]);
    }
  }
  const __m256 bias = _mm256_castps128_ps256(
      a.bias ? _mm_maskload_ps(a.bias + n0, _mm256_castsi256_si128(tail_mask8(NR))) : _mm_setzero_ps());
#pragma GCC unroll 4
  for (int i = 0; i < MR; ++i) {
    const __m256 s = _mm256_castps128_ps256(hsum4_avx2(acc[i][0], acc[i][1], acc[i][2], acc[i][3]));
    finish8_avx2(a, m0 + i, n0, _mm256_add_ps(s, bias), NR);
  }
}

template <int NR>
JEPA_INLINE_AVX2 void f32_dot_rows_3x4_avx2(const GemmArgs& a, int32_t n) {
  int32_t m = 0;
  for (; m + 3 <= a.m; m += 3) f32_dot_tile_3x4_avx2<3, NR>(a, m, n);
  if (a.m - m == 2) f32_dot_tile_3x4_avx2<2, NR>(a, m, n);
  if (a.m - m == 1) f32_dot_tile_3x4_avx2<1, NR>(a, m, n);
}

JEPA_TARGET_AVX2 inline void f32_gemm_3x4__avx2_dot(const GemmArgs& a) {
  const int32_t n1 = a.n_end();
  int32_t n = a.n0;
  for (; n + 4 <= n1; n += 4) f32_dot_rows_3x4_avx2<4>(a, n);
  switch (n1 - n) {
    case 3: f32_dot_rows_3x4_avx2<3>(a, n); break;
    case 2: f32_dot_rows_3x4_avx2<2>(a, n); break;
    case 1: f32_dot_rows_3x4_avx2<1>(a, n); break;
    default: break;
  }
}

}  // namespace x86
}  // namespace kernels
}  // namespace jepa
#endif  // JEPA_KERNELS_X86_AVX2

#endif  // JEPA_KERNELS_X86_F32_GEMM_3X4_AVX2_DOT_HPP
