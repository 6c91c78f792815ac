#!/usr/bin/env -S /usr/bin/python3
"""bench/peers/peers.py: model-level peers of jepa-rt (issue 6): PyTorch fp32,
PyTorch dynamic int8, ONNX Runtime (node) fp32 and int8, on random-weight
checkpoints at the real model sizes.

  peers.py selftest GOLDEN_DIR...      check jepa_torch.py against golden data
  peers.py gen PRESET --out DIR        checkpoint (weights.safetensors + config.json
                                       in the golden layout) + inputs for PRESET
  peers.py run PRESET --out DIR [--threads 1,2] [--node-dir D] [--no-ort] [--quick] [--json F]
                                       time every engine; appends results to F
  peers.py check-jepa PRESET --out DIR --dump D   jepa-rt outputs (bench_models --jepa_dump=D)
                                       against PyTorch fp32 on the same checkpoint and input
  peers.py table F [bench_models.json] markdown: model x precision x threads x engines
  peers.py interleave PRESET [--variants q8-panel,q7-panel] [--rounds 5] [--runs 5] [--threads 1,2]
                                       ORT and jepa-rt (bench_models) alternated round by round
                                       after bench-peers.sh made the files: ratios on a drifting machine
                                       (a variant may pin the attention: q8-panel/attention:f32 or
                                       q8-panel/attention:bf16; the plain name runs the default, auto)
  peers.py presets                     list presets

Normally driven by scripts/bench-peers.sh (installs what is missing, runs all).
Needs Debian's torch (/usr/bin/python3) and numpy only; ONNX Runtime runs under
node (onnxruntime-node, see ort_run.js). int8: weights per output channel,
symmetric; activations dynamic per tensor (the same scheme as jepa-rt q8).
PyTorch uses torch.ao.quantization.quantize_dynamic on the onednn engine; the
ONNX int8 graph is written by this script (DynamicQuantizeLinear + MatMulInteger
+ scale, the pattern onnxruntime's own quantize_dynamic emits and its optimiser
fuses), because the onnxruntime Python package (and its quantizer) is not
available here.
"""
import argparse
import copy
import json
import math
import os
import struct
import subprocess
import sys
import time

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import jepa_torch as jt  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))

# --------------------------------------------------------------------------
# Presets: the checkpoint (family + component) and the input of one timed call

VJEPA2_KW = dict(patch_size=16, tubelet_size=2, in_chans=3, mlp_ratio=4.0, qkv_bias=True, use_rope=True,
                 use_sdpa=True, use_silu=False, wide_silu=True, uniform_power=False, handle_nonsquare_inputs=True)

CHECKPOINTS = {
    "tiny": dict(family="vjepa2", component="encoder", ctor=jt.VJEPA2_ENCODER,
                 kwargs=dict(VJEPA2_KW, img_size=[48, 48], num_frames=4, embed_dim=96, depth=2, num_heads=3),
                 desc="tiny V-JEPA 2 encoder (the vjepa2_tiny golden shape) for CI"),
    "vits16_224": dict(family="ijepa", component="encoder", ctor=jt.VJEPA2_ENCODER,
                       kwargs=dict(img_size=[224], patch_size=16, in_chans=3, embed_dim=384, depth=12, num_heads=6,
                                   mlp_ratio=4.0, qkv_bias=True),
                       desc="ViT-S/16 I-JEPA-style encoder at 224x224 (width 384, depth 12, 6 heads)"),
    "vitl16_256": dict(family="vjepa2", component="encoder", ctor=jt.VJEPA2_ENCODER,
                       kwargs=dict(VJEPA2_KW, img_size=[256, 256], num_frames=16, embed_dim=1024, depth=24,
                                   num_heads=16),
                       desc="V-JEPA 2 ViT-L/16 encoder at 256x256 (vit_large)"),
    "ac_vitg": dict(family="vjepa2", component="predictor", ctor=jt.AC_PREDICTOR,
                    kwargs=dict(img_size=[256, 256], patch_size=16, num_frames=64, tubelet_size=2, embed_dim=1408,
                                predictor_embed_dim=1024, depth=24, num_heads=16, mlp_ratio=4.0, qkv_bias=True,
                                uniform_power=True, use_silu=False, wide_silu=True, is_frame_causal=True,
                                use_rope=True, use_sdpa=True, action_embed_dim=7, use_extrinsics=False),
                    desc="V-JEPA 2-AC predictor (vitg AC: width 1024, depth 24, 16 heads) over ViT-g latents"),
}

