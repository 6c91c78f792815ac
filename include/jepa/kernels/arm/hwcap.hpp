// jepa/kernels/arm/hwcap.hpp: what the ARM CPU we run on can execute, read from
// the ELF auxiliary vector (getauxval(AT_HWCAP/AT_HWCAP2)), the kernel's own
// statement of which instructions user space may use. Never /proc/cpuinfo: under
// qemu-user that is the host's x86 file. cpu_features.hpp calls read_arm_hwcaps()
// from its AArch64 section; nothing else should.
#ifndef JEPA_KERNELS_ARM_HWCAP_HPP
#define JEPA_KERNELS_ARM_HWCAP_HPP

#include <cstdint>

#include "../../config.hpp"

#if JEPA_ARCH_AARCH64 && defined(__linux__) && !defined(JEPA_NO_RUNTIME_DISPATCH)
#include <sys/auxv.h>
#define JEPA_ARM_HAVE_GETAUXVAL 1
#else
#define JEPA_ARM_HAVE_GETAUXVAL 0
#endif

#if JEPA_ARCH_AARCH64 && defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 10 && \
    !defined(JEPA_NO_SIMD) && !defined(JEPA_NO_RUNTIME_DISPATCH)
#include <arm_sve.h>
#define JEPA_ARM_SVE_PROBE 1
#elif defined(__ARM_FEATURE_SVE)
#include <arm_sve.h>
#define JEPA_ARM_SVE_PROBE 1
#else
#define JEPA_ARM_SVE_PROBE 0
#endif

namespace jepa {
namespace kernels {
namespace detail {

// Linux uapi <asm/hwcap.h> bit numbers (stable ABI), spelled out so this also
// builds against old kernel headers.
constexpr uint64_t kHwcapAsimd = 1ull << 1;
constexpr uint64_t kHwcapFphp = 1ull << 9;
constexpr uint64_t kHwcapAsimdhp = 1ull << 10;
constexpr uint64_t kHwcapAsimddp = 1ull << 20;  // SDOT/UDOT
constexpr uint64_t kHwcapSve = 1ull << 22;
constexpr uint64_t kHwcap2Sve2 = 1ull << 1;
constexpr uint64_t kHwcap2I8mm = 1ull << 13;  // SMMLA/USMMLA/USDOT
constexpr uint64_t kHwcap2Bf16 = 1ull << 14;  // BFDOT/BFMMLA/BFCVT

struct ArmHwcaps {
  bool neon = false;     // Advanced SIMD with fp32 FMA (every ARMv8-A Linux CPU)
  bool fp16 = false;     // half-precision arithmetic (scalar + vector)
  bool dotprod = false;  // SDOT/UDOT
  bool i8mm = false;     // SMMLA
  bool bf16 = false;
  bool sve = false;
  bool sve2 = false;
  uint32_t sve_bytes = 0;  // SVE vector length in bytes (0 without SVE)
  uint64_t hwcap = 0;      // raw AT_HWCAP, AT_HWCAP2 (for kernel_report)
  uint64_t hwcap2 = 0;
};

#if JEPA_ARM_SVE_PROBE
#if !defined(__ARM_FEATURE_SVE)
__attribute__((target("arch=armv8.2-a+sve")))
#endif
inline uint32_t arm_sve_vector_bytes() {
  return (uint32_t)svcntb();
}
#endif

// Decodes raw HWCAP words (split out so tests can feed known values).
inline ArmHwcaps decode_arm_hwcaps(uint64_t hwcap, uint64_t hwcap2) {
  ArmHwcaps c;
  c.hwcap = hwcap;
  c.hwcap2 = hwcap2;
  c.neon = (hwcap & kHwcapAsimd) != 0;
  c.fp16 = (hwcap & kHwcapFphp) && (hwcap & kHwcapAsimdhp);
  c.dotprod = c.neon && (hwcap & kHwcapAsimddp);
  c.i8mm = c.neon && (hwcap2 & kHwcap2I8mm);
  c.bf16 = c.neon && (hwcap2 & kHwcap2Bf16);
  c.sve = (hwcap & kHwcapSve) != 0;
  c.sve2 = c.sve && (hwcap2 & kHwcap2Sve2);
  return c;
}

// The running CPU. Without getauxval (bare metal, JEPA_NO_RUNTIME_DISPATCH,
// non-Linux), what the compiler's target flags promise.
inline ArmHwcaps read_arm_hwcaps() {
#if JEPA_ARM_HAVE_GETAUXVAL
  ArmHwcaps c = decode_arm_hwcaps((uint64_t)getauxval(AT_HWCAP), (uint64_t)getauxval(AT_HWCAP2));
#else
  uint64_t h = 0, h2 = 0;
#if JEPA_ARCH_AARCH64
  h |= kHwcapAsimd;  // Advanced SIMD is mandatory in AArch64 ABIs
#endif
#if defined(__ARM_FEATURE_FP16_VECTOR_ARITHMETIC)
  h |= kHwcapFphp | kHwcapAsimdhp;
#endif
#if defined(__ARM_FEATURE_DOTPROD)
  h |= kHwcapAsimddp;
#endif
#if defined(__ARM_FEATURE_SVE)
  h |= kHwcapSve;
#endif
#if defined(__ARM_FEATURE_SVE2)
  h2 |= kHwcap2Sve2;
#endif
#if defined(__ARM_FEATURE_MATMUL_INT8)
  h2 |= kHwcap2I8mm;
#endif
#if defined(__ARM_FEATURE_BF16_VECTOR_ARITHMETIC)
  h2 |= kHwcap2Bf16;
#endif
  ArmHwcaps c = decode_arm_hwcaps(h, h2);
#endif
#if JEPA_ARM_SVE_PROBE
  if (c.sve) c.sve_bytes = arm_sve_vector_bytes();
#endif
  return c;
}

}  // namespace detail
}  // namespace kernels
}  // namespace jepa

#endif  // JEPA_KERNELS_ARM_HWCAP_HPP
