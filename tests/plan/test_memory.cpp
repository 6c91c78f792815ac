// tests/plan/test_memory.cpp: the persistent memory.
// - sliding window with re-prefill == the official re-run on the retained
//   window + current frame, at every commit;
// - save / restore / continue == never stopping (bit-exact with f32 K/V,
//   float rounding with re-prefill, stated error with f16 / q8);
// - a save interrupted at every stage (crash or failure, whole or short
//   writes) leaves a file that loads as the old or the new memory;
// - truncated / corrupted / foreign files give clear errors.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include <unistd.h>

#include "jepa/plan/memory.hpp"
#include "plan/plan_test_util.hpp"

using namespace jepa;
using namespace jepa::plan;

namespace {

using plantest::Buffer;
using plantest::max_abs_diff;

models::AcPredictorConfig mem_config() {
  models::AcPredictorConfig c = plantest::tiny_ac_config();
  c.embed_dim = 32;
  c.pred_embed_dim = 64;
  c.num_heads = 2;
  c.mlp_hidden = 128;
  c.depth = 2;
  c.img_height = 24;  // 3 x 3 grid
  c.img_width = 24;
  return c;
}

// A deterministic episode: observation t and action t.
struct Episode {
  int64_t hw, D;
  std::vector<float> obs(int t) const { return plantest::random_latents(hw, D, 100 + t); }
  void pose(int t, double* p) const {
    for (int i = 0; i < 7; ++i) p[i] = 0.2 * std::sin(0.3 * t + i);
    p[6] = 0.5;
  }
  void action(int t, float* a) const {
    for (int i = 0; i < 7; ++i) a[i] = 0.03f * std::cos(0.9f * t + 2 * i);
  }
};

std::string temp_path(const char* tag) {
  return std::string("/tmp/jepa-mem-") + tag + "-" + std::to_string((long)getpid()) + ".bin";
}

struct MemRig {
  AcMemoryOptions opt;
  Buffer state, scratch;
  AcMemory mem;
  MemRig(const plantest::AcModelHolder* shared, AcMemoryOptions o)
      : opt(o),
        state(ac_memory_arena_bytes(shared->cfg, o)),
        scratch(ac_rerun_arena_bytes(shared->cfg, o.window + 1) +
                ac_memory_save_scratch_bytes(shared->cfg, o, KvStorage::q8_heads) + (1 << 16)) {
    REQUIRE(ac_memory_create(shared->model(), o, state.arena, &mem).is_ok());
  }
};

// Observes and commits steps [from, to) of the episode; the predictions go to
// preds when it is not null.
void run_commits(const Episode& ep, MemRig& rig, int from, int to, std::vector<std::vector<float>>* preds) {
  for (int t = from; t < to; ++t) {
    const std::vector<float> z = ep.obs(t);
    double p[7];
    float a[7];
    ep.pose(t, p);
    ep.action(t, a);
    REQUIRE(ac_memory_observe(rig.mem, z.data(), p).is_ok());
    std::vector<float> pred((size_t)(ep.hw * ep.D));
    REQUIRE(ac_memory_commit(rig.mem, ParallelFor(), rig.scratch.arena, a, pred.data()).is_ok());
    if (preds) preds->push_back(pred);
  }
}

}  // namespace