PRESETS = {
    "tiny": dict(ckpt="tiny", inputs={"video": [1, 3, 2, 48, 48]}),
    "vits16_224": dict(ckpt="vits16_224", inputs={"image": [1, 3, 224, 224]}),
    "vitl16_256_f2": dict(ckpt="vitl16_256", inputs={"video": [1, 3, 2, 256, 256]}),
    "vitl16_256_f16": dict(ckpt="vitl16_256", inputs={"video": [1, 3, 16, 256, 256]}),
    "ac_vitg_step1": dict(ckpt="ac_vitg", inputs={"latents": [1, 256, 1408], "actions": [1, 1, 7],
                                                   "states": [1, 1, 7]}),
}


# --------------------------------------------------------------------------
# safetensors (written and read here: no safetensors package)

def write_safetensors(path, tensors, metadata):
    names = sorted(tensors)
    header, offset = {}, 0
    for n in names:
        a = tensors[n]
        header[n] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [offset, offset + a.nbytes]}
        offset += a.nbytes
    header["__metadata__"] = metadata
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path + ".tmp", "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for n in names:
            f.write(np.ascontiguousarray(tensors[n], dtype="<f4").tobytes())
    os.replace(path + ".tmp", path)


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if info["dtype"] != "F32":
            raise ValueError(f"{path}: {name} is {info['dtype']}, want F32")
        b, e = info["data_offsets"]
        out[name] = np.frombuffer(data, dtype="<f4", count=(e - b) // 4, offset=8 + n + b).reshape(info["shape"])
    return out


def load_component(model, weights, prefix):
    sd = {}
    for k in model.state_dict():
        key = f"{prefix}.{k}"
        if key not in weights:
            raise KeyError(f"checkpoint lacks {key}")
        sd[k] = torch.from_numpy(np.array(weights[key]))
    model.load_state_dict(sd, strict=True)
    return model.eval()


# --------------------------------------------------------------------------
# gen: random weights in the official key layout + config.json + inputs

def random_state(model, seed):
    g = torch.Generator().manual_seed(seed)
    out = {}
    for k, v in model.state_dict().items():
        if k.endswith("norm1.weight") or k.endswith("norm2.weight") or k.endswith("norm.weight"):
            t = 1.0 + 0.05 * torch.randn(v.shape, generator=g)
        elif k.endswith("pos_embed"):
            t = 0.1 * torch.randn(v.shape, generator=g)
        else:  # weights and biases: the official trunc_normal(0.02) scale
            t = 0.02 * torch.randn(v.shape, generator=g)
        out[k] = t.numpy().astype(np.float32)
    return out


def cmd_gen(args):
    preset = PRESETS[args.preset]
    ck_name = preset["ckpt"]
    ck = CHECKPOINTS[ck_name]
    cdir = os.path.join(args.out, ck_name)
    os.makedirs(cdir, exist_ok=True)
    cfg_path = os.path.join(cdir, "config.json")
    comp = {"ctor": ck["ctor"], "norm_eps": 1e-6, "kwargs": ck["kwargs"]}
    if not os.path.exists(os.path.join(cdir, "weights.safetensors")):
        model = jt.build(comp, ck["family"])
        state = random_state(model, seed=1234)
        tensors = {f"{ck['component']}.{k}": v for k, v in state.items()}
        write_safetensors(os.path.join(cdir, "weights.safetensors"), tensors,
                          {"config": ck_name, "generator": "bench/peers/peers.py gen (random weights)"})
        config = {"name": ck_name, "family": ck["family"], "description": ck["desc"] + " - random weights",
                  "components": {ck["component"]: comp}}
        with open(cfg_path, "w") as f:
            json.dump(config, f, indent=2)
        nparams = sum(v.size for v in state.values())
        print(f"gen: {cdir}: {len(tensors)} tensors, {nparams / 1e6:.1f} M parameters")
    # Inputs of this preset: raw little-endian f32, shapes in inputs.json.
    idir = os.path.join(args.out, "inputs", args.preset)
    os.makedirs(idir, exist_ok=True)
    rng = np.random.default_rng(5)
    meta = {}
    for name, shape in preset["inputs"].items():
        a = rng.standard_normal(shape).astype("<f4")
        a.tofile(os.path.join(idir, name + ".bin"))
        meta[name] = {"file": name + ".bin", "shape": shape, "dtype": "f32"}
    with open(os.path.join(idir, "inputs.json"), "w") as f:
        json.dump({"preset": args.preset, "checkpoint": ck_name, "component": ck["component"], "inputs": meta},
                  f, indent=2)
    return 0


# --------------------------------------------------------------------------
# FLOPs: 2 per multiply-add of every Linear / Conv and of the attention matmuls

def count_flops(model, inputs):
    total = [0]
    hooks = []

    def lin(m, i, o):
        total[0] += 2 * o.numel() * m.in_features

    def conv(m, i, o):
        total[0] += 2 * o.numel() * (m.in_channels * int(np.prod(m.kernel_size)))

    def attn(m, i, o):
        B, N, C = i[0].shape
        total[0] += 2 * 2 * B * N * N * C  # q k^T and att v over all heads

    for mod in model.modules():
        if isinstance(mod, nn.Linear):
            hooks.append(mod.register_forward_hook(lin))
        elif isinstance(mod, (nn.Conv2d, nn.Conv3d)):
            hooks.append(mod.register_forward_hook(conv))
        elif isinstance(mod, jt.Attention):
            hooks.append(mod.register_forward_hook(attn))
    with torch.no_grad():
        model(*inputs)
    for h in hooks:
        h.remove()
    return total[0]


# --------------------------------------------------------------------------
# Timing

def timed(fn, warmup, min_runs, min_seconds, max_runs):
    """Wall-clock ms of each run after the warm-up, and the process CPU ms of
    each (all threads: at 1 thread, the latency without time-slicing)."""
    for _ in range(warmup):
        fn()
    times, cpu = [], []
    start = time.perf_counter()
    while len(times) < min_runs or (time.perf_counter() - start < min_seconds and len(times) < max_runs):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
        cpu.append((time.process_time() - c0) * 1e3)
    return times, cpu


def run_policy(gflop):
    """(warmup, min_runs, min_seconds, max_runs): fewer runs for the big ones."""
    if gflop > 200:
        return 1, 3, 0.0, 3
    if gflop > 20:
        return 2, 5, 5.0, 10
    return 3, 10, 3.0, 50


def quantize_torch(model):
    torch.backends.quantized.engine = "onednn"
    qconfig = torch.ao.quantization.per_channel_dynamic_qconfig
    return torch.ao.quantization.quantize_dynamic(model, {nn.Linear: qconfig}, dtype=torch.qint8)


# --------------------------------------------------------------------------
# ONNX export, fp32 and int8 (int8 nodes written by a custom symbolic)

class _DynQuantLinear(torch.autograd.Function):
    """x -> DynamicQuantizeLinear -> MatMulInteger(W int8 [K,N]) -> * (sx * sw[n]) + b."""

    @staticmethod
    def forward(ctx, x, wq_t, w_scale, w_zero, bias):  # used only to trace shapes
        return x @ (wq_t.float() * w_scale) + bias

    @staticmethod
    def symbolic(g, x, wq_t, w_scale, w_zero, bias):
        xq, xs, xz = g.op("DynamicQuantizeLinear", x, outputs=3)
        acc = g.op("MatMulInteger", xq, wq_t, xz, w_zero)
        accf = g.op("Cast", acc, to_i=1)  # TensorProto.FLOAT
        scale = g.op("Mul", xs, w_scale)
        return g.op("Add", g.op("Mul", accf, scale), bias)


class QLinearExport(nn.Module):
    def __init__(self, lin):
        super().__init__()
        w = lin.weight.detach().float()
        scale = w.abs().amax(dim=1).clamp(min=1e-12) / 127.0
        q = torch.clamp(torch.round(w / scale[:, None]), -127, 127).to(torch.int8)
        self.register_buffer("wq_t", q.t().contiguous())
        self.register_buffer("w_scale", scale.contiguous())
        self.register_buffer("w_zero", torch.zeros((), dtype=torch.int8))
        b = lin.bias.detach() if lin.bias is not None else torch.zeros(w.shape[0])
        self.register_buffer("bias", b.contiguous())

    def forward(self, x):
        return _DynQuantLinear.apply(x, self.wq_t, self.w_scale, self.w_zero, self.bias)


def int8_export_copy(model):
    m = copy.deepcopy(model)
    for parent in list(m.modules()):
        for name, child in list(parent.named_children()):
            if isinstance(child, nn.Linear):
                setattr(parent, name, QLinearExport(child))
    return m.eval()


def export_onnx(model, inputs, names, path):
    if os.path.exists(path):
        return
    import warnings
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, tuple(inputs), path + ".tmp", input_names=names, output_names=["output"],
                          opset_version=14, do_constant_folding=True)
    os.replace(path + ".tmp", path)


