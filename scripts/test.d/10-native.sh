# Native Release build of everything (tests, tools, examples) and the whole ctest suite,
# with the optional Eigen and XNNPACK Linear backends compiled in (tests/backends runs
# them against the reference and the golden tiny model; the other steps leave them OFF).
set -euo pipefail
bash scripts/install-deps.sh libeigen3-dev libxnnpack-dev libpthreadpool-dev
B=build-ci/release
cmake -S . -B $B -DCMAKE_BUILD_TYPE=Release -DJEPA_BUILD_TESTS=ON -DJEPA_BUILD_TOOLS=ON \
  -DJEPA_BUILD_EXAMPLES=ON -DJEPA_WITH_EIGEN=ON -DJEPA_WITH_XNNPACK=ON
cmake --build $B -j"$JEPA_JOBS"
ctest --test-dir $B --output-on-failure -j"$JEPA_JOBS"
