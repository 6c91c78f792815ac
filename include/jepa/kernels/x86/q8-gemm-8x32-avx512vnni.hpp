// jepa/kernels/x86/q8-gemm-8x32-avx512vnni.hpp: q8_gemm_8x32__avx512vnni,
// int8 weights in panels (Layout::panel, NR = 16, KR = 4: one k-group of a
// panel = 16 rows x 4 int8 = one zmm; two panels per tile), activations as
// u8 = q + 128 (ActFormat::u8), AVX-512 VNNI. vpdpbusd multiplies u8 x s8
// and adds groups of 4 into int32 lanes with no saturation, so
//   acc = sum (q_x + 128) q_w = sum q_x q_w + 128 * row_sum[n]
// and the panel's precomputed row sums remove the offset exactly (int32
// wraparound cancels). Bit-identical to ref::gemm_prepared__ref and to the
// AVX2 kernel before GELU.
#ifndef JEPA_KERNELS_X86_Q8_GEMM_8X32_AVX512VNNI_HPP
#define JEPA_KERNELS_X86_Q8_GEMM_8X32_AVX512VNNI_HPP

#include "common-x86.hpp"

#if defined(JEPA_KERNELS_X86_AVX512VNNI)
namespace jepa {
namespace kernels {
namespace x86 {

template <int MR, int NP>
JEPA_INLINE_AVX512VNNI void q8_tile_8x32_avx512vnni(const GemmArgs& a, const int8_t* panel, size_t panel_bytes,
                                                const float* sw, const int32_t* rs, int32_t m0, int32_t n,
                                                int valid) {
  const PreparedX& xp = *a.xp;
  const int32_t groups = (a.w->k + 3) / 4;
  const uint8_t* xr[MR];
#pragma GCC unroll 8
  for (int i = 0; i < MR; ++i) xr[i] = static_cast<const uint8_t*>(xp.data) + (size_t)(m0 + i) * xp.ld;
  __m512i acc[MR][2];
#pragma GCC unroll 8
  for (int i = 0; i < MR; ++i) acc[i][0] = acc[i][1] = _mm512_setzero_si512();
  for (int32_t g = 0; g < groups; ++g) {
    __m512i w[2];
#pragma GCC unroll 2
    for (int p = 0; p < NP; ++p) w[p] = _mm512_loadu_si512(panel + p * panel_bytes + (size_t)g * 64);
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i) {
      int32_t word;
      std::memcpy(&word, xr[i] + 4 * (size_t)g, 4);
      const __m512i xv = _mm512_set1_epi32(word);
#pragma GCC unroll 2
      for (int p = 0; p < NP; ++p) acc[i][p] = dpbusd_inplace(acc[i][p], xv, w[p]);
    }
  }
#pragma GCC unroll 2
  for (int p = 0; p < NP; ++p) {
    const int v = valid - 16 * p;
    const __m512 swv = _mm512_loadu_ps(sw + 16 * p);
    const __m512i off = _mm512_slli_epi32(_mm512_loadu_si512(rs + 16 * p), 7);  // 128 * row_sum
    const __m512 bias = load16_or_zero(a.bias ? a.bias + n + 16 * p : nullptr, v);
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i) {
      const __m512 scale = _mm512_mul_ps(_mm512_set1_ps(xp.scale[m0 + i]), swv);
      const __m512 f = _mm512_cvtepi32_ps(_mm512_sub_epi32(acc[i][p], off));
      finish16_avx512(a, m0 + i, n + 16 * p, _mm512_fmadd_ps(f, scale, bias), v);
    }
  }
}

template <int NP>
JEPA_INLINE_AVX512VNNI void q8_rows_8x32_avx512vnni(const GemmArgs& a, const int8_t* panel, size_t panel_bytes,
                                                const float* sw, const int32_t* rs, int32_t n, int valid) {
  int32_t m = 0;
  for (; m + 8 <= a.m; m += 8) q8_tile_8x32_avx512vnni<8, NP>(a, panel, panel_bytes, sw, rs, m, n, valid);
  switch (a.m - m) {
    case 7: q8_tile_8x32_avx512vnni<7, NP>(a, panel, panel_bytes, sw, rs, m, n, valid); break;
    case 6: q8_tile_8x32_avx512vnni<6, NP>(a, panel, panel_bytes, sw, rs, m, n, valid); break;
    case 5: q8_tile_8x32_avx512vnni<5, NP>(a, panel, panel_bytes, sw, rs, m, n, valid); break;
    case 4: q8_tile_8x32_avx512vnni<4, NP>(a, panel, panel_bytes, sw, rs, m, n, valid); break;
    case 3: q8_tile_8x32_avx512vnni<3, NP>(a, panel, panel_bytes, sw, rs, m, n, valid); break;
    case 2: q8_tile_8x32_avx512vnni<2, NP>(a, panel, panel_bytes, sw, rs, m, n, valid); break;
    case 1: q8_tile_8x32_avx512vnni<1, NP>(a, panel, panel_bytes, sw, rs, m, n, valid); break;
    default: break;
  }
}

JEPA_TARGET_AVX512VNNI inline void q8_gemm_8x32__avx512vnni(const GemmArgs& a) {
  format::PanelGeometry g;
  format::panel_geometry(a.w->dtype, (uint64_t)a.w->n, (uint64_t)a.w->k, a.w->params, &g);
  const uint8_t* base = static_cast<const uint8_t*>(a.w->data);
  const float* scales = reinterpret_cast<const float*>(base + g.scale_offset);
  const int32_t* sums = reinterpret_cast<const int32_t*>(base + g.sum_offset);
  const size_t panel_bytes = 16 * g.kp;
  const int32_t n1 = a.n_end();
  for (int32_t n = a.n0; n < n1; n += 32) {
    const int8_t* panel = reinterpret_cast<const int8_t*>(base) + (size_t)(n / 16) * panel_bytes;
    const int valid = n1 - n < 32 ? n1 - n : 32;
    if (valid > 16)
      q8_rows_8x32_avx512vnni<2>(a, panel, panel_bytes, scales + n, sums + n, n, valid);
    else
      q8_rows_8x32_avx512vnni<1>(a, panel, panel_bytes, scales + n, sums + n, n, valid);
  }
}

}  // namespace x86
}  // namespace kernels
}  // namespace jepa
#endif  // JEPA_KERNELS_X86_AVX512VNNI

#endif  // JEPA_KERNELS_X86_Q8_GEMM_8X32_AVX512VNNI_HPP
