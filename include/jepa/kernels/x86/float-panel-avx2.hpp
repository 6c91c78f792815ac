// jepa/kernels/x86/float-panel-avx2.hpp: the AVX2 + FMA microkernel shared by
// the float-weight panel GEMMs (f32, f16, bf16 weights; f32 activations):
// tile 6 x 16 = 12 ymm accumulators; per k, the weights' 16-row k-group is
// decoded into two ymm (f32: loads; f16: vcvtph2ps; bf16: 16-bit shifts, two
// k at a time from KR = 2 pairs) and each of six x rows is broadcast once.
// Blocked like a BLIS GEMM, with the weights packed ahead of time: for a
// chunk of kFloatPanelMc rows and kFloatPanelNc columns, K goes in blocks of
// kFloatPanelKc; each block of x is first copied into a stack buffer as
// 6-row micro-panels ([k][6], so the six broadcasts of one k are adjacent and
// rows K*4 bytes apart no longer collide in L1 sets), then every panel's
// block (16 KiB of f32, in L1) meets every micro-panel. Partial sums wait in
// a second stack buffer between blocks (72 KiB of stack in all). Each
// accumulator still sums k = 0..K-1 in order and the epilogue runs once after
// the last block, so the result equals an unblocked loop bit for bit and
// does not depend on the tiling.
#ifndef JEPA_KERNELS_X86_FLOAT_PANEL_AVX2_HPP
#define JEPA_KERNELS_X86_FLOAT_PANEL_AVX2_HPP

#include "common-x86.hpp"

#if defined(JEPA_KERNELS_X86_AVX2)
namespace jepa {
namespace kernels {
namespace x86 {

enum class PanelWeights { f32, f16, bf16 };

// acc[i] += w * x[i][k] for the MR rows; xk = the micro-panel's 6 values of this k.
template <int MR>
JEPA_INLINE_AVX2 void fma_rows_avx2(__m256 (&acc0)[MR], __m256 (&acc1)[MR], __m256 w0, __m256 w1,
                                    const float* xk) {
#pragma GCC unroll 8
  for (int i = 0; i < MR; ++i) {
    const __m256 xv = _mm256_broadcast_ss(xk + i);
    acc0[i] = _mm256_fmadd_ps(w0, xv, acc0[i]);
    acc1[i] = _mm256_fmadd_ps(w1, xv, acc1[i]);
  }
}

// K block of the float panel kernels (even, for bf16 pairs) and the rows
// whose partial sums one stack buffer holds (a multiple of 6).
constexpr int32_t kFloatPanelKc = 256;
constexpr int32_t kFloatPanelMc = 48;
constexpr int32_t kFloatPanelNc = 128;

// Rows [m0, m0 + MR) x columns [n, n + 16) from one panel (panel = its first
// byte), over k in [k0, k1); xp = the rows' packed micro-panel ([k1 - k0][6]).
// Accumulators start from `part` ([MR][16]) unless k0 == 0, and go back to it
// unless k1 == K, where the epilogue runs instead.
template <PanelWeights WT, int MR>
JEPA_INLINE_AVX2 void float_tile_6x16_avx2(const GemmArgs& a, const uint8_t* panel, const float* xp, int32_t m0,
                                           int32_t n, int valid, int32_t k0, int32_t k1, float* part) {
  const int32_t K = a.w->k;
  __m256 acc0[MR], acc1[MR];
  if (k0 == 0) {
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i) acc0[i] = acc1[i] = _mm256_setzero_ps();
  } else {
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i) {
      acc0[i] = _mm256_loadu_ps(part + 16 * i);
      acc1[i] = _mm256_loadu_ps(part + 16 * i + 8);
    }
  }
  if (WT == PanelWeights::f32) {
    const float* p = reinterpret_cast<const float*>(panel) + (size_t)k0 * 16;
    for (int32_t k = k0; k < k1; ++k, p += 16, xp += 6)
      fma_rows_avx2<MR>(acc0, acc1, _mm256_loadu_ps(p), _mm256_loadu_ps(p + 8), xp);
  } else if (WT == PanelWeights::f16) {
    const __m128i* p = reinterpret_cast<const __m128i*>(panel) + (size_t)k0 * 2;
    for (int32_t k = k0; k < k1; ++k, p += 2, xp += 6)
      fma_rows_avx2<MR>(acc0, acc1, _mm256_cvtph_ps(_mm_loadu_si128(p)), _mm256_cvtph_ps(_mm_loadu_si128(p + 1)),
                        xp);
  } else {  // bf16, KR = 2: each 32-bit lane holds (k, k+1) of one row; k0 is even
    const __m256i* p = reinterpret_cast<const __m256i*>(panel) + (size_t)k0;
    const __m256i hi = _mm256_set1_epi32((int)0xFFFF0000u);
    int32_t k = k0;
    for (; k + 2 <= k1; k += 2, p += 2, xp += 12) {
      const __m256i v0 = _mm256_loadu_si256(p), v1 = _mm256_loadu_si256(p + 1);
      fma_rows_avx2<MR>(acc0, acc1, _mm256_castsi256_ps(_mm256_slli_epi32(v0, 16)),
                        _mm256_castsi256_ps(_mm256_slli_epi32(v1, 16)), xp);
      fma_rows_avx2<MR>(acc0, acc1, _mm256_castsi256_ps(_mm256_and_si256(v0, hi)),
                        _mm256_castsi256_ps(_mm256_and_si256(v1, hi)), xp + 6);
    }
    if (k < k1) {  // odd K (last block only): the pair's second weight is padding
      const __m256i v0 = _mm256_loadu_si256(p), v1 = _mm256_loadu_si256(p + 1);
      fma_rows_avx2<MR>(acc0, acc1, _mm256_castsi256_ps(_mm256_slli_epi32(v0, 16)),
                        _mm256_castsi256_ps(_mm256_slli_epi32(v1, 16)), xp);
    }
  }
  if (k1 < K) {
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i) {
      _mm256_storeu_ps(part + 16 * i, acc0[i]);
      _mm256_storeu_ps(part + 16 * i + 8, acc1[i]);
    }
    return;
  }
  const __m256 b0 = load8_or_zero(a.bias ? a.bias + n : nullptr, valid);
  const __m256 b1 = load8_or_zero(a.bias ? a.bias + n + 8 : nullptr, valid - 8);
#pragma GCC unroll 8
  for (int i = 0; i < MR; ++i) {
    finish8_avx2(a, m0 + i, n, _mm256_add_ps(acc0[i], b0), valid);
    if (valid > 8) finish8_avx2(a, m0 + i, n + 8, _mm256_add_ps(acc1[i], b1), valid - 8);
  }
}

