// jepa/plan/planner.hpp: the V-JEPA 2-AC world model as a TrajectoryEvaluator
// for CEM and MPPI (plan/cem.hpp, plan/mppi.hpp): every candidate trajectory
// is rolled out from the memory's current frame and scored by an Energy.
//
// Context = an AcMemory (plan/memory.hpp): its committed steps are the shared
// prefix, their K/V computed once per control step (when they were committed)
// and read by every candidate of every iteration; its current frame and pose
// start every candidate. The official planner's single context frame is a
// memory with no committed step. Candidates go through the predictor in
// batches of `chunk` (default: all samples at once, M = samples x (2+HW) rows),
// one horizon step at a time, each step attending to the prefix + its own
// cached steps. `rerun_history` instead does what the official code does
// (world_model_wrapper.py step_predictor): at every horizon step re-run the
// whole history (prefix steps replicated per candidate + the candidate's steps)
// from an empty cache; same results, for benchmarks and checks.
// All buffers come from one Arena planned by ac_planner_arena_bytes: an
// iteration allocates nothing.
#ifndef JEPA_PLAN_PLANNER_HPP
#define JEPA_PLAN_PLANNER_HPP

#include <cstdint>
#include <cstring>

#include "action_space.hpp"
#include "cem.hpp"
#include "energy.hpp"
#include "memory.hpp"
#include "mppi.hpp"
#include "rollout.hpp"

namespace jepa {
namespace plan {

struct AcPlannerOptions {
  int64_t samples = 100;       // candidates per iteration (the CEM/MPPI samples)
  int64_t horizon = 1;         // steps per candidate
  int64_t chunk = 0;           // candidates per forward batch; 0 = all samples
  int64_t max_prefix_steps = 8;  // most committed memory steps the planner will sit on (the memory window)
  bool rerun_history = false;  // the official way: re-run the history at every step (no shared prefix)
  ops::KvDtype kv_dtype = ops::KvDtype::f32;  // the candidates' own cache (horizon >= 2 reads it)
  Energy energy;               // the cost of a candidate's final frame (goal latents etc.)

