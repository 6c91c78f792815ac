// jepa/plan/plan.hpp: everything of the planning layer in one include.
//
//   pose.hpp          compute_new_pose (scipy-exact Euler 'xyz'), pose_difference
//   noise.hpp         GaussianSource, ReplayGaussian (recorded torch draws), CounterGaussian
//   action_space.hpp  the 4 free dims, clipping / pinning, TrajectoryEvaluator
//   energy.hpp        mean-abs (official), MSE, L2, token subsets, pose term, custom
//   cem.hpp, mppi.hpp the planners (official CEM semantics; MPPI)
//   rollout.hpp       KV-cached AC rollouts, B sequences, optional shared prefix
//   memory.hpp        persistent window memory, atomic checksummed save/restore
//   planner.hpp       the AC world model as a batched, shared-prefix evaluator
#ifndef JEPA_PLAN_PLAN_HPP
#define JEPA_PLAN_PLAN_HPP

#include "action_space.hpp"
#include "cem.hpp"
#include "energy.hpp"
#include "memory.hpp"
#include "mppi.hpp"
#include "noise.hpp"
#include "planner.hpp"
#include "pose.hpp"
#include "rollout.hpp"

#endif  // JEPA_PLAN_PLAN_HPP
