// jepa-verify: checks jepa-rt against a reference directory (the layout of
// /work/shared/golden/<config>/: config.json, weights.safetensors,
// manifest.json and raw arrays; docs/CONVERT.md says how to dump one from
// your own checkpoint with tools/export_checkpoint.py).
//
//   jepa-verify DIR [--dtype f32|f16|bf16|q8|q7|q4] [--layout row_major|panel] [--attention auto|f32|bf16]
//               [--case NAME] [--verbose]
//
// The weights are converted in memory by the same code as jepa-convert
// (tools/common/convert.hpp), every manifest case jepa-rt supports is run, and
// every expected tensor (and intermediate the model exposes) is compared with
// the manifest's tolerance: fp32 elementwise atol/rtol for --dtype f32, the
// int8_weights rel_l2 / cosine / max_abs bounds for the other dtypes and for
// --attention bf16 (kernels::AttnMath: attention that may round to bf16; the
// default, auto, allows it for every dtype but f32, as the models do). Cases
// are recognised by (family, name prefix) in kRunners; a case with no runner
// is printed as "skipped" with the reason. Exit 0: every check passed; 1: a
// check failed or a case could not run; 2: usage or I/O error.
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/cli.hpp"
#include "common/compare.hpp"
#include "common/convert.hpp"
#include "common/manifest.hpp"
#include "common/run_common.hpp"
#include "jepa/format/model_file.hpp"
#include "jepa/models/kinds.hpp"
#include "jepa/ops/attention.hpp"
#include "jepa/ops/layernorm.hpp"
#include "jepa/ops/rope.hpp"
#include "jepa/plan/planner.hpp"
#include "jepa/plan/rollout.hpp"

namespace {

using jepa::Error;
using jepa::Result;
using jepa::Status;
namespace models = jepa::models;
namespace compare = jepa::compare;

// ---- converted models, kept for every case of the run ---------------------------

struct Converted {
  void* bytes = nullptr;  // 64-byte aligned copy of the .jepa bytes
  size_t size = 0;
  jepa::ModelFile file;
  jepa::kernels::RepackedWeights repack;  // --layout row_major: what this CPU's kernels read
  ~Converted() { std::free(bytes); }
};

// ---- what one run shares ---------------------------------------------------------

// q7's weight step over q8's: 127 / 63 levels per row.
constexpr double kQ7Step = 127.0 / jepa::format::kQ7Max;

struct Context {
  const jepa::manifest::Manifest* man = nullptr;
  const jepa::convert::OfficialConfig* cfg = nullptr;
  const jepa::safetensors::File* st = nullptr;
  jepa::convert::ConvertOptions convert;  // dtype/layout; component set per model
  jepa::ParallelFor par;
  bool verbose = false;
  bool quantized = false;  // judge with the int8_weights tolerance
  jepa::kernels::AttnMath attention = jepa::kernels::AttnMath::automatic;  // --attention
  std::map<std::string, std::unique_ptr<Converted>> converted;
  int checks = 0, failures = 0;

  // The component converted in memory (once), as a validated ModelFile.
  Result<const jepa::ModelFile*> model(const std::string& component) {
    auto it = converted.find(component);
    if (it != converted.end()) return &it->second->file;
    jepa::convert::ConvertOptions o = convert;
    o.component = component;
    Result<std::vector<uint8_t>> b = jepa::convert::convert_component(*st, *cfg, o, nullptr);
    if (!b) return Status::error(b.status().code(), "converting '%s': %s", component.c_str(), b.status().message());
    std::unique_ptr<Converted> c(new Converted);
    c->size = b->size();
    c->bytes = std::aligned_alloc(64, (c->size + 63) & ~size_t(63));
    if (!c->bytes) return Status::error(Error::out_of_memory, "cannot allocate %zu bytes", c->size);
    std::memcpy(c->bytes, b->data(), c->size);
    Result<jepa::ModelFile> f = jepa::ModelFile::open(c->bytes, c->size);
    if (!f) return f.status();
    c->file = f.value();
    Status rs = c->repack.apply(&c->file, jepa::kernels::default_table());
    if (!rs.is_ok()) return rs;
    const jepa::ModelFile* out = &c->file;
    converted[component] = std::move(c);
    return out;
  }

  // Compares `got` with manifest tensor `name` and prints one table row.
  void check(const std::string& case_name, const std::string& name, const float* got, int64_t n) {
    const jepa::manifest::Entry* e = man->find(name);
    if (!e) return;  // the manifest does not record this intermediate
    ++checks;
    std::vector<float> ref;
    Status s = man->load<float>(name, &ref);
    if (s.is_ok() && (int64_t)ref.size() != n)
      s = Status::error(Error::shape_mismatch, "jepa-rt produced %lld values, the reference has %zu", (long long)n,
                        ref.size());
    if (s.is_ok() && !(quantized ? e->has_int8 : e->has_fp32)) {
      // E.g. the CEM outputs of an int8 run: the top-k sets may differ, so the reference sets no bound.
      --checks;
      std::printf("%-24s %-40s skipped: the manifest gives no %s tolerance\n", case_name.c_str(), name.c_str(),
                  quantized ? "int8_weights" : "fp32");
      return;
    }
    if (!s.is_ok()) {
      ++failures;
      std::printf("%-24s %-40s %s  FAIL\n", case_name.c_str(), name.c_str(), s.message());
      return;
    }
    compare::Tolerance tol = quantized ? e->int8 : e->fp32;
    if (quantized && (convert.weight_flags & jepa::format::kTensorQ7)) {
      // 7-bit weights: a quantization step kQ7Step times int8's, so errors scale by it (1 - cosine by its square).
      tol.rel_l2_max *= kQ7Step;
      tol.max_abs *= kQ7Step;
      tol.cosine_min = 1.0 - (1.0 - tol.cosine_min) * kQ7Step * kQ7Step;
    }
    const compare::Stats st = compare::compute(got, ref.data(), n, tol.atol, tol.rtol);
    const bool ok = compare::passes(st, tol);
    if (!ok) ++failures;
    char tol_text[64];
    if (tol.elementwise)
      std::snprintf(tol_text, sizeof tol_text, "atol %.0e rtol %.0e (%5.1f%%)", tol.atol, tol.rtol, 100.0 * st.tol_used);
    else
      std::snprintf(tol_text, sizeof tol_text, "l2<=%.3g cos>=%.5g abs<=%.3g", tol.rel_l2_max, tol.cosine_min,
                    tol.max_abs);
    std::printf("%-24s %-40s %10.3e %10.3e %11.8f  %-30s %s\n", case_name.c_str(), name.c_str(), st.max_abs, st.rel_l2,
                st.cosine, tol_text, ok ? "pass" : "FAIL");
    if (verbose || !ok) {
      if (st.non_finite) std::printf("    %lld non-finite values\n", (long long)st.non_finite);
      if (st.worst >= 0)
        std::printf("    worst element %lld: got %.9g, reference %.9g%s\n", (long long)st.worst, st.worst_x,
                    st.worst_ref,
                    tol.elementwise ? ("; " + std::to_string(st.violations) + " element(s) over the tolerance").c_str()
                                    : "");
    }
  }

