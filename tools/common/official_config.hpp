// tools/common/official_config.hpp: config.json (the official constructor
// arguments of each component, layout of /work/shared/golden/<cfg>/config.json
// and of tools/export_checkpoint.py's output) -> jepa-rt model Configs.
//
//   {"name", "family": "vjepa2"|"ijepa",
//    "components": {"<name>": {"ctor", "norm_eps", "kwargs": {...}, ["weights_from"]}}}
//
// Each (family, ctor) pair maps to one model kind (the table in kind_of); each
// kind has a mapper that reads the kwargs with the official constructor's
// defaults, rejects values jepa-rt does not implement (no RoPE, SwiGLU, a
// qk_scale, dropout that the official sdpa call would apply even in eval) and
// rejects kwargs it does not know (a silently ignored argument could change
// the model). docs/CONVERT.md lists the mapping. jepa-convert and jepa-verify
// both go through plan_component(), so they cannot disagree.
#ifndef JEPA_TOOLS_COMMON_OFFICIAL_CONFIG_HPP
#define JEPA_TOOLS_COMMON_OFFICIAL_CONFIG_HPP

#include <cmath>
#include <string>
#include <vector>

#include "jepa/format/writer.hpp"
#include "jepa/models/kinds.hpp"
#include "json.hpp"

namespace jepa {
namespace convert {

struct Component {
  std::string name;          // key in "components" ("encoder", "predictor", "predictor_ext")
  std::string ctor;          // dotted path of the official class
  bool has_norm_eps = false;
  double norm_eps = 0.0;     // the eps of partial(nn.LayerNorm, eps=...)
  json::Value kwargs;        // constructor keyword arguments
  std::string weights_from;  // another component whose tensors this one uses ("" = its own)

  // The prefix of this component's tensors in a checkpoint ("predictor." for
  // predictor_ext, whose weights are the predictor's).
  std::string weights_component() const { return weights_from.empty() ? name : weights_from; }
};

struct OfficialConfig {
  std::string name;    // "vjepa2_tiny"
  std::string family;  // "vjepa2" | "ijepa" | ...
  std::vector<Component> components;

  const Component* find(const std::string& n) const {
    for (const Component& c : components)
      if (c.name == n) return &c;
    return nullptr;
  }
  std::string component_names() const {
    std::string s;
    for (const Component& c : components) s += (s.empty() ? "" : ", ") + c.name;
    return s;
  }
};

inline Result<OfficialConfig> parse_official_config(const json::Value& doc, const std::string& where) {
  OfficialConfig cfg;
  Result<std::string> family = json::get_string(doc, "family", where.c_str());
  if (!family) return family.status();
  cfg.family = family.value();
  if (const json::Value* n = doc.find("name"))
    if (n->is_string()) cfg.name = n->as_string();
  Result<const json::Value*> comps = json::member(doc, "components", json::Type::object, where.c_str());
  if (!comps) return comps.status();
  for (const json::Value::Member& m : (*comps)->members()) {
    Component c;
    c.name = m.first;
    const std::string cw = where + " components." + m.first;
    Result<std::string> ctor = json::get_string(m.second, "ctor", cw.c_str());
    if (!ctor) return ctor.status();
    c.ctor = ctor.value();
    if (m.second.find("norm_eps")) {
      Result<double> eps = json::get_number(m.second, "norm_eps", cw.c_str());
      if (!eps) return eps.status();
      c.has_norm_eps = true;
      c.norm_eps = eps.value();
    }
    Result<const json::Value*> kw = json::member(m.second, "kwargs", json::Type::object, cw.c_str());
    if (!kw) return kw.status();
    c.kwargs = **kw;
    if (m.second.find("weights_from")) {
      Result<std::string> wf = json::get_string(m.second, "weights_from", cw.c_str());
      if (!wf) return wf.status();
      c.weights_from = wf.value();
    }
    cfg.components.push_back(std::move(c));
  }
  if (cfg.components.empty()) return Status::error(Error::bad_checkpoint, "%s: \"components\" is empty", where.c_str());
  for (const Component& c : cfg.components)
    if (!c.weights_from.empty() && !cfg.find(c.weights_from))
      return Status::error(Error::bad_checkpoint, "%s: component '%s' takes its weights from '%s', which is not a component",
                           where.c_str(), c.name.c_str(), c.weights_from.c_str());
  return cfg;
}

inline Result<OfficialConfig> load_official_config(const std::string& path) {
  Result<json::Value> doc = json::parse_file(path);
  if (!doc) return doc.status();
  return parse_official_config(doc.value(), path);
}

// ---- (family, ctor) -> model kind ------------------------------------------

struct KindRow {
  const char* family;
  const char* ctor;
  models::ModelKind kind;
};

// One row per official class jepa-rt implements. New families (DINO-WM,
// LeWM) add rows here and a mapper below.
constexpr KindRow kKindTable[] = {
    {"vjepa2", "src.models.vision_transformer.VisionTransformer", models::ModelKind::vjepa2_encoder},
    {"vjepa2", "src.models.predictor.VisionTransformerPredictor", models::ModelKind::vjepa2_predictor},
    {"vjepa2", "src.models.ac_predictor.VisionTransformerPredictorAC", models::ModelKind::vjepa2_ac_predictor},
    {"ijepa", "src.models.vision_transformer.VisionTransformer", models::ModelKind::ijepa_encoder},
    {"ijepa", "src.models.vision_transformer.VisionTransformerPredictor", models::ModelKind::ijepa_predictor},
};

inline Result<models::ModelKind> kind_of(const OfficialConfig& cfg, const Component& c) {
  for (const KindRow& r : kKindTable)
    if (cfg.family == r.family && c.ctor == r.ctor) return r.kind;
  return Status::error(Error::unknown_model_kind,
                       "component '%s': constructor %s of family '%s' is not a model jepa-rt implements", c.name.c_str(),
                       c.ctor.c_str(), cfg.family.c_str());
}

// ---- kwargs with the official defaults -------------------------------------

// Reads a component's kwargs; every key read (or explicitly ignored) is
// marked, and finish() rejects the rest. Errors are bad_checkpoint, or
// unsupported for a value jepa-rt does not implement, naming the component.
class Kwargs {
 public:
  explicit Kwargs(const Component& c) : c_(c), used_(c.kwargs.members().size(), false) {}

