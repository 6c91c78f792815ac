// Unit tests of the ops used by the models, each against a direct (double
// precision) formula written independently of the op: LayerNorm, GELU,
// softmax, V-JEPA 2 RoPE (tiled tables, unrotated tail, time-only), attention
// (no mask, block-causal, explicit mask, shared-prefix segments, thread count),
// and the Conv3d/Conv2d patch embedding.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "jepa/kernels/dispatch.hpp"  // set_isa_cap
#include "jepa/kernels/layernorm-dispatch.hpp"
#include "jepa/kernels/ref/math.hpp"
#include "jepa/ops/activations.hpp"
#include "jepa/ops/attention.hpp"
#include "jepa/ops/layernorm.hpp"
#include "jepa/ops/patch_embed.hpp"
#include "jepa/ops/rope.hpp"
#include "jepa/ops/sincos.hpp"
#include "jepa/ops/softmax.hpp"
#include "jepa/runtime/thread_pool.hpp"
#include "ops/ops_test_util.hpp"

namespace {

using opstest::randn;

double max_abs_diff(const float* a, const double* b, size_t n) {
  double m = 0;
  for (size_t i = 0; i < n; ++i) m = std::max(m, std::fabs((double)a[i] - b[i]));
  return m;
}

}  // namespace

// Every row kernel layernorm_rows dispatches to (kernels/layernorm-dispatch.hpp:
// each ISA level the CPU has, by capping) against the generic layernorm_row,
// bit for bit (the same lane sums and order); strided rows, tails around the
// 8 and 16 lanes, affine and affine-free, nothing written past dim. Capped to
// scalar, the op runs the generic rows.
TEST_CASE("ops: layernorm_rows' row kernels match layernorm_row") {
  using namespace jepa::kernels;
  int ran = 0;
  for (Isa cap : {Isa::avx512, Isa::avx2, Isa::neon}) {
    if (!cpu_supports(cap)) continue;
    set_isa_cap(cap);
    const LayerNormRowsFn fn = layernorm_rows_kernel();
    if (fn == nullptr) continue;
    ++ran;
    CAPTURE(std::string(isa_name(cap)));
    const int64_t rows = 6;
    for (int64_t dim : {1, 7, 8, 9, 15, 16, 17, 33, 384, 1000, 1408}) {
      CAPTURE(dim);
      const size_t ld = (size_t)dim + 5;
      std::vector<float> x = randn((int64_t)ld * rows, 7 + (uint32_t)dim, 2.0f);
      for (size_t i = 0; i < (size_t)dim; ++i) x[i] += 30.0f;
      const std::vector<float> g = randn(dim, 8), b = randn(dim, 9);
      for (int affine = 0; affine < 3; ++affine) {
        CAPTURE(affine);
        const float* gamma = affine ? g.data() : nullptr;
        const float* beta = affine == 1 ? b.data() : nullptr;
        std::vector<float> want(ld * rows, -1.0f), got(ld * rows, -1.0f);
        for (int64_t r = 0; r < rows; ++r)
          jepa::ops::layernorm_row(x.data() + r * ld, want.data() + r * ld, dim, gamma, beta, 1e-6f);
        fn(x.data(), ld, got.data(), ld, rows, dim, gamma, beta, 1e-6f);
        CHECK(std::memcmp(got.data(), want.data(), got.size() * sizeof(float)) == 0);  // pads stay -1 too
      }
    }
  }
  MESSAGE("LayerNorm row kernels checked: " << ran);
  // Capped to scalar: no kernel, and ops::layernorm is the generic rows.
  set_isa_cap(Isa::scalar);
  const bool generic = layernorm_rows_kernel() == nullptr;
  CHECK(generic);
  std::vector<float> x = randn(3 * 384, 11, 1.0f), y(x.size()), want(x.size());
  jepa::ops::layernorm(x.data(), y.data(), 3, 384, nullptr, nullptr, 1e-6f);
  for (int64_t r = 0; r < 3; ++r) jepa::ops::layernorm_row(x.data() + r * 384, want.data() + r * 384, 384, nullptr,
                                                           nullptr, 1e-6f);
  CHECK(y == want);
  clear_isa_cap();
}

