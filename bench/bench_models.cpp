// bench_models: end-to-end latency of jepa-rt models (the jepa-rt column of
// docs/BENCHMARKS.md's model table). Rows model/<preset>/<variant>/threads:<t>
// for every <dir>/jepa/<checkpoint>.<variant>.jepa (scripts/bench-peers.sh
// converts peers.py's checkpoints), inputs from <dir>/inputs/<preset>/, plus
// model/tiny_synth/{f32,q8} (built in memory: CI needs no file). Rows run the
// models' default attention (AttnMath::automatic: bf16 allowed where the
// weights are not f32); rows that pin it (--jepa_attention) are
// model/<preset>/<variant>/attention:{f32,bf16}/threads:<t>. Counters:
// FLOPS (counted as peers.py does), median_ms, p99_ms, max_ms, arena_bytes.
// The arena is planned once by the models' measure pass and reused.
// Flags: see main().
#include <benchmark/benchmark.h>
#include <dirent.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "jepa/format/loader.hpp"
#include "jepa/format/writer.hpp"
#include "jepa/kernels/quantize.hpp"
#include "jepa/kernels/repack.hpp"
#include "jepa/models/kinds.hpp"
#include "jepa/runtime/thread_pool.hpp"

namespace {

using namespace jepa;
using namespace jepa::models;

// The presets of bench/peers/peers.py (keep the two lists in step).
struct InputSpec {
  const char* name;
  std::vector<int64_t> shape;
};
struct Preset {
  const char* name;
  const char* checkpoint;
  std::vector<InputSpec> inputs;
};

const std::vector<Preset>& presets() {
  static const std::vector<Preset> p = {
      {"tiny", "tiny", {{"video", {1, 3, 2, 48, 48}}}},
      {"vits16_224", "vits16_224", {{"image", {1, 3, 224, 224}}}},
      {"vitl16_256_f2", "vitl16_256", {{"video", {1, 3, 2, 256, 256}}}},
      {"vitl16_256_f16", "vitl16_256", {{"video", {1, 3, 16, 256, 256}}}},
      {"ac_vitg_step1", "ac_vitg", {{"latents", {1, 256, 1408}}, {"actions", {1, 1, 7}}, {"states", {1, 1, 7}}}},
  };
  return p;
}

size_t numel(const std::vector<int64_t>& s) {
  size_t n = 1;
  for (int64_t d : s) n *= (size_t)d;
  return n;
}

// FLOPs of a pre-norm ViT block stack on `tokens` tokens (2 per multiply-add).
double vit_flops(int64_t tokens, int64_t D, int64_t hidden, int64_t depth) {
  const double L = (double)tokens;
  return (double)depth * (2.0 * L * ((double)D * 3 * D + (double)D * D + 2.0 * D * hidden) + 4.0 * L * L * D);
}

// One loaded model of a known kind, ready to run on its preset's input.
class Model {
 public:
  virtual ~Model() = default;
  virtual Status run(const ParallelFor& par, Arena& arena) = 0;
  const std::vector<float>& output() const { return out_; }
  size_t arena_bytes = 0;
  double flops = 0.0;

 protected:
  std::vector<float> out_;
};

class Vjepa2EncoderModel final : public Model {
 public:
  Status init(const ModelFile& f, const std::vector<std::vector<float>>& in, const std::vector<InputSpec>& spec,
              kernels::AttnMath attention) {
    auto c = Vjepa2EncoderConfig::from_file(f);
    if (!c) return c.status();
    cfg_ = c.value();
    cfg_.attention = attention;
    auto w = Vjepa2EncoderWeights::bind(f, cfg_);
    if (!w) return w.status();
    w_.reset(new Vjepa2EncoderWeights(w.value()));
    const std::vector<int64_t>& s = spec[0].shape;  // [B, C, T, H, W]
    input_.video = in[0].data();
    input_.batch = s[0];
    input_.frames = s[2];
    input_.height = s[3];
    input_.width = s[4];
    out_.resize((size_t)(input_.batch * input_.out_tokens(cfg_) * cfg_.embed_dim));
    arena_bytes = vjepa2_encoder_arena_bytes(cfg_, input_);
    const int64_t L = input_.grid_tokens(cfg_), D = cfg_.embed_dim;
    const double patch = 2.0 * L * D * (double)(cfg_.in_chans * cfg_.kernel_t() * cfg_.patch_size * cfg_.patch_size);
    flops = (double)input_.batch * (patch + vit_flops(L, D, cfg_.mlp_hidden, cfg_.depth));
    return Status::ok();
  }
  Status run(const ParallelFor& par, Arena& arena) override {
    return vjepa2_encoder_forward(*w_, cfg_, par, arena, input_, out_.data());
  }

