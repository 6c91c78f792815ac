// Tests of the fused, tiled attention (ops/attention.hpp) against the scalar
// reference (ops/attention-ref.hpp) on random data: every tile kernel this
// CPU runs (AVX-512 / AVX2 / NEON / portable), ragged shapes (query rows and keys not
// multiples of the 8 x 64 tile, head_dim 16..80 and a ragged 20), no mask,
// block-causal steps, an explicit mask, both at once, 1..3 key segments with
// a batch-shared prefix; thread-count bit-identity; the vector exp's ulp
// error; the ISA cap choosing the kernel; stack vs caller scratch; the
// models' ragged ViT shapes (197 tokens, several 64-row query chunks).
#include <doctest/doctest.h>

#include <cmath>
#include <algorithm>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "jepa/kernels/dispatch.hpp"
#include "jepa/ops/attention.hpp"
#include "jepa/runtime/thread_pool.hpp"
#include "ops/ops_test_util.hpp"
#if defined(JEPA_KERNELS_X86_AVX2)
#include "jepa/kernels/x86/common-x86.hpp"  // exp_nonpositive_avx2 (the dispatch may only declare the tiles)
#endif

namespace {

using jepa::ops::AttentionArgs;

// Tolerance of fused vs reference, relative to max |v|: both sum the same
// softmax-weighted values in float; they differ in the order of the q.k sums
// (8 lanes + FMA vs 8 partial sums), in exp (the polynomial vs std::exp, <= 2
// ulp each), and in when 1/sum is applied (at the end vs to every p). Each is
// a few float ulps of an O(1) result; measured max ~1.1e-6 (the reference itself is that far from exact).
constexpr double kFusedRelTol = 4e-6;

// bf16 tiles (AttnMath::bf16) against the bf16 reference, relative to max
// |v|: the same bf16 products summed in another order, and e^x from the SIMD
// polynomial (within 1 ulp of the scalar one). Those last-bit differences of
// an f32 p now and then carry it across a bf16 rounding boundary (about 1 in
// 10^4 weights here): that weight moves by one bf16 step (2^-8) and its whole
// output row with it. So: no element further than one such step at full
// weight, and the rows that differ by more than float noise are few.
constexpr double kBf16TileRelTol = 1.0 / 256.0;
constexpr double kBf16NoiseRelTol = 1e-5;      // float noise: the f32 tiles' own is ~1e-6
constexpr double kBf16MaxRowsOffNoise = 0.05;  // measured <= 2% of (batch, row, head) rows
// The bf16 arithmetic itself against f32 (q, k, p, v each rounded to 8
// mantissa bits, attention logits of std ~2 here): measured <= 1.2e-2 of max |v|.
constexpr double kBf16VsF32RelTol = 2e-2;

using opstest::randn;

// A random problem: queries with a qkv-like row stride, segments with padded
// rows; segment 0 optionally shared by the batch.
struct Problem {
  int64_t B, H, hd, nq;
  std::vector<float> q, out;
  std::vector<std::vector<float>> k, v;
  std::vector<uint8_t> mask;
  AttentionArgs a;

  Problem(int64_t B_, int64_t H_, int64_t hd_, int64_t nq_, const std::vector<int64_t>& seg_rows,
          bool shared_prefix, uint32_t seed)
      : B(B_), H(H_), hd(hd_), nq(nq_) {
    const int64_t D = H * hd, ldq = 3 * D, ld = D + 5;
    q = randn((size_t)(B * nq * ldq), seed, 1.5f);
    out.assign((size_t)(B * nq * D), -7.0f);
    a.batch = B;
    a.heads = H;
    a.head_dim = hd;
    a.nq = nq;
    a.q = q.data();
    a.ldq = (size_t)ldq;
    a.q_batch_stride = (size_t)(nq * ldq);
    a.n_kv = (int)seg_rows.size();
    k.resize(seg_rows.size());
    v.resize(seg_rows.size());
    for (size_t s = 0; s < seg_rows.size(); ++s) {
      const bool shared = shared_prefix && s == 0;
      const int64_t copies = shared ? 1 : B;
      k[s] = randn((size_t)(copies * seg_rows[s] * ld + 1), seed + 100 + (uint32_t)s, 1.5f);
      v[s] = randn((size_t)(copies * seg_rows[s] * ld + 1), seed + 200 + (uint32_t)s);
      a.kv[s].k = k[s].data();
      a.kv[s].v = v[s].data();
      a.kv[s].ld = (size_t)ld;
      a.kv[s].batch_stride = shared ? 0 : (size_t)(seg_rows[s] * ld);
      a.kv[s].rows = seg_rows[s];
    }
    a.out = out.data();
    a.ldo = (size_t)D;
    a.out_batch_stride = (size_t)(nq * D);
    a.scale = 1.0f / std::sqrt((float)hd);
  }

