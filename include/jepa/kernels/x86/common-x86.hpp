// jepa/kernels/x86/common-x86.hpp: what every x86 kernel file includes: the
// intrinsics header, the per-function target attributes (so a baseline build
// without -march still holds every kernel), and the shared epilogue pieces
// (vector exp / erf GELU, masked tail loads and stores) for AVX2 and AVX-512.
//
// JEPA_X86_EMULATE (tests only): compile the same kernel source against SIMDe
// (libsimde-dev), which implements the intrinsics in portable code, so the
// AVX-512 kernels' logic is tested on machines without AVX-512. The target
// attributes are then empty. Never use it in a real build (it is slow).
#ifndef JEPA_KERNELS_X86_COMMON_X86_HPP
#define JEPA_KERNELS_X86_COMMON_X86_HPP

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "../../config.hpp"
#include "../gemm.hpp"
#include "../ref/math.hpp"  // gelu_erf; the emulated build's scalar conversions

#if defined(JEPA_X86_EMULATE)
#define SIMDE_ENABLE_NATIVE_ALIASES
#include <simde/x86/avx512.h>
#include <simde/x86/f16c.h>
#include <simde/x86/fma.h>
#define JEPA_TARGET_AVX2
#define JEPA_TARGET_AVX512
#define JEPA_TARGET_AVX512VNNI
#define JEPA_TARGET_AVX512BF16
// Names the native aliases do not cover.
typedef simde__mmask16 __mmask16;
typedef simde__mmask32 __mmask32;
#ifndef _MM_FROUND_NO_EXC
#define _MM_FROUND_NO_EXC SIMDE_MM_FROUND_NO_EXC
#define _MM_FROUND_TO_NEAREST_INT SIMDE_MM_FROUND_TO_NEAREST_INT
#endif
#ifndef _CMP_GE_OQ
#define _CMP_GE_OQ SIMDE_CMP_GE_OQ
#define _CMP_NLE_UQ SIMDE_CMP_NLE_UQ
#endif
// Intrinsics SIMDe 0.7.4 lacks, in portable code (emulation builds only).
namespace jepa {
namespace kernels {
namespace x86 {
namespace emu {
inline __m512 cvtph_ps(__m256i h) {
  uint16_t in[16];
  float out[16];
  std::memcpy(in, &h, 32);
  for (int i = 0; i < 16; ++i) out[i] = ref::f16_to_f32(in[i]);
  return _mm512_loadu_ps(out);
}
inline __m512 maskz_loadu_ps(__mmask16 k, const void* p) {
  float o[16] = {0};
  for (int i = 0; i < 16; ++i)
    if ((k >> i) & 1) std::memcpy(&o[i], static_cast<const float*>(p) + i, 4);
  return _mm512_loadu_ps(o);
}
inline void mask_storeu_ps(void* p, __mmask16 k, __m512 v) {
  float t[16];
  _mm512_storeu_ps(t, v);
  for (int i = 0; i < 16; ++i)
    if ((k >> i) & 1) std::memcpy(static_cast<float*>(p) + i, &t[i], 4);
}
inline __m512 cvtepi32_ps(__m512i v) {
  int32_t t[16];
  float o[16];
  std::memcpy(t, &v, 64);
  for (int i = 0; i < 16; ++i) o[i] = (float)t[i];
  return _mm512_loadu_ps(o);
}
inline __m512i cvtps_epi32(__m512 v) {
  float t[16];
  int32_t o[16];
  _mm512_storeu_ps(t, v);
  for (int i = 0; i < 16; ++i) o[i] = (int32_t)std::nearbyint(t[i]);
  return _mm512_loadu_si512(o);
}
// SIMDe's portable fmadd rounds twice (a * b, then + c); kernels rely on one rounding.
inline __m512 fmadd512(__m512 a, __m512 b, __m512 c) {
  float x[16], y[16], z[16];
  _mm512_storeu_ps(x, a);
  _mm512_storeu_ps(y, b);
  _mm512_storeu_ps(z, c);
  for (int i = 0; i < 16; ++i) z[i] = std::fma(x[i], y[i], z[i]);
  return _mm512_loadu_ps(z);
}
inline __m256 fmadd256(__m256 a, __m256 b, __m256 c) {
  float x[8], y[8], z[8];
  _mm256_storeu_ps(x, a);
  _mm256_storeu_ps(y, b);
  _mm256_storeu_ps(z, c);
  for (int i = 0; i < 8; ++i) z[i] = std::fma(x[i], y[i], z[i]);
  return _mm256_loadu_ps(z);
}
}  // namespace emu
}  // namespace x86
}  // namespace kernels
}  // namespace jepa
#undef _mm512_fmadd_ps
#undef _mm256_fmadd_ps
#define _mm512_fmadd_ps(a, b, c) ::jepa::kernels::x86::emu::fmadd512(a, b, c)
#define _mm256_fmadd_ps(a, b, c) ::jepa::kernels::x86::emu::fmadd256(a, b, c)
#define _mm512_cvtph_ps(h) ::jepa::kernels::x86::emu::cvtph_ps(h)
#define _mm512_maskz_loadu_ps(k, p) ::jepa::kernels::x86::emu::maskz_loadu_ps(k, p)
#define _mm512_mask_storeu_ps(p, k, v) ::jepa::kernels::x86::emu::mask_storeu_ps(p, k, v)
#define _mm512_cvtepi32_ps(v) ::jepa::kernels::x86::emu::cvtepi32_ps(v)
#define _mm512_cvtps_epi32(v) ::jepa::kernels::x86::emu::cvtps_epi32(v)
#else
// GCC 12 -Wall false positive ("__Y is used uninitialized") inside
// avx512fintrin.h: only silencing it around the include works.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#if !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>
#pragma GCC diagnostic pop
#define JEPA_TARGET_AVX2 __attribute__((target("avx2,fma,f16c")))
#define JEPA_TARGET_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma,f16c")))
#define JEPA_TARGET_AVX512VNNI \
  __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,avx2,fma,f16c")))
