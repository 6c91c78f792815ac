// jepa/plan/energy.hpp: the cost a planner minimises, shared by CEM and MPPI.
//
// The official V-JEPA 2-AC energy (mpc_utils.py `l1`, ARCHITECTURE.md §4) is
// the MEAN absolute difference between the final predicted frame's latents
// (layer-normed, [tokens][dim] flattened) and the goal latents: kind mean_abs.
// Also built in: mean squared difference (DINO-WM/LeWM style MSE), the
// Euclidean (L2) norm of the difference, a subset of tokens (e.g. a region of
// interest: only those tokens are compared, means are over the subset), and
// a goal-conditioned pose term (+ pose_weight * ||xyz - goal_xyz||_2 of the
// predicted final pose). Anything else: a custom function that sees the whole
// candidate (latents, pose, actions). Sums are accumulated in double.
#ifndef JEPA_PLAN_ENERGY_HPP
#define JEPA_PLAN_ENERGY_HPP

#include <cmath>
#include <cstdint>

#include "../status.hpp"
#include "pose.hpp"

namespace jepa {
namespace plan {

enum class EnergyKind : uint8_t {
  mean_abs = 0,      // mean |z - goal|            (official V-JEPA 2-AC)
  mean_squared = 1,  // mean (z - goal)^2
  l2 = 2,            // sqrt(sum (z - goal)^2)
  custom = 3,        // Energy::custom decides
};

// One candidate's outcome, as the energy sees it.
struct EnergyArgs {
  const float* latents = nullptr;  // [tokens][dim] predicted final frame
  int64_t tokens = 0, dim = 0;
  const double* pose = nullptr;     // [7] predicted final pose
  const float* actions = nullptr;   // [horizon][7] the candidate
  int horizon = 0;
  int sample = 0;                   // candidate index within the iteration
};

struct Energy {
  EnergyKind kind = EnergyKind::mean_abs;
  const float* goal = nullptr;             // [tokens][dim] goal latents (not needed by custom)
  const int32_t* token_subset = nullptr;   // compare only these token indices (nullptr: all)
  int32_t subset_size = 0;
  double pose_weight = 0.0;                // > 0: add pose_weight * ||pose.xyz - goal_pose.xyz||
  double goal_pose[kPoseDim] = {0, 0, 0, 0, 0, 0, 0};
  double (*custom)(void* ctx, const EnergyArgs& args, const float* goal) = nullptr;
  void* custom_ctx = nullptr;

  Status validate(int64_t tokens) const {
    if (kind == EnergyKind::custom) {
      if (custom == nullptr) return Status::error(Error::invalid_argument, "custom energy without a function");
    } else if (goal == nullptr) {
      return Status::error(Error::invalid_argument, "energy needs goal latents");
    }
    if (token_subset != nullptr) {
      if (subset_size < 1) return Status::error(Error::invalid_argument, "energy token subset is empty");
      for (int32_t i = 0; i < subset_size; ++i)
        if (token_subset[i] < 0 || token_subset[i] >= tokens)
          return Status::error(Error::invalid_argument, "energy token_subset[%d] = %d outside [0, %lld)", i,
                               token_subset[i], (long long)tokens);
    }
    if (!(pose_weight >= 0) || !std::isfinite(pose_weight))
      return Status::error(Error::invalid_argument, "energy pose_weight %g must be >= 0", pose_weight);
    return Status::ok();
  }
};

// The energy of one candidate (lower is better).
inline double energy_value(const Energy& e, const EnergyArgs& a) {
  double value = 0;
  if (e.kind == EnergyKind::custom) {
    value = e.custom(e.custom_ctx, a, e.goal);
  } else {
    const int64_t n_tok = e.token_subset ? e.subset_size : a.tokens;
    double acc = 0;
    for (int64_t i = 0; i < n_tok; ++i) {
      const int64_t t = e.token_subset ? e.token_subset[i] : i;
      const float* z = a.latents + t * a.dim;
      const float* g = e.goal + t * a.dim;
      double row = 0;  // per-token partial sums keep the double accumulation short
      if (e.kind == EnergyKind::mean_abs) {
        for (int64_t d = 0; d < a.dim; ++d) row += std::fabs((double)z[d] - (double)g[d]);
      } else {
        for (int64_t d = 0; d < a.dim; ++d) {
          const double diff = (double)z[d] - (double)g[d];
          row += diff * diff;
        }
      }
      acc += row;
    }
    value = e.kind == EnergyKind::l2 ? std::sqrt(acc) : acc / (double)(n_tok * a.dim);
  }
  if (e.pose_weight > 0 && a.pose != nullptr) {
    double d2 = 0;
    for (int i = 0; i < 3; ++i) d2 += (a.pose[i] - e.goal_pose[i]) * (a.pose[i] - e.goal_pose[i]);
    value += e.pose_weight * std::sqrt(d2);
  }
  return value;
}

}  // namespace plan
}  // namespace jepa

#endif  // JEPA_PLAN_ENERGY_HPP
