// Thread-count determinism: every model kind gives bit-identical outputs
// (memcmp) with 1, 2 and 3 threads of jepa::ThreadPool, for every weight
// format a SIMD kernel runs (f32 row-major and panel; f16, bf16, q8, q4
// panel; randmodel::kernel_formats()). The models
// are random ones (tests/models/random_models.hpp) sized so that the work
// really splits: >= 256 activation rows and >= 128-wide layers, so each
// linear has several row and column tiles and attention several
// (batch, head) tasks; a ParallelFor wrapper counts the tasks of every
// parallel call and the test requires calls of more than one task (and
// reports how many tasks ran on a worker rather than the caller).
#include <doctest/doctest.h>

#include <atomic>
#include <cmath>
#include <cstring>
#include <functional>
#include <thread>
#include <vector>

#include "jepa/models/kinds.hpp"
#include "jepa/runtime/thread_pool.hpp"
#include "models/golden_models.hpp"
#include "models/random_models.hpp"

namespace {

using jepa::ParallelFor;
using jepa::TaskFn;
using jepa::ThreadPool;
namespace models = jepa::models;

// Wraps a pool's ParallelFor and counts what the engine asks of it.
struct SplitCounter {
  ParallelFor inner;
  std::atomic<size_t> calls{0}, split_calls{0}, max_tasks{0}, tasks{0}, worker_tasks{0};
  std::thread::id caller;

  ParallelFor par() {
    ParallelFor p;
    p.run = &SplitCounter::run;
    p.impl = this;
    p.threads = inner.threads;
    return p;
  }

  struct Wrapped {
    SplitCounter* self;
    TaskFn task;
    void* arg;
  };
  static void run_one(void* a, size_t i) {
    Wrapped* w = static_cast<Wrapped*>(a);
    w->self->tasks.fetch_add(1, std::memory_order_relaxed);
    if (std::this_thread::get_id() != w->self->caller) w->self->worker_tasks.fetch_add(1, std::memory_order_relaxed);
    w->task(w->arg, i);
  }
  static void run(void* impl, size_t n, TaskFn task, void* arg) {
    SplitCounter* s = static_cast<SplitCounter*>(impl);
    s->calls.fetch_add(1);
    if (n > 1) s->split_calls.fetch_add(1);
    size_t m = s->max_tasks.load();
    while (n > m && !s->max_tasks.compare_exchange_weak(m, n)) {
    }
    Wrapped w{s, task, arg};
    s->inner.run(s->inner.impl, n, &SplitCounter::run_one, &w);
  }
};

// out = forward(par) with 1, 2 and 3 threads: every result is memcmp-equal
// to the 1-thread one, finite, and the multi-thread runs really split work.
void check_thread_counts(const std::string& what, const std::function<std::vector<float>(const ParallelFor&)>& forward) {
  CAPTURE(what);
  const std::vector<float> ref = forward(ParallelFor());
  REQUIRE(!ref.empty());
  bool finite = true;
  for (float v : ref) finite = finite && std::isfinite(v);
  CHECK_MESSAGE(finite, "non-finite output");
  for (int threads : {1, 2, 3}) {
    ThreadPool pool(threads);
    REQUIRE(pool.threads() == threads);
    SplitCounter counter;
    counter.inner = pool.parallel_for();
    counter.caller = std::this_thread::get_id();
    const std::vector<float> got = forward(threads > 1 ? counter.par() : pool.parallel_for());
    REQUIRE(got.size() == ref.size());
    const bool same = std::memcmp(got.data(), ref.data(), ref.size() * sizeof(float)) == 0;
    if (!same) {
      size_t first = 0;
      while (first < ref.size() && std::memcmp(&got[first], &ref[first], sizeof(float)) == 0) ++first;
      FAIL_CHECK(what, ": ", threads, " threads differ from 1 thread, first at element ", first, " (",
                 got[first], " vs ", ref[first], ")");
    }
    if (threads > 1) {
      MESSAGE(what, ", ", threads, " threads: ", counter.split_calls.load(), " of ", counter.calls.load(),
              " parallel calls split, up to ", counter.max_tasks.load(), " tasks; ", counter.worker_tasks.load(),
              " of ", counter.tasks.load(), " tasks ran on a worker");
      CHECK(counter.split_calls.load() > 0);
      CHECK(counter.max_tasks.load() >= (size_t)(2 * threads));
    }
  }
}

std::vector<float> values(size_t n, uint64_t seed) { return randmodel::random_values(n, seed); }

}  // namespace

