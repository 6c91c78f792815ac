// tests/models_alloc/test_models_alloc.cpp: after setup (weights bound, arena
// sized by the model's own planning function in measure mode, thread pool
// started, one warm-up forward), repeated forwards of every model kind make
// no heap allocation at all, with 1 and 2 threads: V-JEPA 2 encoder (full,
// masked, per-frame), V-JEPA 2 predictor, V-JEPA 2-AC predictor (teacher
// forcing, and a step-by-step rollout through its KV cache on a shared prefix,
// rewound and re-run), I-JEPA encoder and predictor; the tiny golden models in
// f32 plus random q8/q4 panel models (the SIMD kernels, and the
// quantized-activation paths that convert rows into a stack buffer).
//
// Two counters: this binary replaces every global operator new (so any `new`
// anywhere in the process is seen), and it is linked with
// -Wl,--wrap=malloc,calloc,realloc,aligned_alloc,posix_memalign
// (tests/CMakeLists.txt), which routes every malloc-family call made by code
// compiled into this binary -- the header-only library included -- through
// the __wrap_* counters below. (Calls libc makes internally are not wrapped;
// the library calls no libc function that allocates on its forward paths.)
// --wrap leaves the real malloc in place, so it works unchanged under ASan,
// whose allocator then serves __real_malloc. Own folder = own binary.
#include <doctest/doctest.h>

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <new>
#include <vector>

#include "jepa/models/kinds.hpp"
#include "jepa/runtime/thread_pool.hpp"
#include "models/golden_models.hpp"
#include "models/random_models.hpp"

// ---------------------------------------------------------------- counters

namespace {
std::atomic<long> g_new{0};     // operator new, all forms
std::atomic<long> g_malloc{0};  // malloc, calloc, realloc, aligned_alloc, posix_memalign
std::atomic<bool> g_counting{false};

inline void count(std::atomic<long>& c) {
  if (g_counting.load(std::memory_order_relaxed)) c.fetch_add(1, std::memory_order_relaxed);
}
}  // namespace

extern "C" {
void* __real_malloc(size_t n);
void* __real_calloc(size_t n, size_t size);
void* __real_realloc(void* p, size_t n);
void* __real_aligned_alloc(size_t align, size_t n);
int __real_posix_memalign(void** out, size_t align, size_t n);

void* __wrap_malloc(size_t n) {
  count(g_malloc);
  return __real_malloc(n);
}
void* __wrap_calloc(size_t n, size_t size) {
  count(g_malloc);
  return __real_calloc(n, size);
}
void* __wrap_realloc(void* p, size_t n) {
  count(g_malloc);
  return __real_realloc(p, n);
}
void* __wrap_aligned_alloc(size_t align, size_t n) {
  count(g_malloc);
  return __real_aligned_alloc(align, n);
}
int __wrap_posix_memalign(void** out, size_t align, size_t n) {
  count(g_malloc);
  return __real_posix_memalign(out, align, n);
}
}

namespace {
// operator new's memory comes from the real allocator directly, so one `new`
// counts once (as new), never also as a malloc.
void* raw_alloc(size_t n, size_t align) {
  count(g_new);
  if (n == 0) n = 1;
  if (align <= alignof(std::max_align_t)) return __real_malloc(n);
  return __real_aligned_alloc(align, (n + align - 1) / align * align);
}
void* checked(void* p) {
  if (p == nullptr) std::abort();  // test-only replacement: out of memory ends the test run
  return p;
}
}  // namespace

