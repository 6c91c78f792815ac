// tests/kernels/test_arm_dispatch.cpp: AArch64 CPU feature detection and kernel
// choice. HWCAP decoding against the words QEMU 7.2's CPU models report; the
// table the dispatcher builds on this CPU (logged: kernel_report) and under each
// ISA cap; and, when the CI sets JEPA_EXPECT_ARM_ISA (40-aarch64.sh, once per
// QEMU CPU), that the int8 kernel chosen is of exactly that level, so a
// detection regression fails instead of silently running slower code.
// The kernels' arithmetic is covered by test_gemm_kernels.cpp (registry-driven).
#include <doctest/doctest.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "jepa/kernels/dispatch.hpp"

#if JEPA_ARCH_AARCH64

namespace {

using namespace jepa;
using namespace jepa::kernels;

WeightMatrix standard_panel(format::DType dt) {
  WeightMatrix w;
  w.dtype = dt;
  w.layout = format::Layout::panel;
  standard_panel_params(dt, w.params);
  return w;
}

WeightMatrix row_major(format::DType dt) {
  WeightMatrix w;
  w.dtype = dt;
  return w;
}

std::string chosen(const KernelTable& t, const WeightMatrix& w) {
  const KernelInfo* k = t.find(w);
  return k ? k->name : "gemm__ref";
}

}  // namespace

TEST_CASE("arm: HWCAP words of the QEMU 7.2 CPU models decode to their features") {
  // AT_HWCAP / AT_HWCAP2 as qemu-aarch64 7.2 reports them (shared/cross-testing/README.md §2).
  const kernels::detail::ArmHwcaps a53 = kernels::detail::decode_arm_hwcaps(0x8fb, 0);
  CHECK(a53.neon);
  CHECK_FALSE(a53.dotprod);
  CHECK_FALSE(a53.fp16);
  CHECK_FALSE(a53.i8mm);
  CHECK_FALSE(a53.sve);
  const kernels::detail::ArmHwcaps a76 = kernels::detail::decode_arm_hwcaps(0x119ffb, 0);
  CHECK(a76.dotprod);
  CHECK(a76.fp16);
  CHECK_FALSE(a76.i8mm);
  CHECK_FALSE(a76.bf16);
  CHECK_FALSE(a76.sve);
  const kernels::detail::ArmHwcaps a64fx = kernels::detail::decode_arm_hwcaps(0x415ffb, 0);  // SVE without dotprod
  CHECK(a64fx.sve);
  CHECK(a64fx.fp16);
  CHECK_FALSE(a64fx.dotprod);
  const kernels::detail::ArmHwcaps max = kernels::detail::decode_arm_hwcaps(0xecfffffb, 0x7f877fff);
  CHECK(max.dotprod);
  CHECK(max.i8mm);
  CHECK(max.bf16);
  CHECK(max.sve);
  CHECK(max.sve2);
  CHECK(kernels::detail::arm_feature_bits(a53) == kFeatNeon);
  CHECK(kernels::detail::arm_feature_bits(a76) == (kFeatNeon | kFeatDotprod | kFeatFp16));
}

