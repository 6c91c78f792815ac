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
//   JEPA_NO_FILESYSTEM      leave out everything that touches files (mmap,
//                           fopen, atomic save). Bare-metal builds.
//   JEPA_NO_THREADS         leave out the std::thread pool.
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

#if !defined(JEPA_NO_FILESYSTEM) && !(defined(__unix__) || defined(__APPLE__))
#define JEPA_NO_FILESYSTEM 1
#endif

#endif  // JEPA_CONFIG_HPP
