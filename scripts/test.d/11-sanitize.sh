# ASan + UBSan build of the tests, tools and examples, compiled the way
# firmware builds them (-fno-exceptions -fno-rtti): one build checks both (any
# sanitizer finding fails the run). -O1 with line tables keeps the build short
# and the stack traces readable; JEPA_TEST_SMALL=1 trims the kernel grids.
set -euo pipefail
B=build-ci/sanitize
cmake -S . -B $B -DCMAKE_BUILD_TYPE=None -DCMAKE_CXX_FLAGS="-O1 -g1 -DNDEBUG" -DJEPA_SANITIZE=ON -DJEPA_NO_EXCEPTIONS=ON \
  -DJEPA_BUILD_TESTS=ON -DJEPA_BUILD_TOOLS=ON -DJEPA_BUILD_EXAMPLES=ON
cmake --build $B -j"$JEPA_JOBS"
JEPA_TEST_SMALL=1 ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir $B --output-on-failure -j"$JEPA_JOBS"
