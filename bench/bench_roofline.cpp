// bench_roofline: this machine's ceilings, the denominators of every "% of
// peak" in docs/BENCHMARKS.md.
//
// Rows: roofline/<instruction>/threads:{1,2} for each compute peak the CPU has
// (fp32 FMA AVX2/AVX-512, int8 vpmaddubsw+vpmaddwd AVX2, vpdpbusd AVX-VNNI and
// AVX-512 VNNI, bf16 vdpbf16ps; NEON fmla/sdot on aarch64), counter OPS (2 per
// multiply-add, a rate); and roofline/read_<size>/threads:{1,2}, a streaming
// read of a buffer far larger than the LLC (JEPA_BENCH_MEM_MIB, default 512)
// plus one that fits in the LLC, counter bytes_per_second. Peaks the CPU lacks
// are not registered; the context line "jepa_skipped" names them.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "common/roofline.hpp"

namespace {

using jepa_bench::BigBuffer;
using jepa_bench::PeakInfo;

void run_peak(benchmark::State& state, const PeakInfo* info) {
  const int64_t iters = int64_t(1) << 18;  // ~1 ms per call at 2 FMA/cycle
  float sink = 0.0f;
  for (auto _ : state) {
    sink += info->loop(iters);
    benchmark::DoNotOptimize(sink);
  }
  state.counters["OPS"] =
      benchmark::Counter(info->ops_per_iter * (double)iters * (double)state.iterations(),
                         benchmark::Counter::kIsRate);
}

// Each thread streams its own contiguous slice of one shared buffer.
void run_read(benchmark::State& state, const BigBuffer* buf) {
  const size_t slice = (buf->bytes / (size_t)state.threads()) & ~size_t(255);
  const uint8_t* p = buf->data + slice * (size_t)state.thread_index();
  for (auto _ : state) {
    benchmark::DoNotOptimize(jepa_bench::read_bytes(p, slice));
  }
  state.SetBytesProcessed((int64_t)slice * state.iterations());
}

size_t env_mib(const char* name, size_t fallback) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == 0) return fallback;
  const long x = std::strtol(v, nullptr, 10);
  return x > 0 ? (size_t)x : fallback;
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  const auto& isa = jepa_bench::cpu_isa();
  benchmark::AddCustomContext("jepa_isa", jepa_bench::isa_string(isa));

  std::string skipped;
  size_t count = 0;
  const PeakInfo* table = jepa_bench::peak_table(&count);
  for (size_t i = 0; i < count; ++i) {
    const PeakInfo* info = &table[i];
    if (!info->supported()) {
      skipped += skipped.empty() ? "" : " ";
      skipped += info->name;
      continue;
    }
    const std::string name = std::string("roofline/") + info->name;
    benchmark::RegisterBenchmark(name.c_str(), run_peak, info)->Threads(1)->UseRealTime();
    benchmark::RegisterBenchmark(name.c_str(), run_peak, info)->Threads(2)->UseRealTime();
  }
  benchmark::AddCustomContext("jepa_skipped", skipped.empty() ? "none" : skipped);

  // Buffers live until the end of main (RunSpecifiedBenchmarks uses them).
  const size_t big_mib = env_mib("JEPA_BENCH_MEM_MIB", 512);
  std::unique_ptr<BigBuffer> big(new BigBuffer(big_mib << 20));
  std::unique_ptr<BigBuffer> llc(new BigBuffer(size_t(8) << 20));  // < 32 MiB L3 of the targets
  if (big->data == nullptr || llc->data == nullptr) {
    std::fprintf(stderr, "bench_roofline: cannot allocate %zu MiB\n", big_mib);
    return 1;
  }
  const std::string big_name = "roofline/read_" + std::to_string(big_mib) + "MiB";
  for (int threads : {1, 2}) {
    benchmark::RegisterBenchmark(big_name.c_str(), run_read, big.get())->Threads(threads)->UseRealTime();
    benchmark::RegisterBenchmark("roofline/read_8MiB_llc", run_read, llc.get())->Threads(threads)->UseRealTime();
  }

  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
