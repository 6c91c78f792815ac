// jepa/kernels/attention-dispatch.hpp: which attention tile kernel
// (kernels/attention-tile.hpp) runs: the best one compiled in that the CPU
// supports and the ISA cap (set_isa_cap / JEPA_MAX_ISA) admits, else the
// portable reference. The list is fixed at compile time; choosing is a few
// loads and compares, so the op asks on every call and a cap set by a test or
// tool takes effect at once (as for the GEMM table, never while another
// thread runs inference).
#ifndef JEPA_KERNELS_ATTENTION_DISPATCH_HPP
#define JEPA_KERNELS_ATTENTION_DISPATCH_HPP

#include <cstddef>

#include "../config.hpp"
#include "attention-tile.hpp"
#include "cpu_features.hpp"
#include "ref/f32-attention-tile-ref.hpp"

#if JEPA_ARCH_X86_64 && !defined(JEPA_NO_SIMD) && !defined(JEPA_KERNELS_DECLARE_ONLY)
#include "x86/f32-attention-8x64-avx2.hpp"
#include "x86/f32-attention-8x64-avx512.hpp"
#endif
#if JEPA_ARCH_AARCH64 && !defined(JEPA_NO_SIMD) && !defined(JEPA_KERNELS_DECLARE_ONLY)
#include "arm/f32-attention-8x64-neon.hpp"
#endif

namespace jepa {
namespace kernels {

struct AttnKernelInfo {
  const char* name;
  Isa isa;
  AttnTileFn fn;
  AttnPackKtFn pack_kt;  // null: the kernel reads k as it is (AttnTileArgs::kt stays null)
  AttnWidenF16Fn widen_f16;  // null: the scalar conversion (ref/math.hpp)
};

// Every tile kernel in this build, best first; the reference is always last.
// Defined here unless this TU only declares it (config.hpp: JEPA_KERNELS_EXTERN).
JEPA_KERNEL_TABLE const AttnKernelInfo* attention_kernels(size_t* count);

#if !defined(JEPA_KERNELS_DECLARE_ONLY)
JEPA_KERNEL_TABLE const AttnKernelInfo* attention_kernels(size_t* count) {
  static const AttnKernelInfo kAll[] = {
#if defined(JEPA_KERNELS_X86_AVX512) && defined(JEPA_KERNELS_X86_AVX2)
      // Reads the AVX2 packer's layout (every AVX-512 CPU has AVX2).
      {"f32_attention_8x64__avx512", Isa::avx512, &x86::f32_attention_8x64__avx512, &x86::f32_attention_pack_kt__avx2,
       &x86::f16_widen_rows__avx2},
#endif
#if defined(JEPA_KERNELS_X86_AVX2)
      {"f32_attention_8x64__avx2", Isa::avx2, &x86::f32_attention_8x64__avx2, &x86::f32_attention_pack_kt__avx2,
       &x86::f16_widen_rows__avx2},
#endif
#if defined(JEPA_KERNELS_ARM_NEON) && defined(JEPA_HAVE_ATTENTION_NEON)
      {"f32_attention_8x64__neon", Isa::neon, &arm::f32_attention_8x64__neon, nullptr, &arm::f16_widen_rows__neon},
#endif
      {"f32_attention_tile__ref", Isa::scalar, &ref::f32_attention_tile__ref, nullptr, nullptr},
  };
  *count = sizeof(kAll) / sizeof(kAll[0]);
  return kAll;
}
#endif  // !JEPA_KERNELS_DECLARE_ONLY

// The portable reference tile (always compiled in).
inline const AttnKernelInfo& reference_attention_kernel() {
  size_t n = 0;
  const AttnKernelInfo* all = attention_kernels(&n);
  return all[n - 1];
}

// The kernel the attention op runs now.
inline const AttnKernelInfo& choose_attention_kernel(const CpuFeatures& f = cpu_features()) {
  size_t n = 0;
  const AttnKernelInfo* all = attention_kernels(&n);
  for (size_t i = 0; i + 1 < n; ++i)
    if (f.has(isa_requires(all[i].isa)) && isa_cap_allows(all[i].isa)) return all[i];
  return all[n - 1];
}

}  // namespace kernels
}  // namespace jepa

#endif  // JEPA_KERNELS_ATTENTION_DISPATCH_HPP
