// tests/plan/test_rollout.cpp: rollouts through the KV cache.
// - golden ac_rollout (B=2, 3 steps from frame 0, poses wrapping past pi) at
//   the manifest's fp32 tolerance;
// - the cache equivalence: every cached step equals the official re-run of
//   the whole history (ac_rerun_last) to ~1e-6, with and without a prefill of
//   several context frames, and on a shared batch-1 prefix cache;
// - a shared start (one frame for every sequence) equals the replicated one.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "jepa/plan/rollout.hpp"
#include "jepa/runtime/thread_pool.hpp"
#include "plan/plan_test_util.hpp"

using namespace jepa;
using namespace jepa::plan;

namespace {

using plantest::Buffer;
using plantest::max_abs_diff;

// A small model that is not the golden one: odd grid, 4 heads.
models::AcPredictorConfig small_config() {
  models::AcPredictorConfig c = plantest::tiny_ac_config();
  c.embed_dim = 48;
  c.pred_embed_dim = 96;
  c.num_heads = 4;  // head_dim 24: RoPE segment 8 per axis
  c.mlp_hidden = 192;
  c.depth = 3;
  c.img_height = 24;  // 3 x 4 grid: non-square, exercises the w scale
  c.img_width = 32;
  return c;
}

}  // namespace

TEST_CASE("golden ac_rollout: 3 cached steps for 2 sequences") {
  auto holder = plantest::golden_ac_model();
  REQUIRE_MESSAGE(holder->status.is_ok(), holder->status.message());
  const std::vector<float> enc = plantest::golden_ac("ac_encode.latents.bin");     // [1][4*16][64]
  const std::vector<float> pose0 = plantest::golden_ac("ac_rollout.pose0.bin");    // [2][1][7]
  const std::vector<float> actions = plantest::golden_ac("ac_rollout.actions.bin");  // [2][3][7]
  const std::vector<float> expect = plantest::golden_ac("ac_rollout.latents.bin");  // [2][4][16][64]
  const std::vector<float> expect_pose = plantest::golden_ac("ac_rollout.poses.bin");  // [2][4][7]
  REQUIRE(enc.size() == 64 * 64);
  REQUIRE(expect.size() == 2 * 4 * 16 * 64);
  const size_t frame = 16 * 64;
  // Frame 0 of both sequences is the context: frame 0 of ac_encode.latents.
  CHECK(max_abs_diff(expect.data(), enc.data(), frame) == 0.0);
  CHECK(max_abs_diff(expect.data() + 4 * frame, enc.data(), frame) == 0.0);

  AcRolloutOptions o;
  o.batch = 2;
  o.max_steps = 3;
  Buffer buf(ac_rollout_arena_bytes(holder->cfg, o));
  AcRollout r;
  REQUIRE(ac_rollout_create(holder->model(), o, buf.arena, &r).is_ok());
  double poses[14];
  for (int i = 0; i < 14; ++i) poses[i] = pose0[i];
  std::vector<float> start(2 * frame);
  std::memcpy(start.data(), enc.data(), frame * 4);
  std::memcpy(start.data() + frame, enc.data(), frame * 4);
  REQUIRE(ac_rollout_start(r, start.data(), poses).is_ok());
  std::vector<float> next(2 * frame);
  double next_pose[14];
  double worst_ratio = 0, worst_abs = 0;
  for (int t = 0; t < 3; ++t) {
    float act[14];
    for (int b = 0; b < 2; ++b)
      for (int i = 0; i < 7; ++i) act[b * 7 + i] = actions[(b * 3 + t) * 7 + i];
    const Status st = ac_rollout_step(r, ParallelFor(), buf.arena, act, next.data(), next_pose);
    REQUIRE_MESSAGE(st.is_ok(), st.message());
    CHECK(r.step() == t + 1);
    for (int b = 0; b < 2; ++b) {
      // ac_rollout.latents: atol 2e-4, rtol 1e-4 (manifest).
      const plantest::Diff d =
          plantest::compare(next.data() + b * frame, expect.data() + (b * 4 + t + 1) * frame, frame, 2e-4, 1e-4);
      worst_ratio = std::fmax(worst_ratio, d.worst_ratio);
      worst_abs = std::fmax(worst_abs, d.max_abs);
      const plantest::Diff p = plantest::compare(next_pose + b * 7, &expect_pose[(b * 4 + t + 1) * 7], 7, 1e-4, 1e-4);
      CHECK(p.worst_ratio <= 1.0);
    }
  }
  MESSAGE("ac_rollout.latents: max abs error ", worst_abs, ", ", worst_ratio * 100, "% of the tolerance");
  CHECK(worst_ratio <= 1.0);
  // The cache is full: a 4th step is an error naming the capacity, not a crash.
  float act[14] = {0};
  CHECK(ac_rollout_step(r, ParallelFor(), buf.arena, act).code() == Error::out_of_memory);
}

