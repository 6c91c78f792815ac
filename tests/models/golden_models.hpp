// tests/models/golden_models.hpp: the golden configs as jepa-rt models for
// the tests in this folder. Maps config.json (the official constructor
// kwargs) to each Config the way the converter does, writes the component's
// weights into an in-memory .jepa file, reads it back through ModelFile and
// binds the Weights: the tests run the whole file path, not just the math.
// Also an observer that keeps copies of the intermediates a forward shows.
#ifndef JEPA_TESTS_MODELS_GOLDEN_MODELS_HPP
#define JEPA_TESTS_MODELS_GOLDEN_MODELS_HPP

#include <memory>

#include "common/golden.hpp"
#include "jepa/models/kinds.hpp"

namespace golden {

inline int64_t kw_int(const Json& kw, const char* key, int64_t fallback) {
  const Json* v = kw.get(key);
  return v && v->type == Json::number ? v->as_int() : fallback;
}
inline bool kw_bool(const Json& kw, const char* key, bool fallback) {
  const Json* v = kw.get(key);
  return v && v->type == Json::boolean ? v->b : fallback;
}
// img_size: an int or [h] or [h, w].
inline void kw_img(const Json& kw, int64_t* h, int64_t* w) {
  const Json& v = kw["img_size"];
  if (v.type == Json::number) {
    *h = *w = v.as_int();
  } else {
    *h = v.items.at(0).as_int();
    *w = v.items.size() > 1 ? v.items[1].as_int() : *h;
  }
}
inline int64_t mlp_of(const Json& kw, int64_t width) {
  const Json* r = kw.get("mlp_ratio");
  return (int64_t)(width * (r ? r->num : 4.0));
}

inline jepa::models::Vjepa2EncoderConfig vjepa2_encoder_config(const Json& comp) {
  const Json& kw = comp["kwargs"];
  jepa::models::Vjepa2EncoderConfig c;
  c.embed_dim = kw_int(kw, "embed_dim", 768);
  c.depth = kw_int(kw, "depth", 12);
  c.num_heads = kw_int(kw, "num_heads", 12);
  c.mlp_hidden = mlp_of(kw, c.embed_dim);
  c.patch_size = kw_int(kw, "patch_size", 16);
  c.tubelet_size = kw_int(kw, "tubelet_size", 2);
  c.in_chans = kw_int(kw, "in_chans", 3);
  c.num_frames = kw_int(kw, "num_frames", 1);
  kw_img(kw, &c.img_height, &c.img_width);
  c.norm_eps = comp["norm_eps"].num;
  c.qkv_bias = kw_bool(kw, "qkv_bias", true);
  c.handle_nonsquare = kw_bool(kw, "handle_nonsquare_inputs", true);
  return c;
}

inline jepa::models::Vjepa2PredictorConfig vjepa2_predictor_config(const Json& comp) {
  const Json& kw = comp["kwargs"];
  jepa::models::Vjepa2PredictorConfig c;
  c.embed_dim = kw_int(kw, "embed_dim", 768);
  c.pred_embed_dim = kw_int(kw, "predictor_embed_dim", 384);
  c.depth = kw_int(kw, "depth", 6);
  c.num_heads = kw_int(kw, "num_heads", 12);
  c.mlp_hidden = mlp_of(kw, c.pred_embed_dim);
  c.patch_size = kw_int(kw, "patch_size", 16);
  c.tubelet_size = kw_int(kw, "tubelet_size", 2);
  c.num_frames = kw_int(kw, "num_frames", 1);
  kw_img(kw, &c.img_height, &c.img_width);
  c.norm_eps = comp["norm_eps"].num;
  c.qkv_bias = kw_bool(kw, "qkv_bias", true);
  c.num_mask_tokens = kw_int(kw, "num_mask_tokens", 2);
  return c;
}

inline jepa::models::AcPredictorConfig ac_predictor_config(const Json& comp) {
  const Json& kw = comp["kwargs"];
  jepa::models::AcPredictorConfig c;
  c.embed_dim = kw_int(kw, "embed_dim", 768);
  c.pred_embed_dim = kw_int(kw, "predictor_embed_dim", 1024);
  c.depth = kw_int(kw, "depth", 24);
  c.num_heads = kw_int(kw, "num_heads", 16);
  c.mlp_hidden = mlp_of(kw, c.pred_embed_dim);
  c.patch_size = kw_int(kw, "patch_size", 16);
  c.tubelet_size = kw_int(kw, "tubelet_size", 2);
  c.num_frames = kw_int(kw, "num_frames", 1);
  kw_img(kw, &c.img_height, &c.img_width);
  c.norm_eps = comp["norm_eps"].num;
  c.qkv_bias = kw_bool(kw, "qkv_bias", true);
  c.action_dim = kw_int(kw, "action_embed_dim", 7);
  c.use_extrinsics = kw_bool(kw, "use_extrinsics", false);
  c.frame_causal = kw_bool(kw, "is_frame_causal", true);
  return c;
}

inline jepa::models::IjepaEncoderConfig ijepa_encoder_config(const Json& comp) {
  const Json& kw = comp["kwargs"];
  jepa::models::IjepaEncoderConfig c;
  c.embed_dim = kw_int(kw, "embed_dim", 768);
  c.depth = kw_int(kw, "depth", 12);
  c.num_heads = kw_int(kw, "num_heads", 12);
  c.mlp_hidden = mlp_of(kw, c.embed_dim);
  c.patch_size = kw_int(kw, "patch_size", 16);
  c.in_chans = kw_int(kw, "in_chans", 3);
  int64_t w = 0;
  kw_img(kw, &c.img_size, &w);
  c.norm_eps = comp["norm_eps"].num;
  c.qkv_bias = kw_bool(kw, "qkv_bias", true);
  return c;
}

inline jepa::models::IjepaPredictorConfig ijepa_predictor_config(const Json& comp) {
  const Json& kw = comp["kwargs"];
  jepa::models::IjepaPredictorConfig c;
  c.embed_dim = kw_int(kw, "embed_dim", 768);
  c.pred_embed_dim = kw_int(kw, "predictor_embed_dim", 384);
  c.depth = kw_int(kw, "depth", 6);
  c.num_heads = kw_int(kw, "num_heads", 12);
  c.mlp_hidden = mlp_of(kw, c.pred_embed_dim);
  c.num_patches = kw_int(kw, "num_patches", 0);
  c.norm_eps = comp["norm_eps"].num;
  c.qkv_bias = kw_bool(kw, "qkv_bias", true);
  return c;
}

// A model of one kind loaded from a golden directory: the .jepa bytes, the
// Config read back from the file and the bound Weights (heap: Weights are
// tens of KB).
template <class Config, class Weights>
struct Loaded {
  std::unique_ptr<AlignedBytes> bytes;
  jepa::ModelFile file;
  Config cfg;
  std::unique_ptr<Weights> w;
  std::string error;

