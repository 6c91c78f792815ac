// bench_thread_pool: what one ThreadPool::run costs (runtime/thread_pool.hpp),
// the overhead every ops::linear pays per call on top of its tiles.
//
// Rows: pool/run/tasks:<n>/work_ns:<w>/threads:<t>/spin_us:<s>: one run of n
// tasks of ~w ns of busy work each. spin_us 0 = idle workers sleep at once
// (the default: a futex wake-up per run), 50 = a bounded spin that keeps them
// awake between back-to-back runs (a forward pass issues ~100). The spin wins
// on a quiet machine and loses on an oversubscribed one. Counter: runs/s.
#include <benchmark/benchmark.h>

#include <chrono>
#include <memory>

#include "jepa/runtime/thread_pool.hpp"

namespace {

void busy_task(void* arg, size_t) {
  const int64_t ns = *static_cast<const int64_t*>(arg);
  if (ns <= 0) return;
  const auto until = std::chrono::steady_clock::now() + std::chrono::nanoseconds(ns);
  while (std::chrono::steady_clock::now() < until) {
  }
}

void run_pool(benchmark::State& st) {
  const size_t tasks = (size_t)st.range(0);
  int64_t work_ns = st.range(1);
  jepa::ThreadPool::Options o;
  o.threads = (int)st.range(2);
  o.spin_us = (int)st.range(3);
  jepa::ThreadPool pool(o);
  for (auto _ : st) pool.run(tasks, &busy_task, &work_ns);
  st.counters["runs"] = benchmark::Counter((double)st.iterations(), benchmark::Counter::kIsRate);
}

}  // namespace

BENCHMARK(run_pool)
    ->ArgNames({"tasks", "work_ns", "threads", "spin_us"})
    ->ArgsProduct({{2, 64}, {0, 5000}, {1, 2}, {0, 50}})
    ->UseRealTime();

BENCHMARK_MAIN();
