// bench_attention: the fused, tiled attention (ops/attention.hpp) against the
// scalar reference (ops/attention-ref.hpp), no mask, L queries x L keys,
// heads of 64, batch 1, one thread. Rows: attention/<impl>/L:<L>/H:<H>/hd:64
// with impl = fused (the tile kernel dispatch picks here), fused:<tile> for
// every other tile kernel this CPU runs (kernels/attention-dispatch.hpp's list,
// so an ISA's gain reads off one run), fused_portable (the plain C++ tile) and
// ref. Shapes are the models': L = 197 with 6 heads
// (ViT-S/16 224) and 12 (ViT-B), L = 256 / 512 (V-JEPA 2 256x256, one and two
// tubelet pairs) with 16 heads (ViT-L), L = 2048 (a 16-frame clip).
// Counter GFLOPs = 4 L^2 D (D = H * 64: q.k and p.v) per CPU second. The first
// row is the smallest (the CI smoke step runs only it).
#include <benchmark/benchmark.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "jepa/ops/attention.hpp"

namespace {

constexpr int64_t kHeadDim = 64;

enum class Impl { fused, fused_tile, fused_portable, ref };

// tile: the kernel of Impl::fused_tile (ignored otherwise).
void run(benchmark::State& st, Impl impl, int64_t L, int64_t heads, const jepa::kernels::AttnKernelInfo* tile) {
  const int64_t D = heads * kHeadDim;
  std::mt19937 rng(3);
  std::normal_distribution<float> dist(0.f, 1.f);
  std::vector<float> qkv((size_t)(L * 3 * D)), out((size_t)(L * D));
  for (float& x : qkv) x = dist(rng);
  jepa::ops::AttentionArgs a;
  a.heads = heads;
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
  const jepa::kernels::AttnKernelInfo& kern = impl == Impl::fused        ? jepa::kernels::choose_attention_kernel()
                                              : impl == Impl::fused_tile ? *tile
                                                                         : jepa::kernels::reference_attention_kernel();
  for (auto _ : st) {
    if (impl == Impl::ref)
      jepa::ops::attention_ref(serial, a, scratch.data());
    else
      jepa::ops::attention_with(serial, a, scratch.data(), kern);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  if (impl == Impl::fused || impl == Impl::fused_tile) st.SetLabel(kern.name);
  st.counters["GFLOPs"] =
      benchmark::Counter(4.0 * (double)L * (double)L * (double)D * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

const int kRegistered = [] {
  const struct {
    Impl impl;
    const char* name;
  } impls[] = {{Impl::fused, "fused"}, {Impl::fused_portable, "fused_portable"}, {Impl::ref, "ref"}};
  const struct {
    int64_t L, heads;
  } shapes[] = {{197, 6}, {197, 12}, {256, 6}, {256, 16}, {512, 16}, {2048, 16}};
  // The SIMD tiles other than the chosen one (the portable tile has its own row).
  std::vector<const jepa::kernels::AttnKernelInfo*> others;
  size_t n_tiles = 0;
  const jepa::kernels::AttnKernelInfo* tiles = jepa::kernels::attention_kernels(&n_tiles);
  const jepa::kernels::AttnKernelInfo* chosen = &jepa::kernels::choose_attention_kernel();
  for (size_t i = 0; i + 1 < n_tiles; ++i)
    if (&tiles[i] != chosen && jepa::kernels::cpu_supports(tiles[i].isa)) others.push_back(&tiles[i]);
  auto add = [](const std::string& impl_name, Impl impl, int64_t L, int64_t heads,
                const jepa::kernels::AttnKernelInfo* tile) {
    const std::string name = std::string("attention/") + impl_name + "/L:" + std::to_string(L) +
                             "/H:" + std::to_string(heads) + "/hd:64";
    benchmark::RegisterBenchmark(name.c_str(),
                                 [impl, L, heads, tile](benchmark::State& st) { run(st, impl, L, heads, tile); })
        ->Unit(benchmark::kMillisecond)
        ->MeasureProcessCPUTime();
  };
  for (const auto& sh : shapes)
    for (const auto& im : impls) {
      if (im.impl != Impl::fused && sh.heads != 16) continue;  // the slow ones at the ViT-L shapes only
      add(im.name, im.impl, sh.L, sh.heads, nullptr);
      if (im.impl == Impl::fused)
        for (const auto* t : others) add(std::string("fused:") + t->name, Impl::fused_tile, sh.L, sh.heads, t);
    }
  return 0;
}();

}  // namespace

BENCHMARK_MAIN();