 private:
  Vjepa2EncoderConfig cfg_;
  std::unique_ptr<Vjepa2EncoderWeights> w_;
  Vjepa2EncoderInput input_;
};

class IjepaEncoderModel final : public Model {
 public:
  Status init(const ModelFile& f, const std::vector<std::vector<float>>& in, const std::vector<InputSpec>& spec,
              kernels::AttnMath attention) {
    auto c = IjepaEncoderConfig::from_file(f);
    if (!c) return c.status();
    cfg_ = c.value();
    cfg_.attention = attention;
    auto w = IjepaEncoderWeights::bind(f, cfg_);
    if (!w) return w.status();
    w_.reset(new IjepaEncoderWeights(w.value()));
    const std::vector<int64_t>& s = spec[0].shape;  // [B, C, H, W]
    input_.image = in[0].data();
    input_.batch = s[0];
    input_.height = s[2];
    input_.width = s[3];
    out_.resize((size_t)(input_.batch * input_.out_tokens(cfg_) * cfg_.embed_dim));
    arena_bytes = ijepa_encoder_arena_bytes(cfg_, input_);
    const int64_t L = input_.grid_tokens(cfg_), D = cfg_.embed_dim;
    const double patch = 2.0 * L * D * (double)(cfg_.in_chans * cfg_.patch_size * cfg_.patch_size);
    flops = (double)input_.batch * (patch + vit_flops(L, D, cfg_.mlp_hidden, cfg_.depth));
    return Status::ok();
  }
  Status run(const ParallelFor& par, Arena& arena) override {
    return ijepa_encoder_forward(*w_, cfg_, par, arena, input_, out_.data());
  }

 private:
  IjepaEncoderConfig cfg_;
  std::unique_ptr<IjepaEncoderWeights> w_;
  IjepaEncoderInput input_;
};

// Teacher forcing over the preset's steps (ac_vitg_step1: one step of 256
// patches + 2 conditioning tokens, the unit of a planner rollout).
class AcPredictorModel final : public Model {
 public:
  Status init(const ModelFile& f, const std::vector<std::vector<float>>& in, const std::vector<InputSpec>& spec,
              kernels::AttnMath attention) {
    auto c = AcPredictorConfig::from_file(f);
    if (!c) return c.status();
    cfg_ = c.value();
    cfg_.attention = attention;
    auto w = AcPredictorWeights::bind(f, cfg_);
    if (!w) return w.status();
    w_.reset(new AcPredictorWeights(w.value()));
    batch_ = spec[0].shape[0];
    steps_ = spec[1].shape[1];  // actions [B, T, A]
    latents_ = in[0].data();
    actions_ = in[1].data();
    states_ = in[2].data();
    const int64_t hw = cfg_.patches_per_step(), P = cfg_.pred_embed_dim, De = cfg_.embed_dim;
    if (spec[0].shape[1] != steps_ * hw)
      return Status::error(Error::shape_mismatch, "latents have %lld tokens, want %lld steps x %lld",
                           (long long)spec[0].shape[1], (long long)steps_, (long long)hw);
    out_.resize((size_t)(batch_ * steps_ * hw * De));
    arena_bytes = ac_predictor_arena_bytes(cfg_, batch_, steps_);
    const double T = (double)steps_, A = (double)cfg_.action_dim;
    flops = (double)batch_ * (2.0 * T * hw * De * P * 2 + 2.0 * 2 * T * A * P +
                              vit_flops(steps_ * cfg_.tokens_per_step(), P, cfg_.mlp_hidden, cfg_.depth));
    return Status::ok();
  }
  Status run(const ParallelFor& par, Arena& arena) override {
    return ac_predictor_forward(*w_, cfg_, par, arena, batch_, steps_, latents_, actions_, states_, nullptr,
                                out_.data());
  }

