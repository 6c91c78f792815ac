// jepa/kernels/cpu_features.hpp: what the CPU (and the OS) can run, detected
// once, plus the ISA cap that lets tests and users force lower kernel paths.
//
// x86-64: CPUID leaves 1 and 7 (sub-leaves 0, 1) and XGETBV, so AVX/AVX-512
// kernels are chosen only when the OS saves YMM/ZMM state. AArch64:
// getauxval(AT_HWCAP / AT_HWCAP2) (arm/hwcap.hpp). Elsewhere: scalar only.
// The cap comes from jepa::kernels::set_isa_cap() or, at first use, the
// environment variable JEPA_MAX_ISA=scalar|avx2|avx512|avx512vnni|avx512bf16|
// amx|neon|neondot|i8mm|sve. Kernels never test features themselves:
// dispatch.hpp turns these bits into a kernel table once.
//
// AMX (x86 tile matrix unit): on Linux the tile data state is off until the
// process asks for it (arch_prctl ARCH_REQ_XCOMP_PERM); detection asks once,
// and AMX counts as present only when the kernel grants it, so a kernel that
// runs a tile instruction can never take SIGILL. Elsewhere (no such call) it
// counts when XCR0 enables the tile state.
#ifndef JEPA_KERNELS_CPU_FEATURES_HPP
#define JEPA_KERNELS_CPU_FEATURES_HPP

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "../config.hpp"

#if JEPA_ARCH_X86_64 && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#endif
#if JEPA_ARCH_X86_64 && defined(__linux__)
#include <sys/syscall.h>  // arch_prctl(ARCH_REQ_XCOMP_PERM) for AMX
#include <unistd.h>
#endif
#if JEPA_ARCH_AARCH64
#include "arm/hwcap.hpp"  // getauxval(AT_HWCAP/AT_HWCAP2)
#endif

