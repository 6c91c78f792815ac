// tests/models/test_repack_load.cpp: the load-time repack (kernels/repack.hpp)
// on whole model files. A file in the canonical row_major layout, repacked
// for this CPU's kernel table, must (a) hold exactly the bytes jepa-convert
// writes for the standard panels, (b) bind and run the kernels the panel file
// runs, with bit-identical outputs, and (c) cost nothing for a file already
// in the panels or when the table has no kernel for any layout (ISA capped to
// the scalar reference). Bad buffers give an error and leave the file usable.
#include <doctest/doctest.h>

#include <cstring>
#include <vector>

#include "jepa/kernels/repack.hpp"
#include "jepa/models/kinds.hpp"
#include "models/golden_models.hpp"
#include "models/random_models.hpp"

namespace {

namespace models = jepa::models;
namespace kernels = jepa::kernels;
using jepa::format::DType;
using jepa::format::Layout;
using Encoder = randmodel::Model<models::Vjepa2EncoderConfig, models::Vjepa2EncoderWeights>;

struct Aligned {
  std::vector<uint8_t> raw;
  uint8_t* p;
  explicit Aligned(size_t n) : raw(n + 128) { p = raw.data() + ((64 - ((uintptr_t)raw.data() & 63)) & 63); }
};

std::vector<float> encode(const models::Vjepa2EncoderWeights& w, const models::Vjepa2EncoderConfig& c) {
  const std::vector<float> video = randmodel::random_values((size_t)(c.in_chans * c.num_frames * c.img_height *
                                                                     c.img_width), 9);
  models::Vjepa2EncoderInput in;
  in.video = video.data();
  in.frames = c.num_frames;
  in.height = c.img_height;
  in.width = c.img_width;
  golden::ArenaBuffer buf(models::vjepa2_encoder_arena_bytes(c, in));
  std::vector<float> out((size_t)(in.out_tokens(c) * c.embed_dim));
  const jepa::Status s = models::vjepa2_encoder_forward(w, c, jepa::ParallelFor(), buf.arena, in, out.data());
  REQUIRE_MESSAGE(s.is_ok(), s.message());
  return out;
}

// Matrices of the file whose layout no kernel of t reads as stored.
size_t matrices_without_kernel(const jepa::ModelFile& f, const kernels::KernelTable& t) {
  size_t n = 0;
  for (size_t i = 0; i < f.tensor_count(); ++i) {
    kernels::WeightMatrix w;
    if (kernels::repack_candidate(f.tensor(i), &w) && t.find(w) == nullptr) ++n;
  }
  return n;
}

}  // namespace

TEST_CASE("repack at load: row_major q8/q4/f16/bf16 files run as their panel conversions, bit for bit") {
  const kernels::KernelTable& t = kernels::default_table();
  for (DType dt : {DType::q8, DType::q4, DType::f16, DType::bf16}) {
    CAPTURE(jepa::format::dtype_name(dt));
    Encoder canon, panel;
    REQUIRE_MESSAGE(canon.build(randmodel::vjepa2_encoder_config(), {dt, Layout::row_major}, 1), canon.error);
    REQUIRE_MESSAGE(panel.build(randmodel::vjepa2_encoder_config(), {dt, Layout::panel}, 1), panel.error);
    const kernels::RepackPlan plan = kernels::plan_repack(canon.file, t);
    CHECK(kernels::plan_repack(panel.file, t).tensors == 0);  // the converter's default runs in place
    if (plan.tensors == 0) {
      // No kernel for any layout of this dtype here (e.g. a scalar-only build): nothing to do.
      CHECK(matrices_without_kernel(canon.file, t) == matrices_without_kernel(panel.file, t));
      continue;
    }
    CHECK(plan.tensors == matrices_without_kernel(canon.file, t));
    Aligned buf((size_t)plan.bytes);
    std::vector<jepa::TensorOverride> table(canon.file.tensor_count());
    const jepa::Status s = kernels::repack_weights(&canon.file, t, table.data(), table.size(), buf.p, plan.bytes);
    REQUIRE_MESSAGE(s.is_ok(), s.message());
    CHECK(matrices_without_kernel(canon.file, t) == 0);
    // (a) the same bytes as the panel file, tensor by tensor.
    size_t compared = 0;
    for (size_t i = 0; i < canon.file.tensor_count(); ++i) {
      const jepa::TensorInfo a = canon.file.tensor(i), b = panel.file.tensor(i);
      REQUIRE(std::strcmp(a.name, b.name) == 0);
      if (!table[i].data) continue;
      CAPTURE(a.name);
      CHECK(a.layout == Layout::panel);
      REQUIRE(a.bytes == b.bytes);
      CHECK(std::memcmp(a.layout_params, b.layout_params, 6 * sizeof(uint32_t)) == 0);
      CHECK(std::memcmp(a.data, b.data, (size_t)a.bytes) == 0);
      ++compared;
    }
    CHECK(compared == plan.tensors);
    // (b) bound after the repack, the model runs what the panel file runs.
    jepa::Result<models::Vjepa2EncoderWeights> w = models::Vjepa2EncoderWeights::bind(canon.file, canon.cfg);
    REQUIRE(w.is_ok());
    const std::vector<float> got = encode(w.value(), canon.cfg), want = encode(*panel.w, panel.cfg);
    REQUIRE(got.size() == want.size());
    CHECK(std::memcmp(got.data(), want.data(), got.size() * 4) == 0);
    // The file's own bytes are untouched: clearing the overrides gives the canonical view back.
    canon.file.set_overrides(nullptr);
    CHECK(kernels::plan_repack(canon.file, t).tensors == plan.tensors);
  }
}