  void random_mask(uint32_t seed) {
    const int64_t nk = jepa::ops::attention_total_keys(a);
    std::mt19937 rng(seed);
    mask.resize((size_t)(nq * nk));
    for (uint8_t& m : mask) m = (rng() % 10) < 7 ? 1 : 0;
    for (int64_t j = 0; j < nk; ++j) mask[(size_t)((nq / 2) * nk + j)] = 0;  // one row sees nothing
    a.mask = mask.data();
  }

  double max_abs_v() const {
    double m = 0;
    for (const auto& vs : v)
      for (float x : vs) m = std::max(m, (double)std::fabs(x));
    return m;
  }
};

std::vector<float> run_ref(const AttentionArgs& a) {
  std::vector<float> out((size_t)(a.batch * a.out_batch_stride));
  AttentionArgs r = a;
  r.out = out.data();
  std::vector<float> scratch(jepa::ops::attention_ref_scratch_floats(a));
  jepa::ops::attention_ref(jepa::ParallelFor(), r, scratch.data());
  return out;
}

std::vector<float> run_fused(const AttentionArgs& a, const jepa::kernels::AttnKernelInfo& kern,
                             const jepa::ParallelFor& par = jepa::ParallelFor()) {
  std::vector<float> out((size_t)(a.batch * a.out_batch_stride), -7.0f);
  AttentionArgs r = a;
  r.out = out.data();
  std::vector<float> scratch(jepa::ops::attention_scratch_floats(a));
  jepa::ops::attention_with(par, r, scratch.empty() ? nullptr : scratch.data(), kern);
  return out;
}

double max_abs_diff(const std::vector<float>& x, const std::vector<float>& y) {
  double m = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    const double d = std::fabs((double)x[i] - (double)y[i]);
    if (!(d <= m)) m = d;  // NaN propagates as a huge error
  }
  return m;
}

// Every tile kernel this CPU can run.
std::vector<const jepa::kernels::AttnKernelInfo*> runnable_kernels() {
  size_t n = 0;
  const jepa::kernels::AttnKernelInfo* all = jepa::kernels::attention_kernels(&n);
  std::vector<const jepa::kernels::AttnKernelInfo*> out;
  static bool said = false;  // once per run, not per problem
  for (size_t i = 0; i < n; ++i)
    if (jepa::kernels::cpu_supports(all[i].isa))
      out.push_back(&all[i]);
    else if (!said)
      MESSAGE((std::string("skipped (CPU lacks ") + jepa::kernels::isa_name(all[i].isa) + "): " + all[i].name));
  said = true;
  return out;
}

double& worst_rows_off() {
  static double w = 0;
  return w;
}

// Worst error / (max |v|) seen so far per kernel (reported at the end of a case).
std::vector<double>& worst_rel() {
  static std::vector<double> w(8, 0.0);
  return w;
}

void report_worst(const char* what) {
  size_t n = 0;
  const jepa::kernels::AttnKernelInfo* all = jepa::kernels::attention_kernels(&n);
  for (size_t i = 0; i < n; ++i)
    if (jepa::kernels::cpu_supports(all[i].isa))
      MESSAGE(std::string(what) << ": " << std::string(all[i].name) << " max |fused - ref| / max|v| = "
                                << worst_rel()[i]
                                << std::string(all[i].math == jepa::kernels::AttnMath::bf16 ? " (the bf16 reference)" : ""));
  if (worst_rows_off() > 0) MESSAGE(std::string(what) << ": bf16 tiles, rows off float noise: " << worst_rows_off());
  worst_rows_off() = 0;
  std::fill(worst_rel().begin(), worst_rel().end(), 0.0);
}

