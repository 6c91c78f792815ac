// tests/plan/test_mppi.cpp: MPPI (and CEM) converge on a convex toy energy,
// the softmax weighting limits (low temperature -> best sample), validation.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "jepa/plan/cem.hpp"
#include "jepa/plan/mppi.hpp"

using namespace jepa;
using namespace jepa::plan;

namespace {
// E = sum over steps of |a_free - target_h|^2: convex, minimum inside the box.
struct Quadratic {
  double target[2][4] = {{0.02, -0.03, 0.01, 0.5}, {-0.01, 0.025, -0.02, -0.6}};
  int calls = 0;
  Status operator()(const float* actions, int S, int H, double* out) {
    ++calls;
    for (int s = 0; s < S; ++s) {
      double e = 0;
      for (int h = 0; h < H; ++h)
        for (int f = 0; f < 4; ++f) {
          const double d = actions[(s * H + h) * 7 + kFreeToAction[f]] - target[h][f];
          e += (f == 3 ? 0.01 : 1.0) * d * d;  // the gripper range is 15x larger
        }
      out[s] = e;
    }
    return Status::ok();
  }
};
}  // namespace

TEST_CASE("MPPI converges on a convex toy energy") {
  MppiConfig cfg;
  cfg.horizon = 2;
  cfg.samples = 256;
  cfg.iterations = 30;
  cfg.temperature = 1e-4;
  cfg.adapt_std = true;
  cfg.momentum_std = 0.3;
  cfg.round_gripper_below = 0;
  Quadratic q;
  CounterGaussian g(1);
  std::vector<uint8_t> buf(1 << 16);
  Arena arena(buf.data(), buf.size());
  float out[14];
  const Status st = mppi_plan(cfg, g.source(), make_evaluator(q), arena, out);
  REQUIRE_MESSAGE(st.is_ok(), st.message());
  CHECK(q.calls == 30);
  for (int h = 0; h < 2; ++h) {
    for (int f = 0; f < 3; ++f) CHECK(std::fabs(out[h * 7 + f] - q.target[h][f]) < 2e-3);
    CHECK(std::fabs(out[h * 7 + 6] - q.target[h][3]) < 0.05);
    for (int i = 3; i < 6; ++i) CHECK(out[h * 7 + i] == 0.0f);
  }
  CHECK(arena.used() == 0);  // the state was released
}

TEST_CASE("CEM converges on the same toy energy") {
  CemConfig cfg;
  cfg.horizon = 2;
  cfg.samples = 128;
  cfg.topk = 12;
  cfg.iterations = 40;
  cfg.momentum_std = 0.3;
  cfg.round_gripper_below = 0;
  Quadratic q;
  CounterGaussian g(2);
  std::vector<uint8_t> buf(cem_state_bytes(cfg));
  Arena arena(buf.data(), buf.size());
  float out[14];
  REQUIRE(cem_plan(cfg, g.source(), make_evaluator(q), arena, out).is_ok());
  for (int h = 0; h < 2; ++h) {
    for (int f = 0; f < 3; ++f) CHECK(std::fabs(out[h * 7 + f] - q.target[h][f]) < 2e-3);
    CHECK(std::fabs(out[h * 7 + 6] - q.target[h][3]) < 0.05);
  }
}

TEST_CASE("MPPI weights: a tiny temperature selects the best sample, a huge one averages") {
  MppiConfig cfg;
  cfg.horizon = 1;
  cfg.samples = 3;
  std::vector<uint8_t> buf(1 << 12);
  Arena arena(buf.data(), buf.size());
  CemState st;
  REQUIRE(mppi_state_create(cfg, arena, &st).is_ok());
  mppi_reset(cfg, st);
  const float xs[3] = {0.01f, -0.02f, 0.03f};
  for (int s = 0; s < 3; ++s) {
    for (int i = 0; i < 7; ++i) st.actions[s * 7 + i] = 0;
    st.actions[s * 7] = xs[s];
  }
  const double e[3] = {2.0, 1.0, 3.0};
  cfg.temperature = 1e-6;
  for (int s = 0; s < 3; ++s) st.energies[s] = e[s];
  REQUIRE(mppi_update(cfg, st).is_ok());
  CHECK(st.mean[0] == doctest::Approx(-0.02));
  cfg.temperature = 1e9;
  for (int s = 0; s < 3; ++s) st.energies[s] = e[s];
  REQUIRE(mppi_update(cfg, st).is_ok());
  CHECK(st.mean[0] == doctest::Approx((0.01 - 0.02 + 0.03) / 3).epsilon(1e-6));
  // All energies infinite: a clear error.
  for (int s = 0; s < 3; ++s) st.energies[s] = INFINITY;
  CHECK(mppi_update(cfg, st).code() == Error::non_finite);
  cfg.temperature = 0;
  CHECK(cfg.validate().code() == Error::invalid_argument);
}