TEST_CASE("ops: layernorm against the formula (affine, affine-free, in place, widths around the lanes)") {
  const int64_t rows = 5;
  for (int64_t dim : {1, 2, 7, 15, 16, 17, 31, 33, 64, 100, 384, 1408}) {
    CAPTURE(dim);
    std::vector<float> x = randn(rows * dim, 1 + (uint32_t)dim, 3.0f);
    for (int64_t i = 0; i < dim; ++i) x[i] += 10.0f;  // a row with a large mean: two-pass matters
    const std::vector<float> g = randn(dim, 2), b = randn(dim, 3);
    for (int affine = 0; affine < 3; ++affine) {  // 0: none, 1: gamma and beta, 2: gamma only
      CAPTURE(affine);
      const float eps = affine ? 1e-6f : 1e-5f;
      std::vector<double> ref(rows * dim);
      for (int64_t r = 0; r < rows; ++r) {
        double mean = 0, var = 0;
        for (int64_t i = 0; i < dim; ++i) mean += x[r * dim + i];
        mean /= dim;
        for (int64_t i = 0; i < dim; ++i) var += (x[r * dim + i] - mean) * (x[r * dim + i] - mean);
        var /= dim;
        for (int64_t i = 0; i < dim; ++i) {
          const double v = (x[r * dim + i] - mean) / std::sqrt(var + eps);
          ref[r * dim + i] = affine == 0 ? v : affine == 1 ? v * g[i] + b[i] : v * g[i];
        }
      }
      std::vector<float> y(x);
      jepa::ops::layernorm(y.data(), y.data(), rows, dim, affine ? g.data() : nullptr,
                           affine == 1 ? b.data() : nullptr, eps);
      CHECK(max_abs_diff(y.data(), ref.data(), y.size()) < 2e-5);
    }
  }
}

TEST_CASE("ops: exact GELU, SiLU, softmax") {
  for (double x = -6.0; x <= 6.0; x += 0.37) {
    const double gelu = 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0)));
    CHECK(jepa::ops::gelu((float)x) == doctest::Approx(gelu).epsilon(1e-6));
    CHECK(jepa::ops::silu((float)x) == doctest::Approx(x / (1.0 + std::exp(-x))).epsilon(1e-6));
  }
  // tanh-approximate GELU differs measurably: the op must not be it.
  const float x = 1.5f;
  const double tanh_gelu = 0.5 * x * (1 + std::tanh(std::sqrt(2 / M_PI) * (x + 0.044715 * x * x * x)));
  CHECK(std::fabs(jepa::ops::gelu(x) - tanh_gelu) > 1e-5);

  std::vector<float> s = {1.0f, 2.0f, -INFINITY, 100.0f, 99.0f};
  std::vector<double> e(s.size());
  double sum = 0;
  for (size_t i = 0; i < s.size(); ++i) sum += (e[i] = std::isinf(s[i]) ? 0.0 : std::exp((double)s[i] - 100.0));
  for (double& v : e) v /= sum;
  jepa::ops::softmax_inplace(s.data(), (int64_t)s.size());
  CHECK(max_abs_diff(s.data(), e.data(), s.size()) < 1e-7);
  CHECK(s[2] == 0.0f);
  std::vector<float> all_masked = {-INFINITY, -INFINITY};
  jepa::ops::softmax_inplace(all_masked.data(), 2);
  CHECK(all_masked[0] == 0.0f);
}

