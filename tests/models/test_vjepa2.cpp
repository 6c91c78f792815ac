// Golden tests of the V-JEPA 2 encoder and masked predictor against
// tests/data/vjepa2_tiny (official code run in float64): every expected tensor
// and intermediate at the manifest's fp32 tolerance.
#include <doctest/doctest.h>

#include "jepa/ops/rope.hpp"
#include "jepa/runtime/thread_pool.hpp"
#include "models/golden_models.hpp"

namespace {

using golden::Array;
using jepa::models::Vjepa2EncoderConfig;
using jepa::models::Vjepa2EncoderWeights;
using jepa::models::Vjepa2PredictorConfig;
using jepa::models::Vjepa2PredictorWeights;

struct Vjepa2Tiny {
  golden::Dir dir;
  golden::Safetensors st;
  golden::Loaded<Vjepa2EncoderConfig, Vjepa2EncoderWeights> enc;
  golden::Loaded<Vjepa2PredictorConfig, Vjepa2PredictorWeights> pred;
  bool ok = false;

  Vjepa2Tiny() {
    const std::string d = golden::data_dir("vjepa2_tiny");
    REQUIRE_MESSAGE(dir.open(d), dir.error);
    REQUIRE_MESSAGE(st.open(d + "/weights.safetensors"), st.error);
    const golden::Json& comps = dir.config["components"];
    REQUIRE_MESSAGE(enc.load(st, "encoder.", golden::vjepa2_encoder_config(comps["encoder"])), enc.error);
    REQUIRE_MESSAGE(pred.load(st, "predictor.", golden::vjepa2_predictor_config(comps["predictor"])), pred.error);
    ok = true;
  }

  Array get(const char* name) {
    Array a;
    REQUIRE_MESSAGE(dir.load(name, &a), dir.error);
    return a;
  }
};

// Encoder output for a [B,C,T,H,W] video, with its intermediates.
std::vector<float> run_encoder(Vjepa2Tiny& m, const Array& video, const int64_t* keep, int64_t n_keep,
                               golden::Captured* cap) {
  jepa::models::Vjepa2EncoderInput in;
  in.video = video.f.data();
  in.batch = video.shape[0];
  in.frames = video.shape[2];
  in.height = video.shape[3];
  in.width = video.shape[4];
  in.keep_idx = keep;
  in.keep = n_keep;
  golden::ArenaBuffer buf(jepa::models::vjepa2_encoder_arena_bytes(m.enc.cfg, in));
  std::vector<float> out((size_t)(in.batch * in.out_tokens(m.enc.cfg) * m.enc.cfg.embed_dim));
  jepa::ParallelFor serial;
  jepa::Status s = jepa::models::vjepa2_encoder_forward(*m.enc.w, m.enc.cfg, serial, buf.arena, in, out.data(),
                                                        cap ? cap->observer() : jepa::models::ForwardObserver());
  REQUIRE_MESSAGE(s.is_ok(), s.message());
  CHECK(buf.arena.used() == 0);  // scratch released
  return out;
}

}  // namespace

TEST_CASE("vjepa2 golden: rope_unit (tiled tables, fractional position)") {
  Vjepa2Tiny m;
  const Array x = m.get("rope_unit.x"), pos = m.get("rope_unit.pos"), ref = m.get("rope_unit.output");
  REQUIRE(x.shape == std::vector<int64_t>({1, 2, 6, 20}));
  std::vector<float> y = x.f;
  const int64_t seg = 20, half = seg / 2;
  std::vector<float> c(half), s(half);
  for (int64_t h = 0; h < 2; ++h)
    for (int64_t n = 0; n < 6; ++n) {
      jepa::ops::rope_angles(pos.f[n], half, c.data(), s.data());
      jepa::ops::rope_rotate(y.data() + (h * 6 + n) * seg, seg, c.data(), s.data());
    }
  CHECK(golden::compare(y.data(), ref).ok);
}