TEST_CASE("cached rollout == official full re-run, step by step (single context frame)") {
  const models::AcPredictorConfig cfg = small_config();
  auto holder = plantest::random_ac_model(cfg, 11);
  REQUIRE_MESSAGE(holder->status.is_ok(), holder->status.message());
  const int64_t hw = cfg.patches_per_step(), D = cfg.embed_dim, T = 5;
  const size_t frame = (size_t)(hw * D);
  AcRolloutOptions o;
  o.batch = 1;
  o.max_steps = T;
  Buffer buf(ac_rollout_arena_bytes(cfg, o) + ac_rerun_arena_bytes(cfg, T));
  AcRollout r;
  REQUIRE(ac_rollout_create(holder->model(), o, buf.arena, &r).is_ok());
  // History for the re-run: frames (context, then the predictions), poses, actions.
  std::vector<float> frames = plantest::random_latents(hw, D, 3);
  frames.resize(T * frame);
  std::vector<double> poses = {0.4, -0.1, 0.3, 3.0, 0.2, -0.4, 0.3};
  poses.resize(T * 7);
  std::vector<float> actions(T * 7, 0.0f);
  REQUIRE(ac_rollout_start(r, frames.data(), poses.data()).is_ok());
  CounterGaussian g(5);
  std::vector<float> cached(frame), rerun(frame);
  double worst = 0;
  for (int64_t t = 0; t < T; ++t) {
    float a[7];
    REQUIRE(g.source()(a, 7).is_ok());
    for (float& x : a) x *= 0.05f;
    std::memcpy(&actions[t * 7], a, sizeof a);
    double p[7];
    REQUIRE(ac_rollout_step(r, ParallelFor(), buf.arena, a, cached.data(), p).is_ok());
    REQUIRE(ac_rerun_last(holder->model(), ParallelFor(), buf.arena, t + 1, frames.data(), poses.data(),
                          actions.data(), rerun.data()).is_ok());
    const double d = max_abs_diff(cached.data(), rerun.data(), frame);
    worst = std::fmax(worst, d);
    CHECK(d < 2e-5);
    if (t + 1 < T) {
      std::memcpy(&frames[(t + 1) * frame], cached.data(), frame * 4);
      for (int i = 0; i < 7; ++i) poses[(t + 1) * 7 + i] = p[i];
    }
  }
  MESSAGE("cached vs re-run, max abs difference over ", T, " steps: ", worst);
}

