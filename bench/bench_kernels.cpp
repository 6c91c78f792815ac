// bench_kernels: one Google Benchmark per registry kernel (kernels/registry.inc)
// at the model shapes of the kernels brief, single thread, weights warm (the
// kernel-tuning view; bench_gemm has the peers, threads and cold weights).
// Rows: kernel/<name>/M:<m>/K:<k>/N:<n>; counter GOPS = 2 M N K per second
// (activation preparation included), per CPU second (the machine is shared:
// CPU time leaves out time-sliced waits). Kernels the CPU lacks are skipped.
// Also two peak rows measured in the same run (the machine is shared: read
// kernel rates as a fraction of these): peak/fp32_fma_avx2 (12 independent
// FMA chains) and peak/int8_sign_maddubs_avx2 (the q8 AVX2 kernel's exact
// instruction mix without its loads). And rowop/layernorm/rows:197/dim:<d>,
// the LayerNorm rows of the fused LayerNorm + quantize pass.
// Flags: --kernels_filter=SUBSTR (only kernels / row ops whose name contains it).
#include <benchmark/benchmark.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "jepa/kernels/dispatch.hpp"
#include "jepa/kernels/quantize.hpp"
#include "jepa/ops/layernorm.hpp"
#if defined(JEPA_KERNELS_X86_AVX2)
#include "jepa/kernels/x86/common-x86.hpp"  // JEPA_TARGET_* and the intrinsics of the peak loops below
#endif

