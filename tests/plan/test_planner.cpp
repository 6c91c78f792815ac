// tests/plan/test_planner.cpp: CEM with the AC world model against the golden
// `cem` case of vjepa2_ac_tiny (WorldModel.infer_next_action: rollout 2, 16
// samples, top 4, 3 steps, replayed torch noise): every energy within
// topk_margin/4 (3.1e-5), the same top-k sets, the same planned action; in the
// cached (shared prefix) and the official re-run modes, in one batch and in
// chunks. Also: a memory with history as the shared prefix gives the re-run's
// energies, and MPPI runs on the model.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <vector>

#include "jepa/plan/planner.hpp"
#include "plan/plan_test_util.hpp"

using namespace jepa;
using namespace jepa::plan;

namespace {

using plantest::Buffer;
using plantest::golden_cem_config;

// Records every energy the planner computes (and forwards to the planner).
struct Recorder {
  AcPlanner* planner;
  std::vector<double> energies;
  Status operator()(const float* a, int s, int h, double* out) {
    JEPA_RETURN_IF_ERROR(ac_planner_evaluate(*planner, a, s, h, out));
    energies.insert(energies.end(), out, out + s);
    return Status::ok();
  }
};

std::vector<int> topk_set(const double* e, int n, int k) {
  std::vector<int32_t> order(n);
  select_lowest(e, n, k, order.data());
  std::vector<int> s(order.begin(), order.begin() + k);
  std::sort(s.begin(), s.end());
  return s;
}

}  // namespace

TEST_CASE("golden CEM with the AC world model: energies, top-k sets, planned action") {
  auto holder = plantest::golden_ac_model();
  REQUIRE_MESSAGE(holder->status.is_ok(), holder->status.message());
  const std::vector<float> enc = plantest::golden_ac("ac_encode.latents.bin");  // [1][4*16][64]
  const std::vector<float> pose0f = plantest::golden_ac("cem.pose0.bin");
  const std::vector<float> noise = plantest::golden_ac("cem.noise.bin");
  const std::vector<float> energies = plantest::golden_ac("cem.energies.bin");  // [3][16]
  const std::vector<float> action = plantest::golden_ac("cem.action.bin");
  REQUIRE(enc.size() == 64 * 64);
  REQUIRE(energies.size() == 48);
  const size_t frame = 16 * 64;
  const float* context = enc.data();           // frame 0
  const float* goal = enc.data() + 3 * frame;  // frame 3
  double pose0[7];
  for (int i = 0; i < 7; ++i) pose0[i] = pose0f[i];
  const CemConfig cfg = golden_cem_config();

  struct Mode {
    bool rerun;
    int64_t chunk;
  };
  // JEPA_TEST_SMALL (QEMU runs): one cached and one chunked re-run mode.
  const bool small = std::getenv("JEPA_TEST_SMALL") != nullptr;
  std::vector<Mode> modes = {Mode{false, 0}, Mode{true, 7}};
  if (!small) modes.insert(modes.end(), {Mode{false, 5}, Mode{true, 0}});
  for (const Mode mode : modes) {
    AcMemoryOptions mo;
    mo.window = 1;
    mo.keep = 0;
    Buffer mem_buf(ac_memory_arena_bytes(holder->cfg, mo));
    AcMemory mem;
    REQUIRE(ac_memory_create(holder->model(), mo, mem_buf.arena, &mem).is_ok());
    REQUIRE(ac_memory_observe(mem, context, pose0).is_ok());  // the official single context frame
    AcPlannerOptions po;
    po.samples = cfg.samples;
    po.horizon = cfg.horizon;
    po.chunk = mode.chunk;
    po.max_prefix_steps = mo.window;
    po.rerun_history = mode.rerun;
    po.energy.goal = goal;
    Buffer buf(ac_planner_arena_bytes(holder->cfg, po) + cem_state_bytes(cfg));
    AcPlanner planner;
    Buffer plan_buf(ac_planner_arena_bytes(holder->cfg, po));
    REQUIRE(ac_planner_create(holder->model(), po, mem, ParallelFor(), plan_buf.arena, &planner).is_ok());
    Recorder rec{&planner, {}};
    ReplayGaussian replay(noise.data(), noise.size());
    float out[14];
    Buffer cem_buf(cem_state_bytes(cfg));
    const Status st = cem_plan(cfg, replay.source(), make_evaluator(rec), cem_buf.arena, out);
    REQUIRE_MESSAGE(st.is_ok(), st.message());
    REQUIRE(rec.energies.size() == 48);
    double worst = 0;
    for (int i = 0; i < 48; ++i) worst = std::fmax(worst, std::fabs(rec.energies[i] - energies[i]));
    MESSAGE("mode rerun=", mode.rerun, " chunk=", mode.chunk, ": max |energy - golden| = ", worst,
            " (tolerance 3.1e-5)");
    CHECK(worst <= 3.1e-5);
    std::vector<double> golden_e(energies.begin(), energies.end());
    for (int it = 0; it < 3; ++it)
      CHECK(topk_set(&rec.energies[it * 16], 16, 4) == topk_set(&golden_e[it * 16], 16, 4));
    const plantest::Diff d = plantest::compare(out, action.data(), 14, 1e-4, 1e-4);
    CHECK(d.worst_ratio <= 1.0);
    CHECK(planner.evaluations == 48);
  }
}

