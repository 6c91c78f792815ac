// jepa/kernels/backends/xnnpack.hpp: XNNPACK's fully-connected operators as
// the optional `xnnpack` backend of ops::linear (JEPA_WITH_XNNPACK; link
// libXNNPACK and libpthreadpool).
//
// XNNPACK packs the weights when an operator is created, so the caller builds
// an XnnpackLinearCache at load (one xnn_operator_t per weight matrix), then
// installs its hook():  kernels::set_backend(Backend::xnnpack, &hook) for the
// default table, or KernelTable::external for one table. ops::linear hands
// every matrix in the cache to XNNPACK and the rest to jepa-rt's kernels.
//
// - Operators: xnn_create_fully_connected_nc_f32 on W [N][K] without bias;
//   bias, GELU and the residual are applied afterwards by ref::finish (the
//   order every kernel uses). Weights that are not f32 row_major (panels,
//   f16, bf16, q8, q4) are decoded to f32 at creation, so XNNPACK holds f32
//   weights: Debian's XNNPACK (2022-02) has int8 only as qs8 (static
//   per-tensor activation and output scales, one weight scale), which cannot
//   express jepa's q8 (per-row weight scales, per-row dynamic activations).
// - Threads: XNNPACK's own pthreadpool (threads at init; 1 = the caller's
//   thread), not the ParallelFor of the call. One forward at a time per
//   cache: an operator's setup state is shared.
// - Allocation: creation allocates (XNNPACK's packed weights, the entries,
//   a decoding buffer); a call does not (setup + run of an FC operator keeps
//   its buffers; tests/backends checks with a counting allocator). Rows are
//   set up in chunks through stack buffers when the residual aliases y and
//   for the last row (XNNPACK reads up to XNN_EXTRA_BYTES past its input).
#ifndef JEPA_KERNELS_BACKENDS_XNNPACK_HPP
#define JEPA_KERNELS_BACKENDS_XNNPACK_HPP

#include <pthreadpool.h>
#include <xnnpack.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>

#include "../../format/model_file.hpp"
#include "../../status.hpp"
#include "../dispatch.hpp"
#include "../gemm.hpp"
#include "../ref/gemm-ref.hpp"

namespace jepa {
namespace kernels {
namespace xnnpack {

class XnnpackLinearCache {
 public:
  XnnpackLinearCache() = default;
  ~XnnpackLinearCache() { clear(); }
  XnnpackLinearCache(const XnnpackLinearCache&) = delete;
  XnnpackLinearCache& operator=(const XnnpackLinearCache&) = delete;

  // Initialises XNNPACK (allocator: used if this is the process's first
  // xnn_initialize; null = malloc) and, for threads > 1, a pthreadpool.
  Status init(int threads = 1, const xnn_allocator* allocator = nullptr) {
    if (initialized_) return Status::ok();
    const xnn_status s = xnn_initialize(allocator);
    if (s != xnn_status_success)
      return Status::error(Error::unsupported, "xnn_initialize failed (status %d): XNNPACK does not run on this CPU",
                           (int)s);
    initialized_ = true;
    if (threads > 1) {
      pool_ = pthreadpool_create((size_t)threads);
      if (!pool_) return Status::error(Error::out_of_memory, "pthreadpool_create(%d) failed", threads);
    }
    threads_ = threads > 1 ? threads : 1;
    return Status::ok();
  }

  // One operator for W (packs it now). The cache keys on W's bytes (their
  // address): the same matrix again is a no-op; other bytes must stay alive
  // and unchanged while the cache is in use.
  Status add(const WeightMatrix& w) {
    if (!initialized_) return Status::error(Error::invalid_argument, "XnnpackLinearCache::add before init()");
    if (w.n <= 0 || w.k <= 0 || !w.data)
      return Status::error(Error::invalid_argument, "xnnpack: empty weight matrix [%d][%d]", w.n, w.k);
    size_t at = lower_bound(w.data);
    if (at < count_ && entries_[at].data == w.data) {
      const Entry& e = entries_[at];
      if (e.n == w.n && e.k == w.k && e.dtype == w.dtype && e.layout == w.layout) return Status::ok();
      return Status::error(Error::invalid_argument, "xnnpack: bytes at %p are already a [%d][%d] matrix, not [%d][%d]",
                           w.data, e.n, e.k, w.n, w.k);
    }
    Status grown = reserve(count_ + 1);
    if (!grown.is_ok()) return grown;
    const float* f32 = static_cast<const float*>(w.data);
    float* decoded = nullptr;
    if (!(w.dtype == format::DType::f32 && w.layout == format::Layout::row_major)) {
      decoded = static_cast<float*>(std::malloc(sizeof(float) * (size_t)w.n * (size_t)w.k));
      if (!decoded)
        return Status::error(Error::out_of_memory, "xnnpack: %zu bytes to decode a %s [%d][%d] matrix",
                             sizeof(float) * (size_t)w.n * (size_t)w.k, format::dtype_name(w.dtype), w.n, w.k);
      for (int32_t n = 0; n < w.n; ++n)
        for (int32_t k = 0; k < w.k; ++k) decoded[(size_t)n * (size_t)w.k + (size_t)k] = ref::weight_at(w, n, k);
      f32 = decoded;
    }
    xnn_operator_t op = nullptr;
    const float inf = std::numeric_limits<float>::infinity();
    const xnn_status s = xnn_create_fully_connected_nc_f32((size_t)w.k, (size_t)w.n, (size_t)w.k, (size_t)w.n, f32,
                                                           nullptr, -inf, inf, 0, &op);
    std::free(decoded);  // XNNPACK keeps its packed copy
    if (s != xnn_status_success)
      return Status::error(Error::unsupported, "xnn_create_fully_connected_nc_f32 [%d][%d] failed (status %d)", w.n,
                           w.k, (int)s);
    std::memmove(entries_ + at + 1, entries_ + at, (count_ - at) * sizeof(Entry));
    entries_[at] = Entry{w.data, w.n, w.k, w.dtype, w.layout, op};
    ++count_;
    return Status::ok();
  }

