# jepa-inspect --memory on the golden models of every kind: the memory plan
# prints an arena figure, and --run runs that forward and finds its arena
# high-water mark equal to the plan (exit 1 otherwise). Reuses step 10's build.
set -euo pipefail
B=build-ci/release
if [ ! -x $B/tools/jepa-inspect ] || [ ! -x $B/tools/jepa-convert ]; then
  cmake -S . -B $B -DCMAKE_BUILD_TYPE=Release -DJEPA_BUILD_TESTS=OFF -DJEPA_BUILD_TOOLS=ON -DJEPA_BUILD_EXAMPLES=OFF
  cmake --build $B -j"$JEPA_JOBS" --target jepa-inspect jepa-convert
fi
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
for spec in vjepa2_tiny:encoder vjepa2_tiny:predictor vjepa2_ac_tiny:predictor ijepa_tiny:encoder ijepa_tiny:predictor; do
  d=${spec%%:*} comp=${spec##*:}
  f=$T/$d.$comp.jepa
  $B/tools/jepa-convert tests/data/$d/weights.safetensors tests/data/$d/config.json --component $comp -o $f >/dev/null
  $B/tools/jepa-inspect --memory $f > $T/out.txt
  grep -E '^  arena +[0-9]+ bytes' $T/out.txt
  $B/tools/jepa-inspect --memory $f --batch 2 --run --threads 2 > $T/run.txt
  grep -q 'arena high-water [0-9]* bytes (equals the plan)' $T/run.txt
  grep '^rss' $T/run.txt
done
echo "jepa-inspect --memory: plans and measured arenas agree on every golden model"

# A canonical (row_major) q8 file: no x86 kernel reads it as stored, so the
# loader repacks it to the panels (kernels/repack.hpp), the report says so,
# and the forward still runs from exactly its planned arena.
f=$T/q8-row_major.jepa
$B/tools/jepa-convert tests/data/vjepa2_tiny/weights.safetensors tests/data/vjepa2_tiny/config.json \
  --component encoder --dtype q8 --layout row_major -o $f >/dev/null
if grep -qw avx2 /proc/cpuinfo; then
  $B/tools/jepa-inspect --kernels $f > $T/kernels.txt
  grep -q 'q8/row_major in the file, repacked at load (+[0-9]* bytes): q8/panel(nr=16,kr=4) -> q8_gemm' $T/kernels.txt
  grep '^load-time repack' $T/kernels.txt
  $B/tools/jepa-inspect --memory $f --run > $T/run.txt
  grep '^repack' $T/run.txt
  grep -q 'arena high-water [0-9]* bytes (equals the plan)' $T/run.txt
  echo "jepa-inspect: a row_major q8 file is repacked at load for the AVX2 kernels"
fi
