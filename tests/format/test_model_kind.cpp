// The loader's last check: a file of a known model kind must hold every
// tensor that kind needs, with its shape (models/kinds.hpp). Built from the
// model's own for_each_tensor, so the test follows the model's tensor list.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "common/model_bytes.hpp"
#include "jepa/models/kinds.hpp"

using jepa::Error;
using jepa_test::AlignedBytes;

namespace {

jepa::models::Vjepa2EncoderConfig tiny_encoder() {
  jepa::models::Vjepa2EncoderConfig c;
  c.embed_dim = 24;
  c.depth = 2;
  c.num_heads = 2;
  c.mlp_hidden = 48;
  c.patch_size = 4;
  c.tubelet_size = 2;
  c.num_frames = 2;
  c.img_height = c.img_width = 8;
  return c;
}

// Every tensor of the kind (zeros), except `skip`; `wrong` gets one dim more.
std::vector<uint8_t> encoder_file(const std::string& skip = "", const std::string& wrong = "",
                                  const char* kind = jepa::models::Vjepa2EncoderConfig::kKind) {
  const auto cfg = tiny_encoder();
  jepa::format::Writer w(kind);
  cfg.write_hparams(w);
  jepa::models::for_each_tensor(cfg, [&](const char* name, const int64_t* shape, int rank, jepa::models::TensorRole) {
    if (skip == name) return;
    std::vector<int64_t> s(shape, shape + rank);
    if (wrong == name) s[0] += 1;
    int64_t n = 1;
    for (int64_t d : s) n *= d;
    std::vector<float> zeros((size_t)n, 0.0f);
    REQUIRE(w.add_tensor(name, jepa::format::DType::f32, s, zeros.data(), zeros.size() * 4).is_ok());
  });
  auto r = w.finish();
  REQUIRE(r.is_ok());
  return r.value();
}

Error kind_code(const std::vector<uint8_t>& b) {
  AlignedBytes buf(b);
  auto f = jepa::ModelFile::open(buf.data(), buf.size());
  REQUIRE_MESSAGE(f.is_ok(), f.status().message());
  const jepa::Status s = jepa::models::check_model_kind(f.value());
  if (!s.is_ok()) MESSAGE(std::string(s.message()));
  return s.code();
}

}  // namespace

TEST_CASE("model kind: a complete vjepa2.encoder passes") { CHECK(kind_code(encoder_file()) == Error::ok); }

TEST_CASE("model kind: a missing required tensor is named") {
  CHECK(kind_code(encoder_file("blocks.1.mlp.fc2.weight")) == Error::missing_tensor);
  CHECK(kind_code(encoder_file("norm.bias")) == Error::missing_tensor);
}

TEST_CASE("model kind: a tensor with the wrong shape") {
  CHECK(kind_code(encoder_file("", "blocks.0.attn.qkv.weight")) == Error::shape_mismatch);
}

TEST_CASE("model kind: an unknown kind") {
  CHECK(kind_code(encoder_file("", "", "vjepa9.teleporter")) == Error::unknown_model_kind);
}
