// jepa/kernels/x86/float-panel-avx512.hpp: the AVX-512 microkernel shared by
// the float-weight panel GEMMs (f32, f16, bf16 weights; f32 activations):
// tile 12 x 32 = two adjacent 16-row panels, 24 zmm accumulators; per k each
// panel's k-group is one zmm (f32 load, f16 vcvtph2ps, bf16 shift/mask of a
// KR = 2 pair load) and each x element is broadcast once. A lone last panel
// runs the 12 x 16 variant. Same loop structure and epilogue as the AVX2
// kernels (float-panel-avx2.hpp); full K per tile.
#ifndef JEPA_KERNELS_X86_FLOAT_PANEL_AVX512_HPP
#define JEPA_KERNELS_X86_FLOAT_PANEL_AVX512_HPP

#include "common-x86.hpp"
#include "float-panel-avx2.hpp"  // PanelWeights

#if defined(JEPA_KERNELS_X86_AVX512)
namespace jepa {
namespace kernels {
namespace x86 {

// Decoded k-group (KR = 1) or pair half (bf16: lo = even k, hi = odd k).
template <PanelWeights WT>
JEPA_INLINE_AVX512 __m512 load_group_avx512(const uint8_t* p, size_t g) {
  if (WT == PanelWeights::f32) return _mm512_loadu_ps(reinterpret_cast<const float*>(p) + g * 16);
  return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + g * 32)));
}

template <int MR, int NP>
JEPA_INLINE_AVX512 void fma_rows_avx512(__m512 (&acc)[MR][2], const __m512 (&w)[2], const float* const (&xr)[MR],
                                        int32_t k) {
#pragma GCC unroll 12
  for (int i = 0; i < MR; ++i) {
    const __m512 xv = _mm512_set1_ps(xr[i][k]);
#pragma GCC unroll 2
    for (int p = 0; p < NP; ++p) acc[i][p] = _mm512_fmadd_ps(w[p], xv, acc[i][p]);
  }
}

// Rows [m0, m0 + MR) x NP panels starting at column n.
template <PanelWeights WT, int MR, int NP>
JEPA_INLINE_AVX512 void float_tile_12x32_avx512(const GemmArgs& a, const uint8_t* panel, size_t panel_bytes,
                                                int32_t m0, int32_t n, int valid) {
  const int32_t K = a.w->k;
  __m512 acc[MR][2];
#pragma GCC unroll 12
  for (int i = 0; i < MR; ++i) acc[i][0] = acc[i][1] = _mm512_setzero_ps();
  const float* xr[MR];
#pragma GCC unroll 12
  for (int i = 0; i < MR; ++i) xr[i] = a.x + (size_t)(m0 + i) * a.ldx;
  __m512 w[2] = {_mm512_setzero_ps(), _mm512_setzero_ps()};
  if (WT != PanelWeights::bf16) {
    for (int32_t k = 0; k < K; ++k) {
#pragma GCC unroll 2
      for (int p = 0; p < NP; ++p) w[p] = load_group_avx512<WT>(panel + p * panel_bytes, (size_t)k);
      fma_rows_avx512<MR, NP>(acc, w, xr, k);
    }
  } else {
    const __m512i hi = _mm512_set1_epi32((int)0xFFFF0000u);
    for (int32_t k = 0; k < K; k += 2) {
      __m512i v[2];
#pragma GCC unroll 2
      for (int p = 0; p < NP; ++p)
        v[p] = _mm512_loadu_si512(panel + p * panel_bytes + (size_t)k * 32);  // 16 rows x (k, k+1)
#pragma GCC unroll 2
      for (int p = 0; p < NP; ++p) w[p] = _mm512_castsi512_ps(_mm512_slli_epi32(v[p], 16));
      fma_rows_avx512<MR, NP>(acc, w, xr, k);
      if (k + 1 < K) {  // odd K: the last pair's second half is padding
#pragma GCC unroll 2
        for (int p = 0; p < NP; ++p) w[p] = _mm512_castsi512_ps(_mm512_and_si512(v[p], hi));
        fma_rows_avx512<MR, NP>(acc, w, xr, k + 1);
      }
    }
  }
#pragma GCC unroll 2
  for (int p = 0; p < NP; ++p) {
    const int v = valid - 16 * p;
    const __m512 bias = load16_or_zero(a.bias ? a.bias + n + 16 * p : nullptr, v);
#pragma GCC unroll 12
    for (int i = 0; i < MR; ++i) finish16_avx512(a, m0 + i, n + 16 * p, _mm512_add_ps(acc[i][p], bias), v);
  }
}

template <PanelWeights WT, int NP>
JEPA_INLINE_AVX512 void float_rows_12x32_avx512(const GemmArgs& a, const uint8_t* panel, size_t panel_bytes,
                                                int32_t n, int valid) {
  int32_t m = 0;
  for (; m + 12 <= a.m; m += 12) float_tile_12x32_avx512<WT, 12, NP>(a, panel, panel_bytes, m, n, valid);
  switch (a.m - m) {
    case 11: float_tile_12x32_avx512<WT, 11, NP>(a, panel, panel_bytes, m, n, valid); break;
    case 10: float_tile_12x32_avx512<WT, 10, NP>(a, panel, panel_bytes, m, n, valid); break;
    case 9: float_tile_12x32_avx512<WT, 9, NP>(a, panel, panel_bytes, m, n, valid); break;
    case 8: float_tile_12x32_avx512<WT, 8, NP>(a, panel, panel_bytes, m, n, valid); break;
    case 7: float_tile_12x32_avx512<WT, 7, NP>(a, panel, panel_bytes, m, n, valid); break;
    case 6: float_tile_12x32_avx512<WT, 6, NP>(a, panel, panel_bytes, m, n, valid); break;
    case 5: float_tile_12x32_avx512<WT, 5, NP>(a, panel, panel_bytes, m, n, valid); break;
    case 4: float_tile_12x32_avx512<WT, 4, NP>(a, panel, panel_bytes, m, n, valid); break;
    case 3: float_tile_12x32_avx512<WT, 3, NP>(a, panel, panel_bytes, m, n, valid); break;
    case 2: float_tile_12x32_avx512<WT, 2, NP>(a, panel, panel_bytes, m, n, valid); break;
    case 1: float_tile_12x32_avx512<WT, 1, NP>(a, panel, panel_bytes, m, n, valid); break;
    default: break;
  }
}

template <PanelWeights WT>
JEPA_TARGET_AVX512 inline void float_gemm_12x32_avx512(const GemmArgs& a) {
  const int32_t n1 = a.n_end();
  const size_t kp = WT == PanelWeights::bf16 ? ((size_t)a.w->k + 1) & ~(size_t)1 : (size_t)a.w->k;
  const size_t panel_bytes = 16 * kp * (WT == PanelWeights::f32 ? 4 : 2);
  const uint8_t* w = static_cast<const uint8_t*>(a.w->data);
  for (int32_t n = a.n0; n < n1; n += 32) {
    const uint8_t* panel = w + (size_t)(n / 16) * panel_bytes;
    const int valid = n1 - n < 32 ? n1 - n : 32;
    if (valid > 16)
      float_rows_12x32_avx512<WT, 2>(a, panel, panel_bytes, n, valid);
    else
      float_rows_12x32_avx512<WT, 1>(a, panel, panel_bytes, n, valid);
  }
}

}  // namespace x86
}  // namespace kernels
}  // namespace jepa
#endif  // JEPA_KERNELS_X86_AVX512

#endif  // JEPA_KERNELS_X86_FLOAT_PANEL_AVX512_HPP
