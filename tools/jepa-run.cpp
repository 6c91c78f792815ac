// jepa-run: run a converted .jepa model on raw arrays (the contract is
// stable; scripts and the benchmarks call it).
//
//   jepa-run encode     MODEL --input X.bin --shape B,C,T,H,W [--mask IDX.bin --mask-shape B,K] -o Y.bin
//   jepa-run predict    MODEL --context Z.bin --masks-x MX.bin --masks-y MY.bin [--mask-index I] -o Y.bin
//   jepa-run ac-predict MODEL --latents Z.bin --actions A.bin --states S.bin [--extrinsics E.bin] -o Y.bin
//
// Arrays are raw little-endian f32 (i64 for token indices) in the official
// PyTorch layouts (C order). Each subcommand is one function plus one row of
// kSubcommands; the planning helper's rollout/plan subcommands come from
// tools/run_plan.hpp (JEPA_RUN_PLAN_SUBCOMMANDS) when that file exists.
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "common/cli.hpp"
#include "common/run_common.hpp"
#include "jepa/ops/layernorm.hpp"

#if __has_include("run_plan.hpp")
#include "run_plan.hpp"
#endif
#ifndef JEPA_RUN_PLAN_SUBCOMMANDS
#define JEPA_RUN_PLAN_SUBCOMMANDS
#endif

