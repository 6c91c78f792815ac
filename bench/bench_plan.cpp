// bench/bench_plan.cpp: CEM planning with the V-JEPA 2-AC predictor
// (random weights of the real shapes, written with format::Writer).
//
//   cem_iteration/<size>/<dtype>/ctx:<P>/samples:<S>/horizon:<H>/threads:<T>/<mode>
//   cem_plan/...                                   (iterations:<I> in the name)
// size: tiny (golden vjepa2_ac_tiny: 128 wide, depth 2, 16 tokens/frame),
//       small (384 wide, depth 6, 12 heads, 256 tokens/frame, latents 1408),
//       released (1024 wide, depth 24, 16 heads, 256 tokens/frame, latents 1408: 305 M params).
// cem_floor/...: one context pass + the candidates' new tokens attending to
//       it (run_floor), the cost the shared prefix aims at (cem_iteration /
//       cem_floor <= 1.15). cem_floor_noprefix/...: the same, but the new
//       tokens attend to themselves only (the floor as first written): it
//       leaves out the attention of S x H x (2+HW) query rows to the P x (2+HW)
//       context keys, which no exact evaluation can skip; iteration minus it
//       is that attention (f32 in every dtype, hence a larger ratio for q8).
// Every row runs its body once untimed first: a control loop plans
// repeatedly, so first-touch page faults of fresh arenas are not its cost.
// mode: cached = jepa-rt's way (context K/V computed once per control step and
//       shared by every candidate and iteration, each horizon step attends to
//       cached K/V); rerun = the official way in the same engine (the whole
//       history re-run per candidate at every horizon step, no shared prefix).
// ctx:P = committed history steps in the memory (0 = the official planner's
// single context frame). dtype: f32 (row-major, the converter's default),
// f32p / q8p (panel layouts: run only if the models accept them).
// kv:<d> (f16, q8; absent = f32): how the memory (the shared context) and the
// candidates' own cache store K/V (AcMemoryOptions / AcPlannerOptions::kv_dtype).
// The default (tiny only) suits a shared 2-core machine; bigger grids are
// opt-in: --plan_sizes=tiny,small,released --plan_samples=16,64,100,400
// --plan_dtypes=f32,f32p,q8p --plan_ctx=0,3 --plan_kv=f32,f16,q8 (then --benchmark_filter as usual;
// 16 samples by default; full plans run 3 iterations (tiny, as the golden
// case) or 2 (small/released, as the official CPU demo notebook)).
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "../tests/plan/ac_model.hpp"
#include "jepa/plan/planner.hpp"
#include "jepa/runtime/thread_pool.hpp"

using namespace jepa;
using namespace jepa::plan;

namespace {

models::AcPredictorConfig size_config(const std::string& size) {
  models::AcPredictorConfig c = plantest::tiny_ac_config();
  if (size == "tiny") return c;
  c.embed_dim = 1408;  // ViT-g latents
  c.patch_size = 16;
  c.img_height = 256;  // 16 x 16 = 256 tokens per frame
  c.img_width = 256;
  c.num_frames = 64;
  if (size == "small") {
    c.pred_embed_dim = 384;
    c.depth = 6;
    c.num_heads = 12;
    c.mlp_hidden = 1536;
  } else {  // released
    c.pred_embed_dim = 1024;
    c.depth = 24;
    c.num_heads = 16;
    c.mlp_hidden = 4096;
  }
  return c;
}

plantest::WeightFormat dtype_format(const std::string& d) {
  plantest::WeightFormat f;
  if (d == "f32p") f.layout = format::Layout::panel;
  if (d == "q8p") {
    f.dtype = format::DType::q8;
    f.layout = format::Layout::panel;
  }
  return f;
}

// Models are built once per (size, dtype) and kept for the whole run.
plantest::AcModelHolder* get_model(const std::string& size, const std::string& dtype) {
  static std::map<std::string, std::unique_ptr<plantest::AcModelHolder>> cache;
  const std::string key = size + "/" + dtype;
  auto it = cache.find(key);
  if (it == cache.end()) it = cache.emplace(key, plantest::random_ac_model(size_config(size), 7, dtype_format(dtype))).first;
  return it->second.get();
}

struct Params {
  std::string size, dtype;
  int64_t ctx, samples, horizon;
  int threads;
  bool rerun;
  int iterations;  // 1 = one CEM iteration benchmark
  ops::KvDtype kv = ops::KvDtype::f32;
};

// Everything one benchmark needs, built outside the timed loop.
struct Rig {
  plantest::AcModelHolder* model;
  std::unique_ptr<ThreadPool> pool;
  ParallelFor par;
  std::vector<uint8_t> mem_bytes, mem_scratch, plan_bytes, state_bytes;
  Arena mem_arena, mem_scratch_arena, plan_arena, state_arena;
  AcMemory mem;
  AcPlanner planner;
  CemConfig cem;
  CemState st;
  std::vector<float> goal;
  Status status;

