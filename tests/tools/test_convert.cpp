// Tests of the converter (tools/common/official_config.hpp + convert.hpp):
// the golden checkpoints convert to files that load and carry the right
// hyper-parameters, and every way a checkpoint or config.json can disagree
// with the model gives its specific error naming the tensor or kwarg.
#include <doctest/doctest.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "jepa/format/model_file.hpp"
#include "jepa/models/kinds.hpp"
#include "tools/common/convert.hpp"

namespace conv = jepa::convert;
namespace st = jepa::safetensors;
namespace json = jepa::json;
using jepa::Error;

namespace {

std::string data_path(const std::string& cfg, const std::string& file) {
  return std::string(JEPA_TEST_DATA_DIR) + "/" + cfg + "/" + file;
}

conv::OfficialConfig load_config(const std::string& cfg) {
  auto c = conv::load_official_config(data_path(cfg, "config.json"));
  REQUIRE_MESSAGE(c.is_ok(), std::string(c.status().message()));
  return c.value();
}

st::File load_weights(const std::string& cfg) {
  auto f = st::File::open(data_path(cfg, "weights.safetensors"));
  REQUIRE_MESSAGE(f.is_ok(), std::string(f.status().message()));
  return std::move(f.value());
}

// A copy of a checkpoint with tensors dropped, renamed, reshaped or added.
struct Edit {
  std::string drop;                  // tensor to leave out
  std::string rename_prefix_from;    // strip/replace this name prefix...
  std::string rename_prefix_to;
  std::string reshape;               // tensor whose shape becomes {reshape_dim}
  int64_t reshape_dim = 0;
  std::string to_f16;                // tensor stored as F16
  std::vector<std::pair<std::string, std::vector<int64_t>>> add;  // extra zero tensors
};

st::File edited(const st::File& src, const Edit& e) {
  st::Writer w;
  for (const st::TensorView& t : src.tensors()) {
    if (t.name == e.drop) continue;
    std::string name = t.name;
    if (!e.rename_prefix_from.empty() && name.compare(0, e.rename_prefix_from.size(), e.rename_prefix_from) == 0)
      name = e.rename_prefix_to + name.substr(e.rename_prefix_from.size());
    if (t.name == e.reshape) {
      std::vector<float> v((size_t)e.reshape_dim, 1.0f);
      REQUIRE(w.add_f32(name, {e.reshape_dim}, v).is_ok());
    } else if (t.name == e.to_f16) {
      std::vector<float> f;
      REQUIRE(st::to_f32(t, &f).is_ok());
      std::vector<uint16_t> h(f.size());
      for (size_t i = 0; i < f.size(); ++i) h[i] = jepa::kernels::ref::f32_to_f16(f[i]);
      REQUIRE(w.add(name, st::DType::F16, t.shape, h.data(), h.size() * 2).is_ok());
    } else {
      REQUIRE(w.add(name, t.dtype, t.shape, t.data, (size_t)t.bytes).is_ok());
    }
  }
  for (const auto& a : e.add) {
    int64_t n = 1;
    for (int64_t d : a.second) n *= d;
    std::vector<float> z((size_t)n, 0.0f);
    REQUIRE(w.add_f32(a.first, a.second, z).is_ok());
  }
  auto f = st::File::from_bytes(w.finish());
  REQUIRE(f.is_ok());
  return std::move(f.value());
}

jepa::Result<std::vector<uint8_t>> convert(const st::File& f, const conv::OfficialConfig& cfg, const std::string& comp,
                                           conv::ConvertReport* rep = nullptr,
                                           jepa::format::DType dtype = jepa::format::DType::f32) {
  conv::ConvertOptions o;
  o.component = comp;
  o.dtype = dtype;
  return conv::convert_component(f, cfg, o, rep);
}

// Converted bytes must load and pass the model kind's check.
struct Loaded {
  explicit Loaded(const std::vector<uint8_t>& b) : size(b.size()) {
    p = std::aligned_alloc(64, (b.size() + 63) & ~size_t(63));
    std::memcpy(p, b.data(), b.size());
  }
  ~Loaded() { std::free(p); }
  jepa::Result<jepa::ModelFile> open() const { return jepa::ModelFile::open(p, size); }
  void* p;
  size_t size;
};

void expect_error(const jepa::Result<std::vector<uint8_t>>& r, Error code, const char* needle) {
  REQUIRE_FALSE(r.is_ok());
  const std::string msg = r.status().message();
  CHECK_MESSAGE(r.status().code() == code, msg);
  CHECK_MESSAGE(msg.find(needle) != std::string::npos, msg);
}

// The config with one kwarg of one component changed.
conv::OfficialConfig with_kwarg(conv::OfficialConfig cfg, const std::string& comp, const char* key, json::Value v) {
  for (conv::Component& c : cfg.components)
    if (c.name == comp) c.kwargs.set(key, std::move(v));
  return cfg;
}

}  // namespace