def run_ort(node_dir, onnx_path, names, shapes, threads, policy, files=None, output_file=None):
    warmup, min_runs, min_seconds, max_runs = policy
    spec = {"model": onnx_path, "threads": threads, "warmup": warmup, "min_runs": min_runs,
            "min_seconds": min_seconds, "max_runs": max_runs,
            "inputs": [{"name": n, "dims": s} for n, s in zip(names, shapes)]}
    if files:
        for inp, f in zip(spec["inputs"], files):
            inp["file"] = f
    if output_file:
        spec["output_file"] = output_file
    env = dict(os.environ, NODE_PATH=os.path.join(node_dir, "node_modules"))
    r = subprocess.run(["node", os.path.join(HERE, "ort_run.js"), json.dumps(spec)], capture_output=True, text=True,
                       env=env)
    if r.returncode != 0:
        raise RuntimeError(f"ort_run.js failed: {r.stderr.strip()[-500:]}")
    res = json.loads(r.stdout.strip().splitlines()[-1])
    return res["times_ms"], res["cpu_ms"]


def check_onnx(args, model, inputs, names, shapes, paths):
    """The exported graphs against PyTorch fp32 on the same input (one ORT run each)."""
    tdir = os.path.join(args.out, "onnx", "check-" + args.preset)
    os.makedirs(tdir, exist_ok=True)
    files = []
    for n, x in zip(names, inputs):
        files.append(os.path.join(tdir, n + ".bin"))
        x.numpy().astype("<f4").tofile(files[-1])
    with torch.no_grad():
        ref = model(*inputs).numpy().ravel().astype(np.float64)
    for precision, path in paths.items():
        out = os.path.join(tdir, precision + ".out.bin")
        run_ort(args.node_dir, path, names, shapes, 1, (0, 0, 0.0, 0), files, out)
        got = np.fromfile(out, dtype="<f4").astype(np.float64)
        if got.size != ref.size:
            raise RuntimeError(f"{path}: output has {got.size} values, PyTorch {ref.size}")
        cos = float(got @ ref / (np.linalg.norm(got) * np.linalg.norm(ref) + 1e-30))
        err = float(np.abs(got - ref).max())
        rel = float(np.linalg.norm(got - ref) / (np.linalg.norm(ref) + 1e-30))
        print(f"  check {args.preset} ORT {precision} vs PyTorch fp32: max abs {err:.3g}, rel L2 {rel:.3g}, "
              f"cosine {cos:.6f}", flush=True)
        limit = 1e-3 if precision == "fp32" else 0.1  # int8: weights + activations quantised
        if not rel <= limit:
            raise RuntimeError(f"{path}: exported graph disagrees with PyTorch (rel L2 {rel:.3g} > {limit})")