#if defined(JEPA_KERNELS_ARM_NEON)  // (JEPA_NO_SIMD builds have no ARM kernels to choose)
TEST_CASE("arm: kernel report and the choice on this CPU") {
  const KernelTable& t = default_table();
  char report[4096];
  kernel_report(t, report, sizeof report);
  MESSAGE(report);
  const kernels::detail::ArmHwcaps hw = kernels::detail::read_arm_hwcaps();
  char caps[128];
  std::snprintf(caps, sizeof caps, "AT_HWCAP %#llx, AT_HWCAP2 %#llx, SVE vector %u bytes",
                (unsigned long long)hw.hwcap, (unsigned long long)hw.hwcap2, hw.sve_bytes);
  MESSAGE(caps);
  CHECK(cpu_features().has(kFeatNeon));

  // Every weight format has an ARM kernel (never the reference) in both layouts.
  const format::DType dts[] = {format::DType::f32, format::DType::f16, format::DType::bf16, format::DType::q8,
                               format::DType::q4};
  for (format::DType dt : dts) {
    CHECK_MESSAGE(t.find(standard_panel(dt)) != nullptr, format::dtype_name(dt));
    CHECK_MESSAGE(t.find(row_major(dt)) != nullptr, format::dtype_name(dt));
  }
  // The int8 kernels take the best level the CPU has.
  const KernelInfo* q8 = t.find(standard_panel(format::DType::q8));
  REQUIRE(q8 != nullptr);
  const Isa expect_best = hw.i8mm && hw.dotprod ? Isa::i8mm : hw.dotprod ? Isa::neondot : Isa::neon;
  if (isa_cap_value() == 255) CHECK(q8->isa == expect_best);
  const char* expect = std::getenv("JEPA_EXPECT_ARM_ISA");
  if (expect && *expect) {
    Isa want;
    REQUIRE_MESSAGE(parse_isa(expect, &want), "JEPA_EXPECT_ARM_ISA=" << expect);
    CHECK_MESSAGE(q8->isa == want, "q8 runs " << q8->name << ", expected a " << expect << " kernel");
    const KernelInfo* q4 = t.find(standard_panel(format::DType::q4));
    REQUIRE(q4 != nullptr);
    CHECK_MESSAGE(q4->isa == want, "q4 runs " << q4->name << ", expected a " << expect << " kernel");
  }
}

TEST_CASE("arm: the ISA cap selects lower kernels, scalar selects the reference") {
  const CpuFeatures& f = cpu_features();
  const KernelTable neon = choose_kernels(f, (int)Isa::neon);
  CHECK(chosen(neon, standard_panel(format::DType::q8)) == "q8_gemm_4x8__neon");
  CHECK(chosen(neon, standard_panel(format::DType::q4)) == "q4_gemm_2x8__neon");
  CHECK(chosen(neon, row_major(format::DType::q8)) == "q8_gemm_4x4__neon");
  CHECK(chosen(neon, standard_panel(format::DType::f32)) == "f32_gemm_4x16__neon");
  if (f.has(kFeatDotprod)) {
    const KernelTable dot = choose_kernels(f, (int)Isa::neondot);
    CHECK(chosen(dot, standard_panel(format::DType::q8)) == "q8_gemm_4x16__neondot");
    CHECK(chosen(dot, row_major(format::DType::q4)) == "q4_gemm_4x4__neondot");
    CHECK(chosen(dot, standard_panel(format::DType::f16)) == "f16_gemm_4x16__neon");
  } else {
    MESSAGE("no dotprod on this CPU: neondot cap not checked");
  }
  if (f.has(kFeatDotprod | kFeatI8mm)) {
    const KernelTable mm = choose_kernels(f, (int)Isa::i8mm);
    CHECK(chosen(mm, standard_panel(format::DType::q8)) == "q8_gemm_4x8__neoni8mm");
    CHECK(chosen(mm, row_major(format::DType::q8)) == "q8_gemm_4x4__neoni8mm");
  } else {
    MESSAGE("no i8mm on this CPU: i8mm cap not checked");
  }
  const KernelTable scalar = choose_kernels(f, (int)Isa::scalar);
  CHECK(scalar.find(standard_panel(format::DType::q8)) == nullptr);
  CHECK(scalar.find(row_major(format::DType::f32)) == nullptr);
  // A cap for the other architecture does not apply here.
  const KernelTable x86cap = choose_kernels(f, (int)Isa::avx2);
  CHECK(x86cap.find(standard_panel(format::DType::q8)) != nullptr);
}

#endif  // JEPA_KERNELS_ARM_NEON
#endif  // JEPA_ARCH_AARCH64