// GCC cannot see that raw_alloc's memory comes from malloc once new/delete
// pairs are inlined into a caller; the pairing is right by construction.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
void* operator new(size_t n) { return checked(raw_alloc(n, 0)); }
void* operator new[](size_t n) { return checked(raw_alloc(n, 0)); }
void* operator new(size_t n, const std::nothrow_t&) noexcept { return raw_alloc(n, 0); }
void* operator new[](size_t n, const std::nothrow_t&) noexcept { return raw_alloc(n, 0); }
void* operator new(size_t n, std::align_val_t a) { return checked(raw_alloc(n, (size_t)a)); }
void* operator new[](size_t n, std::align_val_t a) { return checked(raw_alloc(n, (size_t)a)); }
void* operator new(size_t n, std::align_val_t a, const std::nothrow_t&) noexcept { return raw_alloc(n, (size_t)a); }
void* operator new[](size_t n, std::align_val_t a, const std::nothrow_t&) noexcept { return raw_alloc(n, (size_t)a); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }

namespace {

using jepa::ParallelFor;
using jepa::ThreadPool;
namespace models = jepa::models;

// Counts allocations between construction and stop(); allocates nothing itself.
struct Window {
  long new0, malloc0;
  Window() : new0(g_new.load()), malloc0(g_malloc.load()) { g_counting.store(true); }
  void stop(long* news, long* mallocs) {
    g_counting.store(false);
    *news = g_new.load() - new0;
    *mallocs = g_malloc.load() - malloc0;
  }
};

// Keeps the compiler from eliding the allocations of the negative check.
void* volatile g_sink = nullptr;

constexpr int kRepeats = 3;

// Runs forward(par) once to warm up (and to keep its output), then kRepeats
// times inside a counting window: no allocation, every repeat ok and bit
// identical to the warm-up (the arena really is reused, not re-planned).
// `out` is what forward writes; forward must be a plain callable returning bool.
template <class Forward>
void expect_no_allocations(const std::string& what, int threads, const std::vector<float>& out, Forward&& forward,
                           std::vector<float>* first_out = nullptr) {
  ThreadPool pool(threads);
  const ParallelFor par = pool.parallel_for();
  REQUIRE_MESSAGE(forward(par), what, ": warm-up forward failed");
  const std::vector<float> warm = out;
  bool ok = true;
  long news = 0, mallocs = 0;
  {
    Window w;
    for (int i = 0; i < kRepeats; ++i) ok = forward(par) && ok;
    w.stop(&news, &mallocs);
  }
  MESSAGE(what, ", ", threads, " thread(s): ", news, " operator new and ", mallocs, " malloc-family calls in ",
          kRepeats, " forwards");
  CHECK_MESSAGE(ok, what);
  CHECK_MESSAGE(news == 0, what);
  CHECK_MESSAGE(mallocs == 0, what);
  CHECK_MESSAGE(std::memcmp(warm.data(), out.data(), out.size() * sizeof(float)) == 0, what,
                ": repeated forwards differ");
  bool finite = !out.empty();
  for (float v : out) finite = finite && std::isfinite(v);
  CHECK_MESSAGE(finite, what, ": output empty or not finite");
  if (first_out != nullptr) {
    if (first_out->empty()) {
      *first_out = out;
    } else {
      CHECK_MESSAGE(std::memcmp(first_out->data(), out.data(), out.size() * sizeof(float)) == 0, what,
                    ": output depends on the thread count");
    }
  }
}

std::vector<float> random_floats(size_t n, uint64_t seed) { return randmodel::random_values(n, seed); }

// ---------------------------------------------------------------- per kind

template <class Cfg, class W>
void vjepa2_encoder_cases(const Cfg& c, const W& w, const char* tag) {
  const int64_t B = 2, T = c.num_frames, H = c.img_height, Wd = c.img_width;
  const std::vector<float> video = random_floats((size_t)(B * c.in_chans * T * H * Wd), 11);
  models::Vjepa2EncoderInput in;
  in.video = video.data();
  in.batch = B;
  in.frames = T;
  in.height = H;
  in.width = Wd;
  const int64_t N = in.grid_tokens(c);
  const std::vector<int64_t> keep = randmodel::random_tokens(B, N / 2 + 1, N, 3);
  for (int masked = 0; masked < 2; ++masked) {
    in.keep_idx = masked ? keep.data() : nullptr;
    in.keep = masked ? N / 2 + 1 : 0;
    golden::ArenaBuffer buf(models::vjepa2_encoder_arena_bytes(c, in));
    std::vector<float> out((size_t)(B * in.out_tokens(c) * c.embed_dim));
    std::vector<float> first;
    for (int threads : {1, 2}) {
      auto fwd = [&](const ParallelFor& par) {
        return models::vjepa2_encoder_forward(w, c, par, buf.arena, in, out.data()).is_ok();
      };
      expect_no_allocations(masked ? "vjepa2.encoder masked" : tag, threads, out, fwd, &first);
    }
  }
  // The V-JEPA 2-AC per-frame encoding (one encoder call per frame).
  models::Vjepa2FramesInput fin;
  fin.clip = video.data();
  fin.batch = B;
  fin.frames = T;
  fin.height = H;
  fin.width = Wd;
  golden::ArenaBuffer fbuf(models::vjepa2_encode_frames_arena_bytes(c, fin));
  const int64_t hw = (H / c.patch_size) * (Wd / c.patch_size);
  std::vector<float> fout((size_t)(B * T * hw * c.embed_dim));
  std::vector<float> first;
  for (int threads : {1, 2}) {
    auto fwd = [&](const ParallelFor& par) {
      return models::vjepa2_encode_frames(w, c, par, fbuf.arena, fin, fout.data()).is_ok();
    };
    expect_no_allocations("vjepa2_encode_frames", threads, fout, fwd, &first);
  }
}

template <class Cfg, class W>
void vjepa2_predictor_cases(const Cfg& c, const W& w) {
  const int64_t B = 2, N = c.num_patches(), nc = N / 2, nt = N - nc;
  std::vector<int64_t> mx, my;
  randmodel::random_split(B, nc, nt, N, 5, &mx, &my);
  const std::vector<float> ctx = random_floats((size_t)(B * nc * c.embed_dim), 12);
  models::Vjepa2PredictorInput in;
  in.context = ctx.data();
  in.masks_x = mx.data();
  in.masks_y = my.data();
  in.batch = B;
  in.n_ctx = nc;
  in.n_tgt = nt;
  golden::ArenaBuffer buf(models::vjepa2_predictor_arena_bytes(c, in));
  std::vector<float> out((size_t)(B * nt * c.embed_dim));
  std::vector<float> first;
  for (int threads : {1, 2}) {
    auto fwd = [&](const ParallelFor& par) {
      return models::vjepa2_predictor_forward(w, c, par, buf.arena, in, out.data()).is_ok();
    };
    expect_no_allocations("vjepa2.predictor", threads, out, fwd, &first);
  }
}

// Teacher forcing, then a rollout one step at a time: a batch-1 prefix cache
// holds step 0 (the shared context), a batch-B cache on it takes steps 1..S-1
// one call each, the last one without appending (a planner's horizon end),
// then rewinds so the next repeat starts over in the same memory.
template <class W>
void ac_predictor_cases(const models::AcPredictorConfig& c, const W& w) {
  const int64_t B = 2, S = 4, hw = c.patches_per_step(), D = c.embed_dim, A = c.action_dim;
  const std::vector<float> lat = random_floats((size_t)(B * S * hw * D), 13);
  const std::vector<float> act = random_floats((size_t)(B * S * A), 14);
  const std::vector<float> sta = random_floats((size_t)(B * S * A), 15);
  {
    golden::ArenaBuffer buf(models::ac_predictor_arena_bytes(c, B, S));
    std::vector<float> out((size_t)(B * S * hw * D));
    std::vector<float> first;
    for (int threads : {1, 2}) {
      auto fwd = [&](const ParallelFor& par) {
        return models::ac_predictor_forward(w, c, par, buf.arena, B, S, lat.data(), act.data(), sta.data(), nullptr,
                                            out.data())
            .is_ok();
      };
      expect_no_allocations("vjepa2.ac_predictor teacher forcing", threads, out, fwd, &first);
    }
  }
  // Per-sequence inputs of step t for the own cache, [B][1][...] each.
  std::vector<float> step_lat((size_t)(S * B * hw * D)), step_act((size_t)(S * B * A)), step_sta((size_t)(S * B * A));
  for (int64_t t = 0; t < S; ++t)
    for (int64_t b = 0; b < B; ++b) {
      std::memcpy(&step_lat[(size_t)((t * B + b) * hw * D)], &lat[(size_t)((b * S + t) * hw * D)], (size_t)(hw * D) * 4);
      std::memcpy(&step_act[(size_t)((t * B + b) * A)], &act[(size_t)((b * S + t) * A)], (size_t)A * 4);
      std::memcpy(&step_sta[(size_t)((t * B + b) * A)], &sta[(size_t)((b * S + t) * A)], (size_t)A * 4);
    }
  jepa::Arena plan;
  plan.allocate(models::ac_kv_cache_bytes(c, 1, 1));
  plan.allocate(models::ac_kv_cache_bytes(c, B, S - 1));
  plan.allocate(models::ac_predictor_steps_arena_bytes(c, B, 1, S));
  golden::ArenaBuffer buf(plan.peak());
  models::AcKvCache prefix, own;
  REQUIRE(models::ac_kv_cache_init(&prefix, c, buf.arena, 1, 1).is_ok());
  std::vector<float> out((size_t)(S * B * hw * D));
  bool prefix_ready = false;
  std::vector<float> first;
  for (int threads : {1, 2}) {
    auto fwd = [&](const ParallelFor& par) {
      bool ok = true;
      if (!prefix_ready) {  // setup, during the warm-up call: step 0 of sequence 0 into the prefix
        ok = models::ac_predictor_forward_steps(w, c, par, buf.arena, prefix, 0, 1, lat.data(), act.data(),
                                                sta.data(), nullptr, out.data())
                 .is_ok() &&
             models::ac_kv_cache_init(&own, c, buf.arena, B, S - 1, &prefix).is_ok();
        prefix_ready = ok;
      }
      own.rewind();
      for (int64_t t = 1; ok && t < S; ++t) {
        models::AcStepOptions opt;
        opt.append_to_cache = t + 1 < S;
        ok = models::ac_predictor_forward_steps(w, c, par, buf.arena, own, t, 1, &step_lat[(size_t)(t * B * hw * D)],
                                                &step_act[(size_t)(t * B * A)], &step_sta[(size_t)(t * B * A)],
                                                nullptr, &out[(size_t)(t * B * hw * D)], opt)
                 .is_ok();
      }
      return ok && own.steps_cached == S - 1;
    };
    expect_no_allocations("vjepa2.ac_predictor rollout through the KV cache", threads, out, fwd, &first);
  }
}

template <class Cfg, class W>
void ijepa_encoder_cases(const Cfg& c, const W& w) {
  const int64_t B = 2, H = c.img_size;
  const std::vector<float> img = random_floats((size_t)(B * c.in_chans * H * H), 16);
  models::IjepaEncoderInput in;
  in.image = img.data();
  in.batch = B;
  in.height = H;
  in.width = H;
  const int64_t N = in.grid_tokens(c);
  const std::vector<int64_t> keep = randmodel::random_tokens(B, N / 2 + 1, N, 4);
  for (int masked = 0; masked < 2; ++masked) {
    in.keep_idx = masked ? keep.data() : nullptr;
    in.keep = masked ? N / 2 + 1 : 0;
    golden::ArenaBuffer buf(models::ijepa_encoder_arena_bytes(c, in));
    std::vector<float> out((size_t)(B * in.out_tokens(c) * c.embed_dim));
    std::vector<float> first;
    for (int threads : {1, 2}) {
      auto fwd = [&](const ParallelFor& par) {
        return models::ijepa_encoder_forward(w, c, par, buf.arena, in, out.data()).is_ok();
      };
      expect_no_allocations(masked ? "ijepa.encoder masked" : "ijepa.encoder", threads, out, fwd, &first);
    }
  }
}

template <class Cfg, class W>
void ijepa_predictor_cases(const Cfg& c, const W& w) {
  const int64_t B = 2, N = c.num_patches, nc = (N + 1) / 2, nt = N - nc;
  std::vector<int64_t> mx, my;
  randmodel::random_split(B, nc, nt, N, 6, &mx, &my);
  const std::vector<float> ctx = random_floats((size_t)(B * nc * c.embed_dim), 17);
  models::IjepaPredictorInput in;
  in.context = ctx.data();
  in.masks_x = mx.data();
  in.masks = my.data();
  in.batch = B;
  in.n_ctx = nc;
  in.n_tgt = nt;
  golden::ArenaBuffer buf(models::ijepa_predictor_arena_bytes(c, in));
  std::vector<float> out((size_t)(B * nt * c.embed_dim));
  std::vector<float> first;
  for (int threads : {1, 2}) {
    auto fwd = [&](const ParallelFor& par) {
      return models::ijepa_predictor_forward(w, c, par, buf.arena, in, out.data()).is_ok();
    };
    expect_no_allocations("ijepa.predictor", threads, out, fwd, &first);
  }
}

struct GoldenDir {
  golden::Dir dir;
  golden::Safetensors st;
  explicit GoldenDir(const char* name) {
    const std::string d = golden::data_dir(name);
    REQUIRE_MESSAGE(dir.open(d), dir.error);
    REQUIRE_MESSAGE(st.open(d + "/weights.safetensors"), st.error);
  }
  const golden::Json& comp(const char* name) const { return dir.config["components"][name]; }
};

}  // namespace