# --------------------------------------------------------------------------
# run: every engine on one preset

def cmd_run(args):
    preset, model = load_preset_model(args)
    names = list(preset["inputs"])
    shapes = [preset["inputs"][n] for n in names]
    g = torch.Generator().manual_seed(5)
    inputs = [torch.randn(s, generator=g) for s in shapes]
    flops = count_flops(model, inputs)
    gflop = flops * 1e-9
    policy = (1, 3, 0.0, 3) if args.quick else run_policy(gflop)
    threads = [int(t) for t in args.threads.split(",")]
    results = []

    def record(engine, precision, t, measured):
        times, cpu = measured
        med = float(np.median(times))
        row = {"model": args.preset, "engine": engine, "precision": precision, "threads": t, "median_ms": med,
               "min_ms": float(np.min(times)), "cpu_median_ms": float(np.median(cpu)), "runs": len(times),
               "gflop": gflop, "gflops": gflop / (med * 1e-3), "loadavg": os.getloadavg()[0]}
        results.append(row)
        print(f"  {args.preset:16s} {engine:8s} {precision:5s} threads={t}  median {med:9.2f} ms "
              f"(cpu {row['cpu_median_ms']:9.2f} ms, {len(times)} runs, {row['gflops']:.1f} GFLOP/s, "
              f"load {row['loadavg']:.1f})", flush=True)

    print(f"{args.preset}: {gflop:.2f} GFLOP per call", flush=True)
    qmodel = None
    for t in threads:
        torch.set_num_threads(t)
        with torch.no_grad():
            record("pytorch", "fp32", t, timed(lambda: model(*inputs), *policy))
            if qmodel is None:
                qmodel = quantize_torch(copy.deepcopy(model))
            record("pytorch", "int8", t, timed(lambda: qmodel(*inputs), *policy))
    del qmodel
    if not args.no_ort:
        odir = os.path.join(args.out, "onnx")
        os.makedirs(odir, exist_ok=True)
        f32_path = os.path.join(odir, f"{args.preset}.fp32.onnx")
        i8_path = os.path.join(odir, f"{args.preset}.int8.onnx")
        export_onnx(model, inputs, names, f32_path)
        export_onnx(int8_export_copy(model), inputs, names, i8_path)
        check_onnx(args, model, inputs, names, shapes, {"fp32": f32_path, "int8": i8_path})
        for t in threads:
            record("ort", "fp32", t, run_ort(args.node_dir, f32_path, names, shapes, t, policy))
            record("ort", "int8", t, run_ort(args.node_dir, i8_path, names, shapes, t, policy))
    if args.json:
        old = []
        if os.path.exists(args.json):
            with open(args.json) as f:
                old = json.load(f)
        keep = [r for r in old if r["model"] != args.preset]
        with open(args.json, "w") as f:
            json.dump(keep + results, f, indent=1)
    return 0


