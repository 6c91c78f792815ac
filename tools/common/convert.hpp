// tools/common/convert.hpp: one component of an official checkpoint
// (safetensors + config.json) -> the bytes of a .jepa file. Used by
// jepa-convert (which writes them) and jepa-verify (which runs them).
//
// For every tensor the model kind lists (official_config.hpp's plan, i.e. the
// model's for_each_tensor), the checkpoint tensor "<prefix><key>" is looked
// up, its shape checked and its values read as float32 (F32/F16/BF16/F64
// sources). The prefix is "<component>." (the golden naming), or given
// explicitly, or empty when no checkpoint tensor carries "<component>." (a
// bare state_dict). Every checkpoint tensor under the prefix must be used or
// be one of the kind's documented ignorable keys: anything else is an
// unexpected_tensor error, since it means the config and the weights disagree.
//
// Output dtype: vectors and tables are always f32; weight matrices go through
// encode_weight(), the one place where the f16/bf16/q8/q4 quantizers (and the
// panel packing of kernels/quantize.hpp) are called.
#ifndef JEPA_TOOLS_COMMON_CONVERT_HPP
#define JEPA_TOOLS_COMMON_CONVERT_HPP

#include <string>
#include <vector>

#include "jepa/format/format.hpp"
#include "jepa/format/writer.hpp"
#include "jepa/kernels/quantize.hpp"
#include "official_config.hpp"
#include "safetensors.hpp"

