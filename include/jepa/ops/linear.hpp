// jepa/ops/linear.hpp: a Linear layer over a weight matrix in place.
//
// The one entry point models use for every matmul against weights; which
// kernel runs is decided by the kernel table chosen at load
// (kernels/dispatch.hpp; default_table() unless the context names one).
// Work is split into fixed tiles (row chunks x column chunks) that depend on
// the shape and the kernel only, never on the thread count, and every output
// element is computed by one tile with the same arithmetic: results are bit
// identical for any number of threads.
// Integer (q8/q4) and bf16-dot kernels first quantize/convert the activation
// rows once into scratch: from LinearContext::scratch when given (size it with
// linear_scratch_bytes), else from a 64 KiB stack buffer, a chunk of rows at a
// time (correct, a little slower for large M).
// A table with an ExternalLinear (the xnnpack backend) hands the whole layer
// to that library first; matrices it does not hold run on the kernels.
// detail::linear_transformed lets a caller (ops/linear_layernorm.hpp) apply a
// per-row transform inside the prepare tasks, so the transformed rows are
// quantized straight from a row buffer and never stored as float.
#ifndef JEPA_OPS_LINEAR_HPP
#define JEPA_OPS_LINEAR_HPP

#include "../kernels/dispatch.hpp"
#include "../kernels/gemm.hpp"
#include "../runtime/parallel.hpp"