  int64_t get_int(const char* key, int64_t fallback) {
    const json::Value* v = take(key);
    if (!v) return fallback;
    if (!v->is_integer()) fail(Error::bad_checkpoint, key, "is not an integer");
    return v->is_integer() ? v->as_int() : fallback;
  }
  double get_number(const char* key, double fallback) {
    const json::Value* v = take(key);
    if (!v) return fallback;
    if (!v->is_number()) fail(Error::bad_checkpoint, key, "is not a number");
    return v->is_number() ? v->as_number() : fallback;
  }
  bool get_bool(const char* key, bool fallback) {
    const json::Value* v = take(key);
    if (!v) return fallback;
    if (!v->is_bool()) fail(Error::bad_checkpoint, key, "is not true/false");
    return v->is_bool() ? v->as_bool() : fallback;
  }
  // img_size: an int, [side] or [height, width].
  void get_size(const char* key, int64_t fallback, int64_t* h, int64_t* w) {
    *h = *w = fallback;
    const json::Value* v = take(key);
    if (!v) return;
    if (v->is_integer()) {
      *h = *w = v->as_int();
    } else if (v->is_array() && (v->size() == 1 || v->size() == 2) && (*v)[0].is_integer() &&
               (*v)[v->size() - 1].is_integer()) {
      *h = (*v)[0].as_int();
      *w = (*v)[v->size() - 1].as_int();
    } else {
      fail(Error::bad_checkpoint, key, "is not an int, [side] or [height, width]");
    }
  }
  // The key must be absent or equal `required` (a feature jepa-rt lacks otherwise).
  void require_bool(const char* key, bool fallback, bool required, const char* why) {
    if (get_bool(key, fallback) != required) fail(Error::unsupported, key, why);
  }
  void require_null(const char* key, const char* why) {
    const json::Value* v = take(key);
    if (v && !v->is_null()) fail(Error::unsupported, key, why);
  }
  void require_zero(const char* key, const char* why) {
    if (get_number(key, 0.0) != 0.0) fail(Error::unsupported, key, why);
  }
  void ignore(const char* key) { take(key); }

  // mlp_hidden as the official MLP computes it: int(dim * mlp_ratio).
  int64_t mlp_hidden(int64_t dim, double fallback_ratio) {
    const double r = get_number("mlp_ratio", fallback_ratio);
    if (!(r > 0.0)) fail(Error::bad_checkpoint, "mlp_ratio", "must be positive");
    return (int64_t)((double)dim * r);
  }