#define JEPA_TARGET_AVX512BF16 \
  __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,avx512bf16,avx2,fma,f16c")))
// AMX kernels: tile instructions are inline asm (x86/tile-gemm-amx.hpp), so only
// their AVX-512 epilogues need a target.
#define JEPA_TARGET_AMX JEPA_TARGET_AVX512BF16
#endif

#if defined(JEPA_X86_EMULATE)  // forced inlining of SIMDe's loops makes compiles crawl
#define JEPA_INLINE_AVX2 inline
#define JEPA_INLINE_AVX512 inline
#define JEPA_INLINE_AVX512VNNI inline
#define JEPA_INLINE_AVX512BF16 inline
#else
#define JEPA_INLINE_AVX2 inline __attribute__((always_inline)) JEPA_TARGET_AVX2
#define JEPA_INLINE_AVX512 inline __attribute__((always_inline)) JEPA_TARGET_AVX512
#define JEPA_INLINE_AVX512VNNI inline __attribute__((always_inline)) JEPA_TARGET_AVX512VNNI
#define JEPA_INLINE_AVX512BF16 inline __attribute__((always_inline)) JEPA_TARGET_AVX512BF16
#endif

namespace jepa {
namespace kernels {
namespace x86 {

// ---- AVX2 -------------------------------------------------------------------

// Lane mask for the first `valid` of 8 lanes (valid in [0, 8]).
JEPA_INLINE_AVX2 __m256i tail_mask8(int valid) {
  const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(valid), idx);
}

JEPA_INLINE_AVX2 __m256 load8_or_zero(const float* p, int valid) {
  if (p == nullptr) return _mm256_setzero_ps();
  if (valid >= 8) return _mm256_loadu_ps(p);
  return _mm256_maskload_ps(p, tail_mask8(valid));
}

// e^z for z <= 0 (clamped at -87, where e^z is still a normal float):
// Cody-Waite range reduction + the Cephes degree-6 polynomial, ~1 ulp.
JEPA_INLINE_AVX2 __m256 exp_nonpositive_avx2(__m256 z) {
  z = _mm256_max_ps(z, _mm256_set1_ps(-87.0f));
  const __m256 n = _mm256_round_ps(_mm256_mul_ps(z, _mm256_set1_ps(1.44269504088896341f)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), z);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
  __m256 p = _mm256_set1_ps(1.9875691500e-4f);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
  p = _mm256_fmadd_ps(_mm256_mul_ps(p, r), r, _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
  const __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  return _mm256_mul_ps(p, _mm256_castsi256_ps(e));
}

// Exact-erf GELU, 0.5 x (1 + erf(x / sqrt 2)), with erf as the rational
// function of ref::gelu_erf (its comment gives the error).
JEPA_INLINE_AVX2 __m256 gelu_avx2(__m256 x) {
  using namespace ref::gelu_erf;
  const __m256 lim = _mm256_set1_ps(kClamp), nlim = _mm256_set1_ps(-kClamp);
  // max(NaN, -c) is -c: the NaN comes back through hx below.
  const __m256 u = _mm256_min_ps(_mm256_max_ps(_mm256_mul_ps(x, _mm256_set1_ps(kInvSqrt2)), nlim), lim);
  const __m256 s = _mm256_mul_ps(u, u);
  __m256 p = _mm256_set1_ps(kP[5]), q = _mm256_set1_ps(kQ[5]);
  for (int i = 4; i >= 0; --i) {
    p = _mm256_fmadd_ps(p, s, _mm256_set1_ps(kP[i]));
    q = _mm256_fmadd_ps(q, s, _mm256_set1_ps(kQ[i]));
  }
  const __m256 ratio = _mm256_div_ps(_mm256_mul_ps(u, p), q);
  const __m256 erf = _mm256_min_ps(_mm256_max_ps(ratio, _mm256_set1_ps(-1.0f)), _mm256_set1_ps(1.0f));
  const __m256 hx = _mm256_mul_ps(x, _mm256_set1_ps(0.5f));
  return _mm256_fmadd_ps(hx, erf, hx);
}

// The common float epilogue on 8 lanes of row m, columns [n, n + valid):
// v already includes the bias; then GELU, residual, store.
JEPA_INLINE_AVX2 void finish8_avx2(const GemmArgs& a, int32_t m, int32_t n, __m256 v, int valid) {
  if (a.epilogue == Epilogue::gelu) v = gelu_avx2(v);
  if (a.residual) v = _mm256_add_ps(v, load8_or_zero(a.residual + (size_t)m * a.ldr + n, valid));
  float* y = a.y + (size_t)m * a.ldy + n;
  if (valid >= 8)
    _mm256_storeu_ps(y, v);
  else
    _mm256_maskstore_ps(y, tail_mask8(valid), v);
}

// ---- AVX-512 ----------------------------------------------------------------

JEPA_INLINE_AVX512 __mmask16 tail_mask16(int valid) {
  return valid >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (valid > 0 ? valid : 0)) - 1u);
}

JEPA_INLINE_AVX512 __m512 load16_or_zero(const float* p, int valid) {
  if (p == nullptr) return _mm512_setzero_ps();
  return _mm512_maskz_loadu_ps(tail_mask16(valid), p);
}

// Horizontal max / sum of 16 floats in a fixed order, from intrinsics SIMDe
// 0.7.4 also has (it lacks _mm512_reduce_*_ps), so emulated tests run them.
JEPA_INLINE_AVX512 float hmax16(__m512 v) {
  __m128 m = _mm_max_ps(_mm_max_ps(_mm512_castps512_ps128(v), _mm512_extractf32x4_ps(v, 1)),
                        _mm_max_ps(_mm512_extractf32x4_ps(v, 2), _mm512_extractf32x4_ps(v, 3)));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  return _mm_cvtss_f32(_mm_max_ss(m, _mm_movehdup_ps(m)));
}

JEPA_INLINE_AVX512 float hsum16(__m512 v) {
  __m128 s = _mm_add_ps(_mm_add_ps(_mm512_castps512_ps128(v), _mm512_extractf32x4_ps(v, 1)),
                        _mm_add_ps(_mm512_extractf32x4_ps(v, 2), _mm512_extractf32x4_ps(v, 3)));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  return _mm_cvtss_f32(_mm_add_ss(s, _mm_movehdup_ps(s)));
}

JEPA_INLINE_AVX512 __m512 exp_nonpositive_avx512(__m512 z) {
  z = _mm512_max_ps(z, _mm512_set1_ps(-87.0f));
  const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(z, _mm512_set1_ps(1.44269504088896341f)),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), z);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
  __m512 p = _mm512_set1_ps(1.9875691500e-4f);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
  p = _mm512_fmadd_ps(_mm512_mul_ps(p, r), r, _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
  // p * 2^n in one op: n >= -126, so 2^n is a normal float and the product
  // rounds exactly as p times the 2^n the AVX2 and scalar versions build.
  return _mm512_scalef_ps(p, n);
}