TEST_CASE("sliding window with re-prefill equals the official re-run of the retained window") {
  auto holder = plantest::random_ac_model(mem_config(), 31);
  REQUIRE(holder->status.is_ok());
  const Episode ep{holder->cfg.patches_per_step(), holder->cfg.embed_dim};
  const size_t frame = (size_t)(ep.hw * ep.D);
  for (int64_t keep : {0, 1, 2}) {
    AcMemoryOptions o;
    o.window = 3;
    o.keep = keep;
    o.max_prefill_steps = 2;
    MemRig rig(holder.get(), o);
    std::vector<float> pred(frame), ref(frame);
    std::vector<float> lat;
    std::vector<double> poses;
    std::vector<float> acts;
    for (int t = 0; t < 8; ++t) {
      const std::vector<float> z = ep.obs(t);
      double p[7];
      float a[7];
      ep.pose(t, p);
      ep.action(t, a);
      REQUIRE(ac_memory_observe(rig.mem, z.data(), p).is_ok());
      // What the window will hold after this commit (slide first when full).
      if ((int64_t)(lat.size() / frame) >= o.window) {
        const size_t drop = lat.size() / frame - keep;
        lat.erase(lat.begin(), lat.begin() + drop * frame);
        poses.erase(poses.begin(), poses.begin() + drop * 7);
        acts.erase(acts.begin(), acts.begin() + drop * 7);
      }
      lat.insert(lat.end(), z.begin(), z.end());
      poses.insert(poses.end(), p, p + 7);
      acts.insert(acts.end(), a, a + 7);
      const Status st = ac_memory_commit(rig.mem, ParallelFor(), rig.scratch.arena, a, pred.data());
      REQUIRE_MESSAGE(st.is_ok(), st.message());
      const int64_t n = (int64_t)(lat.size() / frame);
      CHECK(rig.mem.committed() == n);
      CHECK(n <= o.window);
      REQUIRE(ac_rerun_last(holder->model(), ParallelFor(), rig.scratch.arena, n, lat.data(), poses.data(),
                            acts.data(), ref.data()).is_ok());
      INFO("keep ", keep, " commit ", t, " window ", n);
      CHECK(max_abs_diff(pred.data(), ref.data(), frame) < 2e-5);
    }
    CHECK(rig.mem.total_committed == 8);
  }
}

TEST_CASE("save, restore and continue == never stopping") {
  auto holder = plantest::random_ac_model(mem_config(), 32);
  REQUIRE(holder->status.is_ok());
  const Episode ep{holder->cfg.patches_per_step(), holder->cfg.embed_dim};
  const size_t frame = (size_t)(ep.hw * ep.D);
  AcMemoryOptions o;
  o.window = 4;
  o.keep = 2;
  const std::string path = temp_path("continue");
  // Reference: one memory for 9 commits; predictions of commits 5..8.
  MemRig ref(holder.get(), o);
  std::vector<std::vector<float>> ref_pred;
  auto run = [&](MemRig& rig, int from, int to, std::vector<std::vector<float>>* preds) {
    run_commits(ep, rig, from, to, preds);
  };
  run(ref, 0, 5, nullptr);
  REQUIRE(ac_memory_save(ref.mem, path.c_str(), ref.scratch.arena).is_ok());  // saved after commit 4 (f32 K/V)
  run(ref, 5, 9, &ref_pred);

  struct Mode {
    KvStorage kv;
    double tol;
    const char* name;
  };
  const Mode modes[4] = {{KvStorage::f32, 0.0, "f32"},
                         {KvStorage::none, 2e-5, "none (re-prefill)"},
                         {KvStorage::f16, 5e-3, "f16"},
                         {KvStorage::q8, 1e-1, "q8"}};
  for (const Mode& mode : modes) {
    // The "saved" state for this storage: re-create it from a fresh run.
    MemRig src(holder.get(), o);
    run(src, 0, 5, nullptr);
    MemorySaveOptions so;
    so.kv = mode.kv;
    so.model_id = 0xABCD;
    REQUIRE(ac_memory_save(src.mem, path.c_str(), src.scratch.arena, so).is_ok());
    MemRig dst(holder.get(), o);
    const Status st = ac_memory_load(dst.mem, path.c_str(), ParallelFor(), dst.scratch.arena, 0xABCD);
    REQUIRE_MESSAGE(st.is_ok(), st.message());
    CHECK(dst.mem.committed() == src.mem.committed());
    CHECK(dst.mem.total_committed == 5);
    CHECK(max_abs_diff(dst.mem.frame(), src.mem.frame(), frame) == 0.0);
    std::vector<std::vector<float>> preds;
    run(dst, 5, 9, &preds);
    double worst = 0;
    for (size_t i = 0; i < preds.size(); ++i) worst = std::fmax(worst, max_abs_diff(preds[i].data(), ref_pred[i].data(), frame));
    MESSAGE("K/V storage ", std::string(mode.name), ": file ", ac_memory_file_bytes(src.mem, mode.kv),
            " bytes, max |prediction - never stopped| over 4 commits = ", worst);
    if (mode.tol == 0.0) CHECK(worst == 0.0);
    else CHECK(worst <= mode.tol);
    // A different model id is refused.
    CHECK(ac_memory_load(dst.mem, path.c_str(), ParallelFor(), dst.scratch.arena, 0x1234).code() ==
          Error::shape_mismatch);
  }
  std::remove(path.c_str());
}

