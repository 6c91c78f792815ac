// tests/backends/test_backends.cpp: the optional Linear backends
// (kernels/backends/: Eigen, XNNPACK) through ops::linear against the scalar
// reference, on random data with ragged shapes (M = 1, 3, 17, 64; K and N
// off the block sizes), every epilogue (bias, GELU, residual, residual
// aliasing y), then the whole V-JEPA 2 tiny encoder with each backend as the
// default table against the golden output at the f32 tolerance.
// Eigen q8 must equal ref::gemm_prepared__ref bit for bit; neither backend may
// allocate per call (Eigen: EIGEN_RUNTIME_NO_MALLOC; XNNPACK: a counting
// allocator). Built always; without JEPA_WITH_EIGEN / JEPA_WITH_XNNPACK the
// cases report skipped.
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#if defined(JEPA_WITH_EIGEN)
// Make Eigen's own heap check fire in Release builds too: with
// EIGEN_RUNTIME_NO_MALLOC, any heap use while malloc is disallowed fails
// eigen_assert, which here counts instead of aborting.
#define EIGEN_RUNTIME_NO_MALLOC
namespace backend_test {
inline std::atomic<int>& eigen_assert_failures() {
  static std::atomic<int> n{0};
  return n;
}
}  // namespace backend_test
#define eigen_assert(x)                                                  \
  do {                                                                   \
    if (!(x)) ++backend_test::eigen_assert_failures();                   \
  } while (0)
#include <Eigen/Core>
#endif

#include <doctest/doctest.h>

#include "jepa/kernels/dispatch.hpp"
#include "jepa/kernels/quantize.hpp"
#include "jepa/kernels/ref/gemm-ref.hpp"
#include "jepa/ops/linear.hpp"
#include "models/golden_models.hpp"

#if defined(JEPA_WITH_XNNPACK)
#include "jepa/kernels/backends/xnnpack.hpp"
#endif

