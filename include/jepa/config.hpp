// jepa/config.hpp: every configuration macro jepa-rt reads, in one place.
//
// Define these before including any jepa header (or on the compiler's command
// line). Each is optional; the defaults suit a Linux/POSIX build with runtime
// SIMD dispatch. docs/DESIGN.md and README.md ("Configuration macros") repeat
// this list for users.
//
//   JEPA_NO_SIMD            compile no SIMD kernel at all: only the scalar
//                           references (smallest code, any compiler).
//   JEPA_NO_RUNTIME_DISPATCH  never probe the CPU: use only the kernels the
//                           compiler's own target flags enable (__AVX2__,
//                           __ARM_FEATURE_DOTPROD, ...). For firmware that
//                           wants exactly one ISA, and for compilers without
//                           per-function target attributes (clang <= 15 on ARM).
//                           Kernels whose ISA the compiler does not target
//                           are then left out entirely.
//   JEPA_NO_GETENV          ignore the JEPA_MAX_ISA environment variable (the
//                           ISA cap is then set only by kernels::set_isa_cap).
//   JEPA_NO_FILESYSTEM      leave out everything that touches files (mmap,
//                           fopen, atomic save). Bare-metal builds.
//   JEPA_NO_THREADS         leave out the std::thread pool.
//   JEPA_KERNELS_EXTERN     compile the SIMD kernels once, not in every
//                           translation unit: jepa headers then only declare
//                           the kernel tables (GEMM registry, prepare pass,
//                           attention tiles), and exactly one .cpp of the
//                           program defines JEPA_KERNELS_IMPLEMENTATION before
//                           including jepa/jepa.hpp (stb style). The tables
//                           reach every kernel, so each TU that defines them
//                           spends about a minute in GCC -O3 on them; define
//                           this for the whole program or not at all. Without
//                           that .cpp the link fails (undefined
//                           jepa::kernels::registry), never the run.
//   JEPA_ASSERT(cond)       internal invariant check; default: assert() in
//                           debug builds, nothing with NDEBUG. Never used for
//                           input validation (that returns a Status).
#ifndef JEPA_CONFIG_HPP
#define JEPA_CONFIG_HPP

#ifndef JEPA_ASSERT
#include <cassert>
#define JEPA_ASSERT(cond) assert(cond)
#endif

#if defined(__x86_64__) || defined(_M_X64)
#define JEPA_ARCH_X86_64 1
#else
#define JEPA_ARCH_X86_64 0
#endif

#if defined(__aarch64__)
#define JEPA_ARCH_AARCH64 1
#else
#define JEPA_ARCH_AARCH64 0
#endif

#if defined(__arm__) && !defined(__aarch64__)
#define JEPA_ARCH_ARM32 1
#else
#define JEPA_ARCH_ARM32 0
#endif

#if defined(__GNUC__) || defined(__clang__)
#define JEPA_RESTRICT __restrict__
#define JEPA_LIKELY(x) __builtin_expect(!!(x), 1)
#define JEPA_UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define JEPA_RESTRICT
#define JEPA_LIKELY(x) (x)
#define JEPA_UNLIKELY(x) (x)
#endif

// Which x86 kernel families are compiled in (derived; do not set by hand).
// With runtime dispatch every family is compiled with per-function target
// attributes into a baseline binary and chosen by CPUID at run time; with
// JEPA_NO_RUNTIME_DISPATCH only those the compiler flags enable.
#if JEPA_ARCH_X86_64 && !defined(JEPA_NO_SIMD) && (defined(__GNUC__) || defined(__clang__))
#if !defined(JEPA_NO_RUNTIME_DISPATCH) || (defined(__AVX2__) && defined(__FMA__) && defined(__F16C__))
#define JEPA_KERNELS_X86_AVX2 1
#endif
#if !defined(JEPA_NO_RUNTIME_DISPATCH) || (defined(__AVX512F__) && defined(__AVX512BW__) && \
                                           defined(__AVX512VL__) && defined(__AVX512DQ__))