namespace {

using namespace jepa;
using namespace jepa::kernels;

struct Buffer {
  std::vector<uint8_t> raw;
  uint8_t* p;
  explicit Buffer(size_t n) : raw(n + 64) { p = raw.data() + ((64 - ((uintptr_t)raw.data() & 63)) & 63); }
};

void run(benchmark::State& st, const KernelInfo* k, int m, int K, int n) {
  if (!cpu_supports(k->isa)) {
    st.SkipWithError("CPU lacks this ISA");
    return;
  }
  std::mt19937 rng(7);
  std::normal_distribution<float> d(0.f, 1.f);
  std::vector<float> w((size_t)n * K), x((size_t)m * K), y((size_t)m * n), bias(n);
  for (float& v : w) v = d(rng) * 0.05f;
  for (float& v : x) v = d(rng);
  for (float& v : bias) v = d(rng);
  uint32_t params[6] = {k->panel_nr, k->panel_kr, 0, 0, 0, 0};
  const size_t bytes = packed_bytes(k->dtype, k->layout, n, K, params).value();
  Buffer wb(bytes), scratch(k->scratch_bytes(m, K) + 64);
  if (!quantize_matrix(w.data(), n, K, k->dtype, k->layout, params, wb.p, bytes)) {
    st.SkipWithError("quantize failed");
    return;
  }
  const WeightMatrix wm = weight_view(k->dtype, k->layout, params, n, K, wb.p);
  GemmArgs a;
  a.m = m;
  a.x = x.data();
  a.ldx = K;
  a.w = &wm;
  a.bias = bias.data();
  a.y = y.data();
  a.ldy = n;
  for (auto _ : st) {
    run_kernel(k, a, scratch.p);
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  st.counters["GOPS"] = benchmark::Counter(2.0 * m * n * K * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  st.counters["wGBs"] = benchmark::Counter((double)bytes * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

#if defined(JEPA_KERNELS_X86_AVX2)
JEPA_TARGET_AVX2 __attribute__((noinline)) float fma_peak_avx2(long iters) {
  __m256 a[12];
  for (int i = 0; i < 12; ++i) a[i] = _mm256_set1_ps(0.01f * i);
  const __m256 b = _mm256_set1_ps(0.999f), c = _mm256_set1_ps(0.001f);
  for (long it = 0; it < iters; ++it) {
#pragma GCC unroll 12
    for (int i = 0; i < 12; ++i) a[i] = _mm256_fmadd_ps(a[i], b, c);
  }
  __m256 s = a[0];
  for (int i = 1; i < 12; ++i) s = _mm256_add_ps(s, a[i]);
  return _mm256_cvtss_f32(s);
}

// One iteration = 4 rows x 2 weight vectors x 32 MACs = 256 MACs, as one k-group of q8_gemm_4x16__avx2.
JEPA_TARGET_AVX2 __attribute__((noinline)) int int8_peak_avx2(long iters) {
  __m256i acc[8];
  for (int i = 0; i < 8; ++i) acc[i] = _mm256_set1_epi32(i);
  const __m256i w0 = _mm256_set1_epi8(-3), w1 = _mm256_set1_epi8(5), ones = _mm256_set1_epi16(1);
  __m256i x = _mm256_set1_epi8(7);
  for (long it = 0; it < iters; ++it) {
#pragma GCC unroll 4
    for (int r = 0; r < 4; ++r) {
      const __m256i xr = _mm256_add_epi8(x, _mm256_set1_epi8((char)r));
      const __m256i ax = _mm256_abs_epi8(xr);
      acc[2 * r] = _mm256_add_epi32(acc[2 * r], _mm256_madd_epi16(_mm256_maddubs_epi16(ax, _mm256_sign_epi8(w0, xr)), ones));
      acc[2 * r + 1] = _mm256_add_epi32(acc[2 * r + 1], _mm256_madd_epi16(_mm256_maddubs_epi16(ax, _mm256_sign_epi8(w1, xr)), ones));
    }
    x = _mm256_add_epi8(x, ones);
  }
  __m256i s = acc[0];
  for (int i = 1; i < 8; ++i) s = _mm256_add_epi32(s, acc[i]);
  return _mm256_extract_epi32(s, 0);
}
#endif

void peak_rows() {
#if defined(JEPA_KERNELS_X86_AVX2)
  if (!cpu_supports(Isa::avx2)) return;
  benchmark::RegisterBenchmark("peak/fp32_fma_avx2", [](benchmark::State& st) {
    long iters = 1 << 20;
    for (auto _ : st) {
      benchmark::DoNotOptimize(iters);  // a fresh call every time (the function is pure)
      benchmark::DoNotOptimize(fma_peak_avx2(iters));
    }
    st.counters["GOPS"] = benchmark::Counter(iters * 12.0 * 16 * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  });
  benchmark::RegisterBenchmark("peak/int8_sign_maddubs_avx2", [](benchmark::State& st) {
    long iters = 1 << 20;
    for (auto _ : st) {
      benchmark::DoNotOptimize(iters);
      benchmark::DoNotOptimize(int8_peak_avx2(iters));
    }
    st.counters["GOPS"] = benchmark::Counter(iters * 256.0 * 2 * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  });
#endif
}

// The float row op the fused LayerNorm + quantize pass spends its time in
// (ops::layernorm_rows: the best row kernel the CPU has, AVX-512 or AVX2, else
// the portable code; JEPA_MAX_ISA=avx2 / scalar time the lower ones), at the
// ViT widths; counter: rows/s.
void register_layernorm_rows(const std::string& filter) {
  for (int dim : {384, 1024, 1408}) {
    const std::string name = "rowop/layernorm/rows:197/dim:" + std::to_string(dim);
    if (!filter.empty() && name.find(filter) == std::string::npos) continue;
    benchmark::RegisterBenchmark(name.c_str(), [=](benchmark::State& st) {
      const int rows = 197;
      std::mt19937 rng(3);
      std::normal_distribution<float> d(0.f, 1.f);
      std::vector<float> x((size_t)rows * dim), y(x.size()), g(dim), b(dim);
      for (float& v : x) v = 2.0f + d(rng);
      for (float& v : g) v = 1.0f + 0.1f * d(rng);
      for (float& v : b) v = 0.1f * d(rng);
      for (auto _ : st) {
        ops::layernorm_rows(x.data(), (size_t)dim, y.data(), (size_t)dim, rows, dim, g.data(), b.data(), 1e-6f);
        benchmark::DoNotOptimize(y.data());
        benchmark::ClobberMemory();
      }
      st.counters["rows"] = benchmark::Counter((double)rows, benchmark::Counter::kIsIterationInvariantRate);
    })->Unit(benchmark::kMicrosecond);
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::string filter;
  std::vector<char*> rest;
  for (int i = 0; i < argc; ++i) {
    if (std::strncmp(argv[i], "--kernels_filter=", 17) == 0)
      filter = argv[i] + 17;
    else
      rest.push_back(argv[i]);
  }
  int rc = (int)rest.size();
  static const int ms[] = {1, 4, 16, 64, 197, 256, 2048};
  static const int kn[][2] = {{384, 1152}, {384, 1536}, {1536, 384}, {1024, 3072}, {1024, 4096}, {4096, 1024}, {1408, 6144}};
  peak_rows();
  register_layernorm_rows(filter);
  size_t count = 0;
  const KernelInfo* all = registry(&count);
  for (size_t i = 0; i < count; ++i) {
    if (!filter.empty() && std::string(all[i].name).find(filter) == std::string::npos) continue;
    for (int m : ms)
      for (auto& s : kn) {
        const std::string name = std::string("kernel/") + all[i].name + "/M:" + std::to_string(m) +
                                 "/K:" + std::to_string(s[0]) + "/N:" + std::to_string(s[1]);
        const KernelInfo* k = &all[i];
        const int K = s[0], n = s[1];
        benchmark::RegisterBenchmark(name.c_str(), [=](benchmark::State& st) { run(st, k, m, K, n); })
            ->Unit(benchmark::kMicrosecond);  // CPU time: the machine is shared
      }
  }
  benchmark::Initialize(&rc, rest.data());
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
