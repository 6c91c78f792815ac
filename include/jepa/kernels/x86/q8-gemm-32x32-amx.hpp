// jepa/kernels/x86/q8-gemm-32x32-amx.hpp: q8_gemm_32x32__amx, int8 weights
// in the standard panels (Layout::panel, NR = 16, KR = 4: the bytes the VNNI
// kernel reads), activations as s8 (ActFormat::s8), AMX-INT8. tdpbssd
// multiplies s8 x s8 in groups of 4 into int32 with no saturation, so the sum
// is exact and there is no u8 offset to remove; the epilogue is the VNNI
// kernel's, so the output is bit-identical to ref::gemm_prepared__ref.
// The tile driver (32 x 32 blocks, K tail, tile config) is tile-gemm-amx.hpp.
#ifndef JEPA_KERNELS_X86_Q8_GEMM_32X32_AMX_HPP
#define JEPA_KERNELS_X86_Q8_GEMM_32X32_AMX_HPP

#include "tile-gemm-amx.hpp"

#if defined(JEPA_KERNELS_X86_AMX)
namespace jepa {
namespace kernels {
namespace x86 {

JEPA_TARGET_AMX inline void q8_gemm_32x32__amx(const GemmArgs& a) {
  format::PanelGeometry g;
  format::panel_geometry(a.w->dtype, (uint64_t)a.w->n, (uint64_t)a.w->k, a.w->params, &g);
  const uint8_t* base = static_cast<const uint8_t*>(a.w->data);
  const float* scales = reinterpret_cast<const float*>(base + g.scale_offset);
  const size_t panel_bytes = 16 * g.kp;
  const float* sx = a.xp->scale;
  const float* bias = a.bias;
  const Finish16Avx512 out(a);
  auto finish = [=](const void* acc_bytes, int32_t m0, int rows, int32_t n, int valid) JEPA_TARGET_AMX {
    // Locals, not the closure's fields: the masked stores to y count as writes
    // of any type, so fields reached through the closure would be reloaded.
    const Finish16Avx512 o = out;
    const float* const row_scale = sx + m0;
    const int32_t* acc = static_cast<const int32_t*>(acc_bytes);
    for (int p = 0; p < 2 && 16 * p < valid; ++p) {
      const int v = valid - 16 * p;
      const __mmask16 lanes = tail_mask16(v);
      const __m512 swv = _mm512_loadu_ps(scales + n + 16 * p);  // scales run to the padded N
      const __m512 b = load16_or_zero(bias ? bias + n + 16 * p : nullptr, v);
      for (int i = 0; i < rows; ++i) {
        const __m512 scale = _mm512_mul_ps(_mm512_set1_ps(row_scale[i]), swv);
        const __m512 f = _mm512_cvtepi32_ps(_mm512_load_si512(acc + i * 32 + 16 * p));
        o(m0 + i, n + 16 * p, _mm512_fmadd_ps(f, scale, b), lanes);
      }
    }
  };
  amx_gemm_32x32<true>(a, base, panel_bytes, finish);
}

}  // namespace x86
}  // namespace kernels
}  // namespace jepa
#endif  // JEPA_KERNELS_X86_AMX

#endif  // JEPA_KERNELS_X86_Q8_GEMM_32X32_AMX_HPP
