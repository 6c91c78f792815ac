// jepa/plan/rollout.hpp: autoregressive rollouts of the V-JEPA 2-AC predictor
// through its KV cache, B sequences at a time.
//
// The official step_predictor (world_model_wrapper.py, ARCHITECTURE.md §3-4)
// re-runs the predictor over the whole history [frames 0..t, actions 0..t,
// poses 0..t] for every new step, keeps the last frame's HW output tokens,
// applies the affine-free LayerNorm (eps 1e-5) and advances the pose with
// compute_new_pose. Here step t runs only its own 2+HW tokens, attending to
// the cached K/V of steps < t: exact, because the mask is block-causal (steps
// < t never see later tokens) and RoPE uses absolute step indices, so cached
// K/V are what a re-run would recompute (tests: cached == re-run to ~1e-6).
//
// A rollout holds, per sequence, the "current frame": latents and pose of the
// newest frame whose action is not yet known (observed context, or the last
// prediction). ac_rollout_step(actions) commits that step (its K/V go into
// the cache) and replaces the current frame by the predicted next one.
// The cache may sit on a batch-1 prefix (committed history shared by every
// sequence: plan/memory.hpp), which is how planner candidates share context.
// All memory comes from one Arena: persistent state first, then per-step
// scratch above it (ac_rollout_arena_bytes gives the total). No heap.
// Cached K/V are f32 by default, or f16 / q8 (AcRolloutOptions::kv_dtype:
// 2x / ~3.8x less cache memory and bandwidth; the attention op widens them to
// f32 as it loads each key block). A step attends to its own K/V in f32 and
// to earlier steps' in the cache's dtype; the error this adds is measured in
// tests/plan/test_rollout.cpp.
#ifndef JEPA_PLAN_ROLLOUT_HPP
#define JEPA_PLAN_ROLLOUT_HPP

#include <cstdint>
#include <cstring>

#include "../models/vjepa2_ac_predictor.hpp"
#include "../ops/layernorm.hpp"
#include "../runtime/arena.hpp"
#include "../runtime/parallel.hpp"
#include "../status.hpp"
#include "pose.hpp"

namespace jepa {
namespace plan {

// The latent normalisation of V-JEPA 2-AC: F.layer_norm(x, (D,)), no affine.
constexpr float kLatentNormEps = 1e-5f;

inline void latent_layernorm(const float* x, float* y, int64_t rows, int64_t dim) {
  ops::layernorm(x, y, rows, dim, nullptr, nullptr, kLatentNormEps);
}

// The predictor a rollout runs: bound weights and their config (not owned).
struct AcModel {
  const models::AcPredictorWeights* weights = nullptr;
  const models::AcPredictorConfig* config = nullptr;

