// jepa/kernels/arm/neon-int8-common.hpp: what the AArch64 q8/q4 kernels share:
// per-row int8 quantization of the float activations into caller scratch, the
// canonical q8/q4 weight accessors, the 4-bit unpack, and the dequantizing
// epilogue. The int32 dot products themselves (SMULL/SADALP, SDOT, SMMLA) live in
// the per-ISA kernel files; they all produce the same exact integer sums, so the
// q8 (and q4) kernels agree bit for bit across NEON, dotprod and i8mm.
#ifndef JEPA_KERNELS_ARM_NEON_INT8_COMMON_HPP
#define JEPA_KERNELS_ARM_NEON_INT8_COMMON_HPP

#include <cmath>

#include "../ref/prepare-ref.hpp"  // quantize_multiplier
#include "neon-common.hpp"

#if defined(JEPA_KERNELS_ARM_NEON)
namespace jepa {
namespace kernels {
namespace arm {

// The int8 activation rows of a.xp (ActFormat::s8, written by the prepare pass):
// q[m][0..ld) with zeros past K (ld a multiple of 64, so whole 16/32-byte
// chunks never need a tail), scale[m].
struct QuantRows {
  const int8_t* q;
  size_t ld;
  const float* scale;
  explicit QuantRows(const PreparedX& p)
      : q(static_cast<const int8_t*>(p.data)), ld(p.ld), scale(p.scale) {}
  const int8_t* row(int32_t m) const { return q + (size_t)m * ld; }
};

// NEON version of ref::quantize_row_s8 (prepare-ref.hpp), bit for bit: amax by
// FMAX (which propagates NaN), inv = 127 / amax, q = FCVTNS(x * inv) (round half
// to even, as nearbyint), saturated to [-127, 127]; non-finite rows get q = 0
// and scale NaN. Writes k values; the caller zero-fills the padding.
inline float quantize_row_s8_neon(const float* x, int32_t k, int8_t* q) {
  float32x4_t vmax = vdupq_n_f32(0.0f);
  int32_t i = 0;
  for (; i + 4 <= k; i += 4) vmax = vmaxq_f32(vmax, vabsq_f32(vld1q_f32(x + i)));
  float amax = vmaxvq_f32(vmax);
  bool finite = amax <= 3.4028234663852886e38f;
  for (; i < k; ++i) {
    const float v = std::fabs(x[i]);
    if (!(v <= 3.4028234663852886e38f)) finite = false;
    amax = v > amax ? v : amax;
  }
  if (!finite) {
    std::memset(q, 0, (size_t)k);
    return std::nanf("");
  }
  const float inv = quantize_multiplier(amax);
  const float32x4_t vinv = vdupq_n_f32(inv);
  i = 0;
  for (; i + 8 <= k; i += 8) {
    const int32x4_t lo = vcvtnq_s32_f32(vmulq_f32(vld1q_f32(x + i), vinv));
    const int32x4_t hi = vcvtnq_s32_f32(vmulq_f32(vld1q_f32(x + i + 4), vinv));
    const int8x8_t v = vqmovn_s16(vcombine_s16(vqmovn_s32(lo), vqmovn_s32(hi)));
    vst1_s8(q + i, vmax_s8(v, vdup_n_s8(-127)));
  }
  for (; i < k; ++i) {
    float v = std::nearbyint(x[i] * inv);
    v = v > 127.0f ? 127.0f : (v < -127.0f ? -127.0f : v);
    q[i] = (int8_t)v;
  }
  return amax / 127.0f;
}

// Canonical q8: int8 q[N][K], then at the next 64-byte boundary f32 scale[N].
struct Q8View {
  const int8_t* q;
  const float* scale;
  int32_t k;
  explicit Q8View(const WeightMatrix& w)
      : q(static_cast<const int8_t*>(w.data)),
        scale(reinterpret_cast<const float*>(static_cast<const uint8_t*>(w.data) +
                                             (((size_t)w.n * (size_t)w.k + 63) & ~(size_t)63))),
        k(w.k) {}
  const int8_t* row(int32_t n) const { return q + (size_t)n * (size_t)k; }
};

// Canonical q4: nibbles[N][KB][16] (element j low nibble, j+16 high, stored v+8),
// then at the next 64-byte boundary f16 scale[N][KB].
struct Q4View {
  const uint8_t* nib;
  const uint16_t* scale;
  int32_t kb;
  explicit Q4View(const WeightMatrix& w)
      : nib(static_cast<const uint8_t*>(w.data)),
        scale(nullptr),
        kb((w.k + (int32_t)format::kQ4Block - 1) / (int32_t)format::kQ4Block) {
    const size_t nib_bytes = ((size_t)w.n * (size_t)kb * 16 + 63) & ~(size_t)63;
    scale = reinterpret_cast<const uint16_t*>(nib + nib_bytes);
  }
  const uint8_t* block(int32_t n, int32_t b) const { return nib + ((size_t)n * (size_t)kb + (size_t)b) * 16; }
  float block_scale(int32_t n, int32_t b) const {
    uint16_t h;
    std::memcpy(&h, scale + (size_t)n * (size_t)kb + (size_t)b, 2);
    return ref::f16_to_f32(h);
  }
  // [scale(n[0], b), .., scale(n[3], b)] as f32 (FCVTL: exact).
  float32x4_t block_scales4(const int32_t* n, int32_t b) const {
    uint16_t h[4];
    for (int j = 0; j < 4; ++j) std::memcpy(&h[j], scale + (size_t)n[j] * (size_t)kb + (size_t)b, 2);
    return vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(h)));
  }
};

// 16 stored q4 bytes -> their low and high nibbles as int8 values v = stored - 8
// (canonical block: elements 0..15 and 16..31; panel quad: two 4 x 4 k-groups).
inline void unpack_q4(const uint8_t* p, int8x16_t* lo, int8x16_t* hi) {
  const uint8x16_t b = vld1q_u8(p);
  const int8x16_t eight = vdupq_n_s8(8);
  *lo = vsubq_s8(vreinterpretq_s8_u8(vandq_u8(b, vdupq_n_u8(0x0F))), eight);
  *hi = vsubq_s8(vreinterpretq_s8_u8(vshrq_n_u8(b, 4)), eight);
}

// The first n (< 16) weights of a q8 row chunk, zero-filled (never reads past K).
inline int8x16_t load_q8_chunk(const int8_t* p, int32_t n) {
  return n >= 16 ? vld1q_s8(p) : load_tail_s8(p, n);
}

// q8 epilogue for row m, columns n0..n0+cols, as ref::prepared_dot:
// y = fma((float) isum, xs * ws[n], bias[n]) (bias 0 if none), then GELU and
// residual. Lane-wise the same operations as the scalar reference.
inline void store_strip_q8(const GemmArgs& a, int32_t m, int32_t n0, int32_t cols, int32x4_t isum, float xs,
                           const float* ws) {
  const float32x4_t s = vmulq_n_f32(load_upto4_f32(ws + n0, cols), xs);
  store_strip_biased(a, m, n0, cols, vfmaq_f32(load_bias4(a, n0, cols), vcvtq_f32_s32(isum), s));
}

// Baseline (ARMv8.0) stand-in for SDOT: acc += the 16 products x[l] * w[l],
// folded pairwise into 4 lanes (SMULL/SMULL2 + SADALP). Each int16 holds one
// product (|p| <= 2^14), so nothing overflows, even for -128 * -128. The lane
// grouping differs from SDOT's, but only the total over lanes is ever used.
inline int32x4_t dot16_neon(int32x4_t acc, int8x16_t x, int8x16_t w) {
  acc = vpadalq_s16(acc, vmull_s8(vget_low_s8(x), vget_low_s8(w)));
  return vpadalq_s16(acc, vmull_high_s8(x, w));
}

// The q8/q4 GEMM over output columns [a.n0, a.n_end()) with the activations
// already quantized (a.xp): strips of 4 weight rows outer, tiles of 4 activation
// rows inner. T::tile<MR>(a, xq, m0, n0, cols) is the ISA's microkernel (MR 1..4).
template <class T>
inline void int8_gemm(const GemmArgs& a) {
  const QuantRows xq(*a.xp);
  const int32_t n_begin = a.n0, n_end = a.n_end();
  for (int32_t n0 = n_begin; n0 < n_end; n0 += kStrip) {
    const int32_t cols = min_i32(kStrip, n_end - n0);
    int32_t m0 = 0;
    for (; m0 + 4 <= a.m; m0 += 4) T::template tile<4>(a, xq, m0, n0, cols);
    switch (a.m - m0) {
      case 3: T::template tile<3>(a, xq, m0, n0, cols); break;
      case 2: T::template tile<2>(a, xq, m0, n0, cols); break;
      case 1: T::template tile<1>(a, xq, m0, n0, cols); break;
      default: break;
    }
  }
}

// q4 epilogue for row m, as ref::prepared_dot: facc holds, per column, the
// FMA chain over blocks of (float) isum_b * wscale_b; y = fma(facc, xs, bias),
// then GELU and residual.
inline void store_strip_q4(const GemmArgs& a, int32_t m, int32_t n0, int32_t cols, float32x4_t facc, float xs) {
  store_strip_biased(a, m, n0, cols, vfmaq_n_f32(load_bias4(a, n0, cols), facc, xs));
}

}  // namespace arm
}  // namespace kernels
}  // namespace jepa
#endif  // JEPA_KERNELS_ARM_NEON

#endif  // JEPA_KERNELS_ARM_NEON_INT8_COMMON_HPP
