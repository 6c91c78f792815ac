// tests/ops/test_linear_layernorm.cpp: ops::linear_layernorm (LayerNorm fused
// into the activation prepare pass) gives the same bits as ops::layernorm then
// ops::linear, for every weight dtype and layout, ragged M, K not a multiple
// of 32, with/without gamma and beta, 1 and 2 threads (and a reversed task
// order), with caller scratch and through the stack-scratch chunks. It also
// checks which way ran: the fused way leaves `normed` untouched, the fallback
// (float kernels, K over the row buffer, an external backend) fills it; and
// that the strided ops::layernorm_rows equals layernorm_row bit for
// bit; and that bf16 / u8 prepared activations (kernels this CPU may lack) fuse too,
// through a table whose kernel is the prepared-activation reference.
#include <doctest/doctest.h>

#include <cstring>
#include <string>

#include "jepa/ops/linear_layernorm.hpp"
#include "jepa/runtime/thread_pool.hpp"
#include "kernels/kernel_test_util.hpp"

using namespace kt;
using jepa::ops::LinearContext;

namespace {

void reverse_run(void*, size_t n, TaskFn task, void* arg) {
  for (size_t i = n; i-- > 0;) task(arg, i);
}

struct Weight {
  AlignedBuf bytes;
  WeightMatrix w;
};

Weight make_weight(const std::vector<float>& wf, int32_t n, int32_t k, format::DType dt, format::Layout layout) {
  Weight out;
  uint32_t params[6] = {0, 0, 0, 0, 0, 0};
  if (layout == format::Layout::panel) standard_panel_params(dt, params);
  out.bytes.resize(packed_bytes(dt, layout, n, k, params).value());
  REQUIRE(quantize_matrix(wf.data(), n, k, dt, layout, params, out.bytes.p, out.bytes.size));
  out.w = weight_view(dt, layout, params, n, k, out.bytes.p);
  return out;
}

// One problem: x [m][k] (offset and scaled so LayerNorm changes it), gamma,
// beta, bias, residual; the expected y and normed by layernorm + linear.
struct LnLinearProblem {
  int32_t m, n, k;
  std::vector<float> x, gamma, beta, bias, resid;
};

LnLinearProblem make_problem(std::mt19937& rng, int32_t m, int32_t n, int32_t k) {
  LnLinearProblem p{m, n, k, {}, {}, {}, {}, {}};
  p.x = random_floats(rng, (size_t)m * k, 2.0f);
  for (size_t i = 0; i < p.x.size(); ++i) p.x[i] += 0.5f + (float)(i % 7) * 0.1f;
  p.gamma = random_floats(rng, (size_t)k, 0.5f);
  for (float& g : p.gamma) g += 1.0f;
  p.beta = random_floats(rng, (size_t)k, 0.2f);
  p.bias = random_floats(rng, (size_t)n, 0.3f);
  p.resid = random_floats(rng, (size_t)m * n);
  return p;
}

struct Outcome {
  std::vector<float> y, normed;
};

constexpr float kSentinel = -12345.0f;

// The unfused truth: layernorm_row row by row (the arithmetic every LayerNorm
// path must reproduce), then linear through `ctx`.
Outcome unfused(const LinearContext& ctx, const WeightMatrix& w, const LnLinearProblem& p, const float* g,
                const float* b, Epilogue epi, bool resid) {
  Outcome o;
  o.normed.assign(p.x.size(), 0.0f);
  for (int32_t r = 0; r < p.m; ++r)
    ops::layernorm_row(p.x.data() + (size_t)r * p.k, o.normed.data() + (size_t)r * p.k, p.k, g, b, 1e-6f);
  o.y.assign((size_t)p.m * p.n, 0.0f);
  ops::linear(ctx, w, p.bias.data(), o.normed.data(), p.m, o.y.data(), epi, resid ? p.resid.data() : nullptr);
  return o;
}

Outcome fused(const LinearContext& ctx, const WeightMatrix& w, const LnLinearProblem& p, const float* g, const float* b,
              Epilogue epi, bool resid) {
  Outcome o;
  o.normed.assign(p.x.size(), kSentinel);
  o.y.assign((size_t)p.m * p.n, 0.0f);
  ops::linear_layernorm(ctx, w, p.bias.data(), p.x.data(), p.m, g, b, 1e-6f, o.normed.data(), o.y.data(), epi,
                        resid ? p.resid.data() : nullptr);
  return o;
}

bool untouched(const std::vector<float>& v) {
  for (float f : v)
    if (f != kSentinel) return false;
  return true;
}

// Would linear_layernorm take the fused way for W under table t?
bool expect_fused(const KernelTable& t, const WeightMatrix& w) {
  const KernelInfo* k = t.find(w);
  return !t.external.run && k && k->act != ActFormat::f32 && w.k <= ops::detail::kMaxTransformK;
}

// Runs every (threads, scratch, affine) variant of one problem and checks bits and the way taken.
void check_problem(const KernelTable& table, const WeightMatrix& w, const LnLinearProblem& p, const std::string& what,
                   Epilogue epi, bool resid) {
  static ThreadPool pool(2);
  ParallelFor serial, rev, two = pool.parallel_for();
  rev.run = &reverse_run;
  rev.threads = 2;
  AlignedBuf scratch(ops::linear_scratch_bytes(w, p.m, &table) + 64);
  const bool want_fused = expect_fused(table, w);
  const float* gammas[3] = {p.gamma.data(), p.gamma.data(), nullptr};
  const float* betas[3] = {p.beta.data(), nullptr, nullptr};
  for (int affine = 0; affine < 3; ++affine) {
    LinearContext base;
    base.table = &table;
    const Outcome truth = unfused(base, w, p, gammas[affine], betas[affine], epi, resid);
    for (int threads = 0; threads < 3; ++threads)
      for (int use_scratch = 0; use_scratch < 2; ++use_scratch) {
        LinearContext ctx;
        ctx.table = &table;
        ctx.par = threads == 0 ? serial : threads == 1 ? two : rev;
        if (use_scratch) {
          ctx.scratch = scratch.p;
          ctx.scratch_bytes = scratch.size;
        }
        const Outcome got = fused(ctx, w, p, gammas[affine], betas[affine], epi, resid);
        const std::string id = what + " m=" + std::to_string(p.m) + " k=" + std::to_string(p.k) +
                               " affine=" + std::to_string(affine) + " threads=" + std::to_string(threads) +
                               " scratch=" + std::to_string(use_scratch);
        CHECK_MESSAGE(std::memcmp(got.y.data(), truth.y.data(), truth.y.size() * 4) == 0, id);
        if (want_fused)
          CHECK_MESSAGE(untouched(got.normed), id << ": the fused way wrote normed");
        else
          CHECK_MESSAGE(std::memcmp(got.normed.data(), truth.normed.data(), truth.normed.size() * 4) == 0, id);
      }
  }
}

}  // namespace

