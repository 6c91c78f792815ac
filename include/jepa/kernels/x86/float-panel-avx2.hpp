// jepa/kernels/x86/float-panel-avx2.hpp: the AVX2 + FMA microkernel shared by
// the float-weight panel GEMMs (f32, f16, bf16 weights; f32 activations):
// tile 6 x 16 = 12 ymm accumulators; per k, the weights' 16-row k-group is
// decoded into two ymm (f32: loads; f16: vcvtph2ps; bf16: 16-bit shifts, two
// k at a time from KR = 2 pairs) and each of six x rows is broadcast once.
// Full K per tile, so the epilogue runs once and an output's value does not
// depend on the tiling. Panel outer, 6-row tiles inner: a panel stays in L2
// while the activation rows stream past it.
#ifndef JEPA_KERNELS_X86_FLOAT_PANEL_AVX2_HPP
#define JEPA_KERNELS_X86_FLOAT_PANEL_AVX2_HPP

#include "common-x86.hpp"

#if defined(JEPA_KERNELS_X86_AVX2)
namespace jepa {
namespace kernels {
namespace x86 {

enum class PanelWeights { f32, f16, bf16 };

// acc[i] += w * x[i][k] for the MR rows.
// (One pointer per row with a shared k index: base + index addressing, no
// per-row address arithmetic in the loop.)
template <int MR>
JEPA_INLINE_AVX2 void fma_rows_avx2(__m256 (&acc0)[MR], __m256 (&acc1)[MR], __m256 w0, __m256 w1,
                                    const float* const (&xr)[MR], int32_t k) {
#pragma GCC unroll 8
  for (int i = 0; i < MR; ++i) {
    const __m256 xv = _mm256_broadcast_ss(xr[i] + k);
    acc0[i] = _mm256_fmadd_ps(w0, xv, acc0[i]);
    acc1[i] = _mm256_fmadd_ps(w1, xv, acc1[i]);
  }
}

// Rows [m0, m0 + MR) x columns [n, n + 16) from one panel (panel = its first byte).
template <PanelWeights WT, int MR>
JEPA_INLINE_AVX2 void float_tile_6x16_avx2(const GemmArgs& a, const uint8_t* panel, int32_t m0, int32_t n,
                                           int valid) {
  const int32_t K = a.w->k;
  __m256 acc0[MR], acc1[MR];
#pragma GCC unroll 8
  for (int i = 0; i < MR; ++i) acc0[i] = acc1[i] = _mm256_setzero_ps();
  const float* xr[MR];
#pragma GCC unroll 8
  for (int i = 0; i < MR; ++i) xr[i] = a.x + (size_t)(m0 + i) * a.ldx;
  if (WT == PanelWeights::f32) {
    const float* p = reinterpret_cast<const float*>(panel);
    for (int32_t k = 0; k < K; ++k, p += 16)
      fma_rows_avx2<MR>(acc0, acc1, _mm256_loadu_ps(p), _mm256_loadu_ps(p + 8), xr, k);
  } else if (WT == PanelWeights::f16) {
    const __m128i* p = reinterpret_cast<const __m128i*>(panel);
    for (int32_t k = 0; k < K; ++k, p += 2)
      fma_rows_avx2<MR>(acc0, acc1, _mm256_cvtph_ps(_mm_loadu_si128(p)), _mm256_cvtph_ps(_mm_loadu_si128(p + 1)),
                        xr, k);
  } else {  // bf16, KR = 2: each 32-bit lane holds (k, k+1) of one row
    const __m256i* p = reinterpret_cast<const __m256i*>(panel);
    const __m256i hi = _mm256_set1_epi32((int)0xFFFF0000u);
    int32_t k = 0;
    for (; k + 2 <= K; k += 2, p += 2) {
      const __m256i v0 = _mm256_loadu_si256(p), v1 = _mm256_loadu_si256(p + 1);
      fma_rows_avx2<MR>(acc0, acc1, _mm256_castsi256_ps(_mm256_slli_epi32(v0, 16)),
                        _mm256_castsi256_ps(_mm256_slli_epi32(v1, 16)), xr, k);
      fma_rows_avx2<MR>(acc0, acc1, _mm256_castsi256_ps(_mm256_and_si256(v0, hi)),
                        _mm256_castsi256_ps(_mm256_and_si256(v1, hi)), xr, k + 1);
    }
    if (k < K) {  // odd K: the pair's second weight is padding; x[k + 1] is not ours to read
      const __m256i v0 = _mm256_loadu_si256(p), v1 = _mm256_loadu_si256(p + 1);
      fma_rows_avx2<MR>(acc0, acc1, _mm256_castsi256_ps(_mm256_slli_epi32(v0, 16)),
                        _mm256_castsi256_ps(_mm256_slli_epi32(v1, 16)), xr, k);
    }
  }
  const __m256 b0 = load8_or_zero(a.bias ? a.bias + n : nullptr, valid);
  const __m256 b1 = load8_or_zero(a.bias ? a.bias + n + 8 : nullptr, valid - 8);
#pragma GCC unroll 8
  for (int i = 0; i < MR; ++i) {
    finish8_avx2(a, m0 + i, n, _mm256_add_ps(acc0[i], b0), valid);
    if (valid > 8) finish8_avx2(a, m0 + i, n + 8, _mm256_add_ps(acc1[i], b1), valid - 8);
  }
}

// The driver: every 16-column panel of [n0, n1), 6-row tiles, MR tail by template.
template <PanelWeights WT>
JEPA_TARGET_AVX2 inline void float_gemm_6x16_avx2(const GemmArgs& a) {
  const int32_t n1 = a.n_end();
  const size_t kp = WT == PanelWeights::bf16 ? ((size_t)a.w->k + 1) & ~(size_t)1 : (size_t)a.w->k;
  const size_t esize = WT == PanelWeights::f32 ? 4 : 2;
  const uint8_t* w = static_cast<const uint8_t*>(a.w->data);
  for (int32_t n = a.n0; n < n1; n += 16) {
    const uint8_t* panel = w + (size_t)(n / 16) * 16 * kp * esize;
    const int valid = n1 - n < 16 ? n1 - n : 16;
    int32_t m = 0;
    for (; m + 6 <= a.m; m += 6) float_tile_6x16_avx2<WT, 6>(a, panel, m, n, valid);
    switch (a.m - m) {
      case 5: float_tile_6x16_avx2<WT, 5>(a, panel, m, n, valid); break;
      case 4: float_tile_6x16_avx2<WT, 4>(a, panel, m, n, valid); break;
      case 3: float_tile_6x16_avx2<WT, 3>(a, panel, m, n, valid); break;
      case 2: float_tile_6x16_avx2<WT, 2>(a, panel, m, n, valid); break;
      case 1: float_tile_6x16_avx2<WT, 1>(a, panel, m, n, valid); break;
      default: break;
    }
  }
}

}  // namespace x86
}  // namespace kernels
}  // namespace jepa
#endif  // JEPA_KERNELS_X86_AVX2

#endif  // JEPA_KERNELS_X86_FLOAT_PANEL_AVX2_HPP