// A memory whose cache holds f16 or q8 K/V (AcMemoryOptions::kv_dtype) saves
// them in its own storage (kv_storage_of) and restores bit for bit: the
// continuation equals never stopping exactly. Other storages convert through
// f32 and stay within the storage's rounding.
TEST_CASE("f16 and q8 memory caches: save, restore and continue == never stopping") {
  auto holder = plantest::random_ac_model(mem_config(), 34);
  REQUIRE(holder->status.is_ok());
  const Episode ep{holder->cfg.patches_per_step(), holder->cfg.embed_dim};
  const size_t frame = (size_t)(ep.hw * ep.D);
  auto run = [&](MemRig& rig, int from, int to, std::vector<std::vector<float>>* preds) {
    run_commits(ep, rig, from, to, preds);
  };
  const std::string path = temp_path("kvdtype");
  for (ops::KvDtype dtype : {ops::KvDtype::f16, ops::KvDtype::q8}) {
    AcMemoryOptions o;
    o.window = 4;
    o.keep = 2;
    o.kv_dtype = dtype;
    MemRig ref(holder.get(), o);
    std::vector<std::vector<float>> ref_pred;
    run(ref, 0, 5, nullptr);
    run(ref, 5, 9, &ref_pred);
    for (KvStorage kv : {kv_storage_of(dtype), KvStorage::f32, KvStorage::q8_heads}) {
      MemRig src(holder.get(), o);
      run(src, 0, 5, nullptr);
      MemorySaveOptions so;
      so.kv = kv;
      REQUIRE(ac_memory_save(src.mem, path.c_str(), src.scratch.arena, so).is_ok());
      MemRig dst(holder.get(), o);
      const Status st = ac_memory_load(dst.mem, path.c_str(), ParallelFor(), dst.scratch.arena);
      REQUIRE_MESSAGE(st.is_ok(), st.message());
      std::vector<std::vector<float>> preds;
      run(dst, 5, 9, &preds);
      double worst = 0;
      for (size_t i = 0; i < preds.size(); ++i)
        worst = std::fmax(worst, max_abs_diff(preds[i].data(), ref_pred[i].data(), frame));
      MESSAGE(std::string(ops::kv_dtype_name(dtype)) << " cache, file storage " << (unsigned)kv << ": "
              << ac_memory_file_bytes(src.mem, kv) << " bytes, max |prediction - never stopped| = " << worst);
      if (kv == kv_storage_of(dtype)) CHECK(worst == 0.0);
      else CHECK(worst <= 1e-1);
    }
  }
  std::remove(path.c_str());
}

