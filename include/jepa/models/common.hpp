// jepa/models/common.hpp: pieces every model header shares.
//
// - TensorRole and the for_each_tensor visitor convention: each model kind has
//   one function listing every tensor it reads (official state_dict key with the
//   component prefix stripped, logical shape, role). Converters, check_model_kind
//   and the Weights binders all walk that one list, so it is the single source
//   of truth for names and shapes.
// - Reading and range-checking hyper-parameters (Error::bad_hparam).
// - Binding tensors of a validated ModelFile to WeightMatrix / float vectors.
// - ForwardObserver: an optional hook through which a forward pass shows its
//   intermediates (patch embedding, each block's residual stream) to tests and
//   jepa-verify, without allocating or copying.
#ifndef JEPA_MODELS_COMMON_HPP
#define JEPA_MODELS_COMMON_HPP

#include <cmath>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstring>

#include "../format/model_file.hpp"
#include "../format/writer.hpp"
#include "../kernels/gemm.hpp"
#include "../runtime/arena.hpp"
#include "../status.hpp"

namespace jepa {
namespace models {

// Block weights live in a fixed-capacity array inside each Weights struct:
// binding then needs neither heap nor arena, a Weights value can sit in static
// storage on firmware, and the largest released models (ViT-g: 40 blocks, the
// AC predictor: 24) leave room. A deeper file is rejected by validate().
constexpr int kMaxDepth = 64;

// What a tensor is for; converters use it to decide what may be quantized.
enum class TensorRole : uint8_t {
  weight_matrix = 0,  // Linear weight [N][K] or conv weight [D][C][t][p][p] (viewed as [D][C*t*p*p])
  vector = 1,         // bias, LayerNorm gamma/beta, learned tokens: always f32
  table = 2,          // position-embedding table [1][N][D]: always f32
};

inline const char* tensor_role_name(TensorRole r) {
  switch (r) {
    case TensorRole::weight_matrix: return "weight_matrix";
    case TensorRole::vector: return "vector";
    case TensorRole::table: return "table";
  }
  return "?";
}

// Intermediates seen during a forward pass. `name` is a short tag ("patch_embed",
// "block", "predictor_embed"); `index` is the block number for "block" (else 0);
// data is row-major [rows][cols] and only valid during the call.
struct ForwardObserver {
  void (*fn)(void* ctx, const char* name, int index, const float* data, int64_t rows, int64_t cols) = nullptr;
  void* ctx = nullptr;