// Same steps as gelu_avx2, so both ISAs give the same values.
JEPA_INLINE_AVX512 __m512 gelu_avx512(__m512 x) {
  using namespace ref::gelu_erf;
  const __m512 lim = _mm512_set1_ps(kClamp), nlim = _mm512_set1_ps(-kClamp);
  const __m512 u = _mm512_min_ps(_mm512_max_ps(_mm512_mul_ps(x, _mm512_set1_ps(kInvSqrt2)), nlim), lim);
  const __m512 s = _mm512_mul_ps(u, u);
  __m512 p = _mm512_set1_ps(kP[5]), q = _mm512_set1_ps(kQ[5]);
  for (int i = 4; i >= 0; --i) {
    p = _mm512_fmadd_ps(p, s, _mm512_set1_ps(kP[i]));
    q = _mm512_fmadd_ps(q, s, _mm512_set1_ps(kQ[i]));
  }
  const __m512 ratio = _mm512_div_ps(_mm512_mul_ps(u, p), q);
  const __m512 erf = _mm512_min_ps(_mm512_max_ps(ratio, _mm512_set1_ps(-1.0f)), _mm512_set1_ps(1.0f));
  const __m512 hx = _mm512_mul_ps(x, _mm512_set1_ps(0.5f));
  return _mm512_fmadd_ps(hx, erf, hx);
}

