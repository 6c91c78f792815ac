// jepa/kernels/x86/f16-gemm-12x32-avx512.hpp: f16_gemm_12x32__avx512, f16 weights in
// panels of 16 rows (Layout::panel, NR = 16, KR = 1; two panels per 12 x 32
// tile), f32 activations, AVX-512 F. The microkernel is float-panel-avx512.hpp.
#ifndef JEPA_KERNELS_X86_F16_GEMM_12X32_AVX512_HPP
#define JEPA_KERNELS_X86_F16_GEMM_12X32_AVX512_HPP

#include "float-panel-avx512.hpp"

#if defined(JEPA_KERNELS_X86_AVX512)
namespace jepa {
namespace kernels {
namespace x86 {

JEPA_TARGET_AVX512 inline void f16_gemm_12x32__avx512(const GemmArgs& a) {
  float_gemm_12x32_avx512<PanelWeights::f16>(a);
}

}  // namespace x86
}  // namespace kernels
}  // namespace jepa
#endif  // JEPA_KERNELS_X86_AVX512

#endif  // JEPA_KERNELS_X86_F16_GEMM_12X32_AVX512_HPP
