// The attention policy of models/vit_block.hpp (models::attention_math_for):
// AttnMath::automatic, every model's default, keeps f32 attention for f32
// weights and allows bf16 for quantized ones. Checked through whole forwards
// of random models (tests/models/random_models.hpp): automatic gives the same
// bits as the pinned choice it stands for, in the encoder (vit_block_forward)
// and in the AC predictor (its own attention layer); where this CPU has a bf16
// tile, q8 weights really run it (their output differs from pinned f32).
#include <doctest/doctest.h>

#include <vector>

#include "jepa/kernels/attention-dispatch.hpp"
#include "jepa/models/kinds.hpp"
#include "models/golden_models.hpp"
#include "models/random_models.hpp"

namespace {

namespace models = jepa::models;
using jepa::kernels::AttnMath;

randmodel::WeightFormat format_of(jepa::format::DType dtype) {
  randmodel::WeightFormat wf;
  wf.dtype = dtype;
  wf.layout = jepa::format::Layout::panel;
  return wf;
}

std::vector<float> encode(const randmodel::Model<models::Vjepa2EncoderConfig, models::Vjepa2EncoderWeights>& m,
                          AttnMath math, const std::vector<float>& video, const models::Vjepa2EncoderInput& shape) {
  models::Vjepa2EncoderConfig c = m.cfg;
  c.attention = math;
  models::Vjepa2EncoderInput in = shape;
  in.video = video.data();
  golden::ArenaBuffer buf(models::vjepa2_encoder_arena_bytes(c, in));
  std::vector<float> out((size_t)(in.batch * in.out_tokens(c) * c.embed_dim));
  const jepa::Status s = models::vjepa2_encoder_forward(*m.w, c, jepa::ParallelFor(), buf.arena, in, out.data());
  REQUIRE_MESSAGE(s.is_ok(), s.message());
  return out;
}

std::vector<float> ac_predict(const randmodel::Model<models::AcPredictorConfig, models::AcPredictorWeights>& m,
                              AttnMath math, int64_t B, int64_t S, const std::vector<float>& lat,
                              const std::vector<float>& act, const std::vector<float>& sta) {
  models::AcPredictorConfig c = m.cfg;
  c.attention = math;
  golden::ArenaBuffer buf(models::ac_predictor_arena_bytes(c, B, S));
  std::vector<float> out((size_t)(B * S * c.patches_per_step() * c.embed_dim));
  const jepa::Status s = models::ac_predictor_forward(*m.w, c, jepa::ParallelFor(), buf.arena, B, S, lat.data(),
                                                      act.data(), sta.data(), nullptr, out.data());
  REQUIRE_MESSAGE(s.is_ok(), s.message());
  return out;
}

// Whether AttnMath::bf16 runs a bf16 tile here for head_dim 64 (AMX), so
// that allowing it changes the output.
bool bf16_tile_runs() {
  return jepa::kernels::choose_attention_kernel(AttnMath::bf16, 64, true).math == AttnMath::bf16;
}

}  // namespace

TEST_CASE("vit_block: attention_math_for allows bf16 only for non-f32 weights under automatic") {
  jepa::kernels::WeightMatrix w;
  for (jepa::format::DType d : {jepa::format::DType::f32, jepa::format::DType::f16, jepa::format::DType::bf16,
                                jepa::format::DType::q8, jepa::format::DType::q4}) {
    CAPTURE((int)d);
    w.dtype = d;
    CHECK(models::attention_math_for(AttnMath::automatic, w) ==
          (d == jepa::format::DType::f32 ? AttnMath::f32 : AttnMath::bf16));
    CHECK(models::attention_math_for(AttnMath::f32, w) == AttnMath::f32);
    CHECK(models::attention_math_for(AttnMath::bf16, w) == AttnMath::bf16);
  }
  CHECK(models::Vjepa2EncoderConfig().attention == AttnMath::automatic);
  CHECK(models::AcPredictorConfig().attention == AttnMath::automatic);
}

TEST_CASE("vit_block: automatic attention is pinned f32 for f32 weights and pinned bf16 for q8, bit for bit") {
  const bool tile = bf16_tile_runs();
  MESSAGE("bf16 attention tile here: " << std::string(tile ? "yes" : "no (bf16 falls back to the f32 tile)"));
  for (jepa::format::DType dtype : {jepa::format::DType::f32, jepa::format::DType::q8}) {
    const bool f32_weights = dtype == jepa::format::DType::f32;
    const AttnMath stands_for = f32_weights ? AttnMath::f32 : AttnMath::bf16;
    CAPTURE((int)dtype);
    {
      randmodel::Model<models::Vjepa2EncoderConfig, models::Vjepa2EncoderWeights> m;
      REQUIRE_MESSAGE(m.build(randmodel::vjepa2_encoder_config(), format_of(dtype), 11), m.error);
      models::Vjepa2EncoderInput in;
      in.batch = 1;
      in.frames = 2 * m.cfg.tubelet_size;
      in.height = 4 * m.cfg.patch_size;
      in.width = 4 * m.cfg.patch_size;
      const std::vector<float> video =
          randmodel::random_values((size_t)(in.batch * m.cfg.in_chans * in.frames * in.height * in.width), 12);
      const std::vector<float> automatic = encode(m, AttnMath::automatic, video, in);
      CHECK(automatic == encode(m, stands_for, video, in));
      const std::vector<float> other = encode(m, f32_weights ? AttnMath::bf16 : AttnMath::f32, video, in);
      CHECK((automatic != other) == tile);
    }
    {
      randmodel::Model<models::AcPredictorConfig, models::AcPredictorWeights> m;
      REQUIRE_MESSAGE(m.build(randmodel::ac_predictor_config(), format_of(dtype), 13), m.error);
      const models::AcPredictorConfig& c = m.cfg;
      const int64_t B = 1, S = 2;
      const std::vector<float> lat = randmodel::random_values((size_t)(B * S * c.patches_per_step() * c.embed_dim), 14);
      const std::vector<float> act = randmodel::random_values((size_t)(B * S * c.action_dim), 15);
      const std::vector<float> sta = randmodel::random_values((size_t)(B * S * c.action_dim), 16);
      const std::vector<float> automatic = ac_predict(m, AttnMath::automatic, B, S, lat, act, sta);
      CHECK(automatic == ac_predict(m, stands_for, B, S, lat, act, sta));
      const std::vector<float> other = ac_predict(m, f32_weights ? AttnMath::bf16 : AttnMath::f32, B, S, lat, act, sta);
      CHECK((automatic != other) == tile);
    }
  }
}
