// jepa/kernels/attention-dispatch.hpp: which attention tile kernel
// (kernels/attention-tile.hpp) runs: the best one compiled in that the CPU
// supports, the ISA cap (set_isa_cap / JEPA_MAX_ISA) admits and the model's
// AttnMath allows, else the portable reference. The list is fixed at compile
// time; choosing is a few loads and compares, so the op asks on every call
// and a cap set by a test or tool takes effect at once (as for the GEMM
// table, never while another thread runs inference).
#ifndef JEPA_KERNELS_ATTENTION_DISPATCH_HPP
#define JEPA_KERNELS_ATTENTION_DISPATCH_HPP

#include <cstddef>

#include "../config.hpp"
#include "attention-tile.hpp"
#include "cpu_features.hpp"
#include "ref/bf16-attention-tile-ref.hpp"
#include "ref/f32-attention-tile-ref.hpp"

#if JEPA_ARCH_X86_64 && !defined(JEPA_NO_SIMD) && !defined(JEPA_KERNELS_DECLARE_ONLY)
#include "x86/bf16-attention-128x64-amx.hpp"
#include "x86/bf16-attention-8x64-avx512bf16.hpp"
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
  AttnMath math = AttnMath::f32;
  AttnPackVFn pack_v = nullptr;  // null: V rows copied as f32 (AttnTileArgs::v); else K and V both packed
  int32_t rows_per_call = kAttnRows;  // query rows the op passes per call (<= kAttnMaxCallRows)
  // Null, or called by the op on the thread of a task before its first tile
  // and after its last (the AMX tiles configure their registers once a task).
  void (*task_begin)() = nullptr;
  void (*task_end)() = nullptr;
};

// Every tile kernel in this build, best first; the f32 reference is always
// last (the bf16 reference is not a candidate: reference_attention_kernel).
// Defined here unless this TU only declares it (config.hpp: JEPA_KERNELS_EXTERN).
JEPA_KERNEL_TABLE const AttnKernelInfo* attention_kernels(size_t* count);

#if !defined(JEPA_KERNELS_DECLARE_ONLY)
JEPA_KERNEL_TABLE const AttnKernelInfo* attention_kernels(size_t* count) {
  static const AttnKernelInfo kAll[] = {
#if defined(JEPA_KERNELS_X86_AMX)
      {"bf16_attention_128x64__amx", Isa::amx, &x86::bf16_attention_128x64__amx,
       &x86::bf16_attention_pack_k__avx512bf16, nullptr, AttnMath::bf16, &x86::bf16_attention_pack_v__avx512bf16,
       kAttnMaxCallRows, &x86::bf16_attention_begin__amx, &x86::amx_release},
#endif
#if defined(JEPA_KERNELS_X86_AVX512BF16)
      {"bf16_attention_8x64__avx512bf16", Isa::avx512bf16, &x86::bf16_attention_8x64__avx512bf16,
       &x86::bf16_attention_pack_k__avx512bf16, nullptr, AttnMath::bf16, &x86::bf16_attention_pack_v__avx512bf16},
#endif
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

// The portable reference tile of each arithmetic (always compiled in).
inline const AttnKernelInfo& reference_attention_kernel(AttnMath math = AttnMath::f32) {
  static const AttnKernelInfo kBf16 = {"bf16_attention_tile__ref", Isa::scalar, &ref::bf16_attention_tile__ref,
                                       nullptr, nullptr, AttnMath::bf16, nullptr, kAttnRows, nullptr, nullptr};
  if (math == AttnMath::bf16) return kBf16;
  size_t n = 0;
  const AttnKernelInfo* all = attention_kernels(&n);
  return all[n - 1];
}

// Whether a kernel takes a problem of this head_dim whose K/V are (not) all
// f32: the bf16 tiles (the reference too) read f32 segments only, and heads up
// to kAttnBf16MaxHeadDim; the f32 tiles take anything.
inline bool attention_kernel_takes(const AttnKernelInfo& k, int64_t head_dim, bool kv_all_f32) {
  return k.math == AttnMath::f32 || (kv_all_f32 && head_dim <= kAttnBf16MaxHeadDim);
}

// The kernel the attention op runs now: the first the CPU and cap allow whose
// arithmetic `math` admits (bf16 admits f32) and which takes the problem.
inline const AttnKernelInfo& choose_attention_kernel(AttnMath math, int64_t head_dim, bool kv_all_f32,
                                                     const CpuFeatures& f = cpu_features()) {
  size_t n = 0;
  const AttnKernelInfo* all = attention_kernels(&n);
  for (size_t i = 0; i + 1 < n; ++i)
    if ((all[i].math == AttnMath::f32 || math == AttnMath::bf16) && f.has(isa_requires(all[i].isa)) &&
        isa_cap_allows(all[i].isa) && attention_kernel_takes(all[i], head_dim, kv_all_f32))
      return all[i];
  return all[n - 1];
}

// The f32 kernel (what every model runs unless it allows bf16).
inline const AttnKernelInfo& choose_attention_kernel(const CpuFeatures& f = cpu_features()) {
  return choose_attention_kernel(AttnMath::f32, 0, true, f);
}

}  // namespace kernels
}  // namespace jepa

#endif  // JEPA_KERNELS_ATTENTION_DISPATCH_HPP