TEST_CASE("threads: V-JEPA 2 encoder (full, masked, per frame) is bit-identical for 1, 2, 3 threads") {
  for (const randmodel::WeightFormat& wf : randmodel::kernel_formats()) {
    CAPTURE(wf.name());
    randmodel::Model<models::Vjepa2EncoderConfig, models::Vjepa2EncoderWeights> m;
    REQUIRE_MESSAGE(m.build(randmodel::vjepa2_encoder_config(), wf, 1), m.error);
    const models::Vjepa2EncoderConfig& c = m.cfg;
    const int64_t B = 2, T = c.num_frames, H = c.img_height, W = c.img_width;
    const std::vector<float> video = values((size_t)(B * c.in_chans * T * H * W), 2);
    models::Vjepa2EncoderInput in;
    in.video = video.data();
    in.batch = B;
    in.frames = T;
    in.height = H;
    in.width = W;
    const int64_t N = in.grid_tokens(c);
    REQUIRE(B * N >= 256);
    const std::vector<int64_t> keep = randmodel::random_tokens(B, N - 20, N, 3);
    for (int masked = 0; masked < 2; ++masked) {
      in.keep_idx = masked ? keep.data() : nullptr;
      in.keep = masked ? N - 20 : 0;
      check_thread_counts(masked ? "vjepa2.encoder masked" : "vjepa2.encoder", [&](const ParallelFor& par) {
        golden::ArenaBuffer buf(models::vjepa2_encoder_arena_bytes(c, in));
        jepa::Arena& arena = buf.arena;
        std::vector<float> out((size_t)(B * in.out_tokens(c) * c.embed_dim));
        jepa::Status s = models::vjepa2_encoder_forward(*m.w, c, par, arena, in, out.data());
        REQUIRE_MESSAGE(s.is_ok(), s.message());
        return out;
      });
    }
    models::Vjepa2FramesInput fin;
    fin.clip = video.data();
    fin.batch = 1;
    fin.frames = T;
    fin.height = H;
    fin.width = W;
    check_thread_counts("vjepa2_encode_frames", [&](const ParallelFor& par) {
      golden::ArenaBuffer buf(models::vjepa2_encode_frames_arena_bytes(c, fin));
      jepa::Arena& arena = buf.arena;
      std::vector<float> out((size_t)(T * (H / 16) * (W / 16) * c.embed_dim));
      jepa::Status s = models::vjepa2_encode_frames(*m.w, c, par, arena, fin, out.data());
      REQUIRE_MESSAGE(s.is_ok(), s.message());
      return out;
    });
  }
}

TEST_CASE("threads: V-JEPA 2 predictor is bit-identical for 1, 2, 3 threads") {
  for (const randmodel::WeightFormat& wf : randmodel::kernel_formats()) {
    CAPTURE(wf.name());
    randmodel::Model<models::Vjepa2PredictorConfig, models::Vjepa2PredictorWeights> m;
    REQUIRE_MESSAGE(m.build(randmodel::vjepa2_predictor_config(), wf, 4), m.error);
    const models::Vjepa2PredictorConfig& c = m.cfg;
    const int64_t B = 2, N = c.num_patches(), nc = 80, nt = N - nc;
    std::vector<int64_t> mx, my;
    randmodel::random_split(B, nc, nt, N, 5, &mx, &my);
    const std::vector<float> ctx = values((size_t)(B * nc * c.embed_dim), 6);
    models::Vjepa2PredictorInput in;
    in.context = ctx.data();
    in.masks_x = mx.data();
    in.masks_y = my.data();
    in.batch = B;
    in.n_ctx = nc;
    in.n_tgt = nt;
    check_thread_counts("vjepa2.predictor", [&](const ParallelFor& par) {
      golden::ArenaBuffer buf(models::vjepa2_predictor_arena_bytes(c, in));
      jepa::Arena& arena = buf.arena;
      std::vector<float> out((size_t)(B * nt * c.embed_dim));
      jepa::Status s = models::vjepa2_predictor_forward(*m.w, c, par, arena, in, out.data());
      REQUIRE_MESSAGE(s.is_ok(), s.message());
      return out;
    });
  }
}

