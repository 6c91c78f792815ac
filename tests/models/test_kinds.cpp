// check_model_kind and the Config / for_each_tensor / Weights::bind contract of
// every model kind, on hand-written .jepa files: round trips of the
// hyper-parameters, and each failure (missing / mis-shaped / wrong-dtype
// tensor, bad or missing hyper-parameter, unknown kind) gives its error code
// and names the culprit.
#include <doctest/doctest.h>

#include <functional>
#include <string>

#include "models/golden_models.hpp"

namespace {

using jepa::Error;
using jepa::format::DType;
using jepa::models::TensorRole;

// What to do with each tensor while writing a file.
enum class Edit { keep, drop, reshape, as_f16 };

template <class Config>
std::vector<uint8_t> write_model(const Config& cfg, const std::function<Edit(const std::string&)>& edit,
                                 const char* kind = Config::kKind, bool extra_tensor = false,
                                 const char* drop_hparam = nullptr) {
  jepa::format::Writer w(kind);
  cfg.write_hparams(w);
  if (drop_hparam != nullptr) {  // rewrite every key but one
    jepa::format::Writer w2(kind);
    auto bytes = w.finish();
    REQUIRE(bytes.is_ok());
    golden::AlignedBytes ab(bytes.value());
    auto f = jepa::ModelFile::open(ab.ptr, ab.size);
    REQUIRE(f.is_ok());
    for (size_t i = 0; i < f->hparam_count(); ++i) {
      const jepa::HParamInfo h = f->hparam(i);
      if (std::strcmp(h.key, drop_hparam) == 0) continue;
      if (h.type == jepa::format::HParamType::i64) w2.add_int(h.key, h.entry->value.i);
      if (h.type == jepa::format::HParamType::f64) w2.add_float(h.key, h.entry->value.f);
    }
    w = w2;
  }
  uint32_t seed = 1;
  for_each_tensor(cfg, [&](const char* name, const int64_t* shape, int rank, TensorRole) {
    const Edit e = edit(name);
    if (e == Edit::drop) return;
    std::vector<int64_t> sh(shape, shape + rank);
    if (e == Edit::reshape) sh[0] += 1;
    int64_t n = 1;
    for (int64_t d : sh) n *= d;
    if (e == Edit::as_f16) {
      std::vector<uint16_t> h((size_t)n, 0x3C00);  // 1.0
      REQUIRE(w.add_tensor(name, DType::f16, sh, h.data(), h.size() * 2).is_ok());
      return;
    }
    std::vector<float> v((size_t)n);
    for (float& x : v) x = (float)((seed = seed * 1664525u + 1013904223u) >> 8) / 16777216.0f - 0.5f;
    REQUIRE(w.add_tensor(name, DType::f32, sh, v.data(), v.size() * 4).is_ok());
  });
  if (extra_tensor) {
    const float z[4] = {0, 0, 0, 0};
    REQUIRE(w.add_tensor("selftest.input", DType::f32, {4}, z, sizeof(z)).is_ok());
  }
  auto bytes = w.finish();
  REQUIRE(bytes.is_ok());
  return bytes.value();
}

jepa::Status check(const std::vector<uint8_t>& bytes) {
  golden::AlignedBytes ab(bytes);
  auto f = jepa::ModelFile::open(ab.ptr, ab.size);
  REQUIRE_MESSAGE(f.is_ok(), f.status().message());
  return jepa::models::check_model_kind(f.value());
}

// The structural checks every kind must pass, given the name of one of its
// weight matrices and one of its vectors.
template <class Config, class Weights>
void check_kind(const Config& cfg, const char* matrix, const char* vector) {
  auto keep = [](const std::string&) { return Edit::keep; };
  {  // valid: round trip, bind
    std::vector<uint8_t> bytes = write_model(cfg, keep, Config::kKind, /*extra_tensor=*/true);
    golden::AlignedBytes ab(bytes);
    auto f = jepa::ModelFile::open(ab.ptr, ab.size);
    REQUIRE(f.is_ok());
    jepa::Status s = jepa::models::check_model_kind(f.value());
    CHECK_MESSAGE(s.is_ok(), s.message());
    auto c = Config::from_file(f.value());
    REQUIRE_MESSAGE(c.is_ok(), c.status().message());
    jepa::format::Writer a("x"), b("x");
    cfg.write_hparams(a);
    c->write_hparams(b);
    CHECK(a.finish().value() == b.finish().value());  // every field came back
    auto w = Weights::bind(f.value(), c.value());
    CHECK_MESSAGE(w.is_ok(), w.status().message());
  }
  auto expect = [&](const std::vector<uint8_t>& bytes, Error code, const char* name) {
    jepa::Status s = check(bytes);
    CHECK(s.code() == code);
    if (name) CHECK_MESSAGE(std::strstr(s.message(), name) != nullptr, s.message());
  };
  expect(write_model(cfg, [&](const std::string& n) { return n == matrix ? Edit::drop : Edit::keep; }),
         Error::missing_tensor, matrix);
  expect(write_model(cfg, [&](const std::string& n) { return n == matrix ? Edit::reshape : Edit::keep; }),
         Error::shape_mismatch, matrix);
  expect(write_model(cfg, [&](const std::string& n) { return n == vector ? Edit::as_f16 : Edit::keep; }),
         Error::unknown_dtype, vector);
  // An f16 weight matrix is fine (kernels read it).
  expect(write_model(cfg, [&](const std::string& n) { return n == matrix ? Edit::as_f16 : Edit::keep; }),
         Error::ok, nullptr);
  expect(write_model(cfg, keep, Config::kKind, false, "num_heads"), Error::bad_hparam, "num_heads");
  Config bad = cfg;
  bad.num_heads = 7;  // does not divide the width
  expect(write_model(bad, keep), Error::bad_hparam, "heads");
}

}  // namespace

