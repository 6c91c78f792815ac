// bench/peers_gemm/eigen.cpp: Eigen's float GEMM as a bench_gemm peer.
//
// Eigen picks its SIMD width at compile time, so CMake builds this file (only)
// with -march=native: the peer gets the best code it can have on this machine.
// Threads come from OpenMP when the bench was built with it (Eigen::setNbThreads);
// without OpenMP only the 1-thread rows exist. No int8 row: Eigen has no int8
// GEMM kernel (an int32 matrix product is not a fair stand-in for one).
#include <Eigen/Core>

#include "../common/gemm_case.hpp"

namespace jepa_bench {
namespace {

using RowMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

class EigenF32 final : public GemmRunner {
 public:
  explicit EigenF32(const GemmCase& c)
      : c_(c), x_(Eigen::Map<const RowMatrix>(c.x, c.m, c.k)), y_(c.m, c.n),
        bias_(Eigen::Map<const Eigen::RowVectorXf>(c.bias, c.n)) {
    for (int i = 0; i < c.copies; ++i) w_.emplace_back(Eigen::Map<const RowMatrix>(c.w, c.n, c.k));
  }
  void run() override {
    Eigen::setNbThreads(c_.threads);
    const RowMatrix& w = w_[next_];
    next_ = (next_ + 1) % w_.size();
    y_.noalias() = x_ * w.transpose();
    y_.rowwise() += bias_;
  }
  float out(int m, int n) const override { return y_(m, n); }
  double weight_bytes() const override { return 4.0 * c_.n * c_.k; }

 private:
  GemmCase c_;
  RowMatrix x_;
  RowMatrix y_;
  Eigen::RowVectorXf bias_;
  std::vector<RowMatrix> w_;
  size_t next_ = 0;
};

}  // namespace

RunnerPtr make_eigen_f32(const GemmCase& c, std::string* why) {
#if !defined(EIGEN_HAS_OPENMP) && !defined(_OPENMP)
  if (c.threads > 1) {
    *why = "Eigen built without OpenMP: single-threaded only";
    return nullptr;
  }
#endif
  (void)why;
  return RunnerPtr(new EigenF32(c));
}

}  // namespace jepa_bench
