// jepa/kernels/repack.hpp: the load-time repack, for files whose weight
// layout no kernel of this CPU reads (e.g. a row_major q8 file on x86, or
// panels of another width). Files from jepa-convert's default (the standard
// panels every SIMD kernel reads) never need it: they run in place.
//
//   RepackPlan p = plan_repack(file, table);          // what and how much
//   // buffer: p.bytes, 64-byte aligned (static storage on firmware);
//   // overrides: file.tensor_count() entries
//   repack_weights(&file, table, overrides, n, buffer, p.bytes);
//   // then bind the model as usual: find()/tensor() report the new layout.
//
// Only tensors that can only be weight matrices are candidates: a dtype other
// than f32, or the panel layout (vectors and f32 tables are always f32
// row_major, and f32 row_major has a kernel on every SIMD path). A matrix is
// repacked only when the table has no kernel for it as it is and has one for
// another layout of the same dtype; the values are copied bit for bit
// (repack_matrix), so results equal the reference's as for a converted file.
// The ModelFile keeps its own bytes and checksums; the overrides are a view.
#ifndef JEPA_KERNELS_REPACK_HPP
#define JEPA_KERNELS_REPACK_HPP

#include <cstdlib>
#include <memory>
#include <new>

#include "../format/model_file.hpp"
#include "dispatch.hpp"
#include "quantize.hpp"

