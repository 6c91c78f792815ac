#!/usr/bin/env bash
# Model peers of jepa-rt (issue 6), one command: installs what is missing
# (python3-torch, python3-numpy, OpenBLAS for PyTorch's fp32 GEMM,
# onnxruntime-node from npm into $DIR/node), generates random-weight
# checkpoints at the real sizes (bench/peers/peers.py gen), times PyTorch fp32 /
# dynamic int8 and ONNX Runtime fp32 / int8 at 1 and 2 threads (peers.py run),
# converts the same checkpoints with jepa-convert (f32, q8 and q7 = q8 with 7-bit
# weights; panel layout when
# the build supports it), times them with bench_models and checks their outputs
# against PyTorch (peers.py check-jepa), then prints the table model x
# precision x threads x engine (docs/BENCHMARKS.md).
#
#   scripts/bench-peers.sh                         all presets (~30-40 min on 2 cores)
#   JEPA_PEERS_PRESETS="tiny vits16_224" scripts/bench-peers.sh
#   JEPA_PEERS_QUICK=1 ...                         1 warm-up + 3 runs (smoke)
# Env: JEPA_PEERS_DIR (default build-peers: checkpoints, ONNX files, node
# modules, results), JEPA_BENCH_BUILD (default build-bench), JEPA_PEERS_NO_ORT=1.
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=${JEPA_PEERS_DIR:-build-peers}
B=${JEPA_BENCH_BUILD:-build-bench}
PRESETS=${JEPA_PEERS_PRESETS:-"tiny vits16_224 vitl16_256_f2 ac_vitg_step1 vitl16_256_f16"}
PY=/usr/bin/python3   # Debian's python: the one with torch
mkdir -p "$DIR"
APT="apt-get -o DPkg::Lock::Timeout=600 -q"
SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo

need=()
$PY -c "import torch, numpy" 2>/dev/null || need+=(python3-torch python3-numpy)
# Without OpenBLAS, Debian's torch runs fp32 matmuls on the reference BLAS (~50x slower).
dpkg-query -W -f='${Status}' libopenblas0-openmp 2>/dev/null | grep -q "install ok installed" \
  || dpkg-query -W -f='${Status}' libopenblas0-pthread 2>/dev/null | grep -q "install ok installed" \
  || need+=(libopenblas0-openmp)
