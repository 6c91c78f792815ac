# Each test file compiles on its own. Step 10 builds every test folder as one
# translation unit (JEPA_UNITY_TESTS), which would hide a file that leans on a
# sibling's includes or helpers; here each file is parsed alone (-fsyntax-only,
# with JEPA_KERNELS_EXTERN so no kernel body is compiled: about a second each).
# Reuses step 10's build for the generated sample-model array when present.
set -euo pipefail
B=build-ci/release
GEN=$B/tests/generated
if [ ! -f $GEN/sample_model_array.inc ]; then
  cmake -S . -B $B -DCMAKE_BUILD_TYPE=Release -DJEPA_BUILD_TESTS=ON >/dev/null
  cmake --build $B -j"$JEPA_JOBS" --target jepa_sample_model
fi
# kernels_emu is header-only by design (SIMDe); consumer builds against the install (step 15).
files=$(find tests -name '*.cpp' -not -path 'tests/kernels_emu/*' -not -path 'tests/consumer/*' | sort)
echo "$files" | xargs -P "$JEPA_JOBS" -I{} sh -c \
  'g++ -std=c++17 -fsyntax-only -Wall -Wextra -Werror -DJEPA_KERNELS_EXTERN=1 -Iinclude -Itests -I. -I"$1" \
     -DJEPA_TEST_DATA_DIR=\"tests/data\" -DJEPA_SAMPLE_DIR=\"$1\" -DJEPA_SOURCE_DIR=\".\" "$0" \
     || { echo "does not compile alone: $0"; exit 255; }' {} "$GEN"
echo "tests-alone: $(echo "$files" | wc -l) files compile on their own"
