// jepa/kernels/x86/q4-gemm-4x16-avx2.hpp: q4_gemm_4x16__avx2, int4 weights in
// panels (Layout::panel, NR = 16, KR = 4; format.hpp: 64 bytes per block
// quad whose low / high nibbles are two 16-row x 4-k int8 groups, f16 scale
// per row and 32-block), activations int8 per row with 32-block sums
// (ActFormat::s8_sums), AVX2.
// The nibbles are used unsigned (u = v + 8 in [0, 15]) as vpmaddubsw's u8
// operand against the signed activations: pairs <= 2 * 15 * 127, no
// saturation. Per block the offset is removed exactly (dot - 8 * sum(x)),
// then the block's float scale is applied: acc = fma((float)dot, s, acc), as
// ref::gemm_prepared__ref does, so results match it bit for bit.
#ifndef JEPA_KERNELS_X86_Q4_GEMM_4X16_AVX2_HPP
#define JEPA_KERNELS_X86_Q4_GEMM_4X16_AVX2_HPP

#include "common-x86.hpp"

#if defined(JEPA_KERNELS_X86_AVX2)
namespace jepa {
namespace kernels {
namespace x86 {

template <int MR>
JEPA_INLINE_AVX2 void q4_tile_4x16_avx2(const GemmArgs& a, const uint8_t* panel, const uint16_t* scales,
                                        int32_t kb, int32_t m0, int32_t n, int valid) {
  const PreparedX& xp = *a.xp;
  const uint8_t* xr[MR];  // one pointer per row: no per-row address math in the loop
#pragma GCC unroll 4
  for (int i = 0; i < MR; ++i) xr[i] = static_cast<const uint8_t*>(xp.data) + (size_t)(m0 + i) * xp.ld;
  const int32_t* xs = xp.sums + (size_t)m0 * xp.ld_sums;
  const __m256i ones = _mm256_set1_epi16(1), low4 = _mm256_set1_epi8(0x0F);
  __m256 f0[MR], f1[MR];
#pragma GCC unroll 4
  for (int i = 0; i < MR; ++i) f0[i] = f1[i] = _mm256_setzero_ps();
  for (int32_t b = 0; b < kb; ++b) {
    __m256i d0[MR], d1[MR];
#pragma GCC unroll 4
    for (int i = 0; i < MR; ++i) d0[i] = d1[i] = _mm256_setzero_si256();
    const uint8_t* blk = panel + (size_t)b * 256;
#pragma GCC unroll 4
    for (int j = 0; j < 4; ++j) {
      const __m256i v0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + 64 * j));
      const __m256i v1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + 64 * j + 32));
      const __m256i lo0 = _mm256_and_si256(v0, low4), lo1 = _mm256_and_si256(v1, low4);
      const __m256i hi0 = _mm256_and_si256(_mm256_srli_epi16(v0, 4), low4);
      const __m256i hi1 = _mm256_and_si256(_mm256_srli_epi16(v1, 4), low4);
#pragma GCC unroll 4
      for (int i = 0; i < MR; ++i) {
        int32_t wl, wh;
        std::memcpy(&wl, xr[i] + 32 * (size_t)b + 4 * j, 4);
        std::memcpy(&wh, xr[i] + 32 * (size_t)b + 16 + 4 * j, 4);
        const __m256i xl = _mm256_set1_epi32(wl), xh = _mm256_set1_epi32(wh);
        const __m256i s0 = _mm256_add_epi16(_mm256_maddubs_epi16(lo0, xl), _mm256_maddubs_epi16(hi0, xh));
        const __m256i s1 = _mm256_add_epi16(_mm256_maddubs_epi16(lo1, xl), _mm256_maddubs_epi16(hi1, xh));
        d0[i] = _mm256_add_epi32(d0[i], _mm256_madd_epi16(s0, ones));
        d1[i] = _mm256_add_epi32(d1[i], _mm256_madd_epi16(s1, ones));
      }
    }
    const __m256 s0 = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(scales + (size_t)b * 16)));
    const __m256 s1 = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(scales + (size_t)b * 16 + 8)));
#pragma GCC unroll 4
    for (int i = 0; i < MR; ++i) {
      const __m256i off = _mm256_set1_epi32(8 * xs[(size_t)i * xp.ld_sums + b]);
      f0[i] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(d0[i], off)), s0, f0[i]);
      f1[i] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(d1[i], off)), s1, f1[i]);
    }
  }
  const __m256 b0 = load8_or_zero(a.bias ? a.bias + n : nullptr, valid);
  const __m256 b1 = load8_or_zero(a.bias ? a.bias + n + 8 : nullptr, valid - 8);
#pragma GCC unroll 4
  for (int i = 0; i < MR; ++i) {
    const __m256 sx = _mm256_set1_ps(xp.scale[m0 + i]);
    finish8_avx2(a, m0 + i, n, _mm256_fmadd_ps(f0[i], sx, b0), valid);
    if (valid > 8) finish8_avx2(a, m0 + i, n + 8, _mm256_fmadd_ps(f1[i], sx, b1), valid - 8);
  }
}

JEPA_TARGET_AVX2 inline void q4_gemm_4x16__avx2(const GemmArgs& a) {
  format::PanelGeometry g;
  format::panel_geometry(a.w->dtype, (uint64_t)a.w->n, (uint64_t)a.w->k, a.w->params, &g);
  const uint8_t* w = static_cast<const uint8_t*>(a.w->data);
  const uint16_t* scales = reinterpret_cast<const uint16_t*>(w + g.scale_offset);
  const int32_t kb = (int32_t)(g.kp / 32), n1 = a.n_end();
  for (int32_t n = a.n0; n < n1; n += 16) {
    const size_t p = (size_t)n / 16;
    const uint8_t* panel = w + p * (size_t)kb * 256;
    const uint16_t* ps = scales + p * (size_t)kb * 16;
    const int valid = n1 - n < 16 ? n1 - n : 16;
    int32_t m = 0;
    for (; m + 4 <= a.m; m += 4) q4_tile_4x16_avx2<4>(a, panel, ps, kb, m, n, valid);
    switch (a.m - m) {
      case 3: q4_tile_4x16_avx2<3>(a, panel, ps, kb, m, n, valid); break;
      case 2: q4_tile_4x16_avx2<2>(a, panel, ps, kb, m, n, valid); break;
      case 1: q4_tile_4x16_avx2<1>(a, panel, ps, kb, m, n, valid); break;
      default: break;
    }
  }
}

}  // namespace x86
}  // namespace kernels
}  // namespace jepa
#endif  // JEPA_KERNELS_X86_AVX2

#endif  // JEPA_KERNELS_X86_Q4_GEMM_4X16_AVX2_HPP
