// jepa/kernels/x86/bf16-gemm-32x32-amx.hpp: bf16_gemm_32x32__amx, bf16
// weights in the standard panels (Layout::panel, NR = 16, KR = 2: the bytes
// the vdpbf16ps kernel reads), activations rounded to bf16 (ActFormat::bf16),
// AMX-BF16. tdpbf16ps adds the products of each k-pair into f32 (denormal
// inputs and outputs flushed to zero, as AMX does), so, like the vdpbf16ps
// kernel, it computes ref::gemm_prepared__ref (bf16 x) within the float
// accumulation bound. The tile driver is tile-gemm-amx.hpp.
#ifndef JEPA_KERNELS_X86_BF16_GEMM_32X32_AMX_HPP
#define JEPA_KERNELS_X86_BF16_GEMM_32X32_AMX_HPP

#include "tile-gemm-amx.hpp"

#if defined(JEPA_KERNELS_X86_AMX)
namespace jepa {
namespace kernels {
namespace x86 {

JEPA_TARGET_AMX inline void bf16_gemm_32x32__amx(const GemmArgs& a) {
  const size_t panel_bytes = 16 * (((size_t)a.w->k + 1) & ~(size_t)1) * 2;
  const float* bias = a.bias;
  const Finish16Avx512 out(a);
  auto finish = [=](const void* acc_bytes, int32_t m0, int rows, int32_t n, int valid) JEPA_TARGET_AMX {
    // Locals, not the closure's fields: the masked stores to y count as writes
    // of any type, so fields reached through the closure would be reloaded.
    const Finish16Avx512 o = out;
    const float* acc = static_cast<const float*>(acc_bytes);
    for (int p = 0; p < 2 && 16 * p < valid; ++p) {
      const int v = valid - 16 * p;
      const __mmask16 lanes = tail_mask16(v);
      const __m512 b = load16_or_zero(bias ? bias + n + 16 * p : nullptr, v);
      for (int i = 0; i < rows; ++i)
        o(m0 + i, n + 16 * p, _mm512_add_ps(_mm512_load_ps(acc + i * 32 + 16 * p), b), lanes);
    }
  };
  amx_gemm_32x32<false>(a, static_cast<const uint8_t*>(a.w->data), panel_bytes, finish);
}

}  // namespace x86
}  // namespace kernels
}  // namespace jepa
#endif  // JEPA_KERNELS_X86_AMX

#endif  // JEPA_KERNELS_X86_BF16_GEMM_32X32_AMX_HPP