namespace {

// The official rotate_queries_or_keys for one vector of a segment, in double:
// freq tables tiled (repeat), pairs (x0, x1) -> (-x1, x0).
void official_rotate(const float* x, int64_t seg, double pos, double* out) {
  const int64_t half = seg / 2;
  std::vector<double> cos_t(seg), sin_t(seg);
  for (int64_t j = 0; j < half; ++j) {
    const double omega = 1.0 / std::pow(10000.0, (double)j / ((double)seg / 2.0));
    cos_t[j] = cos_t[j + half] = std::cos(pos * omega);
    sin_t[j] = sin_t[j + half] = std::sin(pos * omega);
  }
  for (int64_t i = 0; i < seg; i += 2) {
    const double y0 = -x[i + 1], y1 = x[i];
    out[i] = x[i] * cos_t[i] + y0 * sin_t[i];
    out[i + 1] = x[i + 1] * cos_t[i + 1] + y1 * sin_t[i + 1];
  }
}

}  // namespace

TEST_CASE("ops: V-JEPA 2 RoPE per head (segments, tail, time-only, fractional positions)") {
  for (int64_t hd : {32, 64, 80, 88}) {
    const int64_t seg = jepa::ops::rope_segment(hd);
    CHECK(seg == 2 * ((hd / 3) / 2));
    const std::vector<float> x = randn(hd, (uint32_t)hd);
    const double t = 3.0, h = 1.5, w = 7.25;  // fractional: AC predictor w scaling
    std::vector<float> table(jepa::ops::rope_token_floats(hd));
    jepa::ops::rope_fill_token(table.data(), hd, t, h, w);
    for (int axes : {3, 1}) {
      std::vector<float> y(x);
      jepa::ops::rope_apply_head(y.data(), hd, table.data(), axes);
      std::vector<double> ref(x.begin(), x.end());
      const double pos[3] = {t, h, w};
      for (int a = 0; a < axes; ++a) official_rotate(x.data() + a * seg, seg, pos[a], ref.data() + a * seg);
      CHECK(max_abs_diff(y.data(), ref.data(), (size_t)hd) < 1e-5);
      for (int64_t i = axes * seg; i < hd; ++i) CHECK(y[i] == x[i]);  // unrotated tail (and h, w for axes 1)
    }
    // The "fixed" (repeat_interleave) pairing is a different function.
    std::vector<float> y(x);
    jepa::ops::rope_apply_head(y.data(), hd, table.data(), 3);
    double fixed_diff = 0;
    for (int64_t i = 0; i < seg; i += 2) {
      const double a = 1.0 / std::pow(10000.0, (double)(i / 2) / ((double)seg / 2.0)) * t;
      const double r0 = x[i] * std::cos(a) - x[i + 1] * std::sin(a);
      fixed_diff = std::max(fixed_diff, std::fabs(r0 - y[i]));
    }
    CHECK(fixed_diff > 1e-2);
  }
  // rope_apply_qk rotates q and k of every head, never v.
  const int64_t heads = 2, hd = 32, dim = heads * hd;
  const std::vector<float> row = randn(3 * dim, 9);
  std::vector<float> table(jepa::ops::rope_token_floats(hd));
  jepa::ops::rope_fill_token(table.data(), hd, 1, 2, 0);
  std::vector<float> r(row);
  jepa::ops::rope_apply_qk(r.data(), heads, hd, table.data(), 3);
  for (int64_t part = 0; part < 2; ++part)
    for (int64_t hh = 0; hh < heads; ++hh) {
      std::vector<float> one(row.begin() + part * dim + hh * hd, row.begin() + part * dim + (hh + 1) * hd);
      jepa::ops::rope_apply_head(one.data(), hd, table.data(), 3);
      for (int64_t i = 0; i < hd; ++i) CHECK(r[part * dim + hh * hd + i] == one[i]);
    }
  for (int64_t i = 2 * dim; i < 3 * dim; ++i) CHECK(r[i] == row[i]);
  double t, h, w;
  jepa::ops::rope_grid_position(2 * 15 + 7, 3, 5, &t, &h, &w);
  CHECK(t == 2);
  CHECK(h == 1);
  CHECK(w == 2);
}

