// jepa/kernels/x86/bf16-gemm-6x16-avx2.hpp: bf16_gemm_6x16__avx2, bf16 weights in
// panels of 16 rows (Layout::panel, NR = 16, KR = 2), f32 activations, AVX2 + FMA.
// bf16 weights, KR = 2 pairs: a 16-bit shift / mask gives two k per load, exact conversion. The microkernel is float-panel-avx2.hpp's 6 x 16 tile.
#ifndef JEPA_KERNELS_X86_BF16_GEMM_6X16_AVX2_HPP
#define JEPA_KERNELS_X86_BF16_GEMM_6X16_AVX2_HPP

#include "float-panel-avx2.hpp"

#if defined(JEPA_KERNELS_X86_AVX2)
namespace jepa {
namespace kernels {
namespace x86 {

JEPA_TARGET_AVX2 inline void bf16_gemm_6x16__avx2(const GemmArgs& a) {
  float_gemm_6x16_avx2<PanelWeights::bf16>(a);
}

}  // namespace x86
}  // namespace kernels
}  // namespace jepa
#endif  // JEPA_KERNELS_X86_AVX2

#endif  // JEPA_KERNELS_X86_BF16_GEMM_6X16_AVX2_HPP
