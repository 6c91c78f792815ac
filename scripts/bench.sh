#!/usr/bin/env bash
# Builds the benchmarks (Release, -DJEPA_BUILD_BENCH=ON, peers found by CMake)
# and runs them: the machine's ceilings (bench_roofline), every GEMM path
# beside XNNPACK / Eigen / oneDNN (bench_gemm), and the converted models if
# scripts/bench-peers.sh made them (bench_models). Medians of repetitions;
# JSON + console text + CSV + markdown tables in $OUT (docs/BENCHMARKS.md).
#
#   scripts/bench.sh                      everything (~25 min on 2 cores)
#   JEPA_BENCH="roofline gemm" scripts/bench.sh
#   scripts/bench.sh --jepa_shapes=64x1024x4096 --jepa_threads=1   (extra args go to bench_gemm)
# Env: JEPA_BENCH_BUILD (build dir, default build-bench), JEPA_BENCH_OUT
# (default out/bench), JEPA_BENCH_REPS (5), JEPA_BENCH_MIN_TIME (0.1 s),
# JEPA_PEERS_DIR (converted models for bench_models, default build-peers).
set -euo pipefail
cd "$(dirname "$0")/.."
B=${JEPA_BENCH_BUILD:-build-bench}
OUT=${JEPA_BENCH_OUT:-out/bench}
REPS=${JEPA_BENCH_REPS:-5}
MIN_TIME=${JEPA_BENCH_MIN_TIME:-0.1}
PEERS=${JEPA_PEERS_DIR:-build-peers}
WHAT=${JEPA_BENCH:-roofline gemm models}
mkdir -p "$OUT"

# The peers' libraries (bench_gemm drops the rows of any it does not find).
bash scripts/install-deps.sh libbenchmark-dev libxnnpack-dev libpthreadpool-dev libdnnl-dev libeigen3-dev

cmake -S . -B "$B" -DCMAKE_BUILD_TYPE=Release -DJEPA_BUILD_BENCH=ON -DJEPA_BUILD_TESTS=OFF \
  -DJEPA_BUILD_TOOLS=OFF -DJEPA_BUILD_EXAMPLES=OFF >/dev/null
targets=()
for w in $WHAT; do targets+=("bench_$w"); done
cmake --build "$B" -j"${JEPA_JOBS:-2}" --target "${targets[@]}"

# Peers run with their own threads; keep idle OpenMP workers from spinning
# into the next row, and don't let a cross-testing OpenBLAS setting leak in.
unset OPENBLAS_CORETYPE OPENBLAS_L2_SIZE

run() {
  local name=$1; shift
  echo "=== $name $*"
  "$B/bench/$name" --benchmark_repetitions="$REPS" --benchmark_report_aggregates_only=true \
    --benchmark_min_time="$MIN_TIME" --benchmark_out="$OUT/$name.json" --benchmark_out_format=json "$@" \
    | tee "$OUT/$name.txt"
}

jsons=()
for w in $WHAT; do
  case $w in
    roofline) run bench_roofline; jsons+=("$OUT/bench_roofline.json") ;;
    gemm) run bench_gemm "$@"; jsons+=("$OUT/bench_gemm.json") ;;
    models)
      # Big models: one timed call per repetition is plenty (seconds each).
      run bench_models --jepa_dir="$PEERS" --benchmark_min_time=0
      jsons+=("$OUT/bench_models.json") ;;
    *) echo "unknown benchmark '$w' (roofline, gemm, models)" >&2; exit 2 ;;
  esac
done
python3 bench/bench_table.py --csv "$OUT/bench.csv" "${jsons[@]}" > "$OUT/tables.md"
if [ -f "$PEERS/peers.json" ] && [ -f "$OUT/bench_models.json" ]; then
  /usr/bin/python3 bench/peers/peers.py table "$PEERS/peers.json" "$OUT/bench_models.json" > "$OUT/models.md"
fi
echo "tables: $OUT/tables.md${PEERS:+ (models vs peers: $OUT/models.md if peers ran)}"