namespace {

using namespace jepa;
using namespace jepa::kernels;

#if defined(JEPA_WITH_EIGEN) || defined(JEPA_WITH_XNNPACK)

constexpr double kU = 5.9604644775390625e-08;  // float unit roundoff
inline double gamma_n(int64_t n) { return (double)n * kU / (1.0 - (double)n * kU); }

std::vector<float> random_floats(std::mt19937& rng, size_t n, float scale) {
  std::normal_distribution<float> d(0.0f, scale);
  std::vector<float> v(n);
  for (float& f : v) f = d(rng);
  return v;
}

// A weight in one dtype/layout (64-byte aligned, as in a mapped file).
struct Packed {
  std::vector<uint8_t> raw;
  WeightMatrix w;
  Packed(const std::vector<float>& wf, int32_t n, int32_t k, format::DType dt, format::Layout lay) {
    uint32_t params[6] = {0, 0, 0, 0, 0, 0};
    if (lay == format::Layout::panel) standard_panel_params(dt, params);
    const size_t bytes = packed_bytes(dt, lay, n, k, params).value();
    raw.assign(bytes + 64, 0);
    uint8_t* p = raw.data() + ((64 - ((uintptr_t)raw.data() & 63)) & 63);
    REQUIRE(quantize_matrix(wf.data(), n, k, dt, lay, params, p, bytes).is_ok());
    w = weight_view(dt, lay, params, n, k, p);
  }
};

enum class Epi { none, bias, bias_gelu, residual, residual_alias };
const Epi kEpis[] = {Epi::none, Epi::bias, Epi::bias_gelu, Epi::residual, Epi::residual_alias};
const char* epi_name(Epi e) {
  switch (e) {
    case Epi::none: return "none";
    case Epi::bias: return "bias";
    case Epi::bias_gelu: return "bias+gelu";
    case Epi::residual: return "bias+residual";
    case Epi::residual_alias: return "bias+gelu+residual(y)";
  }
  return "?";
}

struct Case {
  int32_t m, k, n;
  Epi epi;
};

// ops::linear with `table` on one case against the reference on the same
// packed weights. exact: bit-identical to ref::gemm_prepared__ref (Eigen q8);
// else |err| <= the float accumulation bound (and GELU's slope) for f32
// activations against ref::gemm__ref (dequantised weights).
std::string check_case(const KernelTable& table, const Packed& pw, const std::vector<float>& wf, const Case& c,
                       std::mt19937& rng, bool exact, double* worst) {
  (void)wf;
  const WeightMatrix& w = pw.w;
  std::vector<float> x = random_floats(rng, (size_t)c.m * c.k, 1.0f);
  std::vector<float> bias = random_floats(rng, (size_t)c.n, 0.5f);
  std::vector<float> resid = random_floats(rng, (size_t)c.m * c.n, 1.0f);
  const bool with_bias = c.epi != Epi::none;
  const Epilogue epi = (c.epi == Epi::bias_gelu || c.epi == Epi::residual_alias) ? Epilogue::gelu : Epilogue::none;
  std::vector<float> y((size_t)c.m * c.n, -777.0f), want((size_t)c.m * c.n, -777.0f);
  const float* residual = nullptr;
  if (c.epi == Epi::residual) residual = resid.data();
  if (c.epi == Epi::residual_alias) {
    y = resid;
    residual = y.data();
  }

  ops::LinearContext ctx;
  ctx.table = &table;
#if defined(JEPA_WITH_EIGEN)
  Eigen::internal::set_is_malloc_allowed(false);
#endif
  ops::linear(ctx, w, with_bias ? bias.data() : nullptr, x.data(), c.m, y.data(), epi, residual);
#if defined(JEPA_WITH_EIGEN)
  Eigen::internal::set_is_malloc_allowed(true);
#endif

  GemmArgs r;
  r.m = c.m;
  r.x = x.data();
  r.ldx = (size_t)c.k;
  r.w = &w;
  r.bias = with_bias ? bias.data() : nullptr;
  r.y = want.data();
  r.ldy = (size_t)c.n;
  r.epilogue = epi;
  r.residual = residual ? resid.data() : nullptr;
  r.ldr = (size_t)c.n;
  std::vector<uint8_t> scratch(prepared_bytes(ActFormat::s8, c.m, c.k) + 64);
  uint8_t* sp = scratch.data() + ((64 - ((uintptr_t)scratch.data() & 63)) & 63);
  PreparedX xp;
  if (exact) {
    ref::prepare_rows__ref(ActFormat::s8, x.data(), (size_t)c.k, c.m, c.k, 0, c.m, sp);
    xp = prepared_view(ActFormat::s8, c.m, c.k, sp);
    r.xp = &xp;
    ref::gemm_prepared__ref(r);
  } else {
    ref::gemm__ref(r);
  }
  for (int32_t i = 0; i < c.m; ++i)
    for (int32_t j = 0; j < c.n; ++j) {
      const size_t at = (size_t)i * c.n + j;
      const float got = y[at], ref = want[at];
      if (exact) {
        if (std::memcmp(&got, &ref, 4) != 0) {
          char buf[200];
          std::snprintf(buf, sizeof buf, "y[%d][%d] = %.9g, reference %.9g: not bit-identical", i, j, got, ref);
          return buf;
        }
        continue;
      }
      double sum_abs = with_bias ? std::fabs(bias[j]) : 0.0;
      for (int32_t q = 0; q < c.k; ++q) sum_abs += std::fabs(x[(size_t)i * c.k + q] * ref::weight_at(w, j, q));
      double tol = 2.0 * gamma_n(c.k + 2) * sum_abs;
      if (epi == Epilogue::gelu) tol = tol * 1.13 + 4.0 * kU * std::fabs(ref);
      if (residual) tol += 2.0 * kU * (std::fabs(ref) + 1.0);
      const double err = std::fabs((double)got - (double)ref);
      if (tol > 0) *worst = std::fmax(*worst, err / tol);
      if (!(err <= tol)) {
        char buf[200];
        std::snprintf(buf, sizeof buf, "y[%d][%d] = %.9g, reference %.9g, |err| %.3g > tol %.3g", i, j, got, ref,
                      err, tol);
        return buf;
      }
    }
  return "";
}

// The grid of the brief: ragged M, K off the 32/128/256 blocks, N off 16/64.
std::vector<Case> grid() {
  std::vector<Case> v;
  const int32_t ms[] = {1, 3, 17, 64};
  const int32_t ks[] = {7, 33, 100, 300};
  const int32_t ns[] = {5, 17, 40, 130};
  int i = 0;
  for (int32_t m : ms)
    for (int32_t k : ks)
      for (int32_t n : ns) v.push_back({m, k, n, kEpis[i++ % 5]});
  // Every epilogue on one shape that crosses every block size.
  for (Epi e : kEpis) v.push_back({64, 521, 70, e});
  return v;
}

// ---------------------------------------------------------------- the tiny model

// The V-JEPA 2 tiny encoder on its golden video with the default table.
golden::Comparison vjepa2_encoder_golden(const char* label, void (*install)(void*, const ModelFile&),
                                         void* install_ctx) {
  golden::Dir dir;
  golden::Safetensors st;
  golden::Loaded<models::Vjepa2EncoderConfig, models::Vjepa2EncoderWeights> enc;
  const std::string d = golden::data_dir("vjepa2_tiny");
  REQUIRE_MESSAGE(dir.open(d), dir.error);
  REQUIRE_MESSAGE(st.open(d + "/weights.safetensors"), st.error);
  REQUIRE_MESSAGE(enc.load(st, "encoder.", golden::vjepa2_encoder_config(dir.config["components"]["encoder"])),
                  enc.error);
  install(install_ctx, enc.file);
  golden::Array video, ref;
  REQUIRE_MESSAGE(dir.load("enc_video.video", &video), dir.error);
  REQUIRE_MESSAGE(dir.load("enc_video.output", &ref), dir.error);
  models::Vjepa2EncoderInput in;
  in.video = video.f.data();
  in.batch = video.shape[0];
  in.frames = video.shape[2];
  in.height = video.shape[3];
  in.width = video.shape[4];
  golden::ArenaBuffer buf(models::vjepa2_encoder_arena_bytes(enc.cfg, in));
  std::vector<float> out((size_t)(in.batch * in.out_tokens(enc.cfg) * enc.cfg.embed_dim));
  ParallelFor serial;
  Status s = models::vjepa2_encoder_forward(*enc.w, enc.cfg, serial, buf.arena, in, out.data(),
                                           models::ForwardObserver());
  set_backend(Backend::jepa);  // before any REQUIRE can leave: later tests see the default
  REQUIRE_MESSAGE(s.is_ok(), s.message());
  REQUIRE(out.size() == ref.f.size());
  return golden::compare(out.data(), ref, label);
}

#endif  // JEPA_WITH_EIGEN || JEPA_WITH_XNNPACK

}  // namespace