// Fraction of the output's head rows (head_dim values of one batch, row, head)
// with an element further than tol from ref.
double rows_off(const std::vector<float>& x, const std::vector<float>& ref, int64_t head_dim, double tol) {
  size_t off = 0, rows = 0;
  for (size_t r0 = 0; r0 < x.size(); r0 += (size_t)head_dim, ++rows) {
    bool bad = false;
    for (size_t i = r0; i < r0 + (size_t)head_dim; ++i) bad = bad || !(std::fabs((double)x[i] - ref[i]) <= tol);
    off += bad ? 1 : 0;
  }
  return rows ? (double)off / (double)rows : 0.0;
}

// Whether kernel k runs the problem in bf16 (else the op gives it to the f32 tile).
bool runs_bf16(const jepa::kernels::AttnKernelInfo& k, const AttentionArgs& a) {
  return k.math == jepa::kernels::AttnMath::bf16 &&
         jepa::kernels::attention_kernel_takes(k, a.head_dim, jepa::ops::attention_kv_all_f32(a));
}

// f32 kernels against the f32 reference; bf16 ones against the bf16 reference
// (through the same op) and, more loosely, against f32.
void check_against_ref(Problem& p, const char* what) {
  const std::vector<float> ref = run_ref(p.a);
  const double tol = kFusedRelTol * p.max_abs_v();
  size_t n = 0;
  const jepa::kernels::AttnKernelInfo* all = jepa::kernels::attention_kernels(&n);
  std::vector<float> ref_bf16;
  for (const auto* k : runnable_kernels()) {
    const std::vector<float> got = run_fused(p.a, *k);
    INFO(std::string(what) << " kernel " << std::string(k->name) << " B=" << p.B << " H=" << p.H << " hd=" << p.hd
                           << " nq=" << p.nq << " total keys=" << jepa::ops::attention_total_keys(p.a));
    double& w = worst_rel()[(size_t)(k - all)];
    if (runs_bf16(*k, p.a)) {
      if (ref_bf16.empty())
        ref_bf16 = run_fused(p.a, jepa::kernels::reference_attention_kernel(jepa::kernels::AttnMath::bf16));
      const double err = max_abs_diff(got, ref_bf16);
      const double off = rows_off(got, ref_bf16, p.hd, kBf16NoiseRelTol * p.max_abs_v());
      w = std::max(w, err / p.max_abs_v());
      worst_rows_off() = std::max(worst_rows_off(), off);
      INFO("vs bf16 reference: max err " << err << ", rows off float noise " << off);
      CHECK(err <= kBf16TileRelTol * p.max_abs_v());
      CHECK(off <= kBf16MaxRowsOffNoise);
      CHECK(max_abs_diff(got, ref) <= kBf16VsF32RelTol * p.max_abs_v());
      continue;
    }
    const double err = max_abs_diff(got, ref);
    w = std::max(w, err / p.max_abs_v());
    INFO("max err " << err);
    CHECK(err <= tol);
  }
}

}  // namespace

TEST_CASE("attention: exp_nonpositive within 2 ulp of exp on [-87, 0]") {
  auto ulp_err = [](float got, double want) {
    const float w = (float)want;
    const double ulp = std::fabs((double)std::nextafter(w, INFINITY) - (double)w);
    return std::fabs((double)got - want) / ulp;
  };
  double worst = 0;
  std::vector<float> zs;
  for (int i = 0; i <= 200000; ++i) zs.push_back(-87.0f * (float)i / 200000.0f);
  for (float z : zs) worst = std::max(worst, ulp_err(jepa::kernels::ref::exp_nonpositive(z), std::exp((double)z)));
  MESSAGE("scalar exp_nonpositive: max " << worst << " ulp");
  CHECK(worst <= 2.0);
  CHECK(jepa::kernels::ref::exp_nonpositive(0.0f) == 1.0f);
  CHECK(jepa::kernels::ref::exp_nonpositive(-INFINITY) > 0.0f);  // clamped at -87: masking is explicit
}

