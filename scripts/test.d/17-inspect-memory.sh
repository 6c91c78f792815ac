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