TEST_CASE("convert: every golden component converts, loads and keeps its hyper-parameters") {
  const char* cfgs[] = {"vjepa2_tiny", "vjepa2_ac_tiny", "ijepa_tiny"};
  for (const char* name : cfgs) {
    conv::OfficialConfig cfg = load_config(name);
    st::File w = load_weights(name);
    for (const conv::Component& c : cfg.components) {
      CAPTURE(name);
      CAPTURE(c.name);
      conv::ConvertReport rep;
      auto bytes = convert(w, cfg, c.name, &rep);
      REQUIRE_MESSAGE(bytes.is_ok(), std::string(bytes.status().message()));
      Loaded l(bytes.value());
      auto f = l.open();
      REQUIRE_MESSAGE(f.is_ok(), std::string(f.status().message()));
      CHECK(jepa::models::check_model_kind(f.value()).is_ok());
      CHECK(rep.prefix == c.weights_component() + ".");
      CHECK(rep.tensors == f->tensor_count());
    }
  }
  // Hyper-parameters from the official kwargs.
  conv::OfficialConfig cfg = load_config("vjepa2_tiny");
  auto bytes = convert(load_weights("vjepa2_tiny"), cfg, "encoder");
  REQUIRE(bytes.is_ok());
  Loaded l(bytes.value());
  auto f = l.open();
  REQUIRE(f.is_ok());
  CHECK(std::string(f->kind()) == "vjepa2.encoder");
  auto c = jepa::models::Vjepa2EncoderConfig::from_file(f.value());
  REQUIRE(c.is_ok());
  CHECK(c->embed_dim == 96);
  CHECK(c->mlp_hidden == 384);
  CHECK(c->num_heads == 3);
  CHECK(c->num_frames == 4);
  CHECK(c->img_height == 48);
  CHECK(c->img_width == 48);
  CHECK(c->norm_eps == 1e-6);
  CHECK(c->handle_nonsquare);
  // AC: the ext component is the same weights with use_extrinsics.
  conv::OfficialConfig ac = load_config("vjepa2_ac_tiny");
  auto ext = convert(load_weights("vjepa2_ac_tiny"), ac, "predictor_ext");
  REQUIRE(ext.is_ok());
  Loaded le(ext.value());
  auto fe = le.open();
  REQUIRE(fe.is_ok());
  auto ce = jepa::models::AcPredictorConfig::from_file(fe.value());
  REQUIRE(ce.is_ok());
  CHECK(ce->use_extrinsics);
  CHECK(ce->frame_causal);
  CHECK(ce->action_dim == 7);
  CHECK(ce->pred_embed_dim == 128);
}

TEST_CASE("convert: mlp_hidden is int(width * mlp_ratio) as Python computes it") {
  conv::OfficialConfig cfg = load_config("vjepa2_tiny");
  // ViT-g's ratio 48/11 as json.dump writes it: 1408 * 4.363636363636363 -> 6144.
  auto doc = json::parse("{\"family\":\"vjepa2\",\"components\":{\"encoder\":{\"ctor\":"
                         "\"src.models.vision_transformer.VisionTransformer\",\"norm_eps\":1e-06,\"kwargs\":"
                         "{\"embed_dim\":1408,\"depth\":40,\"num_heads\":22,\"mlp_ratio\":4.363636363636363,"
                         "\"use_rope\":true,\"img_size\":256,\"num_frames\":64}}}}");
  REQUIRE(doc.is_ok());
  auto g = conv::parse_official_config(doc.value(), "inline");
  REQUIRE(g.is_ok());
  auto c = conv::to_vjepa2_encoder(g->components[0]);
  REQUIRE_MESSAGE(c.is_ok(), std::string(c.status().message()));
  CHECK(c->mlp_hidden == 6144);
  CHECK(c->img_height == 256);
  CHECK(c->img_width == 256);
  auto plan = conv::plan_component(g.value(), "encoder");
  REQUIRE(plan.is_ok());
  CHECK(plan->tensors.size() == 4 + 40 * 12);  // patch embed w/b, 12 per block, final norm w/b
}