# --------------------------------------------------------------------------
# check-jepa: jepa-rt's outputs of the same checkpoint and input vs PyTorch

def load_preset_model(args):
    preset = PRESETS[args.preset]
    ck = CHECKPOINTS[preset["ckpt"]]
    cdir = os.path.join(args.out, preset["ckpt"])
    with open(os.path.join(cdir, "config.json")) as f:
        config = json.load(f)
    comp = config["components"][ck["component"]]
    model = load_component(jt.build(comp, config["family"]),
                           read_safetensors(os.path.join(cdir, "weights.safetensors")), ck["component"])
    return preset, model


def cmd_check_jepa(args):
    preset, model = load_preset_model(args)
    idir = os.path.join(args.out, "inputs", args.preset)
    inputs = [torch.from_numpy(np.fromfile(os.path.join(idir, n + ".bin"), dtype="<f4").reshape(s))
              for n, s in preset["inputs"].items()]
    torch.set_num_threads(2)
    with torch.no_grad():
        ref = model(*inputs).numpy().ravel().astype(np.float64)
    ok, found = True, 0
    for f in sorted(os.listdir(args.dump)):
        if not (f.startswith(args.preset + ".") and f.endswith(".out.bin")):
            continue
        found += 1
        variant = f[len(args.preset) + 1:-len(".out.bin")]
        got = np.fromfile(os.path.join(args.dump, f), dtype="<f4").astype(np.float64)
        if got.size != ref.size:
            print(f"  {args.preset} {variant}: {got.size} values, PyTorch {ref.size}: FAIL")
            ok = False
            continue
        rel = float(np.linalg.norm(got - ref) / (np.linalg.norm(ref) + 1e-30))
        cos = float(got @ ref / (np.linalg.norm(got) * np.linalg.norm(ref) + 1e-30))
        # fp32 (its default attention is f32): summation order only; quantized weights (whose
        # default attention may round to bf16) or pinned bf16 attention (bench_models
        # --jepa_attention=bf16 dumps <variant>+attention-bf16): the golden int8 budget (rel L2 0.06).
        limit = 1e-4 if variant.startswith("f32") and "attention-bf16" not in variant else 0.06
        good = rel <= limit
        ok &= good
        print(f"  {args.preset} jepa-rt {variant} vs PyTorch fp32: max abs {np.abs(got - ref).max():.3g}, "
              f"rel L2 {rel:.3g}, cosine {cos:.6f} (limit rel L2 {limit}) {'ok' if good else 'FAIL'}")
    if not found:
        print(f"  {args.preset}: no jepa-rt outputs in {args.dump}")
    return 0 if ok else 1


