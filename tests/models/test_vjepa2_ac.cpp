// Golden tests of V-JEPA 2-AC against tests/data/vjepa2_ac_tiny: the
// per-frame encoding (latents), the action-conditioned predictor in teacher
// forcing (with and without extrinsics, every intermediate), the block-causal
// mask, and the KV cache: step-by-step == all at once == golden, a shared
// prefix cache == separate full runs, and rewinding.
#include <doctest/doctest.h>

#include <random>

#include "jepa/ops/attention.hpp"
#include "jepa/ops/layernorm.hpp"
#include "models/golden_models.hpp"

namespace {

using golden::Array;
using jepa::models::AcKvCache;
using jepa::models::AcPredictorConfig;
using jepa::models::AcPredictorWeights;
using jepa::models::Vjepa2EncoderConfig;
using jepa::models::Vjepa2EncoderWeights;

struct AcTiny {
  golden::Dir dir;
  golden::Safetensors st;
  golden::Loaded<Vjepa2EncoderConfig, Vjepa2EncoderWeights> enc;
  golden::Loaded<AcPredictorConfig, AcPredictorWeights> pred;

  AcTiny() {
    const std::string d = golden::data_dir("vjepa2_ac_tiny");
    REQUIRE_MESSAGE(dir.open(d), dir.error);
    REQUIRE_MESSAGE(st.open(d + "/weights.safetensors"), st.error);
    const golden::Json& comps = dir.config["components"];
    REQUIRE_MESSAGE(enc.load(st, "encoder.", golden::vjepa2_encoder_config(comps["encoder"])), enc.error);
    REQUIRE_MESSAGE(pred.load(st, "predictor.", golden::ac_predictor_config(comps["predictor"])), pred.error);
  }
  Array get(const char* name) {
    Array a;
    REQUIRE_MESSAGE(dir.load(name, &a), dir.error);
    return a;
  }
};

// Teacher forcing over `steps` steps of `batch` sequences.
std::vector<float> run_tf(const AcTiny& m, const AcPredictorConfig& cfg, int64_t batch, int64_t steps,
                          const float* lat, const float* act, const float* st, const float* ext,
                          golden::Captured* cap = nullptr) {
  golden::ArenaBuffer buf(jepa::models::ac_predictor_arena_bytes(cfg, batch, steps));
  std::vector<float> out((size_t)(batch * steps * cfg.patches_per_step() * cfg.embed_dim));
  jepa::Status s = jepa::models::ac_predictor_forward(*m.pred.w, cfg, jepa::ParallelFor(), buf.arena, batch, steps,
                                                      lat, act, st, ext, out.data(),
                                                      cap ? cap->observer() : jepa::models::ForwardObserver());
  REQUIRE_MESSAGE(s.is_ok(), s.message());
  CHECK(buf.arena.used() == 0);
  return out;
}

// Step-by-step / chunked / prefix-cache runs vs one all-at-once run: the same
// math, but the fused attention's 64-key blocks restart at each KV segment
// (prefix, cache, new steps), so the online softmax rounds differently: a few
// float ulps of outputs up to |4.4| (ulp 4.8e-7 there; measured <= 1.2e-6).
constexpr double kSplitTol = 4e-6;

double max_diff(const std::vector<float>& a, const std::vector<float>& b) {
  REQUIRE(a.size() == b.size());
  double m = 0;
  for (size_t i = 0; i < a.size(); ++i) m = std::max(m, (double)std::fabs(a[i] - b[i]));
  return m;
}

}  // namespace

TEST_CASE("vjepa2-ac golden: per-frame encoding and latent LayerNorm") {
  AcTiny m;
  const Array clip = m.get("ac_encode.clip");
  jepa::models::Vjepa2FramesInput in;
  in.clip = clip.f.data();
  in.batch = clip.shape[0];
  in.frames = clip.shape[2];
  in.height = clip.shape[3];
  in.width = clip.shape[4];
  for (int normalize = 0; normalize < 2; ++normalize) {
    in.normalize = normalize != 0;
    golden::ArenaBuffer buf(jepa::models::vjepa2_encode_frames_arena_bytes(m.enc.cfg, in));
    std::vector<float> out((size_t)(in.batch * in.frames * 16 * m.enc.cfg.embed_dim));
    jepa::Status s = jepa::models::vjepa2_encode_frames(*m.enc.w, m.enc.cfg, jepa::ParallelFor(), buf.arena, in,
                                                        out.data());
    REQUIRE_MESSAGE(s.is_ok(), s.message());
    const Array ref = m.get(normalize ? "ac_encode.latents" : "ac_encode.encoder_output");
    REQUIRE(out.size() == ref.f.size());
    CHECK(golden::compare(out.data(), ref).ok);
  }
}

