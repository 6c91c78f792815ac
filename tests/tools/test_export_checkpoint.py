#!/usr/bin/env -S /usr/bin/python3
"""End-to-end test of tools/export_checkpoint.py (run by CTest, see tools/CMakeLists.txt).

For each golden config in tests/data: re-save its weights as an official-style .pt checkpoint
(torch.save of {encoder, target_encoder, predictor, epoch, opt} with DDP "module." and wrapper
"backbone." prefixes, as the official training code writes them), export it, and check the result
equals the golden weights.safetensors tensor by tensor (name, dtype, shape, bytes) and that the
exported config.json has the golden components. With --tools DIR, also run jepa-convert on the export
and jepa-verify on a reference directory made of the export plus the golden manifest and arrays.
Usage: test_export_checkpoint.py DATA_DIR [--tools BUILD_TOOLS_DIR]
"""
import argparse
import contextlib
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
EXPORTER = os.path.join(HERE, "..", "..", "tools", "export_checkpoint.py")
sys.path.insert(0, os.path.dirname(EXPORTER))
import export_checkpoint as ex  # noqa: E402

FAILURES = []


def check(cond, what):
    if not cond:
        FAILURES.append(what)
        print("FAIL:", what)


def golden_state_dicts(st_path):
    tensors, _ = ex.read_safetensors(st_path)
    comps = {}
    for name, (dtype, arr) in tensors.items():
        comp, key = name.split(".", 1)
        comps.setdefault(comp, {})[key] = torch.from_numpy(arr.copy())
    return comps, tensors


class Result:
    def __init__(self, returncode, stdout, stderr):
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


def export(ckpt_obj, tmp, args, out_name="out"):
    # In-process (importing torch once keeps the test fast); the exporter reports errors by sys.exit.
    pt = os.path.join(tmp, "ckpt.pt")
    torch.save(ckpt_obj, pt)
    out = os.path.join(tmp, out_name)
    o, e = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(o), contextlib.redirect_stderr(e):
        try:
            rc = ex.main([pt, "-o", out] + args)
        except SystemExit as x:
            rc = x.code if isinstance(x.code, int) else 1
            if not isinstance(x.code, int):
                print(x.code, file=sys.stderr)
    r = Result(rc, o.getvalue(), e.getvalue())
    if r.returncode != 0:
        print(r.stdout, r.stderr)
    return r, out


class Evil:
    """Unpickling this would import a class from the test module: the exporter must refuse it."""


def same_tensors(a, b, label):
    check(sorted(a) == sorted(b), f"{label}: tensor names differ: {sorted(set(a) ^ set(b))[:5]}")
    for k in a:
        if k not in b:
            continue
        (da, xa), (db, xb) = a[k], b[k]
        check(da == db, f"{label}: {k} dtype {da} != {db}")
        check(list(xa.shape) == list(xb.shape), f"{label}: {k} shape {xa.shape} != {xb.shape}")
        check(xa.tobytes() == xb.tobytes(), f"{label}: {k} bytes differ")


def test_config(data_dir, cfg_name, tools):
    src = os.path.join(data_dir, cfg_name)
    comps, golden = golden_state_dicts(os.path.join(src, "weights.safetensors"))
    with open(os.path.join(src, "config.json")) as f:
        golden_cfg = json.load(f)
    with tempfile.TemporaryDirectory() as tmp:
        # The official layout: DDP + wrapper prefixes, optimizer state and counters beside the weights.
        ckpt = {"epoch": 3, "loss": 0.5, "batch_size": 4, "lr": 1e-4,
                "opt": {"state": {}, "param_groups": [{"lr": 1e-4, "params": [0, 1]}]}}
        for comp, sd in comps.items():
            ckpt[comp] = {"module.backbone." + k: v for k, v in sd.items()}
        ckpt["target_encoder"] = {"module.backbone." + k: v * 0 for k, v in comps["encoder"].items()}
        r, out = export(ckpt, tmp, ["--config", os.path.join(src, "config.json")])
        check(r.returncode == 0, f"{cfg_name}: exporter failed: {r.stderr.strip()}")
        if r.returncode != 0:
            return
        exported, meta = ex.read_safetensors(os.path.join(out, "weights.safetensors"))
        same_tensors(golden, exported, cfg_name)
        check(meta.get("format") == "pt", f"{cfg_name}: metadata {meta}")
        with open(os.path.join(out, "config.json")) as f:
            cfg = json.load(f)
        check(cfg["components"] == golden_cfg["components"], f"{cfg_name}: config components differ")
        check(cfg["family"] == golden_cfg["family"], f"{cfg_name}: family differs")
        # The header layout is the golden one: only __metadata__ may differ, so the data sections match.
        with open(os.path.join(src, "weights.safetensors"), "rb") as f:
            gb = f.read()
        with open(os.path.join(out, "weights.safetensors"), "rb") as f:
            eb = f.read()
        gn, en = int.from_bytes(gb[:8], "little"), int.from_bytes(eb[:8], "little")
        check(gb[8 + gn:] == eb[8 + en:], f"{cfg_name}: data sections differ")

        # --source encoder=target_encoder picks the other state_dict (here all zeros).
        r2, out2 = export(ckpt, tmp, ["--config", os.path.join(src, "config.json"),
                                      "--source", "encoder=target_encoder", "--components", "encoder"], "out_target")
        check(r2.returncode == 0, f"{cfg_name}: --source export failed")
        if r2.returncode == 0:
            t2, _ = ex.read_safetensors(os.path.join(out2, "weights.safetensors"))
            check(all(k.startswith("encoder.") for k in t2), f"{cfg_name}: --components encoder exported others")
            check(all(not np.any(x) for _, x in t2.values()), f"{cfg_name}: --source did not pick target_encoder")

        if tools:
            run_tools(tools, src, out, cfg_name, tmp)


