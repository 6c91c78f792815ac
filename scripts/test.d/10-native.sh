# Native Release build of everything (tests, tools, examples) and the whole ctest suite.
set -euo pipefail
B=build-ci/release
cmake -S . -B $B -DCMAKE_BUILD_TYPE=Release -DJEPA_BUILD_TESTS=ON -DJEPA_BUILD_TOOLS=ON \
  -DJEPA_BUILD_EXAMPLES=ON
cmake --build $B -j"$JEPA_JOBS"
ctest --test-dir $B --output-on-failure -j"$JEPA_JOBS"
