// tests/models/random_models.hpp: models of any kind with random weights,
// built in memory for tests that need sizes the tiny golden models lack
// (e.g. enough rows and columns that every linear splits into several tiles).
// The .jepa file is written with format::Writer from the model's own
// for_each_tensor and write_hparams, weight matrices stored in a chosen
// dtype/layout through kernels/quantize.hpp (as jepa-convert does), then
// loaded through ModelFile and bound, so the whole file path runs.
// Init: weights N(0, (g/sqrt(fan_in))^2) with g = 1.5 for qkv (attention far
// from uniform), LayerNorm gains 1 + N(0, 0.25^2), everything else N(0, 0.1^2).
// Test-only code: it allocates freely.
#ifndef JEPA_TESTS_MODELS_RANDOM_MODELS_HPP
#define JEPA_TESTS_MODELS_RANDOM_MODELS_HPP

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "jepa/format/model_file.hpp"
#include "jepa/format/writer.hpp"
#include "jepa/kernels/gemm.hpp"
#include "jepa/kernels/quantize.hpp"
#include "jepa/models/kinds.hpp"

namespace randmodel {

// How weight matrices are stored (vectors and tables always stay f32).
struct WeightFormat {
  jepa::format::DType dtype = jepa::format::DType::f32;
  jepa::format::Layout layout = jepa::format::Layout::row_major;
  std::string name() const {
    return std::string(jepa::format::dtype_name(dtype)) + "/" + jepa::format::layout_name(layout);
  }
};

// Runs under QEMU set JEPA_TEST_SMALL (scripts/test.d/40-aarch64.sh): fewer cases.
inline bool small_run() { return std::getenv("JEPA_TEST_SMALL") != nullptr; }

// The formats the x86 / ARM SIMD kernels run (kernels/registry.inc): f32 in
// both layouts, f16 / bf16 / q8 / q4 in the panel layout. Row-major
// f16/bf16/q8/q4 run the scalar reference GEMM (same tiling code), far slower.
// A small run keeps f32 and q8 panels (a float and an integer kernel).
inline std::vector<WeightFormat> kernel_formats() {
  using jepa::format::DType;
  using jepa::format::Layout;
  if (small_run()) return {{DType::f32, Layout::panel}, {DType::q8, Layout::panel}};
  return {{DType::f32, Layout::row_major}, {DType::f32, Layout::panel}, {DType::f16, Layout::panel},
          {DType::bf16, Layout::panel},    {DType::q8, Layout::panel},  {DType::q4, Layout::panel}};
}

// N(0, 1) values from a seeded generator (deterministic within a build).
inline void gaussian(std::mt19937_64& rng, float* out, size_t n) {
  std::normal_distribution<float> d(0.0f, 1.0f);
  for (size_t i = 0; i < n; ++i) out[i] = d(rng);
}

inline std::vector<float> random_values(size_t n, uint64_t seed, float scale = 1.0f) {
  std::vector<float> v(n);
  std::mt19937_64 rng(seed);
  gaussian(rng, v.data(), n);
  for (float& x : v) x *= scale;
  return v;
}

// A model file with its bound weights. Weights live on the heap (tens of KB).
template <class Config, class Weights>
struct Model {
  uint8_t* bytes = nullptr;  // 64-byte aligned file image
  size_t size = 0;
  jepa::ModelFile file;
  Config cfg;
  std::unique_ptr<Weights> w;
  std::string error;

  Model() = default;
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;
  ~Model() { std::free(bytes); }

