// bench_gemm: every jepa-rt GEMM kernel (through ops::linear and the thread
// pool) beside XNNPACK, Eigen and oneDNN at the models' Linear shapes, in one
// binary. Rows gemm/<impl>/M:/K:/N:/threads: (warm weights) and gemm_cold/...
// (M <= 4, weights rotated through copies > 2x the LLC: streamed from DRAM).
// Counters: OPS, pct_peak (of the ceiling this binary measures for the row's
// arithmetic and thread count), peak_GOPS; cold rows add WBYTES, pct_bw, bw_GBs.
// Every output is checked against a double-precision product before timing.
// Flags and environment: see parse_own_flags; method: docs/BENCHMARKS.md.
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "common/gemm_case.hpp"
#include "common/roofline.hpp"
#include "jepa/kernels/dispatch.hpp"
#include "jepa/kernels/quantize.hpp"
#include "jepa/ops/linear.hpp"
#include "jepa/runtime/thread_pool.hpp"
#if defined(JEPA_WITH_XNNPACK)
#include "jepa/kernels/backends/xnnpack.hpp"
#endif

namespace jb = jepa_bench;

namespace {

// ---------------------------------------------------------------------------
// jepa-rt rows: every registry kernel, through ops::linear (prepare pass,
// fixed tiles, the ThreadPool), as a model runs it; plus, with --jepa_ref=1,
// the scalar reference on canonical weights.

// 64-byte aligned bytes (as a mapped .jepa file gives the kernels).
struct AlignedBytes {
  std::vector<uint8_t> raw;
  uint8_t* p = nullptr;
  explicit AlignedBytes(size_t n) : raw(n + 64) { p = raw.data() + ((64 - ((uintptr_t)raw.data() & 63)) & 63); }
};

class JepaLinear final : public jb::GemmRunner {
 public:
  // kernel == null: the scalar reference on the canonical (row_major) layout.
  JepaLinear(const jb::GemmCase& c, const jepa::kernels::KernelInfo* kernel, jepa::format::DType dtype)
      : c_(c), dtype_(dtype), pool_(c.threads) {
    using namespace jepa::kernels;
    const jepa::format::Layout layout = kernel ? kernel->layout : jepa::format::Layout::row_major;
    uint32_t params[6] = {0, 0, 0, 0, 0, 0};
    if (kernel) {
      params[0] = kernel->panel_nr;
      params[1] = kernel->panel_kr;
    }
    const auto bytes = packed_bytes(dtype, layout, c.n, c.k, params);
    if (!bytes) {
      error_ = bytes.status().message();
      return;
    }
    for (int i = 0; i < c.copies; ++i) {
      storage_.emplace_back(new AlignedBytes(bytes.value()));
      const jepa::Status st = quantize_matrix(c.w, c.n, c.k, dtype, layout, params, storage_.back()->p,
                                              bytes.value());
      if (!st) {
        error_ = st.message();
        return;
      }
      w_.push_back(weight_view(dtype, layout, params, c.n, c.k, storage_.back()->p));
    }
    bytes_ = (double)bytes.value();
    int8_act_ = kernel && kernel->act != ActFormat::f32 && kernel->act != ActFormat::bf16;
    // A table holding only this kernel (empty: ops::linear runs the reference).
    table_.cpu = default_table().cpu;
    table_.prepare = default_table().prepare;
    if (kernel) {
      table_.kernels[0] = kernel;
      table_.count = 1;
    }
    ctx_.par = pool_.parallel_for();
    ctx_.table = &table_;
    ctx_.scratch_bytes = jepa::ops::linear_scratch_bytes(w_[0], c.m, &table_);
    scratch_.reset(new AlignedBytes(ctx_.scratch_bytes));
    ctx_.scratch = scratch_->p;
    y_.assign((size_t)c.m * c.n, 0.0f);
  }
  const std::string& error() const { return error_; }
  void run() override {
    const jepa::kernels::WeightMatrix& w = w_[next_];
    next_ = (next_ + 1) % w_.size();
    jepa::ops::linear(ctx_, w, c_.bias, c_.x, c_.m, y_.data());
  }
  float out(int m, int n) const override { return y_[(size_t)m * c_.n + n]; }
  double weight_bytes() const override { return bytes_; }
  // Float weights: rounding to f16 (2^-11) or bf16 (2^-8) relative, plus
  // bf16 activations for the bf16-dot kernels (another 2^-8). Integer
  // kernels: steps below (q8: per-row scale amax/127; q4: per-32-block
  // scale, at most amax/7 of the row, f16-rounded; activations per row /127).
  double rel_tol() const override {
    using jepa::format::DType;
    return dtype_ == DType::f16 ? 1e-3 : dtype_ == DType::bf16 ? 8e-3 : 1e-4;
  }
  double weight_step(int n) const override {
    using jepa::format::DType;
    if (dtype_ != DType::q8 && dtype_ != DType::q4) return 0.0;
    const double amax = jb::row_amax(c_.w + (size_t)n * c_.k, c_.k);
    return dtype_ == DType::q8 ? amax / 127.0 : amax / 7.0 * 1.001;
  }
  double act_step(int m) const override {
    if (!int8_act_) return 0.0;
    return jb::row_amax(c_.x + (size_t)m * c_.k, c_.k) / 127.0;
  }

