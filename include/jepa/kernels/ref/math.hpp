// jepa/kernels/ref/math.hpp: scalar helpers shared by every reference kernel
// and by the SIMD kernels' tails: exact GELU (and the vector GELU's erf
// coefficients), f16/bf16 conversion.
#ifndef JEPA_KERNELS_REF_MATH_HPP
#define JEPA_KERNELS_REF_MATH_HPP

#include <cmath>
#include <cstdint>
#include <cstring>

namespace jepa {
namespace kernels {
namespace ref {

// lanes[0] + ... + lanes[15], folded in halves (lane j += lane j + half, half =
// 8, 4, 2, 1): the order of ops::layernorm_row's statistics, which its SIMD
// row kernels (kernels/x86/layernorm-*.hpp) reproduce bit for bit.
inline float fold_lanes16(float* lanes) {
  for (int half = 8; half > 0; half /= 2)
    for (int j = 0; j < half; ++j) lanes[j] += lanes[j + half];
  return lanes[0];
}

// nn.GELU() default: 0.5 x (1 + erf(x / sqrt 2)).
inline float gelu(float x) { return 0.5f * x * (1.0f + std::erf(x * 0.70710678118654752440f)); }

// The erf of the vector GELU (gelu_avx2, gelu_avx512, gelu_neon):
//   erf(u) ~= clamp(u P(u^2) / Q(u^2), -1, 1), u clamped to +-kClamp,
//   gelu = 0.5 x + 0.5 x erf(x / sqrt 2),
// a (5, 5) rational fit made by tools/fit_gelu_erf.py on [0, 3.925] (past it
// erf rounds to 1 in f32): |error| <= 7e-8 in exact arithmetic. Past 3.93 the
// rational function rises above 1 (by 1.2e-6 at kClamp), so the clamp makes
// erf exactly +-1 there and gelu exactly x or 0 for large |x|. Measured in
// f32, |gelu error| <= 2.2e-7 |x| (tests/kernels/test_vector_math.cpp). It
// replaced Abramowitz-Stegun 7.1.26 (erfc through a polynomial in 1 / (1 +
// 0.3275911 u) times e^-u^2): the same accuracy in 1 / 1.6 of the time on
// Zen 4. Like std::erf in ref::gelu, the negative side loses relative
// accuracy where gelu(x) is tiny (x < -3), not absolute.
namespace gelu_erf {
constexpr float kClamp = 4.1f;
constexpr float kInvSqrt2 = 0.70710678118654752f;
// P(s) = kP[0] + kP[1] s + ... + kP[5] s^5; Q likewise with Q(0) = 1.
constexpr float kP[6] = {1.12837915f, 0.183876706f, 0.0520077228f, 0.00352098593f, 2.85491274e-4f, 2.17900966e-6f};
constexpr float kQ[6] = {1.0f, 0.496289477f, 0.111522018f, 0.0144719676f, 0.00111476727f, 3.94627706e-5f};
}  // namespace gelu_erf

inline float f16_to_f32(uint16_t h) {
  const uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1Fu;
  uint32_t mant = h & 0x3FFu;
  uint32_t bits;
  if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else {  // subnormal: renormalise
      exp = 127 - 15 + 1;
      while ((mant & 0x400u) == 0) { mant <<= 1; --exp; }
      mant &= 0x3FFu;
      bits = sign | (exp << 23) | (mant << 13);
    }
  } else if (exp == 31) {
    bits = sign | 0x7F800000u | (mant << 13);
  } else {
    bits = sign | ((exp + 127 - 15) << 23) | (mant << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

// Round to nearest even, with overflow to inf and NaN kept NaN.
inline uint16_t f32_to_f16(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  const uint32_t sign = (x >> 16) & 0x8000u;
  const uint32_t abs = x & 0x7FFFFFFFu;
  if (abs >= 0x7F800000u) return (uint16_t)(sign | 0x7C00u | (abs > 0x7F800000u ? 0x200u : 0));
  if (abs >= 0x477FF000u) return (uint16_t)(sign | 0x7C00u);  // rounds to >= 65520: inf
  if (abs < 0x38800000u) {  // below the smallest normal f16: subnormal or zero
    if (abs < 0x33000000u) return (uint16_t)sign;
    const uint32_t e = abs >> 23;
    const uint32_t m = (abs & 0x7FFFFFu) | 0x800000u;
    const uint32_t shift = 126 - e;  // 14 + (112 - e) + 1 ... keeps 10 bits
    uint32_t q = m >> (shift - 0);
    const uint32_t rem = m & ((1u << shift) - 1);
    const uint32_t half = 1u << (shift - 1);
    if (rem > half || (rem == half && (q & 1))) ++q;
    return (uint16_t)(sign | q);
  }
  uint32_t r = abs - 0x38000000u;  // rebias exponent 127 -> 15
  const uint32_t rem = r & 0x1FFFu;
  r >>= 13;
  if (rem > 0x1000u || (rem == 0x1000u && (r & 1))) ++r;
  return (uint16_t)(sign | r);
}

inline float bf16_to_f32(uint16_t h) {
  uint32_t bits = (uint32_t)h << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

inline uint16_t f32_to_bf16(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  if ((x & 0x7FFFFFFFu) > 0x7F800000u) return (uint16_t)((x >> 16) | 0x40u);  // quiet NaN
  x += 0x7FFFu + ((x >> 16) & 1u);
  return (uint16_t)(x >> 16);
}

}  // namespace ref
}  // namespace kernels
}  // namespace jepa

#endif  // JEPA_KERNELS_REF_MATH_HPP