#if defined(JEPA_KERNELS_X86_AVX2)
JEPA_TARGET_AVX2 float exp_avx2_lane0(float z) {
  return _mm256_cvtss_f32(jepa::kernels::x86::exp_nonpositive_avx2(_mm256_set1_ps(z)));
}
#endif

TEST_CASE("attention: the AVX2 exp (the tile kernel's) within 2 ulp of exp on [-87, 0]") {
#if defined(JEPA_KERNELS_X86_AVX2)
  if (!jepa::kernels::cpu_supports(jepa::kernels::Isa::avx2)) {
    MESSAGE("skipped: CPU lacks avx2");
    return;
  }
  double worst = 0;
  for (int i = 0; i <= 200000; ++i) {
    const float z = -87.0f * (float)i / 200000.0f;
    const double want = std::exp((double)z);
    const float w = (float)want;
    const double ulp = std::fabs((double)std::nextafter(w, INFINITY) - (double)w);
    worst = std::max(worst, std::fabs((double)exp_avx2_lane0(z) - want) / ulp);
  }
  MESSAGE("exp_nonpositive_avx2: max " << worst << " ulp");
  CHECK(worst <= 2.0);
#else
  MESSAGE("skipped: no AVX2 kernels in this build");
#endif
}

TEST_CASE("attention: fused matches the reference, no mask, ragged shapes") {
  const int64_t hds[] = {16, 32, 64, 80, 20};
  const int64_t nqs[] = {1, 5, 8, 13, 70};
  const int64_t nks[] = {1, 7, 64, 65, 130};
  uint32_t seed = 1;
  for (int64_t hd : hds)
    for (int64_t nq : nqs)
      for (int64_t nk : nks) {
        Problem p(2, 2, hd, nq, {nk}, false, seed++);
        check_against_ref(p, "no mask");
      }
  report_worst("no mask");
}

TEST_CASE("attention: fused matches the reference, block-causal over 3 segments with a shared prefix") {
  // AC-predictor layout: a prefix shared by the batch (steps 0..), cached own
  // steps, the new steps (the queries); tokens per step below, at and above
  // the 8-row and 64-key tiles.
  const int64_t tpss[] = {3, 8, 13, 40, 67};  // 13: a 4-row group in one step sees 13, 26, ... keys
  const int64_t hds[] = {16, 64, 80};
  uint32_t seed = 500;
  for (int64_t tps : tpss)
    for (int64_t hd : hds)
      for (int nseg = 1; nseg <= 3; ++nseg) {
        std::vector<int64_t> rows;
        const int64_t steps[3] = {1, 2, 2};  // prefix, cache, fresh
        for (int s = 3 - nseg; s < 3; ++s) rows.push_back(steps[s] * tps);
        const int64_t nq = 2 * tps;
        Problem p(2, 3, hd, nq, rows, nseg == 3, seed++);
        int64_t first = nseg == 3 ? 0 : nseg == 2 ? 1 : 3;
        for (int s = 0; s < nseg; ++s) {
          p.a.kv[s].first_step = first;
          first += rows[(size_t)s] / tps;
        }
        p.a.step_tokens = tps;
        p.a.q_first_step = first - 2;  // the last segment holds the query steps
        check_against_ref(p, "block-causal");
      }
  report_worst("block-causal");
}