 private:
  jb::GemmCase c_;
  jepa::format::DType dtype_;
  jepa::ThreadPool pool_;
  std::vector<std::unique_ptr<AlignedBytes>> storage_;
  std::unique_ptr<AlignedBytes> scratch_;
  std::vector<jepa::kernels::WeightMatrix> w_;
  jepa::kernels::KernelTable table_;
  jepa::ops::LinearContext ctx_;
  std::vector<float> y_;
  std::string error_;
  double bytes_ = 0.0;
  bool int8_act_ = false;  // the kernel quantises activations per row
  size_t next_ = 0;
};

// Factories need a kernel pointer; Impl carries it (RunnerFactory is shared
// with the peers, so the jepa rows go through this one function).
jb::RunnerPtr make_jepa(const jb::GemmCase& c, const jepa::kernels::KernelInfo* k, jepa::format::DType dt,
                        std::string* why) {
  std::unique_ptr<JepaLinear> r(new JepaLinear(c, k, dt));
  if (!r->error().empty()) {
    *why = r->error();
    return nullptr;
  }
  return jb::RunnerPtr(r.release());
}

#if defined(JEPA_WITH_XNNPACK)
// linear_xnnpack_f32: ops::linear with the xnnpack backend (an
// XnnpackLinearCache holding the f32 weights, XNNPACK's own threads), i.e.
// what a model runs with JEPA_BACKEND=xnnpack; beside the direct peer rows.
// (The Eigen backend's rows are its registry lines, *__eigen, built with
// JEPA_WITH_EIGEN=ON.)
class JepaLinearXnnpack final : public jb::GemmRunner {
 public:
  explicit JepaLinearXnnpack(const jb::GemmCase& c) : c_(c) {
    const jepa::Status st = cache_.init(c.threads);
    if (!st) {
      error_ = st.message();
      return;
    }
    for (int i = 0; i < c.copies; ++i) {
      storage_.emplace_back(new AlignedBytes(sizeof(float) * (size_t)c.n * c.k));
      std::memcpy(storage_.back()->p, c.w, sizeof(float) * (size_t)c.n * c.k);
      w_.push_back(jepa::kernels::weight_view(jepa::format::DType::f32, jepa::format::Layout::row_major, nullptr,
                                              c.n, c.k, storage_.back()->p));
      const jepa::Status a = cache_.add(w_.back());
      if (!a) {
        error_ = a.message();
        return;
      }
    }
    table_ = jepa::kernels::choose_kernels(jepa::kernels::cpu_features(), jepa::kernels::isa_cap_value(),
                                           jepa::kernels::Backend::xnnpack);
    table_.external = cache_.hook();
    ctx_.table = &table_;
    y_.assign((size_t)c.m * c.n, 0.0f);
  }
  const std::string& error() const { return error_; }
  void run() override {
    const jepa::kernels::WeightMatrix& w = w_[next_];
    next_ = (next_ + 1) % w_.size();
    jepa::ops::linear(ctx_, w, c_.bias, c_.x, c_.m, y_.data());
  }
  float out(int m, int n) const override { return y_[(size_t)m * c_.n + n]; }
  double weight_bytes() const override { return 4.0 * c_.n * c_.k; }

