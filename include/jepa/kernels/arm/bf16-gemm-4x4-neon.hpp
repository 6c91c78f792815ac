// jepa/kernels/arm/bf16-gemm-4x4-neon.hpp: bf16_gemm_4x4__neon, the AArch64 baseline
// (ARMv8-A NEON, fp32 FMA) GEMM for bfloat16 weights, widened to f32 in registers (SHLL #16),
// canonical row_major layout, read in place. Tiles of 4 activation rows x 4
// weight rows in dot form (see neon-float-gemm.hpp). Agrees with ref::gemm__ref
// within float summation-order tolerance.
#ifndef JEPA_KERNELS_ARM_BF16_GEMM_4X4_NEON_HPP
#define JEPA_KERNELS_ARM_BF16_GEMM_4X4_NEON_HPP

#include "neon-float-gemm.hpp"

#if defined(JEPA_KERNELS_ARM_NEON)
namespace jepa {
namespace kernels {
namespace arm {

// Rows [0, a.m), columns [a.n0, a.n_end()); activations a.x as f32 (no a.xp).
inline void bf16_gemm_4x4__neon(const GemmArgs& a) {
  float_dot_gemm<LoadBF16>(a);
}

}  // namespace arm
}  // namespace kernels
}  // namespace jepa
#endif  // JEPA_KERNELS_ARM_NEON

#endif  // JEPA_KERNELS_ARM_BF16_GEMM_4X4_NEON_HPP