TEST_CASE("a memory with history as the shared prefix: cached energies == re-run energies") {
  models::AcPredictorConfig c = plantest::tiny_ac_config();
  c.embed_dim = 32;
  c.pred_embed_dim = 64;
  c.mlp_hidden = 128;
  c.img_height = 24;
  c.img_width = 24;
  auto holder = plantest::random_ac_model(c, 41);
  REQUIRE(holder->status.is_ok());
  const int64_t hw = c.patches_per_step(), D = c.embed_dim;
  const size_t frame = (size_t)(hw * D);
  AcMemoryOptions mo;
  mo.window = 3;
  mo.keep = 1;
  Buffer mem_buf(ac_memory_arena_bytes(c, mo));
  Buffer mem_scratch(ac_memory_arena_bytes(c, mo));
  AcMemory mem;
  REQUIRE(ac_memory_create(holder->model(), mo, mem_buf.arena, &mem).is_ok());
  const std::vector<float> goal = plantest::random_latents(hw, D, 900);
  CemConfig cfg;
  cfg.horizon = 2;
  cfg.samples = 12;
  cfg.topk = 3;
  cfg.iterations = 2;
  std::vector<double> e_cached, e_rerun;
  for (int t = 0; t < 5; ++t) {  // commits 0..3 fill and slide the window; plan at every control step
    const std::vector<float> z = plantest::random_latents(hw, D, 500 + t);
    double p[7] = {0.1 * t, 0.2, 0.3, 0.5, -0.2, 0.1 * t, 0.4};
    REQUIRE(ac_memory_observe(mem, z.data(), p).is_ok());
    for (bool rerun : {false, true}) {
      AcPlannerOptions po;
      po.samples = cfg.samples;
      po.horizon = cfg.horizon;
      po.max_prefix_steps = mo.window;
      po.rerun_history = rerun;
      po.energy.goal = goal.data();
      Buffer plan_buf(ac_planner_arena_bytes(c, po));
      AcPlanner planner;
      REQUIRE(ac_planner_create(holder->model(), po, mem, ParallelFor(), plan_buf.arena, &planner).is_ok());
      Recorder rec{&planner, {}};
      CounterGaussian g(77 + t);  // same draws for both modes
      Buffer cem_buf(cem_state_bytes(cfg));
      float out[14];
      REQUIRE(cem_plan(cfg, g.source(), make_evaluator(rec), cem_buf.arena, out).is_ok());
      (rerun ? e_rerun : e_cached).insert((rerun ? e_rerun : e_cached).end(), rec.energies.begin(),
                                          rec.energies.end());
    }
    float a[7] = {0.01f * t, -0.02f, 0.01f, 0, 0, 0, 0.1f};
    REQUIRE(ac_memory_commit(mem, ParallelFor(), mem_scratch.arena, a).is_ok());
  }
  REQUIRE(e_cached.size() == e_rerun.size());
  double worst = 0;
  for (size_t i = 0; i < e_cached.size(); ++i) worst = std::fmax(worst, std::fabs(e_cached[i] - e_rerun[i]));
  MESSAGE("shared-prefix vs re-run energies over 5 control steps: max difference ", worst);
  CHECK(worst < 1e-6);
  (void)frame;
}