TEST_CASE("repack at load: capped to the scalar reference there is nothing to repack") {
  Encoder canon;
  REQUIRE_MESSAGE(canon.build(randmodel::vjepa2_encoder_config(), {DType::q8, Layout::row_major}, 1), canon.error);
  const kernels::KernelTable scalar = kernels::choose_kernels(kernels::cpu_features(), (int)kernels::Isa::scalar);
  const kernels::RepackPlan plan = kernels::plan_repack(canon.file, scalar);
  CHECK(plan.tensors == 0);
  CHECK(plan.bytes == 0);
  std::vector<jepa::TensorOverride> table(canon.file.tensor_count());
  CHECK(kernels::repack_weights(&canon.file, scalar, table.data(), table.size(), nullptr, 0).is_ok());
  CHECK(canon.file.overrides() == nullptr);
#if !defined(JEPA_NO_HEAP)
  kernels::RepackedWeights owned;
  CHECK(owned.apply(&canon.file, scalar).is_ok());
  CHECK(owned.plan().tensors == 0);
#endif
}

TEST_CASE("repack at load: a short buffer, a short table or a misaligned buffer is an error, the file stays usable") {
  const kernels::KernelTable& t = kernels::default_table();
  Encoder canon;
  REQUIRE_MESSAGE(canon.build(randmodel::vjepa2_encoder_config(), {DType::q8, Layout::row_major}, 1), canon.error);
  const kernels::RepackPlan plan = kernels::plan_repack(canon.file, t);
  if (plan.tensors == 0) {
    MESSAGE("this kernel table reads row_major q8 as it is: nothing to repack");
    return;
  }
  const std::vector<float> before = encode(*canon.w, canon.cfg);
  Aligned buf((size_t)plan.bytes + 64);
  std::vector<jepa::TensorOverride> table(canon.file.tensor_count());
  jepa::Status s = kernels::repack_weights(&canon.file, t, table.data(), table.size(), buf.p, plan.bytes - 1);
  CHECK(s.code() == jepa::Error::out_of_memory);
  s = kernels::repack_weights(&canon.file, t, table.data(), table.size() - 1, buf.p, plan.bytes);
  CHECK(s.code() == jepa::Error::invalid_argument);
  s = kernels::repack_weights(&canon.file, t, table.data(), table.size(), buf.p + 1, plan.bytes);
  CHECK(s.code() == jepa::Error::invalid_argument);
  CHECK(canon.file.overrides() == nullptr);
  jepa::Result<models::Vjepa2EncoderWeights> w = models::Vjepa2EncoderWeights::bind(canon.file, canon.cfg);
  REQUIRE(w.is_ok());
  const std::vector<float> after = encode(w.value(), canon.cfg);
  CHECK(std::memcmp(before.data(), after.data(), before.size() * 4) == 0);
#if !defined(JEPA_NO_HEAP)
  kernels::RepackedWeights owned;  // the hosted owner allocates exactly the plan
  REQUIRE(owned.apply(&canon.file, t).is_ok());
  CHECK(owned.plan().bytes == plan.bytes);
  CHECK(canon.file.overrides() != nullptr);
#endif
}
