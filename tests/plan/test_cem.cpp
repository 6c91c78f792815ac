// tests/plan/test_cem.cpp: the CEM update logic against the golden `cem` case
// of vjepa2_ac_tiny with a mock energy that returns the recorded energies:
// sampling from the replayed torch noise, clipping, top-k, momentum with the
// unbiased std and the final gripper rounding must give the recorded samples
// and the recorded planned action. Also parameter validation and the noise sources.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "jepa/plan/cem.hpp"
#include "plan/plan_test_util.hpp"

using namespace jepa;
using namespace jepa::plan;

namespace {

using plantest::golden_cem_config;  // the golden case's arguments (config.json "cem")

// Checks each iteration's candidates against cem.sampled_actions
// [steps][rollout][samples][7] and answers with cem.energies [steps][samples].
struct MockEnergy {
  const std::vector<float>& sampled;
  const std::vector<float>& energies;
  int calls = 0;
  double worst_action_error = 0;

  Status operator()(const float* actions, int S, int H, double* out) {
    if (calls >= 3) return Status::error(Error::out_of_range, "mock called too often");
    for (int s = 0; s < S; ++s)
      for (int h = 0; h < H; ++h)
        for (int i = 0; i < 7; ++i) {
          const double ref = sampled[(((size_t)calls * H + h) * S + s) * 7 + i];
          const double e = std::fabs(actions[((size_t)s * H + h) * 7 + i] - ref);
          if (e > worst_action_error) worst_action_error = e;
        }
    for (int s = 0; s < S; ++s) out[s] = energies[(size_t)calls * S + s];
    ++calls;
    return Status::ok();
  }
};

}  // namespace

TEST_CASE("CEM replays the golden official cem() exactly with recorded energies") {
  const std::vector<float> noise = plantest::golden_ac("cem.noise.bin");
  const std::vector<float> sampled = plantest::golden_ac("cem.sampled_actions.bin");
  const std::vector<float> energies = plantest::golden_ac("cem.energies.bin");
  const std::vector<float> action = plantest::golden_ac("cem.action.bin");
  REQUIRE(noise.size() == 3 * 2 * 16 * 4);
  REQUIRE(sampled.size() == 3 * 2 * 16 * 7);
  REQUIRE(energies.size() == 3 * 16);
  REQUIRE(action.size() == 2 * 7);

  const CemConfig cfg = golden_cem_config();
  ReplayGaussian replay(noise.data(), noise.size());
  MockEnergy mock{sampled, energies};
  std::vector<uint8_t> buf(cem_state_bytes(cfg));
  Arena arena(buf.data(), buf.size());
  float out[2 * 7];
  const Status st = cem_plan(cfg, replay.source(), make_evaluator(mock), arena, out);
  REQUIRE_MESSAGE(st.is_ok(), st.message());
  CHECK(mock.calls == 3);
  CHECK(replay.remaining() == 0);  // every recorded draw used, in order
  MESSAGE("max |sampled action - golden| = ", mock.worst_action_error);
  CHECK(mock.worst_action_error <= 1e-6);
  const plantest::Diff d = plantest::compare(out, action.data(), 14, 1e-4, 1e-4);
  MESSAGE("planned action max abs error ", d.max_abs);
  CHECK(d.worst_ratio <= 1.0);
  CHECK(d.max_abs <= 1e-6);
  for (int h = 0; h < 2; ++h)
    for (int i = 3; i < 6; ++i) CHECK(out[h * 7 + i] == 0.0f);
}

TEST_CASE("CEM clipping, the unbiased std, momentum and rounding, step by step") {
  CemConfig cfg;
  cfg.horizon = 1;
  cfg.samples = 4;
  cfg.topk = 2;
  cfg.iterations = 1;
  cfg.momentum_mean = 0.5;
  cfg.momentum_std = 0.5;
  cfg.momentum_mean_gripper = 0.0;
  cfg.momentum_std_gripper = 0.0;
  cfg.space.maxnorm = 0.1;
  std::vector<uint8_t> buf(cem_state_bytes(cfg));
  Arena arena(buf.data(), buf.size());
  CemState st;
  REQUIRE(cem_state_create(cfg, arena, &st).is_ok());
  cem_reset(cfg, st);
  CHECK(st.std_dev[0] == doctest::Approx(0.1));
  CHECK(st.std_dev[3] == doctest::Approx(1.0));
  // Draws: sample 0 is clipped in x (3 * 0.1 > maxnorm) and gripper (-2 -> -0.75).
  const float draws[16] = {3.0f, 0.5f, -0.5f, -2.0f,  0.2f, 0.1f, 0.0f, 0.3f,
                           -0.4f, 0.0f, 0.2f, 0.9f,   1.0f, 1.0f, 1.0f, 1.0f};
  ReplayGaussian replay(draws, 16);
  REQUIRE(cem_sample(cfg.space, replay.source(), st).is_ok());
  CHECK(st.actions[0] == doctest::Approx(0.1));
  CHECK(st.actions[6] == doctest::Approx(-0.75));
  CHECK(st.actions[7 + 0] == doctest::Approx(0.02));
  for (int i = 3; i < 6; ++i) CHECK(st.actions[i] == 0.0f);
  // Energies pick samples 1 and 2 as the elites.
  const double e[4] = {5, 1, 2, 9};
  for (int s = 0; s < 4; ++s) st.energies[s] = e[s];
  cem_update(cfg, st);
  CHECK(((st.order[0] == 1 && st.order[1] == 2)));
  const double x1 = 0.02, x2 = -0.04;  // x of samples 1 and 2
  const double mean_k = (x1 + x2) / 2;
  const double std_k = std::sqrt(((x1 - mean_k) * (x1 - mean_k) + (x2 - mean_k) * (x2 - mean_k)) / 1.0);
  CHECK(st.mean[0] == doctest::Approx(0.5 * mean_k));
  CHECK(st.std_dev[0] == doctest::Approx(0.5 * std_k + 0.5 * 0.1));
  const double g1 = 0.3, g2 = 0.75;  // 0.9 clipped to 0.75
  CHECK(st.mean[3] == doctest::Approx((g1 + g2) / 2));
  CHECK(st.std_dev[3] == doctest::Approx(std::sqrt(((g1 - g2) * (g1 - g2)) / 2)));
  float out[7];
  cem_result(cfg, st, out);
  CHECK(out[6] == doctest::Approx((g1 + g2) / 2));
  st.mean[3] = -0.2;  // |g| < 0.25 rounds to 0
  cem_result(cfg, st, out);
  CHECK(out[6] == 0.0f);
}

