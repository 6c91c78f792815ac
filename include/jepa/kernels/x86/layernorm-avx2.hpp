// jepa/kernels/x86/layernorm-avx2.hpp: layernorm_rows__avx2, the AVX2 form of
// layernorm_rows__avx512 (layernorm-avx512.hpp): the generic code's 16 lane
// sums as two 8-lane halves per row, 4 rows interleaved in the two statistics
// passes, products kept unfused, the norm applied row by row; bit-identical
// to ops::layernorm_row of the baseline build. Masked loads only at a row's
// tail and no masked stores: AMD's vmaskmovps store is microcoded, and a
// first version that masked every step ran 1.7-2.7x slower than the generic
// code on Zen 4.
#ifndef JEPA_KERNELS_X86_LAYERNORM_AVX2_HPP
#define JEPA_KERNELS_X86_LAYERNORM_AVX2_HPP

#include <cmath>

#include "common-x86.hpp"

#if defined(JEPA_KERNELS_X86_AVX2)
namespace jepa {
namespace kernels {
namespace x86 {
namespace ln256 {

// v, opaque to the optimizer (see ln512::unfused).
JEPA_INLINE_AVX2 __m256 unfused(__m256 v) {
#if defined(__GNUC__) && !defined(JEPA_X86_EMULATE)
  __asm__("" : "+x"(v));
#endif
  return v;
}

// Lanes 0-7 in lo, 8-15 in hi, folded as the generic rows fold them
// (ref::fold_lanes16).
JEPA_INLINE_AVX2 float fold16(__m256 lo, __m256 hi) {
  alignas(32) float l[16];
  _mm256_store_ps(l, lo);
  _mm256_store_ps(l + 8, hi);
  return ref::fold_lanes16(l);
}

// Elements [i, i + 16) of a row as two halves, zeros past dim: plain loads
// for a whole step, masked ones only for the row's tail (a masked load or
// store is slow on some CPUs: AMD's vmaskmovps store is microcoded).
JEPA_INLINE_AVX2 void load16(const float* x, int64_t dim, int64_t i, __m256* lo, __m256* hi) {
  const int64_t left = dim - i;
  if (left >= 16) {
    *lo = _mm256_loadu_ps(x + i);
    *hi = _mm256_loadu_ps(x + i + 8);
    return;
  }
  *lo = _mm256_maskload_ps(x + i, tail_mask8((int)(left < 8 ? left : 8)));
  *hi = _mm256_maskload_ps(x + i + 8, tail_mask8((int)(left < 8 ? 0 : left - 8)));
}

// (x - mean) * rstd (* gamma) (+ beta) on 8 floats, in the generic order.
JEPA_INLINE_AVX2 __m256 apply8(const float* x, const float* gamma, const float* beta, __m256 mean, __m256 rstd) {
  __m256 v = _mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(x), mean), rstd);
  if (gamma != nullptr) v = _mm256_mul_ps(v, _mm256_loadu_ps(gamma));
  if (beta != nullptr) v = _mm256_add_ps(unfused(v), _mm256_loadu_ps(beta));
  return v;
}

template <int R>
JEPA_INLINE_AVX2 void rows(const float* x, size_t ldx, float* y, size_t ldy, int64_t dim, const float* gamma,
                           const float* beta, float eps) {
  __m256 lo[R], hi[R];
  for (int r = 0; r < R; ++r) lo[r] = hi[r] = _mm256_setzero_ps();
  for (int64_t i = 0; i < dim; i += 16)
    for (int r = 0; r < R; ++r) {
      __m256 a, b;
      load16(x + (size_t)r * ldx, dim, i, &a, &b);
      lo[r] = _mm256_add_ps(lo[r], a);
      hi[r] = _mm256_add_ps(hi[r], b);
    }
  __m256 mean[R];
  for (int r = 0; r < R; ++r) {
    mean[r] = _mm256_set1_ps(fold16(lo[r], hi[r]) / (float)dim);
    lo[r] = hi[r] = _mm256_setzero_ps();
  }
  for (int64_t i = 0; i < dim; i += 16) {
    // Lanes past dim: d = 0, as the generic code adds nothing there.
    const int64_t left = dim - i;
    const __m256 m0 = _mm256_castsi256_ps(tail_mask8((int)(left < 8 ? left : 8)));
    const __m256 m1 = _mm256_castsi256_ps(tail_mask8((int)(left < 8 ? 0 : left - 8)));
    for (int r = 0; r < R; ++r) {
      __m256 a, b;
      load16(x + (size_t)r * ldx, dim, i, &a, &b);
      const __m256 d0 = _mm256_and_ps(_mm256_sub_ps(a, mean[r]), m0);
      const __m256 d1 = _mm256_and_ps(_mm256_sub_ps(b, mean[r]), m1);
      lo[r] = _mm256_add_ps(lo[r], unfused(_mm256_mul_ps(d0, d0)));
      hi[r] = _mm256_add_ps(hi[r], unfused(_mm256_mul_ps(d1, d1)));
    }
  }
  __m256 rstd[R];
  for (int r = 0; r < R; ++r) rstd[r] = _mm256_set1_ps(1.0f / std::sqrt(fold16(lo[r], hi[r]) / (float)dim + eps));
  for (int r = 0; r < R; ++r) {  // row by row, as layernorm_rows__avx512
    const float* xr = x + (size_t)r * ldx;
    float* yr = y + (size_t)r * ldy;
    int64_t i = 0;
    for (; i + 8 <= dim; i += 8) {
      const float* g = gamma ? gamma + i : nullptr;
      const float* b = beta ? beta + i : nullptr;
      _mm256_storeu_ps(yr + i, apply8(xr + i, g, b, mean[r], rstd[r]));
    }
    if (i < dim) {  // the tail through a stack buffer: the same vector ops, no masked store
      const int n = (int)(dim - i);
      alignas(32) float in[8] = {0}, g8[8] = {0}, b8[8] = {0}, out[8];
      for (int j = 0; j < n; ++j) {
        in[j] = xr[i + j];
        if (gamma) g8[j] = gamma[i + j];
        if (beta) b8[j] = beta[i + j];
      }
      _mm256_store_ps(out, apply8(in, gamma ? g8 : nullptr, beta ? b8 : nullptr, mean[r], rstd[r]));
      for (int j = 0; j < n; ++j) yr[i + j] = out[j];
    }
  }
}

}  // namespace ln256

// rows rows of dim floats (x ldx apart, y ldy apart); y may alias x row for
// row. gamma / beta may be null.
JEPA_TARGET_AVX2 inline void layernorm_rows__avx2(const float* x, size_t ldx, float* y, size_t ldy, int64_t rows,
                                                  int64_t dim, const float* gamma, const float* beta, float eps) {
  int64_t r = 0;
  for (; r + 4 <= rows; r += 4)
    ln256::rows<4>(x + (size_t)r * ldx, ldx, y + (size_t)r * ldy, ldy, dim, gamma, beta, eps);
  switch (rows - r) {
    case 3: ln256::rows<3>(x + (size_t)r * ldx, ldx, y + (size_t)r * ldy, ldy, dim, gamma, beta, eps); break;
    case 2: ln256::rows<2>(x + (size_t)r * ldx, ldx, y + (size_t)r * ldy, ldy, dim, gamma, beta, eps); break;
    case 1: ln256::rows<1>(x + (size_t)r * ldx, ldx, y + (size_t)r * ldy, ldy, dim, gamma, beta, eps); break;
    default: break;
  }
}

}  // namespace x86
}  // namespace kernels
}  // namespace jepa
#endif  // JEPA_KERNELS_X86_AVX2

#endif  // JEPA_KERNELS_X86_LAYERNORM_AVX2_HPP
