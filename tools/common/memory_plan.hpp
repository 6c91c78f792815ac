// tools/common/memory_plan.hpp: what one forward of a .jepa model needs in
// memory, for `jepa-inspect --memory` (and its test, tests/tools/test_memory_plan.cpp).
// The arena figure is never a separate formula: it is the model's own
// *_arena_bytes, i.e. the forward's planning code run in measure mode, for
// the input shape asked for. run_planned_forward() runs that very forward
// (deterministic synthetic inputs) in a caller arena, so the arena's
// high-water mark can be compared with the plan, and jepa-inspect --run can
// measure peak RSS against weights + arena. Host-side: allocates freely.
#ifndef JEPA_TOOLS_COMMON_MEMORY_PLAN_HPP
#define JEPA_TOOLS_COMMON_MEMORY_PLAN_HPP

#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "jepa/models/kinds.hpp"
#include "jepa/ops/linear.hpp"
#include "jepa/runtime/arena.hpp"
#include "jepa/runtime/parallel.hpp"

namespace jepa {
namespace memplan {

// What to plan for. An empty shape means the model's defaults (see plan()).
struct Request {
  std::vector<int64_t> shape;
  int64_t batch = 1;
  bool per_frame = false;  // vjepa2.encoder: the V-JEPA 2-AC per-frame encoding
};

struct Plan {
  models::ModelKind kind = models::ModelKind::unknown;
  // The resolved input (which fields matter depends on the kind).
  int64_t batch = 1, frames = 1, height = 0, width = 0;  // encoders
  int64_t n_ctx = 0, n_tgt = 0;                          // predictors
  int64_t steps = 0;                                     // AC predictor
  bool per_frame = false;
  std::string input;  // human-readable input description