TEST_CASE("attention: fused matches the reference with an explicit mask (alone and with block-causal)") {
  const int64_t hds[] = {16, 32, 64};
  uint32_t seed = 900;
  for (int64_t hd : hds)
    for (int64_t nq : {7, 9, 70}) {
      Problem p(2, 2, hd, nq, {33, 100}, true, seed++);
      p.random_mask(seed);
      check_against_ref(p, "explicit mask");
      // Masked rows come out as zeros in both.
      const std::vector<float> ref = run_ref(p.a);
      const int64_t D = p.H * hd;
      for (int64_t d = 0; d < D; ++d) CHECK(ref[(size_t)((nq / 2) * D + d)] == 0.0f);
      p.a.step_tokens = 11;  // both at once: segment 0 at step 0, segment 1 from step 3
      p.a.kv[0].first_step = 0;
      p.a.kv[1].first_step = 3;
      p.a.q_first_step = 3;
      check_against_ref(p, "explicit mask + block-causal");
    }
  report_worst("explicit mask");
}

TEST_CASE("attention: block-causal by steps equals the explicit block-causal mask, bit for bit") {
  const int64_t steps = 5, tps = 13, n = steps * tps;
  Problem p(2, 2, 64, n, {n}, false, 77);
  std::vector<uint8_t> mask((size_t)(n * n));
  jepa::ops::build_block_causal_mask(steps, tps, mask.data());
  for (const auto* k : runnable_kernels()) {
    AttentionArgs a = p.a;
    a.step_tokens = tps;
    const std::vector<float> structured = run_fused(a, *k);
    a.step_tokens = 0;
    a.mask = mask.data();
    const std::vector<float> explicit_mask = run_fused(a, *k);
    INFO(k->name);
    CHECK(std::memcmp(structured.data(), explicit_mask.data(), structured.size() * 4) == 0);
  }
}

TEST_CASE("attention: keys no query sees are never read (NaN there stays out)") {
  // Queries are steps 0-1 of a 3-step segment: step 2's K/V are garbage.
  const int64_t tps = 21;
  Problem p(1, 2, 32, 2 * tps, {3 * tps}, false, 31);
  p.a.step_tokens = tps;
  const std::vector<float> clean = run_ref(p.a);
  const std::vector<float> clean_bf16 =
      run_fused(p.a, jepa::kernels::reference_attention_kernel(jepa::kernels::AttnMath::bf16));
  const size_t ld = p.a.kv[0].ld;
  for (size_t i = (size_t)(2 * tps) * ld; i < p.k[0].size(); ++i) p.k[0][i] = p.v[0][i] = NAN;
  for (const auto* k : runnable_kernels()) {
    const std::vector<float> got = run_fused(p.a, *k);
    INFO(k->name);
    if (runs_bf16(*k, p.a))
      CHECK(max_abs_diff(got, clean_bf16) <= kBf16TileRelTol * 5.0);
    else
      CHECK(max_abs_diff(got, clean) <= kFusedRelTol * 5.0);
  }
}

TEST_CASE("attention: fused matches the reference at the models' ragged ViT shapes") {
  // 197 tokens (ViT 224/16 + cls): a full query chunk + 69 rows, keys 3 x 64 + 5;
  // 256 / 257: chunk-aligned and one past.
  uint32_t seed = 700;
  for (int64_t L : {197, 256, 257}) {
    Problem p(1, 2, 64, L, {L}, false, seed++);
    check_against_ref(p, "ViT shape");
  }
  Problem g(1, 1, 88, 197, {197}, false, seed++);  // ViT-g head_dim
  check_against_ref(g, "ViT-g head_dim 88");
  report_worst("ViT shapes");
}

TEST_CASE("attention: results are bit-identical for 1, 2 and 3 threads") {
  Problem p(2, 3, 64, 45, {8, 90}, true, 61);
  p.a.step_tokens = 9;
  p.a.kv[0].first_step = 0;
  p.a.kv[1].first_step = 1;
  p.a.q_first_step = 6;
  Problem wide(1, 3, 64, 197, {197}, false, 62);  // several query chunks per head
  for (Problem* pr : {&p, &wide})
    for (const auto* k : runnable_kernels()) {
      const std::vector<float> one = run_fused(pr->a, *k);
      for (int threads : {2, 3}) {
        jepa::ThreadPool pool(threads);
        const std::vector<float> many = run_fused(pr->a, *k, pool.parallel_for());
        INFO(k->name << " threads " << threads << " nq " << pr->nq);
        CHECK(std::memcmp(one.data(), many.data(), one.size() * 4) == 0);
      }
    }
}