namespace jepa {
namespace convert {

struct ConvertOptions {
  std::string component;            // config component to convert
  bool has_prefix = false;          // use `prefix` instead of the automatic choice
  std::string prefix;               // e.g. "encoder." or "" (bare keys)
  format::DType dtype = format::DType::f32;  // for weight matrices
  uint32_t weight_flags = 0;                 // format::TensorFlag bits of the weight matrices (q7)
  format::Layout layout = format::Layout::row_major;  // for weight matrices (panel: the kernels' packing)
};

// Error of one encoded weight matrix against its float32 values.
struct WeightError {
  std::string name;
  format::DType dtype = format::DType::f32;
  double max_abs = 0.0, rel_l2 = 0.0, cosine = 1.0;
};

struct ConvertReport {
  std::string kind;      // model kind written
  std::string prefix;    // the checkpoint prefix used
  size_t tensors = 0;    // tensors written
  uint64_t parameters = 0;
  std::vector<std::string> ignored;   // "name (reason)" for skipped ignorable tensors
  std::vector<std::string> converted; // "name: F16 -> f32" where the source dtype changed
  std::vector<WeightError> weights;   // one per weight matrix, when not written as f32 row_major
};

// "f32" -> DType::f32, etc.; the dtypes jepa-convert accepts on its command
// line. "q7" is q8 storage with 7-bit weights (flag format::kTensorQ7): half
// the weight resolution, for the AVX2 u8 x s8 kernel (docs/FORMAT.md).
struct OutputDtype {
  const char* name;
  format::DType dtype;
  uint32_t flags;  // TensorFlag bits of the weight matrices
};
constexpr OutputDtype kOutputDtypes[] = {
    {"f32", format::DType::f32, 0}, {"f16", format::DType::f16, 0}, {"bf16", format::DType::bf16, 0},
    {"q8", format::DType::q8, 0},   {"q7", format::DType::q8, format::kTensorQ7}, {"q4", format::DType::q4, 0},
};

inline bool parse_output_dtype(const std::string& s, format::DType* out, uint32_t* flags = nullptr) {
  for (const OutputDtype& r : kOutputDtypes)
    if (s == r.name) {
      *out = r.dtype;
      if (flags) *flags = r.flags;
      return r.flags == 0 || flags != nullptr;
    }
  return false;
}

// The command-line name of dtype + flags ("q7" for flagged q8).
inline const char* output_dtype_name(format::DType dtype, uint32_t flags) {
  for (const OutputDtype& r : kOutputDtypes)
    if (r.dtype == dtype && r.flags == flags) return r.name;
  return format::dtype_name(dtype);
}

// The quantize hook: writes one weight matrix (role weight_matrix, float32
// values in canonical order [N][K...], viewed as N rows of K = the product of
// the other dims) as `dtype` in `layout`, through the kernels' quantizers
// (kernels/quantize.hpp), and measures its error. f32 row_major is a copy.
inline Status encode_weight(format::DType dtype, format::Layout layout, const std::string& name,
                            const std::vector<int64_t>& shape, const std::vector<float>& values, format::Writer& w,
                            WeightError* err, uint32_t flags = 0) {
  err->name = name;
  err->dtype = dtype;
  if (dtype == format::DType::f32 && layout == format::Layout::row_major)
    return w.add_tensor(name, dtype, shape, values.data(), values.size() * 4);
  const int64_t n = shape[0], k = (int64_t)values.size() / n;
  uint32_t params[6] = {0, 0, 0, 0, 0, 0};
  if (layout == format::Layout::panel && !kernels::standard_panel_params(dtype, params))
    return Status::error(Error::unsupported, "no panel layout for dtype %s", format::dtype_name(dtype));
  Result<size_t> bytes = kernels::packed_bytes(dtype, layout, n, k, params);
  if (!bytes) return bytes.status();
  std::vector<uint8_t> buf(bytes.value());
  JEPA_RETURN_IF_ERROR(
      kernels::quantize_matrix(values.data(), n, k, dtype, layout, params, buf.data(), buf.size(), flags));
  const kernels::WeightMatrix view =
      kernels::weight_view(dtype, layout, params, (int32_t)n, (int32_t)k, buf.data(), flags);
  const kernels::QuantError e = kernels::quant_error(values.data(), view);
  err->max_abs = e.max_abs;
  err->rel_l2 = e.rel_l2;
  err->cosine = e.cosine;
  return w.add_tensor(name, dtype, shape, buf.data(), buf.size(), layout,
                      layout == format::Layout::row_major ? nullptr : params, flags);
}

namespace detail {

inline bool starts_with(const std::string& s, const std::string& p) { return s.compare(0, p.size(), p) == 0; }

inline std::string shape_string(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? "," : "") + std::to_string(shape[i]);
  return s + "]";
}

inline std::string choose_prefix(const safetensors::File& st, const Component& comp, const ConvertOptions& opt) {
  if (opt.has_prefix) return opt.prefix;
  const std::string p = comp.weights_component() + ".";
  for (const safetensors::TensorView& t : st.tensors())
    if (starts_with(t.name, p)) return p;
  return "";  // a bare state_dict of this one component
}

}  // namespace detail

inline Result<std::vector<uint8_t>> convert_component(const safetensors::File& st, const OfficialConfig& cfg,
                                                      const ConvertOptions& opt, ConvertReport* report) {
  Result<ComponentPlan> plan = plan_component(cfg, opt.component);
  if (!plan) return plan.status();
  const Component& comp = *cfg.find(opt.component);
  const std::string prefix = detail::choose_prefix(st, comp, opt);
  ConvertReport rep;
  rep.kind = models::model_kind_name(plan->kind);
  rep.prefix = prefix;
  format::Writer& w = plan->header;
  std::vector<std::string> used;
  std::vector<float> values;
  for (const TensorSpec& spec : plan->tensors) {
    const std::string src = prefix + spec.key;
    const safetensors::TensorView* t = st.find(src);
    if (!t)
      return Status::error(Error::missing_tensor, "checkpoint has no tensor '%s' (%s needs %s %s)", src.c_str(),
                           rep.kind.c_str(), spec.key.c_str(), detail::shape_string(spec.shape).c_str());
    if (t->shape != spec.shape)
      return Status::error(Error::shape_mismatch, "checkpoint tensor '%s' has shape %s, %s needs %s (check config.json)",
                           src.c_str(), t->shape_str().c_str(), rep.kind.c_str(),
                           detail::shape_string(spec.shape).c_str());
    Status s = safetensors::to_f32(*t, &values);
    if (!s.is_ok()) return s;
    if (t->dtype != safetensors::DType::F32)
      rep.converted.push_back(src + ": " + safetensors::dtype_name(t->dtype) + " -> f32");
    if (spec.role == models::TensorRole::weight_matrix) {
      WeightError err;
      s = encode_weight(opt.dtype, opt.layout, spec.key, spec.shape, values, w, &err, opt.weight_flags);
      if (opt.dtype != format::DType::f32 || opt.layout != format::Layout::row_major) rep.weights.push_back(err);
    } else
      s = w.add_tensor(spec.key, format::DType::f32, spec.shape, values.data(), values.size() * 4);
    if (!s.is_ok()) return Status::error(s.code(), "tensor '%s': %s", src.c_str(), s.message());
    used.push_back(src);
    rep.parameters += (uint64_t)t->numel();
  }
  // Everything under the prefix must have been used or be ignorable.
  for (const safetensors::TensorView& t : st.tensors()) {
    if (!detail::starts_with(t.name, prefix)) continue;
    bool is_used = false;
    for (const std::string& u : used) is_used = is_used || u == t.name;
    if (is_used) continue;
    const std::string key = t.name.substr(prefix.size());
    bool ignorable = false;
    for (const auto& ig : plan->ignorable)
      if (key == ig.first) {
        ignorable = true;
        rep.ignored.push_back(t.name + " (" + ig.second + ")");
      }
    if (!ignorable)
      return Status::error(Error::unexpected_tensor,
                           "checkpoint tensor '%s' %s is not used by %s (component '%s'): the config and the weights "
                           "disagree",
                           t.name.c_str(), t.shape_str().c_str(), rep.kind.c_str(), opt.component.c_str());
  }
  rep.tensors = w.tensor_count();
  Result<std::vector<uint8_t>> bytes = w.finish();
  if (!bytes) return bytes.status();
  if (report) *report = rep;
  return bytes;
}

}  // namespace convert
}  // namespace jepa

#endif  // JEPA_TOOLS_COMMON_CONVERT_HPP