TEST_CASE("layernorm_rows: layernorm_row's bits for any row count, width, stride, affine, in place") {
  std::mt19937 rng(60);
  const int64_t dims[] = {1, 2, 3, 5, 7, 8, 15, 16, 17, 31, 33, 63, 100, 384, 1000, 1408};
  for (int64_t dim : dims)
    for (int64_t rows : {0, 1, 3, 4, 5, 9}) {
      const size_t ldx = (size_t)dim + 3;
      std::vector<float> x = random_floats(rng, (size_t)rows * ldx + 1, 3.0f);
      for (size_t i = 0; i < x.size(); ++i) x[i] += (float)(i % 5) - 1.5f;
      std::vector<float> g = random_floats(rng, (size_t)dim, 1.0f), b = random_floats(rng, (size_t)dim, 0.5f);
      const float* gammas[3] = {g.data(), nullptr, g.data()};
      const float* betas[3] = {b.data(), nullptr, nullptr};
      for (int affine = 0; affine < 3; ++affine) {
        std::vector<float> want((size_t)rows * dim), got((size_t)rows * dim, kSentinel);
        for (int64_t r = 0; r < rows; ++r)
          ops::layernorm_row(x.data() + r * ldx, want.data() + r * dim, dim, gammas[affine], betas[affine], 1e-5f);
        ops::layernorm_rows(x.data(), ldx, got.data(), (size_t)dim, rows, dim, gammas[affine], betas[affine], 1e-5f);
        CHECK_MESSAGE((want.empty() || std::memcmp(got.data(), want.data(), want.size() * 4) == 0),
                      "dim " << dim << " rows " << rows);
        // In place (y = x, same stride).
        std::vector<float> inplace = x;
        ops::layernorm_rows(inplace.data(), ldx, inplace.data(), ldx, rows, dim, gammas[affine], betas[affine], 1e-5f);
        bool same = true;
        for (int64_t r = 0; r < rows; ++r)
          same = same && std::memcmp(inplace.data() + r * ldx, want.data() + r * dim, (size_t)dim * 4) == 0;
        CHECK_MESSAGE(same, "in place, dim " << dim << " rows " << rows);
      }
    }
}