// ---------------------------------------------------------------- Eigen

#if defined(JEPA_WITH_EIGEN)

TEST_CASE("eigen backend: f32 and q8, both layouts, ragged shapes, every epilogue, no heap") {
  const KernelTable table = choose_kernels(cpu_features(), isa_cap_value(), Backend::eigen);
  std::mt19937 rng(4242);
  const format::DType dts[] = {format::DType::f32, format::DType::q8};
  const format::Layout lays[] = {format::Layout::row_major, format::Layout::panel};
  for (format::DType dt : dts)
    for (format::Layout lay : lays) {
      int cases = 0;
      double worst = 0.0;
      for (const Case& c : grid()) {
        std::vector<float> wf = random_floats(rng, (size_t)c.n * c.k, 1.0f / std::sqrt((float)c.k));
        Packed pw(wf, c.n, c.k, dt, lay);
        const KernelInfo* k = table.find(pw.w);
        REQUIRE(k != nullptr);
        REQUIRE(k->backend == Backend::eigen);
        const int before = backend_test::eigen_assert_failures().load();
        const std::string err = check_case(table, pw, wf, c, rng, dt == format::DType::q8, &worst);
        CHECK_MESSAGE(backend_test::eigen_assert_failures().load() == before,
                      std::string(k->name) << ": Eigen used its heap (or failed an assert) at M=" << c.m << " K=" << c.k
                              << " N=" << c.n);
        if (!err.empty()) {
          FAIL_CHECK(std::string(k->name) << " M=" << c.m << " K=" << c.k << " N=" << c.n << " " << std::string(epi_name(c.epi)) << ": "
                             << err);
          break;
        }
        ++cases;
      }
      MESSAGE((std::string(format::dtype_name(dt)) + "/" + format::layout_name(lay)) << ": " << cases
                                     << " cases ok, worst |err|/tol " << worst);
    }
}