# --------------------------------------------------------------------------
# selftest: these modules against the official code's golden outputs

def load_bin(d, manifest, name):
    for t in manifest["tensors"]:
        if t["name"] == name:
            dt = {"f32": "<f4", "i64": "<i8", "u8": "u1"}[t["dtype"]]
            return torch.from_numpy(np.fromfile(os.path.join(d, t["file"]), dtype=dt).reshape(t["shape"]).copy()), t
    raise KeyError(name)


def compare(d, manifest, name, got):
    ref, meta = load_bin(d, manifest, name)
    tol = meta["tolerance"]["fp32"]
    err = (got - ref).abs()
    bound = tol["atol"] + tol["rtol"] * ref.abs()
    ok = bool((err <= bound).all())
    print(f"  {os.path.basename(d)} {name}: max abs err {err.max().item():.3g} "
          f"(atol {tol['atol']}, rtol {tol['rtol']}) {'ok' if ok else 'FAIL'}")
    return ok


def cmd_selftest(args):
    ok = True
    for d in args.golden:
        with open(os.path.join(d, "config.json")) as f:
            cfg = json.load(f)
        with open(os.path.join(d, "manifest.json")) as f:
            man = json.load(f)
        w = read_safetensors(os.path.join(d, "weights.safetensors"))
        comps = cfg["components"]
        with torch.no_grad():
            if cfg["name"] == "vjepa2_tiny":
                enc = load_component(jt.build(comps["encoder"], "vjepa2"), w, "encoder")
                ok &= compare(d, man, "enc_video.output", enc(load_bin(d, man, "enc_video.video")[0]))
                ok &= compare(d, man, "enc_nonsquare.output", enc(load_bin(d, man, "enc_nonsquare.video")[0]))
                x = load_bin(d, man, "rope_unit.x")[0]
                ok &= compare(d, man, "rope_unit.output", jt.rope_rotate(x, load_bin(d, man, "rope_unit.pos")[0]))
            elif cfg["name"] == "ijepa_tiny":
                enc = load_component(jt.build(comps["encoder"], "ijepa"), w, "encoder")
                ok &= compare(d, man, "enc_image.output", enc(load_bin(d, man, "enc_image.image")[0]))
            elif cfg["name"] == "vjepa2_ac_tiny":
                lat = load_bin(d, man, "ac_encode.latents")[0]
                acts = load_bin(d, man, "ac_teacher_forcing.actions")[0]
                states = load_bin(d, man, "ac_teacher_forcing.states")[0]
                hw = lat.shape[1] // 4
                pred = load_component(jt.build(comps["predictor"], "vjepa2"), w, "predictor")
                ok &= compare(d, man, "ac_teacher_forcing.output", pred(lat[:, :3 * hw], acts, states[:, :3]))
                pext = load_component(jt.build(comps["predictor_ext"], "vjepa2"), w, "predictor")
                ext = load_bin(d, man, "ac_teacher_forcing_ext.extrinsics")[0]
                ok &= compare(d, man, "ac_teacher_forcing_ext.output", pext(lat[:, :3 * hw], acts, states[:, :3], ext))
            else:
                print(f"  {d}: no self-test for {cfg['name']}, skipped")
    print("selftest: " + ("all ok" if ok else "FAILED"))
    return 0 if ok else 1