  int64_t batch() const { return chunk > 0 && chunk < samples ? chunk : samples; }
};

struct AcPlanner {
  AcModel model;
  AcPlannerOptions opt;
  ParallelFor par;
  const AcMemory* memory = nullptr;
  AcRollout cand;                 // cached mode: batch() candidates on the memory's cache
  float* step_actions = nullptr;  // [batch][7] actions of one horizon step
  // rerun mode: whole histories of batch() candidates
  models::AcKvCache rerun_cache;  // batch() x (prefix + horizon) steps
  float* hist_latents = nullptr;  // [batch][prefix+horizon+1][HW][D]
  float* hist_states = nullptr;   // [batch][prefix+horizon+1][7]
  float* hist_actions = nullptr;  // [batch][prefix+horizon+1][7]
  float* hist_out = nullptr;      // [batch][prefix+horizon][HW][D]
  double* poses = nullptr;        // [batch][7]
  Arena* scratch = nullptr;       // per-forward scratch (the arena above the planner's state)
  int64_t evaluations = 0;        // candidates scored since creation
};

namespace detail {

// Per-candidate history stride: prefix + horizon steps, plus the final prediction.
inline int64_t rerun_stride(const AcPlannerOptions& o) { return o.max_prefix_steps + o.horizon + 1; }

inline void carve_rerun(Arena& a, const models::AcPredictorConfig& c, const AcPlannerOptions& o, AcPlanner* p) {
  const int64_t B = o.batch(), S = rerun_stride(o), T = o.max_prefix_steps + o.horizon;
  const size_t frame = (size_t)(c.patches_per_step() * c.embed_dim);
  p->hist_latents = a.alloc<float>((size_t)(B * S) * frame);
  p->hist_states = a.alloc<float>((size_t)(B * S * kPoseDim));
  p->hist_actions = a.alloc<float>((size_t)(B * S * kActionDim));
  p->hist_out = a.alloc<float>((size_t)(B * T) * frame);
  p->poses = a.alloc<double>((size_t)(B * kPoseDim));
}

inline AcRolloutOptions planner_rollout_options(const AcPlannerOptions& o) {
  AcRolloutOptions r;
  r.batch = o.batch();
  // The last horizon step writes no K/V (nothing attends to it later), so
  // horizon - 1 steps of cache suffice: at horizon 2, half the candidates' cache.
  r.max_steps = o.horizon > 1 ? o.horizon - 1 : 1;
  r.kv_dtype = o.kv_dtype;
  return r;
}

}  // namespace detail

// Everything the planner needs, scratch included (not the memory, nor the
// CEM/MPPI state: add cem_state_bytes).
inline size_t ac_planner_arena_bytes(const models::AcPredictorConfig& c, const AcPlannerOptions& o) {
  Arena m;
  m.alloc<float>((size_t)(o.batch() * kActionDim));
  size_t scratch = 0;
  if (o.rerun_history) {
    const int64_t T = o.max_prefix_steps + o.horizon;
    m.allocate(models::ac_kv_cache_bytes(c, o.batch(), T, o.kv_dtype));
    AcPlanner p;
    detail::carve_rerun(m, c, o, &p);
    scratch = models::ac_predictor_steps_arena_bytes(c, o.batch(), T, T);
  } else {
    m.allocate(ac_rollout_state_bytes(c, detail::planner_rollout_options(o)));
    scratch = models::ac_predictor_steps_arena_bytes(c, o.batch(), 1, o.max_prefix_steps + o.horizon);
  }
  return m.peak() + scratch + 4 * Arena::kAlign;
}

// Carves the planner from `arena` and keeps the rest of it as the forward
// scratch: the arena must not be used for anything else while the planner lives.
inline Status ac_planner_create(const AcModel& model, const AcPlannerOptions& o, const AcMemory& memory,
                                const ParallelFor& par, Arena& arena, AcPlanner* planner) {
  JEPA_RETURN_IF_ERROR(model.check());
  if (o.samples < 1 || o.horizon < 1 || o.max_prefix_steps < 0 || o.chunk < 0)
    return Status::error(Error::invalid_argument, "AcPlanner: samples %lld, horizon %lld must be >= 1",
                         (long long)o.samples, (long long)o.horizon);
  if (memory.opt.window > o.max_prefix_steps)
    return Status::error(Error::invalid_argument,
                         "AcPlanner: max_prefix_steps %lld is below the memory's window %lld",
                         (long long)o.max_prefix_steps, (long long)memory.opt.window);
  JEPA_RETURN_IF_ERROR(o.energy.validate(model.hw()));
  AcPlanner p;
  p.model = model;
  p.opt = o;
  p.par = par;
  p.memory = &memory;
  p.step_actions = arena.alloc<float>((size_t)(o.batch() * kActionDim));
  if (o.rerun_history) {
    JEPA_RETURN_IF_ERROR(models::ac_kv_cache_init(&p.rerun_cache, *model.config, arena, o.batch(),
                                                  o.max_prefix_steps + o.horizon, nullptr, o.kv_dtype));
    detail::carve_rerun(arena, *model.config, o, &p);
  } else {
    JEPA_RETURN_IF_ERROR(
        ac_rollout_create(model, detail::planner_rollout_options(o), arena, &p.cand, &memory.cache()));
  }
  JEPA_RETURN_IF_ERROR(arena.status());
  p.scratch = &arena;
  *planner = p;
  return Status::ok();
}

namespace detail {

inline double candidate_energy(const AcPlanner& p, const float* latents, const double* pose, const float* actions,
                               int64_t horizon, int64_t sample) {
  EnergyArgs e;
  e.latents = latents;
  e.tokens = p.model.hw();
  e.dim = p.model.dim();
  e.pose = pose;
  e.actions = actions;
  e.horizon = (int)horizon;
  e.sample = (int)sample;
  return energy_value(p.opt.energy, e);
}

// Cached mode: candidates [s0, s0+m) step by step on the memory's prefix.
inline Status evaluate_chunk_cached(AcPlanner& p, const float* actions, int64_t s0, int64_t m, int64_t H,
                                    double* energies) {
  AcRollout& r = p.cand;
  // Resynchronise with the memory (it may have committed or slid since the last plan)
  // and run this chunk with batch m <= capacity (the cache layout follows batch).
  r.opt.batch = m;
  r.cache.batch = m;
  r.cache.first_step = p.memory->cache().steps_cached;
  JEPA_RETURN_IF_ERROR(ac_rollout_start_shared(r, p.memory->frame(), p.memory->pose()));
  for (int64_t h = 0; h < H; ++h) {
    for (int64_t s = 0; s < m; ++s)
      std::memcpy(p.step_actions + s * kActionDim, actions + ((s0 + s) * H + h) * kActionDim,
                  kActionDim * sizeof(float));
    // The last step's K/V would never be read: don't write them.
    JEPA_RETURN_IF_ERROR(ac_rollout_step(r, p.par, *p.scratch, p.step_actions, nullptr, nullptr, h + 1 < H));
  }
  const int64_t frame = p.model.hw() * p.model.dim();
  for (int64_t s = 0; s < m; ++s)
    energies[s0 + s] = candidate_energy(p, r.frame + s * frame, r.pose + s * kPoseDim,
                                        actions + (s0 + s) * H * kActionDim, H, s0 + s);
  return Status::ok();
}

// Rerun mode: the official recomputation of the whole history at every step.
inline Status evaluate_chunk_rerun(AcPlanner& p, const float* actions, int64_t s0, int64_t m, int64_t H,
                                   double* energies) {
  const AcMemory& mem = *p.memory;
  const models::AcPredictorConfig& c = *p.model.config;
  const int64_t P = mem.committed(), Tmax = detail::rerun_stride(p.opt), frame = p.model.hw() * p.model.dim();
  // History rows of every candidate: the memory's committed steps, then the current frame.
  for (int64_t s = 0; s < m; ++s) {
    float* lat = p.hist_latents + s * Tmax * frame;
    float* st = p.hist_states + s * Tmax * kPoseDim;
    float* ac = p.hist_actions + s * Tmax * kActionDim;
    std::memcpy(lat, mem.latents, (size_t)(P * frame) * sizeof(float));
    std::memcpy(ac, mem.actions, (size_t)(P * kActionDim) * sizeof(float));
    for (int64_t i = 0; i < P * kPoseDim; ++i) st[i] = (float)mem.poses[i];
    std::memcpy(lat + P * frame, mem.frame(), (size_t)frame * sizeof(float));
    std::memcpy(p.poses + s * kPoseDim, mem.pose(), kPoseDim * sizeof(double));
  }
  models::AcKvCache& cache = p.rerun_cache;
  cache.batch = m;
  for (int64_t h = 0; h < H; ++h) {
    const int64_t T = P + h + 1;  // steps re-run now
    for (int64_t s = 0; s < m; ++s) {
      for (int i = 0; i < kPoseDim; ++i)
        p.hist_states[(s * Tmax + T - 1) * kPoseDim + i] = (float)p.poses[s * kPoseDim + i];
      std::memcpy(p.hist_actions + (s * Tmax + T - 1) * kActionDim, actions + ((s0 + s) * H + h) * kActionDim,
                  kActionDim * sizeof(float));
    }
    // forward_steps reads [B][T][...] contiguously, the histories are Tmax apart: compact them
    // in place (ascending, destinations never overtake unread sources), run, spread back.
    for (int64_t s = 1; s < m; ++s) {
      std::memmove(p.hist_latents + s * T * frame, p.hist_latents + s * Tmax * frame,
                   (size_t)(T * frame) * sizeof(float));
      std::memmove(p.hist_states + s * T * kPoseDim, p.hist_states + s * Tmax * kPoseDim,
                   (size_t)(T * kPoseDim) * sizeof(float));
      std::memmove(p.hist_actions + s * T * kActionDim, p.hist_actions + s * Tmax * kActionDim,
                   (size_t)(T * kActionDim) * sizeof(float));
    }
    cache.rewind();
    JEPA_RETURN_IF_ERROR(models::ac_predictor_forward_steps(*p.model.weights, c, p.par, *p.scratch, cache, 0, T,
                                                            p.hist_latents, p.hist_actions, p.hist_states, nullptr,
                                                            p.hist_out));
    // Spread back to Tmax spacing (last first, so nothing is overwritten before it moves).
    for (int64_t s = m - 1; s >= 1; --s) {
      std::memmove(p.hist_latents + s * Tmax * frame, p.hist_latents + s * T * frame,
                   (size_t)(T * frame) * sizeof(float));
      std::memmove(p.hist_states + s * Tmax * kPoseDim, p.hist_states + s * T * kPoseDim,
                   (size_t)(T * kPoseDim) * sizeof(float));
      std::memmove(p.hist_actions + s * Tmax * kActionDim, p.hist_actions + s * T * kActionDim,
                   (size_t)(T * kActionDim) * sizeof(float));
    }
    for (int64_t s = 0; s < m; ++s) {
      // The last step's output predicts the next frame: normed, it joins the history.
      const float* last = p.hist_out + (s * T + T - 1) * frame;
      latent_layernorm(last, p.hist_latents + (s * Tmax + T) * frame, p.model.hw(), p.model.dim());
      compute_new_pose(p.poses + s * kPoseDim, actions + ((s0 + s) * H + h) * kActionDim, p.poses + s * kPoseDim);
    }
  }
  for (int64_t s = 0; s < m; ++s)
    energies[s0 + s] = candidate_energy(p, p.hist_latents + (s * Tmax + P + H) * frame, p.poses + s * kPoseDim,
                                        actions + (s0 + s) * H * kActionDim, H, s0 + s);
  return Status::ok();
}

}  // namespace detail

// Scores actions[samples][horizon][7] into energies[samples].
inline Status ac_planner_evaluate(AcPlanner& p, const float* actions, int samples, int horizon, double* energies) {
  if (samples < 1 || samples > p.opt.samples || horizon != p.opt.horizon)
    return Status::error(Error::invalid_argument,
                         "AcPlanner: asked for %d samples x %d steps, planned for <= %lld x %lld", samples, horizon,
                         (long long)p.opt.samples, (long long)p.opt.horizon);
  if (p.memory == nullptr || !p.memory->has_frame)
    return Status::error(Error::invalid_argument, "AcPlanner: the memory has no current frame (observe first)");
  if (p.memory->committed() > p.opt.max_prefix_steps)
    return Status::error(Error::out_of_range, "AcPlanner: the memory holds %lld steps, planned for %lld",
                         (long long)p.memory->committed(), (long long)p.opt.max_prefix_steps);
  const int64_t B = p.opt.batch();
  for (int64_t s0 = 0; s0 < samples; s0 += B) {
    const int64_t m = samples - s0 < B ? samples - s0 : B;
    if (p.opt.rerun_history)
      JEPA_RETURN_IF_ERROR(detail::evaluate_chunk_rerun(p, actions, s0, m, horizon, energies));
    else
      JEPA_RETURN_IF_ERROR(detail::evaluate_chunk_cached(p, actions, s0, m, horizon, energies));
  }
  p.evaluations += samples;
  return Status::ok();
}

inline TrajectoryEvaluator ac_planner_evaluator(AcPlanner& p) {
  TrajectoryEvaluator e;
  e.evaluate = [](void* ctx, const float* a, int s, int h, double* out) -> Status {
    return ac_planner_evaluate(*static_cast<AcPlanner*>(ctx), a, s, h, out);
  };
  e.ctx = &p;
  return e;
}

}  // namespace plan
}  // namespace jepa

#endif  // JEPA_PLAN_PLANNER_HPP
