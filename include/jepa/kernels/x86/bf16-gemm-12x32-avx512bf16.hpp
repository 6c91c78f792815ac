// jepa/kernels/x86/bf16-gemm-12x32-avx512bf16.hpp: bf16_gemm_12x32__avx512bf16,
// bf16 weights in panels (Layout::panel, NR = 16, KR = 2: each 32-bit lane of
// a k-pair zmm holds (w[n][k], w[n][k+1]); two panels per tile), activations
// rounded to bf16 (ActFormat::bf16), AVX-512 BF16: vdpbf16ps adds both
// products of a pair into an f32 lane (twice the FMA rate). Unlike the f32-
// activation kernels it rounds x to 8 significant bits, so it computes
// ref::gemm_prepared__ref (bf16 x) within the float accumulation bound, not
// the f32-activation reference.
#ifndef JEPA_KERNELS_X86_BF16_GEMM_12X32_AVX512BF16_HPP
#define JEPA_KERNELS_X86_BF16_GEMM_12X32_AVX512BF16_HPP

#include "common-x86.hpp"

#if defined(JEPA_KERNELS_X86_AVX512BF16)
namespace jepa {
namespace kernels {
namespace x86 {

template <int MR, int NP>
JEPA_INLINE_AVX512BF16 void bf16_tile_12x32_avx512bf16(const GemmArgs& a, const uint8_t* panel, size_t panel_bytes,
                                                   int32_t m0, int32_t n, int valid) {
  const PreparedX& xp = *a.xp;
  const int32_t pairs = (a.w->k + 1) / 2;
  const uint8_t* xr[MR];
#pragma GCC unroll 12
  for (int i = 0; i < MR; ++i) xr[i] = static_cast<const uint8_t*>(xp.data) + (size_t)(m0 + i) * xp.ld;
  __m512 acc[MR][2];
#pragma GCC unroll 12
  for (int i = 0; i < MR; ++i) acc[i][0] = acc[i][1] = _mm512_setzero_ps();
  for (int32_t q = 0; q < pairs; ++q) {
    __m512i w[2];
#pragma GCC unroll 2
    for (int p = 0; p < NP; ++p) w[p] = _mm512_loadu_si512(panel + p * panel_bytes + (size_t)q * 64);
#pragma GCC unroll 12
    for (int i = 0; i < MR; ++i) {
      int32_t word;  // x[k], x[k+1] as two bf16 (padding beyond K is 0)
      std::memcpy(&word, xr[i] + 4 * (size_t)q, 4);
      const __m512i xv = _mm512_set1_epi32(word);
#pragma GCC unroll 2
      for (int p = 0; p < NP; ++p)
        acc[i][p] = dpbf16_inplace(acc[i][p], (__m512bh)w[p], (__m512bh)xv);
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

template <int NP>
JEPA_INLINE_AVX512BF16 void bf16_rows_12x32_avx512bf16(const GemmArgs& a, const uint8_t* panel, size_t panel_bytes,
                                                   int32_t n, int valid) {
  int32_t m = 0;
  for (; m + 12 <= a.m; m += 12) bf16_tile_12x32_avx512bf16<12, NP>(a, panel, panel_bytes, m, n, valid);
  switch (a.m - m) {
    case 11: bf16_tile_12x32_avx512bf16<11, NP>(a, panel, panel_bytes, m, n, valid); break;
    case 10: bf16_tile_12x32_avx512bf16<10, NP>(a, panel, panel_bytes, m, n, valid); break;
    case 9: bf16_tile_12x32_avx512bf16<9, NP>(a, panel, panel_bytes, m, n, valid); break;
    case 8: bf16_tile_12x32_avx512bf16<8, NP>(a, panel, panel_bytes, m, n, valid); break;
    case 7: bf16_tile_12x32_avx512bf16<7, NP>(a, panel, panel_bytes, m, n, valid); break;
    case 6: bf16_tile_12x32_avx512bf16<6, NP>(a, panel, panel_bytes, m, n, valid); break;
    case 5: bf16_tile_12x32_avx512bf16<5, NP>(a, panel, panel_bytes, m, n, valid); break;
    case 4: bf16_tile_12x32_avx512bf16<4, NP>(a, panel, panel_bytes, m, n, valid); break;
    case 3: bf16_tile_12x32_avx512bf16<3, NP>(a, panel, panel_bytes, m, n, valid); break;
    case 2: bf16_tile_12x32_avx512bf16<2, NP>(a, panel, panel_bytes, m, n, valid); break;
    case 1: bf16_tile_12x32_avx512bf16<1, NP>(a, panel, panel_bytes, m, n, valid); break;
    default: break;
  }
}

JEPA_TARGET_AVX512BF16 inline void bf16_gemm_12x32__avx512bf16(const GemmArgs& a) {
  const int32_t n1 = a.n_end();
  const size_t panel_bytes = 16 * (((size_t)a.w->k + 1) & ~(size_t)1) * 2;
  const uint8_t* w = static_cast<const uint8_t*>(a.w->data);
  for (int32_t n = a.n0; n < n1; n += 32) {
    const uint8_t* panel = w + (size_t)(n / 16) * panel_bytes;
    const int valid = n1 - n < 32 ? n1 - n : 32;
    if (valid > 16)
      bf16_rows_12x32_avx512bf16<2>(a, panel, panel_bytes, n, valid);
    else
      bf16_rows_12x32_avx512bf16<1>(a, panel, panel_bytes, n, valid);
  }
}

}  // namespace x86
}  // namespace kernels
}  // namespace jepa
#endif  // JEPA_KERNELS_X86_AVX512BF16

#endif  // JEPA_KERNELS_X86_BF16_GEMM_12X32_AVX512BF16_HPP
