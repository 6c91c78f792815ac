// tests/plan/ac_model.hpp: builds V-JEPA 2-AC predictor models in memory for
// the planning tests and bench/bench_plan.cpp: a .jepa file written with
// format::Writer (tensors from for_each_tensor, data from a callback), loaded
// and bound. random_ac_model() uses the golden data's init scheme (weights
// N(0, (g/sqrt(fan_in))^2) with g = 1.5 for qkv, biases N(0, 0.1^2), LayerNorm
// weights 1 + N(0, 0.25^2)), so attention is far from uniform.
// Host-side helper: allocates freely. Only jepa headers (bench includes it too).
#ifndef JEPA_TESTS_PLAN_AC_MODEL_HPP
#define JEPA_TESTS_PLAN_AC_MODEL_HPP

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "jepa/format/model_file.hpp"
#include "jepa/format/writer.hpp"
#include "jepa/kernels/quantize.hpp"
#include "jepa/models/vjepa2_ac_predictor.hpp"
#include "jepa/plan/noise.hpp"
#include "jepa/plan/rollout.hpp"

namespace plantest {

struct AcModelHolder {
  uint8_t* bytes = nullptr;  // 64-byte aligned copy of the file
  size_t size = 0;
  jepa::ModelFile file;
  jepa::models::AcPredictorConfig cfg;
  std::unique_ptr<jepa::models::AcPredictorWeights> weights;
  jepa::Status status;

  jepa::plan::AcModel model() const { return jepa::plan::AcModel{weights.get(), &cfg}; }
  AcModelHolder() = default;
  AcModelHolder(const AcModelHolder&) = delete;
  AcModelHolder& operator=(const AcModelHolder&) = delete;
  ~AcModelHolder() { std::free(bytes); }
};

// fill(name, shape, rank, out, count) writes the tensor's float32 values.
using TensorFill = std::function<void(const char*, const int64_t*, int, float*, size_t)>;

// How weight matrices are stored (vectors stay f32): f32 row-major is the
// converter's default; panel layouts / q8 use the kernels' standard params.
struct WeightFormat {
  jepa::format::DType dtype = jepa::format::DType::f32;
  jepa::format::Layout layout = jepa::format::Layout::row_major;
};

inline std::unique_ptr<AcModelHolder> build_ac_model(const jepa::models::AcPredictorConfig& cfg,
                                                     const TensorFill& fill, WeightFormat wf = WeightFormat()) {
  auto h = std::make_unique<AcModelHolder>();
  h->cfg = cfg;
  jepa::format::Writer w(jepa::models::AcPredictorConfig::kKind);
  cfg.write_hparams(w);
  std::vector<float> buf;
  jepa::Status st;
  jepa::models::for_each_tensor(cfg, [&](const char* name, const int64_t* shape, int rank,
                                         jepa::models::TensorRole role) {
    size_t n = 1;
    for (int i = 0; i < rank; ++i) n *= (size_t)shape[i];
    buf.assign(n, 0.0f);
    fill(name, shape, rank, buf.data(), n);
    const std::vector<int64_t> s(shape, shape + rank);
    jepa::Status a;
    const bool plain = role != jepa::models::TensorRole::weight_matrix ||
                       (wf.dtype == jepa::format::DType::f32 && wf.layout == jepa::format::Layout::row_major);
    if (plain) {
      a = w.add_tensor(name, jepa::format::DType::f32, s, buf.data(), n * 4);
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
        if (a.is_ok()) a = w.add_tensor(name, wf.dtype, s, packed.data(), packed.size(), wf.layout, params);
      }
    }
    if (st.is_ok() && !a.is_ok()) st = a;
  });
  if (!st.is_ok()) {
    h->status = st;
    return h;
  }
  {
    jepa::Result<std::vector<uint8_t>> bytes = w.finish();
    if (!bytes) {
      h->status = bytes.status();
      return h;
    }
    h->size = bytes->size();
    h->bytes = static_cast<uint8_t*>(std::aligned_alloc(64, (h->size + 63) & ~size_t(63)));
    std::memcpy(h->bytes, bytes->data(), h->size);
  }
  jepa::Result<jepa::ModelFile> f = jepa::ModelFile::open(h->bytes, h->size);
  if (!f) {
    h->status = f.status();
    return h;
  }
  h->file = f.value();
  jepa::Result<jepa::models::AcPredictorConfig> c = jepa::models::AcPredictorConfig::from_file(h->file);
  if (!c) {
    h->status = c.status();
    return h;
  }
  h->cfg = c.value();
  jepa::Result<jepa::models::AcPredictorWeights> wt = jepa::models::AcPredictorWeights::bind(h->file, h->cfg);
  if (!wt) {
    h->status = wt.status();
    return h;
  }
  h->weights = std::make_unique<jepa::models::AcPredictorWeights>(wt.value());
  return h;
}

inline std::unique_ptr<AcModelHolder> random_ac_model(const jepa::models::AcPredictorConfig& cfg, uint64_t seed,
                                                      WeightFormat wf = WeightFormat()) {
  jepa::plan::CounterGaussian g(seed);
  return build_ac_model(cfg, [&](const char* name, const int64_t* shape, int rank, float* out, size_t n) {
    const std::string s = name;
    const bool is_norm = s.find("norm") != std::string::npos;
    const bool is_bias = s.size() > 5 && s.compare(s.size() - 5, 5, ".bias") == 0;
    std::vector<float> z(n);
    g.source()(z.data(), n);
    if (rank == 2 && !is_norm) {
      const double gain = s.find("qkv") != std::string::npos ? 1.5 : 1.0;
      const double sd = gain / std::sqrt((double)shape[1]);
      for (size_t i = 0; i < n; ++i) out[i] = (float)(sd * z[i]);
    } else if (is_norm && !is_bias) {
      for (size_t i = 0; i < n; ++i) out[i] = (float)(1.0 + 0.25 * z[i]);
    } else {
      for (size_t i = 0; i < n; ++i) out[i] = (float)(0.1 * z[i]);
    }
  }, wf);
}

// The sizes of golden vjepa2_ac_tiny's predictor (config.json components.predictor).
inline jepa::models::AcPredictorConfig tiny_ac_config() {
  jepa::models::AcPredictorConfig c;
  c.embed_dim = 64;
  c.pred_embed_dim = 128;
  c.depth = 2;
  c.num_heads = 2;
  c.mlp_hidden = 512;
  c.patch_size = 8;
  c.tubelet_size = 2;
  c.num_frames = 16;
  c.img_height = 32;
  c.img_width = 32;
  c.norm_eps = 1e-6;
  c.qkv_bias = true;
  c.action_dim = 7;
  c.use_extrinsics = false;
  c.frame_causal = true;
  return c;
}

// Random unit-ish latents, layer-normed like real ones.
inline std::vector<float> random_latents(size_t rows, size_t dim, uint64_t seed) {
  std::vector<float> v(rows * dim);
  jepa::plan::CounterGaussian g(seed);
  g.source()(v.data(), v.size());
  jepa::plan::latent_layernorm(v.data(), v.data(), (int64_t)rows, (int64_t)dim);
  return v;
}

}  // namespace plantest

#endif  // JEPA_TESTS_PLAN_AC_MODEL_HPP