TEST_CASE("prefill of several context frames, and a shared prefix cache, equal the re-run") {
  const models::AcPredictorConfig cfg = small_config();
  auto holder = plantest::random_ac_model(cfg, 12);
  REQUIRE(holder->status.is_ok());
  const int64_t hw = cfg.patches_per_step(), D = cfg.embed_dim, T = 4;  // 4 observed frames
  const size_t frame = (size_t)(hw * D);
  std::vector<float> frames = plantest::random_latents(T * hw, D, 21);
  std::vector<double> poses(T * 7);
  std::vector<float> actions((T + 1) * 7);
  for (int64_t i = 0; i < T * 7; ++i) poses[i] = 0.1 * std::sin(0.7 * i);
  for (int64_t i = 0; i < (T + 1) * 7; ++i) actions[i] = 0.03f * std::cos(1.3f * i);

  // Re-run reference: frames 0..T-1 with actions 0..T-1 predicts frame T.
  Buffer ref_buf(ac_rerun_arena_bytes(cfg, T));
  std::vector<float> ref(frame);
  REQUIRE(ac_rerun_last(holder->model(), ParallelFor(), ref_buf.arena, T, frames.data(), poses.data(),
                        actions.data(), ref.data()).is_ok());

  for (int64_t chunk : {1, 2, 3}) {  // prefill 3 steps in chunks of 1, 2 and 3 steps
    AcRolloutOptions o;
    o.batch = 2;  // both sequences get the same history: both must match
    o.max_steps = T;
    o.max_prefill_steps = chunk;
    Buffer buf(ac_rollout_arena_bytes(cfg, o));
    AcRollout r;
    REQUIRE(ac_rollout_create(holder->model(), o, buf.arena, &r).is_ok());
    std::vector<float> lat2(2 * T * frame), act2(2 * (T - 1) * 7);
    std::vector<double> pose2(2 * T * 7);
    for (int b = 0; b < 2; ++b) {
      std::memcpy(&lat2[b * T * frame], frames.data(), T * frame * 4);
      std::memcpy(&act2[b * (T - 1) * 7], actions.data(), (T - 1) * 7 * 4);
      std::memcpy(&pose2[b * T * 7], poses.data(), T * 7 * 8);
    }
    const Status st = ac_rollout_prefill(r, ParallelFor(), buf.arena, T, lat2.data(), pose2.data(), act2.data());
    REQUIRE_MESSAGE(st.is_ok(), st.message());
    CHECK(r.step() == T - 1);
    float a2[14];
    std::memcpy(a2, &actions[(T - 1) * 7], 28);
    std::memcpy(a2 + 7, &actions[(T - 1) * 7], 28);
    std::vector<float> out(2 * frame);
    REQUIRE(ac_rollout_step(r, ParallelFor(), buf.arena, a2, out.data()).is_ok());
    CHECK(max_abs_diff(out.data(), ref.data(), frame) < 2e-5);
    CHECK(max_abs_diff(out.data() + frame, ref.data(), frame) < 2e-5);
  }

  // Shared prefix: the history committed once (batch 1), 3 sequences on top.
  AcRolloutOptions po;
  po.batch = 1;
  po.max_steps = T - 1;
  po.max_prefill_steps = T - 1;
  AcRolloutOptions qo;
  qo.batch = 3;
  qo.max_steps = 2;
  Buffer buf(ac_rollout_arena_bytes(cfg, po) + ac_rollout_arena_bytes(cfg, qo, T - 1));
  AcRollout prefix, q;
  REQUIRE(ac_rollout_create(holder->model(), po, buf.arena, &prefix).is_ok());
  REQUIRE(ac_rollout_prefill(prefix, ParallelFor(), buf.arena, T, frames.data(), poses.data(), actions.data())
              .is_ok());
  REQUIRE(ac_rollout_create(holder->model(), qo, buf.arena, &q, &prefix.cache).is_ok());
  CHECK(q.step() == T - 1);
  REQUIRE(ac_rollout_start_shared(q, prefix.frame, prefix.pose).is_ok());
  float a3[21];
  for (int b = 0; b < 3; ++b) std::memcpy(a3 + b * 7, &actions[(T - 1) * 7], 28);
  a3[7] += 0.02f;  // sequence 1 takes another action: it must differ
  std::vector<float> out(3 * frame);
  REQUIRE(ac_rollout_step(q, ParallelFor(), buf.arena, a3, out.data()).is_ok());
  CHECK(max_abs_diff(out.data(), ref.data(), frame) < 2e-5);
  CHECK(max_abs_diff(out.data() + 2 * frame, ref.data(), frame) < 2e-5);
  CHECK(max_abs_diff(out.data() + frame, ref.data(), frame) > 1e-4);
  // A restart forgets own steps only; the prefix stays.
  REQUIRE(ac_rollout_start_shared(q, prefix.frame, prefix.pose).is_ok());
  CHECK(q.step() == T - 1);
  REQUIRE(ac_rollout_step(q, ParallelFor(), buf.arena, a3, out.data()).is_ok());
  CHECK(max_abs_diff(out.data(), ref.data(), frame) < 2e-5);
}

TEST_CASE("rollout argument errors") {
  auto holder = plantest::random_ac_model(small_config(), 1);
  REQUIRE(holder->status.is_ok());
  AcRolloutOptions o;
  Buffer buf(ac_rollout_arena_bytes(holder->cfg, o));
  AcRollout r;
  REQUIRE(ac_rollout_create(holder->model(), o, buf.arena, &r).is_ok());
  float a[7] = {0};
  CHECK(ac_rollout_step(r, ParallelFor(), buf.arena, a).code() == Error::invalid_argument);  // not started
  o.batch = 0;
  CHECK(ac_rollout_create(holder->model(), o, buf.arena, &r).code() == Error::invalid_argument);
  AcModel none;
  CHECK(ac_rollout_create(none, AcRolloutOptions(), buf.arena, &r).code() == Error::invalid_argument);
  std::vector<uint8_t> tiny(256);
  Arena small(tiny.data(), tiny.size());
  CHECK(ac_rollout_create(holder->model(), AcRolloutOptions(), small, &r).code() == Error::out_of_memory);
}