  explicit Rig(const Params& p) : model(get_model(p.size, p.dtype)) {
    if (!model->status.is_ok()) {
      status = model->status;
      return;
    }
    const models::AcPredictorConfig& c = model->cfg;
    pool.reset(new ThreadPool(p.threads));
    par = pool->parallel_for();
    AcMemoryOptions mo;
    mo.window = p.ctx > 0 ? p.ctx : 1;
    mo.keep = mo.window - 1;
    mo.max_prefill_steps = mo.window;
    mo.kv_dtype = p.kv;
    mem_bytes.resize(ac_memory_arena_bytes(c, mo));
    mem_scratch.resize(ac_memory_arena_bytes(c, mo));
    mem_arena = Arena(mem_bytes.data(), mem_bytes.size());
    mem_scratch_arena = Arena(mem_scratch.data(), mem_scratch.size());
    status = ac_memory_create(model->model(), mo, mem_arena, &mem);
    if (!status.is_ok()) return;
    const int64_t hw = c.patches_per_step(), D = c.embed_dim;
    goal = plantest::random_latents(hw, D, 99);
    for (int64_t t = 0; t <= p.ctx && status.is_ok(); ++t) {  // P committed steps + the current frame
      const std::vector<float> z = plantest::random_latents(hw, D, 10 + t);
      const double pose[7] = {0.4, 0.0, 0.3, 3.0, 0.1, -0.2, 0.5};
      const float action[7] = {0.01f, -0.02f, 0.0f, 0, 0, 0, 0.1f};
      status = ac_memory_observe(mem, z.data(), pose);
      if (status.is_ok() && t < p.ctx) status = ac_memory_commit(mem, par, mem_scratch_arena, action);
    }
    if (!status.is_ok()) return;
    cem = CemConfig::world_model_defaults();
    cem.samples = (int)p.samples;
    cem.horizon = (int)p.horizon;
    cem.topk = p.samples >= 20 ? 10 : 4;
    cem.iterations = p.iterations;
    AcPlannerOptions po;
    po.samples = p.samples;
    po.horizon = p.horizon;
    po.max_prefix_steps = mo.window;
    po.rerun_history = p.rerun;
    po.kv_dtype = p.kv;
    po.energy.goal = goal.data();
    plan_bytes.resize(ac_planner_arena_bytes(c, po));
    plan_arena = Arena(plan_bytes.data(), plan_bytes.size());
    status = ac_planner_create(model->model(), po, mem, par, plan_arena, &planner);
    if (!status.is_ok()) return;
    state_bytes.resize(cem_state_bytes(cem));
    state_arena = Arena(state_bytes.data(), state_bytes.size());
    status = cem_state_create(cem, state_arena, &st);
    if (status.is_ok()) cem_reset(cem, st);
  }