namespace {

using jepa::Result;
using jepa::Status;
namespace cli = jepa::cli;
namespace models = jepa::models;
namespace run = jepa::run;

// Parses a subcommand's options (argv[1] is MODEL); 0 = go on, else the exit code.
int parse(const char* cmd, int argc, char** argv, std::vector<cli::OptionSpec> specs, void (*help)(FILE*),
          cli::Args* out, std::string* model) {
  run::add_common_options(&specs);
  Result<cli::Args> a = cli::Args::parse(argc, argv, 1, specs);
  if (!a) return run::usage_error(cmd, a.status().message());
  if (a->has("help")) {
    help(stdout);
    return -1;
  }
  if (a->positional().size() != 1) return run::usage_error(cmd, "expected exactly one MODEL.jepa");
  if (a->get("o").empty()) return run::usage_error(cmd, "-o OUT.bin is required");
  *model = a->positional()[0];
  *out = a.value();
  return 0;
}

// ---- encode ---------------------------------------------------------------------

const std::vector<cli::OptionSpec> kEncodeOptions = {
    {"input", true, "X.bin", "f32 input: video [B,C,T,H,W] (V-JEPA 2) or image [B,C,H,W] (I-JEPA, image models)"},
    {"shape", true, "B,C,T,H,W", "shape of --input (required)"},
    {"mask", true, "IDX.bin", "i64 token indices [B,K] to keep (masked encoder; RoPE/pos-embed at their positions)"},
    {"mask-shape", true, "B,K", "shape of --mask (default: B from --shape, K from the file size)"},
    {"per-frame", false, nullptr, "V-JEPA 2-AC latents: encode every frame alone (repeated to a tubelet)"},
    {"no-latent-norm", false, nullptr, "with --per-frame: skip the affine-free LayerNorm (eps 1e-5)"},
    {"o", true, "Y.bin", "f32 output [B,N,D] (N = kept tokens; --per-frame: [B,T*HW,D])"},
};

void encode_help(FILE* out) {
  std::fprintf(out,
               "usage: jepa-run encode MODEL.jepa --input X.bin --shape B,C,T,H,W [--mask IDX.bin [--mask-shape B,K]]\n"
               "                       -o Y.bin [--per-frame] [--threads N]\n"
               "Encoder forward (kinds vjepa2.encoder, ijepa.encoder). Input already normalized (ImageNet\n"
               "mean/std for the released models). Tokens are in (t, h, w) order, after the final norm.\n\n");
  cli::print_options(out, kEncodeOptions);
}

// What a forward helper gets and fills: the parsed options, the model, the
// inputs, and the output with its shape. Errors are Status values; an
// invalid_argument one is reported as a usage error.
struct Job {
  const cli::Args* args = nullptr;
  const run::Model* model = nullptr;
  jepa::ParallelFor par;
  jepa::kernels::AttnMath attention = jepa::kernels::AttnMath::automatic;  // --attention
  std::vector<float> y;
  std::vector<int64_t> y_shape;
};

int finish(const char* cmd, const Status& st, Job& job) {
  if (!st.is_ok())
    return st.code() == jepa::Error::invalid_argument ? run::usage_error(cmd, st.message()) : run::report(cmd, st);
  Status w = run::write_output(job.args->get("o"), job.y, job.y_shape, job.args->has("quiet"), cmd);
  return w.is_ok() ? 0 : run::report(cmd, w);
}

Status check_channels(int64_t got, int64_t want) {
  if (got == want) return Status::ok();
  return Status::error(jepa::Error::shape_mismatch, "input has %lld channels, the model %lld", (long long)got,
                       (long long)want);
}

Status encode_vjepa2(Job& job, const std::vector<int64_t>& s, const run::Input<float>& x,
                     const run::Input<int64_t>& mask) {
  const jepa::ModelFile& f = job.model->mf();
  Result<models::Vjepa2EncoderConfig> c = models::Vjepa2EncoderConfig::from_file(f);
  if (!c) return c.status();
  c.value().attention = job.attention;
  Result<models::Vjepa2EncoderWeights> w = models::Vjepa2EncoderWeights::bind(f, c.value());
  if (!w) return w.status();
  // A 4-D shape is an image [B,C,H,W]: one frame.
  if (s.size() != 5 && s.size() != 4)
    return Status::error(jepa::Error::invalid_argument, "--shape must be B,C,T,H,W (or B,C,H,W)");
  JEPA_RETURN_IF_ERROR(check_channels(s[1], c->in_chans));
  const bool video = s.size() == 5;
  const int64_t B = s[0], T = video ? s[2] : 1, H = s[video ? 3 : 2], W = s[video ? 4 : 3], D = c->embed_dim;
  if (job.args->has("per-frame")) {
    if (!mask.data.empty()) return Status::error(jepa::Error::invalid_argument, "--per-frame takes no --mask");
    models::Vjepa2FramesInput in;
    in.clip = x.data.data();
    in.batch = B;
    in.frames = T;
    in.height = H;
    in.width = W;
    in.normalize = !job.args->has("no-latent-norm");
    job.y_shape = {B, T * (H / c->patch_size) * (W / c->patch_size), D};
    job.y.resize((size_t)cli::numel(job.y_shape));
    run::ArenaBuffer buf(models::vjepa2_encode_frames_arena_bytes(c.value(), in));
    jepa::Arena arena = buf.arena();
    return models::vjepa2_encode_frames(w.value(), c.value(), job.par, arena, in, job.y.data());
  }
  models::Vjepa2EncoderInput in;
  in.video = x.data.data();
  in.batch = B;
  in.frames = T;
  in.height = H;
  in.width = W;
  if (!mask.data.empty()) {
    in.keep_idx = mask.data.data();
    in.keep = mask.shape[1];
  }
  job.y_shape = {B, in.out_tokens(c.value()), D};
  job.y.resize((size_t)cli::numel(job.y_shape));
  run::ArenaBuffer buf(models::vjepa2_encoder_arena_bytes(c.value(), in));
  jepa::Arena arena = buf.arena();
  return models::vjepa2_encoder_forward(w.value(), c.value(), job.par, arena, in, job.y.data());
}

Status encode_ijepa(Job& job, const std::vector<int64_t>& s, const run::Input<float>& x,
                    const run::Input<int64_t>& mask) {
  if (job.args->has("per-frame"))
    return Status::error(jepa::Error::invalid_argument, "--per-frame is for V-JEPA 2 encoders");
  const jepa::ModelFile& f = job.model->mf();
  Result<models::IjepaEncoderConfig> c = models::IjepaEncoderConfig::from_file(f);
  if (!c) return c.status();
  c.value().attention = job.attention;
  Result<models::IjepaEncoderWeights> w = models::IjepaEncoderWeights::bind(f, c.value());
  if (!w) return w.status();
  if (s.size() != 4) return Status::error(jepa::Error::invalid_argument, "an I-JEPA encoder takes --shape B,C,H,W");
  JEPA_RETURN_IF_ERROR(check_channels(s[1], c->in_chans));
  models::IjepaEncoderInput in;
  in.image = x.data.data();
  in.batch = s[0];
  in.height = s[2];
  in.width = s[3];
  if (!mask.data.empty()) {
    in.keep_idx = mask.data.data();
    in.keep = mask.shape[1];
  }
  job.y_shape = {s[0], in.out_tokens(c.value()), c->embed_dim};
  job.y.resize((size_t)cli::numel(job.y_shape));
  run::ArenaBuffer buf(models::ijepa_encoder_arena_bytes(c.value(), in));
  jepa::Arena arena = buf.arena();
  return models::ijepa_encoder_forward(w.value(), c.value(), job.par, arena, in, job.y.data());
}

int cmd_encode(int argc, char** argv) {
  const char* cmd = "encode";
  cli::Args a;
  std::string model_path;
  if (int rc = parse(cmd, argc, argv, kEncodeOptions, encode_help, &a, &model_path)) return rc < 0 ? 0 : rc;
  if (!a.has("shape")) return run::usage_error(cmd, "--shape is required");
  Result<std::vector<int64_t>> shape = cli::parse_shape(a.get("shape"), "--shape");
  if (!shape) return run::usage_error(cmd, shape.status().message());
  Result<int> threads = run::parse_threads(a);
  if (!threads) return run::usage_error(cmd, threads.status().message());
  Result<jepa::kernels::AttnMath> attention = run::parse_attention(a);
  if (!attention) return run::usage_error(cmd, attention.status().message());
  Result<run::Model> m = run::load_model(model_path);
  if (!m) return run::report(cmd, m.status());
  const std::vector<int64_t>& s = shape.value();
  run::Input<float> x;
  Status st = run::read_input<float>(a, "input", nullptr, s, &x);
  if (!st.is_ok()) return run::report(cmd, st);
  run::Input<int64_t> mask;
  if (a.has("mask")) {
    st = run::read_input<int64_t>(a, "mask", "mask-shape", {s[0], -1}, &mask);
    if (!st.is_ok()) return run::report(cmd, st);
    if (mask.shape.size() != 2 || mask.shape[0] != s[0])
      return run::usage_error(cmd, "--mask must be [B,K] with the batch of --shape");
  }
  run::Threads pool(threads.value());
  Job job;
  job.args = &a;
  job.model = &m.value();
  job.par = pool.par();
  job.attention = attention.value();
  if (m->kind == models::ModelKind::vjepa2_encoder)
    st = encode_vjepa2(job, s, x, mask);
  else if (m->kind == models::ModelKind::ijepa_encoder)
    st = encode_ijepa(job, s, x, mask);
  else
    st = Status::error(jepa::Error::unsupported, "%s is a %s, not an encoder", model_path.c_str(), m->mf().kind());
  return finish(cmd, st, job);
}

// ---- predict --------------------------------------------------------------------

const std::vector<cli::OptionSpec> kPredictOptions = {
    {"context", true, "Z.bin", "f32 context tokens [B,Nx,D] (the encoder output at masks-x)"},
    {"masks-x", true, "MX.bin", "i64 context token indices [B,Nx]"},
    {"masks-y", true, "MY.bin", "i64 target token indices [B,Ny]"},
    {"masks-x-shape", true, "B,Nx", "shape of --masks-x (default: [batch, from the file size])"},
    {"masks-y-shape", true, "B,Ny", "shape of --masks-y (default: [batch, from the file size])"},
    {"batch", true, "B", "batch size when the mask shapes are not given (default 1)"},
    {"mask-index", true, "I", "V-JEPA 2: which learned mask token (official default 1)"},
    {"o", true, "Y.bin", "f32 predictions [B,Ny,D] in masks-y order"},
};

void predict_help(FILE* out) {
  std::fprintf(out,
               "usage: jepa-run predict MODEL.jepa --context Z.bin --masks-x MX.bin --masks-y MY.bin\n"
               "                        [--mask-index I] [--batch B | --masks-x-shape B,Nx --masks-y-shape B,Ny] -o Y.bin\n"
               "Masked-latent predictor forward (kinds vjepa2.predictor, ijepa.predictor). Shapes: the masks\n"
               "give B and Nx/Ny (from --masks-*-shape, or from the file sizes with --batch B, default 1);\n"
               "the context must then be B x Nx x D floats (D = the model's encoder width).\n\n");
  cli::print_options(out, kPredictOptions);
}

// The masks are [B,Nx] and [B,Ny]; the context must be [B,Nx,D].
struct MaskedInputs {
  run::Input<int64_t> mx, my;
  run::Input<float> ctx;
  int64_t B() const { return mx.shape[0]; }
  int64_t nx() const { return mx.shape[1]; }
  int64_t ny() const { return my.shape[1]; }
};

Status predict_vjepa2(Job& job, MaskedInputs& in) {
  const jepa::ModelFile& f = job.model->mf();
  Result<models::Vjepa2PredictorConfig> c = models::Vjepa2PredictorConfig::from_file(f);
  if (!c) return c.status();
  c.value().attention = job.attention;
  Result<models::Vjepa2PredictorWeights> w = models::Vjepa2PredictorWeights::bind(f, c.value());
  if (!w) return w.status();
  JEPA_RETURN_IF_ERROR(run::read_input<float>(*job.args, "context", nullptr, {in.B(), in.nx(), c->embed_dim}, &in.ctx));
  models::Vjepa2PredictorInput p;
  p.context = in.ctx.data.data();
  p.masks_x = in.mx.data.data();
  p.masks_y = in.my.data.data();
  p.batch = in.B();
  p.n_ctx = in.nx();
  p.n_tgt = in.ny();
  if (job.args->has("mask-index")) {
    Result<int64_t> mi = cli::parse_int(job.args->get("mask-index"), "--mask-index");
    if (!mi || mi.value() < 0)
      return Status::error(jepa::Error::invalid_argument, "--mask-index must be a non-negative integer");
    p.mask_index = mi.value();
  }
  job.y_shape = {in.B(), in.ny(), c->embed_dim};
  job.y.resize((size_t)cli::numel(job.y_shape));
  run::ArenaBuffer buf(models::vjepa2_predictor_arena_bytes(c.value(), p));
  jepa::Arena arena = buf.arena();
  return models::vjepa2_predictor_forward(w.value(), c.value(), job.par, arena, p, job.y.data());
}

Status predict_ijepa(Job& job, MaskedInputs& in) {
  if (job.args->has("mask-index"))
    return Status::error(jepa::Error::invalid_argument,
                         "--mask-index is for V-JEPA 2 predictors (I-JEPA has one mask token)");
  const jepa::ModelFile& f = job.model->mf();
  Result<models::IjepaPredictorConfig> c = models::IjepaPredictorConfig::from_file(f);
  if (!c) return c.status();
  c.value().attention = job.attention;
  Result<models::IjepaPredictorWeights> w = models::IjepaPredictorWeights::bind(f, c.value());
  if (!w) return w.status();
  JEPA_RETURN_IF_ERROR(run::read_input<float>(*job.args, "context", nullptr, {in.B(), in.nx(), c->embed_dim}, &in.ctx));
  models::IjepaPredictorInput p;
  p.context = in.ctx.data.data();
  p.masks_x = in.mx.data.data();
  p.masks = in.my.data.data();
  p.batch = in.B();
  p.n_ctx = in.nx();
  p.n_tgt = in.ny();
  job.y_shape = {in.B(), in.ny(), c->embed_dim};
  job.y.resize((size_t)cli::numel(job.y_shape));
  run::ArenaBuffer buf(models::ijepa_predictor_arena_bytes(c.value(), p));
  jepa::Arena arena = buf.arena();
  return models::ijepa_predictor_forward(w.value(), c.value(), job.par, arena, p, job.y.data());
}

int cmd_predict(int argc, char** argv) {
  const char* cmd = "predict";
  cli::Args a;
  std::string model_path;
  if (int rc = parse(cmd, argc, argv, kPredictOptions, predict_help, &a, &model_path)) return rc < 0 ? 0 : rc;
  Result<int> threads = run::parse_threads(a);
  if (!threads) return run::usage_error(cmd, threads.status().message());
  Result<jepa::kernels::AttnMath> attention = run::parse_attention(a);
  if (!attention) return run::usage_error(cmd, attention.status().message());
  int64_t batch = 1;
  if (a.has("batch")) {
    Result<int64_t> b = cli::parse_int(a.get("batch"), "--batch");
    if (!b || b.value() < 1) return run::usage_error(cmd, "--batch must be a positive integer");
    batch = b.value();
  }
  Result<run::Model> m = run::load_model(model_path);
  if (!m) return run::report(cmd, m.status());
  MaskedInputs in;
  Status st = run::read_input<int64_t>(a, "masks-x", "masks-x-shape", {batch, -1}, &in.mx);
  if (st.is_ok())
    st = run::read_input<int64_t>(a, "masks-y", "masks-y-shape", {in.mx.shape.empty() ? batch : in.mx.shape[0], -1},
                                  &in.my);
  if (!st.is_ok()) return run::report(cmd, st);
  if (in.mx.shape.size() != 2 || in.my.shape.size() != 2 || in.mx.shape[0] != in.my.shape[0])
    return run::usage_error(cmd, "--masks-x and --masks-y must be [B,Nx] and [B,Ny] with the same B");
  run::Threads pool(threads.value());
  Job job;
  job.args = &a;
  job.model = &m.value();
  job.par = pool.par();
  job.attention = attention.value();
  if (m->kind == models::ModelKind::vjepa2_predictor)
    st = predict_vjepa2(job, in);
  else if (m->kind == models::ModelKind::ijepa_predictor)
    st = predict_ijepa(job, in);
  else
    st = Status::error(jepa::Error::unsupported, "%s is a %s, not a masked predictor", model_path.c_str(),
                       m->mf().kind());
  return finish(cmd, st, job);
}

// ---- ac-predict -----------------------------------------------------------------

const std::vector<cli::OptionSpec> kAcOptions = {
    {"latents", true, "Z.bin", "f32 latents [B,T*HW,D_enc] (layer-normed encoder output, see encode --per-frame)"},
    {"actions", true, "A.bin", "f32 actions [B,T,A] (A = 7: dxyz, delta euler, dgripper)"},
    {"states", true, "S.bin", "f32 states [B,T,A] (xyz, euler xyz, gripper)"},
    {"extrinsics", true, "E.bin", "f32 camera extrinsics [B,T,A-1]: adds the extrinsics token (use_extrinsics)"},
    {"batch", true, "B", "batch size (default 1); T comes from the size of --actions"},
    {"latent-norm", false, nullptr, "apply the affine-free LayerNorm (eps 1e-5) to the output, as the planners do"},
    {"o", true, "Y.bin", "f32 predictions [B,T*HW,D_enc]; step t predicts frame t+1"},
};

void ac_help(FILE* out) {
  std::fprintf(out,
               "usage: jepa-run ac-predict MODEL.jepa --latents Z.bin --actions A.bin --states S.bin\n"
               "                           [--extrinsics E.bin] [--batch B] [--latent-norm] -o Y.bin\n"
               "V-JEPA 2-AC predictor, teacher forcing over T steps at once (kind vjepa2.ac_predictor;\n"
               "block-causal over steps). T = size(actions) / (B*A); the latents must be B x T*HW x D_enc.\n"
               "The output is the raw predictor output (official forward) unless --latent-norm.\n\n");
  cli::print_options(out, kAcOptions);
}

int cmd_ac_predict(int argc, char** argv) {
  const char* cmd = "ac-predict";
  cli::Args a;
  std::string model_path;
  if (int rc = parse(cmd, argc, argv, kAcOptions, ac_help, &a, &model_path)) return rc < 0 ? 0 : rc;
  Result<int> threads = run::parse_threads(a);
  if (!threads) return run::usage_error(cmd, threads.status().message());
  Result<jepa::kernels::AttnMath> attention = run::parse_attention(a);
  if (!attention) return run::usage_error(cmd, attention.status().message());
  int64_t B = 1;
  if (a.has("batch")) {
    Result<int64_t> b = cli::parse_int(a.get("batch"), "--batch");
    if (!b || b.value() < 1) return run::usage_error(cmd, "--batch must be a positive integer");
    B = b.value();
  }
  Result<run::Model> m = run::load_model(model_path);
  if (!m) return run::report(cmd, m.status());
  if (m->kind != models::ModelKind::vjepa2_ac_predictor)
    return run::report(cmd, Status::error(jepa::Error::unsupported, "%s is a %s, not a vjepa2.ac_predictor",
                                          model_path.c_str(), m->mf().kind()));
  Result<models::AcPredictorConfig> cr = models::AcPredictorConfig::from_file(m->mf());
  if (!cr) return run::report(cmd, cr.status());
  models::AcPredictorConfig c = cr.value();
  c.attention = attention.value();
  // The extrinsics encoder is in every file: --extrinsics switches its token on.
  if (a.has("extrinsics")) c.use_extrinsics = true;
  if (c.use_extrinsics && !a.has("extrinsics"))
    return run::usage_error(cmd, "this model was converted with use_extrinsics: --extrinsics is required");
  Result<models::AcPredictorWeights> w = models::AcPredictorWeights::bind(m->mf(), c);
  if (!w) return run::report(cmd, w.status());
  const int64_t A = c.action_dim, hw = c.patches_per_step(), D = c.embed_dim;
  run::Input<float> act, sta, ext, lat;
  Status st = run::read_input<float>(a, "actions", nullptr, {B, -1, A}, &act);
  const int64_t T = act.shape.empty() ? 0 : act.shape[1];
  if (st.is_ok()) st = run::read_input<float>(a, "states", nullptr, {B, T, A}, &sta);
  if (st.is_ok() && c.use_extrinsics) st = run::read_input<float>(a, "extrinsics", nullptr, {B, T, A - 1}, &ext);
  if (st.is_ok()) st = run::read_input<float>(a, "latents", nullptr, {B, T * hw, D}, &lat);
  if (!st.is_ok()) return run::report(cmd, st);
  run::Threads pool(threads.value());
  std::vector<int64_t> y_shape = {B, T * hw, D};
  std::vector<float> y((size_t)cli::numel(y_shape));
  run::ArenaBuffer buf(models::ac_predictor_arena_bytes(c, B, T));
  jepa::Arena arena = buf.arena();
  st = models::ac_predictor_forward(w.value(), c, pool.par(), arena, B, T, lat.data.data(), act.data.data(),
                                    sta.data.data(), c.use_extrinsics ? ext.data.data() : nullptr, y.data());
  if (!st.is_ok()) return run::report(cmd, st);
  if (a.has("latent-norm")) jepa::ops::layernorm(y.data(), y.data(), B * T * hw, D, nullptr, nullptr, 1e-5f);
  st = run::write_output(a.get("o"), y, y_shape, a.has("quiet"), cmd);
  return st.is_ok() ? 0 : run::report(cmd, st);
}

// ---- the table ------------------------------------------------------------------

const run::Subcommand kSubcommands[] = {
    {"encode", "encoder forward (V-JEPA 2 video / I-JEPA image), optionally masked or per frame", cmd_encode,
     encode_help},
    {"predict", "masked-latent predictor (V-JEPA 2, I-JEPA)", cmd_predict, predict_help},
    {"ac-predict", "V-JEPA 2-AC action-conditioned predictor, teacher forcing", cmd_ac_predict, ac_help},
    JEPA_RUN_PLAN_SUBCOMMANDS
};

void usage(FILE* out) {
  std::fprintf(out,
               "usage: jepa-run SUBCOMMAND MODEL.jepa [options]   (jepa-run SUBCOMMAND --help for details)\n"
               "Runs a .jepa model (from jepa-convert) on raw little-endian arrays: f32 tensors and i64\n"
               "token indices, C order, in the official PyTorch layouts. A file whose size does not match\n"
               "its shape is an error.\n\nsubcommands:\n");
  for (const run::Subcommand& s : kSubcommands) std::fprintf(out, "  %-12s %s\n", s.name, s.summary);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h") || !std::strcmp(argv[1], "help")) {
    usage(argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  for (const run::Subcommand& s : kSubcommands)
    if (!std::strcmp(argv[1], s.name)) return s.run(argc - 1, argv + 1);
  std::fprintf(stderr, "jepa-run: unknown subcommand '%s'\n", argv[1]);
  usage(stderr);
  return 2;
}
