// Tests of jepa-inspect --memory's planning (tools/common/memory_plan.hpp) on
// the golden models of every kind: the arena figure the report prints equals
// the high-water mark of the real forward run in an arena of exactly that
// size, one byte less fails with out_of_memory (so the figure is exact, not
// just enough), for default and explicit shapes, batches, the per-frame
// encoding and the AC rollout; bad shapes are usage errors.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "models/golden_models.hpp"
#include "tools/common/memory_plan.hpp"

namespace {

namespace memplan = jepa::memplan;
namespace models = jepa::models;

// The printed arena figure == the forward's high-water mark; capacity - 1 fails.
void check_plan(const jepa::ModelFile& f, const memplan::Request& r, bool rollout = false) {
  const jepa::Result<memplan::Plan> p = memplan::plan(f, r);
  REQUIRE_MESSAGE(p.is_ok(), p.status().message());
  const std::string report = memplan::format_plan(p.value());
  CAPTURE(report);
  const size_t planned = rollout ? p->rollout_arena_bytes : p->arena_bytes;
  CHECK(memplan::figure(report, rollout ? "rollout arena" : "arena") == (long long)planned);
  CHECK(memplan::figure(report, "weights") == (long long)p->weight_bytes);
  CHECK(p->weight_bytes > 0);
  CHECK(p->weight_bytes <= p->file_bytes);
  {
    golden::ArenaBuffer buf(planned);
    const jepa::Status s = memplan::run_planned_forward(f, p.value(), jepa::ParallelFor(), buf.arena, rollout);
    REQUIRE_MESSAGE(s.is_ok(), s.message());
    CHECK(buf.arena.peak() == planned);
    CHECK(buf.arena.used() == (rollout ? p->rollout_kv_bytes : 0));  // a rollout's cache stays; scratch is released
  }
  {
    golden::ArenaBuffer buf(planned - 1);
    const jepa::Status s = memplan::run_planned_forward(f, p.value(), jepa::ParallelFor(), buf.arena, rollout);
    CHECK(s.code() == jepa::Error::out_of_memory);
  }
}

memplan::Request req(std::vector<int64_t> shape = {}, int64_t batch = 1, bool per_frame = false) {
  memplan::Request r;
  r.shape = shape;
  r.batch = batch;
  r.per_frame = per_frame;
  return r;
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

TEST_CASE("memory plan: V-JEPA 2 encoder and predictor") {
  GoldenDir g("vjepa2_tiny");
  golden::Loaded<models::Vjepa2EncoderConfig, models::Vjepa2EncoderWeights> enc;
  REQUIRE_MESSAGE(enc.load(g.st, "encoder.", golden::vjepa2_encoder_config(g.comp("encoder"))), enc.error);
  check_plan(enc.file, req());
  check_plan(enc.file, req({8, 64, 32}, 2));
  check_plan(enc.file, req({2, 48, 48}, 1, true));
  const auto def = memplan::plan(enc.file, req());
  REQUIRE(def.is_ok());
  CHECK(def->frames == enc.cfg.num_frames);
  CHECK(def->height == enc.cfg.img_height);
  // More tokens need more memory: the figure follows the shape.
  const auto big = memplan::plan(enc.file, req({8, 64, 32}, 2));
  REQUIRE(big.is_ok());
  CHECK(big->arena_bytes > def->arena_bytes);
  CHECK(memplan::plan(enc.file, req({4})).status().code() == jepa::Error::invalid_argument);
  CHECK(memplan::plan(enc.file, req({4, 8, 8})).status().code() == jepa::Error::shape_mismatch);

  golden::Loaded<models::Vjepa2PredictorConfig, models::Vjepa2PredictorWeights> pred;
  REQUIRE_MESSAGE(pred.load(g.st, "predictor.", golden::vjepa2_predictor_config(g.comp("predictor"))), pred.error);
  check_plan(pred.file, req());
  check_plan(pred.file, req({4, 12}, 3));
  CHECK(memplan::plan(pred.file, req({10, 100})).status().code() == jepa::Error::invalid_argument);
  CHECK(memplan::plan(pred.file, req({}, 1, true)).status().code() == jepa::Error::invalid_argument);
}

TEST_CASE("memory plan: V-JEPA 2-AC predictor, teacher forcing and rollout") {
  GoldenDir g("vjepa2_ac_tiny");
  golden::Loaded<models::AcPredictorConfig, models::AcPredictorWeights> pred;
  REQUIRE_MESSAGE(pred.load(g.st, "predictor.", golden::ac_predictor_config(g.comp("predictor"))), pred.error);
  check_plan(pred.file, req({3}, 2));
  check_plan(pred.file, req({3}, 2), true);
  check_plan(pred.file, req({1}));
  const auto def = memplan::plan(pred.file, req());
  REQUIRE(def.is_ok());
  CHECK(def->steps == pred.cfg.num_frames / pred.cfg.tubelet_size);
  CHECK(def->kv_cache_bytes == models::ac_kv_cache_bytes(pred.cfg, 1, def->steps));
  CHECK(def->kv_cache_bytes < def->arena_bytes);
  const std::string report = memplan::format_plan(def.value());
  CHECK(memplan::figure(report, "  kv cache") == (long long)def->kv_cache_bytes);
}

TEST_CASE("memory plan: I-JEPA encoder and predictor") {
  GoldenDir g("ijepa_tiny");
  golden::Loaded<models::IjepaEncoderConfig, models::IjepaEncoderWeights> enc;
  REQUIRE_MESSAGE(enc.load(g.st, "encoder.", golden::ijepa_encoder_config(g.comp("encoder"))), enc.error);
  check_plan(enc.file, req());
  check_plan(enc.file, req({}, 3));
  CHECK(memplan::plan(enc.file, req({64, 64})).status().code() == jepa::Error::unsupported);
  golden::Loaded<models::IjepaPredictorConfig, models::IjepaPredictorWeights> pred;
  REQUIRE_MESSAGE(pred.load(g.st, "predictor.", golden::ijepa_predictor_config(g.comp("predictor"))), pred.error);
  check_plan(pred.file, req());
  check_plan(pred.file, req({6, 3}, 2));
}
