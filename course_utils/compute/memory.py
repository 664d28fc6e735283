"""Memory: the weights (parameters × bytes), the feature maps (∝ pixels) and naive attention's scores (∝ pixels²).

Taught in: chapter 6 (Compute requirements).
"""

from __future__ import annotations

import math
from typing import Any

import torch

from .. import checks
from ..device import DTYPES
from .configs import check_model, check_sides, read_config, vae_factor

__all__ = ["GIB", "activation_memory", "attention_levels", "attention_memory", "weight_memory"]

GIB = 2**30


def _dtype_bytes(dtype: Any, arg: str = "dtype") -> int:
    if isinstance(dtype, str):
        name = dtype.lower().removeprefix("torch.")
        dtype = DTYPES[checks.one_of(arg, name, sorted(DTYPES), hint="These are the number formats the course knows.")]
    if not isinstance(dtype, torch.dtype):
        raise checks.fail(arg, dtype, "a torch.dtype such as torch.float16, or its name")
    return dtype.itemsize


def weight_memory(params: int, dtype: torch.dtype | str = torch.float16) -> int:
    """
    Bytes needed to hold `params` numbers in `dtype`: params × bytes per number.

    float32 takes 4 bytes per number, float16 and bfloat16 take 2, int8 takes 1. This is the
    memory of the weights alone; running the model needs more (see `activation_memory`).

    Taught in: chapter 6 (Compute requirements).

    Args:
        params (`int`): a parameter count, ≥ 0.
        dtype (`torch.dtype` or `str`, defaults to `torch.float16`): the number format.

    Returns:
        `int`: bytes.
    """
    return checks.whole("params", params, 0) * _dtype_bytes(dtype)


def attention_memory(tokens: int, heads: int = 8, batch: int = 1, dtype_bytes: int = 2) -> int:
    """
    Bytes of the score matrix a naive self-attention layer stores: tokens² × heads × batch × bytes.

    Every token (latent pixel) is compared with every other one, so doubling the picture's side
    multiplies the tokens by 4 and this matrix by 16. Memory-efficient attention (PyTorch 2's
    ``scaled_dot_product_attention``, xFormers, FlashAttention) computes the same result in tiles and
    never stores the whole matrix; a naive implementation holds it twice (scores and their softmax).

    Taught in: chapter 6 (Compute requirements).

    Args:
        tokens (`int`): sequence length, ≥ 1 (latent height × width at that U-Net level).
        heads (`int`, defaults to 8): attention heads (8 in every SD 1.5 layer).
        batch (`int`, defaults to 1): batch size (2 with classifier-free guidance).
        dtype_bytes (`int`, defaults to 2): bytes per number (2 for float16, 4 for float32).

    Returns:
        `int`: bytes. SD 1.5 at 512 px, first level: 4096² × 8 × 1 × 2 = 268,435,456 (256 MiB).
    """
    tokens = checks.whole("tokens", tokens, 1, 10**7)
    heads = checks.whole("heads", heads, 1, 4096)
    batch = checks.whole("batch", batch, 1, 4096)
    dtype_bytes = checks.whole("dtype_bytes", dtype_bytes, 1, 8)
    return tokens * tokens * heads * batch * dtype_bytes


def _per_block(value: Any, n: int) -> list:
    return list(value) if isinstance(value, (list, tuple)) else [value] * n


def _unet_levels(model_key: str, resolution: tuple[int, int]) -> tuple[dict, list[dict]]:
    """The U-Net's levels at a picture size: channels, latent size, attention heads and layers."""
    cfg = read_config(model_key, "unet")
    f = vae_factor(model_key)
    h, w = resolution[0] // f, resolution[1] // f
    chans = list(cfg["block_out_channels"])
    n = len(chans)
    # diffusers' naming quirk: for SD 1.x/2.x/XL, `attention_head_dim` holds the number of heads.
    heads = _per_block(cfg.get("num_attention_heads") or cfg.get("attention_head_dim", 8), n)
    tlpb = _per_block(cfg.get("transformer_layers_per_block", 1), n)
    lpb = cfg.get("layers_per_block", 2)
    down = cfg["down_block_types"]
    up = cfg["up_block_types"]
    levels = []
    for i in range(n):
        hi, wi = math.ceil(h / 2**i), math.ceil(w / 2**i)
        attn_down = lpb * tlpb[i] if "CrossAttn" in down[i] else 0
        j = n - 1 - i  # the up block that works at this level
        attn_up = (lpb + 1) * tlpb[i] if "CrossAttn" in up[j] else 0
        mid = tlpb[-1] if i == n - 1 and cfg.get("mid_block_type", "UNetMidBlock2DCrossAttn") == \
            "UNetMidBlock2DCrossAttn" else 0
        levels.append({"level": i, "latent_hw": (hi, wi), "channels": chans[i], "heads": heads[i],
                       "attention_layers": attn_down + attn_up + mid, "downsample": i < n - 1})
    return cfg, levels


