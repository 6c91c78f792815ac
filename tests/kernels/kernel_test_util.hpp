// tests/kernels/kernel_test_util.hpp: shared pieces of the kernel tests:
// seeded random data, 64-byte aligned buffers, the derived tolerances, and a
// runner that packs weights for a registry kernel and compares it with the
// scalar reference. Included by the native tests and by the SIMDe-emulated
// build (tests/kernels_emu), so both check kernels the same way.
#ifndef JEPA_TESTS_KERNELS_KERNEL_TEST_UTIL_HPP
#define JEPA_TESTS_KERNELS_KERNEL_TEST_UTIL_HPP

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "jepa/kernels/dispatch.hpp"
#include "jepa/kernels/gemm.hpp"
#include "jepa/kernels/quantize.hpp"
#include "jepa/kernels/ref/gemm-ref.hpp"

namespace kt {

using namespace jepa;
using namespace jepa::kernels;

// Unit roundoff of float32 (round to nearest): each add/multiply is exact
// up to a relative u.
constexpr double kU = 5.9604644775390625e-08;
// Accumulation bound (Higham's gamma_n = n u / (1 - n u)): a dot product of
// length K summed in any order is within gamma_{K+1} * sum |x w| of the exact
// value; the reference and a kernel are each within it, so they differ by at
// most twice that. +2 covers the bias add and the float weight decode.
inline double gamma(int64_t n) { return (double)n * kU / (1.0 - (double)n * kU); }
// The vector GELU (ref::gelu_erf's rational erf) is within 2.2e-7 |x| of the
// exact GELU (test_vector_math.cpp); against the float std::erf of the
// reference, a bound with margin.
constexpr double kGeluRelTol = 6e-7;
constexpr double kGeluAbsTol = 1e-37;  // below this both are 0 / subnormal
// bf16 activations round x to 8 significant bits: |x - bf16(x)| <= 2^-9 |x|.
constexpr double kBf16ActRel = 1.0 / 512.0;

struct AlignedBuf {
  std::vector<uint8_t> raw;
  uint8_t* p = nullptr;
  size_t size = 0;
  explicit AlignedBuf(size_t n = 0) { resize(n); }
  void resize(size_t n) {
    raw.assign(n + 64, 0);
    p = raw.data() + ((64 - ((uintptr_t)raw.data() & 63)) & 63);
    size = n;
  }
  template <class T>
  T* as() { return reinterpret_cast<T*>(p); }
};

// noinline: GCC 12 -Warray-bounds false positive when inlined into constant-size loops.
__attribute__((noinline)) inline std::vector<float> random_floats(std::mt19937& rng, size_t n, float scale = 1.0f) {
  std::normal_distribution<float> d(0.0f, scale);
  std::vector<float> v(n);
  for (float& f : v) f = d(rng);
  return v;
}

inline bool small_grid() {
  const char* e = std::getenv("JEPA_TEST_SMALL");
  return e && e[0] == '1';
}

// One packed weight for a kernel.
struct PackedWeight {
  AlignedBuf bytes;
  WeightMatrix w;
};

inline PackedWeight pack_for(const KernelInfo& k, const std::vector<float>& w, int32_t n, int32_t kk) {
  PackedWeight pw;
  uint32_t params[6] = {0, 0, 0, 0, 0, 0};
  if (k.layout == format::Layout::panel) {
    params[0] = k.panel_nr;
    params[1] = k.panel_kr;
  }
  Result<size_t> b = packed_bytes(k.dtype, k.layout, n, kk, params);
  pw.bytes.resize(b.value());
  // Weights in the range the kernel needs (kTensorQ7: 7-bit), flagged as the loader would.
  Status s = quantize_matrix(w.data(), n, kk, k.dtype, k.layout, params, pw.bytes.p, pw.bytes.size, k.needs_flags);
  (void)s;
  pw.w = weight_view(k.dtype, k.layout, params, n, kk, pw.bytes.p, k.needs_flags);
  return pw;
}

struct CaseResult {
  bool ok = true;
  std::string message;  // first failure: index, got, reference, tolerance
  double worst_ratio = 0.0;  // max |err| / tol seen
};

// Runs kernel k on (m, n, K) with strides and a column range, compares with
// the reference. epi/bias/residual as given. Exactness: integer kernels
// (act s8/u8/s8_sums) must match ref::gemm_prepared__ref bit for bit without
// GELU; with GELU within the GELU tolerance; float kernels within the derived
// accumulation bound.
inline CaseResult run_case(const KernelInfo& k, std::mt19937& rng, int32_t m, int32_t n, int32_t K,
                           Epilogue epi, bool bias_on, bool residual_on, bool residual_aliases_y,
                           int32_t n0 = 0, int32_t n1 = -1, PrepareFn prepare = nullptr,
                           bool extreme = false, size_t ldx_rows = 0) {
  CaseResult res;
  // x rows K + 3 floats apart (unaligned) unless the case asks for ldx_rows.
  const size_t ldx = ldx_rows ? ldx_rows : (size_t)K + 3;
  const size_t ldy = (size_t)n + 5, ldr = residual_aliases_y ? ldy : (size_t)n + 2;
  std::vector<float> x = random_floats(rng, (size_t)m * ldx);
  std::vector<float> wf = random_floats(rng, (size_t)n * K, 1.0f / std::sqrt((float)K));
  if (extreme) {  // every quantized value at its largest magnitude, signs alike: the widest int16 pairs
    for (int32_t i = 0; i < m; ++i)
      for (size_t q = 0; q < ldx; ++q) x[(size_t)i * ldx + q] = (i % 2) ? -1.5f : 1.5f;
    for (int32_t j = 0; j < n; ++j)
      for (int32_t q = 0; q < K; ++q) wf[(size_t)j * K + q] = ((j % 3) ? 1.0f : -1.0f) / std::sqrt((float)K);
  }
  std::vector<float> bias = random_floats(rng, (size_t)n, 0.5f);
  PackedWeight pw = pack_for(k, wf, n, K);
  std::vector<float> resid = random_floats(rng, (size_t)m * ldr);
  std::vector<float> y((size_t)m * ldy, -777.0f), yref((size_t)m * ldy, -777.0f);
  if (residual_aliases_y) y = resid, yref = resid;

  GemmArgs a;
  a.m = m;
  a.x = x.data();
  a.ldx = ldx;
  a.w = &pw.w;
  a.bias = bias_on ? bias.data() : nullptr;
  a.epilogue = epi;
  a.n0 = n0;
  a.n1 = n1;
  a.y = y.data();
  a.ldy = ldy;
  a.residual = residual_on ? (residual_aliases_y ? y.data() : resid.data()) : nullptr;
  a.ldr = ldr;
  AlignedBuf scratch(k.scratch_bytes(m, K) + 64);
  run_kernel(&k, a, scratch.p, prepare ? prepare : &ref::prepare_rows__ref);

  // Reference on the same packed weights.
  GemmArgs r = a;
  r.y = yref.data();
  r.residual = residual_on ? (residual_aliases_y ? yref.data() : resid.data()) : nullptr;
  PreparedX xp;
  AlignedBuf rscratch(k.scratch_bytes(m, K) + 64);
  if (k.act != ActFormat::f32) {
    ref::prepare_rows__ref(k.act, x.data(), ldx, m, K, 0, m, rscratch.p);
    xp = prepared_view(k.act, m, K, rscratch.p);
    r.xp = &xp;
    ref::gemm_prepared__ref(r);
  } else {
    ref::gemm__ref(r);
  }
  // Pre-activation values (bias in, no GELU, no residual): the GELU error scales with them.
  std::vector<float> yraw((size_t)m * ldy, 0.0f);
  if (epi == Epilogue::gelu) {
    GemmArgs q = r;
    q.y = yraw.data();
    q.residual = nullptr;
    q.epilogue = Epilogue::none;
    if (k.act != ActFormat::f32) ref::gemm_prepared__ref(q); else ref::gemm__ref(q);
  }
  const bool exact_int = k.act == ActFormat::s8 || k.act == ActFormat::u8 || k.act == ActFormat::s8_sums;
  const int32_t ne = n1 < 0 ? n : n1;
  for (int32_t i = 0; i < m; ++i)
    for (int32_t j = 0; j < n; ++j) {
      const size_t at = (size_t)i * ldy + (size_t)j;
      const float got = y[at], want = yref[at];
      if (j < n0 || j >= ne) {  // outside the column range: untouched
        const float orig = residual_aliases_y ? resid[at] : -777.0f;
        if (std::memcmp(&got, &orig, 4) != 0 && res.ok) {
          res.ok = false;
          res.message = "wrote outside [n0, n1) at (" + std::to_string(i) + "," + std::to_string(j) + ")";
        }
        continue;
      }
      double tol = 0.0;
      if (!exact_int) {
        double sum_abs = bias_on ? std::fabs(bias[j]) : 0.0;
        const double xs = k.act == ActFormat::bf16 ? 1.0 + kBf16ActRel : 1.0;
        for (int32_t q = 0; q < K; ++q)
          sum_abs += std::fabs(x[(size_t)i * ldx + q] * ref::weight_at(pw.w, j, q)) * xs;
        tol = 2.0 * gamma(K + 2) * sum_abs;
      }
      if (epi == Epilogue::gelu)  // GELU' <= 1.13 carries the sum's error; plus the vector GELU's own
        tol = tol * 1.13 + kGeluRelTol * std::fabs(yraw[at]) + kGeluAbsTol + 2.0 * kU * std::fabs(want);
      if (residual_on) tol += 2.0 * kU * (std::fabs(want) + 1.0) * (tol > 0 ? 1.0 : 0.0);
      const double err = std::fabs((double)got - (double)want);
      const bool bad = exact_int && epi == Epilogue::none ? std::memcmp(&got, &want, 4) != 0
                                                          : !(err <= tol);
      if (tol > 0) res.worst_ratio = std::fmax(res.worst_ratio, err / tol);
      if (bad && res.ok) {
        res.ok = false;
        char buf[256];
        std::snprintf(buf, sizeof buf, "y[%d][%d] = %.9g, reference %.9g, |err| %.3g > tol %.3g (m=%d n=%d K=%d)", i,
                      j, got, want, err, tol, m, n, K);
        res.message = buf;
      }
    }
  return res;
}

}  // namespace kt

#endif  // JEPA_TESTS_KERNELS_KERNEL_TEST_UTIL_HPP