TEST_CASE("vjepa2-ac golden: block-causal mask") {
  const Array ref = [] {
    golden::Dir d;
    REQUIRE(d.open(golden::data_dir("vjepa2_ac_tiny")));
    Array a;
    REQUIRE(d.load("mask_unit.mask", &a));
    return a;
  }();
  REQUIRE(ref.shape == std::vector<int64_t>({18, 18}));  // T=3, H=W=2, 2 conditioning tokens
  std::vector<uint8_t> mask(18 * 18);
  jepa::ops::build_block_causal_mask(3, 2 + 2 * 2, mask.data());
  CHECK(mask == ref.u8);
}

TEST_CASE("vjepa2-ac golden: teacher forcing (intermediates, raw and normed output)") {
  AcTiny m;
  const Array lat = m.get("ac_encode.latents"), act = m.get("ac_teacher_forcing.actions");
  const Array st = m.get("ac_teacher_forcing.states");
  const int64_t T = act.shape[1];
  REQUIRE(T == 3);
  // latents[:, :3 frames] and states[:, :3] are prefixes of the stored arrays (batch 1).
  golden::Captured cap;
  std::vector<float> out = run_tf(m, m.pred.cfg, 1, T, lat.f.data(), act.f.data(), st.f.data(), nullptr, &cap);
  CHECK(golden::compare(cap.tensors["predictor_embed"].data(), m.get("ac_teacher_forcing.predictor_embed")).ok);
  const Array b0 = m.get("ac_teacher_forcing.block0"), b1 = m.get("ac_teacher_forcing.block1");
  REQUIRE(cap.tensors["block.0"].size() == b0.f.size());
  CHECK(golden::compare(cap.tensors["block.0"].data(), b0).ok);
  CHECK(golden::compare(cap.tensors["block.1"].data(), b1).ok);
  const Array ref = m.get("ac_teacher_forcing.output");
  REQUIRE(out.size() == ref.f.size());
  CHECK(golden::compare(out.data(), ref).ok);
  jepa::ops::layernorm(out.data(), out.data(), (int64_t)out.size() / 64, 64, nullptr, nullptr, 1e-5f);
  CHECK(golden::compare(out.data(), m.get("ac_teacher_forcing.output_normed")).ok);
}

TEST_CASE("vjepa2-ac golden: teacher forcing with extrinsics") {
  AcTiny m;
  const Array lat = m.get("ac_encode.latents"), act = m.get("ac_teacher_forcing.actions");
  const Array st = m.get("ac_teacher_forcing.states"), ext = m.get("ac_teacher_forcing_ext.extrinsics");
  const golden::Json& comp = m.dir.config["components"]["predictor_ext"];
  AcPredictorConfig cfg = golden::ac_predictor_config(comp);
  REQUIRE(cfg.use_extrinsics);
  std::vector<float> out = run_tf(m, cfg, 1, 3, lat.f.data(), act.f.data(), st.f.data(), ext.f.data());
  CHECK(golden::compare(out.data(), m.get("ac_teacher_forcing_ext.output")).ok);
}

TEST_CASE("vjepa2-ac: step by step through the KV cache == all at once == golden") {
  AcTiny m;
  const Array lat = m.get("ac_encode.latents"), act = m.get("ac_teacher_forcing.actions");
  const Array st = m.get("ac_teacher_forcing.states");
  const AcPredictorConfig& cfg = m.pred.cfg;
  const int64_t T = 3, hw = cfg.patches_per_step(), D = cfg.embed_dim, A = cfg.action_dim;
  const std::vector<float> all = run_tf(m, cfg, 1, T, lat.f.data(), act.f.data(), st.f.data(), nullptr);

  golden::ArenaBuffer cache_buf(jepa::models::ac_kv_cache_bytes(cfg, 1, T));
  AcKvCache cache;
  REQUIRE(jepa::models::ac_kv_cache_init(&cache, cfg, cache_buf.arena, 1, T).is_ok());
  golden::ArenaBuffer scratch(jepa::models::ac_predictor_steps_arena_bytes(cfg, 1, 1, T));
  std::vector<float> steps((size_t)(T * hw * D));
  for (int64_t t = 0; t < T; ++t) {
    jepa::Status s = jepa::models::ac_predictor_forward_steps(
        *m.pred.w, cfg, jepa::ParallelFor(), scratch.arena, cache, t, 1, lat.f.data() + t * hw * D,
        act.f.data() + t * A, st.f.data() + t * A, nullptr, steps.data() + t * hw * D);
    REQUIRE_MESSAGE(s.is_ok(), s.message());
    CHECK(cache.steps_cached == t + 1);
  }
  MESSAGE("step-by-step vs all-at-once max abs diff " << max_diff(steps, all));
  CHECK(max_diff(steps, all) <= kSplitTol);
  CHECK(golden::compare(steps.data(), m.get("ac_teacher_forcing.output"), "output (step by step)").ok);

}

