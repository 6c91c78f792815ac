"""bench/peers/jepa_torch.py: small PyTorch re-implementations of the JEPA
networks jepa-rt runs, for the model-peer benchmarks (PyTorch, ONNX Runtime).

Written from the architecture notes (ARCHITECTURE.md sections 1-3, 5), not
copied from the official repositories. Module and parameter names follow the
official state_dict keys, so a checkpoint made here loads into the official
modules and converts with jepa-convert, and the golden checkpoints load here:
`peers.py selftest` checks these modules against the golden outputs of the
official code (vjepa2_tiny, ijepa_tiny, vjepa2_ac_tiny).

Torch 1.13 (Debian) has no F.scaled_dot_product_attention: attention is
softmax(q k^T / sqrt(d) + mask) v, the same function.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


# --------------------------------------------------------------------------
# V-JEPA 2 RoPE (ARCHITECTURE.md 1.1): adjacent pairs, sin/cos tables of the
# s/2 angles tiled twice (element k uses angle k mod s/2), as the released
# checkpoints need.

def rope_rotate(x, pos):
    """x [..., N, s], pos [N] (float): the official rotate_queries_or_keys."""
    s = x.shape[-1]
    half = s // 2
    omega = 1.0 / (10000.0 ** (torch.arange(half, dtype=x.dtype) / half))
    ang = pos.to(x.dtype)[:, None] * omega[None, :]          # [N, s/2]
    cos = torch.cat([ang.cos(), ang.cos()], dim=-1)          # tiled, not interleaved
    sin = torch.cat([ang.sin(), ang.sin()], dim=-1)
    pairs = x.reshape(*x.shape[:-1], half, 2)
    rot = torch.stack((-pairs[..., 1], pairs[..., 0]), dim=-1).reshape(x.shape)
    return x * cos + rot * sin


def rope_3d(x, t, h, w, seg):
    """Rotate segments [0,seg) by t, [seg,2seg) by h, [2seg,3seg) by w; the tail stays."""
    parts = [rope_rotate(x[..., 0:seg], t), rope_rotate(x[..., seg:2 * seg], h),
             rope_rotate(x[..., 2 * seg:3 * seg], w)]
    if 3 * seg < x.shape[-1]:
        parts.append(x[..., 3 * seg:])
    return torch.cat(parts, dim=-1)


def rope_time_only(x, t, seg):
    """Conditioning tokens of V-JEPA 2-AC: only the t segment is rotated."""
    return torch.cat([rope_rotate(x[..., 0:seg], t), x[..., seg:]], dim=-1)


def grid_positions(n_tokens, gh, gw):
    """Flat token index -> (t, h, w) in patch units, t slowest."""
    ids = torch.arange(n_tokens)
    per_frame = gh * gw
    t = ids // per_frame
    h = (ids % per_frame) // gw
    w = ids % gw
    return t.float(), h.float(), w.float()


# --------------------------------------------------------------------------
# The pre-norm ViT block shared by every model here.

class Attention(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.head_dim = dim // heads
        self.qkv = nn.Linear(dim, 3 * dim, bias=True)
        self.proj = nn.Linear(dim, dim, bias=True)
        self.rope = None  # set by the model: fn(q_or_k [B,H,N,hd]) -> rotated

    def forward(self, x, mask=None):
        B, N, C = x.shape
        qkv = self.qkv(x).reshape(B, N, 3, self.heads, self.head_dim).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        if self.rope is not None:
            q, k = self.rope(q), self.rope(k)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(self.head_dim))
        if mask is not None:
            att = att.masked_fill(~mask, float("-inf"))
        att = att.softmax(dim=-1)
        y = (att @ v).transpose(1, 2).reshape(B, N, C)
        return self.proj(y)


class Mlp(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x):
        return self.fc2(F.gelu(self.fc1(x)))  # exact erf GELU


class Block(nn.Module):
    def __init__(self, dim, heads, mlp_hidden, eps):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=eps)
        self.attn = Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim, eps=eps)
        self.mlp = Mlp(dim, mlp_hidden)

    def forward(self, x, mask=None):
        x = x + self.attn(self.norm1(x), mask)
        return x + self.mlp(self.norm2(x))


def rope_segment(head_dim):
    return 2 * ((head_dim // 3) // 2)


# --------------------------------------------------------------------------
# Models

class VJepa2Encoder(nn.Module):
    """V-JEPA 2 video encoder (src.models.vision_transformer.VisionTransformer, use_rope=True)."""

    def __init__(self, embed_dim, depth, num_heads, mlp_ratio=4.0, patch_size=16, tubelet_size=2,
                 num_frames=16, in_chans=3, norm_eps=1e-6, **_):
        super().__init__()
        self.patch_size, self.tubelet_size = patch_size, tubelet_size
        self.patch_embed = nn.Module()
        if num_frames > 1:
            self.patch_embed.proj = nn.Conv3d(in_chans, embed_dim, (tubelet_size, patch_size, patch_size),
                                              stride=(tubelet_size, patch_size, patch_size))
        else:
            self.patch_embed.proj = nn.Conv2d(in_chans, embed_dim, patch_size, stride=patch_size)
        hidden = int(embed_dim * mlp_ratio)
        self.blocks = nn.ModuleList([Block(embed_dim, num_heads, hidden, norm_eps) for _ in range(depth)])
        self.norm = nn.LayerNorm(embed_dim, eps=norm_eps)
        self.seg = rope_segment(embed_dim // num_heads)

    def forward(self, video):
        """video [B, C, T, H, W] -> tokens [B, T/2 * H/p * W/p, D]."""
        if isinstance(self.patch_embed.proj, nn.Conv3d):
            x = self.patch_embed.proj(video)
            T, gh, gw = x.shape[2], x.shape[3], x.shape[4]
        else:
            x = self.patch_embed.proj(video[:, :, 0] if video.dim() == 5 else video)
            T, gh, gw = 1, x.shape[2], x.shape[3]
        x = x.flatten(2).transpose(1, 2)
        t, h, w = grid_positions(T * gh * gw, gh, gw)
        rope = lambda z: rope_3d(z, t, h, w, self.seg)  # noqa: E731
        for blk in self.blocks:
            blk.attn.rope = rope
            x = blk(x)
        return self.norm(x)


class IJepaEncoder(nn.Module):
    """I-JEPA image encoder: Conv2d patches + the pos_embed table from the checkpoint."""

    def __init__(self, img_size, embed_dim, depth, num_heads, mlp_ratio=4.0, patch_size=16, in_chans=3,
                 norm_eps=1e-6, **_):
        super().__init__()
        img = img_size[0] if isinstance(img_size, (list, tuple)) else img_size
        n = (img // patch_size) ** 2
        self.patch_embed = nn.Module()
        self.patch_embed.proj = nn.Conv2d(in_chans, embed_dim, patch_size, stride=patch_size)
        self.pos_embed = nn.Parameter(torch.zeros(1, n, embed_dim), requires_grad=False)
        hidden = int(embed_dim * mlp_ratio)
        self.blocks = nn.ModuleList([Block(embed_dim, num_heads, hidden, norm_eps) for _ in range(depth)])
        self.norm = nn.LayerNorm(embed_dim, eps=norm_eps)

    def forward(self, image):
        x = self.patch_embed.proj(image).flatten(2).transpose(1, 2)
        x = x + self.pos_embed
        for blk in self.blocks:
            x = blk(x)
        return self.norm(x)


class VJepa2ACPredictor(nn.Module):
    """V-JEPA 2-AC predictor (src.models.ac_predictor.VisionTransformerPredictorAC)."""

    def __init__(self, img_size, patch_size, embed_dim, predictor_embed_dim, depth, num_heads, mlp_ratio=4.0,
                 action_embed_dim=7, use_extrinsics=False, norm_eps=1e-6, **_):
        super().__init__()
        img = img_size if isinstance(img_size, (list, tuple)) else (img_size, img_size)
        self.gh, self.gw = img[0] // patch_size, img[1] // patch_size
        self.use_extrinsics = use_extrinsics
        P = predictor_embed_dim
        self.predictor_embed = nn.Linear(embed_dim, P)
        self.action_encoder = nn.Linear(action_embed_dim, P)
        self.state_encoder = nn.Linear(action_embed_dim, P)
        self.extrinsics_encoder = nn.Linear(action_embed_dim - 1, P)
        hidden = int(P * mlp_ratio)
        self.predictor_blocks = nn.ModuleList([Block(P, num_heads, hidden, norm_eps) for _ in range(depth)])
        self.predictor_norm = nn.LayerNorm(P, eps=norm_eps)
        self.predictor_proj = nn.Linear(P, embed_dim)
        self.seg = rope_segment(P // num_heads)

    def forward(self, latents, actions, states, extrinsics=None):
        """latents [B, T*HW, D_enc], actions/states [B, T, 7] -> [B, T*HW, D_enc]."""
        x = self.predictor_embed(latents)
        B, _, P = x.shape
        HW = self.gh * self.gw
        T = x.shape[1] // HW
        cond = [self.action_encoder(actions), self.state_encoder(states)]
        if self.use_extrinsics:
            cond.append(self.extrinsics_encoder(extrinsics))
        nc = len(cond)
        x = torch.cat([c.unsqueeze(2) for c in cond] + [x.view(B, T, HW, P)], dim=2).flatten(1, 2)
        # Per token: is it a conditioning token, its step and grid position.
        step = torch.arange(T).repeat_interleave(nc + HW).float()
        is_cond = (torch.arange(nc + HW) < nc).repeat(T)
        _, h, w = grid_positions(HW, self.gh, self.gw)
        h = torch.cat([torch.zeros(nc), h]).repeat(T)
        w = torch.cat([torch.zeros(nc), w]).repeat(T)
        seg = self.seg
        sel = is_cond[None, None, :, None]

        def rope(z):
            return torch.where(sel, rope_time_only(z, step, seg), rope_3d(z, step, h, w, seg))

        # Block-causal over whole steps (True = may attend).
        mask = step[:, None] >= step[None, :]
        for blk in self.predictor_blocks:
            blk.attn.rope = rope
            x = blk(x, mask)
        x = x.view(B, T, nc + HW, P)[:, :, nc:, :].flatten(1, 2)
        return self.predictor_proj(self.predictor_norm(x))


# --------------------------------------------------------------------------
# Builders from a golden-layout config.json component

VJEPA2_ENCODER = "src.models.vision_transformer.VisionTransformer"
AC_PREDICTOR = "src.models.ac_predictor.VisionTransformerPredictorAC"


def build(component, family):
    """component = config.json components.<name> ({ctor, norm_eps, kwargs})."""
    kw = dict(component["kwargs"])
    kw["norm_eps"] = component.get("norm_eps", 1e-6)
    ctor = component["ctor"]
    if ctor == AC_PREDICTOR:
        return VJepa2ACPredictor(**kw)
    if ctor == VJEPA2_ENCODER and family == "vjepa2":
        return VJepa2Encoder(**kw)
    if ctor == VJEPA2_ENCODER and family == "ijepa":
        return IJepaEncoder(**kw)
    raise ValueError(f"no peer module for {family} {ctor}")