  double norm_eps() {
    if (!c_.has_norm_eps)
      status_ = first_error(Status::error(Error::bad_checkpoint,
                                          "component '%s': \"norm_eps\" is missing (the eps of the LayerNorms; every "
                                          "official factory passes 1e-6)",
                                          c_.name.c_str()));
    return c_.has_norm_eps ? c_.norm_eps : 1e-6;
  }

  // Ok if every key was consumed and nothing failed.
  Status finish() {
    if (!status_.is_ok()) return status_;
    for (size_t i = 0; i < used_.size(); ++i)
      if (!used_[i])
        return Status::error(Error::bad_checkpoint,
                             "component '%s' (%s): kwarg \"%s\" is not one jepa-rt knows for this constructor", c_.name.c_str(),
                             c_.ctor.c_str(), c_.kwargs.members()[i].first.c_str());
    return Status::ok();
  }

 private:
  const json::Value* take(const char* key) {
    const auto& m = c_.kwargs.members();
    for (size_t i = 0; i < m.size(); ++i)
      if (m[i].first == key) {
        used_[i] = true;
        return &m[i].second;
      }
    return nullptr;
  }
  Status first_error(Status s) { return status_.is_ok() ? s : status_; }
  void fail(Error code, const char* key, const char* why) {
    status_ = first_error(Status::error(code, "component '%s' (%s): kwarg \"%s\" %s", c_.name.c_str(), c_.ctor.c_str(),
                                        key, why));
  }