 private:
  jb::GemmCase c_;
  jepa::kernels::xnnpack::XnnpackLinearCache cache_;
  std::vector<std::unique_ptr<AlignedBytes>> storage_;
  std::vector<jepa::kernels::WeightMatrix> w_;
  jepa::kernels::KernelTable table_;
  jepa::ops::LinearContext ctx_;
  std::vector<float> y_;
  std::string error_;
  size_t next_ = 0;
};

jb::RunnerPtr make_linear_xnnpack(const jb::GemmCase& c, std::string* why) {
  std::unique_ptr<JepaLinearXnnpack> r(new JepaLinearXnnpack(c));
  if (!r->error().empty()) {
    *why = r->error();
    return nullptr;
  }
  return jb::RunnerPtr(r.release());
}
#endif

// ---------------------------------------------------------------------------
// The implementations and the grid

struct Impl {
  std::string name;
  jb::PeakKind kind;
  jb::RunnerFactory factory;  // peers
  const jepa::kernels::KernelInfo* kernel;  // jepa rows (null + reference: the scalar reference)
  jepa::format::DType dtype;                // jepa rows
  double bytes_per_weight;  // to size the cold-row weight rotation
  bool reference;           // scalar reference: limited to small problems
  bool jepa;
};

double dtype_bytes(jepa::format::DType d) {
  using jepa::format::DType;
  return d == DType::f32 ? 4.0 : d == DType::q8 ? 1.0 : d == DType::q4 ? 0.5 : 2.0;
}

Impl peer(const char* name, jb::PeakKind kind, jb::RunnerFactory f, double bpw) {
  return Impl{name, kind, f, nullptr, jepa::format::DType::f32, bpw, false, false};
}

std::vector<Impl> all_impls(bool with_ref, std::string* skipped) {
  using jepa::format::DType;
  std::vector<Impl> v;
  size_t n = 0;
  const jepa::kernels::KernelInfo* all = jepa::kernels::registry(&n);
  for (size_t i = 0; i < n; ++i) {
    const jepa::kernels::KernelInfo* k = &all[i];
    if (!jepa::kernels::cpu_supports(k->isa)) {
      *skipped += std::string(skipped->empty() ? "" : " ") + k->name;
      continue;
    }
    using jepa::kernels::ActFormat;
    const jb::PeakKind kind = k->act == ActFormat::f32    ? jb::PeakKind::f32
                              : k->act == ActFormat::bf16 ? jb::PeakKind::bf16
                                                          : jb::PeakKind::i8;
    v.push_back(Impl{k->name, kind, nullptr, k, k->dtype, dtype_bytes(k->dtype), false, true});
  }
  if (with_ref) {
    v.push_back(Impl{"gemm__ref_f32", jb::PeakKind::f32, nullptr, nullptr, DType::f32, 4.0, true, true});
    v.push_back(Impl{"gemm__ref_q8", jb::PeakKind::i8, nullptr, nullptr, DType::q8, 1.0, true, true});
  }
#if defined(JEPA_WITH_XNNPACK)
  v.push_back(peer("linear_xnnpack_f32", jb::PeakKind::f32, &make_linear_xnnpack, 4.0));
#endif
#if defined(JEPA_BENCH_HAVE_XNNPACK)
  v.push_back(peer("xnnpack_f32", jb::PeakKind::f32, &jb::make_xnnpack_f32, 4.0));
  v.push_back(peer("xnnpack_qs8", jb::PeakKind::i8, &jb::make_xnnpack_qs8, 1.0));
#endif
#if defined(JEPA_BENCH_HAVE_EIGEN)
  v.push_back(peer("eigen_f32", jb::PeakKind::f32, &jb::make_eigen_f32, 4.0));
#endif
#if defined(JEPA_BENCH_HAVE_ONEDNN)
  v.push_back(peer("onednn_f32", jb::PeakKind::f32, &jb::make_onednn_f32, 4.0));
  v.push_back(peer("onednn_u8s8", jb::PeakKind::i8, &jb::make_onednn_u8s8, 1.0));
#endif
  return v;
}

struct Shape {
  int m, k, n;
};

std::vector<Shape> default_shapes() {
  const int ms[] = {1, 4, 16, 64, 197, 256, 2048};
  const int kn[][2] = {{384, 1152}, {384, 1536}, {1536, 384}, {1024, 3072}, {1024, 4096}, {4096, 1024}, {1408, 6144}};
  std::vector<Shape> v;
  for (auto& p : kn)
    for (int m : ms) v.push_back({m, p[0], p[1]});
  return v;
}

struct Row {
  Impl impl;
  Shape shape;
  int threads;
  bool cold;
};

double env_double(const char* name, double fallback) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == 0) return fallback;
  return std::atof(v);
}