// ac_rollout_start_shared lets the first step embed the frame and run the
// first block's qkv once for every sequence (AcStepOptions::shared_inputs);
// it must give what the same frame replicated per sequence gives, for every
// weight format (q8 quantises activations per row), on a prefix or not, and
// for any thread count.
TEST_CASE("a shared start equals the replicated start, step by step") {
  const models::AcPredictorConfig cfg = small_config();
  const int64_t hw = cfg.patches_per_step(), D = cfg.embed_dim, B = 5;
  const size_t frame = (size_t)(hw * D);
  const std::vector<float> f0 = plantest::random_latents(hw, D, 31), f1 = plantest::random_latents(hw, D, 32);
  const double pose[7] = {0.3, -0.1, 0.2, 2.9, 0.2, -0.4, 0.6};
  const float act0[7] = {0.02f, 0.01f, -0.03f, 0, 0, 0, 0.2f};
  std::vector<float> acts(B * 7 * 2);
  for (size_t i = 0; i < acts.size(); ++i) acts[i] = 0.04f * std::sin(0.9f * (float)i);
  plantest::WeightFormat q8;
  q8.dtype = format::DType::q8;
  q8.layout = format::Layout::panel;
  ThreadPool pool(2);
  for (const plantest::WeightFormat& wf : {plantest::WeightFormat(), q8})
    for (bool on_prefix : {false, true}) {
      auto holder = plantest::random_ac_model(cfg, 13, wf);
      REQUIRE(holder->status.is_ok());
      AcRolloutOptions po, qo;
      po.max_steps = 1;
      qo.batch = B;
      qo.max_steps = 2;
      Buffer buf(ac_rollout_arena_bytes(cfg, po) + 3 * ac_rollout_arena_bytes(cfg, qo, 1));
      AcRollout prefix;
      REQUIRE(ac_rollout_create(holder->model(), po, buf.arena, &prefix).is_ok());
      if (on_prefix) {  // one committed step (frame f0, action act0); f1 is the current frame
        std::vector<float> lat(2 * frame);
        std::memcpy(lat.data(), f0.data(), frame * 4);
        std::memcpy(lat.data() + frame, f1.data(), frame * 4);
        double poses2[14];
        for (int i = 0; i < 14; ++i) poses2[i] = pose[i % 7] + 0.01 * i;
        REQUIRE(ac_rollout_prefill(prefix, ParallelFor(), buf.arena, 2, lat.data(), poses2, act0).is_ok());
      }
      AcRollout shared, replicated, shared2;
      const models::AcKvCache* pre = on_prefix ? &prefix.cache : nullptr;
      REQUIRE(ac_rollout_create(holder->model(), qo, buf.arena, &shared, pre).is_ok());
      REQUIRE(ac_rollout_create(holder->model(), qo, buf.arena, &replicated, pre).is_ok());
      REQUIRE(ac_rollout_create(holder->model(), qo, buf.arena, &shared2, pre).is_ok());
      std::vector<float> lat(B * frame);
      std::vector<double> poses(B * 7);
      for (int64_t b = 0; b < B; ++b) {
        std::memcpy(&lat[b * frame], f1.data(), frame * 4);
        std::memcpy(&poses[b * 7], pose, sizeof pose);
      }
      REQUIRE(ac_rollout_start_shared(shared, lat.data(), pose).is_ok());
      REQUIRE(ac_rollout_start_shared(shared2, lat.data(), pose).is_ok());
      REQUIRE(ac_rollout_start(replicated, lat.data(), poses.data()).is_ok());
      for (int h = 0; h < 2; ++h) {
        const float* a = acts.data() + h * B * 7;
        REQUIRE(ac_rollout_step(shared, ParallelFor(), buf.arena, a).is_ok());
        REQUIRE(ac_rollout_step(replicated, ParallelFor(), buf.arena, a).is_ok());
        REQUIRE(ac_rollout_step(shared2, pool.parallel_for(), buf.arena, a).is_ok());
        CHECK(max_abs_diff(shared.frame, replicated.frame, B * frame) < 1e-6);
        CHECK(std::memcmp(shared.frame, shared2.frame, B * frame * 4) == 0);  // thread count: bit-identical
        CHECK(max_abs_diff(shared.frame, shared.frame + frame, frame) > 1e-4);  // the actions differ
      }
    }
}