TEST_CASE("convert: missing, extra and mis-shaped tensors are named") {
  conv::OfficialConfig cfg = load_config("vjepa2_tiny");
  st::File w = load_weights("vjepa2_tiny");
  SUBCASE("missing") {
    Edit e;
    e.drop = "encoder.norm.bias";
    expect_error(convert(edited(w, e), cfg, "encoder"), Error::missing_tensor, "encoder.norm.bias");
  }
  SUBCASE("extra") {
    Edit e;
    e.add = {{"encoder.blocks.0.attn.q_norm.weight", {32}}};
    expect_error(convert(edited(w, e), cfg, "encoder"), Error::unexpected_tensor, "encoder.blocks.0.attn.q_norm.weight");
    // A tensor of another component does not disturb this one.
    Edit o;
    o.add = {{"predictor.something_else", {4}}};
    CHECK(convert(edited(w, o), cfg, "encoder").is_ok());
    expect_error(convert(edited(w, o), cfg, "predictor"), Error::unexpected_tensor, "predictor.something_else");
  }
  SUBCASE("mis-shaped") {
    Edit e;
    e.reshape = "encoder.blocks.1.norm2.weight";
    e.reshape_dim = 95;
    expect_error(convert(edited(w, e), cfg, "encoder"), Error::shape_mismatch, "encoder.blocks.1.norm2.weight");
  }
  SUBCASE("a config that disagrees with the weights is a shape error") {
    conv::OfficialConfig wrong = with_kwarg(cfg, "encoder", "embed_dim", json::Value::make_int(64));
    wrong = with_kwarg(wrong, "encoder", "num_heads", json::Value::make_int(2));
    expect_error(convert(w, wrong, "encoder"), Error::shape_mismatch, "(check config.json)");
  }
  SUBCASE("documented ignorable tensors are skipped and reported") {
    Edit e;
    e.add = {{"encoder.pos_embed", {1, 18, 96}}, {"predictor.predictor_pos_embed", {1, 18, 64}}};
    st::File f = edited(w, e);
    conv::ConvertReport rep;
    REQUIRE(convert(f, cfg, "encoder", &rep).is_ok());
    REQUIRE(rep.ignored.size() == 1);
    CHECK(rep.ignored[0].find("encoder.pos_embed") == 0);
    REQUIRE(convert(f, cfg, "predictor", &rep).is_ok());
    CHECK(rep.ignored.size() == 1);
    // ... but I-JEPA's pos_embed is a used table, and a stray one there is an error.
    conv::OfficialConfig ij = load_config("ijepa_tiny");
    Edit x;
    x.add = {{"encoder.predictor_pos_embed", {1, 9, 64}}};
    expect_error(convert(edited(load_weights("ijepa_tiny"), x), ij, "encoder"), Error::unexpected_tensor,
                 "encoder.predictor_pos_embed");
  }
}

TEST_CASE("convert: prefixes, bare state_dicts and source dtypes") {
  conv::OfficialConfig cfg = load_config("vjepa2_tiny");
  st::File w = load_weights("vjepa2_tiny");
  SUBCASE("a bare encoder state_dict (no component prefix)") {
    st::Writer only;
    for (const st::TensorView& t : w.tensors())
      if (t.name.compare(0, 8, "encoder.") == 0)
        REQUIRE(only.add(t.name.substr(8), t.dtype, t.shape, t.data, (size_t)t.bytes).is_ok());
    auto f = st::File::from_bytes(only.finish());
    REQUIRE(f.is_ok());
    conv::ConvertReport rep;
    auto b = convert(f.value(), cfg, "encoder", &rep);
    REQUIRE_MESSAGE(b.is_ok(), std::string(b.status().message()));
    CHECK(rep.prefix.empty());
    // The bare state_dict is the encoder's: the predictor finds none of its tensors.
    expect_error(convert(f.value(), cfg, "predictor"), Error::missing_tensor, "predictor_embed.weight");
  }
  SUBCASE("an explicit prefix") {
    Edit e;
    e.rename_prefix_from = "encoder.";
    e.rename_prefix_to = "module.backbone.";
    st::File f = edited(w, e);
    conv::ConvertOptions o;
    o.component = "encoder";
    o.has_prefix = true;
    o.prefix = "module.backbone.";
    CHECK(conv::convert_component(f, cfg, o, nullptr).is_ok());
    o.prefix = "module.";
    auto r = conv::convert_component(f, cfg, o, nullptr);
    REQUIRE_FALSE(r.is_ok());
    CHECK(r.status().code() == Error::missing_tensor);
  }
  SUBCASE("F16 sources become f32 and are reported") {
    Edit e;
    e.to_f16 = "encoder.blocks.0.mlp.fc1.weight";
    conv::ConvertReport rep;
    auto b = convert(edited(w, e), cfg, "encoder", &rep);
    REQUIRE(b.is_ok());
    REQUIRE(rep.converted.size() == 1);
    CHECK(rep.converted[0] == "encoder.blocks.0.mlp.fc1.weight: F16 -> f32");
  }
  SUBCASE("a non-float tensor cannot be a weight") {
    st::Writer bad;
    for (const st::TensorView& t : w.tensors()) {
      if (t.name == "encoder.norm.weight") {
        std::vector<int32_t> ints(96, 1);
        REQUIRE(bad.add(t.name, st::DType::I32, {96}, ints.data(), ints.size() * 4).is_ok());
      } else {
        REQUIRE(bad.add(t.name, t.dtype, t.shape, t.data, (size_t)t.bytes).is_ok());
      }
    }
    auto f = st::File::from_bytes(bad.finish());
    REQUIRE(f.is_ok());
    expect_error(convert(f.value(), cfg, "encoder"), Error::unknown_dtype, "encoder.norm.weight");
  }
}

