// bench_attention: the fused, tiled attention (ops/attention.hpp) against the
// scalar reference (ops/attention-ref.hpp), no mask, L queries x L keys,
// 16 heads of 64 (ViT-L / V-JEPA 2-AC predictor heads), batch 1, one thread.
// Rows: attention/<impl>/L:<L>/H:16/hd:64 with impl = fused (the tile kernel
// dispatch picks here), fused_portable (the plain C++ tile) and ref.
// Counter GFLOPs = 4 L^2 D (D = 1024: q.k and p.v) per CPU second. The first
// row is the smallest (the CI smoke step runs only it).
#include <benchmark/benchmark.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "jepa/ops/attention.hpp"

namespace {

constexpr int64_t kHeads = 16, kHeadDim = 64;

enum class Impl { fused, fused_portable, ref };

void run(benchmark::State& st, Impl impl, int64_t L) {
  const int64_t D = kHeads * kHeadDim;
  std::mt19937 rng(3);
  std::normal_distribution<float> dist(0.f, 1.f);
  std::vector<float> qkv((size_t)(L * 3 * D)), out((size_t)(L * D));
  for (float& x : qkv) x = dist(rng);
  jepa::ops::AttentionArgs a;
  a.heads = kHeads;
  a.head_dim = kHeadDim;
  a.nq = L;
  a.q = qkv.data();
  a.ldq = (size_t)(3 * D);
  a.kv[0].k = qkv.data() + D;
  a.kv[0].v = qkv.data() + 2 * D;
  a.kv[0].ld = (size_t)(3 * D);
  a.kv[0].rows = L;
  a.out = out.data();
  a.ldo = (size_t)D;
  a.scale = 1.0f / std::sqrt((float)kHeadDim);
  std::vector<float> scratch(impl == Impl::ref ? jepa::ops::attention_ref_scratch_floats(a)
                                               : jepa::ops::attention_scratch_floats(a) + 1);
  const jepa::ParallelFor serial;
  const jepa::kernels::AttnTileFn fn = impl == Impl::fused ? jepa::kernels::choose_attention_kernel().fn
                                                           : &jepa::kernels::ref::f32_attention_tile__ref;
  for (auto _ : st) {
    if (impl == Impl::ref)
      jepa::ops::attention_ref(serial, a, scratch.data());
    else
      jepa::ops::attention_with(serial, a, scratch.data(), fn);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  if (impl == Impl::fused) st.SetLabel(jepa::kernels::choose_attention_kernel().name);
  st.counters["GFLOPs"] =
      benchmark::Counter(4.0 * (double)L * (double)L * (double)D * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

const int kRegistered = [] {
  const struct {
    Impl impl;
    const char* name;
  } impls[] = {{Impl::fused, "fused"}, {Impl::fused_portable, "fused_portable"}, {Impl::ref, "ref"}};
  for (int64_t L : {256, 512, 2048})
    for (const auto& im : impls) {
      const std::string name = std::string("attention/") + im.name + "/L:" + std::to_string(L) + "/H:16/hd:64";
      const Impl impl = im.impl;
      benchmark::RegisterBenchmark(name.c_str(), [impl, L](benchmark::State& st) { run(st, impl, L); })
          ->Unit(benchmark::kMillisecond)
          ->MeasureProcessCPUTime();
    }
  return 0;
}();

}  // namespace

BENCHMARK_MAIN();