def attention_levels(model_key: str = "sd15", resolution: int | tuple[int, int] = 512) -> list[dict]:
    """
    The self-attention layers of a U-Net, level by level: how many tokens each one compares, and
    the naive score matrix that costs (float16, batch 1).

    For SD 1.5 at 512 px the latent is 64×64, and the levels work at 64×64, 32×32, 16×16 and 8×8
    (the middle block): 4096, 1024, 256 and 64 tokens.

    Taught in: chapter 6 (Compute requirements).

    Args:
        model_key (`str`, defaults to ``"sd15"``): a key of `available_models`.
        resolution (`int` or `(int, int)`, defaults to 512): picture side (or height and width) in
            pixels, a multiple of 8 from 64 to 4096.

    Returns:
        `list[dict]`: one row per level with attention, from the finest: ``level`` (0 = full latent
        size), ``latent_hw``, ``tokens`` (height × width), ``heads``, ``attention_layers`` (how many
        self-attention layers run there, down, middle and up blocks together) and ``score_bytes``
        (`attention_memory` of one layer).
    """
    key = check_model(model_key)
    hw = check_sides("resolution", resolution, 64, 4096, 8)
    _, levels = _unet_levels(key, hw)
    rows = []
    for lv in levels:
        if lv["attention_layers"]:
            tokens = lv["latent_hw"][0] * lv["latent_hw"][1]
            rows.append({"level": lv["level"], "latent_hw": lv["latent_hw"], "tokens": tokens, "heads": lv["heads"],
                         "attention_layers": lv["attention_layers"],
                         "score_bytes": attention_memory(tokens, lv["heads"], 1, 2)})
    return rows


def _area(level: dict) -> int:
    return level["latent_hw"][0] * level["latent_hw"][1]


def _unet_feature_maps(cfg: dict, levels: list[dict]) -> int:
    """Numbers the U-Net holds at once for one latent: its skip connections and three copies of its widest tensor."""
    # 1. skip connections: conv_in's output, each resnet (+attention) output and each downsampler's output
    skips = cfg["block_out_channels"][0] * _area(levels[0])
    for i, lv in enumerate(levels):
        skips += cfg.get("layers_per_block", 2) * lv["channels"] * _area(lv)
        if lv["downsample"]:
            skips += lv["channels"] * _area(levels[i + 1])
    # 2. the widest tensor: GEGLU's projection (8 × channels) where attention runs, else an up-path
    #    concatenation (2 × channels)
    widest = max((8 if lv["attention_layers"] else 2) * lv["channels"] * _area(lv) for lv in levels)
    return skips + 3 * widest


def _largest_scores(levels: list[dict], batch: int, dtype_bytes: int) -> int:
    """Bytes of the largest naive score matrix among the levels with attention (0 when none has it)."""
    return max((attention_memory(_area(lv), lv["heads"], batch, dtype_bytes) for lv in levels
                if lv["attention_layers"]), default=0)


def _vae_decoder_maps(model_key: str, hw: tuple[int, int]) -> int:
    """Numbers the VAE decoder holds at once for one picture: three copies of its widest tensor."""
    # channels reversed, each level doubles the size; the widest is an upsampler's output
    f = vae_factor(model_key)
    lh, lw = hw[0] // f, hw[1] // f
    rev = list(read_config(model_key, "vae").get("block_out_channels", (128, 256, 512, 512)))[::-1]
    n = len(rev)
    # up block j works at 2^j × the latent size; its upsampler's output is 2^(j+1) × (none after the last)
    widest_per_latent_pixel = max([rev[j] * 4 ** (j + 1) for j in range(n - 1)] + [rev[-1] * 4 ** (n - 1)])
    return 3 * widest_per_latent_pixel * lh * lw


def activation_memory(model_key: str, resolution: int | tuple[int, int], batch: int = 1,
                      dtype_bytes: int = 2) -> dict:
    """
    An estimate of the memory a picture's intermediate results (activations) take, in three parts.

    - ``unet_feature_maps``: the skip connections the U-Net keeps for its way up (every down-block
      output) plus three copies of its widest tensor (the feed-forward layer inside the first
      attention block, 8 × channels wide). Every term is channels × latent height × width, so it
      grows **in proportion to the pixel count**.
    - ``attention_scores``: one naive score matrix at the level with the most tokens
      (`attention_memory`): grows with the **square** of the pixel count. Memory-efficient attention
      (the default in PyTorch 2) never stores it.
    - ``vae_decode``: three copies of the VAE decoder's widest tensor (256 channels at the full
      picture size for Stable Diffusion): also ∝ pixels, and at 512 px bigger than the U-Net's.

    Checked against a measurement (`measure_peak_memory` on the meta device, SD 1.5, 512 px,
    float32, batch 1): the U-Net's feature maps peaked at 136 MB (this estimate: 152 MB), and the VAE
    decoder at 805 MB (this estimate: 805 MB). Real frameworks reuse and free buffers, so read the
    result as the right size, not the exact byte.

    Taught in: chapter 6 (Compute requirements).

    Args:
        model_key (`str`): a key of `available_models`.
        resolution (`int` or `(int, int)`): picture side (or height and width) in pixels, a multiple
            of 8 from 64 to 4096.
        batch (`int`, defaults to 1): latents per U-Net call (2 × pictures with guidance).
        dtype_bytes (`int`, defaults to 2): bytes per number (2 for float16, 4 for float32).

    Returns:
        `dict` of `int` bytes: ``unet_feature_maps``, ``attention_scores``, ``vae_decode``.
    """
    key = check_model(model_key)
    hw = check_sides("resolution", resolution, 64, 4096, 8)
    batch = checks.whole("batch", batch, 1, 4096)
    dtype_bytes = checks.whole("dtype_bytes", dtype_bytes, 1, 8)
    cfg, levels = _unet_levels(key, hw)
    return {"unet_feature_maps": int(_unet_feature_maps(cfg, levels) * batch * dtype_bytes),
            "attention_scores": int(_largest_scores(levels, batch, dtype_bytes)),
            "vae_decode": int(_vae_decoder_maps(key, hw) * batch * dtype_bytes)}