namespace {

// Naive attention in double with an explicit [nq][nk] mask (null: none).
std::vector<double> naive_attention(const std::vector<float>& q, const std::vector<float>& k,
                                    const std::vector<float>& v, int64_t B, int64_t H, int64_t hd, int64_t nq,
                                    int64_t nk, const uint8_t* mask) {
  const int64_t D = H * hd;
  std::vector<double> out(B * nq * D, 0.0);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < H; ++h)
      for (int64_t i = 0; i < nq; ++i) {
        std::vector<double> s(nk);
        double mx = -1e300;
        for (int64_t j = 0; j < nk; ++j) {
          if (mask && !mask[i * nk + j]) { s[j] = -INFINITY; continue; }
          double acc = 0;
          for (int64_t d = 0; d < hd; ++d) acc += (double)q[(b * nq + i) * D + h * hd + d] * k[(b * nk + j) * D + h * hd + d];
          s[j] = acc / std::sqrt((double)hd);
          mx = std::max(mx, s[j]);
        }
        double sum = 0;
        for (int64_t j = 0; j < nk; ++j) sum += (s[j] = std::isinf(s[j]) ? 0.0 : std::exp(s[j] - mx));
        for (int64_t j = 0; j < nk; ++j)
          for (int64_t d = 0; d < hd; ++d) out[(b * nq + i) * D + h * hd + d] += s[j] / sum * v[(b * nk + j) * D + h * hd + d];
      }
  return out;
}

jepa::ops::AttentionArgs args_for(const std::vector<float>& q, const std::vector<float>& k,
                                  const std::vector<float>& v, std::vector<float>& out, int64_t B, int64_t H,
                                  int64_t hd, int64_t nq, int64_t nk) {
  const int64_t D = H * hd;
  jepa::ops::AttentionArgs a;
  a.batch = B;
  a.heads = H;
  a.head_dim = hd;
  a.nq = nq;
  a.q = q.data();
  a.ldq = (size_t)D;
  a.q_batch_stride = (size_t)(nq * D);
  a.kv[0].k = k.data();
  a.kv[0].v = v.data();
  a.kv[0].ld = (size_t)D;
  a.kv[0].batch_stride = (size_t)(nk * D);
  a.kv[0].rows = nk;
  a.out = out.data();
  a.ldo = (size_t)D;
  a.out_batch_stride = (size_t)(nq * D);
  a.scale = 1.0f / std::sqrt((float)hd);
  return a;
}

std::vector<float> run(const jepa::ops::AttentionArgs& a, std::vector<float>& out, const jepa::ParallelFor& par) {
  std::vector<float> scratch(jepa::ops::attention_scratch_floats(a));
  jepa::ops::attention(par, a, scratch.data());
  return out;
}

}  // namespace

TEST_CASE("ops: attention without a mask and with the block-causal mask") {
  const int64_t B = 2, H = 3, hd = 16, D = H * hd, steps = 4, tps = 5, n = steps * tps;
  const std::vector<float> q = randn(B * n * D, 11, 1.5f), k = randn(B * n * D, 12, 1.5f), v = randn(B * n * D, 13);
  std::vector<float> out(B * n * D);
  jepa::ParallelFor serial;
  {
    const std::vector<double> ref = naive_attention(q, k, v, B, H, hd, n, n, nullptr);
    run(args_for(q, k, v, out, B, H, hd, n, n), out, serial);
    CHECK(max_abs_diff(out.data(), ref.data(), out.size()) < 2e-6);
  }
  std::vector<uint8_t> mask(n * n);
  jepa::ops::build_block_causal_mask(steps, tps, mask.data());
  const std::vector<double> ref = naive_attention(q, k, v, B, H, hd, n, n, mask.data());
  jepa::ops::AttentionArgs a = args_for(q, k, v, out, B, H, hd, n, n);
  a.step_tokens = tps;
  const std::vector<float> structured = run(a, out, serial);
  CHECK(max_abs_diff(structured.data(), ref.data(), out.size()) < 2e-6);
  a.step_tokens = 0;
  a.mask = mask.data();
  const std::vector<float> explicit_mask = run(a, out, serial);
  CHECK(structured == explicit_mask);
  // Same bits on two threads.
  jepa::ThreadPool pool(2);
  a.mask = nullptr;
  a.step_tokens = tps;
  std::fill(out.begin(), out.end(), 0.0f);
  CHECK(run(a, out, pool.parallel_for()) == structured);
}

