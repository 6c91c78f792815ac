// jepa/kernels/kernel_headers.hpp: includes every kernel header that
// registry.inc names, for the includers of the registry (dispatch, tests,
// bench). Each header compiles to nothing when its ISA is not compiled in
// (config.hpp: JEPA_KERNELS_X86_*).
#ifndef JEPA_KERNELS_KERNEL_HEADERS_HPP
#define JEPA_KERNELS_KERNEL_HEADERS_HPP

#include "../config.hpp"
#include "ref/gemm-ref.hpp"

#if defined(JEPA_WITH_EIGEN)
#include "backends/eigen.hpp"  // registry lines tagged eigen (Backend::eigen tables only)
#endif

#if JEPA_ARCH_X86_64 && !defined(JEPA_NO_SIMD)
#include "x86/f32-gemm-6x16-avx2.hpp"
#include "x86/f32-gemm-3x4-avx2-dot.hpp"
#include "x86/f16-gemm-6x16-avx2.hpp"
#include "x86/bf16-gemm-6x16-avx2.hpp"
#include "x86/prepare-avx2.hpp"
#include "x86/prepare-avx512.hpp"
#include "x86/q8-gemm-4x16-avx2.hpp"
#include "x86/q8-gemm-4x16-avx2-q7.hpp"
#include "x86/q4-gemm-4x16-avx2.hpp"
#include "x86/f32-gemm-12x32-avx512.hpp"
#include "x86/f16-gemm-12x32-avx512.hpp"
#include "x86/bf16-gemm-12x32-avx512.hpp"
#include "x86/bf16-gemm-12x32-avx512bf16.hpp"
#include "x86/q8-gemm-8x32-avx512vnni.hpp"
#include "x86/q4-gemm-4x32-avx512vnni.hpp"
#include "x86/q8-gemm-32x32-amx.hpp"
#include "x86/bf16-gemm-32x32-amx.hpp"
#endif

#if (JEPA_ARCH_AARCH64 || JEPA_ARCH_ARM32) && !defined(JEPA_NO_SIMD)
#include "arm/bf16-gemm-4x16-neon.hpp"
#include "arm/bf16-gemm-4x4-neon.hpp"
#include "arm/f16-gemm-4x16-neon.hpp"
#include "arm/f16-gemm-4x4-neon.hpp"
#include "arm/f32-gemm-4x16-neon.hpp"
#include "arm/f32-gemm-4x4-neon.hpp"
#include "arm/prepare-neon.hpp"
#include "arm/q4-gemm-2x8-neon.hpp"
#include "arm/q4-gemm-4x4-neon.hpp"
#include "arm/q4-gemm-4x4-neondot.hpp"
#include "arm/q4-gemm-4x4-neoni8mm.hpp"
#include "arm/q4-gemm-4x8-neondot.hpp"
#include "arm/q4-gemm-4x8-neoni8mm.hpp"
#include "arm/q8-gemm-4x16-neondot.hpp"
#include "arm/q8-gemm-4x4-neon.hpp"
#include "arm/q8-gemm-4x4-neondot.hpp"
#include "arm/q8-gemm-4x4-neoni8mm.hpp"
#include "arm/q8-gemm-4x8-neon.hpp"
#include "arm/q8-gemm-4x8-neoni8mm.hpp"
#endif

#endif  // JEPA_KERNELS_KERNEL_HEADERS_HPP
