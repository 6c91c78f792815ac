// Golden tests of the I-JEPA encoder and predictor against tests/data/ijepa_tiny.
#include <doctest/doctest.h>

#include "jepa/ops/sincos.hpp"
#include "models/golden_models.hpp"

namespace {

using golden::Array;
using jepa::models::IjepaEncoderConfig;
using jepa::models::IjepaEncoderWeights;
using jepa::models::IjepaPredictorConfig;
using jepa::models::IjepaPredictorWeights;

struct IjepaTiny {
  golden::Dir dir;
  golden::Safetensors st;
  golden::Loaded<IjepaEncoderConfig, IjepaEncoderWeights> enc;
  golden::Loaded<IjepaPredictorConfig, IjepaPredictorWeights> pred;

  IjepaTiny() {
    const std::string d = golden::data_dir("ijepa_tiny");
    REQUIRE_MESSAGE(dir.open(d), dir.error);
    REQUIRE_MESSAGE(st.open(d + "/weights.safetensors"), st.error);
    const golden::Json& comps = dir.config["components"];
    REQUIRE_MESSAGE(enc.load(st, "encoder.", golden::ijepa_encoder_config(comps["encoder"])), enc.error);
    REQUIRE_MESSAGE(pred.load(st, "predictor.", golden::ijepa_predictor_config(comps["predictor"])), pred.error);
  }
  Array get(const char* name) {
    Array a;
    REQUIRE_MESSAGE(dir.load(name, &a), dir.error);
    return a;
  }
  std::vector<float> encode(const Array& image, const int64_t* keep, int64_t n_keep, golden::Captured* cap) {
    jepa::models::IjepaEncoderInput in;
    in.image = image.f.data();
    in.batch = image.shape[0];
    in.height = image.shape[2];
    in.width = image.shape[3];
    in.keep_idx = keep;
    in.keep = n_keep;
    golden::ArenaBuffer buf(jepa::models::ijepa_encoder_arena_bytes(enc.cfg, in));
    std::vector<float> out((size_t)(in.batch * in.out_tokens(enc.cfg) * enc.cfg.embed_dim));
    jepa::Status s = jepa::models::ijepa_encoder_forward(*enc.w, enc.cfg, jepa::ParallelFor(), buf.arena, in,
                                                         out.data(),
                                                         cap ? cap->observer() : jepa::models::ForwardObserver());
    REQUIRE_MESSAGE(s.is_ok(), s.message());
    return out;
  }
};

}  // namespace

TEST_CASE("ijepa golden: encoder (patch embed, blocks, output)") {
  IjepaTiny m;
  golden::Captured cap;
  std::vector<float> out = m.encode(m.get("enc_image.image"), nullptr, 0, &cap);
  CHECK(golden::compare(cap.tensors["patch_embed"].data(), m.get("enc_image.patch_embed")).ok);
  CHECK(golden::compare(cap.tensors["block.0"].data(), m.get("enc_image.block0")).ok);
  CHECK(golden::compare(cap.tensors["block.1"].data(), m.get("enc_image.block1")).ok);
  const Array ref = m.get("enc_image.output");
  REQUIRE(out.size() == ref.f.size());
  CHECK(golden::compare(out.data(), ref).ok);
}

TEST_CASE("ijepa golden: masked encoder and predictor (unsorted tokens)") {
  IjepaTiny m;
  const Array mx = m.get("masked.masks_enc"), my = m.get("masked.masks_pred");
  const Array ctx_ref = m.get("masked.context"), pred_ref = m.get("masked.prediction");
  std::vector<float> ctx = m.encode(m.get("enc_image.image"), mx.i.data(), mx.shape[1], nullptr);
  REQUIRE(ctx.size() == ctx_ref.f.size());
  CHECK(golden::compare(ctx.data(), ctx_ref).ok);
  for (int chained = 0; chained < 2; ++chained) {
    jepa::models::IjepaPredictorInput in;
    in.context = chained ? ctx.data() : ctx_ref.f.data();
    in.masks_x = mx.i.data();
    in.masks = my.i.data();
    in.batch = mx.shape[0];
    in.n_ctx = mx.shape[1];
    in.n_tgt = my.shape[1];
    golden::ArenaBuffer buf(jepa::models::ijepa_predictor_arena_bytes(m.pred.cfg, in));
    std::vector<float> out((size_t)(in.batch * in.n_tgt * m.pred.cfg.embed_dim));
    jepa::Status s = jepa::models::ijepa_predictor_forward(*m.pred.w, m.pred.cfg, jepa::ParallelFor(), buf.arena, in,
                                                           out.data());
    REQUIRE_MESSAGE(s.is_ok(), s.message());
    REQUIRE(out.size() == pred_ref.f.size());
    CHECK(golden::compare(out.data(), pred_ref, chained ? "masked.prediction (chained)" : "masked.prediction").ok);
  }
}

TEST_CASE("ijepa: an input with another patch count is unsupported (no pos-embed interpolation)") {
  IjepaTiny m;
  std::vector<float> image(1 * 3 * 64 * 64, 0.5f);
  jepa::models::IjepaEncoderInput in;
  in.image = image.data();
  in.height = in.width = 64;
  golden::ArenaBuffer buf(1 << 20);
  std::vector<float> out(16 * 64);
  jepa::Status s = jepa::models::ijepa_encoder_forward(*m.enc.w, m.enc.cfg, jepa::ParallelFor(), buf.arena, in,
                                                       out.data());
  CHECK(s.code() == jepa::Error::unsupported);
}

TEST_CASE("ijepa: the checkpoint's pos-embed tables are the column-first 2D sincos") {
  IjepaTiny m;
  const auto& enc = m.st.tensors.at("encoder.pos_embed");
  const auto& pred = m.st.tensors.at("predictor.predictor_pos_embed");
  for (const auto* t : {&enc, &pred}) {
    const int64_t n = t->shape[1], dim = t->shape[2], grid = 3;
    REQUIRE(n == grid * grid);
    std::vector<float> gen((size_t)(n * dim)), vjepa_order((size_t)(n * dim));
    jepa::ops::ijepa_sincos_2d(dim, grid, gen.data());
    jepa::ops::vjepa_sincos_2d(dim, grid, vjepa_order.data());
    double err = 0, err_rowfirst = 0;
    for (size_t i = 0; i < gen.size(); ++i) {
      err = std::max(err, (double)std::fabs(gen[i] - t->data[i]));
      err_rowfirst = std::max(err_rowfirst, (double)std::fabs(vjepa_order[i] - t->data[i]));
    }
    CHECK(err < 1e-6);
    CHECK(err_rowfirst > 0.1);  // the V-JEPA layout is a different table
  }
}
