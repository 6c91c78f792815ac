#!/usr/bin/env bash
# The main job, from a fresh Debian 12 machine: installs what it needs, builds
# the tools, then runs a V-JEPA 2-AC world model end to end on the tiny
# checkpoint made with the official code (tests/data/vjepa2_ac_tiny):
#   convert the official weights -> .jepa (f32 and q8), inspect them,
#   encode 4 camera frames into latents, roll the predictor out 3 steps from
#   a pose, and plan the next action with CEM toward a goal frame;
# and finally checks every golden case of the three reference directories
# (jepa-verify), so the demo's numbers are the official model's numbers.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
B=build-demo
cmake -S . -B $B -DCMAKE_BUILD_TYPE=Release -DJEPA_BUILD_TESTS=OFF -DJEPA_BUILD_TOOLS=ON \
  -DJEPA_BUILD_EXAMPLES=OFF >/dev/null
cmake --build $B -j"$(nproc)" --target jepa-inspect jepa-convert jepa-run jepa-verify
T=$B/tools
G=tests/data/vjepa2_ac_tiny
O=$B/demo
mkdir -p $O

echo "=== 1. convert the official checkpoint (safetensors + constructor arguments) to .jepa"
$T/jepa-convert $G/weights.safetensors $G/config.json --component encoder -o $O/encoder.jepa
$T/jepa-convert $G/weights.safetensors $G/config.json --component predictor -o $O/predictor.jepa
$T/jepa-convert $G/weights.safetensors $G/config.json --component predictor --dtype q8 \
  -o $O/predictor-q8.jepa
ls -l $O/*.jepa
$T/jepa-inspect $O/predictor-q8.jepa | sed -n 1,12p

echo "=== 2. encode 4 frames (each alone, repeated to a tubelet, then the latent LayerNorm)"
$T/jepa-run encode $O/encoder.jepa --input $G/ac_encode.clip.bin --shape 1,3,4,32,32 --per-frame \
  -o $O/latents.bin

echo "=== 3. roll the predictor out 3 steps from frame 0 and a pose (KV cache, compute_new_pose)"
$T/jepa-run rollout $O/predictor.jepa --latents $O/latents.bin --broadcast --batch 2 \
  --poses $G/ac_rollout.pose0.bin --actions $G/ac_rollout.actions.bin --poses-out $O/poses.bin \
  -o $O/rollout.bin

echo "=== 4. plan the next action with CEM toward frame 3 (the official planner's settings)"
$T/jepa-run plan $O/predictor.jepa --latents $O/latents.bin --frame 0 --goal $O/latents.bin --goal-frame 3 \
  --pose $G/cem.pose0.bin --samples 16 --horizon 2 --topk 4 --iterations 3 --momentum-mean 0.15 \
  --momentum-std 0.75 --momentum-mean-gripper 0.15 --momentum-std-gripper 0.15 --maxnorm 0.075 \
  --noise $G/cem.noise.bin -o $O/action.bin

echo "=== 5. every golden case of the official code, float32 and q8"
for d in vjepa2_tiny vjepa2_ac_tiny ijepa_tiny; do
  $T/jepa-verify tests/data/$d
  $T/jepa-verify tests/data/$d --dtype q8
done
echo "demo: done"