TEST_CASE("attention: the ISA cap picks the tile kernel; ops::attention runs it") {
  using namespace jepa::kernels;
  Problem p(1, 2, 32, 19, {50}, false, 5);
  set_isa_cap(Isa::scalar);
  CHECK(std::strcmp(choose_attention_kernel().name, "f32_attention_tile__ref") == 0);
  std::vector<float> scalar_out(p.out.size());
  jepa::ops::attention(jepa::ParallelFor(), p.a, nullptr);
  scalar_out = p.out;
  CHECK(scalar_out == run_fused(p.a, reference_attention_kernel()));
  clear_isa_cap();
  const AttnKernelInfo& best = choose_attention_kernel();
  MESSAGE("attention tile kernel here: " << std::string(best.name));
  jepa::ops::attention(jepa::ParallelFor(), p.a, nullptr);
  CHECK(p.out == run_fused(p.a, best));
  CHECK(max_abs_diff(p.out, run_ref(p.a)) <= kFusedRelTol * p.max_abs_v());
}

TEST_CASE("attention: scratch is 0 up to head_dim 96, caller scratch above") {
  using jepa::kernels::kAttnKeys;
  using jepa::ops::kAttnTaskRows;
  CHECK(kAttnTaskRows == 128);
  CHECK(jepa::ops::attention_scratch_floats(4, 16, 64, 2048) == 0);
  CHECK(jepa::ops::attention_scratch_floats(4, 16, 96, 2048) == 0);
  // One task state (accumulators of a query chunk + a K and a V block) per
  // (batch, head, query chunk).
  CHECK(jepa::ops::attention_scratch_floats(1, 2, 260, 9) == (size_t)(2 * 1 * (kAttnTaskRows + 2 * kAttnKeys) * 260));
  CHECK(jepa::ops::attention_scratch_floats(2, 2, 100, 129) ==
        (size_t)(2 * 2 * 2 * (kAttnTaskRows + 2 * kAttnKeys) * 100));
  Problem p(1, 2, 260, 9, {70}, false, 9);
  check_against_ref(p, "head_dim 260 (caller scratch)");
  Problem p2(2, 2, 100, 133, {130}, false, 10);
  check_against_ref(p2, "head_dim 100, two query chunks (caller scratch)");
}

namespace {

// The problem's K/V segments re-stored as `dtype` (rows keep their padded
// stride; q8 scales [rows][H]), and the f32 decoding of that storage.
struct StoredKv {
  std::vector<std::vector<uint8_t>> k, v;
  std::vector<std::vector<float>> ks, vs, k_dec, v_dec;
};

void store_segments(Problem& p, jepa::ops::KvDtype dtype, StoredKv* st, AttentionArgs* stored, AttentionArgs* decoded) {
  using namespace jepa::ops;
  *stored = p.a;
  *decoded = p.a;
  const size_t eb = kv_elem_bytes(dtype);
  const int n = p.a.n_kv;
  st->k.resize(n), st->v.resize(n), st->ks.resize(n), st->vs.resize(n), st->k_dec.resize(n), st->v_dec.resize(n);
  for (int s = 0; s < n; ++s) {
    const KvSegment& src = p.a.kv[s];
    const size_t ld = src.ld, total_rows = p.k[s].size() / ld;  // every row of every copy
    for (int values = 0; values < 2; ++values) {
      const std::vector<float>& x = values ? p.v[s] : p.k[s];
      std::vector<uint8_t>& bytes = values ? st->v[s] : st->k[s];
      std::vector<float>& scales = values ? st->vs[s] : st->ks[s];
      std::vector<float>& dec = values ? st->v_dec[s] : st->k_dec[s];
      bytes.assign(x.size() * eb, 0);
      scales.assign(total_rows * (size_t)p.H, 0.0f);
      dec.assign(x.size(), 0.0f);
      for (size_t r = 0; r < total_rows; ++r) {
        kv_encode_row(dtype, x.data() + r * ld, p.H, p.hd, bytes.data() + r * ld * eb, scales.data() + r * p.H);
        for (int64_t h = 0; h < p.H; ++h)
          kv_decode_head_rows(dtype, bytes.data() + (r * ld + (size_t)(h * p.hd)) * eb, 0,
                              scales.data() + r * p.H + h, 0, 1, (int32_t)p.hd, dec.data() + r * ld + h * p.hd, 0);
      }
    }
    KvSegment& q = stored->kv[s];
    q.k = st->k[s].data();
    q.v = st->v[s].data();
    q.dtype = dtype;
    if (dtype == KvDtype::q8) {
      q.k_scale = st->ks[s].data();
      q.v_scale = st->vs[s].data();
      q.ld_scale = (size_t)p.H;
      q.scale_batch_stride = src.batch_stride / ld * (size_t)p.H;
    }
    decoded->kv[s].k = st->k_dec[s].data();
    decoded->kv[s].v = st->v_dec[s].data();
  }
}

}  // namespace