  void fail_case(const std::string& case_name, const Status& s) {
    ++failures;
    std::printf("%-24s %-40s FAIL: %s (%s)\n", case_name.c_str(), "-", s.message(), jepa::error_name(s.code()));
  }
};

// Intermediates a forward shows through its ForwardObserver, by manifest
// suffix: "patch_embed", "predictor_embed", "block0", "block1", ...
struct Capture {
  std::map<std::string, std::vector<float>> seen;
  static void fn(void* ctx, const char* name, int index, const float* data, int64_t rows, int64_t cols) {
    std::string key = name;
    if (key == "block") key += std::to_string(index);
    static_cast<Capture*>(ctx)->seen[key].assign(data, data + rows * cols);
  }
  models::ForwardObserver observer() {
    models::ForwardObserver o;
    o.fn = &Capture::fn;
    o.ctx = this;
    return o;
  }
  // Checks every captured intermediate the manifest records as "<case>.<key>".
  void check_all(Context& ctx, const std::string& case_name) {
    for (const auto& kv : seen) {
      const std::string name = case_name + "." + kv.first;
      ctx.check(case_name, name, kv.second.data(), (int64_t)kv.second.size());
    }
  }
};

template <class T>
Status load(Context& ctx, const std::string& name, std::vector<T>* out, std::vector<int64_t>* shape = nullptr) {
  JEPA_RETURN_IF_ERROR(ctx.man->load<T>(name, out));
  if (shape) *shape = ctx.man->find(name)->shape;
  return Status::ok();
}

const jepa::manifest::Entry* entry(Context& ctx, const std::string& name) { return ctx.man->find(name); }

// ---- V-JEPA 2 ------------------------------------------------------------------------

struct Vjepa2Encoder {
  models::Vjepa2EncoderConfig cfg;
  models::Vjepa2EncoderWeights w;
};

Status bind_vjepa2_encoder(Context& ctx, const std::string& component, Vjepa2Encoder* out) {
  Result<const jepa::ModelFile*> f = ctx.model(component);
  if (!f) return f.status();
  Result<models::Vjepa2EncoderConfig> c = models::Vjepa2EncoderConfig::from_file(*f.value());
  if (!c) return c.status();
  c.value().attention = ctx.attention;
  Result<models::Vjepa2EncoderWeights> w = models::Vjepa2EncoderWeights::bind(*f.value(), c.value());
  if (!w) return w.status();
  out->cfg = c.value();
  out->w = w.value();
  return Status::ok();
}

// encoder(video [B,C,T,H,W]) with optional keep indices -> out [B,L,D].
Status run_vjepa2_encoder(Context& ctx, const Vjepa2Encoder& m, const std::vector<float>& video,
                          const std::vector<int64_t>& shape, const std::vector<int64_t>* keep, int64_t keep_n,
                          std::vector<float>* out, const models::ForwardObserver& obs) {
  if (shape.size() != 5) return Status::error(Error::shape_mismatch, "video input must be [B,C,T,H,W]");
  models::Vjepa2EncoderInput in;
  in.video = video.data();
  in.batch = shape[0];
  in.frames = shape[2];
  in.height = shape[3];
  in.width = shape[4];
  if (keep) {
    in.keep_idx = keep->data();
    in.keep = keep_n;
  }
  out->assign((size_t)(in.batch * in.out_tokens(m.cfg) * m.cfg.embed_dim), 0.f);
  jepa::run::ArenaBuffer buf(models::vjepa2_encoder_arena_bytes(m.cfg, in));
  jepa::Arena arena = buf.arena();
  return models::vjepa2_encoder_forward(m.w, m.cfg, ctx.par, arena, in, out->data(), obs);
}

// enc_video, enc_nonsquare: encoder(<case>.video) -> <case>.output + intermediates.
Status case_vjepa2_encode(Context& ctx, const std::string& cs) {
  Vjepa2Encoder m;
  JEPA_RETURN_IF_ERROR(bind_vjepa2_encoder(ctx, "encoder", &m));
  std::vector<float> video, out;
  std::vector<int64_t> shape;
  JEPA_RETURN_IF_ERROR(load(ctx, cs + ".video", &video, &shape));
  Capture cap;
  JEPA_RETURN_IF_ERROR(run_vjepa2_encoder(ctx, m, video, shape, nullptr, 0, &out, cap.observer()));
  ctx.check(cs, cs + ".output", out.data(), (int64_t)out.size());
  cap.check_all(ctx, cs);
  return Status::ok();
}

// masked: encoder(enc_video.video, masks_x) -> masked.context, then
// predictor(reference context, masks_x, masks_y, mask_index=1) -> masked.prediction.
Status case_vjepa2_masked(Context& ctx, const std::string& cs) {
  std::vector<int64_t> mx, my, mx_shape, my_shape;
  JEPA_RETURN_IF_ERROR(load(ctx, cs + ".masks_x", &mx, &mx_shape));
  JEPA_RETURN_IF_ERROR(load(ctx, cs + ".masks_y", &my, &my_shape));
  if (entry(ctx, "enc_video.video") && entry(ctx, cs + ".context")) {
    Vjepa2Encoder m;
    JEPA_RETURN_IF_ERROR(bind_vjepa2_encoder(ctx, "encoder", &m));
    std::vector<float> video, out;
    std::vector<int64_t> shape;
    JEPA_RETURN_IF_ERROR(load(ctx, "enc_video.video", &video, &shape));
    JEPA_RETURN_IF_ERROR(run_vjepa2_encoder(ctx, m, video, shape, &mx, mx_shape[1], &out, models::ForwardObserver()));
    ctx.check(cs, cs + ".context", out.data(), (int64_t)out.size());
  }
  Result<const jepa::ModelFile*> f = ctx.model("predictor");
  if (!f) return f.status();
  Result<models::Vjepa2PredictorConfig> c = models::Vjepa2PredictorConfig::from_file(*f.value());
  if (!c) return c.status();
  c.value().attention = ctx.attention;
  Result<models::Vjepa2PredictorWeights> w = models::Vjepa2PredictorWeights::bind(*f.value(), c.value());
  if (!w) return w.status();
  std::vector<float> context, out;
  JEPA_RETURN_IF_ERROR(load(ctx, cs + ".context", &context));
  models::Vjepa2PredictorInput in;
  in.context = context.data();
  in.masks_x = mx.data();
  in.masks_y = my.data();
  in.batch = mx_shape[0];
  in.n_ctx = mx_shape[1];
  in.n_tgt = my_shape[1];
  in.mask_index = 1;  // the manifest's call: predictor(context, masks_x, masks_y, mask_index=1)
  out.assign((size_t)(in.batch * in.n_tgt * c->embed_dim), 0.f);
  jepa::run::ArenaBuffer buf(models::vjepa2_predictor_arena_bytes(c.value(), in));
  jepa::Arena arena = buf.arena();
  JEPA_RETURN_IF_ERROR(models::vjepa2_predictor_forward(w.value(), c.value(), ctx.par, arena, in, out.data()));
  ctx.check(cs, cs + ".prediction", out.data(), (int64_t)out.size());
  return Status::ok();
}

// rope_unit: rotate_queries_or_keys(x [B,H,N,S], pos [N]) on one S-wide segment.
Status case_vjepa2_rope(Context& ctx, const std::string& cs) {
  std::vector<float> x, pos;
  std::vector<int64_t> xs;
  JEPA_RETURN_IF_ERROR(load(ctx, cs + ".x", &x, &xs));
  JEPA_RETURN_IF_ERROR(load(ctx, cs + ".pos", &pos));
  const int64_t seg = xs.back(), n = xs[xs.size() - 2], half = seg / 2;
  if (seg % 2 || (int64_t)pos.size() != n) return Status::error(Error::shape_mismatch, "rope_unit shapes");
  std::vector<float> cs_tab((size_t)half), sn_tab((size_t)half);
  for (size_t r = 0; r * (size_t)seg < x.size(); ++r) {
    jepa::ops::rope_angles(pos[r % (size_t)n], half, cs_tab.data(), sn_tab.data());
    jepa::ops::rope_rotate(x.data() + r * (size_t)seg, seg, cs_tab.data(), sn_tab.data());
  }
  ctx.check(cs, cs + ".output", x.data(), (int64_t)x.size());
  return Status::ok();
}

// ac_encode: each frame encoded alone -> encoder_output; + latent LayerNorm -> latents.
Status case_ac_encode(Context& ctx, const std::string& cs) {
  Vjepa2Encoder m;
  JEPA_RETURN_IF_ERROR(bind_vjepa2_encoder(ctx, "encoder", &m));
  std::vector<float> clip;
  std::vector<int64_t> s;
  JEPA_RETURN_IF_ERROR(load(ctx, cs + ".clip", &clip, &s));
  models::Vjepa2FramesInput in;
  in.clip = clip.data();
  in.batch = s[0];
  in.frames = s[2];
  in.height = s[3];
  in.width = s[4];
  const int64_t hw = (in.height / m.cfg.patch_size) * (in.width / m.cfg.patch_size);
  std::vector<float> out((size_t)(in.batch * in.frames * hw * m.cfg.embed_dim));
  jepa::run::ArenaBuffer buf(models::vjepa2_encode_frames_arena_bytes(m.cfg, in));
  for (int norm = 0; norm < 2; ++norm) {
    in.normalize = norm == 1;
    jepa::Arena arena = buf.arena();
    JEPA_RETURN_IF_ERROR(models::vjepa2_encode_frames(m.w, m.cfg, ctx.par, arena, in, out.data()));
    ctx.check(cs, cs + (norm ? ".latents" : ".encoder_output"), out.data(), (int64_t)out.size());
  }
  return Status::ok();
}

// ac_teacher_forcing(_ext): predictor(ac_encode.latents[:, :T], actions, states[:, :T] (, extrinsics)).
Status case_ac_teacher_forcing(Context& ctx, const std::string& cs) {
  const bool ext = entry(ctx, cs + ".extrinsics") != nullptr;
  const std::string component = ext ? "predictor_ext" : "predictor";
  Result<const jepa::ModelFile*> f = ctx.model(ctx.cfg->find(component) ? component : "predictor");
  if (!f) return f.status();
  Result<models::AcPredictorConfig> cr = models::AcPredictorConfig::from_file(*f.value());
  if (!cr) return cr.status();
  models::AcPredictorConfig c = cr.value();
  c.attention = ctx.attention;
  c.use_extrinsics = ext;
  Result<models::AcPredictorWeights> w = models::AcPredictorWeights::bind(*f.value(), c);
  if (!w) return w.status();
  // Actions/states/latents: this case's own, else the teacher-forcing case's and ac_encode's.
  const std::string base = entry(ctx, cs + ".actions") ? cs : "ac_teacher_forcing";
  std::vector<float> actions, states, latents, extr;
  std::vector<int64_t> as;
  JEPA_RETURN_IF_ERROR(load(ctx, base + ".actions", &actions, &as));
  JEPA_RETURN_IF_ERROR(load(ctx, (entry(ctx, cs + ".states") ? cs : "ac_teacher_forcing") + ".states", &states));
  JEPA_RETURN_IF_ERROR(load(ctx, "ac_encode.latents", &latents));
  if (ext) JEPA_RETURN_IF_ERROR(load(ctx, cs + ".extrinsics", &extr));
  const int64_t B = as[0], T = as[1], A = c.action_dim, hw = c.patches_per_step(), D = c.embed_dim;
  // Keep the first T steps of each batch element (the references hold one more frame).
  auto first_steps = [&](std::vector<float>& v, int64_t per_step) -> Status {
    const int64_t total = (int64_t)v.size() / (B * per_step);
    if (total < T || (int64_t)v.size() != B * total * per_step)
      return Status::error(Error::shape_mismatch, "reference input has %lld steps, the case needs %lld", (long long)total,
                           (long long)T);
    std::vector<float> o;
    for (int64_t b = 0; b < B; ++b) o.insert(o.end(), v.begin() + b * total * per_step, v.begin() + (b * total + T) * per_step);
    v.swap(o);
    return Status::ok();
  };
  JEPA_RETURN_IF_ERROR(first_steps(states, A));
  JEPA_RETURN_IF_ERROR(first_steps(latents, hw * D));
  if (ext) JEPA_RETURN_IF_ERROR(first_steps(extr, A - 1));
  std::vector<float> out((size_t)(B * T * hw * D));
  Capture cap;
  jepa::run::ArenaBuffer buf(models::ac_predictor_arena_bytes(c, B, T));
  jepa::Arena arena = buf.arena();
  JEPA_RETURN_IF_ERROR(models::ac_predictor_forward(w.value(), c, ctx.par, arena, B, T, latents.data(),
                                                    actions.data(), states.data(), ext ? extr.data() : nullptr,
                                                    out.data(), cap.observer()));
  ctx.check(cs, cs + ".output", out.data(), (int64_t)out.size());
  cap.check_all(ctx, cs);
  if (entry(ctx, cs + ".output_normed")) {
    jepa::ops::layernorm(out.data(), out.data(), B * T * hw, D, nullptr, nullptr, 1e-5f);
    ctx.check(cs, cs + ".output_normed", out.data(), (int64_t)out.size());
  }
  return Status::ok();
}

// Reads "key=value" (an integer) from a manifest description.
bool desc_int(const std::string& desc, const char* key, int64_t* out) {
  const std::string k = std::string(key) + "=";
  size_t p = desc.find(k);
  while (p != std::string::npos && p > 0 && (std::isalnum((unsigned char)desc[p - 1]) || desc[p - 1] == '_'))
    p = desc.find(k, p + 1);
  if (p == std::string::npos) return false;
  *out = std::strtoll(desc.c_str() + p + k.size(), nullptr, 10);
  return true;
}

// mask_unit: the block-causal mask for T steps of H*W + add_tokens tokens (exact).
Status case_ac_mask(Context& ctx, const std::string& cs) {
  const jepa::manifest::Entry* e = entry(ctx, cs + ".mask");
  if (!e) return Status::error(Error::not_found, "no %s.mask", cs.c_str());
  int64_t T = 0, H = 0, W = 0, add = 0;
  if (!desc_int(e->desc, "T", &T) || !desc_int(e->desc, "H", &H) || !desc_int(e->desc, "W", &W) ||
      !desc_int(e->desc, "add_tokens", &add))
    return Status::error(Error::not_found, "cannot read T, H, W, add_tokens from the description of %s", e->name.c_str());
  std::vector<uint8_t> ref;
  JEPA_RETURN_IF_ERROR(load(ctx, e->name, &ref));
  const int64_t tps = H * W + add, n = T * tps;
  std::vector<uint8_t> got((size_t)(n * n));
  jepa::ops::build_block_causal_mask(T, tps, got.data());
  ++ctx.checks;
  int64_t diff = 0;
  for (size_t i = 0; i < got.size() && i < ref.size(); ++i) diff += got[i] != ref[i];
  const bool ok = got.size() == ref.size() && diff == 0;
  if (!ok) ++ctx.failures;
  std::printf("%-24s %-40s %10lld differing entries of %zu (exact)            %s\n", cs.c_str(), e->name.c_str(),
              (long long)diff, ref.size(), ok ? "pass" : "FAIL");
  return Status::ok();
}

// ac_rollout: from frame 0 of ac_encode.latents and pose0, S steps of actions
// through plan/rollout.hpp (KV cache; each step LayerNorm'ed, pose advanced).
Status case_ac_rollout(Context& ctx, const std::string& cs) {
  Result<const jepa::ModelFile*> f = ctx.model("predictor");
  if (!f) return f.status();
  Result<models::AcPredictorConfig> c = models::AcPredictorConfig::from_file(*f.value());
  if (!c) return c.status();
  c.value().attention = ctx.attention;
  Result<models::AcPredictorWeights> w = models::AcPredictorWeights::bind(*f.value(), c.value());
  if (!w) return w.status();
  std::vector<float> pose0, actions, latents;
  std::vector<int64_t> as;
  JEPA_RETURN_IF_ERROR(load(ctx, cs + ".pose0", &pose0));
  JEPA_RETURN_IF_ERROR(load(ctx, cs + ".actions", &actions, &as));
  JEPA_RETURN_IF_ERROR(load(ctx, "ac_encode.latents", &latents));
  const int64_t B = as[0], S = as[1], A = as[2], frame = c->patches_per_step() * c->embed_dim;
  if (A != jepa::plan::kActionDim || (int64_t)pose0.size() != B * jepa::plan::kPoseDim ||
      (int64_t)latents.size() < frame)
    return Status::error(Error::shape_mismatch, "ac_rollout inputs do not fit the model");
  jepa::plan::AcModel model;
  model.weights = &w.value();
  model.config = &c.value();
  jepa::plan::AcRolloutOptions o;
  o.batch = B;
  o.max_steps = S;
  jepa::run::ArenaBuffer buf(jepa::plan::ac_rollout_arena_bytes(c.value(), o));
  jepa::Arena arena = buf.arena();
  jepa::plan::AcRollout r;
  JEPA_RETURN_IF_ERROR(jepa::plan::ac_rollout_create(model, o, arena, &r));
  std::vector<float> start((size_t)(B * frame));
  std::vector<double> pose((size_t)(B * jepa::plan::kPoseDim));
  for (int64_t b = 0; b < B; ++b) std::memcpy(start.data() + b * frame, latents.data(), (size_t)frame * 4);
  for (size_t i = 0; i < pose.size(); ++i) pose[i] = pose0[i];
  JEPA_RETURN_IF_ERROR(jepa::plan::ac_rollout_start(r, start.data(), pose.data()));
  // Outputs [B][1+S][HW][D] and [B][1+S][7]; frame 0 is the context.
  std::vector<float> out_lat((size_t)(B * (S + 1) * frame)), out_pose((size_t)(B * (S + 1) * A));
  std::vector<float> act_t((size_t)(B * A)), next((size_t)(B * frame));
  std::vector<double> next_pose((size_t)(B * A));
  for (int64_t t = 0; t <= S; ++t) {
    if (t > 0) {
      for (int64_t b = 0; b < B; ++b)
        std::memcpy(act_t.data() + b * A, actions.data() + (b * S + t - 1) * A, (size_t)A * 4);
      JEPA_RETURN_IF_ERROR(jepa::plan::ac_rollout_step(r, ctx.par, arena, act_t.data(), next.data(), next_pose.data()));
    }
    for (int64_t b = 0; b < B; ++b) {
      std::memcpy(out_lat.data() + (b * (S + 1) + t) * frame, (t ? next.data() : start.data()) + b * frame,
                  (size_t)frame * 4);
      for (int64_t i = 0; i < A; ++i)
        out_pose[(size_t)((b * (S + 1) + t) * A + i)] = (float)(t ? next_pose[(size_t)(b * A + i)] : pose[(size_t)(b * A + i)]);
    }
  }
  ctx.check(cs, cs + ".latents", out_lat.data(), (int64_t)out_lat.size());
  ctx.check(cs, cs + ".poses", out_pose.data(), (int64_t)out_pose.size());
  return Status::ok();
}

// The official CEM arguments of config.json's "cem" object (mpc_utils.cem names).
Status read_cem_config(const std::string& dir, jepa::plan::CemConfig* c) {
  Result<jepa::json::Value> doc = jepa::json::parse_file(dir + "/config.json");
  if (!doc) return doc.status();
  Result<const jepa::json::Value*> cem = jepa::json::member(doc.value(), "cem", jepa::json::Type::object, "config.json");
  if (!cem) return cem.status();
  const jepa::json::Value& o = **cem;
  const char* w = "config.json cem";
  Result<int64_t> h = jepa::json::get_int(o, "rollout", w), n = jepa::json::get_int(o, "samples", w);
  Result<int64_t> k = jepa::json::get_int(o, "topk", w), it = jepa::json::get_int(o, "cem_steps", w);
  Result<double> mm = jepa::json::get_number(o, "momentum_mean", w), ms = jepa::json::get_number(o, "momentum_std", w);
  Result<double> gm = jepa::json::get_number(o, "momentum_mean_gripper", w);
  Result<double> gs = jepa::json::get_number(o, "momentum_std_gripper", w), mx = jepa::json::get_number(o, "maxnorm", w);
  for (const Status* s : {&h.status(), &n.status(), &k.status(), &it.status(), &mm.status(), &ms.status(),
                          &gm.status(), &gs.status(), &mx.status()})
    if (!s->is_ok()) return *s;
  *c = jepa::plan::CemConfig::official_defaults();
  c->horizon = (int)h.value();
  c->samples = (int)n.value();
  c->topk = (int)k.value();
  c->iterations = (int)it.value();
  c->momentum_mean = mm.value();
  c->momentum_std = ms.value();
  c->momentum_mean_gripper = gm.value();
  c->momentum_std_gripper = gs.value();
  c->space.maxnorm = mx.value();
  return c->validate();
}

// Forwards to the planner and records every evaluated candidate and energy.
struct CemRecorder {
  jepa::plan::AcPlanner* planner;
  std::vector<float> actions, energies;  // [evaluations][samples][horizon][7], [evaluations][samples]
  Status operator()(const float* a, int samples, int horizon, double* out) {
    JEPA_RETURN_IF_ERROR(jepa::plan::ac_planner_evaluate(*planner, a, samples, horizon, out));
    actions.insert(actions.end(), a, a + (size_t)samples * horizon * jepa::plan::kActionDim);
    for (int i = 0; i < samples; ++i) energies.push_back((float)out[i]);
    return Status::ok();
  }
};

// cem: WorldModel.infer_next_action from frame 0 of ac_encode.latents towards
// frame 3, pose cem.pose0, replaying the recorded torch draws (cem.noise).
Status case_ac_cem(Context& ctx, const std::string& cs) {
  namespace plan = jepa::plan;
  plan::CemConfig cem;
  JEPA_RETURN_IF_ERROR(read_cem_config(ctx.man->dir, &cem));
  Result<const jepa::ModelFile*> f = ctx.model("predictor");
  if (!f) return f.status();
  Result<models::AcPredictorConfig> c = models::AcPredictorConfig::from_file(*f.value());
  if (!c) return c.status();
  c.value().attention = ctx.attention;
  Result<models::AcPredictorWeights> w = models::AcPredictorWeights::bind(*f.value(), c.value());
  if (!w) return w.status();
  std::vector<float> latents, pose0, noise;
  JEPA_RETURN_IF_ERROR(load(ctx, "ac_encode.latents", &latents));
  JEPA_RETURN_IF_ERROR(load(ctx, cs + ".pose0", &pose0));
  JEPA_RETURN_IF_ERROR(load(ctx, cs + ".noise", &noise));
  const int64_t frame = c->patches_per_step() * c->embed_dim;
  if ((int64_t)latents.size() < 4 * frame || pose0.size() != (size_t)plan::kPoseDim)
    return Status::error(Error::shape_mismatch, "cem needs 4 frames of ac_encode.latents and a [7] pose");
  plan::AcModel model;
  model.weights = &w.value();
  model.config = &c.value();
  plan::AcMemoryOptions mo;
  mo.window = 1;  // the official planner: one context frame, no history
  mo.keep = 0;
  mo.max_prefill_steps = 1;
  jepa::run::ArenaBuffer mem_buf(plan::ac_memory_arena_bytes(c.value(), mo));
  jepa::Arena mem_arena = mem_buf.arena();
  plan::AcMemory mem;
  JEPA_RETURN_IF_ERROR(plan::ac_memory_create(model, mo, mem_arena, &mem));
  double pose[plan::kPoseDim];
  for (int i = 0; i < plan::kPoseDim; ++i) pose[i] = pose0[(size_t)i];
  JEPA_RETURN_IF_ERROR(plan::ac_memory_observe(mem, latents.data(), pose));
  plan::AcPlannerOptions po;
  po.samples = cem.samples;
  po.horizon = cem.horizon;
  po.max_prefix_steps = mo.window;
  po.energy.goal = latents.data() + 3 * frame;
  jepa::run::ArenaBuffer plan_buf(plan::ac_planner_arena_bytes(c.value(), po));
  jepa::Arena plan_arena = plan_buf.arena();
  plan::AcPlanner planner;
  JEPA_RETURN_IF_ERROR(plan::ac_planner_create(model, po, mem, ctx.par, plan_arena, &planner));
  CemRecorder rec{&planner, {}, {}};
  plan::ReplayGaussian replay(noise.data(), noise.size());
  jepa::run::ArenaBuffer state_buf(plan::cem_state_bytes(cem) + 4096);
  jepa::Arena state_arena = state_buf.arena();
  std::vector<float> action((size_t)cem.horizon * plan::kActionDim);
  JEPA_RETURN_IF_ERROR(plan::cem_plan(cem, replay.source(), plan::make_evaluator(rec), state_arena, action.data()));
  // The reference stores samples as [steps][horizon][samples][7]; ours are [steps][samples][horizon][7].
  const size_t S = (size_t)cem.samples, H = (size_t)cem.horizon, A = plan::kActionDim, steps = rec.energies.size() / S;
  std::vector<float> sampled(rec.actions.size());
  for (size_t it = 0; it < steps; ++it)
    for (size_t n = 0; n < S; ++n)
      for (size_t h = 0; h < H; ++h)
        std::memcpy(&sampled[((it * H + h) * S + n) * A], &rec.actions[((it * S + n) * H + h) * A], A * 4);
  ctx.check(cs, cs + ".sampled_actions", sampled.data(), (int64_t)sampled.size());
  ctx.check(cs, cs + ".energies", rec.energies.data(), (int64_t)rec.energies.size());
  ctx.check(cs, cs + ".action", action.data(), (int64_t)action.size());
  return Status::ok();
}

// ---- I-JEPA --------------------------------------------------------------------------

Status run_ijepa_encoder(Context& ctx, const std::vector<float>& image, const std::vector<int64_t>& s,
                         const std::vector<int64_t>* keep, int64_t keep_n, std::vector<float>* out,
                         const models::ForwardObserver& obs) {
  Result<const jepa::ModelFile*> f = ctx.model("encoder");
  if (!f) return f.status();
  Result<models::IjepaEncoderConfig> c = models::IjepaEncoderConfig::from_file(*f.value());
  if (!c) return c.status();
  c.value().attention = ctx.attention;
  Result<models::IjepaEncoderWeights> w = models::IjepaEncoderWeights::bind(*f.value(), c.value());
  if (!w) return w.status();
  if (s.size() != 4) return Status::error(Error::shape_mismatch, "image input must be [B,C,H,W]");
  models::IjepaEncoderInput in;
  in.image = image.data();
  in.batch = s[0];
  in.height = s[2];
  in.width = s[3];
  if (keep) {
    in.keep_idx = keep->data();
    in.keep = keep_n;
  }
  out->assign((size_t)(in.batch * in.out_tokens(c.value()) * c->embed_dim), 0.f);
  jepa::run::ArenaBuffer buf(models::ijepa_encoder_arena_bytes(c.value(), in));
  jepa::Arena arena = buf.arena();
  return models::ijepa_encoder_forward(w.value(), c.value(), ctx.par, arena, in, out->data(), obs);
}

Status case_ijepa_encode(Context& ctx, const std::string& cs) {
  std::vector<float> image, out;
  std::vector<int64_t> s;
  JEPA_RETURN_IF_ERROR(load(ctx, cs + ".image", &image, &s));
  Capture cap;
  JEPA_RETURN_IF_ERROR(run_ijepa_encoder(ctx, image, s, nullptr, 0, &out, cap.observer()));
  ctx.check(cs, cs + ".output", out.data(), (int64_t)out.size());
  cap.check_all(ctx, cs);
  return Status::ok();
}

// masked: encoder(enc_image.image, masks_enc) -> context; predictor(reference
// context, masks_enc, masks_pred) -> prediction.
Status case_ijepa_masked(Context& ctx, const std::string& cs) {
  std::vector<int64_t> mx, my, mxs, mys;
  JEPA_RETURN_IF_ERROR(load(ctx, cs + ".masks_enc", &mx, &mxs));
  JEPA_RETURN_IF_ERROR(load(ctx, cs + ".masks_pred", &my, &mys));
  if (entry(ctx, "enc_image.image")) {
    std::vector<float> image, out;
    std::vector<int64_t> s;
    JEPA_RETURN_IF_ERROR(load(ctx, "enc_image.image", &image, &s));
    JEPA_RETURN_IF_ERROR(run_ijepa_encoder(ctx, image, s, &mx, mxs[1], &out, models::ForwardObserver()));
    ctx.check(cs, cs + ".context", out.data(), (int64_t)out.size());
  }
  Result<const jepa::ModelFile*> f = ctx.model("predictor");
  if (!f) return f.status();
  Result<models::IjepaPredictorConfig> c = models::IjepaPredictorConfig::from_file(*f.value());
  if (!c) return c.status();
  c.value().attention = ctx.attention;
  Result<models::IjepaPredictorWeights> w = models::IjepaPredictorWeights::bind(*f.value(), c.value());
  if (!w) return w.status();
  std::vector<float> context, out;
  JEPA_RETURN_IF_ERROR(load(ctx, cs + ".context", &context));
  models::IjepaPredictorInput in;
  in.context = context.data();
  in.masks_x = mx.data();
  in.masks = my.data();
  in.batch = mxs[0];
  in.n_ctx = mxs[1];
  in.n_tgt = mys[1];
  out.assign((size_t)(in.batch * in.n_tgt * c->embed_dim), 0.f);
  jepa::run::ArenaBuffer buf(models::ijepa_predictor_arena_bytes(c.value(), in));
  jepa::Arena arena = buf.arena();
  JEPA_RETURN_IF_ERROR(models::ijepa_predictor_forward(w.value(), c.value(), ctx.par, arena, in, out.data()));
  ctx.check(cs, cs + ".prediction", out.data(), (int64_t)out.size());
  return Status::ok();
}

// ---- the runner table --------------------------------------------------------------

// A case matches a row when the family is equal and the case name equals
// `prefix` or starts with it. The first matching row wins; run == nullptr
// means "known, not supported here", with `what` as the reason.
struct CaseRunner {
  const char* family;
  const char* prefix;
  Status (*run)(Context&, const std::string&);
  const char* what;
};

const CaseRunner kRunners[] = {
    {"vjepa2", "enc_", case_vjepa2_encode, "V-JEPA 2 encoder"},
    {"vjepa2", "masked", case_vjepa2_masked, "V-JEPA 2 masked encoder + predictor"},
    {"vjepa2", "rope_unit", case_vjepa2_rope, "V-JEPA 2 RoPE on one segment"},
    {"vjepa2", "ac_encode", case_ac_encode, "V-JEPA 2-AC per-frame latents"},
    {"vjepa2", "ac_teacher_forcing", case_ac_teacher_forcing, "V-JEPA 2-AC predictor, teacher forcing"},
    {"vjepa2", "mask_unit", case_ac_mask, "V-JEPA 2-AC block-causal mask"},
    {"vjepa2", "ac_rollout", case_ac_rollout, "V-JEPA 2-AC rollout through the KV cache (plan/rollout.hpp)"},
    {"vjepa2", "cem", case_ac_cem, "V-JEPA 2-AC official CEM, replaying the recorded noise (plan/planner.hpp)"},
    {"ijepa", "enc_", case_ijepa_encode, "I-JEPA encoder"},
    {"ijepa", "masked", case_ijepa_masked, "I-JEPA masked encoder + predictor"},
};

const CaseRunner* find_runner(const std::string& family, const std::string& cs) {
  for (const CaseRunner& r : kRunners)
    if (family == r.family && cs.compare(0, std::strlen(r.prefix), r.prefix) == 0) return &r;
  return nullptr;
}

const std::vector<jepa::cli::OptionSpec> kOptions = {
    {"dtype", true, "TYPE", "weight-matrix dtype to convert to: f32 (default), f16, bf16, q8, q7 (q8, 7-bit weights), q4"},
    {"layout", true, "L", "weight-matrix layout: panel (default, as jepa-convert writes) or row_major"},
    {"case", true, "NAME", "run only this case (e.g. enc_video)"},
    {"threads", true, "N", "worker threads (default 1)"},
    {"attention", true, "MATH", jepa::run::kAttentionHelp},
    {"verbose", false, nullptr, "print the worst element of every tensor and each conversion"},
    {"help", false, nullptr, "this help"},
};

void usage(FILE* out) {
  std::fprintf(out,
               "usage: jepa-verify DIR [--dtype f32|f16|bf16|q8|q7|q4] [--layout row_major|panel]\n"
               "                   [--attention auto|f32|bf16] [--case NAME] [--verbose]\n"
               "DIR holds config.json, weights.safetensors, manifest.json and the raw arrays (docs/CONVERT.md).\n"
               "Converts the weights in memory (as jepa-convert), runs each supported case and compares every\n"
               "expected/intermediate tensor with the manifest tolerance (fp32: elementwise atol + rtol*|ref|;\n"
               "other dtypes, and any dtype with --attention bf16: the int8_weights rel_l2 / cosine / max_abs\n"
               "bounds). Exit 0 = all passed.\n\n");
  jepa::cli::print_options(out, kOptions);
}

// --dtype / --layout / --threads / --verbose -> ctx; 0 = ok, else the exit code.
int parse_run_options(const jepa::cli::Args& args, Context* ctx) {
  const std::string dtype = args.get("dtype", "f32"), layout = args.get("layout", "panel");
  if (!jepa::convert::parse_output_dtype(dtype, &ctx->convert.dtype, &ctx->convert.weight_flags)) {
    std::fprintf(stderr, "jepa-verify: --dtype '%s' is not one of f32, f16, bf16, q8, q7, q4\n", dtype.c_str());
    return 2;
  }
  if (layout != "row_major" && layout != "panel") {
    std::fprintf(stderr, "jepa-verify: --layout '%s' is not row_major or panel\n", layout.c_str());
    return 2;
  }
  ctx->convert.layout = layout == "panel" ? jepa::format::Layout::panel : jepa::format::Layout::row_major;
  Result<jepa::kernels::AttnMath> attention = jepa::run::parse_attention(args);
  if (!attention) {
    std::fprintf(stderr, "jepa-verify: %s\n", attention.status().message());
    return 2;
  }
  ctx->attention = attention.value();
  // bf16 attention rounds activations about as int8 weights do: the same bounds.
  ctx->quantized = ctx->convert.dtype != jepa::format::DType::f32 || ctx->attention == jepa::kernels::AttnMath::bf16;
  ctx->verbose = args.has("verbose");
  return 0;
}

// Runs (or names as skipped) every case; `skip_all` non-empty skips them all.
void run_cases(Context& ctx, const std::vector<std::string>& cases, const std::string& family,
               const std::string& skip_all) {
  int skipped = 0, ran = 0;
  for (const std::string& cs : cases) {
    const CaseRunner* r = skip_all.empty() ? find_runner(family, cs) : nullptr;
    if (!r || !r->run) {
      ++skipped;
      const std::string why = !skip_all.empty() ? "config.json is not one jepa-rt converts: " + skip_all
                              : r               ? std::string(r->what)
                                                : "no jepa-rt runner for family '" + family + "' case '" + cs + "'";
      std::printf("%-24s skipped: %s\n", cs.c_str(), why.c_str());
      continue;
    }
    ++ran;
    Status s = r->run(ctx, cs);
    if (!s.is_ok()) ctx.fail_case(cs, s);
  }
  std::printf("%d check(s) in %d case(s): %d failed; %d case(s) skipped\n", ctx.checks, ran, ctx.failures, skipped);
}

}  // namespace