TEST_CASE("linear_layernorm: bit-identical to layernorm + linear for every dtype, layout and shape") {
  std::mt19937 rng(61);
  const int32_t n = 40;
  // K = 1000 makes the stack-scratch path chunk rows (q8: 63 rows per 64 KiB) for m = 197.
  const int32_t ks[] = {40, 200, 1000};
  const int32_t ms[] = {1, 3, 17, 197};
  int fused_cases = 0;
  for (format::DType dt : {format::DType::f32, format::DType::f16, format::DType::bf16, format::DType::q8,
                           format::DType::q4})
    for (format::Layout layout : {format::Layout::panel, format::Layout::row_major})
      for (int32_t k : ks) {
        std::vector<float> wf = random_floats(rng, (size_t)n * k, 1.0f / std::sqrt((float)k));
        const Weight w = make_weight(wf, n, k, dt, layout);
        const bool panel = layout == format::Layout::panel;
        fused_cases += expect_fused(default_table(), w.w) ? 1 : 0;
        for (int32_t m : ms) {
          if (small_grid() && m != 17) continue;
          // Row-major q8/q4 have no kernel on x86 (the scalar reference runs): keep those small.
          if (!panel && m == 197 && !default_table().find(w.w)) continue;
          const LnLinearProblem p = make_problem(rng, m, n, k);
          const std::string what = std::string(format::dtype_name(dt)) + (panel ? " panel" : " row_major");
          check_problem(default_table(), w.w, p, what, m % 2 ? Epilogue::gelu : Epilogue::none, m != 3);
        }
      }
  // This CPU's table has int8 kernels (AVX2, NEON) unless it is the scalar reference only.
  if (default_table().find(make_weight(std::vector<float>(32 * 64, 0.5f), 32, 64, format::DType::q8,
                                       format::Layout::panel).w))
    CHECK(fused_cases > 0);
  MESSAGE("fused (dtype, layout, K) combinations on this CPU: " << fused_cases);
}

TEST_CASE("linear_layernorm: bf16 / u8 / s8_sums prepared activations fuse as well (reference kernels)") {
  // A table whose only kernel is the prepared-activation reference: the
  // prepare formats of the avx512bf16 / avx512vnni kernels on any CPU.
  struct Case {
    format::DType dt;
    ActFormat act;
  };
  const Case cases[] = {{format::DType::bf16, ActFormat::bf16},
                        {format::DType::q8, ActFormat::u8},
                        {format::DType::q8, ActFormat::s8},
                        {format::DType::q4, ActFormat::s8_sums}};
  std::mt19937 rng(62);
  for (const Case& c : cases) {
    KernelInfo info = {"gemm_prepared__ref", Isa::scalar, c.dt, format::Layout::row_major, 0, 0, c.act, 4, 4,
                       &ref::gemm_prepared__ref, 0, Backend::jepa, 0};
    KernelTable t;
    t.kernels[0] = &info;
    t.count = 1;
    t.prepare = default_table().prepare;
    for (int32_t k : {72, 1000}) {
      const int32_t n = 24;
      std::vector<float> wf = random_floats(rng, (size_t)n * k, 1.0f / std::sqrt((float)k));
      const Weight w = make_weight(wf, n, k, c.dt, format::Layout::row_major);
      REQUIRE(expect_fused(t, w.w));
      for (int32_t m : {1, 17, 197}) {
        if (small_grid() && m != 17) continue;
        const LnLinearProblem p = make_problem(rng, m, n, k);
        check_problem(t, w.w, p, std::string("ref act ") + std::to_string((int)c.act), Epilogue::gelu, true);
      }
    }
  }
}

namespace {

// An external backend that owns no matrix: linear runs the kernels, but
// linear_layernorm must not fuse (it cannot know before running the backend).
bool decline(const void*, const GemmArgs&, void*, size_t) { return false; }

}  // namespace

TEST_CASE("linear_layernorm: falls back to layernorm + linear (K too wide, external backend, m = 0)") {
  std::mt19937 rng(63);
  // K above the prepare tasks' row buffer.
  {
    const int32_t n = 16, k = ops::detail::kMaxTransformK + 36;
    std::vector<float> wf = random_floats(rng, (size_t)n * k, 1.0f / std::sqrt((float)k));
    const Weight w = make_weight(wf, n, k, format::DType::q8, format::Layout::panel);
    CHECK_FALSE(expect_fused(default_table(), w.w));
    check_problem(default_table(), w.w, make_problem(rng, 3, n, k), "q8 wide", Epilogue::none, true);
  }
  // An external backend present (declining this W).
  {
    KernelTable t = default_table();
    t.external.run = &decline;
    const int32_t n = 40, k = 200;
    std::vector<float> wf = random_floats(rng, (size_t)n * k, 1.0f / std::sqrt((float)k));
    const Weight w = make_weight(wf, n, k, format::DType::q8, format::Layout::panel);
    CHECK_FALSE(expect_fused(t, w.w));
    check_problem(t, w.w, make_problem(rng, 17, n, k), "q8 external", Epilogue::gelu, false);
  }
  // No rows: nothing written.
  {
    const int32_t n = 16, k = 64;
    std::vector<float> wf = random_floats(rng, (size_t)n * k, 0.1f);
    const Weight w = make_weight(wf, n, k, format::DType::q8, format::Layout::panel);
    float y = kSentinel, normed = kSentinel, x = 1.0f;
    ParallelFor serial;
    ops::linear_layernorm(serial, w.w, nullptr, &x, 0, nullptr, nullptr, 1e-6f, &normed, &y);
    CHECK(y == kSentinel);
  }
}
