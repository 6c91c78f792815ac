#!/usr/bin/env -S /usr/bin/python3
"""export_checkpoint.py: official JEPA .pt checkpoint -> weights.safetensors + config.json.

Turns a checkpoint as the official V-JEPA 2 / V-JEPA 2-AC / I-JEPA code saves it (a dict holding
`encoder`, `target_encoder`, `predictor` state_dicts, keys prefixed `module.` / `backbone.` by DDP and
the multi-sequence wrappers) into the reference-directory pair that `jepa-convert` and `jepa-verify`
read: `weights.safetensors` (tensors named `<component>.<official key>`) and `config.json` (the
official constructor arguments per component, see docs/CONVERT.md). Needs only torch and numpy: the
safetensors file is written here (no `safetensors` package) and the official repositories are not
imported. Constructor arguments come from a named preset for a released model (--list-presets) or
from JSON given by the user (inline or as a file) in the config.json layout.
"""

import argparse
import copy
import hashlib
import json
import os
import pickletools
import struct
import sys
import zipfile

try:
    import numpy as np
    import torch
except ImportError as e:  # the pyenv python3 first on PATH has no torch; Debian's /usr/bin/python3 does
    sys.exit(f"export_checkpoint.py: {e}. Run it with a Python that has torch, e.g. /usr/bin/python3")

VJEPA2_ENCODER = "src.models.vision_transformer.VisionTransformer"
VJEPA2_PREDICTOR = "src.models.predictor.VisionTransformerPredictor"
VJEPA2_AC_PREDICTOR = "src.models.ac_predictor.VisionTransformerPredictorAC"
IJEPA_ENCODER = "src.models.vision_transformer.VisionTransformer"
IJEPA_PREDICTOR = "src.models.vision_transformer.VisionTransformerPredictor"

# ---------------------------------------------------------------------------------------------
# Presets: the constructor arguments the official hub / configs use for each released checkpoint
# (facebookresearch/vjepa2 src/hub/backbones.py and the vit_* factories in
# src/models/vision_transformer.py; facebookresearch/ijepa configs/*.yaml and src/helper.py).
# All factories pass norm_layer=partial(nn.LayerNorm, eps=1e-6): that is norm_eps.
# ---------------------------------------------------------------------------------------------

# vit_large / vit_huge / vit_giant_xformers of V-JEPA 2 (the hub's "vit_giant" is the 22-head one).
_VJEPA2_ARCH = {
    "vitl": dict(embed_dim=1024, depth=24, num_heads=16, mlp_ratio=4.0),
    "vith": dict(embed_dim=1280, depth=32, num_heads=16, mlp_ratio=4.0),
    "vitg": dict(embed_dim=1408, depth=40, num_heads=22, mlp_ratio=48 / 11),
}


def _vjepa2_encoder(arch, img_size):
    # backbones.py _make_vjepa2_model: vit_encoder_kwargs (use_SiLU/wide_SiLU are misspelled there and
    # swallowed by **kwargs, so the defaults use_silu=False, wide_silu=True apply).
    kw = dict(img_size=[img_size, img_size], patch_size=16, num_frames=64, tubelet_size=2, in_chans=3,
              qkv_bias=True, use_rope=True, use_sdpa=True, use_silu=False, wide_silu=True,
              uniform_power=False, handle_nonsquare_inputs=True)
    kw.update(_VJEPA2_ARCH[arch])
    return {"ctor": VJEPA2_ENCODER, "norm_eps": 1e-6, "kwargs": kw}


def _vjepa2_predictor(arch, img_size):
    # backbones.py _make_vjepa2_model: vit_predictor_kwargs + vit_predictor (mlp_ratio 4, qkv_bias).
    kw = dict(img_size=[img_size, img_size], patch_size=16, num_frames=64, tubelet_size=2,
              embed_dim=_VJEPA2_ARCH[arch]["embed_dim"], predictor_embed_dim=384, depth=12, num_heads=12,
              mlp_ratio=4.0, qkv_bias=True, use_mask_tokens=True, num_mask_tokens=10,
              zero_init_mask_tokens=True, use_rope=True, use_sdpa=True, use_silu=False, wide_silu=True,
              uniform_power=False)
    return {"ctor": VJEPA2_PREDICTOR, "norm_eps": 1e-6, "kwargs": kw}