TEST_CASE("the counters see operator new and every malloc-family call") {
  long news = 0, mallocs = 0;
  {
    Window w;
    g_sink = std::malloc(24);
    std::free(g_sink);
    g_sink = std::calloc(3, 8);
    g_sink = std::realloc(g_sink, 4096);
    std::free(g_sink);
    g_sink = std::aligned_alloc(64, 128);
    std::free(g_sink);
    void* p = nullptr;
    const int rc = posix_memalign(&p, 64, 64);
    g_sink = p;
    std::free(p);
    w.stop(&news, &mallocs);
    CHECK(rc == 0);
  }
  CHECK(mallocs == 5);
  CHECK(news == 0);
  {
    Window w;
    std::vector<int>* v = new std::vector<int>(10);  // the vector object, then its elements
    g_sink = v;
    delete v;
    w.stop(&news, &mallocs);
  }
  CHECK(news == 2);
  CHECK(mallocs == 0);
  // Library code counts too: the Writer (an allocating host API) builds a file.
  {
    Window w;
    jepa::format::Writer writer("test.counting");
    writer.add_int("x", 1);
    jepa::Result<std::vector<uint8_t>> bytes = writer.finish();
    w.stop(&news, &mallocs);
    CHECK(bytes.is_ok());
  }
  CHECK(news > 0);
  // And a forward whose arena is too small fails cleanly instead of falling back to the heap.
  GoldenDir g("ijepa_tiny");
  golden::Loaded<models::IjepaEncoderConfig, models::IjepaEncoderWeights> enc;
  REQUIRE_MESSAGE(enc.load(g.st, "encoder.", golden::ijepa_encoder_config(g.comp("encoder"))), enc.error);
  const int64_t H = enc.cfg.img_size;
  const std::vector<float> img = random_floats((size_t)(enc.cfg.in_chans * H * H), 1);
  models::IjepaEncoderInput in;
  in.image = img.data();
  in.height = H;
  in.width = H;
  golden::ArenaBuffer small(models::ijepa_encoder_arena_bytes(enc.cfg, in) - 64);
  std::vector<float> out((size_t)(in.grid_tokens(enc.cfg) * enc.cfg.embed_dim));
  jepa::Status s;
  {
    Window w;
    s = models::ijepa_encoder_forward(*enc.w, enc.cfg, ParallelFor(), small.arena, in, out.data());
    w.stop(&news, &mallocs);
  }
  CHECK(s.code() == jepa::Error::out_of_memory);
  CHECK(news + mallocs == 0);
}

