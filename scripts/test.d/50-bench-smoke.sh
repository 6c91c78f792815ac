# Benchmarks build and run (never asserts timings): bench_roofline,
# bench_gemm with its peers (XNNPACK, Eigen, oneDNN: installed here) on two
# tiny shapes, bench_models on its in-memory tiny model, the JSON -> markdown
# script (which fails on any row error: bench_gemm checks every
# implementation's output against a double-precision reference before timing
# it), the first row of every other bench_* program, and the PyTorch
# peer on the tiny preset (--quick, no ONNX Runtime: CI needs no npm). Well
# under a minute after the build.
set -euo pipefail
bash scripts/install-deps.sh libbenchmark-dev libxnnpack-dev libpthreadpool-dev libdnnl-dev libeigen3-dev
B=build-ci/bench
OUT=$B/smoke
cmake -S . -B $B -DCMAKE_BUILD_TYPE=Release -DJEPA_BUILD_BENCH=ON -DJEPA_BUILD_TESTS=OFF \
  -DJEPA_BUILD_TOOLS=OFF -DJEPA_BUILD_EXAMPLES=OFF
cmake --build $B -j"${JEPA_JOBS:-2}"
mkdir -p $OUT
export JEPA_BENCH_MEM_MIB=64   # bandwidth buffer: enough to run, not to measure
quick=(--benchmark_min_time=0.01 --benchmark_format=console --benchmark_out_format=json)
$B/bench/bench_roofline "${quick[@]}" --benchmark_out=$OUT/roofline.json
$B/bench/bench_gemm "${quick[@]}" --benchmark_out=$OUT/gemm.json \
  --jepa_shapes=1x64x96,19x100x72 --jepa_threads=1,2 --jepa_ref=1
$B/bench/bench_models "${quick[@]}" --benchmark_out=$OUT/models.json --jepa_dir=$OUT/none
# Other programs (bench_kernels, bench_plan, ...): their first row, once.
for b in $B/bench/bench_*; do
  case $(basename "$b") in bench_roofline|bench_gemm|bench_models) continue ;; esac
  [ -f "$b" ] && [ -x "$b" ] || continue
  first=$("$b" --benchmark_list_tests=true | awk 'NR == 1')  # awk reads all: no SIGPIPE
  [ -n "$first" ] || continue
  re=$(printf '%s' "$first" | sed 's/[][\\.*^$+?(){}|]/\\&/g')
  timeout 300 "$b" --benchmark_min_time=0.01 --benchmark_filter="^$re\$" >/dev/null
done
python3 bench/bench_table.py --fail-on-error --csv $OUT/bench.csv $OUT/roofline.json $OUT/gemm.json \
  $OUT/models.json > $OUT/tables.md
if /usr/bin/python3 -c "import torch" 2>/dev/null; then
  OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 bench/peers/peers.py gen tiny --out $OUT/peers
  OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 bench/peers/peers.py run tiny --out $OUT/peers --no-ort --quick \
    --json $OUT/peers/peers.json
fi
echo "bench smoke: ok ($OUT/tables.md)"