command -v node >/dev/null && command -v npm >/dev/null || need+=(nodejs npm)
if [ ${#need[@]} -gt 0 ]; then
  echo "bench-peers: installing ${need[*]}"
  $SUDO $APT update && DEBIAN_FRONTEND=noninteractive $SUDO $APT install -y --no-install-recommends "${need[@]}"
fi

ort_flag=()
if [ -z "${JEPA_PEERS_NO_ORT:-}" ]; then
  if [ ! -d "$DIR/node/node_modules/onnxruntime-node" ]; then
    if ver=$(timeout 60 npm view onnxruntime-node version 2>/dev/null); then
      mkdir -p "$DIR/node"
      [ -f "$DIR/node/package.json" ] || echo '{"name":"jepa-peers","private":true}' > "$DIR/node/package.json"
      # The CPU binaries ship in the package; skip its install script (GPU downloads).
      (cd "$DIR/node" && ONNXRUNTIME_NODE_INSTALL=skip npm install --no-audit --no-fund "onnxruntime-node@$ver")
    else
      echo "bench-peers: the npm registry does not serve onnxruntime-node here: ONNX Runtime rows skipped"
      ort_flag=(--no-ort)
    fi
  fi
else
  ort_flag=(--no-ort)
fi
quick=(); [ -n "${JEPA_PEERS_QUICK:-}" ] && quick=(--quick)

# Peers: idle OpenMP workers sleep (2 threads on 2 shared cores); no
# cross-testing OpenBLAS settings.
unset OPENBLAS_CORETYPE OPENBLAS_L2_SIZE
export OMP_WAIT_POLICY=PASSIVE
# Debian 12's OpenBLAS (0.3.21) does not know CPUs newer than itself (an
# Emerald Rapids Xeon, say) and falls back to its generic Prescott kernels,
# about 5x slower for PyTorch fp32: name the nearest core it knows instead.
core=$(OPENBLAS_VERBOSE=2 $PY -c "import numpy; numpy.ones((64, 64)) @ numpy.ones((64, 64))" 2>&1 \
       | sed -n 's/^Core: //p' | head -1 || true)
if [ "$core" = Prescott ]; then
  if grep -qw avx512f /proc/cpuinfo; then export OPENBLAS_CORETYPE=SkylakeX
  elif grep -qw avx2 /proc/cpuinfo; then export OPENBLAS_CORETYPE=Haswell; fi
  echo "bench-peers: OpenBLAS did not recognise this CPU (Prescott): OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}"
fi

# The PyTorch modules are checked against the official code's golden outputs first.
golden=()
for g in tests/data/vjepa2_tiny tests/data/ijepa_tiny tests/data/vjepa2_ac_tiny; do [ -d "$g" ] && golden+=("$g"); done
[ ${#golden[@]} -gt 0 ] && $PY bench/peers/peers.py selftest "${golden[@]}"

for p in $PRESETS; do
  $PY bench/peers/peers.py gen "$p" --out "$DIR"
  $PY bench/peers/peers.py run "$p" --out "$DIR" --node-dir "$DIR/node" --json "$DIR/peers.json" \
    "${ort_flag[@]}" "${quick[@]}"
done

# jepa-rt on the same checkpoints.
cmake -S . -B "$B" -DCMAKE_BUILD_TYPE=Release -DJEPA_BUILD_BENCH=ON -DJEPA_BUILD_TOOLS=ON \
  -DJEPA_BUILD_TESTS=OFF -DJEPA_BUILD_EXAMPLES=OFF >/dev/null
cmake --build "$B" -j"${JEPA_JOBS:-2}" --target jepa-convert bench_models
mkdir -p "$DIR/jepa"
ckpts=$($PY - "$PRESETS" <<'PYEOF'
import sys
sys.path.insert(0, "bench/peers")
import peers
print(" ".join(sorted({peers.PRESETS[p]["ckpt"] for p in sys.argv[1].split()})))
PYEOF
)
for c in $ckpts; do
  for dt in ${JEPA_PEERS_DTYPES:-f32 q8 q7}; do
    for layout in panel row_major; do
      out="$DIR/jepa/$c.$dt-$layout.jepa"
      [ -f "$out" ] && break
      if "$B/tools/jepa-convert" "$DIR/$c/weights.safetensors" "$DIR/$c/config.json" -o "$out" \
           --dtype "$dt" --layout "$layout" --quiet; then
        break   # the panel file when it converts (the fast kernels read it), else row_major
      fi
      rm -f "$out"
      echo "bench-peers: $c $dt $layout not convertible here, trying the next layout"
    done
  done
done
models=$(for p in $PRESETS; do printf '%s/,' "$p"; done)
mkdir -p "$DIR/dump"
"$B/bench/bench_models" --jepa_dir="$DIR" --jepa_models="$models" --jepa_dump="$DIR/dump" --benchmark_min_time=0 \
  --benchmark_repetitions="${JEPA_PEERS_REPS:-3}" --benchmark_report_aggregates_only=true \
  --benchmark_out="$DIR/bench_models.json" --benchmark_out_format=json
# jepa-rt computed the same function as PyTorch on the same checkpoint and input?
for p in $PRESETS; do $PY bench/peers/peers.py check-jepa "$p" --out "$DIR" --dump "$DIR/dump"; done
$PY bench/peers/peers.py table "$DIR/peers.json" "$DIR/bench_models.json" | tee "$DIR/models.md"
