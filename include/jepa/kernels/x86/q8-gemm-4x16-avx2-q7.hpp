// jepa/kernels/x86/q8-gemm-4x16-avx2-q7.hpp: q8_gemm_4x16__avx2_q7, 7-bit
// int8 weights (tensor flag format::kTensorQ7: every value in [-63, 63],
// row sums exact, both checked at load) in panels (NR = 16, KR = 4),
// activations as u8 = q + 128 (ActFormat::u8), AVX2.
// vpmaddubsw multiplies u8 x s8 into pairs summed in saturating int16: with
// u8 <= 255 and |w| <= 63 a pair is at most 2 * 255 * 63 = 32130 < 32767, so
// it never saturates and needs no sign trick (q8_gemm_4x16__avx2 spends
// vpabsb + 2 vpsignb per row and k-group on it: this loop issues 7 of that
// kernel's 10 vector ops). The +128 offset is removed by starting every
// accumulator at -128 * row_sum[n]:
//   acc = sum (q_x + 128) q_w - 128 * row_sum[n] = sum q_x q_w
// (int32 wraparound cancels). Bit-identical to ref::gemm_prepared__ref and
// to the other q8 kernels before GELU.
#ifndef JEPA_KERNELS_X86_Q8_GEMM_4X16_AVX2_Q7_HPP
#define JEPA_KERNELS_X86_Q8_GEMM_4X16_AVX2_Q7_HPP

#include "q8-gemm-4x16-avx2.hpp"

#if defined(JEPA_KERNELS_X86_AVX2)
namespace jepa {
namespace kernels {
namespace x86 {

// The loops of q8-gemm-4x16-avx2.hpp with the q7 inner product.
JEPA_TARGET_AVX2 inline void q8_gemm_4x16__avx2_q7(const GemmArgs& a) { q8_gemm_4x16_avx2_panels<true>(a); }

}  // namespace x86
}  // namespace kernels
}  // namespace jepa
#endif  // JEPA_KERNELS_X86_AVX2

#endif  // JEPA_KERNELS_X86_Q8_GEMM_4X16_AVX2_Q7_HPP