TEST_CASE("attention: f16 and q8 K/V segments read as their f32 decoding, on every kernel") {
  using jepa::ops::KvDtype;
  const int64_t tpss[] = {3, 13, 67};
  const int64_t hds[] = {20, 64, 80};
  uint32_t seed = 900;
  for (KvDtype dtype : {KvDtype::f16, KvDtype::q8}) {
    double worst_vs_f32 = 0;
    for (int64_t tps : tpss)
      for (int64_t hd : hds) {
        // prefix (shared), cache, fresh: the AC predictor's planning layout
        std::vector<int64_t> rows = {tps, 2 * tps, 2 * tps};
        Problem p(2, 3, hd, 2 * tps, rows, true, seed++);
        p.a.kv[0].first_step = 0;
        p.a.kv[1].first_step = 1;
        p.a.kv[2].first_step = 3;
        p.a.step_tokens = tps;
        p.a.q_first_step = 3;
        StoredKv st;
        AttentionArgs stored, decoded;
        store_segments(p, dtype, &st, &stored, &decoded);
        // The fresh segment stays f32, as in the models.
        stored.kv[2] = p.a.kv[2];
        decoded.kv[2] = p.a.kv[2];
        const std::vector<float> ref_decoded = run_ref(decoded);
        // The reference reads stored K/V through the same scalar decode: exact.
        CHECK(max_abs_diff(run_ref(stored), ref_decoded) == 0.0);
        const double tol = kFusedRelTol * p.max_abs_v();
        for (const auto* k : runnable_kernels()) {
          const double err = max_abs_diff(run_fused(stored, *k), ref_decoded);
          INFO(std::string(jepa::ops::kv_dtype_name(dtype)) << " kernel " << std::string(k->name) << " tps=" << tps
                                               << " hd=" << hd << " err " << err);
          CHECK(err <= tol);
        }
        // Bit-identical across thread counts with stored segments too.
        jepa::ThreadPool pool(3);
        CHECK(max_abs_diff(run_fused(stored, jepa::kernels::choose_attention_kernel(), pool.parallel_for()),
                           run_fused(stored, jepa::kernels::choose_attention_kernel())) == 0.0);
        worst_vs_f32 = std::max(worst_vs_f32, max_abs_diff(run_ref(stored), run_ref(p.a)) / p.max_abs_v());
      }
    MESSAGE(std::string(jepa::ops::kv_dtype_name(dtype)) << " K/V: max |out - out with f32 K/V| / max|v| = " << worst_vs_f32);
    // f16: 11-bit mantissas; q8: 1/254 of each head row's largest |x| (|x| up to ~5 sigma here).
    CHECK(worst_vs_f32 < (dtype == KvDtype::f16 ? 2e-3 : 3e-2));
  }
}