TEST_CASE("V-JEPA 2 encoder and predictor (golden vjepa2_tiny): no allocation in repeated forwards") {
  GoldenDir g("vjepa2_tiny");
  golden::Loaded<models::Vjepa2EncoderConfig, models::Vjepa2EncoderWeights> enc;
  REQUIRE_MESSAGE(enc.load(g.st, "encoder.", golden::vjepa2_encoder_config(g.comp("encoder"))), enc.error);
  golden::Loaded<models::Vjepa2PredictorConfig, models::Vjepa2PredictorWeights> pred;
  REQUIRE_MESSAGE(pred.load(g.st, "predictor.", golden::vjepa2_predictor_config(g.comp("predictor"))), pred.error);
  vjepa2_encoder_cases(enc.cfg, *enc.w, "vjepa2.encoder");
  vjepa2_predictor_cases(pred.cfg, *pred.w);
}

TEST_CASE("V-JEPA 2-AC predictor (golden vjepa2_ac_tiny): no allocation, teacher forcing and KV-cache rollout") {
  GoldenDir g("vjepa2_ac_tiny");
  golden::Loaded<models::AcPredictorConfig, models::AcPredictorWeights> pred;
  REQUIRE_MESSAGE(pred.load(g.st, "predictor.", golden::ac_predictor_config(g.comp("predictor"))), pred.error);
  ac_predictor_cases(pred.cfg, *pred.w);
}

