// tools/run_plan.hpp: jepa-run's `rollout` and `plan` subcommands (the
// planning helper's part of jepa-run; tools/jepa-run.cpp includes this file
// and adds JEPA_RUN_PLAN_SUBCOMMANDS to its table).
//
//   jepa-run rollout MODEL --latents Z.bin --poses P.bin --actions A.bin [--context T]
//            [--context-actions CA.bin] [--batch B] -o Y.bin [--poses-out P2.bin]
//   jepa-run plan MODEL --latents Z.bin --pose P.bin --goal G.bin [--frame K] [--goal-frame K]
//            [CEM/MPPI options] [--noise N.bin | --seed S] [--memory-in M] [--memory-out M] -o A.bin
//
// Both drive include/jepa/plan/ (KV-cached rollouts, the persistent memory,
// CEM/MPPI with the batched, shared-prefix world-model evaluator). Arrays are
// raw little-endian f32 in the official layouts, as for the other subcommands.
#ifndef JEPA_TOOLS_RUN_PLAN_HPP
#define JEPA_TOOLS_RUN_PLAN_HPP

#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "common/cli.hpp"
#include "common/run_common.hpp"
#include "jepa/plan/planner.hpp"

namespace jepa {
namespace run_plan {

namespace cli = jepa::cli;
namespace run = jepa::run;

inline Result<double> parse_double(const std::string& text, const char* what) {
  errno = 0;
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0' || errno != 0 || !std::isfinite(v))
    return Status::error(Error::invalid_argument, "%s: '%s' is not a number", what, text.c_str());
  return v;
}

// Options shared by the two subcommands' parsers.
inline int parse_args(const char* cmd, int argc, char** argv, std::vector<cli::OptionSpec> specs,
                      void (*help)(FILE*), cli::Args* out, std::string* model) {
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

// The model file, its config (with --attention) and bound weights, checked to be an AC predictor.
struct LoadedAc {
  run::Model file;
  models::AcPredictorConfig cfg;
  std::unique_ptr<models::AcPredictorWeights> weights;
  plan::AcModel model() const { return plan::AcModel{weights.get(), &cfg}; }
};

inline Status load_ac(const std::string& path, const cli::Args& a, LoadedAc* out) {
  Result<kernels::AttnMath> attention = run::parse_attention(a);
  if (!attention) return attention.status();
  Result<run::Model> m = run::load_model(path);
  if (!m) return m.status();
  if (m->kind != models::ModelKind::vjepa2_ac_predictor)
    return Status::error(Error::unsupported, "%s is a %s, not a vjepa2.ac_predictor", path.c_str(), m->mf().kind());
  out->file = std::move(m.value());
  Result<models::AcPredictorConfig> c = models::AcPredictorConfig::from_file(out->file.mf());
  if (!c) return c.status();
  out->cfg = c.value();
  out->cfg.attention = attention.value();
  Result<models::AcPredictorWeights> w = models::AcPredictorWeights::bind(out->file.mf(), out->cfg);
  if (!w) return w.status();
  out->weights.reset(new models::AcPredictorWeights(w.value()));
  return plan::AcModel{out->weights.get(), &out->cfg}.check();
}

inline Result<int64_t> int_opt(const cli::Args& a, const char* name, int64_t fallback, int64_t lo, int64_t hi) {
  if (!a.has(name)) return fallback;
  const std::string what = std::string("--") + name;
  Result<int64_t> v = cli::parse_int(a.get(name), what.c_str());
  if (!v) return v.status();
  if (v.value() < lo || v.value() > hi)
    return Status::error(Error::invalid_argument, "--%s %lld is outside [%lld, %lld]", name, (long long)v.value(),
                         (long long)lo, (long long)hi);
  return v.value();
}

inline Status double_opt(const cli::Args& a, const char* name, double* v) {
  if (!a.has(name)) return Status::ok();
  const std::string what = std::string("--") + name;
  Result<double> r = parse_double(a.get(name), what.c_str());
  if (!r) return r.status();
  *v = r.value();
  return Status::ok();
}

// A latents file [seqs][Tf*HW][D] with seqs = batch, or 1 with `broadcast`
// (one sequence for every batch element): `frames` frames from frame `first`.
inline Status latent_frames(const cli::Args& a, const char* opt, const models::AcPredictorConfig& c, int64_t batch,
                            int64_t first, int64_t frames, bool broadcast, std::vector<float>* out) {
  const int64_t hw = c.patches_per_step(), D = c.embed_dim, frame = hw * D;
  run::Input<float> in;
  JEPA_RETURN_IF_ERROR(run::read_input<float>(a, opt, nullptr, {-1, frame}, &in));
  const int64_t total_frames = in.shape[0];
  const int64_t seqs = broadcast ? 1 : batch;
  const int64_t per_seq = total_frames / seqs;
  if (per_seq < first + frames || total_frames % seqs != 0)
    return Status::error(Error::shape_mismatch,
                         "--%s holds %lld frames of [%lld x %lld]: need %lld sequence(s) of >= %lld frames",
                         opt, (long long)total_frames, (long long)hw, (long long)D, (long long)seqs,
                         (long long)(first + frames));
  out->resize((size_t)(batch * frames * frame));
  for (int64_t b = 0; b < batch; ++b)
    std::memcpy(out->data() + b * frames * frame, in.data.data() + ((b % seqs) * per_seq + first) * frame,
                (size_t)(frames * frame) * sizeof(float));
  return Status::ok();
}

// --kv-cache: the KV cache's storage dtype.
inline Status kv_cache_opt(const cli::Args& a, ops::KvDtype* d) {
  const std::string v = a.get("kv-cache", "f32");
  if (!ops::kv_dtype_from_name(v.c_str(), d))
    return Status::error(Error::invalid_argument, "--kv-cache must be f32, f16 or q8, not '%s'", v.c_str());
  return Status::ok();
}

// ---- rollout ---------------------------------------------------------------------

inline const std::vector<cli::OptionSpec>& rollout_options() {
  static const std::vector<cli::OptionSpec> o = {
      {"latents", true, "Z.bin", "f32 layer-normed latents [B, >=T frames * HW, D_enc]; frames 0..T-1 are the context"},
      {"poses", true, "P.bin", "f32 poses of the context frames [B or 1, T, 7] (xyz, euler xyz, gripper)"},
      {"actions", true, "A.bin", "f32 actions to roll out [B, N, 7]"},
      {"context", true, "T", "context frames (default 1)"},
      {"context-actions", true, "CA.bin", "f32 actions between the context frames [B or 1, T-1, 7] (T > 1)"},
      {"batch", true, "B", "sequences (default 1)"},
      {"broadcast", false, nullptr, "--latents holds one sequence for all B (poses/context actions: 1 or B always work)"},
      {"poses-out", true, "P2.bin", "f32 predicted poses [B, N, 7] (compute_new_pose)"},
      {"kv-cache", true, "f32|f16|q8", "how the KV cache stores K/V during the rollout (default f32)"},
      {"o", true, "Y.bin", "f32 predicted latents [B, N*HW, D_enc], layer-normed (step t predicts frame T+t)"},
  };
  return o;
}

inline void rollout_help(FILE* out) {
  std::fprintf(out,
               "usage: jepa-run rollout MODEL.jepa --latents Z.bin --poses P.bin --actions A.bin [--context T]\n"
               "                        [--context-actions CA.bin] [--batch B] [--poses-out P2.bin] -o Y.bin\n"
               "V-JEPA 2-AC autoregressive rollout through the KV cache (each step runs only its own tokens\n"
               "against cached K/V: equal to the official step_predictor's full re-run). Predicted frames are\n"
               "layer-normed (eps 1e-5) and fed back; poses advance with the official compute_new_pose.\n\n");
  cli::print_options(out, rollout_options());
}

inline int cmd_rollout(int argc, char** argv) {
  const char* cmd = "rollout";
  cli::Args a;
  std::string path;
  if (int rc = parse_args(cmd, argc, argv, rollout_options(), rollout_help, &a, &path)) return rc < 0 ? 0 : rc;
  Result<int> threads = run::parse_threads(a);
  Result<int64_t> B = int_opt(a, "batch", 1, 1, 1 << 16), T = int_opt(a, "context", 1, 1, 1 << 16);
  if (!threads || !B || !T)
    return run::usage_error(cmd, (!threads ? threads.status() : !B ? B.status() : T.status()).message());
  ops::KvDtype kv_dtype = ops::KvDtype::f32;
  if (Status kst = kv_cache_opt(a, &kv_dtype); !kst.is_ok()) return run::usage_error(cmd, kst.message());
  LoadedAc m;
  Status st = load_ac(path, a, &m);
  if (!st.is_ok()) return run::report(cmd, st);
  const int64_t hw = m.cfg.patches_per_step(), D = m.cfg.embed_dim;
  run::Input<float> actions, poses_in, ctx_actions;
  st = run::read_input<float>(a, "actions", nullptr, {B.value(), -1, plan::kActionDim}, &actions);
  const int64_t N = st.is_ok() ? actions.shape[1] : 0;
  std::vector<float> lat;
  if (st.is_ok()) st = latent_frames(a, "latents", m.cfg, B.value(), 0, T.value(), a.has("broadcast"), &lat);
  if (st.is_ok()) st = run::read_input<float>(a, "poses", nullptr, {-1, T.value(), plan::kPoseDim}, &poses_in);
  if (st.is_ok() && poses_in.shape[0] != 1 && poses_in.shape[0] != B.value())
    st = Status::error(Error::shape_mismatch, "--poses holds %lld sequences, expected 1 or %lld",
                       (long long)poses_in.shape[0], (long long)B.value());
  if (st.is_ok() && T.value() > 1) {
    st = run::read_input<float>(a, "context-actions", nullptr, {-1, T.value() - 1, plan::kActionDim}, &ctx_actions);
    if (st.is_ok() && ctx_actions.shape[0] != 1 && ctx_actions.shape[0] != B.value())
      st = Status::error(Error::shape_mismatch, "--context-actions holds %lld sequences, expected 1 or %lld",
                         (long long)ctx_actions.shape[0], (long long)B.value());
  }
  if (!st.is_ok()) return run::report(cmd, st);
  // Broadcast poses / context actions to B sequences, poses in double.
  std::vector<double> poses((size_t)(B.value() * T.value() * plan::kPoseDim));
  std::vector<float> cacts((size_t)(B.value() * (T.value() - 1) * plan::kActionDim));
  for (int64_t b = 0; b < B.value(); ++b) {
    const int64_t pb = poses_in.shape[0] == 1 ? 0 : b;
    for (int64_t i = 0; i < T.value() * plan::kPoseDim; ++i)
      poses[(size_t)(b * T.value() * plan::kPoseDim + i)] = poses_in.data[(size_t)(pb * T.value() * plan::kPoseDim + i)];
    if (T.value() > 1) {
      const int64_t ab = ctx_actions.shape[0] == 1 ? 0 : b, n = (T.value() - 1) * plan::kActionDim;
      std::memcpy(cacts.data() + b * n, ctx_actions.data.data() + ab * n, (size_t)n * sizeof(float));
    }
  }
  plan::AcRolloutOptions o;
  o.batch = B.value();
  o.max_steps = T.value() - 1 + N;
  o.max_prefill_steps = T.value() > 1 ? T.value() - 1 : 1;
  o.kv_dtype = kv_dtype;
  run::ArenaBuffer buf(plan::ac_rollout_arena_bytes(m.cfg, o));
  if (!buf.ok()) return run::report(cmd, Status::error(Error::out_of_memory, "cannot allocate %zu bytes", buf.bytes()));
  Arena arena = buf.arena();
  run::Threads pool(threads.value());
  plan::AcRollout r;
  st = plan::ac_rollout_create(m.model(), o, arena, &r);
  if (st.is_ok()) st = plan::ac_rollout_prefill(r, pool.par(), arena, T.value(), lat.data(), poses.data(),
                                                T.value() > 1 ? cacts.data() : nullptr);
  const int64_t frame = hw * D;
  std::vector<float> y((size_t)(B.value() * N * frame)), pose_out((size_t)(B.value() * N * plan::kPoseDim));
  std::vector<float> act((size_t)(B.value() * plan::kActionDim)), next((size_t)(B.value() * frame));
  std::vector<double> next_pose((size_t)(B.value() * plan::kPoseDim));
  for (int64_t t = 0; t < N && st.is_ok(); ++t) {
    for (int64_t b = 0; b < B.value(); ++b)
      std::memcpy(act.data() + b * plan::kActionDim, actions.data.data() + (b * N + t) * plan::kActionDim,
                  plan::kActionDim * sizeof(float));
    st = plan::ac_rollout_step(r, pool.par(), arena, act.data(), next.data(), next_pose.data());
    for (int64_t b = 0; b < B.value() && st.is_ok(); ++b) {
      std::memcpy(y.data() + (b * N + t) * frame, next.data() + b * frame, (size_t)frame * sizeof(float));
      for (int i = 0; i < plan::kPoseDim; ++i)
        pose_out[(size_t)((b * N + t) * plan::kPoseDim + i)] = (float)next_pose[(size_t)(b * plan::kPoseDim + i)];
    }
  }
  if (!st.is_ok()) return run::report(cmd, st);
  if (a.has("poses-out")) {
    st = run::write_output(a.get("poses-out"), pose_out, {B.value(), N, plan::kPoseDim}, a.has("quiet"), cmd);
    if (!st.is_ok()) return run::report(cmd, st);
  }
  st = run::write_output(a.get("o"), y, {B.value(), N * hw, D}, a.has("quiet"), cmd);
  return st.is_ok() ? 0 : run::report(cmd, st);
}

// ---- plan ----------------------------------------------------------------------

inline const std::vector<cli::OptionSpec>& plan_options() {
  static const std::vector<cli::OptionSpec> o = {
      {"latents", true, "Z.bin", "f32 layer-normed latents of the current frame [>=1 frames * HW, D_enc] (see --frame)"},
      {"frame", true, "K", "which frame of --latents is the current one (default 0)"},
      {"pose", true, "P.bin", "f32 current pose [7]"},
      {"goal", true, "G.bin", "f32 goal latents [>=1 frames * HW, D_enc] (see --goal-frame)"},
      {"goal-frame", true, "K", "which frame of --goal is the goal (default 0)"},
      {"memory-in", true, "M.mem", "start from a saved memory (its history is the shared prefix)"},
      {"memory-out", true, "M.mem", "commit the planned first action and save the memory (atomic, CRC32C)"},
      {"memory-window", true, "W", "committed steps a new memory keeps (default 8)"},
      {"kv-cache", true, "f32|f16|q8", "how the memory and the candidates hold K/V while planning (default f32)"},
      {"kv-storage", true, "f32|f16|q8|q8_heads|none",
       "K/V storage in --memory-out (default: the --kv-cache dtype's own, bit-exact)"},
      {"mppi", false, nullptr, "MPPI instead of CEM"},
      {"samples", true, "S", "candidates per iteration (default 400, WorldModel)"},
      {"horizon", true, "H", "planned steps (official `rollout`, default 2)"},
      {"topk", true, "K", "CEM elites (default 10)"},
      {"iterations", true, "I", "iterations (official `cem_steps`, default 10)"},
      {"momentum-mean", true, "M", "CEM xyz mean momentum (default 0.15)"},
      {"momentum-std", true, "M", "CEM xyz std momentum (default 0.15)"},
      {"momentum-mean-gripper", true, "M", "CEM gripper mean momentum (default 0.15)"},
      {"momentum-std-gripper", true, "M", "CEM gripper std momentum (default 0.15)"},
      {"maxnorm", true, "X", "xyz clip and initial std (default 0.05)"},
      {"temperature", true, "T", "MPPI temperature (default 0.01)"},
      {"energy", true, "mean_abs|mean_squared|l2", "energy (default mean_abs: the official L1 mean)"},
      {"chunk", true, "C", "candidates per predictor batch (default: all)"},
      {"rerun", false, nullptr, "evaluate the official way (re-run the history per step; slower, same result)"},
      {"noise", true, "N.bin", "replay recorded N(0,1) draws (e.g. the golden cem.noise) instead of --seed"},
      {"seed", true, "S", "seed of the built-in counter-based Gaussian (default 0)"},
      {"energies-out", true, "E.bin", "f32 energies of every evaluated candidate [iterations, samples]"},
      {"o", true, "A.bin", "f32 planned actions [H, 7] (as WorldModel.infer_next_action)"},
  };
  return o;
}

inline void plan_help(FILE* out) {
  std::fprintf(out,
               "usage: jepa-run plan MODEL.jepa --latents Z.bin --pose P.bin --goal G.bin [options] -o A.bin\n"
               "Plans actions with the V-JEPA 2-AC world model: the official CEM (notebooks/utils/mpc_utils.py:\n"
               "mean-abs energy to the goal, top-k, momentum, unbiased std, gripper rounding) or MPPI. Every\n"
               "iteration's candidates go through the predictor as one batch; the memory's history K/V are\n"
               "computed once and shared by all candidates. With --memory-in/--memory-out it is one MPC step:\n"
               "load, observe the current frame, plan, commit the first planned action, save.\n\n");
  cli::print_options(out, plan_options());
}

// Records the energies of every evaluation while forwarding to the planner.
struct RecordingEvaluator {
  plan::AcPlanner* planner;
  std::vector<float>* energies;
  Status operator()(const float* a, int s, int h, double* out) {
    JEPA_RETURN_IF_ERROR(plan::ac_planner_evaluate(*planner, a, s, h, out));
    for (int i = 0; i < s; ++i) energies->push_back((float)out[i]);
    return Status::ok();
  }
};

inline Status plan_configs(const cli::Args& a, plan::CemConfig* cem, plan::MppiConfig* mppi) {
  plan::CemConfig c = plan::CemConfig::world_model_defaults();
  Result<int64_t> s = int_opt(a, "samples", c.samples, 1, 1 << 20), h = int_opt(a, "horizon", c.horizon, 1, 64);
  Result<int64_t> k = int_opt(a, "topk", c.topk, 2, 1 << 20), it = int_opt(a, "iterations", c.iterations, 0, 1 << 20);
  if (!s || !h || !k || !it) return (!s ? s : !h ? h : !k ? k : it).status();
  c.samples = (int)s.value();
  c.horizon = (int)h.value();
  c.topk = (int)k.value();
  c.iterations = (int)it.value();
  JEPA_RETURN_IF_ERROR(double_opt(a, "momentum-mean", &c.momentum_mean));
  JEPA_RETURN_IF_ERROR(double_opt(a, "momentum-std", &c.momentum_std));
  JEPA_RETURN_IF_ERROR(double_opt(a, "momentum-mean-gripper", &c.momentum_mean_gripper));
  JEPA_RETURN_IF_ERROR(double_opt(a, "momentum-std-gripper", &c.momentum_std_gripper));
  JEPA_RETURN_IF_ERROR(double_opt(a, "maxnorm", &c.space.maxnorm));
  plan::MppiConfig m;
  m.horizon = c.horizon;
  m.samples = c.samples;
  m.iterations = c.iterations;
  m.space = c.space;
  JEPA_RETURN_IF_ERROR(double_opt(a, "temperature", &m.temperature));
  *cem = c;
  *mppi = m;
  return a.has("mppi") ? m.validate() : c.validate();
}

inline int cmd_plan(int argc, char** argv) {
  const char* cmd = "plan";
  cli::Args a;
  std::string path;
  if (int rc = parse_args(cmd, argc, argv, plan_options(), plan_help, &a, &path)) return rc < 0 ? 0 : rc;
  Result<int> threads = run::parse_threads(a);
  if (!threads) return run::usage_error(cmd, threads.status().message());
  plan::CemConfig cem;
  plan::MppiConfig mppi;
  Status st = plan_configs(a, &cem, &mppi);
  if (!st.is_ok()) return run::usage_error(cmd, st.message());
  Result<int64_t> frame_k = int_opt(a, "frame", 0, 0, 1 << 20), goal_k = int_opt(a, "goal-frame", 0, 0, 1 << 20);
  Result<int64_t> window = int_opt(a, "memory-window", 8, 1, 4096), chunk = int_opt(a, "chunk", 0, 0, 1 << 20);
  Result<int64_t> seed = int_opt(a, "seed", 0, 0, INT64_MAX);
  if (!frame_k || !goal_k || !window || !chunk || !seed)
    return run::usage_error(cmd, "bad --frame / --goal-frame / --memory-window / --chunk / --seed value");
  ops::KvDtype kv_dtype = ops::KvDtype::f32;
  if (Status kst = kv_cache_opt(a, &kv_dtype); !kst.is_ok()) return run::usage_error(cmd, kst.message());
  plan::KvStorage kv = plan::kv_storage_of(kv_dtype);
  const std::string kvs = a.get("kv-storage", "");
  if (kvs == "f32") kv = plan::KvStorage::f32;
  else if (kvs == "f16") kv = plan::KvStorage::f16;
  else if (kvs == "q8") kv = plan::KvStorage::q8;
  else if (kvs == "q8_heads") kv = plan::KvStorage::q8_heads;
  else if (kvs == "none") kv = plan::KvStorage::none;
  else if (!kvs.empty()) return run::usage_error(cmd, "--kv-storage must be f32, f16, q8, q8_heads or none");
  plan::Energy energy;
  const std::string ek = a.get("energy", "mean_abs");
  if (ek == "mean_squared") energy.kind = plan::EnergyKind::mean_squared;
  else if (ek == "l2") energy.kind = plan::EnergyKind::l2;
  else if (ek != "mean_abs") return run::usage_error(cmd, "--energy must be mean_abs, mean_squared or l2");

  LoadedAc m;
  st = load_ac(path, a, &m);
  if (!st.is_ok()) return run::report(cmd, st);
  std::vector<float> current, goal;
  run::Input<float> pose_in, noise_in;
  st = latent_frames(a, "latents", m.cfg, 1, frame_k.value(), 1, true, &current);
  if (st.is_ok()) st = latent_frames(a, "goal", m.cfg, 1, goal_k.value(), 1, true, &goal);
  if (st.is_ok()) st = run::read_input<float>(a, "pose", nullptr, {plan::kPoseDim}, &pose_in);
  if (st.is_ok() && a.has("noise")) st = run::read_input<float>(a, "noise", nullptr, {-1}, &noise_in);
  if (!st.is_ok()) return run::report(cmd, st);
  double pose[plan::kPoseDim];
  for (int i = 0; i < plan::kPoseDim; ++i) pose[i] = pose_in.data[(size_t)i];
  energy.goal = goal.data();

  // Memory: loaded (its window must hold the file) or fresh; then observe the current frame.
  plan::AcMemoryOptions mo;
  mo.window = window.value();
  mo.keep = mo.window - 1;
  mo.max_prefill_steps = mo.window;
  mo.kv_dtype = kv_dtype;
  run::ArenaBuffer mem_buf(plan::ac_memory_arena_bytes(m.cfg, mo));
  run::ArenaBuffer mem_scratch(plan::ac_memory_arena_bytes(m.cfg, mo) + plan::ac_memory_save_scratch_bytes(m.cfg, mo, kv));
  Arena mem_arena = mem_buf.arena(), scratch = mem_scratch.arena();
  run::Threads pool(threads.value());
  plan::AcMemory mem;
  st = plan::ac_memory_create(m.model(), mo, mem_arena, &mem);
  if (st.is_ok() && a.has("memory-in")) st = plan::ac_memory_load(mem, a.get("memory-in").c_str(), pool.par(), scratch);
  if (st.is_ok()) st = plan::ac_memory_observe(mem, current.data(), pose);
  if (!st.is_ok()) return run::report(cmd, st);

  plan::AcPlannerOptions po;
  po.samples = cem.samples;
  po.horizon = cem.horizon;
  po.chunk = chunk.value();
  po.max_prefix_steps = mo.window;
  po.rerun_history = a.has("rerun");
  po.kv_dtype = kv_dtype;
  po.energy = energy;
  run::ArenaBuffer plan_buf(plan::ac_planner_arena_bytes(m.cfg, po));
  if (!plan_buf.ok()) return run::report(cmd, Status::error(Error::out_of_memory, "cannot allocate the planner arena"));
  Arena plan_arena = plan_buf.arena();
  run::ArenaBuffer state_buf(plan::cem_state_bytes(a.has("mppi") ? mppi.as_cem_shape() : cem) + 4096);
  Arena state_arena = state_buf.arena();
  plan::AcPlanner planner;
  st = plan::ac_planner_create(m.model(), po, mem, pool.par(), plan_arena, &planner);
  if (!st.is_ok()) return run::report(cmd, st);
  std::vector<float> energies;
  RecordingEvaluator rec{&planner, &energies};
  plan::ReplayGaussian replay(noise_in.data.data(), noise_in.data.size());
  plan::CounterGaussian gauss((uint64_t)seed.value());
  const plan::GaussianSource noise = a.has("noise") ? replay.source() : gauss.source();
  std::vector<float> out((size_t)cem.horizon * plan::kActionDim);
  st = a.has("mppi") ? plan::mppi_plan(mppi, noise, plan::make_evaluator(rec), state_arena, out.data())
                     : plan::cem_plan(cem, noise, plan::make_evaluator(rec), state_arena, out.data());
  if (!st.is_ok()) return run::report(cmd, st);
  if (a.has("memory-out")) {
    st = plan::ac_memory_commit(mem, pool.par(), scratch, out.data());
    plan::MemorySaveOptions so;
    so.kv = kv;
    if (st.is_ok()) st = plan::ac_memory_save(mem, a.get("memory-out").c_str(), scratch, so);
    if (!st.is_ok()) return run::report(cmd, st);
  }
  if (a.has("energies-out")) {
    st = run::write_output(a.get("energies-out"), energies, {(int64_t)(energies.size() / (size_t)cem.samples),
                                                             (int64_t)cem.samples}, a.has("quiet"), cmd);
    if (!st.is_ok()) return run::report(cmd, st);
  }
  st = run::write_output(a.get("o"), out, {cem.horizon, plan::kActionDim}, a.has("quiet"), cmd);
  return st.is_ok() ? 0 : run::report(cmd, st);
}

}  // namespace run_plan
}  // namespace jepa

#define JEPA_RUN_PLAN_SUBCOMMANDS                                                                            \
  {"rollout", "V-JEPA 2-AC autoregressive rollout through the KV cache (poses via compute_new_pose)",      \
   jepa::run_plan::cmd_rollout, jepa::run_plan::rollout_help},                                             \
      {"plan", "CEM / MPPI planning with the V-JEPA 2-AC world model, optional persistent memory",        \
       jepa::run_plan::cmd_plan, jepa::run_plan::plan_help},

#endif  // JEPA_TOOLS_RUN_PLAN_HPP