TEST_CASE("vjepa2 golden: encoder on a video (patch embed, blocks, output)") {
  Vjepa2Tiny m;
  const Array video = m.get("enc_video.video");
  golden::Captured cap;
  std::vector<float> out = run_encoder(m, video, nullptr, 0, &cap);
  const Array pe = m.get("enc_video.patch_embed"), b0 = m.get("enc_video.block0"), b1 = m.get("enc_video.block1");
  REQUIRE(cap.tensors["patch_embed"].size() == pe.f.size());
  CHECK(golden::compare(cap.tensors["patch_embed"].data(), pe).ok);
  REQUIRE(cap.tensors["block.0"].size() == b0.f.size());
  CHECK(golden::compare(cap.tensors["block.0"].data(), b0).ok);
  REQUIRE(cap.tensors["block.1"].size() == b1.f.size());
  CHECK(golden::compare(cap.tensors["block.1"].data(), b1).ok);
  const Array ref = m.get("enc_video.output");
  REQUIRE(out.size() == ref.f.size());
  CHECK(golden::compare(out.data(), ref).ok);
}

TEST_CASE("vjepa2 golden: encoder on a non-square input (RoPE on the actual grid)") {
  Vjepa2Tiny m;
  const Array video = m.get("enc_nonsquare.video"), ref = m.get("enc_nonsquare.output");
  std::vector<float> out = run_encoder(m, video, nullptr, 0, nullptr);
  REQUIRE(out.size() == ref.f.size());
  CHECK(golden::compare(out.data(), ref).ok);
}

TEST_CASE("vjepa2 golden: masked encoder and predictor") {
  Vjepa2Tiny m;
  const Array video = m.get("enc_video.video"), mx = m.get("masked.masks_x"), my = m.get("masked.masks_y");
  const Array ctx_ref = m.get("masked.context"), pred_ref = m.get("masked.prediction");
  const int64_t B = mx.shape[0], nx = mx.shape[1], ny = my.shape[1];
  std::vector<float> ctx = run_encoder(m, video, mx.i.data(), nx, nullptr);
  REQUIRE(ctx.size() == ctx_ref.f.size());
  CHECK(golden::compare(ctx.data(), ctx_ref, "masked.context").ok);

  // The predictor on the reference context (isolates it from encoder error),
  // then on ours (the chained pipeline).
  for (int chained = 0; chained < 2; ++chained) {
    jepa::models::Vjepa2PredictorInput in;
    in.context = chained ? ctx.data() : ctx_ref.f.data();
    in.masks_x = mx.i.data();
    in.masks_y = my.i.data();
    in.batch = B;
    in.n_ctx = nx;
    in.n_tgt = ny;
    in.mask_index = 1;
    golden::ArenaBuffer buf(jepa::models::vjepa2_predictor_arena_bytes(m.pred.cfg, in));
    std::vector<float> out((size_t)(B * ny * m.pred.cfg.embed_dim));
    jepa::ParallelFor serial;
    jepa::Status s = jepa::models::vjepa2_predictor_forward(*m.pred.w, m.pred.cfg, serial, buf.arena, in, out.data());
    REQUIRE_MESSAGE(s.is_ok(), s.message());
    REQUIRE(out.size() == pred_ref.f.size());
    CHECK(golden::compare(out.data(), pred_ref, chained ? "masked.prediction (chained)" : "masked.prediction").ok);
  }
}

TEST_CASE("vjepa2: the mask token index is taken modulo num_mask_tokens, and changes the output") {
  Vjepa2Tiny m;
  const Array mx = m.get("masked.masks_x"), my = m.get("masked.masks_y"), ctx = m.get("masked.context");
  auto run = [&](int64_t mask_index) {
    jepa::models::Vjepa2PredictorInput in;
    in.context = ctx.f.data();
    in.masks_x = mx.i.data();
    in.masks_y = my.i.data();
    in.batch = mx.shape[0];
    in.n_ctx = mx.shape[1];
    in.n_tgt = my.shape[1];
    in.mask_index = mask_index;
    golden::ArenaBuffer buf(jepa::models::vjepa2_predictor_arena_bytes(m.pred.cfg, in));
    std::vector<float> out((size_t)(in.batch * in.n_tgt * m.pred.cfg.embed_dim));
    REQUIRE(jepa::models::vjepa2_predictor_forward(*m.pred.w, m.pred.cfg, jepa::ParallelFor(), buf.arena, in,
                                                   out.data()).is_ok());
    return out;
  };
  const std::vector<float> a = run(1), b = run(3), c = run(0);
  CHECK(a == b);
  CHECK(a != c);
}

