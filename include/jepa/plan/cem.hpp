// jepa/plan/cem.hpp: the cross-entropy method of the official V-JEPA 2-AC
// planner (notebooks/utils/mpc_utils.py `cem`, ARCHITECTURE.md §4), with
// every parameter configurable and the model behind a TrajectoryEvaluator.
//
// One iteration: for h = 0..horizon-1 draw [samples][4] N(0,1) values (the
// official torch.randn(samples, 4) per horizon step, same order), build the
// samples (plan/action_space.hpp), score all trajectories, take the top-k
// lowest energies, then mean = (1-m)*mean_topk + m*mean and std =
// (1-m_s)*std_topk + m_s*std with the unbiased (N-1) top-k std and separate
// gripper momenta. The result is [mean_xyz, 0,0,0, round_small(g)] per step.
// Sampling all horizon steps before scoring is the same as the official
// interleaving: mean/std are fixed within an iteration, so the draws do not
// depend on model outputs. State lives in an Arena; no heap.
#ifndef JEPA_PLAN_CEM_HPP
#define JEPA_PLAN_CEM_HPP

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "../runtime/arena.hpp"
#include "../status.hpp"
#include "action_space.hpp"
#include "noise.hpp"

namespace jepa {
namespace plan {

struct CemConfig {
  int horizon = 1;       // official `rollout`: planned steps
  int samples = 100;     // candidate trajectories per iteration
  int topk = 10;         // elites (>= 2: the unbiased std needs two)
  int iterations = 100;  // official `cem_steps`
  double momentum_mean = 0.25;          // xyz: weight of the previous mean
  double momentum_std = 0.95;           // xyz: weight of the previous std
  double momentum_mean_gripper = 0.15;  // gripper: weight of the previous mean
  double momentum_std_gripper = 0.15;   // gripper: weight of the previous std
  double init_std_gripper = 1.0;        // initial gripper std (xyz starts at space.maxnorm)
  double round_gripper_below = 0.25;    // final |g| below this -> 0
  ActionSpace space;

  // The defaults of the official cem() signature.
  static CemConfig official_defaults() { return CemConfig(); }
  // WorldModel's mpc_args (world_model_wrapper.py): rollout 2, 400 samples,
  // top 10, 10 steps, momenta 0.15/0.15 (gripper momenta: cem() defaults).
  static CemConfig world_model_defaults() {
    CemConfig c;
    c.horizon = 2;
    c.samples = 400;
    c.topk = 10;
    c.iterations = 10;
    c.momentum_mean = 0.15;
    c.momentum_std = 0.15;
    return c;
  }