  void operator()(const char* name, int index, const float* data, int64_t rows, int64_t cols) const {
    if (fn != nullptr) fn(ctx, name, index, data, rows, cols);
  }
};

namespace detail {

// A tensor name built on the stack (names are < format::kNameCapacity).
struct TensorName {
  char s[format::kNameCapacity];
#if defined(__GNUC__)
  __attribute__((format(printf, 2, 3)))
#endif
  explicit TensorName(const char* fmt, ...) {
    va_list args;
    va_start(args, fmt);
    std::vsnprintf(s, sizeof(s), fmt, args);
    va_end(args);
  }
  operator const char*() const { return s; }  // NOLINT: used as a C string
};

// --- hyper-parameters -----------------------------------------------------

inline Status read_int(const ModelFile& f, const char* key, int64_t lo, int64_t hi, int64_t* out) {
  Result<int64_t> v = f.get_int(key);
  if (!v) return v.status();
  if (v.value() < lo || v.value() > hi)
    return Status::error(Error::bad_hparam, "hyper-parameter '%s' is %lld, expected in [%lld, %lld] (kind %s)",
                         key, (long long)v.value(), (long long)lo, (long long)hi, f.kind());
  *out = v.value();
  return Status::ok();
}

// An optional integer: `fallback` when the key is absent.
inline Status read_int_or(const ModelFile& f, const char* key, int64_t lo, int64_t hi, int64_t fallback,
                          int64_t* out) {
  if (!f.has_hparam(key)) {
    *out = fallback;
    return Status::ok();
  }
  return read_int(f, key, lo, hi, out);
}

inline Status read_bool_or(const ModelFile& f, const char* key, bool fallback, bool* out) {
  int64_t v = 0;
  JEPA_RETURN_IF_ERROR(read_int_or(f, key, 0, 1, fallback ? 1 : 0, &v));
  *out = v != 0;
  return Status::ok();
}

inline Status read_positive_float(const ModelFile& f, const char* key, double* out) {
  Result<double> v = f.get_float(key);
  if (!v) return v.status();
  if (!(v.value() > 0.0) || !std::isfinite(v.value()))
    return Status::error(Error::bad_hparam, "hyper-parameter '%s' is %g, expected a positive number (kind %s)",
                         key, v.value(), f.kind());
  *out = v.value();
  return Status::ok();
}

// Dims that end up in a WeightMatrix (int32) or index arithmetic stay far
// below overflow; 1<<20 is 1000x the widest released model.
constexpr int64_t kMaxDim = int64_t(1) << 20;

inline Status check_dim(const char* what, int64_t v, int64_t lo = 1, int64_t hi = kMaxDim) {
  if (v < lo || v > hi)
    return Status::error(Error::bad_hparam, "%s is %lld, expected in [%lld, %lld]", what, (long long)v,
                         (long long)lo, (long long)hi);
  return Status::ok();
}

// The transformer sizes every model kind shares.
inline Status validate_vit_dims(const char* kind, int64_t dim, int64_t depth, int64_t heads, int64_t mlp_hidden,
                                double norm_eps) {
  if (dim < 1 || dim > kMaxDim)
    return Status::error(Error::bad_hparam, "%s: width %lld outside [1, %lld]", kind, (long long)dim,
                         (long long)kMaxDim);
  if (depth < 1 || depth > kMaxDepth)
    return Status::error(Error::bad_hparam, "%s: depth %lld outside [1, %d]", kind, (long long)depth, kMaxDepth);
  if (heads < 1 || dim % heads != 0)
    return Status::error(Error::bad_hparam, "%s: %lld heads do not divide the width %lld", kind, (long long)heads,
                         (long long)dim);
  if (mlp_hidden < 1 || mlp_hidden > kMaxDim)
    return Status::error(Error::bad_hparam, "%s: mlp_hidden %lld outside [1, %lld]", kind, (long long)mlp_hidden,
                         (long long)kMaxDim);
  if (!(norm_eps > 0.0) || !std::isfinite(norm_eps))
    return Status::error(Error::bad_hparam, "%s: norm_eps %g must be a positive number", kind, norm_eps);
  return Status::ok();
}

// --- tensors ----------------------------------------------------------------

// A file's tensor `name` exists, has exactly `shape` and a dtype its role allows.
inline Status check_tensor(const ModelFile& f, const char* name, const int64_t* shape, int rank,
                           TensorRole role) {
  Result<TensorInfo> t = f.find(name);
  if (!t) return t.status();
  bool same = (int)t->rank == rank;
  for (int i = 0; same && i < rank; ++i) same = t->shape[i] == shape[i];
  if (!same) {
    char want[96] = "", got[96] = "";
    size_t a = 0, b = 0;
    for (int i = 0; i < rank && a < sizeof(want); ++i)
      a += (size_t)std::snprintf(want + a, sizeof(want) - a, i ? ",%lld" : "%lld", (long long)shape[i]);
    for (uint32_t i = 0; i < t->rank && b < sizeof(got); ++i)
      b += (size_t)std::snprintf(got + b, sizeof(got) - b, i ? ",%lld" : "%lld", (long long)t->shape[i]);
    return Status::error(Error::shape_mismatch, "tensor '%s' has shape [%s], the model needs [%s]", name, got,
                         want);
  }
  using format::DType;
  if (role == TensorRole::weight_matrix) {
    const DType d = t->dtype;
    if (d != DType::f32 && d != DType::f16 && d != DType::bf16 && d != DType::q8 && d != DType::q4)
      return Status::error(Error::unknown_dtype, "tensor '%s': dtype %s cannot be a weight matrix", name,
                           format::dtype_name(d));
    // Any layout the loader accepted (row_major, packed panels) is fine:
    // ops::linear dispatches on the WeightMatrix's dtype and layout.
  } else if (t->dtype != DType::f32) {
    return Status::error(Error::unknown_dtype, "tensor '%s' (%s) must be f32, the file has %s", name,
                         tensor_role_name(role), format::dtype_name(t->dtype));
  }
  return Status::ok();
}

// Runs check_tensor over a model's for_each_tensor list; stops at the first error.
struct TensorChecker {
  const ModelFile* file;
  Status status;
  void operator()(const char* name, const int64_t* shape, int rank, TensorRole role) {
    if (status.is_ok()) status = check_tensor(*file, name, shape, rank, role);
  }
};

// Binding assumes check_tensor passed for the same name (Weights::bind runs
// the checker first), so lookups here cannot fail on shape or dtype.
inline Status bind_matrix(const ModelFile& f, const char* name, kernels::WeightMatrix* out) {
  Result<TensorInfo> t = f.find(name);
  if (!t) return t.status();
  out->dtype = t->dtype;
  out->layout = t->layout;
  out->n = (int32_t)t->shape[0];
  out->k = (int32_t)(t->numel() / t->shape[0]);
  out->data = t->data;
  for (int i = 0; i < 6; ++i) out->params[i] = t->layout_params[i];
  out->flags = t->flags;
  return Status::ok();
}

inline Status bind_vector(const ModelFile& f, const char* name, const float** out) {
  Result<TensorInfo> t = f.find(name);
  if (!t) return t.status();
  *out = static_cast<const float*>(t->data);
  return Status::ok();
}

// A forward pass plans its scratch with the same code in measure mode and in
// the real run; this turns a failed plan into an error naming the model.
inline Status check_arena(const Arena& arena, const char* what) {
  if (arena.measuring())
    return Status::error(Error::invalid_argument, "%s: the arena is in measure mode (no buffer)", what);
  Status s = arena.status();
  if (!s.is_ok()) return Status::error(Error::out_of_memory, "%s: %s", what, s.message());
  return Status::ok();
}

}  // namespace detail

// Every token index of a mask lies in [0, n_tokens).
inline Status check_token_indices(const int64_t* idx, int64_t count, int64_t n_tokens, const char* what) {
  for (int64_t i = 0; i < count; ++i)
    if (idx[i] < 0 || idx[i] >= n_tokens)
      return Status::error(Error::invalid_argument, "%s[%lld] = %lld is outside the %lld-token grid", what,
                           (long long)i, (long long)idx[i], (long long)n_tokens);
  return Status::ok();
}

}  // namespace models
}  // namespace jepa

#endif  // JEPA_MODELS_COMMON_HPP
