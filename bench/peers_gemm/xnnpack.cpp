// bench/peers_gemm/xnnpack.cpp: XNNPACK fully-connected operators as bench_gemm
// peers. Debian's XNNPACK (git 2022-02-16) has fully_connected_nc_f32 and the
// static-int8 fully_connected_nc_qs8 (int8 in AND out, one scale for all of W),
// not the later dynamic qd8 operators that would match jepa-rt's q8 path; the
// qs8 row measures its int8 GEMM, output requantisation included. Weights are
// packed at operator creation (untimed); threads from pthreadpool (which the
// Debian package does not depend on: CMake finds it separately).
#include <pthreadpool.h>
#include <xnnpack.h>

#include <cmath>
#include <cstring>
#include <limits>

#include "../common/gemm_case.hpp"

namespace jepa_bench {
namespace {

bool init_xnnpack(std::string* why) {
  static const xnn_status status = xnn_initialize(nullptr);
  if (status != xnn_status_success) {
    *why = "xnn_initialize failed (CPU not supported?)";
    return false;
  }
  return true;
}

// Owns the operators (one per weight copy) and the thread pool.
class XnnBase : public GemmRunner {
 public:
  explicit XnnBase(const GemmCase& c) : c_(c) {
    if (c.threads > 1) pool_ = pthreadpool_create((size_t)c.threads);
  }
  ~XnnBase() override {
    for (xnn_operator_t op : ops_) xnn_delete_operator(op);
    if (pool_ != nullptr) pthreadpool_destroy(pool_);
  }
  void run() override {
    xnn_operator_t op = ops_[next_];
    next_ = (next_ + 1) % ops_.size();
    xnn_run_operator(op, pool_);
  }

 protected:
  GemmCase c_;
  pthreadpool_t pool_ = nullptr;
  std::vector<xnn_operator_t> ops_;
  size_t next_ = 0;
};

class XnnF32 final : public XnnBase {
 public:
  explicit XnnF32(const GemmCase& c) : XnnBase(c) {
    // XNNPACK may read XNN_EXTRA_BYTES past the end of the input.
    x_.assign((size_t)c.m * c.k + XNN_EXTRA_BYTES / sizeof(float), 0.0f);
    std::memcpy(x_.data(), c.x, sizeof(float) * (size_t)c.m * c.k);
    y_.assign((size_t)c.m * c.n, 0.0f);
  }
  bool build(std::string* why) {
    const float inf = std::numeric_limits<float>::infinity();
    for (int i = 0; i < c_.copies; ++i) {
      xnn_operator_t op = nullptr;
      if (xnn_create_fully_connected_nc_f32((size_t)c_.k, (size_t)c_.n, (size_t)c_.k, (size_t)c_.n, c_.w, c_.bias,
                                            -inf, inf, 0, &op) != xnn_status_success) {
        *why = "xnn_create_fully_connected_nc_f32 failed";
        return false;
      }
      ops_.push_back(op);
      if (xnn_setup_fully_connected_nc_f32(op, (size_t)c_.m, x_.data(), y_.data(), pool_) != xnn_status_success) {
        *why = "xnn_setup_fully_connected_nc_f32 failed";
        return false;
      }
    }
    return true;
  }
  float out(int m, int n) const override { return y_[(size_t)m * c_.n + n]; }
  double weight_bytes() const override { return 4.0 * c_.n * c_.k; }

 private:
  std::vector<float> x_, y_;
};

class XnnQs8 final : public XnnBase {
 public:
  explicit XnnQs8(const GemmCase& c) : XnnBase(c) {
    // Per-tensor scales (all this XNNPACK supports); inputs in [-1, 1].
    std::vector<int8_t> row((size_t)c.k);
    x_.assign((size_t)c.m * c.k + XNN_EXTRA_BYTES, 0);
    x_scale_ = 1.0f / 127.0f;
    for (size_t i = 0; i < (size_t)c.m * c.k; ++i) x_[i] = (int8_t)std::nearbyint(c.x[i] / x_scale_);
    float wmax = 0.0f;
    for (size_t i = 0; i < (size_t)c.n * c.k; ++i) wmax = std::max(wmax, std::fabs(c.w[i]));
    w_scale_ = wmax > 0.0f ? wmax / 127.0f : 1.0f;
    w_.resize((size_t)c.n * c.k);
    for (size_t i = 0; i < w_.size(); ++i) w_[i] = (int8_t)std::nearbyint(c.w[i] / w_scale_);
    bias_.resize((size_t)c.n);
    for (int j = 0; j < c.n; ++j) bias_[j] = (int32_t)std::nearbyint(c.bias[j] / (x_scale_ * w_scale_));
    // |y| <= ~sqrt(K) for random data in [-1,1]; 4 sqrt(K) keeps clipping rare.
    y_scale_ = 4.0f * std::sqrt((float)c.k) / 127.0f;
    y_.assign((size_t)c.m * c.n, 0);
  }
  bool build(std::string* why) {
    for (int i = 0; i < c_.copies; ++i) {
      xnn_operator_t op = nullptr;
      if (xnn_create_fully_connected_nc_qs8((size_t)c_.k, (size_t)c_.n, (size_t)c_.k, (size_t)c_.n, 0, x_scale_,
                                            w_scale_, w_.data(), bias_.data(), 0, y_scale_, -128, 127, 0,
                                            &op) != xnn_status_success) {
        *why = "xnn_create_fully_connected_nc_qs8 failed";
        return false;
      }
      ops_.push_back(op);
      if (xnn_setup_fully_connected_nc_qs8(op, (size_t)c_.m, x_.data(), y_.data(), pool_) != xnn_status_success) {
        *why = "xnn_setup_fully_connected_nc_qs8 failed";
        return false;
      }
    }
    return true;
  }
  float out(int m, int n) const override { return (float)y_[(size_t)m * c_.n + n] * y_scale_; }
  double weight_bytes() const override { return 1.0 * c_.n * c_.k; }
  // Per-tensor int8 of x and W, then the int8 output: half an output step
  // more (one for safety), plus the int32 bias rounding (negligible).
  double weight_step(int) const override { return w_scale_; }
  double act_step(int) const override { return x_scale_; }
  double abs_tol() const override { return 1.0 * y_scale_; }

 private:
  std::vector<int8_t> x_, w_, y_;
  std::vector<int32_t> bias_;
  float x_scale_ = 1.0f, w_scale_ = 1.0f, y_scale_ = 1.0f;
};

template <class T>
RunnerPtr make(const GemmCase& c, std::string* why) {
  if (!init_xnnpack(why)) return nullptr;
  std::unique_ptr<T> r(new T(c));
  if (!r->build(why)) return nullptr;
  return RunnerPtr(r.release());
}

}  // namespace

RunnerPtr make_xnnpack_f32(const GemmCase& c, std::string* why) { return make<XnnF32>(c, why); }
RunnerPtr make_xnnpack_qs8(const GemmCase& c, std::string* why) { return make<XnnQs8>(c, why); }

}  // namespace jepa_bench
