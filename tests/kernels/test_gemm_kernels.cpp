// tests/kernels/test_gemm_kernels.cpp: every registry kernel against the
// scalar reference over the shape grid of the kernels brief (M around the
// kernel's MR, N below/at/above NR and ragged, K across the 32-block edges),
// with unaligned strides, column sub-ranges, every epilogue, residual in place.
// Kernels this CPU cannot run are reported (MESSAGE) and skipped, not failed.
// JEPA_TEST_SMALL=1 shrinks the grid (for runs under QEMU).
#include <doctest/doctest.h>

#include <algorithm>

#include "kernel_test_util.hpp"

namespace {

using namespace kt;

std::vector<int32_t> m_values(int mr) {
  std::vector<int32_t> v = {1, 2, 3, mr - 1, mr, mr + 1, 2 * mr + 3};
  std::vector<int32_t> out;
  for (int32_t x : v)
    if (x >= 1 && std::find(out.begin(), out.end(), x) == out.end()) out.push_back(x);
  return out;
}

void check_kernel(const KernelInfo& k) {
  std::mt19937 rng(1234);
  const bool small = small_grid();
  const std::vector<int32_t> ms = small ? std::vector<int32_t>{1, k.mr + 1} : m_values(k.mr);
  const std::vector<int32_t> ns = small ? std::vector<int32_t>{17, 2 * k.nr + 5}
                                        : std::vector<int32_t>{1, 15, 16, 17, k.nr, 2 * k.nr + 5, 3 * k.nr + 16};
  const std::vector<int32_t> ks = small ? std::vector<int32_t>{7, 33, 100}
                                        : std::vector<int32_t>{1, 7, 31, 32, 33, 64, 100, 257};
  int cases = 0;
  double worst = 0.0;
  for (int32_t m : ms)
    for (int32_t n : ns)
      for (int32_t K : ks) {
        const int variant = cases % 4;
        const Epilogue epi = variant >= 2 ? Epilogue::gelu : Epilogue::none;
        CaseResult r = run_case(k, rng, m, n, K, epi, variant != 0, variant == 3, variant == 3 && (cases % 8 == 7));
        ++cases;
        worst = std::fmax(worst, r.worst_ratio);
        if (!r.ok) {
          FAIL_CHECK(std::string(k.name) << ": " << r.message);
          return;
        }
      }
  // A column sub-range starting at a panel boundary, as ops::linear's tiles do.
  for (int32_t K : {33, 64}) {
    CaseResult r = run_case(k, rng, k.mr + 1, 3 * 32 + 7, K, Epilogue::gelu, true, true, false, 32, 3 * 32 + 3);
    ++cases;
    if (!r.ok) FAIL_CHECK(std::string(k.name) << " (column range): " << r.message);
  }
  // Integer kernels at the edges of their int16 pairs: every x and w at full
  // magnitude with equal signs (u8 255 x 63 for the q7 kernel, 127 x 127 for
  // the sign trick), ragged K.
  if (k.act != ActFormat::f32 && k.act != ActFormat::bf16)
    for (int32_t K : {4, 257}) {
      CaseResult r = run_case(k, rng, k.mr + 1, 2 * k.nr + 5, K, Epilogue::none, true, false, false, 0, -1,
                              nullptr, true);
      ++cases;
      if (!r.ok) FAIL_CHECK(std::string(k.name) << " (extreme values): " << r.message);
    }
  // Past the kernels' internal blocking (row chunks, 128-column chunks, K
  // blocks of 256: x86/float-panel-avx2.hpp), with ragged ends everywhere.
  if (!small) {
    const int32_t big[][3] = {{53, 300, 600}, {97, 145, 515}};
    for (int i = 0; i < 2; ++i) {
      const int32_t* s = big[i];
      CaseResult r = run_case(k, rng, s[0], s[1], s[2], i ? Epilogue::none : Epilogue::gelu, true, true, i == 1);
      ++cases;
      worst = std::fmax(worst, r.worst_ratio);
      if (!r.ok) FAIL_CHECK(std::string(k.name) << " (blocked shape): " << r.message);
    }
    // x rows a multiple of 4 KiB apart (the strides of K = 1024 / 4096 models),
    // past 96 rows and 128-column chunks.
    const int32_t aliased[][4] = {{29, 70, 1000, 1024}, {101, 161, 1024, 2048}};
    for (int i = 0; i < 2; ++i) {
      const int32_t* s = aliased[i];
      CaseResult r = run_case(k, rng, s[0], s[1], s[2], i ? Epilogue::gelu : Epilogue::none, true, true, i == 1, 0,
                              -1, nullptr, false, (size_t)s[3]);
      ++cases;
      worst = std::fmax(worst, r.worst_ratio);
      if (!r.ok) FAIL_CHECK(std::string(k.name) << " (4 KiB rows): " << r.message);
    }
  }
  MESSAGE(std::string(k.name) << ": " << cases << " shapes ok, worst |err|/tol " << worst);
}

}  // namespace

TEST_CASE("every registry kernel matches the scalar reference") {
  size_t n = 0;
  const KernelInfo* all = registry(&n);
  int ran = 0;
  for (size_t i = 0; i < n; ++i) {
    if (!cpu_supports(all[i].isa)) {
      MESSAGE("skipped " << std::string(all[i].name) << ": this CPU lacks " << std::string(isa_name(all[i].isa)));
      continue;
    }
    SUBCASE(all[i].name) { check_kernel(all[i]); }
    ++ran;
  }
  MESSAGE(ran << " of " << n << " compiled-in kernels ran here");
}