  Status validate() const {
    if (horizon < 1 || samples < 1 || iterations < 0)
      return Status::error(Error::invalid_argument, "CEM: horizon %d, samples %d, iterations %d must be >= 1, 1, 0",
                           horizon, samples, iterations);
    if (topk < 2 || topk > samples)
      return Status::error(Error::invalid_argument, "CEM: topk %d must be in [2, samples=%d]", topk, samples);
    const double m[4] = {momentum_mean, momentum_std, momentum_mean_gripper, momentum_std_gripper};
    for (double v : m)
      if (!(v >= 0 && v <= 1)) return Status::error(Error::invalid_argument, "CEM: momentum %g outside [0, 1]", v);
    if (!(init_std_gripper >= 0))
      return Status::error(Error::invalid_argument, "CEM: init_std_gripper %g < 0", init_std_gripper);
    return space.validate();
  }
};

// The planner's working memory, all in one Arena.
struct CemState {
  int horizon = 0, samples = 0;
  double* mean = nullptr;      // [horizon][4] free-dim mean
  double* std_dev = nullptr;   // [horizon][4] free-dim std
  float* noise = nullptr;      // [horizon][samples][4] this iteration's draws
  float* actions = nullptr;    // [samples][horizon][7] this iteration's candidates
  double* energies = nullptr;  // [samples]
  int32_t* order = nullptr;    // [samples] candidate indices, elites first after an update
  int iteration = 0;           // iterations done since cem_reset
};

// Carves the state out of `arena` (in measure mode only counts bytes).
inline Status cem_state_create(const CemConfig& cfg, Arena& arena, CemState* st) {
  JEPA_RETURN_IF_ERROR(cfg.validate());
  const size_t H = (size_t)cfg.horizon, S = (size_t)cfg.samples;
  st->horizon = cfg.horizon;
  st->samples = cfg.samples;
  st->mean = arena.alloc<double>(H * kFreeDims);
  st->std_dev = arena.alloc<double>(H * kFreeDims);
  st->noise = arena.alloc<float>(H * S * kFreeDims);
  st->actions = arena.alloc<float>(S * H * kActionDim);
  st->energies = arena.alloc<double>(S);
  st->order = arena.alloc<int32_t>(S);
  st->iteration = 0;
  return arena.status();
}

inline size_t cem_state_bytes(const CemConfig& cfg) {
  Arena measure;
  CemState st;
  if (!cem_state_create(cfg, measure, &st).is_ok()) return 0;
  return measure.peak();
}

// Initial distribution: mean 0 (pinned axes: their value), std maxnorm for
// xyz and init_std_gripper for the gripper.
inline void cem_reset(const CemConfig& cfg, CemState& st) {
  for (int h = 0; h < cfg.horizon; ++h) {
    for (int f = 0; f < kFreeDims; ++f) {
      st.mean[h * kFreeDims + f] = cfg.space.pinned[f] ? cfg.space.pinned_value[f] : 0.0;
      st.std_dev[h * kFreeDims + f] = f < 3 ? cfg.space.maxnorm : cfg.init_std_gripper;
    }
  }
  st.iteration = 0;
}

// Draws the noise (one fill of [samples][4] per horizon step) and builds
// st.actions from the current mean/std.
inline Status cem_sample(const ActionSpace& space, const GaussianSource& noise, CemState& st) {
  const int H = st.horizon, S = st.samples;
  for (int h = 0; h < H; ++h) {
    float* block = st.noise + (size_t)h * S * kFreeDims;
    JEPA_RETURN_IF_ERROR(noise(block, (size_t)S * kFreeDims));
    for (int s = 0; s < S; ++s)
      sample_action(space, h, st.mean + h * kFreeDims, st.std_dev + h * kFreeDims, block + s * kFreeDims,
                    st.actions + ((size_t)s * H + h) * kActionDim);
  }
  return Status::ok();
}

// Orders st.order so its first k entries are the k lowest energies (ties by
// index; NaN after every number, as torch.topk treats NaN as largest).
inline void select_lowest(const double* energies, int n, int k, int32_t* order) {
  for (int i = 0; i < n; ++i) order[i] = i;
  std::partial_sort(order, order + k, order + n, [energies](int32_t a, int32_t b) {
    const double ea = energies[a], eb = energies[b];
    const bool na = std::isnan(ea), nb = std::isnan(eb);
    if (na != nb) return nb;  // a number before NaN
    if (!na && ea != eb) return ea < eb;
    return a < b;
  });
}

// The top-k momentum update from st.energies (filled by the evaluator).
inline void cem_update(const CemConfig& cfg, CemState& st) {
  const int H = st.horizon, k = cfg.topk;
  select_lowest(st.energies, st.samples, k, st.order);
  for (int h = 0; h < H; ++h) {
    for (int f = 0; f < kFreeDims; ++f) {
      const int dim = kFreeToAction[f];
      double sum = 0;
      for (int j = 0; j < k; ++j) sum += st.actions[((size_t)st.order[j] * H + h) * kActionDim + dim];
      const double mean_k = sum / k;
      double ss = 0;
      for (int j = 0; j < k; ++j) {
        const double d = st.actions[((size_t)st.order[j] * H + h) * kActionDim + dim] - mean_k;
        ss += d * d;
      }
      const double std_k = std::sqrt(ss / (k - 1));  // unbiased, as torch.std
      const double mm = f < 3 ? cfg.momentum_mean : cfg.momentum_mean_gripper;
      const double ms = f < 3 ? cfg.momentum_std : cfg.momentum_std_gripper;
      double& mean = st.mean[h * kFreeDims + f];
      double& sd = st.std_dev[h * kFreeDims + f];
      mean = mean_k * (1.0 - mm) + mean * mm;
      sd = std_k * (1.0 - ms) + sd * ms;
    }
  }
  ++st.iteration;
}

// out[horizon][7]: the planned actions from the current mean.
inline void cem_result(const CemConfig& cfg, const CemState& st, float* out) {
  for (int h = 0; h < st.horizon; ++h)
    mean_to_action(st.mean + h * kFreeDims, cfg.round_gripper_below, out + (size_t)h * kActionDim);
}

// One full iteration: sample, evaluate, update.
inline Status cem_iteration(const CemConfig& cfg, const GaussianSource& noise, const TrajectoryEvaluator& eval,
                            CemState& st) {
  JEPA_RETURN_IF_ERROR(cem_sample(cfg.space, noise, st));
  JEPA_RETURN_IF_ERROR(eval(st.actions, st.samples, st.horizon, st.energies));
  cem_update(cfg, st);
  return Status::ok();
}

// The whole official cem(): reset, cfg.iterations iterations, result into
// out[horizon][7]. The state comes from `arena` and is released on return.
inline Status cem_plan(const CemConfig& cfg, const GaussianSource& noise, const TrajectoryEvaluator& eval,
                       Arena& arena, float* out) {
  ArenaScope scope(arena);
  CemState st;
  JEPA_RETURN_IF_ERROR(cem_state_create(cfg, arena, &st));
  if (arena.measuring()) return Status::ok();
  cem_reset(cfg, st);
  for (int it = 0; it < cfg.iterations; ++it) JEPA_RETURN_IF_ERROR(cem_iteration(cfg, noise, eval, st));
  cem_result(cfg, st, out);
  return Status::ok();
}

}  // namespace plan
}  // namespace jepa

#endif  // JEPA_PLAN_CEM_HPP
