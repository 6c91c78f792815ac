# jepa-run rollout / plan end to end on the golden vjepa2_ac_tiny: convert the
# predictor, roll out 3 steps and replay the official CEM with the recorded
# torch noise, compare with the golden arrays; then 3 MPC steps through a
# persistent memory file. Reuses step 10's build when present.
set -euo pipefail
B=build-ci/release
if [ ! -x $B/tools/jepa-run ] || [ ! -x $B/tools/jepa-convert ]; then
  cmake -S . -B $B -DCMAKE_BUILD_TYPE=Release -DJEPA_BUILD_TESTS=OFF -DJEPA_BUILD_TOOLS=ON -DJEPA_BUILD_EXAMPLES=OFF
  cmake --build $B -j"$JEPA_JOBS" --target jepa-run jepa-convert
fi
G=tests/data/vjepa2_ac_tiny
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
$B/tools/jepa-convert $G/weights.safetensors $G/config.json --component predictor -o $T/ac.jepa
$B/tools/jepa-run rollout $T/ac.jepa --latents $G/ac_encode.latents.bin --broadcast --batch 2 \
  --poses $G/ac_rollout.pose0.bin --actions $G/ac_rollout.actions.bin --poses-out $T/poses.bin -o $T/rollout.bin
$B/tools/jepa-run plan $T/ac.jepa --latents $G/ac_encode.latents.bin --frame 0 --goal $G/ac_encode.latents.bin \
  --goal-frame 3 --pose $G/cem.pose0.bin --samples 16 --horizon 2 --topk 4 --iterations 3 --momentum-mean 0.15 \
  --momentum-std 0.75 --momentum-mean-gripper 0.15 --momentum-std-gripper 0.15 --maxnorm 0.075 \
  --noise $G/cem.noise.bin --energies-out $T/energies.bin -o $T/action.bin
for kv in f16 q8; do  # the same rollout with the KV cache stored as f16 / q8
  $B/tools/jepa-run rollout $T/ac.jepa --latents $G/ac_encode.latents.bin --broadcast --batch 2 --kv-cache $kv \
    --poses $G/ac_rollout.pose0.bin --actions $G/ac_rollout.actions.bin --quiet -o $T/rollout_$kv.bin
done
for t in 0 1 2; do  # MPC: load memory, observe frame t, plan, commit, save
  MI=""; [ $t -gt 0 ] && MI="--memory-in $T/m.mem"
  $B/tools/jepa-run plan $T/ac.jepa --latents $G/ac_encode.latents.bin --frame $t --goal $G/ac_encode.latents.bin \
    --goal-frame 3 --pose $G/cem.pose0.bin --samples 16 --iterations 2 --topk 4 --memory-window 2 $MI \
    --memory-out $T/m.mem --kv-storage f16 --quiet -o $T/mpc$t.bin
  $B/tools/jepa-run plan $T/ac.jepa --latents $G/ac_encode.latents.bin --frame $t --goal $G/ac_encode.latents.bin \
    --goal-frame 3 --pose $G/cem.pose0.bin --samples 16 --iterations 2 --topk 4 --memory-window 2 \
    ${MI/m.mem/mq.mem} --memory-out $T/mq.mem --kv-cache q8 --quiet -o $T/mpcq$t.bin
done
python3 - "$G" "$T" <<'PY'
import struct, sys
g, t = sys.argv[1], sys.argv[2]
def f32(path):
    b = open(path, "rb").read()
    return struct.unpack("<%df" % (len(b) // 4), b)
def check(name, got, ref, atol, rtol):
    assert len(got) == len(ref), (name, len(got), len(ref))
    worst = max(abs(a - b) - (atol + rtol * abs(b)) for a, b in zip(got, ref))
    err = max(abs(a - b) for a, b in zip(got, ref))
    print("%-18s max abs err %.3g (atol %g, rtol %g)" % (name, err, atol, rtol))
    assert worst <= 0, name
ref = f32(g + "/ac_rollout.latents.bin")  # [2][4][16][64], frame 0 = context
frame = 16 * 64
ref_pred = [x for b in range(2) for x in ref[(b * 4 + 1) * frame:(b * 4 + 4) * frame]]
check("rollout latents", f32(t + "/rollout.bin"), ref_pred, 2e-4, 1e-4)
refp = f32(g + "/ac_rollout.poses.bin")
check("rollout poses", f32(t + "/poses.bin"), [x for b in range(2) for x in refp[(b * 4 + 1) * 7:(b * 4 + 4) * 7]], 1e-4, 1e-4)
def cosine(a, b):
    dot = sum(x * y for x, y in zip(a, b))
    return dot / (sum(x * x for x in a) ** 0.5 * sum(y * y for y in b) ** 0.5)
rollout = f32(t + "/rollout.bin")
for kv, min_cos in (("f16", 0.99999), ("q8", 0.9995)):  # measured: 1.0000000 / 0.99998
    got = f32(t + "/rollout_" + kv + ".bin")
    c = cosine(got, ref_pred)
    print("rollout, %s K/V cache: cosine to golden %.7f, max abs err %.3g" % (kv, c, max(abs(a - b) for a, b in zip(got, ref_pred))))
    assert c >= min_cos and got != rollout, kv
check("cem energies", f32(t + "/energies.bin"), f32(g + "/cem.energies.bin"), 3.1e-5, 0)
check("cem action", f32(t + "/action.bin"), f32(g + "/cem.action.bin"), 1e-4, 1e-4)
print("plan CLI: golden rollout and CEM reproduced")
PY