  uint64_t file_bytes = 0;    // the whole .jepa file (mapped, shared between processes)
  uint64_t weight_bytes = 0;  // sum of its tensors' bytes
  size_t arena_bytes = 0;     // activation memory of one forward (the model's planning pass)
  size_t kv_cache_bytes = 0;  // AC: the K/V cache part of arena_bytes (teacher forcing)
  size_t rollout_arena_bytes = 0;  // AC: a step-at-a-time rollout, cache for `steps` steps + one step's scratch
  size_t rollout_kv_bytes = 0;     // AC: that rollout's cache
  size_t input_bytes = 0, output_bytes = 0;  // the caller's input and output arrays
};

namespace detail {

inline std::string dims_str(std::initializer_list<int64_t> d) {
  std::string s = "[";
  bool first = true;
  for (int64_t v : d) {
    s += (first ? "" : ",") + std::to_string(v);
    first = false;
  }
  return s + "]";
}

inline Status plan_vjepa2_encoder(const ModelFile& f, const Request& r, Plan* p) {
  Result<models::Vjepa2EncoderConfig> c = models::Vjepa2EncoderConfig::from_file(f);
  if (!c) return c.status();
  if (!r.shape.empty() && r.shape.size() != 3 && r.shape.size() != 2)
    return Status::error(Error::invalid_argument, "--shape for a vjepa2.encoder is FRAMES,HEIGHT,WIDTH (or HEIGHT,WIDTH)");
  p->frames = r.shape.size() == 3 ? r.shape[0] : (r.shape.empty() ? c->num_frames : 1);
  p->height = r.shape.empty() ? c->img_height : r.shape[r.shape.size() - 2];
  p->width = r.shape.empty() ? c->img_width : r.shape.back();
  const int64_t C = c->in_chans, B = p->batch, T = p->frames, H = p->height, W = p->width, D = c->embed_dim;
  p->input_bytes = (size_t)(B * C * T * H * W) * 4;
  const int64_t gh = H / c->patch_size, gw = W / c->patch_size;
  if (r.per_frame) {
    models::Vjepa2FramesInput in;
    in.batch = B;
    in.frames = T;
    in.height = H;
    in.width = W;
    if (gh < 1 || gw < 1) return Status::error(Error::shape_mismatch, "%lldx%lld holds no patch", (long long)H, (long long)W);
    p->arena_bytes = models::vjepa2_encode_frames_arena_bytes(c.value(), in);
    p->output_bytes = (size_t)(B * T * gh * gw * D) * 4;
    p->input = "clip " + dims_str({B, C, T, H, W}) + ", each frame encoded alone (" + std::to_string(gh * gw) +
               " tokens per call)";
    return Status::ok();
  }
  models::Vjepa2EncoderInput in;
  in.batch = B;
  in.frames = T;
  in.height = H;
  in.width = W;
  JEPA_RETURN_IF_ERROR(models::detail::check_vjepa2_input(c.value(), in));
  p->arena_bytes = models::vjepa2_encoder_arena_bytes(c.value(), in);
  p->output_bytes = (size_t)(B * in.grid_tokens(c.value()) * D) * 4;
  p->input = (c->is_video() ? "video " + dims_str({B, C, T, H, W}) : "image " + dims_str({B, C, H, W})) + ", " +
             std::to_string(in.grid_tokens(c.value())) + " tokens";
  return Status::ok();
}

inline Status plan_ijepa_encoder(const ModelFile& f, const Request& r, Plan* p) {
  Result<models::IjepaEncoderConfig> c = models::IjepaEncoderConfig::from_file(f);
  if (!c) return c.status();
  if (!r.shape.empty() && r.shape.size() != 2)
    return Status::error(Error::invalid_argument, "--shape for an ijepa.encoder is HEIGHT,WIDTH");
  p->height = r.shape.empty() ? c->img_size : r.shape[0];
  p->width = r.shape.empty() ? c->img_size : r.shape[1];
  models::IjepaEncoderInput in;
  in.batch = p->batch;
  in.height = p->height;
  in.width = p->width;
  if (in.grid_tokens(c.value()) != c->num_patches())
    return Status::error(Error::unsupported, "ijepa.encoder: %lldx%lld gives %lld patches, the pos_embed has %lld",
                         (long long)p->height, (long long)p->width, (long long)in.grid_tokens(c.value()),
                         (long long)c->num_patches());
  const int64_t B = p->batch, C = c->in_chans;
  p->arena_bytes = models::ijepa_encoder_arena_bytes(c.value(), in);
  p->input_bytes = (size_t)(B * C * p->height * p->width) * 4;
  p->output_bytes = (size_t)(B * in.grid_tokens(c.value()) * c->embed_dim) * 4;
  p->input = "image " + dims_str({B, C, p->height, p->width}) + ", " + std::to_string(in.grid_tokens(c.value())) +
             " tokens";
  return Status::ok();
}

// Predictors: --shape N_CTX,N_TGT; default half the grid as context, the rest as targets.
inline Status resolve_masks(const Request& r, int64_t patches, const char* kind, Plan* p) {
  if (!r.shape.empty() && r.shape.size() != 2)
    return Status::error(Error::invalid_argument, "--shape for a %s is CONTEXT_TOKENS,TARGET_TOKENS", kind);
  p->n_ctx = r.shape.empty() ? (patches + 1) / 2 : r.shape[0];
  p->n_tgt = r.shape.empty() ? patches - p->n_ctx : r.shape[1];
  if (p->n_tgt < 1 || p->n_ctx + p->n_tgt > patches)
    return Status::error(Error::invalid_argument, "%s: %lld context + %lld target tokens do not fit its %lld-token grid",
                         kind, (long long)p->n_ctx, (long long)p->n_tgt, (long long)patches);
  return Status::ok();
}

inline Status plan_vjepa2_predictor(const ModelFile& f, const Request& r, Plan* p) {
  Result<models::Vjepa2PredictorConfig> c = models::Vjepa2PredictorConfig::from_file(f);
  if (!c) return c.status();
  JEPA_RETURN_IF_ERROR(resolve_masks(r, c->num_patches(), c->kKind, p));
  models::Vjepa2PredictorInput in;
  in.batch = p->batch;
  in.n_ctx = p->n_ctx;
  in.n_tgt = p->n_tgt;
  p->arena_bytes = models::vjepa2_predictor_arena_bytes(c.value(), in);
  p->input_bytes = (size_t)(p->batch * p->n_ctx * c->embed_dim) * 4 + (size_t)(p->batch * (p->n_ctx + p->n_tgt)) * 8;
  p->output_bytes = (size_t)(p->batch * p->n_tgt * c->embed_dim) * 4;
  p->input = "batch " + std::to_string(p->batch) + ", " + std::to_string(p->n_ctx) + " context + " +
             std::to_string(p->n_tgt) + " target tokens (grid " + std::to_string(c->num_patches()) + ")";
  return Status::ok();
}

inline Status plan_ijepa_predictor(const ModelFile& f, const Request& r, Plan* p) {
  Result<models::IjepaPredictorConfig> c = models::IjepaPredictorConfig::from_file(f);
  if (!c) return c.status();
  JEPA_RETURN_IF_ERROR(resolve_masks(r, c->num_patches, c->kKind, p));
  models::IjepaPredictorInput in;
  in.batch = p->batch;
  in.n_ctx = p->n_ctx;
  in.n_tgt = p->n_tgt;
  p->arena_bytes = models::ijepa_predictor_arena_bytes(c.value(), in);
  p->input_bytes = (size_t)(p->batch * p->n_ctx * c->embed_dim) * 4 + (size_t)(p->batch * (p->n_ctx + p->n_tgt)) * 8;
  p->output_bytes = (size_t)(p->batch * p->n_tgt * c->embed_dim) * 4;
  p->input = "batch " + std::to_string(p->batch) + ", " + std::to_string(p->n_ctx) + " context + " +
             std::to_string(p->n_tgt) + " target tokens (grid " + std::to_string(c->num_patches) + ")";
  return Status::ok();
}

// AC: --shape STEPS; default the trained clip, num_frames / tubelet_size steps.
inline Status plan_ac_predictor(const ModelFile& f, const Request& r, Plan* p) {
  Result<models::AcPredictorConfig> c = models::AcPredictorConfig::from_file(f);
  if (!c) return c.status();
  if (!r.shape.empty() && r.shape.size() != 1)
    return Status::error(Error::invalid_argument, "--shape for a vjepa2.ac_predictor is STEPS");
  p->steps = r.shape.empty() ? (c->max_mask_steps() > 0 ? c->max_mask_steps() : 1) : r.shape[0];
  const int64_t B = p->batch, T = p->steps, hw = c->patches_per_step(), D = c->embed_dim, A = c->action_dim;
  p->arena_bytes = models::ac_predictor_arena_bytes(c.value(), B, T);
  p->kv_cache_bytes = models::ac_kv_cache_bytes(c.value(), B, T);
  // A rollout: the cache persists, one step's scratch above it (as plan/rollout.hpp lays it out).
  Arena measure;
  measure.allocate(models::ac_kv_cache_bytes(c.value(), B, T));
  measure.allocate(models::ac_predictor_steps_arena_bytes(c.value(), B, 1, T));
  p->rollout_arena_bytes = measure.peak();
  p->rollout_kv_bytes = p->kv_cache_bytes;
  p->input_bytes = (size_t)(B * T * hw * D) * 4 + (size_t)(2 * B * T * A) * 4 +
                   (c->use_extrinsics ? (size_t)(B * T * (A - 1)) * 4 : 0);
  p->output_bytes = (size_t)(B * T * hw * D) * 4;
  p->input = "batch " + std::to_string(B) + ", " + std::to_string(T) + " steps of " +
             std::to_string(c->tokens_per_step()) + " tokens (" + std::to_string(hw) + " patches + " +
             std::to_string(c->cond_tokens()) + " conditioning)";
  return Status::ok();
}

}  // namespace detail

inline Result<Plan> plan(const ModelFile& f, const Request& r) {
  Plan p;
  p.kind = models::model_kind_from_string(f.kind());
  if (r.batch < 1) return Status::error(Error::invalid_argument, "--batch must be >= 1");
  p.batch = r.batch;
  p.per_frame = r.per_frame;
  p.file_bytes = f.size();
  for (size_t i = 0; i < f.tensor_count(); ++i) p.weight_bytes += f.tensor(i).bytes;
  if (r.per_frame && p.kind != models::ModelKind::vjepa2_encoder)
    return Status::error(Error::invalid_argument, "--per-frame is for vjepa2.encoder models");
  Status s;
  switch (p.kind) {
    case models::ModelKind::vjepa2_encoder: s = detail::plan_vjepa2_encoder(f, r, &p); break;
    case models::ModelKind::vjepa2_predictor: s = detail::plan_vjepa2_predictor(f, r, &p); break;
    case models::ModelKind::vjepa2_ac_predictor: s = detail::plan_ac_predictor(f, r, &p); break;
    case models::ModelKind::ijepa_encoder: s = detail::plan_ijepa_encoder(f, r, &p); break;
    case models::ModelKind::ijepa_predictor: s = detail::plan_ijepa_predictor(f, r, &p); break;
    case models::ModelKind::unknown:
      return Status::error(Error::unknown_model_kind, "model kind '%s' is not a model jepa-rt runs", f.kind());
  }
  if (!s.is_ok()) return s;
  return p;
}

inline std::string human_bytes(uint64_t b) {
  char s[32];
  if (b >= (uint64_t(1) << 30))
    std::snprintf(s, sizeof s, "%.2f GiB", (double)b / (double)(uint64_t(1) << 30));
  else if (b >= (uint64_t(1) << 20))
    std::snprintf(s, sizeof s, "%.2f MiB", (double)b / (double)(uint64_t(1) << 20));
  else
    std::snprintf(s, sizeof s, "%.1f KiB", (double)b / 1024.0);
  return s;
}

// The report jepa-inspect --memory prints; one figure per line, "  name  N bytes (human)".
inline std::string format_plan(const Plan& p) {
  std::string out;
  char line[256];
  auto row = [&](const char* name, uint64_t bytes, const char* note) {
    std::snprintf(line, sizeof line, "  %-16s %14" PRIu64 " bytes  %-11s %s\n", name, bytes, human_bytes(bytes).c_str(),
                  note);
    out += line;
  };
  out += "memory      " + std::string(models::model_kind_name(p.kind)) + ", input " + p.input + "\n";
  row("weights", p.weight_bytes, "tensor data, mapped from the file (shared, not copied)");
  row("file", p.file_bytes, "the whole .jepa file (mapped)");
  if (p.kind == models::ModelKind::vjepa2_ac_predictor) {
    row("arena", p.arena_bytes, "teacher forcing over all steps at once (kv cache included)");
    row("  kv cache", p.kv_cache_bytes, "K and V of every layer for those steps");
    row("  scratch", p.arena_bytes - p.kv_cache_bytes, "per-call activations");
    row("rollout arena", p.rollout_arena_bytes, "one step per call: the cache for all steps + one step's scratch");
  } else {
    row("arena", p.arena_bytes, "activation memory of one forward (its planning pass)");
  }
  row("inputs", p.input_bytes, "caller arrays");
  row("outputs", p.output_bytes, "caller array");
  std::snprintf(line, sizeof line,
                "  (stack: quantized / bf16 kernels convert activations in a %zu KiB buffer on the stack per linear)\n",
                ops::detail::kLinearStackScratch / 1024);
  out += line;
  return out;
}

// Reads the figure a format_plan() line shows (for tests): -1 when absent.
inline long long figure(const std::string& report, const char* name) {
  char key[40];
  std::snprintf(key, sizeof key, "\n  %-16s ", name);
  const size_t at = report.find(key);
  if (at == std::string::npos) return -1;
  return std::strtoll(report.c_str() + at + std::strlen(key), nullptr, 10);
}

namespace detail {
inline std::vector<float> synthetic(size_t n, uint32_t seed) {
  std::vector<float> v(n);
  uint32_t x = seed * 2654435761u + 1u;
  for (size_t i = 0; i < n; ++i) {
    x = x * 1664525u + 1013904223u;
    v[i] = (float)((x >> 8) & 0xffff) / 32768.0f - 1.0f;  // [-1, 1)
  }
  return v;
}
// Context [0, n_ctx) and targets [n_ctx, n_ctx + n_tgt) per batch element.
inline void token_masks(const Plan& p, std::vector<int64_t>* ctx, std::vector<int64_t>* tgt) {
  for (int64_t b = 0; b < p.batch; ++b) {
    for (int64_t i = 0; i < p.n_ctx; ++i) ctx->push_back(i);
    for (int64_t j = 0; j < p.n_tgt; ++j) tgt->push_back(p.n_ctx + j);
  }
}
}  // namespace detail

// Runs the forward the plan describes, on synthetic inputs, in `arena`
// (give it plan.arena_bytes, or plan.rollout_arena_bytes with rollout = true
// for an AC model: then steps run one call each through a KV cache).
// Afterwards arena.peak() is the memory the forward really used.
inline Status run_planned_forward(const ModelFile& f, const Plan& p, const ParallelFor& par, Arena& arena,
                                  bool rollout = false) {
  using models::ModelKind;
  std::vector<float> out(p.output_bytes / 4);
  if (p.kind == ModelKind::vjepa2_encoder) {
    Result<models::Vjepa2EncoderConfig> c = models::Vjepa2EncoderConfig::from_file(f);
    if (!c) return c.status();
    Result<models::Vjepa2EncoderWeights> w = models::Vjepa2EncoderWeights::bind(f, c.value());
    if (!w) return w.status();
    const std::vector<float> x = detail::synthetic(p.input_bytes / 4, 1);
    if (p.per_frame) {
      models::Vjepa2FramesInput in;
      in.clip = x.data();
      in.batch = p.batch;
      in.frames = p.frames;
      in.height = p.height;
      in.width = p.width;
      return models::vjepa2_encode_frames(w.value(), c.value(), par, arena, in, out.data());
    }
    models::Vjepa2EncoderInput in;
    in.video = x.data();
    in.batch = p.batch;
    in.frames = p.frames;
    in.height = p.height;
    in.width = p.width;
    return models::vjepa2_encoder_forward(w.value(), c.value(), par, arena, in, out.data());
  }
  if (p.kind == ModelKind::ijepa_encoder) {
    Result<models::IjepaEncoderConfig> c = models::IjepaEncoderConfig::from_file(f);
    if (!c) return c.status();
    Result<models::IjepaEncoderWeights> w = models::IjepaEncoderWeights::bind(f, c.value());
    if (!w) return w.status();
    const std::vector<float> x = detail::synthetic(p.input_bytes / 4, 2);
    models::IjepaEncoderInput in;
    in.image = x.data();
    in.batch = p.batch;
    in.height = p.height;
    in.width = p.width;
    return models::ijepa_encoder_forward(w.value(), c.value(), par, arena, in, out.data());
  }
  std::vector<int64_t> mx, my;
  detail::token_masks(p, &mx, &my);
  if (p.kind == ModelKind::vjepa2_predictor) {
    Result<models::Vjepa2PredictorConfig> c = models::Vjepa2PredictorConfig::from_file(f);
    if (!c) return c.status();
    Result<models::Vjepa2PredictorWeights> w = models::Vjepa2PredictorWeights::bind(f, c.value());
    if (!w) return w.status();
    const std::vector<float> ctx = detail::synthetic((size_t)(p.batch * p.n_ctx * c->embed_dim), 3);
    models::Vjepa2PredictorInput in;
    in.context = ctx.data();
    in.masks_x = mx.data();
    in.masks_y = my.data();
    in.batch = p.batch;
    in.n_ctx = p.n_ctx;
    in.n_tgt = p.n_tgt;
    return models::vjepa2_predictor_forward(w.value(), c.value(), par, arena, in, out.data());
  }
  if (p.kind == ModelKind::ijepa_predictor) {
    Result<models::IjepaPredictorConfig> c = models::IjepaPredictorConfig::from_file(f);
    if (!c) return c.status();
    Result<models::IjepaPredictorWeights> w = models::IjepaPredictorWeights::bind(f, c.value());
    if (!w) return w.status();
    const std::vector<float> ctx = detail::synthetic((size_t)(p.batch * p.n_ctx * c->embed_dim), 4);
    models::IjepaPredictorInput in;
    in.context = ctx.data();
    in.masks_x = mx.data();
    in.masks = my.data();
    in.batch = p.batch;
    in.n_ctx = p.n_ctx;
    in.n_tgt = p.n_tgt;
    return models::ijepa_predictor_forward(w.value(), c.value(), par, arena, in, out.data());
  }
  if (p.kind == ModelKind::vjepa2_ac_predictor) {
    Result<models::AcPredictorConfig> c = models::AcPredictorConfig::from_file(f);
    if (!c) return c.status();
    Result<models::AcPredictorWeights> w = models::AcPredictorWeights::bind(f, c.value());
    if (!w) return w.status();
    const int64_t B = p.batch, T = p.steps, hw = c->patches_per_step(), D = c->embed_dim, A = c->action_dim;
    const std::vector<float> lat = detail::synthetic((size_t)(B * T * hw * D), 5);
    const std::vector<float> act = detail::synthetic((size_t)(B * T * A), 6);
    const std::vector<float> sta = detail::synthetic((size_t)(B * T * A), 7);
    const float* ext = nullptr;  // the plan is for use_extrinsics as stored in the file
    std::vector<float> ext_data;
    if (c->use_extrinsics) {
      ext_data = detail::synthetic((size_t)(B * T * (A - 1)), 8);
      ext = ext_data.data();
    }
    if (!rollout)
      return models::ac_predictor_forward(w.value(), c.value(), par, arena, B, T, lat.data(), act.data(), sta.data(),
                                          ext, out.data());
    models::AcKvCache cache;
    JEPA_RETURN_IF_ERROR(models::ac_kv_cache_init(&cache, c.value(), arena, B, T));
    // Step t of every sequence: gather its rows from the [B][T][...] inputs.
    std::vector<float> l1((size_t)(B * hw * D)), a1((size_t)(B * A)), s1((size_t)(B * A)), e1((size_t)(B * (A - 1)));
    for (int64_t t = 0; t < T; ++t) {
      for (int64_t b = 0; b < B; ++b) {
        std::copy_n(&lat[(size_t)((b * T + t) * hw * D)], hw * D, &l1[(size_t)(b * hw * D)]);
        std::copy_n(&act[(size_t)((b * T + t) * A)], A, &a1[(size_t)(b * A)]);
        std::copy_n(&sta[(size_t)((b * T + t) * A)], A, &s1[(size_t)(b * A)]);
        if (ext) std::copy_n(&ext_data[(size_t)((b * T + t) * (A - 1))], A - 1, &e1[(size_t)(b * (A - 1))]);
      }
      JEPA_RETURN_IF_ERROR(models::ac_predictor_forward_steps(w.value(), c.value(), par, arena, cache, t, 1, l1.data(),
                                                              a1.data(), s1.data(), ext ? e1.data() : nullptr,
                                                              out.data()));
    }
    return Status::ok();
  }
  return Status::error(Error::unknown_model_kind, "model kind '%s' is not a model jepa-rt runs", f.kind());
}

}  // namespace memplan
}  // namespace jepa

#endif  // JEPA_TOOLS_COMMON_MEMORY_PLAN_HPP