// Copies x[m_begin, m_end) x [k0, k1) into 6-row micro-panels: xp[g][k - k0][i]
// = x[m_begin + 6g + i][k]; rows past m_end are left unread by the tiles.
JEPA_INLINE_AVX2 void pack_x_6_avx2(const GemmArgs& a, int32_t m_begin, int32_t m_end, int32_t k0, int32_t k1,
                                    float* xp) {
  const int32_t kb = k1 - k0;
  for (int32_t m = m_begin; m < m_end; m += 6) {
    const int rows = m_end - m < 6 ? m_end - m : 6;
    float* g = xp + (size_t)((m - m_begin) / 6) * 6 * (size_t)kb;
    for (int i = 0; i < rows; ++i) {
      const float* xr = a.x + (size_t)(m + i) * a.ldx + k0;
      for (int32_t k = 0; k < kb; ++k) g[6 * k + i] = xr[k];
    }
  }
}

// One K block of rows [m_begin, m_end) against one panel: 6-row tiles, MR tail by template.
template <PanelWeights WT>
JEPA_INLINE_AVX2 void float_rows_6x16_avx2(const GemmArgs& a, const uint8_t* panel, const float* xp,
                                           int32_t m_begin, int32_t m_end, int32_t n, int valid, int32_t k0,
                                           int32_t k1, float* part) {
  const size_t micro = 6 * (size_t)(k1 - k0);
  int32_t m = m_begin;
  for (; m + 6 <= m_end; m += 6, xp += micro, part += 16 * 6)
    float_tile_6x16_avx2<WT, 6>(a, panel, xp, m, n, valid, k0, k1, part);
  switch (m_end - m) {
    case 5: float_tile_6x16_avx2<WT, 5>(a, panel, xp, m, n, valid, k0, k1, part); break;
    case 4: float_tile_6x16_avx2<WT, 4>(a, panel, xp, m, n, valid, k0, k1, part); break;
    case 3: float_tile_6x16_avx2<WT, 3>(a, panel, xp, m, n, valid, k0, k1, part); break;
    case 2: float_tile_6x16_avx2<WT, 2>(a, panel, xp, m, n, valid, k0, k1, part); break;
    case 1: float_tile_6x16_avx2<WT, 1>(a, panel, xp, m, n, valid, k0, k1, part); break;
    default: break;
  }
}

// The driver: row chunk, column chunk, K block (pack x once), then every
// panel of the column chunk against the packed block.
template <PanelWeights WT>
JEPA_TARGET_AVX2 inline void float_gemm_6x16_avx2(const GemmArgs& a) {
  const int32_t n1 = a.n_end(), K = a.w->k;
  const size_t kp = WT == PanelWeights::bf16 ? ((size_t)K + 1) & ~(size_t)1 : (size_t)K;
  const size_t esize = WT == PanelWeights::f32 ? 4 : 2;
  const uint8_t* w = static_cast<const uint8_t*>(a.w->data);
  alignas(32) float xpack[kFloatPanelMc * kFloatPanelKc];
  alignas(32) float part[kFloatPanelMc * kFloatPanelNc];
  for (int32_t mc = 0; mc < a.m; mc += kFloatPanelMc) {
    const int32_t mc_end = a.m - mc < kFloatPanelMc ? a.m : mc + kFloatPanelMc;
    for (int32_t nc = a.n0; nc < n1; nc += kFloatPanelNc) {
      const int32_t nc_end = n1 - nc < kFloatPanelNc ? n1 : nc + kFloatPanelNc;
      for (int32_t k0 = 0; k0 < K || k0 == 0; k0 += kFloatPanelKc) {
        const int32_t k1 = K - k0 < kFloatPanelKc ? K : k0 + kFloatPanelKc;
        pack_x_6_avx2(a, mc, mc_end, k0, k1, xpack);
        for (int32_t n = nc; n < nc_end; n += 16) {
          const uint8_t* panel = w + (size_t)(n / 16) * 16 * kp * esize;
          const int valid = nc_end - n < 16 ? nc_end - n : 16;
          float_rows_6x16_avx2<WT>(a, panel, xpack, mc, mc_end, n, valid, k0, k1,
                                   part + (size_t)(n - nc) / 16 * (16 * kFloatPanelMc));
        }
      }
    }
  }
}

}  // namespace x86
}  // namespace kernels
}  // namespace jepa
#endif  // JEPA_KERNELS_X86_AVX2

#endif  // JEPA_KERNELS_X86_FLOAT_PANEL_AVX2_HPP
