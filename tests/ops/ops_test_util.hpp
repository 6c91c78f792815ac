// tests/ops/ops_test_util.hpp: helpers shared by the operator tests.
#ifndef JEPA_TESTS_OPS_TEST_UTIL_HPP
#define JEPA_TESTS_OPS_TEST_UTIL_HPP

#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

namespace opstest {

// n samples of N(0, scale^2), reproducible from the seed.
inline std::vector<float> randn(size_t n, uint32_t seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.0f, scale);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  return v;
}

}  // namespace opstest

#endif  // JEPA_TESTS_OPS_TEST_UTIL_HPP
