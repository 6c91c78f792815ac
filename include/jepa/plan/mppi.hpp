// jepa/plan/mppi.hpp: model-predictive path integral control over the same
// search space, noise and evaluator as CEM (plan/action_space.hpp).
//
// Not in the official V-JEPA 2 code; offered because it uses every sample
// instead of only the elites. Per iteration: sample as CEM does (Gaussian
// around the mean, clipped, pinned), score, then weight each candidate by
//   w_s = exp(-(E_s - E_min) / temperature) / sum_r exp(-(E_r - E_min) / temperature)
// (subtracting E_min changes nothing mathematically and keeps exp finite) and
// set mean = (1-m)*sum_s w_s a_s + m*mean. With adapt_std, the std follows the
// weighted spread the same way (floored at min_std); otherwise it stays at its
// initial value. temperature -> 0 approaches "take the best sample",
// temperature -> inf the plain average. The result is formatted like CEM's.
#ifndef JEPA_PLAN_MPPI_HPP
#define JEPA_PLAN_MPPI_HPP

#include <cmath>
#include <cstdint>

#include "../runtime/arena.hpp"
#include "../status.hpp"
#include "action_space.hpp"
#include "cem.hpp"
#include "noise.hpp"

namespace jepa {
namespace plan {

struct MppiConfig {
  int horizon = 1;
  int samples = 100;
  int iterations = 10;
  double temperature = 0.01;     // lambda, in energy units (mean-abs latent distance for the AC energy)
  double momentum_mean = 0.0;    // weight of the previous mean
  bool adapt_std = false;        // follow the weighted spread
  double momentum_std = 0.5;     // weight of the previous std when adapt_std
  double min_std = 1e-4;         // floor for the adapted std
  double init_std_gripper = 1.0; // initial gripper std (xyz starts at space.maxnorm)
  double round_gripper_below = 0.25;  // final |g| below this -> 0 (as CEM; 0 disables)
  ActionSpace space;

  Status validate() const {
    if (horizon < 1 || samples < 1 || iterations < 0)
      return Status::error(Error::invalid_argument, "MPPI: horizon %d, samples %d, iterations %d must be >= 1, 1, 0",
                           horizon, samples, iterations);
    if (!(temperature > 0) || !std::isfinite(temperature))
      return Status::error(Error::invalid_argument, "MPPI: temperature %g must be > 0 and finite", temperature);
    if (!(momentum_mean >= 0 && momentum_mean <= 1) || !(momentum_std >= 0 && momentum_std <= 1))
      return Status::error(Error::invalid_argument, "MPPI: momenta must be in [0, 1]");
    if (!(min_std >= 0) || !(init_std_gripper >= 0))
      return Status::error(Error::invalid_argument, "MPPI: min_std and init_std_gripper must be >= 0");
    return space.validate();
  }

  // The CEM view of the same sizes and space (the state layout is shared).
  CemConfig as_cem_shape() const {
    CemConfig c;
    c.horizon = horizon;
    c.samples = samples;
    c.topk = samples >= 2 ? 2 : 1;  // unused by MPPI; keeps CemConfig::validate quiet
    c.iterations = iterations;
    c.init_std_gripper = init_std_gripper;
    c.round_gripper_below = round_gripper_below;
    c.space = space;
    return c;
  }
};

// MPPI keeps the same state as CEM; `order` is unused, `energies` is
// overwritten with the normalised weights during the update.
inline Status mppi_state_create(const MppiConfig& cfg, Arena& arena, CemState* st) {
  JEPA_RETURN_IF_ERROR(cfg.validate());
  CemConfig shape = cfg.as_cem_shape();
  shape.topk = 2;
  if (shape.samples < 2) shape.samples = 2;  // only for sizing when samples == 1
  JEPA_RETURN_IF_ERROR(cem_state_create(shape, arena, st));
  st->samples = cfg.samples;
  return Status::ok();
}

inline void mppi_reset(const MppiConfig& cfg, CemState& st) { cem_reset(cfg.as_cem_shape(), st); }

// Softmax-weighted update from st.energies.
inline Status mppi_update(const MppiConfig& cfg, CemState& st) {
  const int H = st.horizon, S = st.samples;
  double best = INFINITY;
  for (int s = 0; s < S; ++s)
    if (st.energies[s] < best) best = st.energies[s];
  if (!std::isfinite(best)) return Status::error(Error::non_finite, "MPPI: no candidate has a finite energy");
  double total = 0;
  for (int s = 0; s < S; ++s) {
    const double e = st.energies[s];
    const double w = std::isfinite(e) ? std::exp(-(e - best) / cfg.temperature) : 0.0;
    st.energies[s] = w;  // the best has weight 1 before normalising, so total >= 1
    total += w;
  }
  for (int s = 0; s < S; ++s) st.energies[s] /= total;
  for (int h = 0; h < H; ++h) {
    for (int f = 0; f < kFreeDims; ++f) {
      const int dim = kFreeToAction[f];
      double m = 0;
      for (int s = 0; s < S; ++s) m += st.energies[s] * st.actions[((size_t)s * H + h) * kActionDim + dim];
      double& mean = st.mean[h * kFreeDims + f];
      double& sd = st.std_dev[h * kFreeDims + f];
      if (cfg.adapt_std) {
        double var = 0;
        for (int s = 0; s < S; ++s) {
          const double d = st.actions[((size_t)s * H + h) * kActionDim + dim] - m;
          var += st.energies[s] * d * d;
        }
        double next = std::sqrt(var) * (1.0 - cfg.momentum_std) + sd * cfg.momentum_std;
        sd = next < cfg.min_std ? cfg.min_std : next;
      }
      mean = m * (1.0 - cfg.momentum_mean) + mean * cfg.momentum_mean;
    }
  }
  ++st.iteration;
  return Status::ok();
}

inline Status mppi_iteration(const MppiConfig& cfg, const GaussianSource& noise, const TrajectoryEvaluator& eval,
                             CemState& st) {
  JEPA_RETURN_IF_ERROR(cem_sample(cfg.space, noise, st));
  JEPA_RETURN_IF_ERROR(eval(st.actions, st.samples, st.horizon, st.energies));
  return mppi_update(cfg, st);
}

// Reset, cfg.iterations iterations, result into out[horizon][7].
inline Status mppi_plan(const MppiConfig& cfg, const GaussianSource& noise, const TrajectoryEvaluator& eval,
                        Arena& arena, float* out) {
  ArenaScope scope(arena);
  CemState st;
  JEPA_RETURN_IF_ERROR(mppi_state_create(cfg, arena, &st));
  if (arena.measuring()) return Status::ok();
  mppi_reset(cfg, st);
  for (int it = 0; it < cfg.iterations; ++it) JEPA_RETURN_IF_ERROR(mppi_iteration(cfg, noise, eval, st));
  cem_result(cfg.as_cem_shape(), st, out);
  return Status::ok();
}

}  // namespace plan
}  // namespace jepa

#endif  // JEPA_PLAN_MPPI_HPP