  Status check() const {
    if (weights == nullptr || config == nullptr)
      return Status::error(Error::invalid_argument, "AcModel needs weights and a config");
    if (config->use_extrinsics)
      return Status::error(Error::unsupported,
                           "rollouts with use_extrinsics need per-step extrinsics (not supported by plan/ yet)");
    if (config->action_dim != kActionDim)
      return Status::error(Error::unsupported, "rollouts need action_dim 7 (pose actions), the model has %lld",
                           (long long)config->action_dim);
    return Status::ok();
  }
  int64_t hw() const { return config->patches_per_step(); }
  int64_t dim() const { return config->embed_dim; }
};

struct AcRolloutOptions {
  int64_t batch = 1;              // sequences stepped together (M = batch x tokens per step)
  int64_t max_steps = 8;          // own steps the cache holds (prefix steps not counted)
  int64_t max_prefill_steps = 1;  // steps ac_rollout_prefill runs per forward call (sizes the scratch)
  ops::KvDtype kv_dtype = ops::KvDtype::f32;  // how the cache stores K/V
};

struct AcRollout {
  AcModel model;
  AcRolloutOptions opt;
  models::AcKvCache cache;        // own steps, on `prefix` if any
  float* frame = nullptr;         // [batch][HW][D_enc] current frame latents (layer-normed)
  double* pose = nullptr;         // [batch][7] current pose
  float* state = nullptr;         // [batch][7] float copy of the pose: the state-encoder input
  float* raw = nullptr;           // [batch][HW][D_enc] predictor output of the last step
  bool started = false;
  bool shared_frame = false;      // every sequence's frame and pose are the same (ac_rollout_start_shared)
  int64_t step() const { return cache.steps_cached; }  // absolute index of the current frame
};

namespace detail {

inline void carve_rollout(Arena& a, const models::AcPredictorConfig& c, const AcRolloutOptions& o, AcRollout* r) {
  const size_t frame = (size_t)(o.batch * c.patches_per_step() * c.embed_dim);
  r->frame = a.alloc<float>(frame);
  r->pose = a.alloc<double>((size_t)(o.batch * kPoseDim));
  r->state = a.alloc<float>((size_t)(o.batch * kPoseDim));
  r->raw = a.alloc<float>(frame);
}

}  // namespace detail

// Bytes of the persistent part (cache + buffers) and of the per-call scratch.
inline size_t ac_rollout_state_bytes(const models::AcPredictorConfig& c, const AcRolloutOptions& o) {
  Arena m;
  m.allocate(models::ac_kv_cache_bytes(c, o.batch, o.max_steps, o.kv_dtype));
  AcRollout r;
  detail::carve_rollout(m, c, o, &r);
  return m.peak();
}

// prefix_steps: steps of the prefix cache the rollout will sit on (0: none).
inline size_t ac_rollout_arena_bytes(const models::AcPredictorConfig& c, const AcRolloutOptions& o,
                                     int64_t prefix_steps = 0) {
  const int64_t n = o.max_prefill_steps > 1 ? o.max_prefill_steps : 1;
  const size_t frame = (size_t)(c.patches_per_step() * c.embed_dim);
  Arena m;  // ac_rollout_prefill's gathered inputs and outputs, then the forward's own scratch
  m.alloc<float>((size_t)(o.batch * n) * frame);
  m.alloc<float>((size_t)(o.batch * n) * kActionDim);
  m.alloc<float>((size_t)(o.batch * n) * kPoseDim);
  m.alloc<float>((size_t)(o.batch * n) * frame);
  m.allocate(models::ac_predictor_steps_arena_bytes(c, o.batch, n, prefix_steps + o.max_steps));
  return ac_rollout_state_bytes(c, o) + m.peak() + 2 * Arena::kAlign;
}

// Carves the rollout's persistent state from `arena`; later calls use the
// arena above it as scratch. `prefix` (batch 1) must keep its steps while used.
inline Status ac_rollout_create(const AcModel& model, const AcRolloutOptions& o, Arena& arena, AcRollout* r,
                                const models::AcKvCache* prefix = nullptr) {
  JEPA_RETURN_IF_ERROR(model.check());
  if (o.batch < 1 || o.max_steps < 1 || o.max_prefill_steps < 1)
    return Status::error(Error::invalid_argument, "AcRollout: batch %lld, max_steps %lld, max_prefill_steps %lld "
                         "must be >= 1", (long long)o.batch, (long long)o.max_steps, (long long)o.max_prefill_steps);
  AcRollout x;
  x.model = model;
  x.opt = o;
  JEPA_RETURN_IF_ERROR(models::ac_kv_cache_init(&x.cache, *model.config, arena, o.batch, o.max_steps, prefix,
                                                    o.kv_dtype));
  detail::carve_rollout(arena, *model.config, o, &x);
  JEPA_RETURN_IF_ERROR(arena.status());
  *r = x;
  return Status::ok();
}

// Starts every sequence from its own current frame: latents [B][HW][D_enc]
// (already layer-normed, as the encoder path produces them) and poses [B][7].
// Forgets the rollout's own steps (a prefix stays).
inline Status ac_rollout_start(AcRollout& r, const float* latents, const double* poses) {
  if (latents == nullptr || poses == nullptr)
    return Status::error(Error::invalid_argument, "ac_rollout_start: latents and poses are required");
  const size_t frame = (size_t)(r.model.hw() * r.model.dim());
  r.cache.rewind();
  std::memcpy(r.frame, latents, (size_t)r.opt.batch * frame * sizeof(float));
  std::memcpy(r.pose, poses, (size_t)r.opt.batch * kPoseDim * sizeof(double));
  r.started = true;
  r.shared_frame = false;
  return Status::ok();
}

// Same, one frame and pose broadcast to every sequence (planner candidates).
// The next step then embeds the frame and runs the first block's qkv once for
// all sequences (AcStepOptions::shared_inputs): only the actions differ.
inline Status ac_rollout_start_shared(AcRollout& r, const float* latents, const double* pose) {
  if (latents == nullptr || pose == nullptr)
    return Status::error(Error::invalid_argument, "ac_rollout_start_shared: latents and pose are required");
  const size_t frame = (size_t)(r.model.hw() * r.model.dim());
  r.cache.rewind();
  for (int64_t b = 0; b < r.opt.batch; ++b) {
    std::memcpy(r.frame + b * frame, latents, frame * sizeof(float));
    std::memcpy(r.pose + b * kPoseDim, pose, kPoseDim * sizeof(double));
  }
  r.started = true;
  r.shared_frame = true;
  return Status::ok();
}

// Commits the current frame of every sequence with actions [B][7] and
// predicts the next one: r.frame <- LayerNorm(predictor output), r.pose <-
// compute_new_pose. Optional copies: next_latents [B][HW][D], next_poses [B][7].
// keep_kv = false: the step's K/V are not written to the cache (a planner's
// last horizon step, which nothing attends to later); the cache is then one
// step behind r.frame and only ac_rollout_start may follow.
inline Status ac_rollout_step(AcRollout& r, const ParallelFor& par, Arena& scratch, const float* actions,
                              float* next_latents = nullptr, double* next_poses = nullptr, bool keep_kv = true) {
  if (!r.started) return Status::error(Error::invalid_argument, "ac_rollout_step before ac_rollout_start");
  if (actions == nullptr) return Status::error(Error::invalid_argument, "ac_rollout_step: actions are required");
  const int64_t B = r.opt.batch, hw = r.model.hw(), D = r.model.dim();
  for (int64_t i = 0; i < B * kPoseDim; ++i) r.state[i] = (float)r.pose[i];
  models::AcStepOptions step_opt;
  step_opt.append_to_cache = keep_kv;
  step_opt.shared_inputs = r.shared_frame;
  r.shared_frame = false;  // the sequences' next frames differ
  JEPA_RETURN_IF_ERROR(models::ac_predictor_forward_steps(*r.model.weights, *r.model.config, par, scratch, r.cache,
                                                          r.cache.steps_cached, 1, r.frame, actions, r.state,
                                                          nullptr, r.raw, step_opt));
  latent_layernorm(r.raw, r.frame, B * hw, D);
  if (!keep_kv) r.started = false;  // a further step would attend to a missing step: refuse it
  for (int64_t b = 0; b < B; ++b) compute_new_pose(r.pose + b * kPoseDim, actions + b * kActionDim,
                                                   r.pose + b * kPoseDim);
  if (next_latents) std::memcpy(next_latents, r.frame, (size_t)(B * hw * D) * sizeof(float));
  if (next_poses) std::memcpy(next_poses, r.pose, (size_t)(B * kPoseDim) * sizeof(double));
  return Status::ok();
}

// Appends n >= 1 known steps per sequence to the cache (teacher forcing, at
// most max_prefill_steps per forward call; their predictions are discarded);
// the current frame is not touched. Inputs per sequence b (row-major):
//   latents [B][stride][HW][D_enc] (layer-normed) and poses [B][stride][7]
//   (each frame's state), of which the first n steps per sequence are used
//   (stride 0 means n), actions [B][n][7]. Inputs are gathered into scratch
//   per chunk.
inline Status ac_rollout_commit(AcRollout& r, const ParallelFor& par, Arena& scratch, int64_t n,
                                const float* latents, const double* poses, const float* actions,
                                int64_t stride = 0) {
  if (n < 1 || latents == nullptr || poses == nullptr || actions == nullptr)
    return Status::error(Error::invalid_argument, "ac_rollout_commit: n = %lld, needs latents, poses, actions",
                         (long long)n);
  const int64_t B = r.opt.batch, frame = r.model.hw() * r.model.dim();
  if (stride == 0) stride = n;
  if (stride < n) return Status::error(Error::invalid_argument, "ac_rollout_commit: stride %lld < n %lld",
                                       (long long)stride, (long long)n);
  for (int64_t t0 = 0; t0 < n; t0 += r.opt.max_prefill_steps) {
    const int64_t m = (n - t0) < r.opt.max_prefill_steps ? (n - t0) : r.opt.max_prefill_steps;
    ArenaScope scope(scratch);
    float* lat = scratch.alloc<float>((size_t)(B * m * frame));
    float* act = scratch.alloc<float>((size_t)(B * m * kActionDim));
    float* st = scratch.alloc<float>((size_t)(B * m * kPoseDim));
    float* out = scratch.alloc<float>((size_t)(B * m * frame));
    JEPA_RETURN_IF_ERROR(models::detail::check_arena(scratch, "ac_rollout_commit"));
    for (int64_t b = 0; b < B; ++b)
      for (int64_t t = 0; t < m; ++t) {
        const int64_t src = b * stride + t0 + t, src_a = b * n + t0 + t, dst = b * m + t;
        std::memcpy(lat + dst * frame, latents + src * frame, (size_t)frame * sizeof(float));
        std::memcpy(act + dst * kActionDim, actions + src_a * kActionDim, kActionDim * sizeof(float));
        for (int i = 0; i < kPoseDim; ++i) st[dst * kPoseDim + i] = (float)poses[src * kPoseDim + i];
      }
    JEPA_RETURN_IF_ERROR(models::ac_predictor_forward_steps(*r.model.weights, *r.model.config, par, scratch, r.cache,
                                                            r.cache.steps_cached, m, lat, act, st, nullptr, out));
  }
  return Status::ok();
}

// Starts from T >= 1 observed frames per sequence: steps 0..T-2 are committed
// with their actions (ac_rollout_commit) and frame T-1 becomes the current
// frame. latents [B][T][HW][D_enc] (layer-normed), poses [B][T][7] (the state
// of each frame), actions [B][T-1][7] (null when T == 1).
inline Status ac_rollout_prefill(AcRollout& r, const ParallelFor& par, Arena& scratch, int64_t T,
                                 const float* latents, const double* poses, const float* actions) {
  if (T < 1 || latents == nullptr || poses == nullptr || (T > 1 && actions == nullptr))
    return Status::error(Error::invalid_argument, "ac_rollout_prefill: T = %lld, needs latents, poses, actions",
                         (long long)T);
  const int64_t B = r.opt.batch, frame = r.model.hw() * r.model.dim();
  r.cache.rewind();
  r.started = false;
  if (T > 1) JEPA_RETURN_IF_ERROR(ac_rollout_commit(r, par, scratch, T - 1, latents, poses, actions, T));
  for (int64_t b = 0; b < B; ++b) {
    std::memcpy(r.frame + b * frame, latents + (b * T + T - 1) * frame, (size_t)frame * sizeof(float));
    std::memcpy(r.pose + b * kPoseDim, poses + (b * T + T - 1) * kPoseDim, kPoseDim * sizeof(double));
  }
  r.started = true;
  r.shared_frame = false;
  return Status::ok();
}

// The official way, for checks and benchmarks: re-run the predictor over the
// whole history of one sequence (steps 0..T-1, empty cache) and return the
// layer-normed prediction of frame T (out [HW][D_enc]). Inputs as prefill,
// with T actions (the last one is the action being evaluated).
inline size_t ac_rerun_arena_bytes(const models::AcPredictorConfig& c, int64_t T) {
  const size_t frame = (size_t)(c.patches_per_step() * c.embed_dim);
  Arena m;
  m.alloc<float>((size_t)T * frame);
  m.alloc<float>((size_t)T * kPoseDim);
  m.allocate(models::ac_predictor_arena_bytes(c, 1, T));
  return m.peak() + Arena::kAlign;
}

inline Status ac_rerun_last(const AcModel& model, const ParallelFor& par, Arena& scratch, int64_t T,
                            const float* latents, const double* poses, const float* actions, float* out) {
  JEPA_RETURN_IF_ERROR(model.check());
  const int64_t hw = model.hw(), D = model.dim();
  ArenaScope scope(scratch);
  float* raw = scratch.alloc<float>((size_t)(T * hw * D));
  float* st = scratch.alloc<float>((size_t)(T * kPoseDim));
  JEPA_RETURN_IF_ERROR(models::detail::check_arena(scratch, "ac_rerun_last"));
  for (int64_t i = 0; i < T * kPoseDim; ++i) st[i] = (float)poses[i];
  JEPA_RETURN_IF_ERROR(models::ac_predictor_forward(*model.weights, *model.config, par, scratch, 1, T, latents,
                                                    actions, st, nullptr, raw));
  latent_layernorm(raw + (T - 1) * hw * D, out, hw, D);
  return Status::ok();
}

}  // namespace plan
}  // namespace jepa

#endif  // JEPA_PLAN_ROLLOUT_HPP