 private:
  AcPredictorConfig cfg_;
  std::unique_ptr<AcPredictorWeights> w_;
  int64_t batch_ = 1, steps_ = 1;
  const float *latents_ = nullptr, *actions_ = nullptr, *states_ = nullptr;
};

// ---------------------------------------------------------------------------
// Rows

struct Row {
  const Preset* preset;
  std::string variant;
  std::string path;  // empty: tiny_synth (built in memory)
  int threads;
  kernels::AttnMath attention;
};

// Random-weight tiny V-JEPA 2 encoder (the "tiny" preset's shape) as .jepa
// bytes; weight matrices in `dtype`, canonical layout.
Result<std::vector<uint8_t>> synth_tiny(format::DType dtype) {
  Vjepa2EncoderConfig c;
  c.embed_dim = 96;
  c.depth = 2;
  c.num_heads = 3;
  c.mlp_hidden = 384;
  c.num_frames = 4;
  c.img_height = c.img_width = 48;
  format::Writer w(Vjepa2EncoderConfig::kKind);
  c.write_hparams(w);
  std::mt19937 rng(11);
  std::normal_distribution<float> nd(0.0f, 0.02f);
  Status st;
  for_each_tensor(c, [&](const char* name, const int64_t* shape, int rank, TensorRole role) {
    if (!st) return;
    std::vector<int64_t> sh(shape, shape + rank);
    std::vector<float> v(numel(sh));
    const bool norm_w = std::strstr(name, "norm") && std::strstr(name, ".weight");
    for (float& e : v) e = norm_w ? 1.0f + nd(rng) : nd(rng);
    if (role != TensorRole::weight_matrix || dtype == format::DType::f32) {
      st = w.add_tensor(name, format::DType::f32, sh, v.data(), v.size() * 4);
      return;
    }
    const int64_t n = sh[0], k = (int64_t)v.size() / n;
    auto bytes = kernels::packed_bytes(dtype, format::Layout::row_major, n, k);
    if (!bytes) {
      st = bytes.status();
      return;
    }
    std::vector<uint8_t> q(bytes.value());
    st = kernels::quantize_matrix(v.data(), n, k, dtype, format::Layout::row_major, nullptr, q.data(), q.size());
    if (st) st = w.add_tensor(name, dtype, sh, q.data(), q.size());
  });
  if (!st) return st;
  return w.finish();
}

// What one row keeps alive across Google Benchmark's calls.
struct Live {
  const Row* row = nullptr;
  std::unique_ptr<LoadedFile> file;
  std::vector<uint8_t> bytes;  // tiny_synth: the file in memory (64-aligned copy below)
  std::vector<uint8_t> aligned_storage;
  ModelFile mf;
  kernels::RepackedWeights repack;  // layouts this CPU's kernels lack, repacked at load
  std::vector<std::vector<float>> inputs;
  std::unique_ptr<Model> model;
  std::vector<uint8_t> arena_storage;
  std::unique_ptr<ThreadPool> pool;
  std::string error;
};

uint8_t* align64(std::vector<uint8_t>& v, size_t n) {
  v.assign(n + 64, 0);
  return v.data() + ((64 - ((uintptr_t)v.data() & 63)) & 63);
}

std::string g_dir = "build-peers";
int g_spin_us = 0;   // --jepa_spin_us=N: ThreadPool::Options::spin_us of every row's pool
std::string g_dump;  // --jepa_dump=DIR: write each row's output there (peers.py check-jepa)

// A row's name part for a pinned attention arithmetic ("/attention:bf16" in a
// row name, "+attention-bf16" in a dump file); none for the models' default.
std::string attention_suffix(kernels::AttnMath m, char sep, char eq) {
  if (m == kernels::AttnMath::automatic) return "";
  return std::string(1, sep) + "attention" + eq + (m == kernels::AttnMath::bf16 ? "bf16" : "f32");
}

void load_inputs(Live& L, const Preset& p) {
  std::mt19937 rng(5);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  for (const InputSpec& s : p.inputs) {
    std::vector<float> v(numel(s.shape));
    const std::string path = g_dir + "/inputs/" + p.name + "/" + s.name + ".bin";
    FILE* f = std::fopen(path.c_str(), "rb");
    const bool ok = f && std::fread(v.data(), 4, v.size(), f) == v.size();
    if (f) std::fclose(f);
    if (!ok)
      for (float& e : v) e = nd(rng);
    L.inputs.push_back(std::move(v));
  }
}

Status open_model(Live& L, const Row& r) {
  if (r.path.empty()) {
    auto b = synth_tiny(r.variant == "q8" ? format::DType::q8 : format::DType::f32);
    if (!b) return b.status();
    uint8_t* p = align64(L.aligned_storage, b.value().size());
    std::memcpy(p, b.value().data(), b.value().size());
    auto mf = ModelFile::open(p, b.value().size());
    if (!mf) return mf.status();
    L.mf = mf.value();
  } else {
    auto lf = LoadedFile::open(r.path.c_str());
    if (!lf) return lf.status();
    L.file.reset(new LoadedFile(std::move(lf.value())));
    L.mf = L.file->file();
  }
  JEPA_RETURN_IF_ERROR(L.repack.apply(&L.mf, kernels::default_table()));
  load_inputs(L, *r.preset);
  const std::string kind = L.mf.kind();
  Status st;
  if (kind == Vjepa2EncoderConfig::kKind) {
    auto* m = new Vjepa2EncoderModel;
    L.model.reset(m);
    st = m->init(L.mf, L.inputs, r.preset->inputs, r.attention);
  } else if (kind == IjepaEncoderConfig::kKind) {
    auto* m = new IjepaEncoderModel;
    L.model.reset(m);
    st = m->init(L.mf, L.inputs, r.preset->inputs, r.attention);
  } else if (kind == AcPredictorConfig::kKind) {
    auto* m = new AcPredictorModel;
    L.model.reset(m);
    st = m->init(L.mf, L.inputs, r.preset->inputs, r.attention);
  } else {
    return Status::error(Error::unsupported, "bench_models: no runner for kind %s", kind.c_str());
  }
  return st;
}

Live& live_for(const Row& r) {
  static Live live;
  if (live.row == &r) return live;
  live = Live();
  live.row = &r;
  const Status st = open_model(live, r);
  if (!st) {
    live.error = st.message();
    live.model.reset();
    return live;
  }
  ThreadPool::Options po;
  po.threads = r.threads;
  po.spin_us = g_spin_us;
  live.pool.reset(new ThreadPool(po));
  live.arena_storage.assign(live.model->arena_bytes + 64, 0);
  return live;
}

void run_row(benchmark::State& st, const Row* r) {
  Live& L = live_for(*r);
  if (!L.model) {
    st.SkipWithError(L.error.c_str());
    return;
  }
  uint8_t* buf = L.arena_storage.data() + ((64 - ((uintptr_t)L.arena_storage.data() & 63)) & 63);
  const ParallelFor par = L.pool->parallel_for();
  {  // one untimed call: page in weights and arena, and catch errors
    Arena arena(buf, L.model->arena_bytes);
    const Status s = L.model->run(par, arena);
    if (!s) {
      L.error = s.message();
      st.SkipWithError(L.error.c_str());
      return;
    }
    if (!g_dump.empty()) {
      const std::string path = g_dump + "/" + r->preset->name + "." + r->variant +
                               attention_suffix(r->attention, '+', '-') + ".out.bin";
      FILE* f = std::fopen(path.c_str(), "wb");
      const std::vector<float>& out = L.model->output();
      if (f) {
        std::fwrite(out.data(), 4, out.size(), f);
        std::fclose(f);
      }
    }
  }
  std::vector<double> ms;
  for (auto _ : st) {
    const auto t0 = std::chrono::steady_clock::now();
    Arena arena(buf, L.model->arena_bytes);
    benchmark::DoNotOptimize(L.model->run(par, arena).is_ok());
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(ms.begin(), ms.end());
  const size_t n = ms.size();
  st.counters["FLOPS"] = benchmark::Counter(L.model->flops * (double)n, benchmark::Counter::kIsRate);
  st.counters["median_ms"] = n ? ms[n / 2] : 0.0;
  st.counters["p99_ms"] = n ? ms[std::min(n - 1, (size_t)(0.99 * (double)n))] : 0.0;
  st.counters["max_ms"] = n ? ms[n - 1] : 0.0;
  st.counters["arena_bytes"] = (double)L.model->arena_bytes;
}

// <dir>/jepa/<checkpoint>.<variant>.jepa files -> variants, sorted.
std::vector<std::pair<std::string, std::string>> find_files(const char* checkpoint) {
  std::vector<std::pair<std::string, std::string>> out;
  const std::string dir = g_dir + "/jepa";
  DIR* d = opendir(dir.c_str());
  if (!d) return out;
  const std::string prefix = std::string(checkpoint) + ".";
  while (dirent* e = readdir(d)) {
    const std::string f = e->d_name;
    if (f.size() > prefix.size() + 5 && f.compare(0, prefix.size(), prefix) == 0 &&
        f.compare(f.size() - 5, 5, ".jepa") == 0)
      out.push_back({f.substr(prefix.size(), f.size() - prefix.size() - 5), dir + "/" + f});
  }
  closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t end = s.find(',', start);
    if (end == std::string::npos) end = s.size();
    if (end > start) out.push_back(s.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

}  // namespace

// Own flags: --jepa_dir=DIR (default build-peers), --jepa_threads=1,2,
// --jepa_models=substr,... (rows whose preset/variant contains one of them),
// --jepa_dump=DIR (write each row's output as raw f32 <preset>.<variant>.out.bin
// for `peers.py check-jepa`, which compares it with PyTorch), --jepa_spin_us=N
// (idle pool workers busy-wait up to N us before sleeping; default 0),
// --jepa_attention=auto,f32,bf16 (the attention arithmetic each model row
// allows, kernels::AttnMath; default auto: the models' default).
int main(int argc, char** argv) {
  std::vector<int> threads = {1, 2};
  std::vector<std::string> only;
  std::vector<kernels::AttnMath> attention = {kernels::AttnMath::automatic};
  int w = 1;
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--jepa_dir=", 11) == 0) {
      g_dir = argv[i] + 11;
    } else if (std::strncmp(argv[i], "--jepa_threads=", 15) == 0) {
      threads.clear();
      for (const std::string& t : split(argv[i] + 15)) threads.push_back(std::max(1, std::atoi(t.c_str())));
    } else if (std::strncmp(argv[i], "--jepa_spin_us=", 15) == 0) {
      g_spin_us = std::max(0, std::atoi(argv[i] + 15));
    } else if (std::strncmp(argv[i], "--jepa_dump=", 12) == 0) {
      g_dump = argv[i] + 12;
    } else if (std::strncmp(argv[i], "--jepa_attention=", 17) == 0) {
      attention.clear();
      for (const std::string& m : split(argv[i] + 17)) {
        if (m != "auto" && m != "f32" && m != "bf16") {
          std::fprintf(stderr, "bench_models: --jepa_attention takes auto, f32 and/or bf16, not '%s'\n", m.c_str());
          return 2;
        }
        attention.push_back(m == "bf16"  ? kernels::AttnMath::bf16
                            : m == "f32" ? kernels::AttnMath::f32
                                         : kernels::AttnMath::automatic);
      }
    } else if (std::strncmp(argv[i], "--jepa_models=", 14) == 0) {
      only = split(argv[i] + 14);
    } else {
      argv[w++] = argv[i];
    }
  }
  argc = w;
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
  benchmark::AddCustomContext("jepa_dir", g_dir);

  static const Preset synth = {"tiny_synth", "", {{"video", {1, 3, 2, 48, 48}}}};
  static std::vector<Row> rows;
  for (kernels::AttnMath m : attention) {
    for (const char* v : {"f32", "q8"})
      for (int t : threads) rows.push_back({&synth, v, "", t, m});
    for (const Preset& p : presets())
      for (const auto& f : find_files(p.checkpoint))
        for (int t : threads) rows.push_back({&p, f.first, f.second, t, m});
  }
  for (const Row& r : rows) {
    const std::string id = std::string(r.preset->name) + "/" + r.variant + attention_suffix(r.attention, '/', ':');
    bool keep = only.empty();
    for (const std::string& s : only) keep = keep || id.find(s) != std::string::npos;
    if (!keep) continue;
    const std::string name = "model/" + id + "/threads:" + std::to_string(r.threads);
    benchmark::RegisterBenchmark(name.c_str(), run_row, &r)->UseRealTime()->Unit(benchmark::kMillisecond);
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