def run_tools(tools, src, out, cfg_name, tmp):
    # Reference directory = exported weights/config + the golden manifest and arrays.
    ref = os.path.join(tmp, "ref")
    shutil.copytree(src, ref)
    shutil.copy(os.path.join(out, "weights.safetensors"), os.path.join(ref, "weights.safetensors"))
    shutil.copy(os.path.join(out, "config.json"), os.path.join(ref, "config.json"))
    conv = os.path.join(tools, "jepa-convert")
    jepa = os.path.join(tmp, "encoder.jepa")
    r = subprocess.run([conv, os.path.join(ref, "weights.safetensors"), os.path.join(ref, "config.json"),
                        "--component", "encoder", "-o", jepa], capture_output=True, text=True)
    check(r.returncode == 0 and os.path.getsize(jepa) > 0, f"{cfg_name}: jepa-convert failed: {r.stdout} {r.stderr}")
    r = subprocess.run([os.path.join(tools, "jepa-verify"), ref], capture_output=True, text=True)
    print(r.stdout)
    check(r.returncode == 0, f"{cfg_name}: jepa-verify on the exported weights failed: {r.stderr}")
    run_jepa_run(tools, ref, cfg_name, tmp)
    # The verifier must notice a wrong weight: perturb one LayerNorm gain by 1% and expect failures.
    tensors, meta = ex.read_safetensors(os.path.join(ref, "weights.safetensors"))
    bad = {k: torch.from_numpy(x.copy()) for k, (d, x) in tensors.items()}
    bad["encoder.norm.weight"] = bad["encoder.norm.weight"] * 1.01
    ex.write_safetensors(os.path.join(ref, "weights.safetensors"), bad, meta)
    r = subprocess.run([os.path.join(tools, "jepa-verify"), ref], capture_output=True, text=True)
    check(r.returncode == 1 and "FAIL" in r.stdout, f"{cfg_name}: jepa-verify missed a perturbed encoder.norm.weight")


def run_cmd(args):
    r = subprocess.run(args, capture_output=True, text=True)
    if r.returncode != 0:
        print(" ".join(args), "->", r.returncode, r.stdout, r.stderr)
    return r


def close(path, ref_path, label, atol=2e-4, rtol=1e-4):
    got = np.fromfile(path, dtype="<f4")
    ref = np.fromfile(ref_path, dtype="<f4")
    ok = got.shape == ref.shape and bool(np.all(np.abs(got - ref) <= atol + rtol * np.abs(ref)))
    check(ok, f"{label}: jepa-run output differs from {os.path.basename(ref_path)} "
              f"(max abs {np.abs(got - ref).max() if got.shape == ref.shape else 'shape'})")