// K/V caches in f16 and q8 (AcRolloutOptions::kv_dtype): the same rollout as
// with f32 up to the storage's rounding, measured and bounded; a q8 prefix
// under f16 candidates mixes dtypes across segments; bit-identical for any
// thread count; the cache takes 1/2 and ~1/4 of the f32 bytes.
TEST_CASE("f16 and q8 K/V caches follow the f32 rollout, on a prefix and not") {
  const models::AcPredictorConfig cfg = small_config();
  auto holder = plantest::random_ac_model(cfg, 14);
  REQUIRE(holder->status.is_ok());
  const int64_t hw = cfg.patches_per_step(), D = cfg.embed_dim, T = 3, B = 2, steps = 3;
  const size_t frame = (size_t)(hw * D);
  const std::vector<float> ctx = plantest::random_latents(T * hw, D, 41);
  std::vector<double> poses(T * 7);
  std::vector<float> ctx_actions(T * 7), acts(steps * B * 7);
  for (int64_t i = 0; i < T * 7; ++i) poses[i] = 0.1 * std::cos(0.3 * i), ctx_actions[i] = 0.02f * std::sin(1.1f * i);
  for (size_t i = 0; i < acts.size(); ++i) acts[i] = 0.05f * std::sin(0.7f * (float)i);
  using ops::KvDtype;
  // out[s]: [B][HW][D] after step s, for a prefix of dtype `pre` and candidates of dtype `own`.
  auto run = [&](KvDtype pre, KvDtype own, const ParallelFor& par) {
    AcRolloutOptions po, qo;
    po.max_steps = T - 1;
    po.max_prefill_steps = T;
    po.kv_dtype = pre;
    qo.batch = B;
    qo.max_steps = steps;
    qo.kv_dtype = own;
    Buffer buf(ac_rollout_arena_bytes(cfg, po) + ac_rollout_arena_bytes(cfg, qo, T - 1));
    AcRollout prefix, q;
    REQUIRE(ac_rollout_create(holder->model(), po, buf.arena, &prefix).is_ok());
    REQUIRE(ac_rollout_prefill(prefix, par, buf.arena, T, ctx.data(), poses.data(), ctx_actions.data()).is_ok());
    REQUIRE(ac_rollout_create(holder->model(), qo, buf.arena, &q, &prefix.cache).is_ok());
    REQUIRE(ac_rollout_start_shared(q, prefix.frame, prefix.pose).is_ok());
    std::vector<float> out(steps * B * frame);
    for (int64_t s = 0; s < steps; ++s)
      REQUIRE(ac_rollout_step(q, par, buf.arena, acts.data() + s * B * 7, out.data() + s * B * frame).is_ok());
    return out;
  };
  const std::vector<float> f32 = run(KvDtype::f32, KvDtype::f32, ParallelFor());
  double scale = 0;
  for (float x : f32) scale = std::fmax(scale, std::fabs(x));
  ThreadPool pool(3);
  struct Case {
    KvDtype pre, own;
    double rel_tol;
  };
  // Measured: f16 1.4e-3, q8 0.7e-2 .. 1.8e-2 of the largest |output| (the test prints them).
  const Case cases[] = {{KvDtype::f16, KvDtype::f16, 5e-3}, {KvDtype::q8, KvDtype::q8, 6e-2},
                        {KvDtype::q8, KvDtype::f16, 6e-2}, {KvDtype::f32, KvDtype::q8, 6e-2}};
  for (const Case& c : cases) {
    const std::vector<float> got = run(c.pre, c.own, ParallelFor());
    const double rel = max_abs_diff(got.data(), f32.data(), got.size()) / scale;
    MESSAGE("prefix " << std::string(ops::kv_dtype_name(c.pre)) << ", own " << std::string(ops::kv_dtype_name(c.own)) << ": max |out - f32 cache| / max|out| over "
                      << steps << " steps = " << rel);
    CHECK(rel < c.rel_tol);
    CHECK(rel > 0.0);  // the storage is really used
    CHECK(std::memcmp(run(c.pre, c.own, pool.parallel_for()).data(), got.data(), got.size() * 4) == 0);
  }
  const size_t b32 = models::ac_kv_cache_bytes(cfg, B, steps, KvDtype::f32);
  const size_t b16 = models::ac_kv_cache_bytes(cfg, B, steps, KvDtype::f16);
  const size_t b8 = models::ac_kv_cache_bytes(cfg, B, steps, KvDtype::q8);
  MESSAGE("cache bytes, B=" << B << " x " << steps << " steps: f32 " << b32 << ", f16 " << b16 << ", q8 " << b8);
  CHECK(b16 * 2 <= b32 + 4 * Arena::kAlign);
  CHECK(b8 * 3 < b32);
}
