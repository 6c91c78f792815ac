// tools/common/compare.hpp: error statistics of a computed tensor against a
// reference, and the two tolerance rules of the golden manifests:
//  * fp32:          |x - ref| <= atol + rtol * |ref| for every element;
//  * int8 weights:  rel_l2 = ||x - ref|| / ||ref|| <= rel_l2_max,
//                   cosine(x, ref) >= cosine_min, max |x - ref| <= max_abs.
// Sums run in double so the statistics themselves add no error worth naming.
#ifndef JEPA_TOOLS_COMMON_COMPARE_HPP
#define JEPA_TOOLS_COMMON_COMPARE_HPP

#include <cmath>
#include <cstddef>
#include <cstdint>

namespace jepa {
namespace compare {

struct Stats {
  double max_abs = 0.0;      // max |x - ref|
  int64_t worst = -1;        // index of the element that uses most of the fp32 tolerance
  double worst_x = 0.0, worst_ref = 0.0;
  double rel_l2 = 0.0;       // ||x - ref|| / ||ref|| (0 when both are 0)
  double cosine = 1.0;       // <x, ref> / (||x|| ||ref||) (1 when both are 0)
  double tol_used = 0.0;     // max over elements of |x - ref| / (atol + rtol |ref|) (max |x - ref| if both 0)
  int64_t violations = 0;    // elements over the fp32 tolerance
  int64_t non_finite = 0;    // NaN/Inf in x
};

struct Tolerance {
  bool elementwise = true;   // fp32 rule; false: the int8 rule
  double atol = 0.0, rtol = 0.0;
  double rel_l2_max = 0.0, cosine_min = 0.0, max_abs = 0.0;
};

inline Stats compute(const float* x, const float* ref, int64_t n, double atol = 0.0, double rtol = 0.0) {
  Stats s;
  double d2 = 0.0, r2 = 0.0, x2 = 0.0, xr = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    const double a = x[i], b = ref[i];
    if (!std::isfinite(a)) {
      ++s.non_finite;
      continue;
    }
    const double d = std::fabs(a - b);
    d2 += d * d;
    r2 += b * b;
    x2 += a * a;
    xr += a * b;
    if (d > s.max_abs) s.max_abs = d;
    const double allowed = atol + rtol * std::fabs(b);
    // Without an elementwise tolerance (the int8 rule) the worst element is the largest error.
    const double used = allowed > 0 ? d / allowed : d;
    if (allowed > 0 && used > 1.0) ++s.violations;
    if (used > s.tol_used || s.worst < 0) {
      if (used > s.tol_used) s.tol_used = used;
      s.worst = i;
      s.worst_x = a;
      s.worst_ref = b;
    }
  }
  s.rel_l2 = r2 > 0 ? std::sqrt(d2 / r2) : (d2 > 0 ? INFINITY : 0.0);
  s.cosine = (x2 > 0 && r2 > 0) ? xr / std::sqrt(x2 * r2) : (x2 == 0 && r2 == 0 ? 1.0 : 0.0);
  return s;
}

inline bool passes(const Stats& s, const Tolerance& t) {
  if (s.non_finite > 0) return false;
  if (t.elementwise) return s.violations == 0;
  return s.rel_l2 <= t.rel_l2_max && s.cosine >= t.cosine_min && s.max_abs <= t.max_abs;
}

}  // namespace compare
}  // namespace jepa

#endif  // JEPA_TOOLS_COMMON_COMPARE_HPP
