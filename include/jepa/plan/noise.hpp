// jepa/plan/noise.hpp: where the planners' Gaussian draws come from.
//
// CEM and MPPI never call a random generator themselves: they ask a
// GaussianSource for N(0,1) draws, in the order the official loop calls
// torch.randn (per iteration, per horizon step, one [samples][4] block). That
// lets a test replay recorded torch draws (ReplayGaussian over the golden
// cem.noise) and lets users plug their own generator. CounterGaussian is the
// built-in one: counter-based (draw i is a pure function of seed and i), so a
// plan is reproducible and can be resumed at any draw index.
#ifndef JEPA_PLAN_NOISE_HPP
#define JEPA_PLAN_NOISE_HPP

#include <cmath>
#include <cstddef>
#include <cstdint>

#include "../status.hpp"

namespace jepa {
namespace plan {

// Fills out[0..n) with independent N(0,1) draws, continuing the stream.
struct GaussianSource {
  Status (*fill)(void* ctx, float* out, size_t n) = nullptr;
  void* ctx = nullptr;

  Status operator()(float* out, size_t n) const {
    if (fill == nullptr) return Status::error(Error::invalid_argument, "GaussianSource has no fill function");
    return fill(ctx, out, n);
  }
};

// Replays a recorded sequence of draws (e.g. the golden cem.noise, which is
// every torch.randn value of an official cem() call in call order). Asking
// for more than was recorded is an error, not a wrap-around.
class ReplayGaussian {
 public:
  ReplayGaussian(const float* draws, size_t count) : draws_(draws), count_(count) {}

  size_t consumed() const { return pos_; }
  size_t remaining() const { return count_ - pos_; }

  GaussianSource source() {
    GaussianSource s;
    s.fill = &ReplayGaussian::fill_thunk;
    s.ctx = this;
    return s;
  }

 private:
  static Status fill_thunk(void* ctx, float* out, size_t n) {
    ReplayGaussian& r = *static_cast<ReplayGaussian*>(ctx);
    if (n > r.count_ - r.pos_)
      return Status::error(Error::out_of_range, "recorded noise exhausted: %zu draws asked at draw %zu of %zu", n,
                           r.pos_, r.count_);
    for (size_t i = 0; i < n; ++i) out[i] = r.draws_[r.pos_ + i];
    r.pos_ += n;
    return Status::ok();
  }

  const float* draws_;
  size_t count_;
  size_t pos_ = 0;
};

namespace detail {
// SplitMix64 finaliser: a bijective 64-bit mix with full avalanche; hashing a
// counter with it gives a counter-based generator that passes BigCrush.
inline uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}
}  // namespace detail

// Built-in deterministic N(0,1): draw pair j comes from two hashed counters
// (seed, 2j) and (seed, 2j+1) through Box-Muller in double, rounded to float.
// Reproducible across platforms as far as libm's log/cos/sin agree to within
// a float ulp (all mainstream ones do).
class CounterGaussian {
 public:
  explicit CounterGaussian(uint64_t seed = 0) : key_(detail::splitmix64(seed ^ 0x6A09E667F3BCC909ull)) {}

  uint64_t position() const { return next_; }  // index of the next draw
  void seek(uint64_t draw_index) { next_ = draw_index; }

  // The value of draw i of this stream (independent of position()).
  float draw(uint64_t i) const {
    const uint64_t pair = i >> 1;
    const uint64_t a = detail::splitmix64(key_ + 2 * pair);
    const uint64_t b = detail::splitmix64(key_ + 2 * pair + 1);
    const double u1 = (double)((a >> 11) + 1) * 0x1.0p-53;  // (0, 1]: log is finite
    const double u2 = (double)(b >> 11) * 0x1.0p-53;        // [0, 1)
    const double radius = std::sqrt(-2.0 * std::log(u1));
    const double angle = 6.283185307179586476925 * u2;
    return (float)((i & 1) ? radius * std::sin(angle) : radius * std::cos(angle));
  }

  GaussianSource source() {
    GaussianSource s;
    s.fill = &CounterGaussian::fill_thunk;
    s.ctx = this;
    return s;
  }

 private:
  static Status fill_thunk(void* ctx, float* out, size_t n) {
    CounterGaussian& g = *static_cast<CounterGaussian*>(ctx);
    for (size_t i = 0; i < n; ++i) out[i] = g.draw(g.next_ + i);
    g.next_ += n;
    return Status::ok();
  }

  uint64_t key_;
  uint64_t next_ = 0;
};

}  // namespace plan
}  // namespace jepa

#endif  // JEPA_PLAN_NOISE_HPP