# --------------------------------------------------------------------------
# table: peers (+ jepa-rt from bench_models JSON) side by side

def ms_per_unit(b):
    """Milliseconds per time unit of one Google Benchmark JSON row."""
    return {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3}[b.get("time_unit", "ns")]


def jepa_rows(path):
    """bench_models JSON -> {(preset, dtype, threads): (wall ms, main-thread CPU ms)};
    variants are <dtype>-<layout> (f32-panel, q8-row_major, ...): the fastest layout of a dtype."""
    with open(path) as f:
        data = json.load(f)
    out = {}
    for b in data.get("benchmarks", []):
        name = b.get("run_name", b["name"])
        if b.get("run_type") == "aggregate" and b.get("aggregate_name") != "median":
            continue
        parts = name.split("/")
        if len(parts) < 4 or parts[0] != "model" or b.get("error_occurred"):
            continue
        if "attention:bf16" in parts or "attention:f32" in parts:  # pinned: the table keeps the default
            continue
        threads = int([p for p in parts if p.startswith("threads:")][0].split(":")[1])
        unit = ms_per_unit(b)
        key = (parts[1], parts[2].split("-")[0], threads)
        ms, cpu = b["real_time"] * unit, b["cpu_time"] * unit
        if key not in out or ms < out[key][0]:
            out[key] = (ms, cpu)
    return out