int main(int argc, char** argv) {
  Result<jepa::cli::Args> args = jepa::cli::Args::parse(argc, argv, 1, kOptions);
  if (!args) {
    std::fprintf(stderr, "jepa-verify: %s\n", args.status().message());
    return 2;
  }
  if (args->has("help")) {
    usage(stdout);
    return 0;
  }
  if (args->positional().size() != 1) {
    std::fprintf(stderr, "jepa-verify: expected one reference directory (see --help)\n");
    return 2;
  }
  const std::string dir = args->positional()[0];
  Context ctx;
  if (int rc = parse_run_options(args.value(), &ctx)) return rc;
  Result<int> threads = jepa::run::parse_threads(args.value());
  if (!threads) {
    std::fprintf(stderr, "jepa-verify: %s\n", threads.status().message());
    return 2;
  }
  jepa::run::Threads pool(threads.value());
  ctx.par = pool.par();

  Result<jepa::manifest::Manifest> man = jepa::manifest::load(dir);
  if (!man) {
    std::fprintf(stderr, "jepa-verify: %s\n", man.status().message());
    return 2;
  }
  ctx.man = &man.value();
  std::vector<std::string> cases = man->cases();
  const std::string only = args->get("case");
  if (!only.empty()) {
    bool found = false;
    for (const std::string& c : cases) found = found || c == only;
    if (!found) {
      std::fprintf(stderr, "jepa-verify: the manifest has no case '%s'\n", only.c_str());
      return 2;
    }
    cases = {only};
  }
  // A config jepa-rt cannot read (another family's layout) skips every case.
  Result<jepa::convert::OfficialConfig> cfg = jepa::convert::load_official_config(dir + "/config.json");
  const std::string skip_all = cfg ? "" : cfg.status().message();
  Result<jepa::safetensors::File> st = jepa::safetensors::File::open(dir + "/weights.safetensors");
  if (skip_all.empty() && !st) {
    std::fprintf(stderr, "jepa-verify: %s\n", st.status().message());
    return 2;
  }
  if (cfg) ctx.cfg = &cfg.value();
  if (st) ctx.st = &st.value();
  const std::string family = cfg ? cfg->family : "?";
  std::printf("jepa-verify %s: config '%s', family %s, weights %s %s, %zu case(s)\n", dir.c_str(), man->config.c_str(),
              family.c_str(), jepa::convert::output_dtype_name(ctx.convert.dtype, ctx.convert.weight_flags),
              jepa::format::layout_name(ctx.convert.layout),
              cases.size());
  if (ctx.quantized && (ctx.convert.weight_flags & jepa::format::kTensorQ7))
    std::printf("weights as q7 (q8, 7-bit): judged by the manifest's int8_weights bounds scaled by the step ratio "
                "127/63 = %.3f (rel_l2, max_abs; 1 - cosine by its square)\n", kQ7Step);
  else if (ctx.quantized && ctx.convert.dtype != jepa::format::DType::f32)
    std::printf("weights as %s: judged by the manifest's int8_weights bounds (set for int8; q4 is coarser and "
                "needs its own)\n", jepa::format::dtype_name(ctx.convert.dtype));
  if (ctx.attention == jepa::kernels::AttnMath::bf16 ||
      (ctx.attention == jepa::kernels::AttnMath::automatic && ctx.convert.dtype != jepa::format::DType::f32))
    std::printf("attention: bf16 allowed (tile kernel here, head_dim <= 96: %s); judged by the int8_weights bounds\n",
                jepa::kernels::choose_attention_kernel(jepa::kernels::AttnMath::bf16,
                                                      jepa::kernels::kAttnBf16MaxHeadDim, true)
                    .name);
  std::printf("%-24s %-40s %10s %10s %11s  %-30s %s\n", "case", "tensor", "max_abs", "rel_l2", "cosine", "tolerance",
              "result");
  run_cases(ctx, cases, family, skip_all);
  return ctx.failures ? 1 : 0;
}
