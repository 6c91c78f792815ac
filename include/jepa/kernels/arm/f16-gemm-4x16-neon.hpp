// jepa/kernels/arm/f16-gemm-4x16-neon.hpp: f16_gemm_4x16__neon, the AArch64 baseline
// (ARMv8-A NEON, fp32 FMA) GEMM for IEEE f16 weights (widened to f32 in registers, FCVTL) in
// panels of 16 rows (Layout::panel, NR = 16, KR = 1). Tiles of 4 activation rows
// x 16 columns, broadcast form (neon-float-panel.hpp); x read in place as f32.
// Agrees with ref::gemm__ref within float summation tolerance.
#ifndef JEPA_KERNELS_ARM_F16_GEMM_4X16_NEON_HPP
#define JEPA_KERNELS_ARM_F16_GEMM_4X16_NEON_HPP

#include "neon-float-panel.hpp"

#if defined(JEPA_KERNELS_ARM_NEON)
namespace jepa {
namespace kernels {
namespace arm {

// Rows [0, a.m), columns [a.n0, a.n_end()) (a.n0 a multiple of 16).
inline void f16_gemm_4x16__neon(const GemmArgs& a) { panel_gemm<FloatPanelTile<PanelLoadF16>, 4>(a); }

}  // namespace arm
}  // namespace kernels
}  // namespace jepa
#endif  // JEPA_KERNELS_ARM_NEON

#endif  // JEPA_KERNELS_ARM_F16_GEMM_4X16_NEON_HPP