def run_jepa_run(tools, ref, cfg_name, tmp):
    """The jepa-run contract on the golden cases: raw arrays in, raw arrays out, official layouts."""
    conv, run = os.path.join(tools, "jepa-convert"), os.path.join(tools, "jepa-run")
    with open(os.path.join(ref, "manifest.json")) as f:
        shapes = {t["name"]: t["shape"] for t in json.load(f)["tensors"]}
    model = {}
    for comp in ("encoder", "predictor"):
        model[comp] = os.path.join(tmp, f"run_{comp}.jepa")
        r = run_cmd([conv, os.path.join(ref, "weights.safetensors"), os.path.join(ref, "config.json"),
                     "-o", model[comp], "--component", comp, "--quiet"])
        check(r.returncode == 0, f"{cfg_name}: jepa-convert {comp}")
    y = os.path.join(tmp, "y.bin")
    arr = lambda name: os.path.join(ref, name + ".bin")  # noqa: E731
    shp = lambda name: ",".join(str(d) for d in shapes[name])  # noqa: E731
    if cfg_name == "vjepa2_tiny":
        r = run_cmd([run, "encode", model["encoder"], "--input", arr("enc_video.video"), "--shape",
                     shp("enc_video.video"), "-o", y, "--threads", "2"])
        check(r.returncode == 0, "encode"); close(y, arr("enc_video.output"), "encode")
        r = run_cmd([run, "encode", model["encoder"], "--mask", arr("masked.masks_x"), "-o", y, "--input",
                     arr("enc_video.video"), "--shape", shp("enc_video.video")])
        check(r.returncode == 0, "masked encode"); close(y, arr("masked.context"), "masked encode")
        r = run_cmd([run, "predict", model["predictor"], "--context", arr("masked.context"), "--masks-x",
                     arr("masked.masks_x"), "--masks-y", arr("masked.masks_y"), "--masks-x-shape",
                     shp("masked.masks_x"), "--masks-y-shape", shp("masked.masks_y"), "--mask-index", "1", "-o", y])
        check(r.returncode == 0, "predict"); close(y, arr("masked.prediction"), "predict")
        # A size that does not match the shape is an error naming the file.
        r = subprocess.run([run, "encode", model["encoder"], "--input", arr("enc_video.video"), "--shape",
                            "2,3,4,48,47", "-o", y], capture_output=True, text=True)
        check(r.returncode == 1 and "shape_mismatch" in r.stderr and "enc_video.video.bin" in r.stderr,
              f"encode with a wrong shape: {r.returncode} {r.stderr}")
        r = subprocess.run([run, "predict", model["encoder"], "--context", arr("masked.context"), "--masks-x",
                            arr("masked.masks_x"), "--masks-y", arr("masked.masks_y"), "-o", y],
                           capture_output=True, text=True)
        check(r.returncode == 1 and "not a masked predictor" in r.stderr, f"predict on an encoder: {r.stderr}")
    elif cfg_name == "vjepa2_ac_tiny":
        r = run_cmd([run, "encode", model["encoder"], "--per-frame", "--input", arr("ac_encode.clip"), "--shape",
                     shp("ac_encode.clip"), "-o", y])
        check(r.returncode == 0, "per-frame encode"); close(y, arr("ac_encode.latents"), "per-frame encode")
        # Teacher forcing on the first T = 3 frames of the 4-frame references.
        T, hw_d = shapes["ac_teacher_forcing.actions"][1], 16 * 64
        lat = np.fromfile(arr("ac_encode.latents"), "<f4")[:T * hw_d]
        sta = np.fromfile(arr("ac_teacher_forcing.states"), "<f4")[:T * 7]
        lat.tofile(os.path.join(tmp, "lat.bin")); sta.tofile(os.path.join(tmp, "sta.bin"))
        base = [run, "ac-predict", model["predictor"], "--latents", os.path.join(tmp, "lat.bin"), "--actions",
                arr("ac_teacher_forcing.actions"), "--states", os.path.join(tmp, "sta.bin"), "-o", y]
        r = run_cmd(base)
        check(r.returncode == 0, "ac-predict"); close(y, arr("ac_teacher_forcing.output"), "ac-predict")
        r = run_cmd(base + ["--latent-norm"])
        check(r.returncode == 0, "ac-predict --latent-norm")
        close(y, arr("ac_teacher_forcing.output_normed"), "ac-predict --latent-norm")
        r = run_cmd(base + ["--extrinsics", arr("ac_teacher_forcing_ext.extrinsics")])
        check(r.returncode == 0, "ac-predict --extrinsics")
        close(y, arr("ac_teacher_forcing_ext.output"), "ac-predict --extrinsics")
    elif cfg_name == "ijepa_tiny":
        r = run_cmd([run, "encode", model["encoder"], "--input", arr("enc_image.image"), "--shape",
                     shp("enc_image.image"), "-o", y])
        check(r.returncode == 0, "ijepa encode"); close(y, arr("enc_image.output"), "ijepa encode")
        r = run_cmd([run, "predict", model["predictor"], "--context", arr("masked.context"), "--masks-x",
                     arr("masked.masks_enc"), "--masks-y", arr("masked.masks_pred"), "--batch",
                     str(shapes["masked.masks_enc"][0]), "-o", y])
        check(r.returncode == 0, "ijepa predict"); close(y, arr("masked.prediction"), "ijepa predict")