namespace jepa {
namespace ops {

struct LinearContext {
  ParallelFor par;
  const kernels::KernelTable* table = nullptr;  // null: kernels::default_table()
  void* scratch = nullptr;                      // 64-byte aligned
  size_t scratch_bytes = 0;
};

// Scratch a linear over m rows of W needs for the chosen kernel (0 for float kernels).
inline size_t linear_scratch_bytes(const kernels::WeightMatrix& w, int32_t m,
                                   const kernels::KernelTable* table = nullptr) {
  const kernels::KernelTable& t = table ? *table : kernels::default_table();
  const kernels::KernelInfo* k = t.find(w);
  const size_t kernel_bytes = k ? k->scratch_bytes(m, w.k) : 0;
  const size_t external_bytes =
      t.external.run && t.external.scratch_bytes ? t.external.scratch_bytes(t.external.self, w, m) : 0;
  return kernel_bytes > external_bytes ? kernel_bytes : external_bytes;
}

namespace detail {

constexpr size_t kLinearStackScratch = 64 * 1024;

// A per-row transform of the activations applied by the prepare tasks just
// before the rows are quantized: fn(self, x, ldx, rows, out, k) reads `rows`
// rows of k floats ldx apart and writes them to out, k floats apart.
struct RowTransform {
  void (*fn)(const void* self, const float* x, size_t ldx, int32_t rows, float* out, int32_t k) = nullptr;
  const void* self = nullptr;
};

// The prepare tasks' stack row buffer: up to kTransformRows rows of K floats
// at once, K at most kMaxTransformK.
constexpr int32_t kMaxTransformK = 4096;
constexpr int32_t kTransformRows = 4;

struct LinearJob {
  kernels::GemmArgs base;
  const kernels::KernelInfo* kernel = nullptr;  // null: reference
  int32_t mc = 0, nc = 0, tiles_m = 0, tiles_n = 0;
  // prepare pass
  kernels::PrepareFn prepare = nullptr;
  void* scratch = nullptr;
  int32_t rows_per_prep_task = 32;
  const RowTransform* transform = nullptr;  // null: prepare x as it is
};

inline void run_tile(void* arg, size_t i) {
  const LinearJob& j = *static_cast<const LinearJob*>(arg);
  kernels::GemmArgs a = j.base;
  // Column-major: the row tiles of one column chunk run back to back (on one
  // thread, or side by side on two), so its weights come from DRAM once and
  // from cache for the other row tiles.
  const int32_t tm = (int32_t)(i % (size_t)j.tiles_m), tn = (int32_t)(i / (size_t)j.tiles_m);
  const int32_t m0 = tm * j.mc;
  a.m = j.base.m - m0 < j.mc ? j.base.m - m0 : j.mc;
  a.x = j.base.x + (size_t)m0 * j.base.ldx;
  a.y = j.base.y + (size_t)m0 * j.base.ldy;
  if (a.residual) a.residual = j.base.residual + (size_t)m0 * j.base.ldr;
  a.n0 = tn * j.nc;
  a.n1 = a.n0 + j.nc < j.base.w->n ? a.n0 + j.nc : j.base.w->n;
  kernels::PreparedX xp;
  if (j.base.xp) {  // rows of the prepared activations move with the tile
    xp = *j.base.xp;
    xp.data = static_cast<const uint8_t*>(xp.data) + (size_t)m0 * xp.ld;
    if (xp.scale) xp.scale += m0;
    if (xp.sums) xp.sums += (size_t)m0 * xp.ld_sums;
    a.xp = &xp;
  }
  if (j.kernel)
    j.kernel->fn(a);
  else
    kernels::ref::gemm__ref(a);
}

// Rows [r0, r1) through the transform, a few at a time: they stay in L1 and
// each goes to the same prepare function as one row with ldx 0, so the bytes
// are those of transforming all rows first and preparing them after.
inline void prepare_transformed(const LinearJob& j, int32_t r0, int32_t r1) {
  alignas(64) float buf[kMaxTransformK];
  const int32_t k = j.base.w->k;
  const int32_t group = kMaxTransformK / k < kTransformRows ? kMaxTransformK / k : kTransformRows;
  for (int32_t r = r0; r < r1; r += group) {
    const int32_t rows = r1 - r < group ? r1 - r : group;
    j.transform->fn(j.transform->self, j.base.x + (size_t)r * j.base.ldx, j.base.ldx, rows, buf, k);
    for (int32_t i = 0; i < rows; ++i)
      j.prepare(j.kernel->act, buf + (size_t)i * k, 0, j.base.m, k, r + i, r + i + 1, j.scratch);
  }
}

inline void run_prepare(void* arg, size_t i) {
  const LinearJob& j = *static_cast<const LinearJob*>(arg);
  const int32_t r0 = (int32_t)i * j.rows_per_prep_task;
  const int32_t r1 = r0 + j.rows_per_prep_task < j.base.m ? r0 + j.rows_per_prep_task : j.base.m;
  if (j.transform)
    prepare_transformed(j, r0, r1);
  else
    j.prepare(j.kernel->act, j.base.x, j.base.ldx, j.base.m, j.base.w->k, r0, r1, j.scratch);
}

// Tile sizes: a row chunk of activations whose K slice (all of K, or the
// kernel's K block) fits in ~256 KiB of L2 (a multiple of the kernel's MR,
// the rows split evenly), and 128-column chunks (a multiple of every
// kernel's NR), narrowed for small problems so two threads have work.
inline void choose_tiles(LinearJob& j) {
  const int32_t mr = j.kernel && j.kernel->mr > 0 ? j.kernel->mr : 4;
  const size_t xbytes = (j.kernel && j.kernel->act != kernels::ActFormat::f32)
                            ? (j.kernel->act == kernels::ActFormat::bf16 ? 2 : 1) : 4;
  int32_t k_slice = j.base.w->k > 0 ? j.base.w->k : 1;
  if (j.kernel && j.kernel->kc > 0 && j.kernel->kc < k_slice) k_slice = j.kernel->kc;
  const size_t row_bytes = (size_t)k_slice * xbytes;
  int32_t mc = (int32_t)((256 * 1024) / row_bytes);
  mc = mc / mr * mr;
  if (mc < mr) mc = mr;
  if (mc > 16 * mr) mc = 16 * mr;
  // Split the rows evenly (multiples of MR) so the row chunks are near equal
  // (197 rows at most 128: 104 + 93, not 128 + 69) and threads finish together.
  const int32_t tiles_m = (j.base.m + mc - 1) / mc;
  if (tiles_m > 0) {
    const int32_t even = (j.base.m + tiles_m - 1) / tiles_m;
    const int32_t balanced = (even + mr - 1) / mr * mr;
    if (balanced < mc) mc = balanced;
  }
  j.mc = mc;
  j.tiles_m = (j.base.m + mc - 1) / mc;
  const int32_t N = j.base.w->n;
  int32_t nc = 128;
  while (nc > 32 && (size_t)tiles_m * (size_t)((N + nc - 1) / nc) < 8) nc /= 2;
  j.nc = nc;
  j.tiles_n = (N + nc - 1) / nc;
}

// One pass over m rows whose prepared activations (if any) fit `scratch`.
inline void linear_pass(const ParallelFor& par, LinearJob& j, int32_t m) {
  j.base.m = m;
  kernels::PreparedX xp;
  if (j.kernel && j.kernel->act != kernels::ActFormat::f32) {
    const size_t tasks = (size_t)((m + j.rows_per_prep_task - 1) / j.rows_per_prep_task);
    par(tasks, &run_prepare, &j);
    xp = kernels::prepared_view(j.kernel->act, m, j.base.w->k, j.scratch);
    j.base.xp = &xp;
  }
  choose_tiles(j);
  const size_t tiles = (size_t)j.tiles_m * (size_t)j.tiles_n;
  par(tiles, &run_tile, &j);
  j.base.xp = nullptr;
}

// linear() below, with each row of x passed through `tf` (null: none) inside
// the prepare tasks. With a transform it returns false, having written
// nothing, when the activations would not be prepared (float kernel, the
// reference, an external backend, K over kMaxTransformK or too large for the
// stack chunks): the caller then transforms into memory and calls linear().
inline bool linear_transformed(const LinearContext& ctx, const kernels::WeightMatrix& w, const float* bias,
                               const float* x, int32_t m, float* y, kernels::Epilogue epi,
                               const float* residual, const RowTransform* tf) {
  if (m <= 0 || w.n <= 0) return true;
  const kernels::KernelTable& t = ctx.table ? *ctx.table : kernels::default_table();
  if (tf) {
    const kernels::KernelInfo* k = t.find(w);
    if (t.external.run || !k || k->act == kernels::ActFormat::f32 || w.k < 1 || w.k > kMaxTransformK)
      return false;
  }
  // The whole layer as one GEMM call (contiguous rows); tiles and chunks below narrow it.
  kernels::GemmArgs whole;
  whole.m = m;
  whole.x = x;
  whole.ldx = (size_t)w.k;
  whole.w = &w;
  whole.bias = bias;
  whole.residual = residual;
  whole.ldr = (size_t)w.n;
  whole.y = y;
  whole.ldy = (size_t)w.n;
  whole.epilogue = epi;
  // A library backend that owns this W (xnnpack), else the kernels below.
  if (!tf && t.external.run && t.external.run(t.external.self, whole, ctx.scratch, ctx.scratch_bytes))
    return true;
  LinearJob j;
  j.kernel = t.find(w);
  j.prepare = t.prepare;
  j.transform = tf;
  j.base = whole;
  kernels::GemmArgs& a = j.base;
  if (!j.kernel || j.kernel->act == kernels::ActFormat::f32) {
    linear_pass(ctx.par, j, m);
    return true;
  }
  // Quantized / bf16 activations: all rows at once if the scratch holds them,
  // else chunks of rows through a stack buffer.
  if (ctx.scratch && ctx.scratch_bytes >= j.kernel->scratch_bytes(m, w.k) &&
      ((uintptr_t)ctx.scratch & 63) == 0) {
    j.scratch = ctx.scratch;
    linear_pass(ctx.par, j, m);
    return true;
  }
  alignas(64) unsigned char stack[kLinearStackScratch];
  int32_t rows = 1;
  while (rows < m && j.kernel->scratch_bytes(rows * 2, w.k) <= sizeof stack) rows *= 2;
  while (rows > 1 && j.kernel->scratch_bytes(rows, w.k) > sizeof stack) --rows;
  if (j.kernel->scratch_bytes(rows, w.k) > sizeof stack) {  // K too large for the stack buffer
    if (tf) return false;
    j.kernel = nullptr;
    linear_pass(ctx.par, j, m);
    return true;
  }
  j.scratch = stack;
  for (int32_t m0 = 0; m0 < m; m0 += rows) {
    const int32_t mm = m - m0 < rows ? m - m0 : rows;
    a.x = x + (size_t)m0 * w.k;
    a.y = y + (size_t)m0 * w.n;
    a.residual = residual ? residual + (size_t)m0 * w.n : nullptr;
    linear_pass(ctx.par, j, mm);
  }
  return true;
}

}  // namespace detail

// y[m][n] = epi(x[m] . W[n] + bias[n]) + residual[m][n], rows contiguous
// (strides = k for x, n for y and residual). residual may alias y.
inline void linear(const LinearContext& ctx, const kernels::WeightMatrix& w, const float* bias,
                   const float* x, int32_t m, float* y, kernels::Epilogue epi = kernels::Epilogue::none,
                   const float* residual = nullptr) {
  detail::linear_transformed(ctx, w, bias, x, m, y, epi, residual, nullptr);
}

inline void linear(const ParallelFor& par, const kernels::WeightMatrix& w, const float* bias,
                   const float* x, int32_t m, float* y,
                   kernels::Epilogue epi = kernels::Epilogue::none,
                   const float* residual = nullptr) {
  LinearContext ctx;
  ctx.par = par;
  linear(ctx, w, bias, x, m, y, epi, residual);
}

}  // namespace ops
}  // namespace jepa

#endif  // JEPA_OPS_LINEAR_HPP
