// jepa/detail/checked.hpp: overflow-safe unsigned arithmetic for validating
// untrusted sizes and offsets. Each returns false instead of wrapping.
#ifndef JEPA_DETAIL_CHECKED_HPP
#define JEPA_DETAIL_CHECKED_HPP

#include <cstdint>

namespace jepa {
namespace detail {

inline bool add_ok(uint64_t a, uint64_t b, uint64_t* out) {
  if (a > UINT64_MAX - b) return false;
  *out = a + b;
  return true;
}

inline bool mul_ok(uint64_t a, uint64_t b, uint64_t* out) {
  if (a != 0 && b > UINT64_MAX / a) return false;
  *out = a * b;
  return true;
}

// Round a up to a multiple of m (m > 0).
inline bool round_up_ok(uint64_t a, uint64_t m, uint64_t* out) {
  if (m == 0) return false;
  uint64_t r = a % m;
  if (r == 0) { *out = a; return true; }
  return add_ok(a, m - r, out);
}

// [offset, offset+size) lies inside [0, limit).
inline bool range_ok(uint64_t offset, uint64_t size, uint64_t limit) {
  return offset <= limit && size <= limit - offset;
}

}  // namespace detail
}  // namespace jepa

#endif  // JEPA_DETAIL_CHECKED_HPP