// ---------------------------------------------------------------------------
// Ceilings, measured once per (kind, threads) on first use

jb::Peak best_peak(jb::PeakKind kind) {
  const jb::CpuIsa& isa = jb::cpu_isa();
  using jb::Peak;
  switch (kind) {
    case jb::PeakKind::i8:
      if (isa.amx) return Peak::i8_amx;
      if (isa.avx512vnni) return Peak::i8_avx512vnni;
      if (isa.avxvnni) return Peak::i8_avxvnni;
      if (isa.dotprod) return Peak::i8_dotprod;
      if (isa.avx2_fma) return Peak::i8_avx2;
      break;
    case jb::PeakKind::bf16:
      if (isa.amx) return Peak::bf16_amx;
      if (isa.avx512bf16) return Peak::bf16_avx512;
      break;  // no bf16 dot product: bf16 runs as converted fp32 FMA
    case jb::PeakKind::f32:
      break;
  }
  if (isa.avx512f) return Peak::f32_avx512;
  if (isa.neon) return Peak::f32_neon;
  return Peak::f32_avx2;
}

double peak_gops(jb::PeakKind kind, int threads) {
  static std::map<std::pair<int, int>, double> cache;
  const auto key = std::make_pair((int)kind, threads);
  auto it = cache.find(key);
  if (it != cache.end()) return it->second;
  const double g = jb::measure_peak_gops_mt(best_peak(kind), threads);
  cache[key] = g;
  return g;
}

double read_gbs(int threads) {
  static std::map<int, double> cache;
  auto it = cache.find(threads);
  if (it != cache.end()) return it->second;
  const size_t mib = (size_t)env_double("JEPA_BENCH_MEM_MIB", 512);
  jb::BigBuffer buf(mib << 20);
  const double g = buf.data ? jb::measure_read_gbs_mt(buf, threads) : 0.0;
  cache[threads] = g;
  return g;
}

double llc_bytes() {
  double best = 0.0;
  for (const auto& c : benchmark::CPUInfo::Get().caches) best = std::max(best, (double)c.size);
  return best > 0.0 ? best : 32.0 * (1 << 20);
}

// ---------------------------------------------------------------------------
// Data and the correctness check

struct Data {
  std::vector<float> w, bias, x;
};

void fill(std::vector<float>& v, size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(-1.0f, 1.0f);
  v.resize(n);
  for (auto& e : v) e = d(rng);
}

// Sampled outputs against a double-precision product; false + message if off.
bool check(const jb::GemmRunner& r, const jb::GemmCase& c, std::string* why) {
  std::mt19937 rng(7);
  const double rel = std::max(r.rel_tol(), (double)c.k * 1.2e-7);  // f32: K roundings at most
  for (int s = 0; s < 64; ++s) {
    const int m = s == 0 ? 0 : s == 1 ? c.m - 1 : (int)(rng() % (uint32_t)c.m);
    const int n = s == 0 ? 0 : s == 1 ? c.n - 1 : (int)(rng() % (uint32_t)c.n);
    double ref = c.bias[n], mag = 0.0, sum_x = 0.0, sum_w = 0.0;
    for (int k = 0; k < c.k; ++k) {
      const double xv = c.x[(size_t)m * c.k + k], wv = c.w[(size_t)n * c.k + k];
      ref += xv * wv;
      mag += std::fabs(xv * wv);
      sum_x += std::fabs(xv);
      sum_w += std::fabs(wv);
    }
    const double ws = r.weight_step(n), as = r.act_step(m);
    double tol = r.abs_tol();
    if (ws > 0.0 || as > 0.0)  // integer path: the rounding bound of GemmRunner
      tol += 0.5 * (sum_x * ws + sum_w * as + 0.5 * c.k * ws * as) + 1e-5 * mag;
    else
      tol += rel * mag;
    const double got = r.out(m, n);
    if (!(std::fabs(got - ref) <= tol)) {
      char buf[160];
      std::snprintf(buf, sizeof buf, "wrong result at (%d,%d): got %.6g, want %.6g (tol %.3g)", m, n, got, ref, tol);
      *why = buf;
      return false;
    }
  }
  return true;
}