TEST_CASE("a save interrupted anywhere leaves the old or the new memory, loadable") {
  auto holder = plantest::random_ac_model(mem_config(), 33);
  REQUIRE(holder->status.is_ok());
  const Episode ep{holder->cfg.patches_per_step(), holder->cfg.embed_dim};
  AcMemoryOptions o;
  o.window = 4;
  o.keep = 2;
  MemRig rig(holder.get(), o);
  const std::string path = temp_path("crash");
  auto commit = [&](int t) {
    const std::vector<float> z = ep.obs(t);
    double p[7];
    float a[7];
    ep.pose(t, p);
    ep.action(t, a);
    REQUIRE(ac_memory_observe(rig.mem, z.data(), p).is_ok());
    REQUIRE(ac_memory_commit(rig.mem, ParallelFor(), rig.scratch.arena, a).is_ok());
  };
  auto read_file = [](const std::string& f) {
    std::vector<uint8_t> v;
    FILE* fp = std::fopen(f.c_str(), "rb");
    if (!fp) return v;
    uint8_t buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, fp)) > 0) v.insert(v.end(), buf, buf + n);
    std::fclose(fp);
    return v;
  };
  auto write_plain = [](const std::string& f, const std::vector<uint8_t>& v) {
    FILE* fp = std::fopen(f.c_str(), "wb");
    REQUIRE(fp != nullptr);
    REQUIRE(std::fwrite(v.data(), 1, v.size(), fp) == v.size());
    std::fclose(fp);
  };
  commit(0);
  commit(1);
  REQUIRE(ac_memory_save(rig.mem, path.c_str(), rig.scratch.arena).is_ok());
  const std::vector<uint8_t> old_bytes = read_file(path);
  const int64_t old_steps = rig.mem.committed();
  commit(2);
  const int64_t new_steps = rig.mem.committed();
  REQUIRE(old_steps != new_steps);
  std::vector<uint8_t> new_bytes(ac_memory_file_bytes(rig.mem, KvStorage::f32));
  REQUIRE(ac_memory_serialize(rig.mem, new_bytes.data(), new_bytes.size(), rig.scratch.arena).is_ok());

  struct Injector {
    int target, calls;
    io::HookAction action;
    size_t max_write;
    static io::HookAction before(void* ctx, io::WriteStage stage, size_t, size_t* bytes) {
      Injector& in = *static_cast<Injector*>(ctx);
      if (stage == io::WriteStage::write && in.max_write && *bytes > in.max_write) *bytes = in.max_write;
      return in.calls++ == in.target ? in.action : io::HookAction::proceed;
    }
  };
  int checked = 0, saw_old = 0, saw_new = 0;
  for (io::HookAction action : {io::HookAction::crash, io::HookAction::fail}) {
    for (size_t max_write : {(size_t)0, (size_t)977}) {
      for (int k = 0;; ++k) {
        write_plain(path, old_bytes);  // the old memory is on disk before every attempt
        Injector in{k, 0, action, max_write};
        io::WriteHook hook{&Injector::before, &in};
        MemorySaveOptions so;
        so.hook = &hook;
        const Status st = ac_memory_save(rig.mem, path.c_str(), rig.scratch.arena, so);
        if (st.is_ok()) break;  // k is past the last hook call: a whole save happened
        CHECK(st.code() == Error::io);
        const std::vector<uint8_t> now = read_file(path);
        const bool is_old = now == old_bytes, is_new = now == new_bytes;
        MemRig back(holder.get(), o);
        const Status ld = ac_memory_load(back.mem, path.c_str(), ParallelFor(), back.scratch.arena);
        INFO("action ", (int)action, " max_write ", max_write, " hook call ", k, ": ", ld.message());
        CHECK((is_old || is_new));
        REQUIRE(ld.is_ok());
        CHECK(back.mem.committed() == (is_new ? new_steps : old_steps));
        saw_old += is_old;
        saw_new += is_new;
        ++checked;
      }
    }
  }
  MESSAGE(checked, " interrupted saves: ", saw_old, " left the old memory, ", saw_new, " the new one");
  CHECK(checked > 20);
  CHECK(saw_old > 0);
  CHECK(saw_new > 0);
  std::remove(path.c_str());
}