  // Every weight matrix of a file: tensors of rank >= 2 named "*weight" in a
  // weight dtype, viewed [shape[0]][rest] as models::detail::bind_matrix does.
  Status add_file(const ModelFile& f) {
    for (size_t i = 0; i < f.tensor_count(); ++i) {
      const TensorInfo t = f.tensor(i);
      const size_t len = std::strlen(t.name);
      if (t.rank < 2 || len < 6 || std::strcmp(t.name + len - 6, "weight") != 0) continue;
      const format::DType d = t.dtype;
      if (d != format::DType::f32 && d != format::DType::f16 && d != format::DType::bf16 &&
          d != format::DType::q8 && d != format::DType::q4)
        continue;
      WeightMatrix w;
      w.dtype = d;
      w.layout = t.layout;
      w.n = (int32_t)t.shape[0];
      w.k = (int32_t)(t.numel() / t.shape[0]);
      w.data = t.data;
      for (int p = 0; p < 6; ++p) w.params[p] = t.layout_params[p];
      w.flags = t.flags;
      Status s = add(w);
      if (!s.is_ok()) return Status::error(s.code(), "tensor '%s': %s", t.name, s.message());
    }
    return Status::ok();
  }

  size_t size() const { return count_; }
  int threads() const { return threads_; }
  bool contains(const WeightMatrix& w) const { return find(w) != nullptr; }

  // The hook for KernelTable::external / set_backend(); valid while this cache lives.
  ExternalLinear hook() const {
    ExternalLinear h;
    h.run = &run_hook;
    h.scratch_bytes = &scratch_hook;
    h.describe = &describe_hook;
    h.self = this;
    return h;
  }

  // Runs a whole linear (ExternalLinear::run contract); false if W is not here.
  bool run(const GemmArgs& a, void* scratch, size_t scratch_bytes) const {
    const Entry* e = find(*a.w);
    if (!e || a.m <= 0 || a.n0 != 0 || (a.n1 >= 0 && a.n1 != e->n) || a.ldx != (size_t)e->k ||
        a.ldy != (size_t)e->n || (a.residual && a.ldr != (size_t)e->n) || (size_t)e->k > kStackFloats)
      return false;
    const size_t n = (size_t)e->n, total = (size_t)a.m * n;
    // XNNPACK writes y directly unless the residual lives in y's memory.
    const uintptr_t y0 = (uintptr_t)a.y, y1 = (uintptr_t)(a.y + total);
    const bool alias = a.residual && (uintptr_t)a.residual < y1 && y0 < (uintptr_t)(a.residual + total);
    float* tmp = nullptr;
    size_t tmp_rows = 0;
    alignas(64) float stack_out[kStackFloats];
    if (alias) {
      if (scratch && scratch_bytes >= total * sizeof(float) && ((uintptr_t)scratch % sizeof(float)) == 0) {
        tmp = static_cast<float*>(scratch);
        tmp_rows = (size_t)a.m;
      } else {
        tmp = stack_out;
        tmp_rows = kStackFloats / n;
      }
      if (tmp_rows == 0) return false;  // a row wider than the stack buffer and no scratch
    }
    const size_t chunk = alias ? tmp_rows : (size_t)a.m;
    for (size_t r0 = 0; r0 < (size_t)a.m; r0 += chunk) {
      const size_t rows = (size_t)a.m - r0 < chunk ? (size_t)a.m - r0 : chunk;
      float* out = alias ? tmp : a.y + r0 * n;
      if (!run_rows(*e, a.x + r0 * (size_t)e->k, rows, r0 + rows == (size_t)a.m, out)) {
        // (Not seen in practice: a created FC operator always sets up.) y is
        // still untouched from row r0 on: nothing written -> fall back; else
        // the reference finishes the remaining rows.
        if (r0 == 0) return false;
        GemmArgs rest = a;
        rest.m = a.m - (int32_t)r0;
        rest.x = a.x + r0 * (size_t)e->k;
        rest.y = a.y + r0 * n;
        if (rest.residual) rest.residual = a.residual + r0 * n;
        ref::gemm__ref(rest);
        return true;
      }
      finish_rows(a, out, r0, rows);
    }
    return true;
  }