def _vjepa2_ac_predictor(img_size):
    # backbones.py _make_vjepa2_ac_model + vit_ac_predictor: the class defaults (width 1024, depth 24,
    # 16 heads, frame-causal, RoPE, 7-d actions, no extrinsics) with the encoder's width 1408.
    kw = dict(img_size=[img_size, img_size], patch_size=16, num_frames=64, tubelet_size=2, embed_dim=1408,
              predictor_embed_dim=1024, depth=24, num_heads=16, mlp_ratio=4.0, qkv_bias=True,
              uniform_power=True, use_silu=False, wide_silu=True, is_frame_causal=True, use_rope=True,
              use_sdpa=True, action_embed_dim=7, use_extrinsics=False)
    return {"ctor": VJEPA2_AC_PREDICTOR, "norm_eps": 1e-6, "kwargs": kw}


_IJEPA_ARCH = {
    "vit_huge": dict(embed_dim=1280, depth=32, num_heads=16, mlp_ratio=4.0),
    "vit_giant": dict(embed_dim=1408, depth=40, num_heads=16, mlp_ratio=48 / 11),
}


def _ijepa(arch, crop, patch, pred_depth):
    # ijepa src/helper.py init_model: encoder vit.<arch>(img_size=[crop], patch_size); predictor
    # vit_predictor(num_patches, embed_dim, predictor_embed_dim=384, depth=pred_depth, num_heads=enc heads).
    a = _IJEPA_ARCH[arch]
    enc = dict(img_size=[crop], patch_size=patch, in_chans=3, qkv_bias=True, **a)
    pred = dict(num_patches=(crop // patch) ** 2, embed_dim=a["embed_dim"], predictor_embed_dim=384,
                depth=pred_depth, num_heads=a["num_heads"], mlp_ratio=4.0, qkv_bias=True)
    return {"encoder": {"ctor": IJEPA_ENCODER, "norm_eps": 1e-6, "kwargs": enc},
            "predictor": {"ctor": IJEPA_PREDICTOR, "norm_eps": 1e-6, "kwargs": pred}}


def _preset(family, description, components):
    return {"family": family, "description": description, "components": components}


PRESETS = {
    "vitl": _preset("vjepa2", "V-JEPA 2 ViT-L/16 256px (vitl.pt)",
                    {"encoder": _vjepa2_encoder("vitl", 256), "predictor": _vjepa2_predictor("vitl", 256)}),
    "vith": _preset("vjepa2", "V-JEPA 2 ViT-H/16 256px (vith.pt)",
                    {"encoder": _vjepa2_encoder("vith", 256), "predictor": _vjepa2_predictor("vith", 256)}),
    "vitg": _preset("vjepa2", "V-JEPA 2 ViT-g/16 256px (vitg.pt)",
                    {"encoder": _vjepa2_encoder("vitg", 256), "predictor": _vjepa2_predictor("vitg", 256)}),
    "vitg-384": _preset("vjepa2", "V-JEPA 2 ViT-g/16 384px (vitg-384.pt)",
                        {"encoder": _vjepa2_encoder("vitg", 384), "predictor": _vjepa2_predictor("vitg", 384)}),
    "ac-vitg": _preset("vjepa2", "V-JEPA 2-AC ViT-g/16 256px encoder + action-conditioned predictor "
                       "(vjepa2-ac-vitg.pt)",
                       {"encoder": _vjepa2_encoder("vitg", 256), "predictor": _vjepa2_ac_predictor(256)}),
    "ijepa-vith14": _preset("ijepa", "I-JEPA ViT-H/14 224px (IN1K-vit.h.14-300e, IN22K-vit.h.14-900e)",
                            _ijepa("vit_huge", 224, 14, 12)),
    "ijepa-vith16-448": _preset("ijepa", "I-JEPA ViT-H/16 448px (IN1K-vit.h.16-448px-300e)",
                                _ijepa("vit_huge", 448, 16, 12)),
    "ijepa-vitg16": _preset("ijepa", "I-JEPA ViT-g/16 224px (IN22K-vit.g.16-600e)", _ijepa("vit_giant", 224, 16, 16)),
}

# ---------------------------------------------------------------------------------------------
# safetensors writer: u64 LE header length, compact JSON header (keys sorted, padded with spaces to
# 8 bytes), tensors in name order packed without gaps. Same layout as the golden files.
# ---------------------------------------------------------------------------------------------

_ST_DTYPES = {
    torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16", torch.float64: "F64",
    torch.int64: "I64", torch.int32: "I32", torch.int16: "I16", torch.int8: "I8", torch.uint8: "U8",
    torch.bool: "BOOL",
}


def _tensor_bytes(t):
    t = t.detach().cpu().contiguous()
    if t.dtype == torch.bfloat16:  # numpy has no bfloat16: reinterpret the bits
        t = t.view(torch.int16)
    a = t.numpy()
    if a.dtype.byteorder == ">" or (a.dtype.byteorder == "=" and sys.byteorder == "big"):
        a = a.byteswap().view(a.dtype.newbyteorder("<"))
    return a.tobytes()


def write_safetensors(path, tensors, metadata):
    """tensors: {name: torch.Tensor}; metadata: {str: str}."""
    header = {}
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    blobs = []
    cursor = 0
    for name in sorted(tensors):
        t = tensors[name]
        if t.dtype not in _ST_DTYPES:
            raise ValueError(f"tensor '{name}' has dtype {t.dtype}, which safetensors cannot hold")
        b = _tensor_bytes(t)
        header[name] = {"dtype": _ST_DTYPES[t.dtype], "shape": list(t.shape), "data_offsets": [cursor, cursor + len(b)]}
        blobs.append(b)
        cursor += len(b)
    text = json.dumps(header, sort_keys=True, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)


def read_safetensors(path):
    """{name: numpy array (raw dtype)}, metadata. For tests and --check; bf16 comes back as int16 bits."""
    np_types = {"F32": "<f4", "F16": "<f2", "BF16": "<i2", "F64": "<f8", "I64": "<i8", "I32": "<i4",
                "I16": "<i2", "I8": "i1", "U8": "u1", "BOOL": "?"}
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    base = 8 + n
    out = {}
    meta = header.pop("__metadata__", {})
    for name, e in header.items():
        b, end = e["data_offsets"]
        out[name] = (e["dtype"], np.frombuffer(data[base + b:base + end], dtype=np_types[e["dtype"]]).reshape(e["shape"]))
    return out, meta

# ---------------------------------------------------------------------------------------------
# Checkpoint reading
# ---------------------------------------------------------------------------------------------


# What an official checkpoint (tensors, dicts, numbers, strings) may reference in its pickle.
_ALLOWED_GLOBALS = {
    ("collections", "OrderedDict"),
    ("torch._utils", "_rebuild_tensor"), ("torch._utils", "_rebuild_tensor_v2"),
    ("torch._utils", "_rebuild_parameter"), ("torch._utils", "_rebuild_parameter_with_state"),
    ("torch._tensor", "_rebuild_from_type_v2"), ("torch", "Tensor"), ("torch.nn.parameter", "Parameter"),
    ("torch", "Size"), ("torch", "device"), ("builtins", "set"), ("builtins", "frozenset"),
    ("builtins", "slice"), ("builtins", "complex"),
    ("numpy.core.multiarray", "scalar"), ("numpy", "dtype"),
    ("_codecs", "encode"),  # how protocol 2 stores bytes (numpy scalars); torch's weights_only allows it too
}


def _allowed_global(module, name):
    if (module, name) in _ALLOWED_GLOBALS:
        return True
    # Storage classes (torch.FloatStorage, ...) and dtypes (torch.float32, ...) name data types only.
    return module == "torch" and (name.endswith("Storage") or isinstance(getattr(torch, name, None), torch.dtype))


def _pickle_globals(data):
    """Every (module, name) a pickle imports, found by reading its opcodes (nothing is executed)."""
    found, strings, memo = [], [], {}
    for op, arg, _ in pickletools.genops(data):
        if op.name == "GLOBAL":
            module, name = arg.split(" ", 1)
            found.append((module, name))
        elif op.name in ("SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8", "UNICODE", "SHORT_BINSTRING",
                         "BINSTRING", "STRING"):
            strings.append(arg)
        elif op.name in ("BINPUT", "LONG_BINPUT", "PUT"):
            memo[arg] = strings[-1] if strings else None
        elif op.name == "MEMOIZE":
            memo[len(memo)] = strings[-1] if strings else None
        elif op.name in ("BINGET", "LONG_BINGET", "GET"):
            strings.append(memo.get(arg))
        elif op.name == "STACK_GLOBAL":
            # Protocol 4+: module and name are the two strings pushed just before (best effort; an
            # unresolvable pair is reported as unknown and refused).
            found.append((strings[-2], strings[-1]) if len(strings) >= 2 and None not in strings[-2:]
                         else ("<unknown>", "<unknown>"))
    return found


def _unsafe_globals(path):
    """Disallowed globals of a zip-format torch checkpoint, or None when the file is not one."""
    if not zipfile.is_zipfile(path):
        return None
    bad = set()
    with zipfile.ZipFile(path) as z:
        for entry in z.namelist():
            if entry.endswith(".pkl"):
                bad |= {g for g in _pickle_globals(z.read(entry)) if not _allowed_global(*g)}
    return bad


def load_checkpoint(path, allow_pickle):
    # Unpickling runs code, so the pickle's imports are checked first: only tensors, containers and
    # numbers (all an official checkpoint holds) pass. torch.load(weights_only=True) would do the same
    # but torch 1.13's version rejects the plain floats (lr, loss) of every official checkpoint, and
    # 1.13 ignores a custom pickle_module. --unsafe-pickle skips the check, for trusted files only.
    if not os.path.isfile(path):
        sys.exit(f"export_checkpoint.py: no such file '{path}'")
    if not allow_pickle:
        bad = _unsafe_globals(path)
        if bad is None:
            sys.exit(f"export_checkpoint.py: '{path}' is not a zip-format torch checkpoint, so its pickle cannot "
                     "be checked; if you trust the file, rerun with --unsafe-pickle")
        if bad:
            names = ", ".join(sorted(f"{m}.{n}" for m, n in bad)[:5])
            sys.exit(f"export_checkpoint.py: refusing to unpickle '{path}': it references {names} (not tensors, "
                     "dicts or numbers); if you trust the file, rerun with --unsafe-pickle")
    return torch.load(path, map_location="cpu")


def clean_key(key):
    # As src/hub/backbones.py _clean_backbone_key: drop every "module." and "backbone.".
    return key.replace("module.", "").replace("backbone.", "")


def is_state_dict(obj):
    return isinstance(obj, dict) and len(obj) > 0 and all(torch.is_tensor(v) for v in obj.values())


def component_state_dicts(ckpt, components, sources):
    """{component: {clean key: tensor}} for every component of the config.

    sources maps a component to the checkpoint entry it comes from (default: the same name). A
    checkpoint that is itself one flat state_dict is split by "<component>." key prefixes, or given
    whole to the single component when there is only one."""
    out = {}
    if is_state_dict(ckpt):
        flat = {clean_key(k): v for k, v in ckpt.items()}
        for comp in components:
            prefix = sources.get(comp, comp) + "."
            part = {k[len(prefix):]: v for k, v in flat.items() if k.startswith(prefix)}
            if not part and len(components) == 1:
                part = flat
            if not part:
                sys.exit(f"export_checkpoint.py: the checkpoint is one flat state_dict and no key starts with "
                         f"'{prefix}' for component '{comp}'")
            out[comp] = part
        return out
    if not isinstance(ckpt, dict):
        sys.exit(f"export_checkpoint.py: the checkpoint holds a {type(ckpt).__name__}, not a dict of state_dicts")
    for comp in components:
        src = sources.get(comp, comp)
        if src not in ckpt:
            have = ", ".join(k for k, v in ckpt.items() if isinstance(v, dict))
            sys.exit(f"export_checkpoint.py: component '{comp}' needs checkpoint entry '{src}', which is absent "
                     f"(dict entries: {have or 'none'}); choose one with --source {comp}=NAME")
        sd = ckpt[src]
        if not is_state_dict(sd):
            sys.exit(f"export_checkpoint.py: checkpoint entry '{src}' is not a state_dict of tensors")
        cleaned = {}
        for k, v in sd.items():
            ck = clean_key(k)
            if ck in cleaned:
                sys.exit(f"export_checkpoint.py: '{src}' has two keys that both clean to '{ck}'")
            cleaned[ck] = v
        out[comp] = cleaned
    return out

# ---------------------------------------------------------------------------------------------
# Config handling
# ---------------------------------------------------------------------------------------------


def resolve_config(spec):
    """A preset name, inline JSON, or a path to a JSON file (config.json layout)."""
    if spec in PRESETS:
        cfg = copy.deepcopy(PRESETS[spec])
        cfg["name"] = spec
        return cfg
    if spec.lstrip().startswith("{"):
        cfg = json.loads(spec)
    elif os.path.isfile(spec):
        with open(spec) as f:
            cfg = json.load(f)
    else:
        sys.exit(f"export_checkpoint.py: --config '{spec}' is neither a preset ({', '.join(PRESETS)}), "
                 "inline JSON nor a file")
    if not isinstance(cfg.get("components"), dict) or not cfg["components"]:
        sys.exit("export_checkpoint.py: the config needs a non-empty 'components' object")
    for name, comp in cfg["components"].items():
        if "ctor" not in comp or not isinstance(comp.get("kwargs"), dict):
            sys.exit(f"export_checkpoint.py: component '{name}' needs 'ctor' and a 'kwargs' object")
    return cfg


def apply_override(cfg, text):
    # COMPONENT.kwargs.KEY=JSON or COMPONENT.norm_eps=JSON (value parsed as JSON, else kept as a string).
    if "=" not in text:
        sys.exit(f"export_checkpoint.py: --set '{text}' is not PATH=VALUE")
    path, value = text.split("=", 1)
    try:
        value = json.loads(value)
    except json.JSONDecodeError:
        pass
    keys = path.split(".")
    node = cfg["components"]
    for k in keys[:-1]:
        if k not in node or not isinstance(node[k], dict):
            sys.exit(f"export_checkpoint.py: --set '{path}': '{k}' does not exist")
        node = node[k]
    node[keys[-1]] = value


def sha256_of(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def main(argv=None):
    p = argparse.ArgumentParser(
        description="Export an official V-JEPA 2 / V-JEPA 2-AC / I-JEPA .pt checkpoint to weights.safetensors "
                    "+ config.json (the input of jepa-convert and jepa-verify).")
    p.add_argument("checkpoint", nargs="?", help="the .pt / .pth.tar file saved by the official code")
    p.add_argument("--config", help="preset name, inline JSON or a JSON file with the constructor arguments")
    p.add_argument("-o", "--output", help="output directory (gets weights.safetensors and config.json)")
    p.add_argument("--components", help="comma-separated subset of the config's components to export")
    p.add_argument("--source", action="append", default=[], metavar="COMPONENT=ENTRY",
                   help="checkpoint entry for a component, e.g. encoder=target_encoder (default: same name)")
    p.add_argument("--set", action="append", default=[], metavar="PATH=JSON",
                   help="override a config value, e.g. encoder.kwargs.num_frames=16")
    p.add_argument("--dtype", choices=["keep", "f32"], default="keep",
                   help="cast floating tensors to float32 (default: keep the checkpoint's dtype)")
    p.add_argument("--name", help="name written into config.json (default: the preset or the output dir)")
    p.add_argument("--unsafe-pickle", action="store_true",
                   help="allow a full unpickle if weights_only loading fails (only for trusted files)")
    p.add_argument("--list-presets", action="store_true", help="print the presets and exit")
    a = p.parse_args(argv)

    if a.list_presets:
        for k, v in PRESETS.items():
            print(f"{k:18s} {v['family']:7s} {v['description']}")
        return 0
    if not a.checkpoint or not a.config or not a.output:
        p.error("CHECKPOINT, --config and -o are required")

    cfg = resolve_config(a.config)
    for s in a.set:
        apply_override(cfg, s)
    components = list(cfg["components"])
    if a.components:
        wanted = [c.strip() for c in a.components.split(",") if c.strip()]
        for c in wanted:
            if c not in cfg["components"]:
                sys.exit(f"export_checkpoint.py: component '{c}' is not in the config ({', '.join(components)})")
        cfg["components"] = {c: cfg["components"][c] for c in wanted}
        components = wanted
    sources = {}
    for s in a.source:
        if "=" not in s:
            sys.exit(f"export_checkpoint.py: --source '{s}' is not COMPONENT=ENTRY")
        c, e = s.split("=", 1)
        sources[c] = e
    # A component that reuses another's weights (the golden AC config's predictor_ext) is exported once.
    loaded_components = [c for c in components if "weights_from" not in cfg["components"][c]]

    ckpt = load_checkpoint(a.checkpoint, a.unsafe_pickle)
    parts = component_state_dicts(ckpt, loaded_components, sources)

    tensors = {}
    for comp, sd in parts.items():
        for k, v in sd.items():
            if a.dtype == "f32" and v.is_floating_point():
                v = v.float()
            tensors[f"{comp}.{k}"] = v

    os.makedirs(a.output, exist_ok=True)
    st_path = os.path.join(a.output, "weights.safetensors")
    meta = {"format": "pt", "generator": "jepa-rt tools/export_checkpoint.py",
            "source_checkpoint": os.path.basename(a.checkpoint)}
    write_safetensors(st_path, tensors, meta)

    cfg.setdefault("name", a.name or os.path.basename(os.path.normpath(a.output)))
    if a.name:
        cfg["name"] = a.name
    cfg["export"] = {"checkpoint": os.path.basename(a.checkpoint), "checkpoint_sha256": sha256_of(a.checkpoint),
                     "sources": {c: sources.get(c, c) for c in loaded_components},
                     "tensors": len(tensors), "generator": "jepa-rt tools/export_checkpoint.py"}
    with open(os.path.join(a.output, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
        f.write("\n")
    total = sum(t.numel() for t in tensors.values())
    print(f"wrote {st_path}: {len(tensors)} tensors, {total / 1e6:.2f} M values; components "
          f"{', '.join(f'{c} ({len(parts[c])})' for c in loaded_components)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
