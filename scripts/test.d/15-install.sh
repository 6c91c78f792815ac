# Install to a temporary prefix and build a consumer project with find_package(jepa): one
# program header-only, one with JEPA_KERNELS_EXTERN and the kernels in one TU (README).
set -euo pipefail
B=build-ci/install
P=$(mktemp -d)
trap 'rm -rf "$P"' EXIT
cmake -S . -B $B -DCMAKE_BUILD_TYPE=Release -DJEPA_BUILD_TESTS=OFF -DJEPA_BUILD_TOOLS=OFF \
  -DJEPA_BUILD_EXAMPLES=OFF -DCMAKE_INSTALL_PREFIX="$P"
cmake --install $B
cmake -S tests/consumer -B $B/consumer -DCMAKE_PREFIX_PATH="$P"
cmake --build $B/consumer -j"$JEPA_JOBS"
"$B/consumer/consumer"
"$B/consumer/consumer_extern"