TEST_CASE("vjepa2-ac: cache rewinding and chunked steps") {
  AcTiny m;
  const Array lat = m.get("ac_encode.latents"), act = m.get("ac_teacher_forcing.actions");
  const Array st = m.get("ac_teacher_forcing.states");
  const AcPredictorConfig& cfg = m.pred.cfg;
  const int64_t T = 3, hw = cfg.patches_per_step(), D = cfg.embed_dim, A = cfg.action_dim;
  const std::vector<float> all = run_tf(m, cfg, 1, T, lat.f.data(), act.f.data(), st.f.data(), nullptr);
  golden::ArenaBuffer cache_buf(jepa::models::ac_kv_cache_bytes(cfg, 1, T));
  AcKvCache cache;
  REQUIRE(jepa::models::ac_kv_cache_init(&cache, cfg, cache_buf.arena, 1, T).is_ok());
  golden::ArenaBuffer scratch(jepa::models::ac_predictor_steps_arena_bytes(cfg, 1, 2, T));
  std::vector<float> out((size_t)(T * hw * D));
  jepa::ParallelFor serial;
  REQUIRE(jepa::models::ac_predictor_forward_steps(*m.pred.w, cfg, serial, scratch.arena, cache, 0, 2, lat.f.data(),
                                                   act.f.data(), st.f.data(), nullptr, out.data())
              .is_ok());
  REQUIRE(jepa::models::ac_predictor_forward_steps(*m.pred.w, cfg, serial, scratch.arena, cache, 2, 1,
                                                   lat.f.data() + 2 * hw * D, act.f.data() + 2 * A,
                                                   st.f.data() + 2 * A, nullptr, out.data() + 2 * hw * D)
              .is_ok());
  CHECK(max_diff(out, all) <= kSplitTol);
  // Re-run step 1..2 with a different action at step 1: only outputs from step 1 on change.
  std::vector<float> act2(act.f);
  act2[A + 0] += 0.5f;
  std::vector<float> out2(out);
  REQUIRE(jepa::models::ac_predictor_forward_steps(*m.pred.w, cfg, serial, scratch.arena, cache, 1, 2,
                                                   lat.f.data() + hw * D, act2.data() + A, st.f.data() + A, nullptr,
                                                   out2.data() + hw * D)
              .is_ok());
  CHECK(cache.steps_cached == 3);
  const std::vector<float> all2 = run_tf(m, cfg, 1, T, lat.f.data(), act2.data(), st.f.data(), nullptr);
  CHECK(max_diff(out2, all2) <= kSplitTol);
  CHECK(max_diff(out2, out) > 1e-3);
  // The last step without appending: same output, cache unchanged, needs no room for it.
  {
    golden::ArenaBuffer small_buf(jepa::models::ac_kv_cache_bytes(cfg, 1, 2));
    AcKvCache small;
    REQUIRE(jepa::models::ac_kv_cache_init(&small, cfg, small_buf.arena, 1, 2).is_ok());
    std::vector<float> o3(out.size());
    REQUIRE(jepa::models::ac_predictor_forward_steps(*m.pred.w, cfg, serial, scratch.arena, small, 0, 2,
                                                     lat.f.data(), act.f.data(), st.f.data(), nullptr, o3.data())
                .is_ok());
    jepa::models::AcStepOptions no_append;
    no_append.append_to_cache = false;
    jepa::Status s = jepa::models::ac_predictor_forward_steps(
        *m.pred.w, cfg, serial, scratch.arena, small, 2, 1, lat.f.data() + 2 * hw * D, act.f.data() + 2 * A,
        st.f.data() + 2 * A, nullptr, o3.data() + 2 * hw * D, no_append);
    REQUIRE_MESSAGE(s.is_ok(), s.message());
    CHECK(small.steps_cached == 2);
    CHECK(max_diff(o3, all) <= kSplitTol);
    jepa::Status full = jepa::models::ac_predictor_forward_steps(*m.pred.w, cfg, serial, scratch.arena, small, 2, 1,
                                                                 lat.f.data(), act.f.data(), st.f.data(), nullptr,
                                                                 o3.data());
    CHECK(full.code() == jepa::Error::out_of_memory);  // appending needs a third step of room
  }
  // Errors: a gap in the steps, more steps than the cache holds.
  jepa::Status gap = jepa::models::ac_predictor_forward_steps(*m.pred.w, cfg, serial, scratch.arena, cache, 4, 1,
                                                              lat.f.data(), act.f.data(), st.f.data(), nullptr,
                                                              out.data());
  CHECK(gap.code() == jepa::Error::invalid_argument);
  cache.rewind();
  jepa::Status skip = jepa::models::ac_predictor_forward_steps(*m.pred.w, cfg, serial, scratch.arena, cache, 1, 1,
                                                               lat.f.data(), act.f.data(), st.f.data(), nullptr,
                                                               out.data());
  CHECK(skip.code() == jepa::Error::invalid_argument);
}

