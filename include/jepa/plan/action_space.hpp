// jepa/plan/action_space.hpp: what CEM and MPPI search over and how a
// candidate is scored; shared by plan/cem.hpp and plan/mppi.hpp.
//
// The official V-JEPA 2-AC planner (notebooks/utils/mpc_utils.py, ARCHITECTURE.md
// §4) searches 4 numbers per horizon step, the "free dims" (dx, dy, dz,
// dgripper); the rotation deltas of the 7-D action are always 0. A sample is
// noise * std + mean, then xyz is clipped to +-maxnorm and the gripper to
// +-gripper_clip, pinned axes are overwritten (official `axis`), and from
// horizon step `close_gripper_from` on the gripper is forced to 1 (official
// `close_gripper`, applied after the clip, so it may exceed gripper_clip).
// A TrajectoryEvaluator turns candidate action trajectories into energies
// (lower is better): a mock in tests, the batched world model in plan/planner.hpp.
#ifndef JEPA_PLAN_ACTION_SPACE_HPP
#define JEPA_PLAN_ACTION_SPACE_HPP

#include <cmath>
#include <cstdint>

#include "../status.hpp"
#include "pose.hpp"

namespace jepa {
namespace plan {

constexpr int kFreeDims = 4;  // dx, dy, dz, dgripper
// Where free dim f lives in the 7-D action.
constexpr int kFreeToAction[kFreeDims] = {0, 1, 2, 6};

struct ActionSpace {
  double maxnorm = 0.05;       // |dx|, |dy|, |dz| <= maxnorm (metres per step); also the initial xyz std
  double gripper_clip = 0.75;  // |dgripper| <= gripper_clip
  bool pinned[kFreeDims] = {false, false, false, false};  // official `axis` keys (free-dim index)
  double pinned_value[kFreeDims] = {0, 0, 0, 0};          // ... and their values
  int close_gripper_from = -1;  // horizon step from which dgripper = 1 (official close_gripper); -1: never

  Status validate() const {
    if (!(maxnorm > 0) || !std::isfinite(maxnorm))
      return Status::error(Error::invalid_argument, "ActionSpace.maxnorm must be > 0 and finite (got %g)", maxnorm);
    if (!(gripper_clip >= 0) || !std::isfinite(gripper_clip))
      return Status::error(Error::invalid_argument, "ActionSpace.gripper_clip must be >= 0 (got %g)", gripper_clip);
    for (int f = 0; f < kFreeDims; ++f)
      if (pinned[f] && !std::isfinite(pinned_value[f]))
        return Status::error(Error::invalid_argument, "ActionSpace.pinned_value[%d] is not finite", f);
    return Status::ok();
  }
};

inline double clip_to(double v, double lo, double hi) { return v < lo ? lo : (v > hi ? hi : v); }

// One sampled action of horizon step h, exactly as the official loop builds it:
// free = noise * std + mean (double, as the float64 reference), clipped,
// pinned, expanded to [dx, dy, dz, 0, 0, 0, dg], close_gripper applied.
inline void sample_action(const ActionSpace& space, int h, const double mean[kFreeDims],
                          const double std_dev[kFreeDims], const float noise[kFreeDims],
                          float action[kActionDim]) {
  double free[kFreeDims];
  for (int f = 0; f < kFreeDims; ++f) free[f] = (double)noise[f] * std_dev[f] + mean[f];
  for (int f = 0; f < 3; ++f) free[f] = clip_to(free[f], -space.maxnorm, space.maxnorm);
  free[3] = clip_to(free[3], -space.gripper_clip, space.gripper_clip);
  for (int f = 0; f < kFreeDims; ++f)
    if (space.pinned[f]) free[f] = space.pinned_value[f];
  for (int i = 0; i < kActionDim; ++i) action[i] = 0.0f;
  for (int f = 0; f < kFreeDims; ++f) action[kFreeToAction[f]] = (float)free[f];
  if (space.close_gripper_from >= 0 && h >= space.close_gripper_from) action[6] = 1.0f;
}

// The planners' output for one horizon step from the free-dim mean:
// [mean_xyz, 0, 0, 0, g] with g = 0 when |g| < round_below (official
// round_small_elements(mean[..., -1:], 0.25)).
inline void mean_to_action(const double mean[kFreeDims], double round_below, float action[kActionDim]) {
  for (int i = 0; i < kActionDim; ++i) action[i] = 0.0f;
  for (int f = 0; f < 3; ++f) action[f] = (float)mean[f];
  action[6] = std::fabs(mean[3]) < round_below ? 0.0f : (float)mean[3];
}

// Scores candidate trajectories: energies[s] for actions[s][h][7],
// s < samples, h < horizon. Lower is better; NaN counts as worst.
struct TrajectoryEvaluator {
  Status (*evaluate)(void* ctx, const float* actions, int samples, int horizon, double* energies) = nullptr;
  void* ctx = nullptr;

  Status operator()(const float* actions, int samples, int horizon, double* energies) const {
    if (evaluate == nullptr) return Status::error(Error::invalid_argument, "TrajectoryEvaluator has no function");
    return evaluate(ctx, actions, samples, horizon, energies);
  }
};

// Adapts a callable `Status f(const float* actions, int samples, int horizon,
// double* energies)` (a lambda in a test, a planner object) to the evaluator.
template <class F>
TrajectoryEvaluator make_evaluator(F& f) {
  TrajectoryEvaluator e;
  e.evaluate = [](void* ctx, const float* a, int s, int h, double* out) -> Status {
    return (*static_cast<F*>(ctx))(a, s, h, out);
  };
  e.ctx = &f;
  return e;
}

}  // namespace plan
}  // namespace jepa

#endif  // JEPA_PLAN_ACTION_SPACE_HPP