namespace jepa {
namespace kernels {

// Where a matrix would go: kernel == null means it stays as it is (a kernel
// reads it already, or none reads any layout of its dtype: the reference).
struct RepackChoice {
  const KernelInfo* kernel = nullptr;
  format::Layout layout = format::Layout::row_major;
  uint32_t params[6] = {0, 0, 0, 0, 0, 0};
  uint64_t bytes = 0;  // of the repacked matrix
};

inline RepackChoice repack_choice(const KernelTable& t, const WeightMatrix& w) {
  RepackChoice c;
  if (t.find(w) != nullptr) return c;
  for (size_t i = 0; i < t.count; ++i) {
    const KernelInfo& k = *t.kernels[i];
    if (k.dtype != w.dtype || !k.flags_ok(w)) continue;
    uint32_t params[6] = {k.panel_nr, k.panel_kr, 0, 0, 0, 0};
    if (k.layout == format::Layout::row_major) params[0] = params[1] = 0;
    Result<size_t> bytes = packed_bytes(w.dtype, k.layout, w.n, w.k, params);
    if (!bytes) continue;
    c.kernel = &k;
    c.layout = k.layout;
    for (int j = 0; j < 6; ++j) c.params[j] = params[j];
    c.bytes = bytes.value();
    return c;
  }
  return c;
}

// Tensor i viewed as a weight matrix [shape[0]][rest], if it is a candidate.
inline bool repack_candidate(const TensorInfo& t, WeightMatrix* w) {
  if (t.rank < 2 || (t.dtype == format::DType::f32 && t.layout == format::Layout::row_major)) return false;
  const int64_t n = t.shape[0], k = t.numel() / (n > 0 ? n : 1);
  if (n <= 0 || k <= 0 || n > INT32_MAX || k > INT32_MAX) return false;
  *w = weight_view(t.dtype, t.layout, t.layout_params, (int32_t)n, (int32_t)k, t.data, t.flags);
  return true;
}

inline uint64_t repack_align(uint64_t b) { return (b + 63) & ~(uint64_t)63; }

struct RepackPlan {
  size_t tensors = 0;  // matrices to repack
  uint64_t bytes = 0;  // buffer repack_weights needs (each matrix 64-byte aligned)
};

// The plan for the file's own layouts (overrides already set are ignored).
inline RepackPlan plan_repack(const ModelFile& f, const KernelTable& t) {
  RepackPlan p;
  ModelFile plain = f;
  plain.set_overrides(nullptr);
  for (size_t i = 0; i < plain.tensor_count(); ++i) {
    WeightMatrix w;
    if (!repack_candidate(plain.tensor(i), &w)) continue;
    const RepackChoice c = repack_choice(t, w);
    if (!c.kernel) continue;
    ++p.tensors;
    p.bytes += repack_align(c.bytes);
  }
  return p;
}

// Repacks what plan_repack lists into buf (64-byte aligned, >= plan bytes)
// and points f at it through `overrides` (>= f->tensor_count() entries, all
// reset here). On error f is left with no overrides: its own layouts, still
// correct (the reference or slower kernels run them).
inline Status repack_weights(ModelFile* f, const KernelTable& t, TensorOverride* overrides, size_t overrides_len,
                             void* buf, size_t buf_bytes) {
  f->set_overrides(nullptr);
  const RepackPlan plan = plan_repack(*f, t);
  if (overrides_len < f->tensor_count())
    return Status::error(Error::invalid_argument, "repack: %zu override entries for %zu tensors", overrides_len,
                         f->tensor_count());
  if (plan.bytes > buf_bytes)
    return Status::error(Error::out_of_memory, "repack: the buffer holds %zu bytes, %llu needed", buf_bytes,
                         (unsigned long long)plan.bytes);
  if (plan.tensors > 0 && (buf == nullptr || ((uintptr_t)buf & 63) != 0))
    return Status::error(Error::invalid_argument, "repack: the buffer must be 64-byte aligned");
  const ModelFile& plain = *f;
  uint8_t* at = static_cast<uint8_t*>(buf);
  for (size_t i = 0; i < plain.tensor_count(); ++i) {
    overrides[i] = TensorOverride();
    WeightMatrix w;
    if (!repack_candidate(plain.tensor(i), &w)) continue;
    const RepackChoice c = repack_choice(t, w);
    if (!c.kernel) continue;
    Status s = repack_matrix(w, c.layout, c.params, at, (size_t)c.bytes);
    if (!s.is_ok())
      return Status::error(s.code(), "repack of tensor '%s': %s", plain.tensor(i).name, s.message());
    overrides[i].data = at;
    overrides[i].layout = c.layout;
    for (int j = 0; j < 6; ++j) overrides[i].params[j] = c.params[j];
    overrides[i].bytes = c.bytes;
    at += repack_align(c.bytes);
  }
  f->set_overrides(plan.tensors > 0 ? overrides : nullptr);
  return Status::ok();
}

#if !defined(JEPA_NO_HEAP)
// Hosted convenience (tools, benchmarks, Linux apps): owns the buffer and the
// override table, allocated once at load; firmware passes static storage to
// repack_weights instead (or -DJEPA_NO_HEAP drops this class).
class RepackedWeights {
 public:
  RepackedWeights() = default;
  RepackedWeights(const RepackedWeights&) = delete;
  RepackedWeights& operator=(const RepackedWeights&) = delete;
  RepackedWeights(RepackedWeights&& o) noexcept { *this = std::move(o); }
  RepackedWeights& operator=(RepackedWeights&& o) noexcept {
    std::swap(table_, o.table_);
    std::swap(buf_, o.buf_);
    std::swap(plan_, o.plan_);
    return *this;
  }
  ~RepackedWeights() { std::free(buf_); }

  // Repacks what f's layouts lack a kernel for (nothing, and no allocation,
  // for a file in the standard panels) and sets f's overrides.
  Status apply(ModelFile* f, const KernelTable& t) {
    plan_ = plan_repack(*f, t);
    if (plan_.tensors == 0) {
      f->set_overrides(nullptr);
      return Status::ok();
    }
    std::free(buf_);
    buf_ = std::aligned_alloc(64, (size_t)plan_.bytes);
    table_.reset(new (std::nothrow) TensorOverride[f->tensor_count()]);
    if (!buf_ || !table_)
      return Status::error(Error::out_of_memory, "repack: cannot allocate %llu bytes",
                           (unsigned long long)plan_.bytes);
    return repack_weights(f, t, table_.get(), f->tensor_count(), buf_, (size_t)plan_.bytes);
  }
  const RepackPlan& plan() const { return plan_; }

 private:
  std::unique_ptr<TensorOverride[]> table_;
  void* buf_ = nullptr;
  RepackPlan plan_;
};
#endif  // !JEPA_NO_HEAP

}  // namespace kernels
}  // namespace jepa

#endif  // JEPA_KERNELS_REPACK_HPP