TEST_CASE("vjepa2-ac: a shared prefix cache serves a batch of sequences") {
  AcTiny m;
  const Array lat = m.get("ac_encode.latents"), act = m.get("ac_teacher_forcing.actions");
  const Array st = m.get("ac_teacher_forcing.states");
  const AcPredictorConfig& cfg = m.pred.cfg;
  const int64_t hw = cfg.patches_per_step(), D = cfg.embed_dim, A = cfg.action_dim, P = 1, B = 3, own = 2;
  jepa::ParallelFor serial;
  // Prefix: step 0 (the context frame), batch 1.
  golden::ArenaBuffer mem(jepa::models::ac_kv_cache_bytes(cfg, 1, P) + jepa::models::ac_kv_cache_bytes(cfg, B, own));
  AcKvCache prefix, cand;
  REQUIRE(jepa::models::ac_kv_cache_init(&prefix, cfg, mem.arena, 1, P).is_ok());
  golden::ArenaBuffer scratch(jepa::models::ac_predictor_steps_arena_bytes(cfg, B, own, P + own));
  std::vector<float> out0((size_t)(hw * D));
  REQUIRE(jepa::models::ac_predictor_forward_steps(*m.pred.w, cfg, serial, scratch.arena, prefix, 0, P, lat.f.data(),
                                                   act.f.data(), st.f.data(), nullptr, out0.data())
              .is_ok());
  REQUIRE(jepa::models::ac_kv_cache_init(&cand, cfg, mem.arena, B, own, &prefix).is_ok());
  CHECK(cand.first_step == 1);
  // B candidate sequences for steps 1..2: the golden latents, per-sequence actions/states.
  std::mt19937 rng(7);
  std::normal_distribution<float> noise(0.0f, 0.3f);
  std::vector<float> c_lat, c_act, c_st;
  for (int64_t b = 0; b < B; ++b) {
    c_lat.insert(c_lat.end(), lat.f.begin() + P * hw * D, lat.f.begin() + (P + own) * hw * D);
    for (int64_t i = 0; i < own * A; ++i) {
      c_act.push_back(act.f[(size_t)(P * A + i)] + (b ? noise(rng) : 0.0f));
      c_st.push_back(st.f[(size_t)(P * A + i)] + (b ? noise(rng) : 0.0f));
    }
  }
  std::vector<float> c_out((size_t)(B * own * hw * D));
  for (int iter = 0; iter < 2; ++iter) {  // a planner re-runs candidates against the same prefix
    cand.rewind();
    jepa::Status s = jepa::models::ac_predictor_forward_steps(*m.pred.w, cfg, serial, scratch.arena, cand, P, own,
                                                              c_lat.data(), c_act.data(), c_st.data(), nullptr,
                                                              c_out.data());
    REQUIRE_MESSAGE(s.is_ok(), s.message());
  }
  for (int64_t b = 0; b < B; ++b) {
    std::vector<float> f_act(act.f.begin(), act.f.begin() + P * A), f_st(st.f.begin(), st.f.begin() + P * A);
    f_act.insert(f_act.end(), c_act.begin() + b * own * A, c_act.begin() + (b + 1) * own * A);
    f_st.insert(f_st.end(), c_st.begin() + b * own * A, c_st.begin() + (b + 1) * own * A);
    const std::vector<float> full = run_tf(m, cfg, 1, P + own, lat.f.data(), f_act.data(), f_st.data(), nullptr);
    const std::vector<float> mine(c_out.begin() + b * own * hw * D, c_out.begin() + (b + 1) * own * hw * D);
    const std::vector<float> ref(full.begin() + P * hw * D, full.end());
    MESSAGE("sequence " << b << ": prefix-cache vs full run max abs diff " << max_diff(mine, ref));
    CHECK(max_diff(mine, ref) <= kSplitTol);
  }
  // Sequence 0 is the golden case: its outputs are the golden steps 1..2.
  const Array ref = m.get("ac_teacher_forcing.output");
  Array tail = ref;
  tail.f.assign(ref.f.begin() + P * hw * D, ref.f.end());
  tail.shape = {1, own * hw, D};
  CHECK(golden::compare(c_out.data(), tail, "output steps 1-2 (prefix cache)").ok);
  // Extending the prefix invalidates caches built on it.
  prefix.steps_cached = 0;
  CHECK(jepa::models::ac_predictor_forward_steps(*m.pred.w, cfg, serial, scratch.arena, cand, P, own, c_lat.data(),
                                                 c_act.data(), c_st.data(), nullptr, c_out.data())
            .code() == jepa::Error::invalid_argument);
}