TEST_CASE("CEM pinned axes, close_gripper and NaN energies") {
  CemConfig cfg;
  cfg.horizon = 2;
  cfg.samples = 3;
  cfg.topk = 2;
  cfg.space.pinned[1] = true;
  cfg.space.pinned_value[1] = 0.01;
  cfg.space.close_gripper_from = 1;
  std::vector<uint8_t> buf(cem_state_bytes(cfg));
  Arena arena(buf.data(), buf.size());
  CemState st;
  REQUIRE(cem_state_create(cfg, arena, &st).is_ok());
  cem_reset(cfg, st);
  CHECK(st.mean[1] == doctest::Approx(0.01));
  CounterGaussian g(7);
  REQUIRE(cem_sample(cfg.space, g.source(), st).is_ok());
  for (int s = 0; s < 3; ++s) {
    CHECK(st.actions[(s * 2 + 0) * 7 + 1] == doctest::Approx(0.01));
    CHECK(std::fabs(st.actions[(s * 2 + 0) * 7 + 6]) <= 0.75f);
    CHECK(st.actions[(s * 2 + 1) * 7 + 6] == 1.0f);  // forced after the clip
  }
  st.energies[0] = NAN;
  st.energies[1] = 3;
  st.energies[2] = 4;
  cem_update(cfg, st);
  CHECK(st.order[0] == 1);
  CHECK(st.order[1] == 2);
  CHECK(std::isfinite(st.mean[0]));
}

TEST_CASE("CEM config validation and arena sizing") {
  CemConfig c;
  CHECK(c.validate().is_ok());
  c.topk = 1;
  CHECK(c.validate().code() == Error::invalid_argument);
  c.topk = 101;
  CHECK(c.validate().code() == Error::invalid_argument);
  c = CemConfig::world_model_defaults();
  CHECK(c.validate().is_ok());
  CHECK(c.samples == 400);
  c.momentum_std = 1.5;
  CHECK(c.validate().code() == Error::invalid_argument);
  c = CemConfig();
  c.space.maxnorm = 0;
  CHECK(c.validate().code() == Error::invalid_argument);
  // Too small an arena is an error, not a crash.
  c = CemConfig();
  std::vector<uint8_t> small(64);
  Arena arena(small.data(), small.size());
  CemState st;
  CHECK(cem_state_create(c, arena, &st).code() == Error::out_of_memory);
}

TEST_CASE("noise sources: replay order and exhaustion, counter-based Gaussian statistics") {
  const float rec[3] = {1, 2, 3};
  ReplayGaussian r(rec, 3);
  GaussianSource src = r.source();
  float out[3];
  REQUIRE(src(out, 2).is_ok());
  CHECK(out[1] == 2.0f);
  CHECK(src(out, 2).code() == Error::out_of_range);
  REQUIRE(src(out, 1).is_ok());
  CHECK(out[0] == 3.0f);

  CounterGaussian g(42);
  std::vector<float> v(200000);
  REQUIRE(g.source()(v.data(), v.size()).is_ok());
  double s1 = 0, s2 = 0, s4 = 0;
  for (float x : v) {
    s1 += x;
    s2 += (double)x * x;
    s4 += (double)x * x * x * x;
  }
  const double n = (double)v.size();
  CHECK(std::fabs(s1 / n) < 0.01);
  CHECK(std::fabs(s2 / n - 1) < 0.015);
  CHECK(std::fabs(s4 / n - 3) < 0.1);  // Gaussian kurtosis
  // Counter-based: any draw can be recomputed and the stream resumed.
  CHECK(g.draw(12345) == v[12345]);
  CounterGaussian h(42);
  h.seek(1000);
  float w[4];
  REQUIRE(h.source()(w, 4).is_ok());
  for (int i = 0; i < 4; ++i) CHECK(w[i] == v[1000 + i]);
  CounterGaussian other(43);
  CHECK(other.draw(0) != v[0]);
}