TEST_CASE("kinds: vjepa2.encoder (video and image)") {
  jepa::models::Vjepa2EncoderConfig c;
  c.embed_dim = 48;
  c.depth = 2;
  c.num_heads = 4;
  c.mlp_hidden = 96;
  c.patch_size = 4;
  c.tubelet_size = 2;
  c.num_frames = 4;
  c.img_height = c.img_width = 8;
  check_kind<jepa::models::Vjepa2EncoderConfig, jepa::models::Vjepa2EncoderWeights>(c, "blocks.1.attn.qkv.weight",
                                                                                   "norm.bias");
  c.num_frames = 1;  // image model: Conv2d weight [D][C][p][p]
  check_kind<jepa::models::Vjepa2EncoderConfig, jepa::models::Vjepa2EncoderWeights>(c, "patch_embed.proj.weight",
                                                                                   "blocks.0.norm1.weight");
}

TEST_CASE("kinds: vjepa2.predictor") {
  jepa::models::Vjepa2PredictorConfig c;
  c.embed_dim = 48;
  c.pred_embed_dim = 32;
  c.depth = 1;
  c.num_heads = 2;
  c.mlp_hidden = 64;
  c.patch_size = 4;
  c.num_frames = 4;
  c.img_height = c.img_width = 8;
  c.num_mask_tokens = 3;
  check_kind<jepa::models::Vjepa2PredictorConfig, jepa::models::Vjepa2PredictorWeights>(c, "predictor_proj.weight",
                                                                                       "mask_tokens.2");
}

TEST_CASE("kinds: vjepa2.ac_predictor") {
  jepa::models::AcPredictorConfig c;
  c.embed_dim = 48;
  c.pred_embed_dim = 32;
  c.depth = 2;
  c.num_heads = 2;
  c.mlp_hidden = 64;
  c.patch_size = 4;
  c.img_height = c.img_width = 8;
  c.action_dim = 7;
  check_kind<jepa::models::AcPredictorConfig, jepa::models::AcPredictorWeights>(c, "extrinsics_encoder.weight",
                                                                               "state_encoder.bias");
}

TEST_CASE("kinds: ijepa.encoder and ijepa.predictor") {
  jepa::models::IjepaEncoderConfig e;
  e.embed_dim = 32;
  e.depth = 1;
  e.num_heads = 2;
  e.mlp_hidden = 64;
  e.patch_size = 4;
  e.img_size = 12;
  check_kind<jepa::models::IjepaEncoderConfig, jepa::models::IjepaEncoderWeights>(e, "blocks.0.mlp.fc2.weight",
                                                                                 "pos_embed");
  jepa::models::IjepaPredictorConfig p;
  p.embed_dim = 32;
  p.pred_embed_dim = 16;
  p.depth = 1;
  p.num_heads = 2;
  p.mlp_hidden = 32;
  p.num_patches = 9;
  check_kind<jepa::models::IjepaPredictorConfig, jepa::models::IjepaPredictorWeights>(p, "predictor_embed.weight",
                                                                                     "predictor_pos_embed");
}

TEST_CASE("kinds: an unknown kind") {
  jepa::models::IjepaPredictorConfig p;
  p.embed_dim = 32;
  p.pred_embed_dim = 16;
  p.depth = 1;
  p.num_heads = 2;
  p.mlp_hidden = 32;
  p.num_patches = 9;
  jepa::Status s = check(write_model(p, [](const std::string&) { return Edit::keep; }, "dinowm.encoder"));
  CHECK(s.code() == Error::unknown_model_kind);
  CHECK(std::strstr(s.message(), "dinowm.encoder") != nullptr);
  CHECK(jepa::models::model_kind_from_string("vjepa2.ac_predictor") == jepa::models::ModelKind::vjepa2_ac_predictor);
  CHECK(std::string(jepa::models::model_kind_name(jepa::models::ModelKind::ijepa_encoder)) == "ijepa.encoder");
}