TEST_CASE("convert: config.json values jepa-rt cannot honour are rejected") {
  conv::OfficialConfig cfg = load_config("vjepa2_tiny");
  st::File w = load_weights("vjepa2_tiny");
  expect_error(convert(w, with_kwarg(cfg, "encoder", "use_rope", json::Value::make_bool(false)), "encoder"),
               Error::unsupported, "use_rope");
  expect_error(convert(w, with_kwarg(cfg, "encoder", "use_silu", json::Value::make_bool(true)), "encoder"),
               Error::unsupported, "use_silu");
  expect_error(convert(w, with_kwarg(cfg, "encoder", "qk_scale", json::Value::make_number(0.1)), "encoder"),
               Error::unsupported, "qk_scale");
  expect_error(convert(w, with_kwarg(cfg, "encoder", "drop_rate", json::Value::make_number(0.1)), "encoder"),
               Error::unsupported, "drop_rate");
  expect_error(convert(w, with_kwarg(cfg, "predictor", "use_mask_tokens", json::Value::make_bool(false)), "predictor"),
               Error::unsupported, "use_mask_tokens");
  expect_error(convert(w, with_kwarg(cfg, "encoder", "embed_dimm", json::Value::make_int(96)), "encoder"),
               Error::bad_checkpoint, "embed_dimm");
  expect_error(convert(w, with_kwarg(cfg, "encoder", "depth", json::Value::make_string("2")), "encoder"),
               Error::bad_checkpoint, "depth");
  expect_error(convert(w, with_kwarg(cfg, "encoder", "num_heads", json::Value::make_int(5)), "encoder"),
               Error::bad_hparam, "heads");
  // Training-only kwargs and the hub's misspellings are accepted.
  conv::OfficialConfig ok = with_kwarg(cfg, "encoder", "drop_path_rate", json::Value::make_number(0.2));
  ok = with_kwarg(ok, "encoder", "use_SiLU", json::Value::make_bool(false));
  ok = with_kwarg(ok, "encoder", "init_std", json::Value::make_number(0.02));
  CHECK(convert(w, ok, "encoder").is_ok());
  // norm_eps is required: eps mistakes are invisible on most outputs.
  conv::OfficialConfig no_eps = cfg;
  no_eps.components[0].has_norm_eps = false;
  expect_error(convert(w, no_eps, "encoder"), Error::bad_checkpoint, "norm_eps");
  // Unknown component and unknown constructor.
  expect_error(convert(w, cfg, "decoder"), Error::not_found, "decoder");
  conv::OfficialConfig ctor = cfg;
  ctor.components[0].ctor = "src.models.vision_transformer.VisionTransformerXL";
  expect_error(convert(w, ctor, "encoder"), Error::unknown_model_kind, "VisionTransformerXL");
  conv::OfficialConfig fam = cfg;
  fam.family = "dinowm";
  expect_error(convert(w, fam, "encoder"), Error::unknown_model_kind, "dinowm");
}

