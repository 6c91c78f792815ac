#!/usr/bin/env bash
# The main job, from a fresh Debian 12 machine: installs what it needs, builds
# the tools, and runs them. Until the model conversions land this writes the
# sample model and inspects it; it grows with the project.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
B=build-demo
cmake -S . -B $B -DCMAKE_BUILD_TYPE=Release -DJEPA_BUILD_TESTS=ON -DJEPA_BUILD_TOOLS=ON >/dev/null
cmake --build $B -j"$(nproc)" --target jepa-inspect jepa_sample_model
echo "--- jepa-inspect on the sample model the build wrote"
$B/tools/jepa-inspect $B/tests/generated/sample.jepa
echo "--- and on a truncated copy (must be rejected with a clear message)"
head -c 1000 $B/tests/generated/sample.jepa > $B/truncated.jepa
if $B/tools/jepa-inspect $B/truncated.jepa; then echo "demo: truncated file accepted" >&2; exit 1; fi
