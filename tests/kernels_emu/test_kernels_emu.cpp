// tests/kernels_emu/test_kernels_emu.cpp: every x86 kernel, compiled against
// SIMDe's portable implementations of the intrinsics (JEPA_X86_EMULATE), run
// against the scalar reference on a reduced shape grid. This is how the
// AVX-512 / VNNI / BF16 kernels' logic is checked on machines without them
// (this project's build host has only AVX2); native runs of the same kernels
// happen in test_kernels wherever the CPU has the ISA. Opt-in, because
// SIMDe makes this one file slow to compile: build with
// -DJEPA_TEST_X86_EMULATE=1 and libsimde-dev installed
// (scripts/test.d/21-x86-emu.sh); otherwise the test only says it skipped.
#if defined(JEPA_TEST_X86_EMULATE) && defined(__has_include)
// SIMDe's portable code at -O3 with every kernel's tile instantiations takes
// many minutes to compile; -O1 is enough for small test shapes.
#pragma GCC optimize("O1")
#if __has_include(<simde/x86/avx512.h>) && defined(__x86_64__)
#define JEPA_X86_EMULATE 1
#endif
#endif

#include <doctest/doctest.h>

#if defined(JEPA_X86_EMULATE)
#include "../kernels/kernel_test_util.hpp"

TEST_CASE("every x86 kernel (SIMDe-emulated) matches the scalar reference") {
  using namespace kt;
  size_t n = 0;
  const KernelInfo* all = registry(&n);
  int ran = 0;
  for (size_t i = 0; i < n; ++i) {
    const KernelInfo& k = all[i];
    if (!isa_is_x86(k.isa)) continue;
    SUBCASE(k.name) {
      std::mt19937 rng(99);
      int cases = 0;
      const int32_t ms[] = {1, k.mr - 1 > 0 ? k.mr - 1 : 2, k.mr + 1};
      const int32_t ns[] = {5, 16, k.nr + 17};
      const int32_t ks[] = {1, 31, 33, 64, 100};
      for (int32_t m : ms)
        for (int32_t nn : ns)
          for (int32_t K : ks) {
            const int v = cases++ % 4;
            CaseResult r = run_case(k, rng, m, nn, K, v >= 2 ? Epilogue::gelu : Epilogue::none, v != 0, v == 3,
                                    v == 3 && (cases % 8 == 0));
            if (!r.ok) {
              FAIL_CHECK(std::string(k.name) << " (emulated): " << r.message);
              return;
            }
          }
      CaseResult r = run_case(k, rng, k.mr + 1, 3 * 32 + 7, 33, Epilogue::gelu, true, true, false, 32, 3 * 32 + 3);
      if (!r.ok) FAIL_CHECK(std::string(k.name) << " (emulated, column range): " << r.message);
      MESSAGE(std::string(k.name) << " (emulated): " << cases + 1 << " shapes ok");
    }
    ++ran;
  }
  CHECK(ran > 0);
}
#else
TEST_CASE("SIMDe emulation of the x86 kernels") {
  MESSAGE("skipped: build with -DJEPA_TEST_X86_EMULATE=1 and libsimde-dev to emulate the AVX-512 kernels");
}
#endif
