// tests/plan_alloc/test_plan_alloc.cpp: planning runs from planned arenas:
// after setup, a whole CEM plan (and MPPI, a memory commit, a rollout step,
// a save/restore to bytes) with the AC world model performs no heap
// allocation. This executable replaces the global operator new/delete with
// counting versions, so it lives in its own test folder (its own binary).
#include <doctest/doctest.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <vector>

#include "jepa/plan/planner.hpp"
#include "jepa/runtime/thread_pool.hpp"
#include "plan/ac_model.hpp"

namespace {
std::atomic<long> g_allocations{0};
std::atomic<bool> g_counting{false};

void* counted_alloc(size_t n, size_t align) {
  if (g_counting.load(std::memory_order_relaxed)) g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (n == 0) n = 1;
  void* p = align > alignof(std::max_align_t) ? std::aligned_alloc(align, (n + align - 1) / align * align)
                                               : std::malloc(n);
  return p;
}
}  // namespace

void* operator new(size_t n) {
  void* p = counted_alloc(n, 0);
  if (!p) std::abort();  // test-only replacement; the library never relies on it
  return p;
}
void* operator new[](size_t n) { return operator new(n); }
void* operator new(size_t n, const std::nothrow_t&) noexcept { return counted_alloc(n, 0); }
void* operator new[](size_t n, const std::nothrow_t&) noexcept { return counted_alloc(n, 0); }
void* operator new(size_t n, std::align_val_t a) {
  void* p = counted_alloc(n, (size_t)a);
  if (!p) std::abort();
  return p;
}
void* operator new[](size_t n, std::align_val_t a) { return operator new(n, a); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t, std::align_val_t) noexcept { std::free(p); }

using namespace jepa;
using namespace jepa::plan;

namespace {
struct Counting {
  long start;
  Counting() : start(g_allocations.load()) { g_counting = true; }
  long stop() {
    g_counting = false;
    return g_allocations.load() - start;
  }
};
}  // namespace

TEST_CASE("the counting operator new sees allocations") {
  Counting c;
  std::vector<int>* v = new std::vector<int>(10);
  const long n = c.stop();
  delete v;
  CHECK(n >= 2);
}

TEST_CASE("CEM, MPPI, memory commits and rollouts with the AC model allocate nothing") {
  models::AcPredictorConfig cfg = plantest::tiny_ac_config();
  cfg.depth = 2;
  auto holder = plantest::random_ac_model(cfg, 9);
  REQUIRE_MESSAGE(holder->status.is_ok(), holder->status.message());
  const int64_t hw = cfg.patches_per_step(), D = cfg.embed_dim;
  const std::vector<float> frame = plantest::random_latents(hw, D, 1);
  const std::vector<float> goal = plantest::random_latents(hw, D, 2);
  const double pose[7] = {0.4, 0.0, 0.3, 3.0, 0.1, -0.2, 0.5};

  for (int threads : {1, 2}) {
    ThreadPool pool(threads);
    const ParallelFor par = pool.parallel_for();
    AcMemoryOptions mo;
    mo.window = 3;
    mo.keep = 1;
    std::vector<uint8_t> mem_bytes(ac_memory_arena_bytes(cfg, mo));
    std::vector<uint8_t> mem_scratch_bytes(ac_memory_arena_bytes(cfg, mo) +
                                           ac_memory_save_scratch_bytes(cfg, mo, KvStorage::q8));
    Arena mem_arena(mem_bytes.data(), mem_bytes.size()), mem_scratch(mem_scratch_bytes.data(), mem_scratch_bytes.size());
    AcMemory mem;
    REQUIRE(ac_memory_create(holder->model(), mo, mem_arena, &mem).is_ok());
    CemConfig cem;
    cem.horizon = 2;
    cem.samples = 24;
    cem.topk = 4;
    cem.iterations = 3;
    MppiConfig mppi;
    mppi.horizon = 2;
    mppi.samples = 24;
    mppi.iterations = 2;
    AcPlannerOptions po;
    po.samples = 24;
    po.horizon = 2;
    po.chunk = 10;  // uneven chunks too
    po.max_prefix_steps = mo.window;
    po.energy.goal = goal.data();
    std::vector<uint8_t> plan_bytes(ac_planner_arena_bytes(cfg, po));
    Arena plan_arena(plan_bytes.data(), plan_bytes.size());
    AcPlanner planner;
    REQUIRE(ac_planner_create(holder->model(), po, mem, par, plan_arena, &planner).is_ok());
    std::vector<uint8_t> state_bytes(cem_state_bytes(cem) + cem_state_bytes(cem));
    Arena state_arena(state_bytes.data(), state_bytes.size());
    std::vector<uint8_t> file(1 << 20);
    CounterGaussian noise(5);
    const TrajectoryEvaluator eval = ac_planner_evaluator(planner);
    float out[14];
    float predicted[16 * 64];

    Counting count;
    bool ok = true;
    for (int step = 0; step < 4; ++step) {  // observe, plan, commit: the MPC loop
      ok = ok && ac_memory_observe(mem, frame.data(), pose).is_ok();
      ok = ok && cem_plan(cem, noise.source(), eval, state_arena, out).is_ok();
      ok = ok && mppi_plan(mppi, noise.source(), eval, state_arena, out).is_ok();
      ok = ok && ac_memory_commit(mem, par, mem_scratch, out, predicted).is_ok();
    }
    size_t written = 0;
    MemorySaveOptions so;
    so.kv = KvStorage::q8;
    ok = ok && ac_memory_serialize(mem, file.data(), file.size(), mem_scratch, so, &written).is_ok();
    ok = ok && ac_memory_restore(mem, file.data(), written, par, mem_scratch).is_ok();
    const long allocations = count.stop();
    CHECK(ok);
    MESSAGE(threads, " thread(s): ", allocations, " heap allocations during 4 observe/CEM/MPPI/commit rounds");
    CHECK(allocations == 0);
    CHECK(mem.total_committed == 4);
  }
}
