// jepa/kernels/x86/layernorm-avx512.hpp: layernorm_rows__avx512, the rows of
// ops::layernorm_rows 16 lanes a vector (AVX-512 F), bit-identical to the
// generic layernorm_row: lane j of one accumulator adds elements j, j + 16,
// ... (masked tail loads add zeros), folded in halves in the same order; the
// mean squared deviation likewise; then (x - mean) * rstd * gamma + beta in
// that order. The generic code is compiled for the baseline ISA (SSE2 on
// x86-64, no FMA), so each product here goes through unfused() before its
// add: the compiler may not contract them into an FMA either. The generic
// rows took ~1.5 cycles an element at 197 x 384 on Zen 4.
#ifndef JEPA_KERNELS_X86_LAYERNORM_AVX512_HPP
#define JEPA_KERNELS_X86_LAYERNORM_AVX512_HPP

#include <cmath>

#include "common-x86.hpp"

#if defined(JEPA_KERNELS_X86_AVX512)
namespace jepa {
namespace kernels {
namespace x86 {
namespace ln512 {

// v, opaque to the optimizer: a product passed through it is rounded before
// the add that uses it (no FMA contraction), as in the baseline build.
JEPA_INLINE_AVX512 __m512 unfused(__m512 v) {
#if defined(__GNUC__) && !defined(JEPA_X86_EMULATE)
  __asm__("" : "+v"(v));
#endif
  return v;
}

// The 16 lanes of v, folded as the generic rows fold them (ref::fold_lanes16).
JEPA_INLINE_AVX512 float fold16(__m512 v) {
  alignas(64) float l[16];
  _mm512_store_ps(l, v);
  return ref::fold_lanes16(l);
}

// R rows at once (R independent add chains: one row's lanes are a single
// accumulator, whose add latency would bound a row alone).
template <int R>
JEPA_INLINE_AVX512 void rows(const float* x, size_t ldx, float* y, size_t ldy, int64_t dim, const float* gamma,
                             const float* beta, float eps) {
  __m512 acc[R];
  for (int r = 0; r < R; ++r) acc[r] = _mm512_setzero_ps();
  for (int64_t i = 0; i < dim; i += 16) {
    const __mmask16 live = tail_mask16((int)(dim - i < 16 ? dim - i : 16));
    for (int r = 0; r < R; ++r) acc[r] = _mm512_add_ps(acc[r], _mm512_maskz_loadu_ps(live, x + (size_t)r * ldx + i));
  }
  __m512 mean[R];
  for (int r = 0; r < R; ++r) {
    mean[r] = _mm512_set1_ps(fold16(acc[r]) / (float)dim);
    acc[r] = _mm512_setzero_ps();
  }
  for (int64_t i = 0; i < dim; i += 16) {
    const __mmask16 live = tail_mask16((int)(dim - i < 16 ? dim - i : 16));
    for (int r = 0; r < R; ++r) {
      const __m512 d = _mm512_maskz_sub_ps(live, _mm512_maskz_loadu_ps(live, x + (size_t)r * ldx + i), mean[r]);
      acc[r] = _mm512_add_ps(acc[r], unfused(_mm512_mul_ps(d, d)));
    }
  }
  __m512 rstd[R];
  for (int r = 0; r < R; ++r) rstd[r] = _mm512_set1_ps(1.0f / std::sqrt(fold16(acc[r]) / (float)dim + eps));
  // Row by row: with the rows interleaved, a store to one row and a load of
  // the next 4 KiB later (dim = 1024) looked dependent, and dim 1024 ran
  // slower than the generic code.
  for (int r = 0; r < R; ++r) {
    const float* xr = x + (size_t)r * ldx;
    float* yr = y + (size_t)r * ldy;
    for (int64_t i = 0; i < dim; i += 16) {
      const __mmask16 live = tail_mask16((int)(dim - i < 16 ? dim - i : 16));
      __m512 v = _mm512_mul_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(live, xr + i), mean[r]), rstd[r]);
      if (gamma != nullptr) v = _mm512_mul_ps(v, _mm512_maskz_loadu_ps(live, gamma + i));
      if (beta != nullptr) v = _mm512_add_ps(unfused(v), _mm512_maskz_loadu_ps(live, beta + i));
      _mm512_mask_storeu_ps(yr + i, live, v);
    }
  }
}

}  // namespace ln512

// rows rows of dim floats (x ldx apart, y ldy apart); y may alias x row for
// row. gamma / beta may be null.
JEPA_TARGET_AVX512 inline void layernorm_rows__avx512(const float* x, size_t ldx, float* y, size_t ldy, int64_t rows,
                                                      int64_t dim, const float* gamma, const float* beta, float eps) {
  int64_t r = 0;
  for (; r + 4 <= rows; r += 4)
    ln512::rows<4>(x + (size_t)r * ldx, ldx, y + (size_t)r * ldy, ldy, dim, gamma, beta, eps);
  switch (rows - r) {
    case 3: ln512::rows<3>(x + (size_t)r * ldx, ldx, y + (size_t)r * ldy, ldy, dim, gamma, beta, eps); break;
    case 2: ln512::rows<2>(x + (size_t)r * ldx, ldx, y + (size_t)r * ldy, ldy, dim, gamma, beta, eps); break;
    case 1: ln512::rows<1>(x + (size_t)r * ldx, ldx, y + (size_t)r * ldy, ldy, dim, gamma, beta, eps); break;
    default: break;
  }
}

}  // namespace x86
}  // namespace kernels
}  // namespace jepa
#endif  // JEPA_KERNELS_X86_AVX512

#endif  // JEPA_KERNELS_X86_LAYERNORM_AVX512_HPP