// acc + the u8 x s8 dot products of u and s in groups of 4 (vpdpbusd), with
// acc updated in place: on the intrinsic, GCC 12 copies the accumulators of an
// unrolled 8x32 tile between registers and the stack on every k step (about
// 25 vmovdqa per 16 vpdpbusd, the loop at ~60 % of the instruction's peak).
// The asm pins each accumulator to one register; SIMDe builds and other
// compilers take the intrinsic.
JEPA_INLINE_AVX512VNNI __m512i dpbusd_inplace(__m512i acc, __m512i u, __m512i s) {
#if defined(__GNUC__) && !defined(__clang__) && !defined(JEPA_X86_EMULATE)
  __asm__("vpdpbusd %2, %1, %0" : "+v"(acc) : "v"(u), "v"(s));
  return acc;
#else
  return _mm512_dpbusd_epi32(acc, u, s);
#endif
}

// acc + the pairwise bf16 products of a and b (vdpbf16ps), in place for the
// same reason as dpbusd_inplace.
JEPA_INLINE_AVX512BF16 __m512 dpbf16_inplace(__m512 acc, __m512bh a, __m512bh b) {
#if defined(__GNUC__) && !defined(__clang__) && !defined(JEPA_X86_EMULATE)
  __asm__("vdpbf16ps %2, %1, %0" : "+v"(acc) : "v"(a), "v"(b));
  return acc;
#else
  return _mm512_dpbf16_ps(acc, a, b);
#endif
}

// lo and hi rounded to bf16 (nearest even): element e of the result is lo[e]
// for e < 16, hi[e - 16] above (vcvtne2ps2bf16; SIMDe 0.7.4 lacks it, so an
// emulated build rounds with the scalar reference).
JEPA_INLINE_AVX512BF16 __m512i cvt2_bf16(__m512 hi, __m512 lo) {
#if defined(JEPA_X86_EMULATE)
  float f[32];
  uint16_t h[32];
  _mm512_storeu_ps(f, lo);
  _mm512_storeu_ps(f + 16, hi);
  for (int i = 0; i < 32; ++i) h[i] = ref::f32_to_bf16(f[i]);
  return _mm512_loadu_si512(h);
#else
  return (__m512i)_mm512_cvtne2ps_pbh(hi, lo);
#endif
}

// The epilogue of 16 outputs (GELU, residual, store), with GemmArgs' output
// fields copied once, to be held in registers by loops that store many
// vectors. Read through `a` instead, each masked store to y
// (GCC treats it as a write of any type) makes the compiler reload a.y,
// a.ldy, a.epilogue and a.residual: with this copy, the AMX epilogues' inner
// loop (once per row of each 16 x 16 accumulator tile) went from 24
// instructions to 16.
struct Finish16Avx512 {
  float* y;
  size_t ldy;
  const float* residual;
  size_t ldr;
  bool gelu;

  explicit Finish16Avx512(const GemmArgs& a)
      : y(a.y), ldy(a.ldy), residual(a.residual), ldr(a.ldr), gelu(a.epilogue == Epilogue::gelu) {}

  // y[m][n, n + 16) = epilogue(v) (+ residual) on the lanes of `lanes`.
  JEPA_INLINE_AVX512 void operator()(int32_t m, int32_t n, __m512 v, __mmask16 lanes) const {
    if (gelu) v = gelu_avx512(v);
    if (residual) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(lanes, residual + (size_t)m * ldr + n));
    _mm512_mask_storeu_ps(y + (size_t)m * ldy + n, lanes, v);
  }
};

// One vector's epilogue: y[m][n, n + valid) (valid <= 16).
JEPA_INLINE_AVX512 void finish16_avx512(const GemmArgs& a, int32_t m, int32_t n, __m512 v, int valid) {
  const Finish16Avx512 out(a);
  out(m, n, v, tail_mask16(valid));
}

}  // namespace x86
}  // namespace kernels
}  // namespace jepa

#endif  // JEPA_KERNELS_X86_COMMON_X86_HPP