  const Component& c_;
  std::vector<bool> used_;
  Status status_;
};

// Training-only arguments every ViT constructor takes (no effect on inference
// at all, or only through dropout, which is checked separately).
inline void ignore_training_kwargs(Kwargs& k) {
  for (const char* key : {"init_std", "drop_path_rate", "use_activation_checkpointing", "zero_init_mask_tokens",
                          "out_layers", "use_sdpa"})
    k.ignore(key);
}

// V-JEPA 2's attention calls F.scaled_dot_product_attention(dropout_p=proj_drop),
// which drops even in eval: only 0 reproduces the deterministic model.
inline void vjepa2_common(Kwargs& k) {
  ignore_training_kwargs(k);
  k.require_zero("drop_rate", "is not 0: the official sdpa attention applies this dropout even in eval mode");
  k.ignore("attn_drop_rate");  // unused on the sdpa path
  k.require_null("qk_scale", "is set: only the default 1/sqrt(head_dim) attention scale is implemented");
  k.require_bool("use_silu", false, false, "is true: the SwiGLU MLP is not implemented (released models use GELU)");
  k.ignore("wide_silu");       // only read with use_silu
  k.ignore("uniform_power");   // only shapes the sincos pos-embed, unused with RoPE
  k.ignore("use_SiLU");        // the hub's misspellings, swallowed by **kwargs
  k.ignore("wide_SiLU");
  k.require_bool("use_rope", false, true, "is false: the sincos pos-embed variant of V-JEPA 2 is not implemented");
}

inline Result<models::Vjepa2EncoderConfig> to_vjepa2_encoder(const Component& comp) {
  Kwargs k(comp);
  models::Vjepa2EncoderConfig c;
  k.get_size("img_size", 224, &c.img_height, &c.img_width);
  c.patch_size = k.get_int("patch_size", 16);
  c.num_frames = k.get_int("num_frames", 1);
  c.tubelet_size = k.get_int("tubelet_size", 2);
  c.in_chans = k.get_int("in_chans", 3);
  c.embed_dim = k.get_int("embed_dim", 768);
  c.depth = k.get_int("depth", 12);
  c.num_heads = k.get_int("num_heads", 12);
  c.mlp_hidden = k.mlp_hidden(c.embed_dim, 4.0);
  c.qkv_bias = k.get_bool("qkv_bias", true);
  c.handle_nonsquare = k.get_bool("handle_nonsquare_inputs", true);
  c.norm_eps = k.norm_eps();
  vjepa2_common(k);
  JEPA_RETURN_IF_ERROR(k.finish());
  JEPA_RETURN_IF_ERROR(c.validate());
  return c;
}

inline Result<models::Vjepa2PredictorConfig> to_vjepa2_predictor(const Component& comp) {
  Kwargs k(comp);
  models::Vjepa2PredictorConfig c;
  k.get_size("img_size", 224, &c.img_height, &c.img_width);
  c.patch_size = k.get_int("patch_size", 16);
  c.num_frames = k.get_int("num_frames", 1);
  c.tubelet_size = k.get_int("tubelet_size", 2);
  c.embed_dim = k.get_int("embed_dim", 768);
  c.pred_embed_dim = k.get_int("predictor_embed_dim", 384);
  c.depth = k.get_int("depth", 6);
  c.num_heads = k.get_int("num_heads", 12);
  c.mlp_hidden = k.mlp_hidden(c.pred_embed_dim, 4.0);
  c.qkv_bias = k.get_bool("qkv_bias", true);
  k.require_bool("use_mask_tokens", false, true, "is false: only the mask-token predictor is implemented");
  c.num_mask_tokens = k.get_int("num_mask_tokens", 2);
  k.require_bool("return_all_tokens", false, false, "is true: only the target-token output is implemented");
  if (k.get_int("chop_last_n_tokens", 0) != 0)
    return Status::error(Error::unsupported, "component '%s': chop_last_n_tokens != 0 is not implemented",
                         comp.name.c_str());
  c.norm_eps = k.norm_eps();
  vjepa2_common(k);
  JEPA_RETURN_IF_ERROR(k.finish());
  JEPA_RETURN_IF_ERROR(c.validate());
  return c;
}

inline Result<models::AcPredictorConfig> to_vjepa2_ac_predictor(const Component& comp) {
  Kwargs k(comp);
  models::AcPredictorConfig c;
  k.get_size("img_size", 224, &c.img_height, &c.img_width);
  c.patch_size = k.get_int("patch_size", 16);
  c.num_frames = k.get_int("num_frames", 1);
  c.tubelet_size = k.get_int("tubelet_size", 2);
  c.embed_dim = k.get_int("embed_dim", 768);
  c.pred_embed_dim = k.get_int("predictor_embed_dim", 1024);
  c.depth = k.get_int("depth", 24);
  c.num_heads = k.get_int("num_heads", 16);
  c.mlp_hidden = k.mlp_hidden(c.pred_embed_dim, 4.0);
  c.qkv_bias = k.get_bool("qkv_bias", true);
  c.frame_causal = k.get_bool("is_frame_causal", true);
  c.action_dim = k.get_int("action_embed_dim", 7);
  c.use_extrinsics = k.get_bool("use_extrinsics", false);
  c.norm_eps = k.norm_eps();
  // The AC class defaults to use_rope=True, unlike the others.
  k.require_bool("use_rope", true, true, "is false: the sincos variant of the AC predictor is not implemented");
  vjepa2_common(k);
  JEPA_RETURN_IF_ERROR(k.finish());
  JEPA_RETURN_IF_ERROR(c.validate());
  return c;
}

// I-JEPA's blocks compute attention explicitly (no sdpa), so its dropout
// modules are inactive in eval and the drop rates do not matter.
inline void ijepa_common(Kwargs& k) {
  ignore_training_kwargs(k);
  for (const char* key : {"drop_rate", "attn_drop_rate"}) k.ignore(key);
  k.require_null("qk_scale", "is set: only the default 1/sqrt(head_dim) attention scale is implemented");
}

inline Result<models::IjepaEncoderConfig> to_ijepa_encoder(const Component& comp) {
  Kwargs k(comp);
  models::IjepaEncoderConfig c;
  int64_t h = 0, w = 0;
  k.get_size("img_size", 224, &h, &w);  // the official code reads img_size[0] only
  c.img_size = h;
  c.patch_size = k.get_int("patch_size", 16);
  c.in_chans = k.get_int("in_chans", 3);
  c.embed_dim = k.get_int("embed_dim", 768);
  c.depth = k.get_int("depth", 12);
  c.num_heads = k.get_int("num_heads", 12);
  c.mlp_hidden = k.mlp_hidden(c.embed_dim, 4.0);
  c.qkv_bias = k.get_bool("qkv_bias", true);
  c.norm_eps = k.norm_eps();
  // The encoder class takes (and ignores) predictor sizes in its signature.
  k.ignore("predictor_embed_dim");
  k.ignore("predictor_depth");
  ijepa_common(k);
  JEPA_RETURN_IF_ERROR(k.finish());
  JEPA_RETURN_IF_ERROR(c.validate());
  return c;
}

inline Result<models::IjepaPredictorConfig> to_ijepa_predictor(const Component& comp) {
  Kwargs k(comp);
  models::IjepaPredictorConfig c;
  c.num_patches = k.get_int("num_patches", 0);
  if (c.num_patches <= 0)
    return Status::error(Error::bad_checkpoint, "component '%s': kwarg \"num_patches\" (required) is missing or not positive",
                         comp.name.c_str());
  c.embed_dim = k.get_int("embed_dim", 768);
  c.pred_embed_dim = k.get_int("predictor_embed_dim", 384);
  c.depth = k.get_int("depth", 6);
  c.num_heads = k.get_int("num_heads", 12);
  c.mlp_hidden = k.mlp_hidden(c.pred_embed_dim, 4.0);
  c.qkv_bias = k.get_bool("qkv_bias", true);
  c.norm_eps = k.norm_eps();
  ijepa_common(k);
  JEPA_RETURN_IF_ERROR(k.finish());
  JEPA_RETURN_IF_ERROR(c.validate());
  return c;
}

// ---- the kind-independent view the converter works on ------------------------

struct TensorSpec {
  std::string key;  // official state_dict key, component prefix stripped
  std::vector<int64_t> shape;
  models::TensorRole role = models::TensorRole::vector;
};

struct ComponentPlan {
  models::ModelKind kind = models::ModelKind::unknown;
  std::string component;        // the config's component name
  format::Writer header;        // model kind + hyper-parameters, no tensors yet
  std::vector<TensorSpec> tensors;  // every tensor the model reads, in for_each_tensor order
  // Keys a released checkpoint holds that the model does not read, skipped
  // without an unexpected_tensor error (with the reason, for the report).
  std::vector<std::pair<std::string, std::string>> ignorable;
};

namespace detail {

struct SpecCollector {
  std::vector<TensorSpec>* out;
  void operator()(const char* name, const int64_t* shape, int rank, models::TensorRole role) {
    TensorSpec t;
    t.key = name;
    t.shape.assign(shape, shape + rank);
    t.role = role;
    out->push_back(std::move(t));
  }
};

template <class Config>
void fill_plan(const Config& c, ComponentPlan* p) {
  p->header.set_kind(Config::kKind);
  c.write_hparams(p->header);
  SpecCollector collect{&p->tensors};
  for_each_tensor(c, collect);
}

}  // namespace detail

inline Result<ComponentPlan> plan_component(const OfficialConfig& cfg, const std::string& component) {
  const Component* comp = cfg.find(component);
  if (!comp)
    return Status::error(Error::not_found, "config has no component '%s' (it has: %s)", component.c_str(),
                         cfg.component_names().c_str());
  Result<models::ModelKind> kind = kind_of(cfg, *comp);
  if (!kind) return kind.status();
  ComponentPlan p;
  p.kind = kind.value();
  p.component = component;
  switch (p.kind) {
    case models::ModelKind::vjepa2_encoder: {
      Result<models::Vjepa2EncoderConfig> c = to_vjepa2_encoder(*comp);
      if (!c) return c.status();
      detail::fill_plan(c.value(), &p);
      p.ignorable.emplace_back("pos_embed", "sincos table of released checkpoints, unused with RoPE");
      break;
    }
    case models::ModelKind::vjepa2_predictor: {
      Result<models::Vjepa2PredictorConfig> c = to_vjepa2_predictor(*comp);
      if (!c) return c.status();
      detail::fill_plan(c.value(), &p);
      p.ignorable.emplace_back("predictor_pos_embed", "sincos table of released checkpoints, unused with RoPE");
      break;
    }
    case models::ModelKind::vjepa2_ac_predictor: {
      Result<models::AcPredictorConfig> c = to_vjepa2_ac_predictor(*comp);
      if (!c) return c.status();
      detail::fill_plan(c.value(), &p);
      break;
    }
    case models::ModelKind::ijepa_encoder: {
      Result<models::IjepaEncoderConfig> c = to_ijepa_encoder(*comp);
      if (!c) return c.status();
      detail::fill_plan(c.value(), &p);
      break;
    }
    case models::ModelKind::ijepa_predictor: {
      Result<models::IjepaPredictorConfig> c = to_ijepa_predictor(*comp);
      if (!c) return c.status();
      detail::fill_plan(c.value(), &p);
      break;
    }
    case models::ModelKind::unknown:
      return Status::error(Error::unknown_model_kind, "component '%s': unknown model kind", component.c_str());
  }
  return p;
}

}  // namespace convert
}  // namespace jepa

#endif  // JEPA_TOOLS_COMMON_OFFICIAL_CONFIG_HPP