  bool load(const Safetensors& st, const char* prefix, const Config& from_json) {
    std::vector<uint8_t> v;
    if (!make_model_file(st, prefix, from_json, &v, &error)) return false;
    bytes.reset(new AlignedBytes(v));
    auto f = jepa::ModelFile::open(bytes->ptr, bytes->size);
    if (!f) return error = f.status().message(), false;
    file = f.value();
    jepa::Status kind = jepa::models::check_model_kind(file);
    if (!kind.is_ok()) return error = kind.message(), false;
    auto c = Config::from_file(file);
    if (!c) return error = c.status().message(), false;
    cfg = c.value();
    auto bw = Weights::bind(file, cfg);
    if (!bw) return error = bw.status().message(), false;
    w.reset(new Weights(bw.value()));
    return true;
  }
};

// Keeps a copy of every intermediate; key "block.<i>" for blocks.
struct Captured {
  std::map<std::string, std::vector<float>> tensors;
  jepa::models::ForwardObserver observer() {
    jepa::models::ForwardObserver o;
    o.ctx = this;
    o.fn = [](void* ctx, const char* name, int index, const float* data, int64_t rows, int64_t cols) {
      std::string key = name;
      if (key == "block") key += "." + std::to_string(index);
      static_cast<Captured*>(ctx)->tensors[key].assign(data, data + rows * cols);
    };
    return o;
  }
};

// An arena sized by the model's planning function.
struct ArenaBuffer {
  std::vector<uint8_t> storage;
  jepa::Arena arena;
  explicit ArenaBuffer(size_t bytes) : storage(bytes + 64) {
    uint8_t* p = storage.data();
    p += (64 - (reinterpret_cast<uintptr_t>(p) % 64)) % 64;
    arena = jepa::Arena(p, bytes);
  }
};

}  // namespace golden

#endif  // JEPA_TESTS_MODELS_GOLDEN_MODELS_HPP