  bool build(const Config& c, WeightFormat wf, uint64_t seed) {
    jepa::format::Writer writer(Config::kKind);
    c.write_hparams(writer);
    std::mt19937_64 rng(seed);
    std::vector<float> buf;
    jepa::Status st;
    for_each_tensor(c, [&](const char* name, const int64_t* shape, int rank, jepa::models::TensorRole role) {
      size_t n = 1;
      for (int i = 0; i < rank; ++i) n *= (size_t)shape[i];
      buf.resize(n);
      gaussian(rng, buf.data(), n);
      const std::string s = name;
      const bool is_norm = s.find("norm") != std::string::npos;
      const bool is_bias = s.size() > 5 && s.compare(s.size() - 5, 5, ".bias") == 0;
      const bool matrix = role == jepa::models::TensorRole::weight_matrix;
      if (matrix) {
        const double fan_in = (double)(n / (size_t)shape[0]);
        const double sd = (s.find("qkv") != std::string::npos ? 1.5 : 1.0) / std::sqrt(fan_in);
        for (float& x : buf) x = (float)(sd * x);
      } else if (is_norm && !is_bias) {
        for (float& x : buf) x = 1.0f + 0.25f * x;
      } else {
        for (float& x : buf) x *= 0.1f;
      }
      const std::vector<int64_t> sv(shape, shape + rank);
      jepa::Status a;
      if (!matrix || (wf.dtype == jepa::format::DType::f32 && wf.layout == jepa::format::Layout::row_major)) {
        a = writer.add_tensor(name, jepa::format::DType::f32, sv, buf.data(), n * 4);
      } else {
        uint32_t params[6] = {0, 0, 0, 0, 0, 0};
        if (wf.layout == jepa::format::Layout::panel) jepa::kernels::standard_panel_params(wf.dtype, params);
        const int64_t rows = shape[0], cols = (int64_t)(n / (size_t)rows);
        jepa::Result<size_t> bytes = jepa::kernels::packed_bytes(wf.dtype, wf.layout, rows, cols, params);
        if (!bytes) {
          a = bytes.status();
        } else {
          std::vector<uint8_t> packed(bytes.value());
          a = jepa::kernels::quantize_matrix(buf.data(), rows, cols, wf.dtype, wf.layout, params, packed.data(),
                                             packed.size());
          if (a.is_ok()) a = writer.add_tensor(name, wf.dtype, sv, packed.data(), packed.size(), wf.layout, params);
        }
      }
      if (st.is_ok() && !a.is_ok()) st = a;
    });
    if (!st.is_ok()) return error = st.message(), false;
    jepa::Result<std::vector<uint8_t>> img = writer.finish();
    if (!img) return error = img.status().message(), false;
    size = img->size();
    bytes = static_cast<uint8_t*>(std::aligned_alloc(64, (size + 63) & ~size_t(63)));
    std::memcpy(bytes, img->data(), size);
    jepa::Result<jepa::ModelFile> f = jepa::ModelFile::open(bytes, size);
    if (!f) return error = f.status().message(), false;
    file = f.value();
    jepa::Status kind = jepa::models::check_model_kind(file);
    if (!kind.is_ok()) return error = kind.message(), false;
    jepa::Result<Config> rc = Config::from_file(file);
    if (!rc) return error = rc.status().message(), false;
    cfg = rc.value();
    jepa::Result<Weights> bw = Weights::bind(file, cfg);
    if (!bw) return error = bw.status().message(), false;
    w.reset(new Weights(bw.value()));
    return true;
  }
};

// Sizes chosen so a forward has >= 256 activation rows (several row tiles
// for every kernel) and layers >= 128 wide (several column tiles), head_dim
// 64 as the released models, and still runs in milliseconds.
inline jepa::models::Vjepa2EncoderConfig vjepa2_encoder_config() {
  jepa::models::Vjepa2EncoderConfig c;
  c.embed_dim = 192;
  c.depth = 2;
  c.num_heads = 3;
  c.mlp_hidden = 768;
  c.patch_size = 16;
  c.tubelet_size = 2;
  c.in_chans = 3;
  c.num_frames = 4;
  c.img_height = 128;
  c.img_width = 128;
  return c;
}

inline jepa::models::Vjepa2PredictorConfig vjepa2_predictor_config() {
  jepa::models::Vjepa2PredictorConfig c;
  c.embed_dim = 192;
  c.pred_embed_dim = 128;
  c.depth = 2;
  c.num_heads = 2;
  c.mlp_hidden = 512;
  c.patch_size = 16;
  c.tubelet_size = 2;
  c.num_frames = 4;
  c.img_height = 128;
  c.img_width = 128;
  c.num_mask_tokens = 2;
  return c;
}

inline jepa::models::AcPredictorConfig ac_predictor_config() {
  jepa::models::AcPredictorConfig c;
  c.embed_dim = 192;
  c.pred_embed_dim = 128;
  c.depth = 2;
  c.num_heads = 2;
  c.mlp_hidden = 512;
  c.patch_size = 16;
  c.tubelet_size = 2;
  c.num_frames = 16;
  c.img_height = 96;
  c.img_width = 96;
  c.action_dim = 7;
  return c;
}

inline jepa::models::IjepaEncoderConfig ijepa_encoder_config() {
  jepa::models::IjepaEncoderConfig c;
  c.embed_dim = 192;
  c.depth = 2;
  c.num_heads = 3;
  c.mlp_hidden = 768;
  c.patch_size = 16;
  c.in_chans = 3;
  c.img_size = 128;
  return c;
}

inline jepa::models::IjepaPredictorConfig ijepa_predictor_config() {
  jepa::models::IjepaPredictorConfig c;
  c.embed_dim = 192;
  c.pred_embed_dim = 128;
  c.depth = 2;
  c.num_heads = 2;
  c.mlp_hidden = 512;
  c.num_patches = 64;
  return c;
}

// `count` distinct token indices in [0, n) per batch element, shuffled.
inline std::vector<int64_t> random_tokens(int64_t batch, int64_t count, int64_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<int64_t> out;
  std::vector<int64_t> all((size_t)n);
  for (int64_t b = 0; b < batch; ++b) {
    for (int64_t i = 0; i < n; ++i) all[(size_t)i] = i;
    std::shuffle(all.begin(), all.end(), rng);
    out.insert(out.end(), all.begin(), all.begin() + count);
  }
  return out;
}

// A context/target split of [0, n) per batch element (disjoint, shuffled).
inline void random_split(int64_t batch, int64_t n_ctx, int64_t n_tgt, int64_t n, uint64_t seed,
                         std::vector<int64_t>* ctx, std::vector<int64_t>* tgt) {
  const std::vector<int64_t> all = random_tokens(batch, n_ctx + n_tgt, n, seed);
  ctx->clear();
  tgt->clear();
  for (int64_t b = 0; b < batch; ++b) {
    const int64_t* row = all.data() + b * (n_ctx + n_tgt);
    ctx->insert(ctx->end(), row, row + n_ctx);
    tgt->insert(tgt->end(), row + n_ctx, row + n_ctx + n_tgt);
  }
}

}  // namespace randmodel

#endif  // JEPA_TESTS_MODELS_RANDOM_MODELS_HPP