TEST_CASE("attention: the bf16 reference rounds, and stays within the bf16 bound of f32") {
  // Runs everywhere (QEMU and ARM too): the statement every bf16 tile is held to.
  uint32_t seed = 1200;
  for (int64_t hd : {16, 20, 64, 88})
    for (int64_t L : {9, 70, 197}) {
      Problem p(1, 2, hd, L, {L}, false, seed++);
      const std::vector<float> f32 = run_ref(p.a);
      const std::vector<float> bf16 =
          run_fused(p.a, jepa::kernels::reference_attention_kernel(jepa::kernels::AttnMath::bf16));
      const double err = max_abs_diff(bf16, f32);
      INFO("hd " << hd << " L " << L << " max err " << err << " max|v| " << p.max_abs_v());
      CHECK(err > kFusedRelTol * p.max_abs_v());  // it does round: not an f32 tile in disguise
      CHECK(err <= kBf16VsF32RelTol * p.max_abs_v());
    }
}

TEST_CASE("attention: AttnMath::bf16 picks a bf16 tile only where it takes the problem") {
  using namespace jepa::kernels;
  const AttnKernelInfo& f32 = choose_attention_kernel();
  CHECK(f32.math == AttnMath::f32);
  CHECK(&choose_attention_kernel(AttnMath::f32, 64, true) == &f32);
  const AttnKernelInfo& bf16 = choose_attention_kernel(AttnMath::bf16, 64, true);
  MESSAGE("bf16 attention here: " << std::string(bf16.name));
  // Wider heads and f16/q8 K/V segments run the f32 tile.
  CHECK(&choose_attention_kernel(AttnMath::bf16, kAttnBf16MaxHeadDim + 1, true) == &f32);
  CHECK(&choose_attention_kernel(AttnMath::bf16, 64, false) == &f32);
  CHECK(&choose_attention_kernel(AttnMath::bf16, kAttnBf16MaxHeadDim, true) == &bf16);
  // ops::attention follows a.math.
  Problem p(1, 2, 64, 40, {50}, false, 1300);
  p.a.math = AttnMath::bf16;
  jepa::ops::attention(jepa::ParallelFor(), p.a, nullptr);
  CHECK(p.out == run_fused(p.a, bf16));
  // A bf16 tile pinned on f16 segments gives way to the f32 tile, bit for bit.
  if (bf16.math == AttnMath::bf16) {
    StoredKv st;
    AttentionArgs stored, decoded;
    store_segments(p, jepa::ops::KvDtype::f16, &st, &stored, &decoded);
    CHECK(run_fused(stored, bf16) == run_fused(stored, f32));
  }
}

TEST_CASE("attention: kv_encode_row / kv_decode_head_rows round trip") {
  using namespace jepa::ops;
  const std::vector<float> x = randn(2 * 24, 77, 3.0f);
  std::vector<int8_t> q(48);
  float scales[2];
  kv_encode_row(KvDtype::q8, x.data(), 2, 24, q.data(), scales);
  std::vector<float> back(48);
  kv_decode_head_rows(KvDtype::q8, q.data(), 24, scales, 1, 2, 24, back.data(), 24);  // 2 "rows" of one head
  for (int h = 0; h < 2; ++h) {
    float amax = 0;
    for (int i = 0; i < 24; ++i) amax = std::max(amax, std::fabs(x[h * 24 + i]));
    CHECK(scales[h] == doctest::Approx(amax / 127.0f));
    for (int i = 0; i < 24; ++i) CHECK(std::fabs(back[h * 24 + i] - x[h * 24 + i]) <= 0.5f * scales[h] * 1.0001f);
  }
  std::vector<uint16_t> hbits(48);
  kv_encode_row(KvDtype::f16, x.data(), 2, 24, hbits.data(), nullptr);
  kv_decode_head_rows(KvDtype::f16, hbits.data(), 24, nullptr, 0, 2, 24, back.data(), 24);
  for (int i = 0; i < 48; ++i) CHECK(std::fabs(back[i] - x[i]) <= std::fabs(x[i]) * (1.0f / 2048.0f));
  KvDtype d;
  CHECK(kv_dtype_from_name("q8", &d));
  CHECK(d == KvDtype::q8);
  CHECK_FALSE(kv_dtype_from_name("q4", &d));
}
