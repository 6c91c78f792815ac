# The library, tests and tools built with -fno-exceptions -fno-rtti, as firmware builds them.
set -euo pipefail
B=build-ci/noexcept
cmake -S . -B $B -DCMAKE_BUILD_TYPE=Release -DJEPA_NO_EXCEPTIONS=ON -DJEPA_BUILD_TESTS=ON \
  -DJEPA_BUILD_TOOLS=ON -DJEPA_BUILD_EXAMPLES=ON
cmake --build $B -j"$JEPA_JOBS"
ctest --test-dir $B --output-on-failure -j"$JEPA_JOBS"
