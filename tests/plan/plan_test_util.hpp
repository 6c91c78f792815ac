// tests/plan/plan_test_util.hpp: small helpers shared by the planning tests:
// reading the raw little-endian golden arrays of tests/data/<config>/ and
// elementwise comparison with the golden tolerance rule |x-ref| <= atol + rtol*|ref|,
// the golden AC predictor built from weights.safetensors, and the small pieces
// several planning tests share (an owned arena, the golden CEM settings).
#ifndef JEPA_TESTS_PLAN_TEST_UTIL_HPP
#define JEPA_TESTS_PLAN_TEST_UTIL_HPP

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

namespace plantest {

inline std::string data_path(const char* config, const char* file) {
  return std::string(JEPA_TEST_DATA_DIR) + "/" + config + "/" + file;
}

// Reads a whole .bin of float32 values; empty vector when the file is absent.
inline std::vector<float> read_f32(const std::string& path) {
  std::vector<float> v;
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return v;
  std::fseek(f, 0, SEEK_END);
  const long n = std::ftell(f);
  std::fseek(f, 0, SEEK_SET);
  v.resize((size_t)n / sizeof(float));
  if (std::fread(v.data(), sizeof(float), v.size(), f) != v.size()) v.clear();
  std::fclose(f);
  return v;
}

inline std::vector<float> golden_ac(const char* file) { return read_f32(data_path("vjepa2_ac_tiny", file)); }

struct Diff {
  double max_abs = 0;    // largest |x - ref|
  double worst_ratio = 0;  // largest |x - ref| / (atol + rtol |ref|): <= 1 passes
  size_t worst_index = 0;
};

template <class A, class B>
inline Diff compare(const A* x, const B* ref, size_t n, double atol, double rtol) {
  Diff d;
  for (size_t i = 0; i < n; ++i) {
    const double e = std::fabs((double)x[i] - (double)ref[i]);
    const double r = e / (atol + rtol * std::fabs((double)ref[i]));
    if (e > d.max_abs) d.max_abs = e;
    if (!(r <= d.worst_ratio)) {  // also catches NaN
      d.worst_ratio = r;
      d.worst_index = i;
    }
  }
  return d;
}

}  // namespace plantest

// ---- the golden AC predictor (needs the repo root on the include path) ----
#include "jepa/plan/cem.hpp"
#include "jepa/runtime/arena.hpp"
#include "plan/ac_model.hpp"
#include "tools/common/safetensors.hpp"

namespace plantest {

// An arena over a heap buffer the test owns.
struct Buffer {
  std::vector<uint8_t> bytes;
  jepa::Arena arena;
  explicit Buffer(size_t n) : bytes(n), arena(bytes.data(), n) {}
};

inline double max_abs_diff(const float* a, const float* b, size_t n) {
  double m = 0;
  for (size_t i = 0; i < n; ++i) m = std::fmax(m, std::fabs((double)a[i] - b[i]));
  return m;
}

// The CEM settings the golden planning case (tests/data/vjepa2_ac_tiny/cem.*) was made with.
inline jepa::plan::CemConfig golden_cem_config() {
  jepa::plan::CemConfig c;
  c.horizon = 2;
  c.samples = 16;
  c.topk = 4;
  c.iterations = 3;
  c.momentum_mean = 0.15;
  c.momentum_mean_gripper = 0.15;
  c.momentum_std = 0.75;
  c.momentum_std_gripper = 0.15;
  c.space.maxnorm = 0.075;
  return c;
}

// vjepa2_ac_tiny's predictor from tests/data/vjepa2_ac_tiny/weights.safetensors.
inline std::unique_ptr<AcModelHolder> golden_ac_model() {
  jepa::Result<jepa::safetensors::File> st =
      jepa::safetensors::File::open(data_path("vjepa2_ac_tiny", "weights.safetensors").c_str());
  if (!st) {
    auto h = std::make_unique<AcModelHolder>();
    h->status = st.status();
    return h;
  }
  const jepa::safetensors::File& file = st.value();
  return build_ac_model(tiny_ac_config(), [&](const char* name, const int64_t*, int, float* out, size_t n) {
    const jepa::safetensors::TensorView* t = file.find((std::string("predictor.") + name).c_str());
    std::vector<float> v;
    if (t == nullptr || !jepa::safetensors::to_f32(*t, &v).is_ok() || v.size() != n) {
      for (size_t i = 0; i < n; ++i) out[i] = NAN;  // bind succeeds, the golden comparison fails loudly
      return;
    }
    std::memcpy(out, v.data(), n * 4);
  });
}

}  // namespace plantest

#endif  // JEPA_TESTS_PLAN_TEST_UTIL_HPP