def cmd_table(args):
    """Wall-clock medians for every row; then, at 1 thread, process-CPU medians
    (all the work is on one thread: the latency a quiet machine would show)."""
    with open(args.results) as f:
        rows = json.load(f)
    ours = jepa_rows(args.jepa) if args.jepa else {}
    key_order, table, gflop = [], {}, {}
    for r in rows:
        k = (r["model"], r["precision"], r["threads"])
        if k not in table:
            key_order.append(k)
            table[k] = {}
        table[k][r["engine"]] = r
        gflop[r["model"]] = r["gflop"]
    jepa_prec = {"fp32": "f32", "int8": "q8"}

    def f(v):
        return f"{v:.1f}" if v is not None else "—"

    for title, col, only1 in (("wall-clock median ms", 0, False), ("1 thread, CPU-time median ms", 1, True)):
        print(f"\n{title}:\n")
        print("| model | GFLOP | precision | threads | PyTorch | ORT | jepa-rt | jepa-rt GFLOP/s | best peer / jepa-rt "
              "| jepa-rt q7 | best peer / q7 |")
        print("| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        for k in key_order:
            m, p, t = k
            if only1 and t != 1:
                continue
            e = table[k]
            key = "median_ms" if col == 0 else "cpu_median_ms"
            pt = e.get("pytorch", {}).get(key)
            ort = e.get("ort", {}).get(key)
            j = ours.get((m, jepa_prec.get(p, p), t))
            j = j[col] if j else None
            peers_ms = [v for v in (pt, ort) if v is not None]
            ratio = f"{min(peers_ms) / j:.2f}x" if j and peers_ms else "—"
            jg = f"{gflop[m] / (j * 1e-3):.1f}" if j else "—"
            # int8 rows: also q8 with 7-bit weights (jepa-convert --dtype q7), the AVX2 u8 x s8 kernel's format
            j7 = ours.get((m, "q7", t)) if p == "int8" else None
            j7 = j7[col] if j7 else None
            ratio7 = f"{min(peers_ms) / j7:.2f}x" if j7 and peers_ms else "—"
            print(f"| {m} | {gflop[m]:.1f} | {p} | {t} | {f(pt)} | {f(ort)} | {f(j)} | {jg} | {ratio} "
                  f"| {f(j7)} | {ratio7} |")
    return 0


def cmd_interleave(args):
    """ONNX Runtime and jepa-rt variants alternated round by round on one preset,
    so slow drifts of a shared machine hit every engine alike: per round, each
    engine's median of a few runs; printed: the median over rounds of those
    medians, and the median over rounds of each round's ORT / jepa-rt ratio."""
    preset = PRESETS[args.preset]
    names = list(preset["inputs"])
    shapes = [preset["inputs"][n] for n in names]
    onnx_path = os.path.join(args.dir, "onnx", f"{args.preset}.{args.precision}.onnx")
    node_dir = os.path.join(args.dir, "node")
    variants = args.variants.split(",")
    threads = [int(t) for t in args.threads.split(",")]
    runs = args.runs
    rounds = {}  # (engine, threads) -> [round medians]
    for r in range(args.rounds):
        for t in threads:
            times, _ = run_ort(node_dir, onnx_path, names, shapes, t, (1, runs, 0.0, runs))
            rounds.setdefault((f"ort {args.precision}", t), []).append(float(np.median(times)))
            for v in variants:
                cmd = [args.bench, f"--jepa_dir={args.dir}", f"--jepa_threads={t}", f"--jepa_models={args.preset}/",
                       "--jepa_attention=auto,f32,bf16",
                       f"--benchmark_filter=model/{args.preset}/{v}/threads:{t}/", "--benchmark_min_time=0",
                       f"--benchmark_repetitions={runs}", "--benchmark_report_aggregates_only=true",
                       "--benchmark_format=json"]
                out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
                med = [b for b in json.loads(out)["benchmarks"] if b.get("aggregate_name") == "median"]
                if not med:
                    raise RuntimeError(f"bench_models ran no row for {args.preset}/{v}/threads:{t}")
                rounds.setdefault((f"jepa-rt {v}", t), []).append(med[0]["real_time"] * ms_per_unit(med[0]))
        print(f"  round {r + 1}/{args.rounds}: " + ", ".join(
            f"{e} {t}t {v[-1]:.1f}" for (e, t), v in rounds.items()), flush=True)
    print(f"\n{args.preset}, {args.rounds} rounds x {runs} runs, wall-clock ms:\n")
    print("| engine | threads | median of round medians | min | max | ORT / this (median of rounds) |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for (e, t), v in rounds.items():
        ort = rounds[(f"ort {args.precision}", t)]
        ratio = float(np.median([o / x for o, x in zip(ort, v)]))
        print(f"| {e} | {t} | {np.median(v):.1f} | {min(v):.1f} | {max(v):.1f} | {ratio:.2f}x |")
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("selftest")
    s.add_argument("golden", nargs="+")
    s = sub.add_parser("gen")
    s.add_argument("preset", choices=sorted(PRESETS))
    s.add_argument("--out", required=True)
    s = sub.add_parser("run")
    s.add_argument("preset", choices=sorted(PRESETS))
    s.add_argument("--out", required=True)
    s.add_argument("--threads", default="1,2")
    s.add_argument("--node-dir", default=os.path.join(os.getcwd(), "build-peers", "node"))
    s.add_argument("--no-ort", action="store_true")
    s.add_argument("--quick", action="store_true", help="1 warm-up + 3 runs (CI smoke: proves it runs)")
    s.add_argument("--json")
    s = sub.add_parser("check-jepa")
    s.add_argument("preset", choices=sorted(PRESETS))
    s.add_argument("--out", required=True)
    s.add_argument("--dump", required=True)
    s = sub.add_parser("interleave", help="ORT and jepa-rt alternated round by round (a noisy machine)")
    s.add_argument("preset", choices=sorted(PRESETS))
    s.add_argument("--dir", default="build-peers")
    s.add_argument("--bench", default="build-bench/bench/bench_models")
    s.add_argument("--precision", default="int8", choices=["int8", "fp32"])
    s.add_argument("--variants", default="q8-panel,q7-panel")
    s.add_argument("--threads", default="1,2")
    s.add_argument("--rounds", type=int, default=5)
    s.add_argument("--runs", type=int, default=5)
    s = sub.add_parser("table")
    s.add_argument("results")
    s.add_argument("jepa", nargs="?")
    sub.add_parser("presets")
    args = ap.parse_args()
    if args.cmd == "presets":
        for k, v in PRESETS.items():
            print(f"{k:16s} checkpoint {v['ckpt']:12s} inputs {v['inputs']}")
        return 0
    return {"selftest": cmd_selftest, "gen": cmd_gen, "run": cmd_run, "table": cmd_table,
            "check-jepa": cmd_check_jepa, "interleave": cmd_interleave}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