TEST_CASE("I-JEPA encoder and predictor (golden ijepa_tiny): no allocation in repeated forwards") {
  GoldenDir g("ijepa_tiny");
  golden::Loaded<models::IjepaEncoderConfig, models::IjepaEncoderWeights> enc;
  REQUIRE_MESSAGE(enc.load(g.st, "encoder.", golden::ijepa_encoder_config(g.comp("encoder"))), enc.error);
  golden::Loaded<models::IjepaPredictorConfig, models::IjepaPredictorWeights> pred;
  REQUIRE_MESSAGE(pred.load(g.st, "predictor.", golden::ijepa_predictor_config(g.comp("predictor"))), pred.error);
  ijepa_encoder_cases(enc.cfg, *enc.w);
  ijepa_predictor_cases(pred.cfg, *pred.w);
}

TEST_CASE("q8, q4 panel weights: the SIMD, activation-quantizing paths allocate nothing either") {
  using jepa::format::DType;
  using jepa::format::Layout;
  std::vector<randmodel::WeightFormat> formats = {{DType::q8, Layout::panel}, {DType::q4, Layout::panel}};
  if (randmodel::small_run()) formats.pop_back();  // QEMU: q8 only
  for (const randmodel::WeightFormat& wf : formats) {
    CAPTURE(wf.name());
    randmodel::Model<models::Vjepa2EncoderConfig, models::Vjepa2EncoderWeights> enc;
    REQUIRE_MESSAGE(enc.build(randmodel::vjepa2_encoder_config(), wf, 21), enc.error);
    vjepa2_encoder_cases(enc.cfg, *enc.w, "vjepa2.encoder (quantized)");
    randmodel::Model<models::AcPredictorConfig, models::AcPredictorWeights> ac;
    REQUIRE_MESSAGE(ac.build(randmodel::ac_predictor_config(), wf, 22), ac.error);
    ac_predictor_cases(ac.cfg, *ac.w);
  }
}