TEST_CASE("convert: config.json structure errors") {
  auto parse = [](const char* text) {
    auto doc = json::parse(text);
    REQUIRE(doc.is_ok());
    return conv::parse_official_config(doc.value(), "config.json");
  };
  CHECK(parse("{\"components\":{}}").status().code() == Error::bad_checkpoint);             // no family
  CHECK(parse("{\"family\":\"vjepa2\",\"components\":{}}").status().code() == Error::bad_checkpoint);
  CHECK(parse("{\"family\":\"vjepa2\",\"components\":{\"e\":{\"kwargs\":{}}}}").status().code() ==
        Error::bad_checkpoint);  // no ctor
  CHECK(parse("{\"family\":\"vjepa2\",\"components\":{\"e\":{\"ctor\":\"x\",\"kwargs\":[]}}}").status().code() ==
        Error::bad_checkpoint);  // kwargs not an object
  auto wf = parse("{\"family\":\"vjepa2\",\"components\":{\"e\":{\"ctor\":\"x\",\"kwargs\":{},\"weights_from\":\"z\"}}}");
  REQUIRE_FALSE(wf.is_ok());
  CHECK(std::string(wf.status().message()).find("'z'") != std::string::npos);
}

TEST_CASE("convert: quantized weight matrices load, vectors stay f32") {
  conv::OfficialConfig cfg = load_config("vjepa2_tiny");
  st::File w = load_weights("vjepa2_tiny");
  const jepa::format::DType dts[] = {jepa::format::DType::f16, jepa::format::DType::bf16, jepa::format::DType::q8,
                                     jepa::format::DType::q4};
  for (jepa::format::DType dt : dts) {
    CAPTURE(jepa::format::dtype_name(dt));
    conv::ConvertReport rep;
    auto b = convert(w, cfg, "encoder", &rep, dt);
    REQUIRE_MESSAGE(b.is_ok(), std::string(b.status().message()));
    Loaded l(b.value());
    auto f = l.open();
    REQUIRE_MESSAGE(f.is_ok(), std::string(f.status().message()));
    CHECK(jepa::models::check_model_kind(f.value()).is_ok());
    CHECK(f->find("blocks.0.attn.qkv.weight").value().dtype == dt);
    CHECK(f->find("patch_embed.proj.weight").value().dtype == dt);
    CHECK(f->find("blocks.0.attn.qkv.bias").value().dtype == jepa::format::DType::f32);
    CHECK(f->find("norm.weight").value().dtype == jepa::format::DType::f32);
    REQUIRE(rep.weights.size() == 9);  // patch embed + 4 per block x 2
    for (const conv::WeightError& e : rep.weights) {
      CHECK(e.rel_l2 > 0.0);            // something was rounded
      CHECK(e.rel_l2 < 0.1);            // but not garbage (q4 on Gaussian weights: ~9%)
      CHECK(e.cosine > 0.99);
    }
  }
}

TEST_CASE("convert: q7 writes q8 weight matrices flagged 7-bit, about twice q8's error") {
  conv::OfficialConfig cfg = load_config("vjepa2_tiny");
  st::File w = load_weights("vjepa2_tiny");
  jepa::format::DType dt = jepa::format::DType::f32;
  uint32_t flags = 0;
  REQUIRE(conv::parse_output_dtype("q7", &dt, &flags));
  CHECK(dt == jepa::format::DType::q8);
  CHECK(flags == (uint32_t)jepa::format::kTensorQ7);
  CHECK_FALSE(conv::parse_output_dtype("q7", &dt));  // a caller that cannot take the flag
  conv::ConvertOptions o;
  o.component = "encoder";
  o.dtype = dt;
  o.weight_flags = flags;
  conv::ConvertReport rep7, rep8;
  auto b = conv::convert_component(w, cfg, o, &rep7);
  REQUIRE_MESSAGE(b.is_ok(), std::string(b.status().message()));
  REQUIRE(convert(w, cfg, "encoder", &rep8, jepa::format::DType::q8).is_ok());
  Loaded l(b.value());
  auto f = l.open();  // the loader checks every flagged value and row sum
  REQUIRE_MESSAGE(f.is_ok(), std::string(f.status().message()));
  CHECK(jepa::models::check_model_kind(f.value()).is_ok());
  CHECK(f->find("blocks.0.attn.qkv.weight").value().flags == (uint32_t)jepa::format::kTensorQ7);
  CHECK(f->find("blocks.0.attn.qkv.bias").value().flags == 0u);
  REQUIRE(rep7.weights.size() == rep8.weights.size());
  for (size_t i = 0; i < rep7.weights.size(); ++i) {
    CAPTURE(rep7.weights[i].name);
    CHECK(rep7.weights[i].rel_l2 > 1.5 * rep8.weights[i].rel_l2);  // half the levels
    CHECK(rep7.weights[i].rel_l2 < 3.0 * rep8.weights[i].rel_l2);
    CHECK(rep7.weights[i].cosine > 0.999);
  }
}