TEST_CASE("vjepa2: bad inputs are errors, not crashes") {
  Vjepa2Tiny m;
  const Array video = m.get("enc_video.video");
  jepa::models::Vjepa2EncoderInput in;
  in.video = video.f.data();
  in.batch = 2;
  in.frames = 4;
  in.height = 48;
  in.width = 48;
  std::vector<float> out(2 * 18 * 96);
  jepa::ParallelFor serial;
  {  // arena too small
    golden::ArenaBuffer buf(jepa::models::vjepa2_encoder_arena_bytes(m.enc.cfg, in) - 64);
    jepa::Status s = jepa::models::vjepa2_encoder_forward(*m.enc.w, m.enc.cfg, serial, buf.arena, in, out.data());
    CHECK(s.code() == jepa::Error::out_of_memory);
  }
  {  // mask index outside the grid
    const int64_t keep[4] = {0, 1, 2, 18};
    in.keep_idx = keep;
    in.keep = 2;
    golden::ArenaBuffer buf(jepa::models::vjepa2_encoder_arena_bytes(m.enc.cfg, in));
    jepa::Status s = jepa::models::vjepa2_encoder_forward(*m.enc.w, m.enc.cfg, serial, buf.arena, in, out.data());
    CHECK(s.code() == jepa::Error::invalid_argument);
    in.keep_idx = nullptr;
  }
  {  // too small to hold one tubelet
    in.frames = 1;
    golden::ArenaBuffer buf(1 << 20);
    jepa::Status s = jepa::models::vjepa2_encoder_forward(*m.enc.w, m.enc.cfg, serial, buf.arena, in, out.data());
    CHECK(s.code() == jepa::Error::shape_mismatch);
  }
}

TEST_CASE("vjepa2: the encoder and predictor give the same bits on 1 and 2 threads") {
  Vjepa2Tiny m;
  const Array video = m.get("enc_video.video"), mx = m.get("masked.masks_x"), my = m.get("masked.masks_y");
  jepa::models::Vjepa2EncoderInput in;
  in.video = video.f.data();
  in.batch = 2;
  in.frames = 4;
  in.height = 48;
  in.width = 48;
  jepa::ThreadPool pool(2);
  std::vector<float> serial_out(2 * 18 * 96), pool_out(serial_out.size());
  golden::ArenaBuffer buf(jepa::models::vjepa2_encoder_arena_bytes(m.enc.cfg, in));
  REQUIRE(jepa::models::vjepa2_encoder_forward(*m.enc.w, m.enc.cfg, jepa::ParallelFor(), buf.arena, in,
                                               serial_out.data()).is_ok());
  REQUIRE(jepa::models::vjepa2_encoder_forward(*m.enc.w, m.enc.cfg, pool.parallel_for(), buf.arena, in,
                                               pool_out.data()).is_ok());
  CHECK(serial_out == pool_out);
  const Array ctx = m.get("masked.context");
  jepa::models::Vjepa2PredictorInput pin;
  pin.context = ctx.f.data();
  pin.masks_x = mx.i.data();
  pin.masks_y = my.i.data();
  pin.batch = 2;
  pin.n_ctx = mx.shape[1];
  pin.n_tgt = my.shape[1];
  golden::ArenaBuffer pbuf(jepa::models::vjepa2_predictor_arena_bytes(m.pred.cfg, pin));
  std::vector<float> a(2 * 7 * 96), b(a.size());
  REQUIRE(jepa::models::vjepa2_predictor_forward(*m.pred.w, m.pred.cfg, jepa::ParallelFor(), pbuf.arena, pin,
                                                 a.data()).is_ok());
  REQUIRE(jepa::models::vjepa2_predictor_forward(*m.pred.w, m.pred.cfg, pool.parallel_for(), pbuf.arena, pin,
                                                 b.data()).is_ok());
  CHECK(a == b);
}