// The runner of the row being timed, kept across Google Benchmark's repeated
// calls of the same row (building one packs weights: not worth redoing).
struct Live {
  const Row* row = nullptr;
  Data data;
  jb::GemmCase gc;
  jb::RunnerPtr runner;
  std::string error;
};

Live& live_for(const Row& row) {
  static Live live;
  if (live.row == &row) return live;
  live.runner.reset();
  live.row = &row;
  live.error.clear();
  const Shape& s = row.shape;
  fill(live.data.w, (size_t)s.n * s.k, 1000u + (uint32_t)s.k * 7u + (uint32_t)s.n);
  fill(live.data.bias, (size_t)s.n, 2000u + (uint32_t)s.n);
  fill(live.data.x, (size_t)s.m * s.k, 3000u + (uint32_t)s.m * 13u + (uint32_t)s.k);
  jb::GemmCase& c = live.gc;
  c.m = s.m;
  c.k = s.k;
  c.n = s.n;
  c.threads = row.threads;
  c.w = live.data.w.data();
  c.bias = live.data.bias.data();
  c.x = live.data.x.data();
  c.copies = 1;
  if (row.cold) {
    c.copies = jb::copies_for(row.impl.bytes_per_weight * s.n * s.k, 2.0 * llc_bytes(), 1536.0 * (1 << 20));
  }
  live.runner = row.impl.jepa ? make_jepa(c, row.impl.kernel, row.impl.dtype, &live.error)
                              : row.impl.factory(c, &live.error);
  if (live.runner) {
    live.runner->run();
    if (!check(*live.runner, c, &live.error)) live.runner.reset();
  }
  return live;
}

void run_row(benchmark::State& st, const Row* row) {
  Live& live = live_for(*row);
  if (!live.runner) {
    st.SkipWithError(live.error.empty() ? "not available" : live.error.c_str());
    return;
  }
  const double peak = peak_gops(row->impl.kind, row->threads);
  const double bw = row->cold ? read_gbs(row->threads) : 0.0;
  for (auto _ : st) live.runner->run();
  const double runs = (double)st.iterations();
  const double ops = 2.0 * row->shape.m * row->shape.n * row->shape.k;
  st.counters["OPS"] = benchmark::Counter(ops * runs, benchmark::Counter::kIsRate);
  if (peak > 0.0) st.counters["pct_peak"] = benchmark::Counter(100.0 * ops * runs / (peak * 1e9), benchmark::Counter::kIsRate);
  st.counters["peak_GOPS"] = peak;
  if (row->cold) {
    const double wb = live.runner->weight_bytes();
    st.counters["WBYTES"] = benchmark::Counter(wb * runs, benchmark::Counter::kIsRate);
    if (bw > 0.0) st.counters["pct_bw"] = benchmark::Counter(100.0 * wb * runs / (bw * 1e9), benchmark::Counter::kIsRate);
    st.counters["bw_GBs"] = bw;
    st.counters["copies"] = live.gc.copies;
  }
}

// ---------------------------------------------------------------------------
// Command line

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    const size_t end = s.find(sep, start);
    const std::string part = s.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (!part.empty()) out.push_back(part);
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return out;
}

struct Options {
  std::vector<Shape> shapes = default_shapes();
  std::vector<int> threads = {1, 2};
  bool cold = true;
  bool ref = false;                // also the scalar reference rows
  std::vector<std::string> impls;  // empty = all
};