#define JEPA_KERNELS_X86_AVX512 1
#endif
#if defined(JEPA_KERNELS_X86_AVX512) && (!defined(JEPA_NO_RUNTIME_DISPATCH) || defined(__AVX512VNNI__))
#define JEPA_KERNELS_X86_AVX512VNNI 1
#endif
#if defined(JEPA_KERNELS_X86_AVX512) && (!defined(JEPA_NO_RUNTIME_DISPATCH) || defined(__AVX512BF16__))
#define JEPA_KERNELS_X86_AVX512BF16 1
#endif
// AMX tiles (inline asm, kernels/x86/tile-gemm-amx.hpp): the toolchains of
// GCC >= 11 / Clang >= 12 assemble the tile instructions (binutils >= 2.36).
#if defined(JEPA_KERNELS_X86_AVX512BF16) && !defined(JEPA_X86_EMULATE) &&                     \
    ((defined(__clang__) && __clang_major__ >= 12) || (!defined(__clang__) && __GNUC__ >= 11)) && \
    (!defined(JEPA_NO_RUNTIME_DISPATCH) || (defined(__AMX_TILE__) && defined(__AMX_INT8__) && defined(__AMX_BF16__)))
#define JEPA_KERNELS_X86_AMX 1
#endif
#endif

// Which AArch64 kernel families are compiled in (derived; do not set by hand).
// GCC >= 10 compiles every family into a baseline ARMv8-A binary (per-function
// target attributes, JEPA_ARM_TARGET_ATTRIBUTES) and dispatch picks by HWCAP.
// Clang <= 15 cannot (its arm_neon.h hides vdotq_s32 & co. from target("...")
// functions), so with clang, as with JEPA_NO_RUNTIME_DISPATCH, only the
// families the compiler flags enable (-march=armv8.2-a+dotprod+i8mm ...).
#if JEPA_ARCH_AARCH64 && !defined(JEPA_NO_SIMD)
#define JEPA_KERNELS_ARM_NEON 1
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 10 && !defined(JEPA_NO_RUNTIME_DISPATCH)
#define JEPA_ARM_TARGET_ATTRIBUTES 1
#endif
#if defined(JEPA_ARM_TARGET_ATTRIBUTES) || defined(__ARM_FEATURE_DOTPROD)
#define JEPA_KERNELS_ARM_DOTPROD 1
#endif
#if defined(JEPA_ARM_TARGET_ATTRIBUTES) || (defined(__ARM_FEATURE_DOTPROD) && defined(__ARM_FEATURE_MATMUL_INT8))
#define JEPA_KERNELS_ARM_I8MM 1
#endif
#if defined(JEPA_ARM_TARGET_ATTRIBUTES) || defined(__ARM_FEATURE_SVE)
#define JEPA_KERNELS_ARM_SVE 1
#endif
#endif

// Linkage of the kernel tables (JEPA_KERNELS_EXTERN above): JEPA_KERNEL_TABLE
// starts their declarations and definitions (inline when header-only);
// JEPA_KERNELS_DECLARE_ONLY leaves the definitions, and the SIMD kernel
// headers behind them, out of this translation unit.
#if defined(JEPA_KERNELS_IMPLEMENTATION) || defined(JEPA_KERNELS_EXTERN)
#define JEPA_KERNEL_TABLE
#else
#define JEPA_KERNEL_TABLE inline
#endif
#if defined(JEPA_KERNELS_EXTERN) && !defined(JEPA_KERNELS_IMPLEMENTATION)
#define JEPA_KERNELS_DECLARE_ONLY 1
#endif

#if !defined(JEPA_NO_FILESYSTEM) && !(defined(__unix__) || defined(__APPLE__))
#define JEPA_NO_FILESYSTEM 1
#endif

#endif  // JEPA_CONFIG_HPP
