// jepa/kernels/x86/q4-gemm-4x32-avx512vnni.hpp: q4_gemm_4x32__avx512vnni,
// int4 weights in panels (Layout::panel, NR = 16, KR = 4; a block quad of a
// panel is one zmm whose low / high nibbles are two 16-row x 4-k groups; two
// panels per tile), activations int8 per row with 32-block sums
// (ActFormat::s8_sums), AVX-512 VNNI. The nibbles u = v + 8 are vpdpbusd's
// unsigned operand and the activations its signed one, so per block
// dot = sum u q_x - 8 * sum q_x exactly; then acc = fma((float)dot, s, acc)
// with the block's f16 scales, as ref::gemm_prepared__ref. Int and float
// accumulators: 4 x 2 each, leaving registers for the nibble unpacking.
#ifndef JEPA_KERNELS_X86_Q4_GEMM_4X32_AVX512VNNI_HPP
#define JEPA_KERNELS_X86_Q4_GEMM_4X32_AVX512VNNI_HPP

#include "common-x86.hpp"

#if defined(JEPA_KERNELS_X86_AVX512VNNI)
namespace jepa {
namespace kernels {
namespace x86 {

template <int MR, int NP>
JEPA_INLINE_AVX512VNNI void q4_tile_4x32_avx512vnni(const GemmArgs& a, const uint8_t* panel, size_t panel_bytes,
                                                const uint16_t* scales, size_t panel_scales, int32_t kb,
                                                int32_t m0, int32_t n, int valid) {
  const PreparedX& xp = *a.xp;
  const uint8_t* xr[MR];  // one pointer per row: no per-row address math in the loop
#pragma GCC unroll 4
  for (int i = 0; i < MR; ++i) xr[i] = static_cast<const uint8_t*>(xp.data) + (size_t)(m0 + i) * xp.ld;
  const int32_t* xs = xp.sums + (size_t)m0 * xp.ld_sums;
  const __m512i low4 = _mm512_set1_epi8(0x0F);
  __m512 f[MR][2];
#pragma GCC unroll 4
  for (int i = 0; i < MR; ++i) f[i][0] = f[i][1] = _mm512_setzero_ps();
  for (int32_t b = 0; b < kb; ++b) {
    __m512i d[MR][2];
#pragma GCC unroll 4
    for (int i = 0; i < MR; ++i) d[i][0] = d[i][1] = _mm512_setzero_si512();
#pragma GCC unroll 4
    for (int j = 0; j < 4; ++j) {
      __m512i lo[2], hi[2];
#pragma GCC unroll 2
      for (int p = 0; p < NP; ++p) {
        const __m512i v = _mm512_loadu_si512(panel + p * panel_bytes + (size_t)b * 256 + 64 * j);
        lo[p] = _mm512_and_si512(v, low4);
        hi[p] = _mm512_and_si512(_mm512_srli_epi16(v, 4), low4);
      }
#pragma GCC unroll 4
      for (int i = 0; i < MR; ++i) {
        int32_t wl, wh;
        std::memcpy(&wl, xr[i] + 32 * (size_t)b + 4 * j, 4);
        std::memcpy(&wh, xr[i] + 32 * (size_t)b + 16 + 4 * j, 4);
        const __m512i xl = _mm512_set1_epi32(wl), xh = _mm512_set1_epi32(wh);
#pragma GCC unroll 2
        for (int p = 0; p < NP; ++p) {
          d[i][p] = dpbusd_inplace(d[i][p], lo[p], xl);
          d[i][p] = dpbusd_inplace(d[i][p], hi[p], xh);
        }
      }
    }
#pragma GCC unroll 2
    for (int p = 0; p < NP; ++p) {
      const __m512 s = _mm512_cvtph_ps(
          _mm256_loadu_si256(reinterpret_cast<const __m256i*>(scales + p * panel_scales + (size_t)b * 16)));
#pragma GCC unroll 4
      for (int i = 0; i < MR; ++i) {
        const __m512i off = _mm512_set1_epi32(8 * xs[(size_t)i * xp.ld_sums + b]);
        f[i][p] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(d[i][p], off)), s, f[i][p]);
      }
    }
  }
#pragma GCC unroll 2
  for (int p = 0; p < NP; ++p) {
    const int v = valid - 16 * p;
    const __m512 bias = load16_or_zero(a.bias ? a.bias + n + 16 * p : nullptr, v);
#pragma GCC unroll 4
    for (int i = 0; i < MR; ++i)
      finish16_avx512(a, m0 + i, n + 16 * p, _mm512_fmadd_ps(f[i][p], _mm512_set1_ps(xp.scale[m0 + i]), bias), v);
  }
}

template <int NP>
JEPA_INLINE_AVX512VNNI void q4_rows_4x32_avx512vnni(const GemmArgs& a, const uint8_t* panel, size_t panel_bytes,
                                                const uint16_t* scales, size_t panel_scales, int32_t kb, int32_t n,
                                                int valid) {
  int32_t m = 0;
  for (; m + 4 <= a.m; m += 4)
    q4_tile_4x32_avx512vnni<4, NP>(a, panel, panel_bytes, scales, panel_scales, kb, m, n, valid);
  switch (a.m - m) {
    case 3: q4_tile_4x32_avx512vnni<3, NP>(a, panel, panel_bytes, scales, panel_scales, kb, m, n, valid); break;
    case 2: q4_tile_4x32_avx512vnni<2, NP>(a, panel, panel_bytes, scales, panel_scales, kb, m, n, valid); break;
    case 1: q4_tile_4x32_avx512vnni<1, NP>(a, panel, panel_bytes, scales, panel_scales, kb, m, n, valid); break;
    default: break;
  }
}

JEPA_TARGET_AVX512VNNI inline void q4_gemm_4x32__avx512vnni(const GemmArgs& a) {
  format::PanelGeometry g;
  format::panel_geometry(a.w->dtype, (uint64_t)a.w->n, (uint64_t)a.w->k, a.w->params, &g);
  const uint8_t* w = static_cast<const uint8_t*>(a.w->data);
  const uint16_t* scales = reinterpret_cast<const uint16_t*>(w + g.scale_offset);
  const int32_t kb = (int32_t)(g.kp / 32), n1 = a.n_end();
  const size_t panel_bytes = (size_t)kb * 256, panel_scales = (size_t)kb * 16;
  for (int32_t n = a.n0; n < n1; n += 32) {
    const size_t p = (size_t)n / 16;
    const int valid = n1 - n < 32 ? n1 - n : 32;
    if (valid > 16)
      q4_rows_4x32_avx512vnni<2>(a, w + p * panel_bytes, panel_bytes, scales + p * panel_scales, panel_scales, kb,
                                 n, valid);
    else
      q4_rows_4x32_avx512vnni<1>(a, w + p * panel_bytes, panel_bytes, scales + p * panel_scales, panel_scales, kb,
                                 n, valid);
  }
}

}  // namespace x86
}  // namespace kernels
}  // namespace jepa
#endif  // JEPA_KERNELS_X86_AVX512VNNI

#endif  // JEPA_KERNELS_X86_Q4_GEMM_4X32_AVX512VNNI_HPP