 private:
  // Stack buffers (floats): the last x row padded for XNNPACK's over-read,
  // and output rows when the residual aliases y. 64 KiB each.
  static constexpr size_t kStackFloats = 16384 - XNN_EXTRA_BYTES / sizeof(float);

  struct Entry {
    const void* data;
    int32_t n, k;
    format::DType dtype;
    format::Layout layout;
    xnn_operator_t op;
  };

  // XNNPACK on rows of x into out; the last row of the call goes through a
  // padded copy (its extra read must stay inside memory we own).
  bool run_rows(const Entry& e, const float* x, size_t rows, bool includes_last, float* out) const {
    const size_t direct = includes_last ? rows - 1 : rows;
    if (direct > 0 && !run_op(e, x, direct, out)) return false;
    if (!includes_last) return true;
    alignas(64) float last[kStackFloats + XNN_EXTRA_BYTES / sizeof(float)];
    std::memcpy(last, x + direct * (size_t)e.k, sizeof(float) * (size_t)e.k);
    std::memset(last + e.k, 0, XNN_EXTRA_BYTES);
    return run_op(e, last, 1, out + direct * (size_t)e.n);
  }

  bool run_op(const Entry& e, const float* x, size_t rows, float* out) const {
    if (xnn_setup_fully_connected_nc_f32(e.op, rows, x, out, pool_) != xnn_status_success) return false;
    return xnn_run_operator(e.op, pool_) == xnn_status_success;
  }

  // y rows [r0, r0 + rows) = finish(out + bias, GELU) + residual, as every kernel.
  static void finish_rows(const GemmArgs& a, const float* out, size_t r0, size_t rows) {
    const size_t n = a.ldy;
    for (size_t r = 0; r < rows; ++r)
      for (size_t c = 0; c < n; ++c)
        a.y[(r0 + r) * n + c] = ref::finish(out[r * n + c], a, (int32_t)(r0 + r), (int32_t)c);
  }

  size_t lower_bound(const void* data) const {
    size_t lo = 0, hi = count_;
    while (lo < hi) {
      const size_t mid = lo + (hi - lo) / 2;
      if ((uintptr_t)entries_[mid].data < (uintptr_t)data) lo = mid + 1; else hi = mid;
    }
    return lo;
  }

  const Entry* find(const WeightMatrix& w) const {
    const size_t at = lower_bound(w.data);
    if (at >= count_) return nullptr;
    const Entry& e = entries_[at];
    if (e.data != w.data || e.n != w.n || e.k != w.k || e.dtype != w.dtype || e.layout != w.layout) return nullptr;
    return &e;
  }

  Status reserve(size_t want) {
    if (want <= cap_) return Status::ok();
    const size_t cap = cap_ ? 2 * cap_ : 64;
    void* p = std::realloc(entries_, cap * sizeof(Entry));
    if (!p) return Status::error(Error::out_of_memory, "xnnpack: %zu cache entries", cap);
    entries_ = static_cast<Entry*>(p);
    cap_ = cap;
    return Status::ok();
  }

  void clear() {
    for (size_t i = 0; i < count_; ++i) xnn_delete_operator(entries_[i].op);
    std::free(entries_);
    entries_ = nullptr;
    count_ = cap_ = 0;
    if (pool_) pthreadpool_destroy(pool_);
    pool_ = nullptr;
    if (initialized_) xnn_deinitialize();
    initialized_ = false;
  }

  static bool run_hook(const void* self, const GemmArgs& a, void* scratch, size_t bytes) {
    return static_cast<const XnnpackLinearCache*>(self)->run(a, scratch, bytes);
  }
  static size_t scratch_hook(const void* self, const WeightMatrix& w, int32_t m) {
    const XnnpackLinearCache& c = *static_cast<const XnnpackLinearCache*>(self);
    return c.find(w) && m > 0 ? sizeof(float) * (size_t)m * (size_t)w.n : 0;
  }
  static size_t describe_hook(const void* self, char* buf, size_t n) {
    const XnnpackLinearCache& c = *static_cast<const XnnpackLinearCache*>(self);
    const int w = std::snprintf(buf, n, "XNNPACK fully_connected_nc_f32: %zu matrices, %d thread%s", c.count_,
                                c.threads_, c.threads_ == 1 ? "" : "s");
    return w > 0 ? (size_t)w : 0;
  }

  Entry* entries_ = nullptr;  // sorted by data pointer
  size_t count_ = 0, cap_ = 0;
  pthreadpool_t pool_ = nullptr;
  int threads_ = 1;
  bool initialized_ = false;
};

}  // namespace xnnpack
}  // namespace kernels
}  // namespace jepa

#endif  // JEPA_KERNELS_BACKENDS_XNNPACK_HPP