def test_flat_and_bf16(tmp_root):
    # A bare state_dict (what a user gets from model.state_dict()) with bf16 and f16 tensors.
    sd = {"module.blocks.0.attn.qkv.weight": torch.randn(6, 2).to(torch.bfloat16),
          "module.norm.weight": torch.randn(2).to(torch.float16), "pos_embed": torch.randn(1, 4, 2)}
    cfg = json.dumps({"family": "vjepa2", "components": {"encoder": {"ctor": ex.VJEPA2_ENCODER, "kwargs": {}}}})
    with tempfile.TemporaryDirectory(dir=tmp_root) as tmp:
        r, out = export(sd, tmp, ["--config", cfg])
        check(r.returncode == 0, f"flat: exporter failed {r.stderr}")
        if r.returncode == 0:
            t, _ = ex.read_safetensors(os.path.join(out, "weights.safetensors"))
            check(sorted(t) == ["encoder.blocks.0.attn.qkv.weight", "encoder.norm.weight", "encoder.pos_embed"],
                  f"flat: names {sorted(t)}")
            d, x = t["encoder.blocks.0.attn.qkv.weight"]
            check(d == "BF16", "flat: bf16 kept")
            back = torch.from_numpy(x.copy()).view(torch.bfloat16)
            check(torch.equal(back, sd["module.blocks.0.attn.qkv.weight"]), "flat: bf16 bits")
        r, out = export(sd, tmp, ["--config", cfg, "--dtype", "f32"])
        if r.returncode == 0:
            t, _ = ex.read_safetensors(os.path.join(out, "weights.safetensors"))
            check(t["encoder.norm.weight"][0] == "F32", "flat: --dtype f32 casts")
            check(np.array_equal(t["encoder.norm.weight"][1], sd["module.norm.weight"].float().numpy()),
                  "flat: f16 -> f32 values")
        # Errors: a missing component entry and a bad preset name exit non-zero with a message.
        r, _ = export({"encoder": {"a": torch.zeros(1)}}, tmp, ["--config", "vitl"])
        check(r.returncode != 0 and "predictor" in r.stderr, f"missing component: {r.stderr}")
        r, _ = export(sd, tmp, ["--config", "no-such-preset"])
        check(r.returncode != 0 and "preset" in r.stderr, f"bad preset: {r.stderr}")
        r, _ = export({"encoder": sd, "evil": Evil()}, tmp, ["--config", cfg])
        check(r.returncode != 0 and "refusing" in r.stderr, f"restricted unpickler: {r.stderr}")
        r, out = export({"encoder": sd, "evil": Evil()}, tmp, ["--config", cfg, "--unsafe-pickle"])
        check(r.returncode == 0, f"--unsafe-pickle: {r.stderr}")


def test_presets():
    for name, p in ex.PRESETS.items():
        cfg = ex.resolve_config(name)
        check(cfg["name"] == name and cfg["family"] in ("vjepa2", "ijepa"), f"preset {name}")
    g = ex.PRESETS["vitg"]["components"]["encoder"]["kwargs"]
    check(g["num_heads"] == 22 and int(g["embed_dim"] * g["mlp_ratio"]) == 6144, "vitg: 22 heads, MLP 6144")
    ac = ex.PRESETS["ac-vitg"]["components"]["predictor"]
    check(ac["ctor"] == ex.VJEPA2_AC_PREDICTOR and ac["kwargs"]["embed_dim"] == 1408, "ac-vitg predictor")
    check(ex.PRESETS["vitg-384"]["components"]["encoder"]["kwargs"]["img_size"] == [384, 384], "vitg-384 size")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("data_dir")
    ap.add_argument("--tools", help="directory holding jepa-convert and jepa-verify")
    a = ap.parse_args()
    test_presets()
    for cfg in ("vjepa2_tiny", "vjepa2_ac_tiny", "ijepa_tiny"):
        if not os.path.isdir(os.path.join(a.data_dir, cfg)):
            check(False, f"{cfg}: missing from {a.data_dir}")
            continue
        test_config(a.data_dir, cfg, a.tools)
    with tempfile.TemporaryDirectory() as tmp:
        test_flat_and_bf16(tmp)
    if FAILURES:
        print(f"{len(FAILURES)} failure(s)")
        return 1
    print("export_checkpoint: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