namespace jepa {
namespace kernels {

// Feature bits (one CpuFeatures word). x86 bits include the OS-state check:
// avx2 is only set when XCR0 enables YMM, avx512* only when it enables ZMM.
enum Feature : uint32_t {
  kFeatAvx2 = 1u << 0,       // AVX2 + FMA + F16C (all three, and YMM state)
  kFeatAvx512 = 1u << 1,     // AVX-512 F + BW + VL + DQ (and ZMM/opmask state)
  kFeatAvx512Vnni = 1u << 2,
  kFeatAvx512Bf16 = 1u << 3,
  kFeatAmx = 1u << 4,        // AMX-TILE + AMX-INT8 + AMX-BF16, tile state granted by the OS
  kFeatNeon = 1u << 8,       // AArch64 Advanced SIMD (always on AArch64)
  kFeatDotprod = 1u << 9,    // SDOT/UDOT
  kFeatI8mm = 1u << 10,      // SMMLA
  kFeatFp16 = 1u << 11,
  kFeatBf16 = 1u << 12,
  kFeatSve = 1u << 13,
  kFeatSve2 = 1u << 14,
};

struct CpuFeatures {
  uint32_t bits = 0;
  bool has(uint32_t f) const { return (bits & f) == f; }
};

// Instruction-set levels a kernel is written for. Within an architecture the
// levels are ordered (a cap admits its level and every lower one).
enum class Isa : uint8_t {
  scalar = 0,
  avx2 = 1,        // AVX2 + FMA + F16C
  avx512 = 2,      // AVX-512 F/BW/VL/DQ
  avx512vnni = 3,  // + VNNI (vpdpbusd)
  avx512bf16 = 4,  // + BF16 (vdpbf16ps)
  amx = 5,         // + AMX tiles: tdpbssd / tdpbf16ps (Sapphire Rapids and later)
  neon = 16,       // AArch64 baseline
  neondot = 17,    // + dotprod
  i8mm = 18,       // + i8mm
  sve = 19,        // + SVE
};

inline const char* isa_name(Isa i) {
  switch (i) {
    case Isa::scalar: return "scalar";
    case Isa::avx2: return "avx2";
    case Isa::avx512: return "avx512";
    case Isa::avx512vnni: return "avx512vnni";
    case Isa::avx512bf16: return "avx512bf16";
    case Isa::amx: return "amx";
    case Isa::neon: return "neon";
    case Isa::neondot: return "neondot";
    case Isa::i8mm: return "i8mm";
    case Isa::sve: return "sve";
  }
  return "?";
}

// Parses an ISA name (as isa_name prints it); false if unknown.
inline bool parse_isa(const char* s, Isa* out) {
  static const Isa all[] = {Isa::scalar, Isa::avx2, Isa::avx512, Isa::avx512vnni, Isa::avx512bf16,
                            Isa::amx, Isa::neon, Isa::neondot, Isa::i8mm, Isa::sve};
  for (Isa i : all)
    if (s && std::strcmp(s, isa_name(i)) == 0) {
      *out = i;
      return true;
    }
  return false;
}

inline bool isa_is_x86(Isa i) { return i >= Isa::avx2 && i <= Isa::amx; }
inline bool isa_is_arm(Isa i) { return i >= Isa::neon; }

// The feature bits an ISA level needs (each level includes the lower ones).
inline uint32_t isa_requires(Isa i) {
  switch (i) {
    case Isa::scalar: return 0;
    case Isa::avx2: return kFeatAvx2;
    case Isa::avx512: return kFeatAvx2 | kFeatAvx512;
    case Isa::avx512vnni: return kFeatAvx2 | kFeatAvx512 | kFeatAvx512Vnni;
    case Isa::avx512bf16: return kFeatAvx2 | kFeatAvx512 | kFeatAvx512Vnni | kFeatAvx512Bf16;
    case Isa::amx: return kFeatAvx2 | kFeatAvx512 | kFeatAvx512Vnni | kFeatAvx512Bf16 | kFeatAmx;
    case Isa::neon: return kFeatNeon;
    case Isa::neondot: return kFeatNeon | kFeatDotprod;
    case Isa::i8mm: return kFeatNeon | kFeatDotprod | kFeatI8mm;
    case Isa::sve: return kFeatNeon | kFeatSve;
  }
  return ~0u;
}

namespace detail {

#if JEPA_ARCH_X86_64
// Linux keeps the AMX tile data state off until the process asks; the grant
// is process-wide and idempotent. Other OSes: no such call (true).
inline bool amx_os_grant() {
#if defined(__linux__)
  const long kArchReqXcompPerm = 0x1023, kXfeatureXtiledata = 18;
  return syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) == 0;
#else
  return true;
#endif
}
#endif

#if JEPA_ARCH_X86_64 && (defined(__GNUC__) || defined(__clang__)) && !defined(JEPA_NO_RUNTIME_DISPATCH)
inline uint64_t xgetbv0() {
  uint32_t lo = 0, hi = 0;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return ((uint64_t)hi << 32) | lo;
}

// AMX is usable: the CPU has the tile unit (CPUID 7.0 EDX: AMX-BF16 bit 22,
// AMX-TILE 24, AMX-INT8 25), XCR0 enables XTILECFG + XTILEDATA (bits 17, 18)
// and the OS grants this process the tile data state.
inline bool amx_usable(unsigned edx7, uint64_t xcr0) {
  const bool cpu = (edx7 & (1u << 22)) && (edx7 & (1u << 24)) && (edx7 & (1u << 25));
  if (!cpu || (xcr0 & 0x60000) != 0x60000) return false;
  return amx_os_grant();
}

inline uint32_t detect_x86() {
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
  const bool fma = c & (1u << 12), osxsave = c & (1u << 27), avx = c & (1u << 28), f16c = c & (1u << 29);
  if (!osxsave || !avx) return 0;
  const uint64_t xcr0 = xgetbv0();
  const bool ymm_os = (xcr0 & 0x6) == 0x6;     // SSE + AVX state
  const bool zmm_os = (xcr0 & 0xE6) == 0xE6;   // + opmask, ZMM_Hi256, Hi16_ZMM
  unsigned max_leaf = 0, unused = 0;
  __get_cpuid(0, &max_leaf, &unused, &unused, &unused);
  if (max_leaf < 7) return 0;
  __cpuid_count(7, 0, a, b, c, d);
  const bool avx2 = b & (1u << 5);
  const bool f = b & (1u << 16), dq = b & (1u << 17), bw = b & (1u << 30), vl = b & (1u << 31);
  const bool vnni = c & (1u << 11);
  const unsigned edx7 = d;
  unsigned a1 = 0, b1 = 0, c1 = 0, d1 = 0;
  __cpuid_count(7, 1, a1, b1, c1, d1);
  const bool bf16 = a1 & (1u << 5);
  uint32_t bits = 0;
  if (avx2 && fma && f16c && ymm_os) bits |= kFeatAvx2;
  if ((bits & kFeatAvx2) && f && dq && bw && vl && zmm_os) bits |= kFeatAvx512;
  if ((bits & kFeatAvx512) && vnni) bits |= kFeatAvx512Vnni;
  if ((bits & kFeatAvx512) && bf16) bits |= kFeatAvx512Bf16;
  if ((bits & kFeatAvx512Vnni) && (bits & kFeatAvx512Bf16) && amx_usable(edx7, xcr0)) bits |= kFeatAmx;
  return bits;
}
#endif

#if JEPA_ARCH_AARCH64
// AArch64: the kernel's HWCAP words (arm/hwcap.hpp: getauxval, never
// /proc/cpuinfo, which under qemu-user is the host's) -> feature bits.
inline uint32_t arm_feature_bits(const ArmHwcaps& c) {
  uint32_t bits = kFeatNeon;  // Advanced SIMD is mandatory in the AArch64 Linux ABI
  if (c.dotprod) bits |= kFeatDotprod;
  if (c.i8mm) bits |= kFeatI8mm;
  if (c.fp16) bits |= kFeatFp16;
  if (c.bf16) bits |= kFeatBf16;
  if (c.sve) bits |= kFeatSve;
  if (c.sve2) bits |= kFeatSve2;
  return bits;
}
#endif

inline CpuFeatures detect_cpu() {
  CpuFeatures f;
#if defined(JEPA_NO_RUNTIME_DISPATCH)
  // Only what the compiler targets: the kernels compiled in are exactly these.
#if defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)
  f.bits |= kFeatAvx2;
#endif
#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VL__) && defined(__AVX512DQ__)
  f.bits |= kFeatAvx512;
#endif
#if defined(__AVX512VNNI__)
  f.bits |= kFeatAvx512Vnni;
#endif
#if defined(__AVX512BF16__)
  f.bits |= kFeatAvx512Bf16;
#endif
#if defined(__AMX_TILE__) && defined(__AMX_INT8__) && defined(__AMX_BF16__)
  if (amx_os_grant()) f.bits |= kFeatAmx;
#endif
#if defined(__ARM_NEON) && JEPA_ARCH_AARCH64
  f.bits |= kFeatNeon;
#endif
#if defined(__ARM_FEATURE_DOTPROD)
  f.bits |= kFeatDotprod;
#endif
#if defined(__ARM_FEATURE_MATMUL_INT8)
  f.bits |= kFeatI8mm;
#endif
#if defined(__ARM_FEATURE_SVE)
  f.bits |= kFeatSve;
#endif
#elif JEPA_ARCH_X86_64 && (defined(__GNUC__) || defined(__clang__))
  f.bits = detect_x86();
#elif JEPA_ARCH_AARCH64
  f.bits = arm_feature_bits(read_arm_hwcaps());
#endif
  return f;
}

// The cap as an Isa value + 1 (0: not set yet, read the environment).
inline std::atomic<int>& isa_cap_slot() {
  static std::atomic<int> slot{0};
  return slot;
}

// 255 = no cap. An unknown JEPA_MAX_ISA value means no cap (kernel_report says so).
inline int isa_cap_from_env() {
#if !defined(JEPA_NO_GETENV)
  const char* e = std::getenv("JEPA_MAX_ISA");
  Isa i;
  if (e && parse_isa(e, &i)) return (int)i;
#endif
  return 255;
}

}  // namespace detail

// Detected once (thread-safe static initialisation).
inline const CpuFeatures& cpu_features() {
  static const CpuFeatures f = detail::detect_cpu();
  return f;
}

// The current cap; 255 (as an int) means none. Isa values compare within an
// architecture.
inline int isa_cap_value() {
  int v = detail::isa_cap_slot().load(std::memory_order_acquire);
  if (v == 0) {
    v = detail::isa_cap_from_env() + 1;
    detail::isa_cap_slot().store(v, std::memory_order_release);
  }
  return v - 1;
}

// True if the cap admits ISA level i (scalar is always admitted).
inline bool isa_cap_allows(Isa i) {
  const int cap = isa_cap_value();
  if (i == Isa::scalar || cap == 255) return true;
  const Isa c = (Isa)cap;
  if (c == Isa::scalar) return false;
  if (isa_is_x86(i) != isa_is_x86(c)) return true;  // a cap for the other architecture does not apply
  return (int)i <= cap;
}

// set_isa_cap(Isa) / clear_isa_cap() live in dispatch.hpp (they also refresh
// the default kernel table). This only stores the value.
inline void store_isa_cap(int cap_or_255) {
  detail::isa_cap_slot().store(cap_or_255 + 1, std::memory_order_release);
}

inline bool cpu_supports(Isa i, const CpuFeatures& f = cpu_features()) { return f.has(isa_requires(i)); }

}  // namespace kernels
}  // namespace jepa

#endif  // JEPA_KERNELS_CPU_FEATURES_HPP