TEST_CASE("MPPI on the AC world model reaches a lower energy than its first samples") {
  auto holder = plantest::golden_ac_model();
  REQUIRE(holder->status.is_ok());
  const std::vector<float> enc = plantest::golden_ac("ac_encode.latents.bin");
  const size_t frame = 16 * 64;
  AcMemoryOptions mo;
  mo.window = 1;
  mo.keep = 0;
  Buffer mem_buf(ac_memory_arena_bytes(holder->cfg, mo));
  AcMemory mem;
  REQUIRE(ac_memory_create(holder->model(), mo, mem_buf.arena, &mem).is_ok());
  const double pose0[7] = {0.45, 0, 0.35, 3.0, -0.2, 0.1, 0.3};
  REQUIRE(ac_memory_observe(mem, enc.data(), pose0).is_ok());
  MppiConfig cfg;
  cfg.horizon = 1;
  cfg.samples = 32;
  cfg.iterations = 6;
  cfg.temperature = 2e-3;
  cfg.adapt_std = true;
  cfg.space.maxnorm = 0.075;
  AcPlannerOptions po;
  po.samples = cfg.samples;
  po.horizon = cfg.horizon;
  po.max_prefix_steps = 1;
  po.energy.goal = enc.data() + 3 * frame;
  Buffer plan_buf(ac_planner_arena_bytes(holder->cfg, po));
  AcPlanner planner;
  REQUIRE(ac_planner_create(holder->model(), po, mem, ParallelFor(), plan_buf.arena, &planner).is_ok());
  Recorder rec{&planner, {}};
  CounterGaussian g(3);
  Buffer st_buf(1 << 16);
  float out[7];
  REQUIRE(mppi_plan(cfg, g.source(), make_evaluator(rec), st_buf.arena, out).is_ok());
  REQUIRE(rec.energies.size() == 6 * 32);
  double first = 0, last = 0;
  for (int s = 0; s < 32; ++s) {
    first += rec.energies[s] / 32;
    last += rec.energies[5 * 32 + s] / 32;
  }
  MESSAGE("MPPI mean energy: first iteration ", first, ", last ", last);
  CHECK(last < first);
  // The plan itself: score it and compare with the first iteration's mean.
  double e_plan = 0;
  REQUIRE(ac_planner_evaluate(planner, out, 1, 1, &e_plan).is_ok());
  CHECK(e_plan < first);
}

TEST_CASE("planner argument errors") {
  auto holder = plantest::golden_ac_model();
  REQUIRE(holder->status.is_ok());
  AcMemoryOptions mo;
  mo.window = 2;
  mo.keep = 1;
  Buffer mem_buf(ac_memory_arena_bytes(holder->cfg, mo));
  AcMemory mem;
  REQUIRE(ac_memory_create(holder->model(), mo, mem_buf.arena, &mem).is_ok());
  AcPlannerOptions po;
  po.samples = 4;
  po.horizon = 1;
  po.max_prefix_steps = 1;  // below the window
  Buffer plan_buf(1 << 20);
  AcPlanner planner;
  CHECK(ac_planner_create(holder->model(), po, mem, ParallelFor(), plan_buf.arena, &planner).code() ==
        Error::invalid_argument);
  po.max_prefix_steps = 2;  // and no goal
  CHECK(ac_planner_create(holder->model(), po, mem, ParallelFor(), plan_buf.arena, &planner).code() ==
        Error::invalid_argument);
  std::vector<float> goal(16 * 64, 0.0f);
  po.energy.goal = goal.data();
  Buffer ok_buf(ac_planner_arena_bytes(holder->cfg, po));
  REQUIRE(ac_planner_create(holder->model(), po, mem, ParallelFor(), ok_buf.arena, &planner).is_ok());
  float a[7] = {0};
  double e;
  CHECK(ac_planner_evaluate(planner, a, 1, 1, &e).code() == Error::invalid_argument);  // nothing observed
  CHECK(ac_planner_evaluate(planner, a, 5, 1, &e).code() == Error::invalid_argument);  // too many samples
}
