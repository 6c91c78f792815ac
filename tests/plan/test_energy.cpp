// tests/plan/test_energy.cpp: the energy hook against direct formulas: the
// official mean-abs, MSE, L2, a token subset, the pose term, a custom energy.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "jepa/plan/energy.hpp"

using namespace jepa;
using namespace jepa::plan;

TEST_CASE("built-in energies match their formulas") {
  const int64_t T = 3, D = 4;
  std::vector<float> z(T * D), g(T * D);
  for (int i = 0; i < T * D; ++i) {
    z[i] = 0.1f * (float)i - 0.4f;
    g[i] = 0.05f * (float)((i * 5) % 7);
  }
  double sa = 0, ss = 0;
  for (int i = 0; i < T * D; ++i) {
    const double d = (double)z[i] - g[i];
    sa += std::fabs(d);
    ss += d * d;
  }
  EnergyArgs a;
  a.latents = z.data();
  a.tokens = T;
  a.dim = D;
  Energy e;
  e.goal = g.data();
  REQUIRE(e.validate(T).is_ok());
  CHECK(energy_value(e, a) == doctest::Approx(sa / (T * D)).epsilon(1e-12));  // torch.mean(|a-b|)
  e.kind = EnergyKind::mean_squared;
  CHECK(energy_value(e, a) == doctest::Approx(ss / (T * D)).epsilon(1e-12));
  e.kind = EnergyKind::l2;
  CHECK(energy_value(e, a) == doctest::Approx(std::sqrt(ss)).epsilon(1e-12));

  // Token subset {2, 0}: only those rows, mean over the subset.
  const int32_t subset[2] = {2, 0};
  e.kind = EnergyKind::mean_abs;
  e.token_subset = subset;
  e.subset_size = 2;
  REQUIRE(e.validate(T).is_ok());
  double s2 = 0;
  for (int t : {0, 2})
    for (int d = 0; d < D; ++d) s2 += std::fabs((double)z[t * D + d] - g[t * D + d]);
  CHECK(energy_value(e, a) == doctest::Approx(s2 / (2 * D)).epsilon(1e-12));
  const int32_t bad[1] = {3};
  e.token_subset = bad;
  e.subset_size = 1;
  CHECK(e.validate(T).code() == Error::invalid_argument);
  e.token_subset = nullptr;

  // Goal-conditioned pose term.
  const double pose[7] = {0.3, 0.0, 0.4, 0, 0, 0, 0};
  a.pose = pose;
  e.pose_weight = 2.0;
  CHECK(energy_value(e, a) == doctest::Approx(sa / (T * D) + 2.0 * 0.5).epsilon(1e-12));
  e.pose_weight = -1;
  CHECK(e.validate(T).code() == Error::invalid_argument);
}

TEST_CASE("custom energy sees the candidate") {
  Energy e;
  e.kind = EnergyKind::custom;
  CHECK(e.validate(1).code() == Error::invalid_argument);
  e.custom = [](void* ctx, const EnergyArgs& a, const float*) -> double {
    *static_cast<int*>(ctx) += 1;
    return a.actions[a.horizon * 7 - 1] + a.sample;  // last step's gripper + index
  };
  int calls = 0;
  e.custom_ctx = &calls;
  REQUIRE(e.validate(1).is_ok());
  const float acts[14] = {0, 0, 0, 0, 0, 0, 0.5f, 0, 0, 0, 0, 0, 0, 0.25f};
  EnergyArgs a;
  a.actions = acts;
  a.horizon = 2;
  a.sample = 3;
  CHECK(energy_value(e, a) == doctest::Approx(3.25));
  CHECK(calls == 1);
}