  size_t arena_bytes() const { return mem_bytes.size() + plan_bytes.size() + state_bytes.size(); }
};

void run_bench(benchmark::State& state, Params p) {
  Rig rig(p);
  if (!rig.status.is_ok()) {
    state.SkipWithError(rig.status.message());
    return;
  }
  CounterGaussian noise(1);
  const TrajectoryEvaluator eval = ac_planner_evaluator(rig.planner);
  std::vector<float> out((size_t)p.horizon * kActionDim);
  auto body = [&]() -> Status {
    Status s;
    if (p.iterations == 1) {
      s = cem_iteration(rig.cem, noise.source(), eval, rig.st);
    } else {
      cem_reset(rig.cem, rig.st);
      for (int it = 0; it < p.iterations && s.is_ok(); ++it) s = cem_iteration(rig.cem, noise.source(), eval, rig.st);
      cem_result(rig.cem, rig.st, out.data());
    }
    return s;
  };
  Status warm = body();  // untimed: first touch of the arenas
  if (!warm.is_ok()) {
    state.SkipWithError(warm.message());
    return;
  }
  for (auto _ : state) {
    const Status s = body();
    if (!s.is_ok()) {
      state.SkipWithError(s.message());
      return;
    }
    benchmark::DoNotOptimize(rig.st.mean);
  }
  const double candidate_steps = (double)(p.samples * p.horizon * p.iterations);
  state.counters["cand_steps/s"] = benchmark::Counter(candidate_steps, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["arena_MB"] = (double)rig.arena_bytes() / 1e6;
}

// The floor the shared prefix aims at: one context pass (re-prefill of the
// memory's committed steps, batch 1) plus the candidates' new tokens
// (samples x horizon steps from the current frame, one batch), attending to
// the context K/V that pass made, as they must (with_prefix = false: to
// nothing but themselves, the floor as first defined; it undercounts).
// Like the planner, the last horizon step writes no K/V.
// "An iteration costs no more than this, within 15%": cem_iteration / floor.
void run_floor(benchmark::State& state, Params p, bool with_prefix) {
  Rig rig(p);
  if (!rig.status.is_ok()) {
    state.SkipWithError(rig.status.message());
    return;
  }
  const models::AcPredictorConfig& c = rig.model->cfg;
  AcRolloutOptions ro;
  ro.batch = p.samples;
  ro.max_steps = p.horizon;
  ro.kv_dtype = p.kv;
  const bool on_prefix = with_prefix && p.ctx > 0;
  std::vector<uint8_t> bytes(ac_rollout_arena_bytes(c, ro, on_prefix ? p.ctx : 0));
  Arena arena(bytes.data(), bytes.size());
  AcRollout cand;
  Status s = ac_rollout_create(rig.model->model(), ro, arena, &cand, on_prefix ? &rig.mem.cache() : nullptr);
  std::vector<float> actions((size_t)p.samples * kActionDim, 0.01f);
  auto body = [&]() {
    if (s.is_ok() && p.ctx > 0) s = ac_memory_reprefill(rig.mem, rig.par, rig.mem_scratch_arena, rig.mem.committed());
    if (s.is_ok()) s = ac_rollout_start_shared(cand, rig.mem.frame(), rig.mem.pose());
    for (int64_t h = 0; h < p.horizon && s.is_ok(); ++h)
      s = ac_rollout_step(cand, rig.par, arena, actions.data(), nullptr, nullptr, h + 1 < p.horizon);
  };
  body();  // untimed: first touch of the arenas
  for (auto _ : state) {
    body();
    if (!s.is_ok()) {
      state.SkipWithError(s.message());
      return;
    }
    benchmark::DoNotOptimize(cand.frame);
  }
  state.counters["arena_MB"] = (double)bytes.size() / 1e6;
}

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> v;
  size_t a = 0;
  while (a <= s.size()) {
    size_t b = s.find(',', a);
    if (b == std::string::npos) b = s.size();
    if (b > a) v.push_back(s.substr(a, b - a));
    a = b + 1;
  }
  return v;
}

// Takes --plan_* flags out of argv (Google Benchmark rejects unknown flags).
std::string take_flag(int* argc, char** argv, const char* name, const char* fallback) {
  const std::string prefix = std::string("--") + name + "=";
  std::string value = fallback;
  int w = 1;
  for (int r = 1; r < *argc; ++r) {
    if (std::strncmp(argv[r], prefix.c_str(), prefix.size()) == 0) value = argv[r] + prefix.size();
    else argv[w++] = argv[r];
  }
  *argc = w;
  return value;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> sizes = split(take_flag(&argc, argv, "plan_sizes", "tiny"));
  const std::string samples_flag = take_flag(&argc, argv, "plan_samples", "");
  const std::vector<std::string> dtypes = split(take_flag(&argc, argv, "plan_dtypes", "f32"));
  const std::vector<std::string> ctxs = split(take_flag(&argc, argv, "plan_ctx", "0,3"));
  const std::vector<std::string> kvs = split(take_flag(&argc, argv, "plan_kv", "f32"));
  for (const std::string& size : sizes) {
    // Default: 16 samples (the CI smoke runs every tiny row once); the brief's grid is
    // --plan_samples=16,64,100,400.
    const std::vector<std::string> samples = split(!samples_flag.empty() ? samples_flag : "16");
    for (const std::string& kv_name : kvs)
      for (const std::string& dtype : dtypes)
        for (const std::string& ctx : ctxs)
          for (const std::string& s : samples)
            for (int64_t horizon : {1, 2})
              for (int threads : {1, 2})
                for (bool rerun : {false, true})
                  for (int kind = 0; kind < 2; ++kind) {
                    Params p{size, dtype, std::stoll(ctx), std::stoll(s), horizon, threads, rerun, 1};
                    if (!ops::kv_dtype_from_name(kv_name.c_str(), &p.kv)) {
                      std::fprintf(stderr, "--plan_kv: unknown K/V dtype '%s' (f32, f16, q8)\n", kv_name.c_str());
                      return 2;
                    }
                    const std::string kv_tag = p.kv == ops::KvDtype::f32 ? "" : "/kv:" + kv_name;
                    if (kind == 1) p.iterations = size == "tiny" ? 3 : 2;  // golden case: 3; CPU demo: 2
                    if (kind == 1 && size != "tiny" && p.samples > 16) continue;  // too slow here
                    char name[256];
                    std::snprintf(name, sizeof name, "%s/%s/%s%s/ctx:%s/samples:%s/horizon:%lld/threads:%d/%s%s",
                                  kind == 0 ? "cem_iteration" : "cem_plan", size.c_str(), dtype.c_str(), kv_tag.c_str(), ctx.c_str(),
                                  s.c_str(), (long long)horizon, threads, rerun ? "rerun" : "cached",
                                  kind == 1 ? (std::string("/iterations:") + std::to_string(p.iterations)).c_str()
                                            : "");
                    benchmark::RegisterBenchmark(name, run_bench, p)->Unit(benchmark::kMillisecond)->UseRealTime();
                    if (kind == 0 && !rerun) {
                      std::snprintf(name, sizeof name, "cem_floor/%s/%s%s/ctx:%s/samples:%s/horizon:%lld/threads:%d",
                                    size.c_str(), dtype.c_str(), kv_tag.c_str(), ctx.c_str(), s.c_str(), (long long)horizon, threads);
                      benchmark::RegisterBenchmark(name, run_floor, p, true)->Unit(benchmark::kMillisecond)->UseRealTime();
                      std::snprintf(name, sizeof name,
                                    "cem_floor_noprefix/%s/%s%s/ctx:%s/samples:%s/horizon:%lld/threads:%d", size.c_str(),
                                    dtype.c_str(), kv_tag.c_str(), ctx.c_str(), s.c_str(), (long long)horizon, threads);
                      benchmark::RegisterBenchmark(name, run_floor, p, false)->Unit(benchmark::kMillisecond)->UseRealTime();
                    }
                  }
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