TEST_CASE("ops: attention over cache segments (shared prefix, cached rows, new rows)") {
  // Keys of 4 steps: step 0 shared by every sequence, steps 1-2 cached per
  // sequence, step 3 new; the queries are step 3. Must equal one concatenated
  // key set with queries at step 3 of a block-causal mask.
  const int64_t B = 2, H = 2, hd = 8, D = H * hd, tps = 3, steps = 4, nk = steps * tps, nq = tps;
  const std::vector<float> kp = randn(tps * D, 21), vp = randn(tps * D, 22);            // batch 1
  const std::vector<float> kc = randn(B * 2 * tps * D, 23), vc = randn(B * 2 * tps * D, 24);
  const std::vector<float> kn = randn(B * tps * D, 25), vn = randn(B * tps * D, 26), q = randn(B * nq * D, 27);
  std::vector<float> kall, vall;
  for (int64_t b = 0; b < B; ++b) {
    kall.insert(kall.end(), kp.begin(), kp.end());
    vall.insert(vall.end(), vp.begin(), vp.end());
    kall.insert(kall.end(), kc.begin() + b * 2 * tps * D, kc.begin() + (b + 1) * 2 * tps * D);
    vall.insert(vall.end(), vc.begin() + b * 2 * tps * D, vc.begin() + (b + 1) * 2 * tps * D);
    kall.insert(kall.end(), kn.begin() + b * tps * D, kn.begin() + (b + 1) * tps * D);
    vall.insert(vall.end(), vn.begin() + b * tps * D, vn.begin() + (b + 1) * tps * D);
  }
  std::vector<uint8_t> full(nk * nk), last(nq * nk);
  jepa::ops::build_block_causal_mask(steps, tps, full.data());
  std::copy(full.begin() + (nk - nq) * nk, full.end(), last.begin());
  const std::vector<double> ref = naive_attention(q, kall, vall, B, H, hd, nq, nk, last.data());

  std::vector<float> out(B * nq * D);
  jepa::ops::AttentionArgs a = args_for(q, kall, vall, out, B, H, hd, nq, nk);
  a.n_kv = 3;
  a.kv[0] = {kp.data(), vp.data(), (size_t)D, 0, tps, 0};
  a.kv[1] = {kc.data(), vc.data(), (size_t)D, (size_t)(2 * tps * D), 2 * tps, 1};
  a.kv[2] = {kn.data(), vn.data(), (size_t)D, (size_t)(tps * D), tps, 3};
  a.step_tokens = tps;
  a.q_first_step = 3;
  run(a, out, jepa::ParallelFor());
  CHECK(max_abs_diff(out.data(), ref.data(), out.size()) < 2e-6);
  // Queries at step 1 see the prefix and their own step only.
  a.q_first_step = 1;
  a.n_kv = 2;
  run(a, out, jepa::ParallelFor());
  std::vector<float> k2, v2;
  for (int64_t b = 0; b < B; ++b) {
    k2.insert(k2.end(), kp.begin(), kp.end());
    v2.insert(v2.end(), vp.begin(), vp.end());
    k2.insert(k2.end(), kc.begin() + b * 2 * tps * D, kc.begin() + b * 2 * tps * D + tps * D);
    v2.insert(v2.end(), vc.begin() + b * 2 * tps * D, vc.begin() + b * 2 * tps * D + tps * D);
  }
  const std::vector<double> ref2 = naive_attention(q, k2, v2, B, H, hd, nq, 2 * tps, nullptr);
  CHECK(max_abs_diff(out.data(), ref2.data(), out.size()) < 2e-6);
}