TEST_CASE("eigen backend: the table, the report and the fallback for other dtypes") {
  const KernelTable t = choose_kernels(cpu_features(), isa_cap_value(), Backend::eigen);
  CHECK(t.backend == Backend::eigen);
  WeightMatrix w;
  w.dtype = format::DType::f16;
  w.layout = format::Layout::row_major;
  const KernelInfo* k = t.find(w);
  CHECK((k == nullptr || k->backend == Backend::jepa));  // f16 is not Eigen's: jepa kernels / reference
  // The jepa table never picks an Eigen line.
  const KernelTable j = choose_kernels();
  for (size_t i = 0; i < j.count; ++i) CHECK(j.kernels[i]->backend == Backend::jepa);
  char buf[4096];
  kernel_report(t, buf, sizeof buf);
  const std::string r(buf);
  CHECK(r.find("backend: eigen") != std::string::npos);
  CHECK(r.find("f32/row_major -> f32_gemm__eigen") != std::string::npos);
  CHECK(r.find("q8/panel(nr=16,kr=4) -> q8_gemm_panel__eigen") != std::string::npos);
  MESSAGE(r);
}

TEST_CASE("eigen backend: V-JEPA 2 tiny encoder matches the golden output") {
  set_backend(Backend::eigen);
  CHECK(default_table().backend == Backend::eigen);
  golden::Comparison c = vjepa2_encoder_golden(
      "eigen: enc_video.output", [](void*, const ModelFile&) {}, nullptr);
  CHECK(c.ok);
  CHECK(default_table().backend == Backend::jepa);
}

#else
TEST_CASE("eigen backend: not compiled in (JEPA_WITH_EIGEN=OFF)" * doctest::skip()) {}
#endif

// ---------------------------------------------------------------- XNNPACK

#if defined(JEPA_WITH_XNNPACK)

namespace {

// XNNPACK's allocations, counted (the process's first xnn_initialize sets it).
std::atomic<long> g_xnn_allocs{0};
xnn_allocator counting_allocator() {
  xnn_allocator a;
  a.context = nullptr;
  a.allocate = [](void*, size_t n) -> void* { ++g_xnn_allocs; return std::malloc(n); };
  a.reallocate = [](void*, void* p, size_t n) -> void* { ++g_xnn_allocs; return std::realloc(p, n); };
  a.deallocate = [](void*, void* p) { std::free(p); };
  a.aligned_allocate = [](void*, size_t align, size_t n) -> void* {
    ++g_xnn_allocs;
    void* p = nullptr;
    return posix_memalign(&p, align < sizeof(void*) ? sizeof(void*) : align, n) == 0 ? p : nullptr;
  };
  a.aligned_deallocate = [](void*, void* p) { std::free(p); };
  return a;
}

}  // namespace

TEST_CASE("xnnpack backend: every dtype it holds, ragged shapes, every epilogue, no allocation per call") {
  static const xnn_allocator alloc = counting_allocator();
  for (int threads : {1, 2}) {
    xnnpack::XnnpackLinearCache cache;
    REQUIRE_MESSAGE(cache.init(threads, &alloc).is_ok(), "xnn_initialize");
    KernelTable table = choose_kernels(cpu_features(), isa_cap_value(), Backend::xnnpack);
    table.external = cache.hook();
    std::mt19937 rng(777 + threads);
    std::vector<std::unique_ptr<Packed>> keep;  // the cache keys on the bytes' address: keep them alive
    const format::DType dts[] = {format::DType::f32, format::DType::q8};
    const format::Layout lays[] = {format::Layout::row_major, format::Layout::panel};
    for (format::DType dt : dts)
      for (format::Layout lay : lays) {
        int cases = 0;
        double worst = 0.0;
        for (const Case& c : grid()) {
          std::vector<float> wf = random_floats(rng, (size_t)c.n * c.k, 1.0f / std::sqrt((float)c.k));
          keep.emplace_back(new Packed(wf, c.n, c.k, dt, lay));
          const Packed& pw = *keep.back();
          REQUIRE(cache.add(pw.w).is_ok());
          REQUIRE(cache.contains(pw.w));
          const long before = g_xnn_allocs.load();
          const std::string err = check_case(table, pw, wf, c, rng, false, &worst);
          CHECK_MESSAGE(g_xnn_allocs.load() == before, "XNNPACK allocated during a call at M=" << c.m);
          if (!err.empty()) {
            FAIL_CHECK((std::string(format::dtype_name(dt)) + "/" + format::layout_name(lay)) << " threads=" << threads
                                              << " M=" << c.m << " K=" << c.k << " N=" << c.n << " "
                                              << epi_name(c.epi) << ": " << err);
            break;
          }
          ++cases;
        }
        MESSAGE("xnnpack " << (std::string(format::dtype_name(dt)) + "/" + format::layout_name(lay)) << " threads=" << threads
                           << ": " << cases << " cases ok, worst |err|/tol " << worst);
      }
    // Allocations were counted at all (the allocator is the one in force).
    CHECK(g_xnn_allocs.load() > 0);
  }
}

