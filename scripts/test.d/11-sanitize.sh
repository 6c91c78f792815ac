# ASan + UBSan build of the tests and tools (any finding fails the run).
set -euo pipefail
B=build-ci/sanitize
cmake -S . -B $B -DCMAKE_BUILD_TYPE=RelWithDebInfo -DJEPA_SANITIZE=ON -DJEPA_BUILD_TESTS=ON \
  -DJEPA_BUILD_TOOLS=ON -DJEPA_BUILD_EXAMPLES=OFF
cmake --build $B -j"$JEPA_JOBS"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir $B --output-on-failure -j"$JEPA_JOBS"
