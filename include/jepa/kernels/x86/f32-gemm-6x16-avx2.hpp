// jepa/kernels/x86/f32-gemm-6x16-avx2.hpp: f32_gemm_6x16__avx2, f32 weights in
// panels of 16 rows (Layout::panel, NR = 16, KR = 1), f32 activations, AVX2 + FMA.
// f32 weights: two ymm loads per k. The microkernel is float-panel-avx2.hpp's 6 x 16 tile.
#ifndef JEPA_KERNELS_X86_F32_GEMM_6X16_AVX2_HPP
#define JEPA_KERNELS_X86_F32_GEMM_6X16_AVX2_HPP

#include "float-panel-avx2.hpp"

#if defined(JEPA_KERNELS_X86_AVX2)
namespace jepa {
namespace kernels {
namespace x86 {

JEPA_TARGET_AVX2 inline void f32_gemm_6x16__avx2(const GemmArgs& a) {
  float_gemm_6x16_avx2<PanelWeights::f32>(a);
}

}  // namespace x86
}  // namespace kernels
}  // namespace jepa
#endif  // JEPA_KERNELS_X86_AVX2

#endif  // JEPA_KERNELS_X86_F32_GEMM_6X16_AVX2_HPP