// Own flags (before Google Benchmark's): --jepa_shapes=MxKxN,... (default:
// default_shapes()), --jepa_threads=1,2, --jepa_cold=0|1, --jepa_ref=0|1
// (scalar reference rows, off by default), --jepa_impls=substr,... (rows whose
// implementation name contains one of them). Environment:
// JEPA_BENCH_REF_MAX_GOP (largest problem for the reference rows, GOP; 0.5),
// JEPA_BENCH_MEM_MIB (bandwidth buffer, MiB; 512).
//
// Removes our --jepa_* flags from argv; false on a malformed one.
bool parse_own_flags(int* argc, char** argv, Options* o) {
  int w = 1;
  for (int i = 1; i < *argc; ++i) {
    const std::string a = argv[i];
    auto value = [&](const char* flag) -> const char* {
      const size_t n = std::strlen(flag);
      return a.compare(0, n, flag) == 0 ? argv[i] + n : nullptr;
    };
    if (const char* v = value("--jepa_shapes=")) {
      o->shapes.clear();
      for (const std::string& t : split(v, ',')) {
        Shape s{};
        if (std::sscanf(t.c_str(), "%dx%dx%d", &s.m, &s.k, &s.n) != 3 || s.m <= 0 || s.k <= 0 || s.n <= 0) {
          std::fprintf(stderr, "bad --jepa_shapes entry '%s' (want MxKxN)\n", t.c_str());
          return false;
        }
        o->shapes.push_back(s);
      }
    } else if (const char* v2 = value("--jepa_threads=")) {
      o->threads.clear();
      for (const std::string& t : split(v2, ',')) o->threads.push_back(std::max(1, std::atoi(t.c_str())));
    } else if (const char* v3 = value("--jepa_cold=")) {
      o->cold = std::atoi(v3) != 0;
    } else if (const char* v5 = value("--jepa_ref=")) {
      o->ref = std::atoi(v5) != 0;
    } else if (const char* v4 = value("--jepa_impls=")) {
      o->impls = split(v4, ',');
    } else {
      argv[w++] = argv[i];
    }
  }
  *argc = w;
  return true;
}

// --jepa_impls entries match as substrings ("avx2", "q8", "onednn").
bool wanted(const Options& o, const std::string& name) {
  if (o.impls.empty()) return true;
  for (const auto& s : o.impls)
    if (name.find(s) != std::string::npos) return true;
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  if (!parse_own_flags(&argc, argv, &opt)) return 2;
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
  benchmark::AddCustomContext("jepa_isa", jb::isa_string(jb::cpu_isa()));
  benchmark::AddCustomContext("jepa_pct_peak_basis",
                              "peak measured by this binary (bench/common/roofline.hpp) for the row's arithmetic "
                              "(f32: FMA, i8: best int8 dot instruction) at the row's thread count");

  const double ref_max_gop = env_double("JEPA_BENCH_REF_MAX_GOP", 0.5);
  static std::vector<Row> rows;  // registered benchmarks point into it: never resized after
  std::vector<Row> pending;
  std::string skipped;
  const std::vector<Impl> impls = all_impls(opt.ref, &skipped);
  benchmark::AddCustomContext("jepa_skipped_kernels", skipped.empty() ? "none" : skipped);
  for (const Impl& impl : impls) {
    if (!wanted(opt, impl.name)) continue;
    for (const Shape& s : opt.shapes) {
      const double gop = 2.0 * s.m * s.n * s.k * 1e-9;
      if (impl.reference && gop > ref_max_gop) continue;
      for (int t : opt.threads) {
        pending.push_back({impl, s, t, false});
        if (opt.cold && s.m <= 4) pending.push_back({impl, s, t, true});
      }
    }
  }
  rows = pending;
  for (const Row& r : rows) {
    char name[200];
    std::snprintf(name, sizeof name, "%s/%s/M:%d/K:%d/N:%d/threads:%d", r.cold ? "gemm_cold" : "gemm", r.impl.name.c_str(),
                  r.shape.m, r.shape.k, r.shape.n, r.threads);
    benchmark::RegisterBenchmark(name, run_row, &r)->UseRealTime()->Unit(benchmark::kMicrosecond);
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