TEST_CASE("truncated, corrupted and foreign memory files give clear errors") {
  auto holder = plantest::random_ac_model(mem_config(), 34);
  REQUIRE(holder->status.is_ok());
  const Episode ep{holder->cfg.patches_per_step(), holder->cfg.embed_dim};
  AcMemoryOptions o;
  o.window = 3;
  o.keep = 1;
  MemRig rig(holder.get(), o);
  for (int t = 0; t < 2; ++t) {
    const std::vector<float> z = ep.obs(t);
    double p[7];
    float a[7];
    ep.pose(t, p);
    ep.action(t, a);
    REQUIRE(ac_memory_observe(rig.mem, z.data(), p).is_ok());
    REQUIRE(ac_memory_commit(rig.mem, ParallelFor(), rig.scratch.arena, a).is_ok());
  }
  std::vector<uint8_t> good(ac_memory_file_bytes(rig.mem, KvStorage::f32));
  size_t written = 0;
  REQUIRE(ac_memory_serialize(rig.mem, good.data(), good.size(), rig.scratch.arena, MemorySaveOptions(), &written)
              .is_ok());
  CHECK(written == good.size());
  MemRig dst(holder.get(), o);
  auto restore = [&](const std::vector<uint8_t>& b) {
    return ac_memory_restore(dst.mem, b.data(), b.size(), ParallelFor(), dst.scratch.arena).code();
  };
  REQUIRE(restore(good) == Error::ok);

  // Every truncation is refused (header-sized prefixes: truncated; in the payload: truncated).
  for (size_t n = 0; n < good.size(); n += (n < 256 ? 1 : 211)) {
    std::vector<uint8_t> cut(good.begin(), good.begin() + n);
    const Error e = restore(cut);
    INFO("truncated to ", n, " bytes");
    CHECK(e == Error::truncated);
  }
  // One flipped bit anywhere is caught (by the header or the payload CRC, or
  // by the magic check for the first 8 bytes).
  for (size_t i = 0; i < good.size(); i += (i < 128 ? 1 : 97)) {
    std::vector<uint8_t> bad = good;
    bad[i] ^= 0x10;
    const Error e = restore(bad);
    INFO("bit flipped in byte ", i);
    CHECK(e != Error::ok);
    if (i >= 128) CHECK(e == Error::tensor_crc_mismatch);
    if (i >= 8 && i < 128) CHECK(e == Error::header_crc_mismatch);
  }
  std::vector<uint8_t> longer = good;
  longer.push_back(0);
  CHECK(restore(longer) == Error::bad_file_size);

  // A memory of another model shape, or a window too small for the file.
  models::AcPredictorConfig other = mem_config();
  other.depth = 3;
  auto h2 = plantest::random_ac_model(other, 35);
  REQUIRE(h2->status.is_ok());
  MemRig foreign(h2.get(), o);
  CHECK(ac_memory_restore(foreign.mem, good.data(), good.size(), ParallelFor(), foreign.scratch.arena).code() ==
        Error::shape_mismatch);
  AcMemoryOptions small = o;
  small.window = 1;
  small.keep = 0;
  MemRig tiny(holder.get(), small);
  CHECK(ac_memory_restore(tiny.mem, good.data(), good.size(), ParallelFor(), tiny.scratch.arena).code() ==
        Error::out_of_range);
  // Missing file.
  CHECK(ac_memory_load(dst.mem, "/nonexistent/jepa-memory.bin", ParallelFor(), dst.scratch.arena).code() ==
        Error::io);
  // The failed restores left the last good state in place.
  CHECK(dst.mem.committed() == 2);
}

TEST_CASE("memory argument errors") {
  auto holder = plantest::random_ac_model(mem_config(), 36);
  REQUIRE(holder->status.is_ok());
  AcMemoryOptions o;
  o.window = 2;
  o.keep = 2;  // keep must be < window
  Buffer b(ac_memory_arena_bytes(holder->cfg, AcMemoryOptions()));
  AcMemory m;
  CHECK(ac_memory_create(holder->model(), o, b.arena, &m).code() == Error::invalid_argument);
  o.keep = 1;
  REQUIRE(ac_memory_create(holder->model(), o, b.arena, &m).is_ok());
  float a[7] = {0};
  CHECK(ac_memory_commit(m, ParallelFor(), b.arena, a).code() == Error::invalid_argument);  // nothing observed
}
