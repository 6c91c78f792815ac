// jepa/kernels/layernorm-dispatch.hpp: which row kernel ops::layernorm_rows
// runs: the best one (AVX-512, then AVX2) compiled in that the CPU has and the
// ISA cap (set_isa_cap / JEPA_MAX_ISA) admits; else none, and the op runs its
// own generic loop (ops/layernorm.hpp: the reference). Every kernel gives the
// generic loop's bits. Choosing is a few loads and
// compares, so the op asks on every call, as for the attention tiles.
#ifndef JEPA_KERNELS_LAYERNORM_DISPATCH_HPP
#define JEPA_KERNELS_LAYERNORM_DISPATCH_HPP

#include <cstddef>
#include <cstdint>

#include "../config.hpp"
#include "cpu_features.hpp"

#if JEPA_ARCH_X86_64 && !defined(JEPA_NO_SIMD) && !defined(JEPA_KERNELS_DECLARE_ONLY)
#include "x86/layernorm-avx2.hpp"
#include "x86/layernorm-avx512.hpp"
#endif

namespace jepa {
namespace kernels {

// ops::layernorm_rows' contract: rows rows of dim floats, x ldx and y ldy
// apart, y may alias x row for row, gamma / beta may be null.
using LayerNormRowsFn = void (*)(const float* x, size_t ldx, float* y, size_t ldy, int64_t rows, int64_t dim,
                                 const float* gamma, const float* beta, float eps);

// The kernel for a CPU with features f under the current cap, or null.
JEPA_KERNEL_TABLE LayerNormRowsFn layernorm_rows_kernel(const CpuFeatures& f);

#if !defined(JEPA_KERNELS_DECLARE_ONLY)
JEPA_KERNEL_TABLE LayerNormRowsFn layernorm_rows_kernel(const CpuFeatures& f) {
#if defined(JEPA_KERNELS_X86_AVX512)
  if (f.has(isa_requires(Isa::avx512)) && isa_cap_allows(Isa::avx512)) return &x86::layernorm_rows__avx512;
#endif
#if defined(JEPA_KERNELS_X86_AVX2)
  if (f.has(isa_requires(Isa::avx2)) && isa_cap_allows(Isa::avx2)) return &x86::layernorm_rows__avx2;
#endif
  (void)f;
  return nullptr;
}
#endif  // !JEPA_KERNELS_DECLARE_ONLY

inline LayerNormRowsFn layernorm_rows_kernel() { return layernorm_rows_kernel(cpu_features()); }

}  // namespace kernels
}  // namespace jepa

#endif  // JEPA_KERNELS_LAYERNORM_DISPATCH_HPP