TEST_CASE("threads: V-JEPA 2-AC predictor (teacher forcing and KV-cache steps) is bit-identical for 1, 2, 3 threads") {
  for (const randmodel::WeightFormat& wf : randmodel::kernel_formats()) {
    CAPTURE(wf.name());
    randmodel::Model<models::AcPredictorConfig, models::AcPredictorWeights> m;
    REQUIRE_MESSAGE(m.build(randmodel::ac_predictor_config(), wf, 7), m.error);
    const models::AcPredictorConfig& c = m.cfg;
    const int64_t B = 2, S = 3, hw = c.patches_per_step(), D = c.embed_dim, A = c.action_dim;
    REQUIRE(B * S * c.tokens_per_step() >= 200);
    const std::vector<float> lat = values((size_t)(B * S * hw * D), 8);
    const std::vector<float> act = values((size_t)(B * S * A), 9);
    const std::vector<float> sta = values((size_t)(B * S * A), 10);
    check_thread_counts("vjepa2.ac_predictor teacher forcing", [&](const ParallelFor& par) {
      golden::ArenaBuffer buf(models::ac_predictor_arena_bytes(c, B, S));
      jepa::Arena& arena = buf.arena;
      std::vector<float> out((size_t)(B * S * hw * D));
      jepa::Status s = models::ac_predictor_forward(*m.w, c, par, arena, B, S, lat.data(), act.data(), sta.data(),
                                                    nullptr, out.data());
      REQUIRE_MESSAGE(s.is_ok(), s.message());
      return out;
    });
    // One step at a time through the cache (batch B, each call attends to the cached steps).
    check_thread_counts("vjepa2.ac_predictor KV-cache steps", [&](const ParallelFor& par) {
      jepa::Arena plan;
      plan.allocate(models::ac_kv_cache_bytes(c, B, S));
      plan.allocate(models::ac_predictor_steps_arena_bytes(c, B, 1, S));
      golden::ArenaBuffer buf(plan.peak());
      jepa::Arena& arena = buf.arena;
      models::AcKvCache cache;
      REQUIRE(models::ac_kv_cache_init(&cache, c, arena, B, S).is_ok());
      std::vector<float> l1((size_t)(B * hw * D)), a1((size_t)(B * A)), s1((size_t)(B * A));
      std::vector<float> out;
      std::vector<float> y((size_t)(B * hw * D));
      for (int64_t t = 0; t < S; ++t) {
        for (int64_t b = 0; b < B; ++b) {
          std::memcpy(&l1[(size_t)(b * hw * D)], &lat[(size_t)((b * S + t) * hw * D)], (size_t)(hw * D) * 4);
          std::memcpy(&a1[(size_t)(b * A)], &act[(size_t)((b * S + t) * A)], (size_t)A * 4);
          std::memcpy(&s1[(size_t)(b * A)], &sta[(size_t)((b * S + t) * A)], (size_t)A * 4);
        }
        jepa::Status s = models::ac_predictor_forward_steps(*m.w, c, par, arena, cache, t, 1, l1.data(), a1.data(),
                                                            s1.data(), nullptr, y.data());
        REQUIRE_MESSAGE(s.is_ok(), s.message());
        out.insert(out.end(), y.begin(), y.end());
      }
      return out;
    });
  }
}

TEST_CASE("threads: I-JEPA encoder and predictor are bit-identical for 1, 2, 3 threads") {
  for (const randmodel::WeightFormat& wf : randmodel::kernel_formats()) {
    CAPTURE(wf.name());
    randmodel::Model<models::IjepaEncoderConfig, models::IjepaEncoderWeights> enc;
    REQUIRE_MESSAGE(enc.build(randmodel::ijepa_encoder_config(), wf, 11), enc.error);
    const models::IjepaEncoderConfig& c = enc.cfg;
    const int64_t B = 4, H = c.img_size;
    const std::vector<float> img = values((size_t)(B * c.in_chans * H * H), 12);
    models::IjepaEncoderInput in;
    in.image = img.data();
    in.batch = B;
    in.height = H;
    in.width = H;
    const int64_t N = in.grid_tokens(c);
    REQUIRE(B * N >= 256);
    const std::vector<int64_t> keep = randmodel::random_tokens(B, N - 8, N, 13);
    for (int masked = 0; masked < 2; ++masked) {
      in.keep_idx = masked ? keep.data() : nullptr;
      in.keep = masked ? N - 8 : 0;
      check_thread_counts(masked ? "ijepa.encoder masked" : "ijepa.encoder", [&](const ParallelFor& par) {
        golden::ArenaBuffer buf(models::ijepa_encoder_arena_bytes(c, in));
        jepa::Arena& arena = buf.arena;
        std::vector<float> out((size_t)(B * in.out_tokens(c) * c.embed_dim));
        jepa::Status s = models::ijepa_encoder_forward(*enc.w, c, par, arena, in, out.data());
        REQUIRE_MESSAGE(s.is_ok(), s.message());
        return out;
      });
    }

    randmodel::Model<models::IjepaPredictorConfig, models::IjepaPredictorWeights> pred;
    REQUIRE_MESSAGE(pred.build(randmodel::ijepa_predictor_config(), wf, 14), pred.error);
    const models::IjepaPredictorConfig& pc = pred.cfg;
    const int64_t nc = 40, nt = pc.num_patches - nc;
    std::vector<int64_t> mx, my;
    randmodel::random_split(B, nc, nt, pc.num_patches, 15, &mx, &my);
    const std::vector<float> ctx = values((size_t)(B * nc * pc.embed_dim), 16);
    models::IjepaPredictorInput pin;
    pin.context = ctx.data();
    pin.masks_x = mx.data();
    pin.masks = my.data();
    pin.batch = B;
    pin.n_ctx = nc;
    pin.n_tgt = nt;
    check_thread_counts("ijepa.predictor", [&](const ParallelFor& par) {
      golden::ArenaBuffer buf(models::ijepa_predictor_arena_bytes(pc, pin));
      jepa::Arena& arena = buf.arena;
      std::vector<float> out((size_t)(B * nt * pc.embed_dim));
      jepa::Status s = models::ijepa_predictor_forward(*pred.w, pc, par, arena, pin, out.data());
      REQUIRE_MESSAGE(s.is_ok(), s.message());
      return out;
    });
  }
}