TEST_CASE("xnnpack backend: matrices not in the cache fall back to the kernels; the report") {
  xnnpack::XnnpackLinearCache cache;
  REQUIRE(cache.init(1).is_ok());
  KernelTable table = choose_kernels(cpu_features(), isa_cap_value(), Backend::xnnpack);
  char buf[4096];
  kernel_report(table, buf, sizeof buf);
  CHECK(std::string(buf).find("no XnnpackLinearCache installed") != std::string::npos);
  table.external = cache.hook();
  std::mt19937 rng(99);
  std::vector<float> wf = random_floats(rng, 40 * 33, 0.2f);
  Packed pw(wf, 40, 33, format::DType::f32, format::Layout::row_major);
  CHECK_FALSE(cache.contains(pw.w));
  double worst = 0.0;
  CHECK(check_case(table, pw, wf, {5, 33, 40, Epi::residual_alias}, rng, false, &worst).empty());
  REQUIRE(cache.add(pw.w).is_ok());
  kernel_report(table, buf, sizeof buf);
  const std::string r(buf);
  CHECK(r.find("backend: xnnpack (XNNPACK fully_connected_nc_f32: 1 matrices, 1 thread") != std::string::npos);
  MESSAGE(r);
}

TEST_CASE("xnnpack backend: V-JEPA 2 tiny encoder matches the golden output") {
  for (int threads : {1, 2}) {
    xnnpack::XnnpackLinearCache cache;
    REQUIRE(cache.init(threads).is_ok());
    struct Ctx {
      xnnpack::XnnpackLinearCache* cache;
      ExternalLinear hook;
    } ctx{&cache, ExternalLinear()};
    golden::Comparison c = vjepa2_encoder_golden(
        threads == 1 ? "xnnpack 1 thread: enc_video.output" : "xnnpack 2 threads: enc_video.output",
        [](void* p, const ModelFile& f) {
          Ctx& x = *static_cast<Ctx*>(p);
          REQUIRE(x.cache->add_file(f).is_ok());
          CHECK(x.cache->size() >= 4);  // patch embed + qkv/proj/fc1/fc2 per block
          x.hook = x.cache->hook();
          set_backend(Backend::xnnpack, &x.hook);
          CHECK((default_table().external.run != nullptr));
        },
        &ctx);
    CHECK(c.ok);
  }
}

#else
TEST_CASE("xnnpack backend: not compiled in (JEPA_WITH_XNNPACK=OFF)" * doctest::skip()) {}
#endif

TEST_CASE("backends: JEPA_BACKEND names parse; an unknown backend leaves the jepa kernels") {
  Backend b = Backend::jepa;
  CHECK(parse_backend("eigen", &b));
  CHECK(b == Backend::eigen);
  CHECK(parse_backend("xnnpack", &b));
  CHECK(b == Backend::xnnpack);
  CHECK_FALSE(parse_backend("blas", &b));
  CHECK_FALSE(parse_backend(nullptr, &b));
  CHECK(default_table().backend == default_backend());
  set_backend(Backend::xnnpack);  // no cache: jepa kernels, and the report says so
  CHECK((default_table().external.run == nullptr));
  char buf[4096];
  kernel_report(default_table(), buf, sizeof buf);
  const std::string r(buf);
  CHECK(r.find("backend: xnnpack") != std::string::npos);
  set_backend(Backend::jepa);
  CHECK(default_table().backend == Backend::jepa);
}