TEST_CASE("ops: patch embedding equals a direct strided convolution") {
  jepa::ops::PatchEmbedShape s;
  s.batch = 2;
  s.channels = 3;
  s.frames = 5;   // 5 / 2 = 2 tubelets, the last frame dropped
  s.height = 13;  // 13 / 4 = 3 rows, remainder dropped
  s.width = 10;
  s.kt = 2;
  s.patch = 4;
  const int64_t D = 7, K = s.row_len(), N = s.tokens();
  const std::vector<float> x = randn(s.batch * s.channels * s.frames * s.height * s.width, 31);
  const std::vector<float> w = randn(D * K, 32), bias = randn(D, 33);
  jepa::kernels::WeightMatrix wm;
  wm.n = (int32_t)D;
  wm.k = (int32_t)K;
  wm.data = w.data();
  std::vector<float> out(s.batch * N * D), scratch(jepa::ops::patch_embed_scratch_floats(s));
  jepa::ops::patch_embed(jepa::ParallelFor(), wm, bias.data(), x.data(), s, out.data(), scratch.data());
  std::vector<double> ref(out.size());
  const int64_t gh = s.grid_h(), gw = s.grid_w();
  for (int64_t b = 0; b < s.batch; ++b)
    for (int64_t n = 0; n < N; ++n) {
      const int64_t ti = n / (gh * gw), hi = (n / gw) % gh, wi = n % gw;
      for (int64_t d = 0; d < D; ++d) {
        double acc = bias[d];
        for (int64_t c = 0; c < s.channels; ++c)
          for (int64_t dt = 0; dt < s.kt; ++dt)
            for (int64_t kh = 0; kh < s.patch; ++kh)
              for (int64_t kw = 0; kw < s.patch; ++kw) {
                const double px = x[(((b * s.channels + c) * s.frames + ti * s.kt + dt) * s.height + hi * s.patch + kh) *
                                        s.width + wi * s.patch + kw];
                acc += px * w[d * K + ((c * s.kt + dt) * s.patch + kh) * s.patch + kw];
              }
        ref[(b * N + n) * D + d] = acc;
      }
    }
  CHECK(N == 2 * 3 * 2);
  CHECK(max_abs_diff(out.data(), ref.data(), out.size()) < 1e-4);
}

TEST_CASE("ops: sincos tables ([sin | cos] halves; 2D/3D part order)") {
  std::vector<float> one(8);
  jepa::ops::sincos_1d(2.0, 8, one.data());
  for (int j = 0; j < 4; ++j) {
    const double a = 2.0 * std::pow(10000.0, -j / 4.0);
    CHECK(one[j] == doctest::Approx(std::sin(a)).epsilon(1e-6));
    CHECK(one[4 + j] == doctest::Approx(std::cos(a)).epsilon(1e-6));
  }
  // 3D, token (t=1, h=2, w=0) of a depth-2, 3x3 grid: [t | h | w] parts.
  for (int uniform = 0; uniform < 2; ++uniform) {
    const int64_t dim = 64, grid = 3, depth = 2;
    std::vector<float> table(depth * grid * grid * dim);
    jepa::ops::vjepa_sincos_3d(dim, grid, depth, uniform != 0, table.data());
    const int64_t dd = uniform ? 22 : 32, dh = uniform ? 22 : 16;
    std::vector<float> t(dd), h(dh), w(dh), want;
    jepa::ops::sincos_1d(1.0, dd, t.data());
    jepa::ops::sincos_1d(2.0, dh, h.data());
    jepa::ops::sincos_1d(0.0, dh, w.data());
    want.insert(want.end(), t.begin(), t.end());
    want.insert(want.end(), h.begin(), h.end());
    want.insert(want.end(), w.begin(), w.end());
    want.resize(dim);  // uniform_power: 66 values truncated to 64
    const float* row = table.data() + ((1 * grid + 2) * grid + 0) * dim;
    CHECK(std::vector<float>(row, row + dim) == want);
  }
}
