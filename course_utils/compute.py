"""What a diffusion model costs: parameters, FLOPs, memory and time, counted without downloading it.

Taught in: chapter 6 (Compute requirements).

Everything here starts from the models' published ``config.json`` files, copied to
``assets/configs/`` (see the README there). A config is enough to build the network on PyTorch's
*meta* device: every layer and every tensor shape exists, but no number is stored, so the 2.6
billion parameters of Stable Diffusion XL's U-Net take no memory and a forward pass takes no time.
On that empty shell we can

- count parameters (`count_parameters`, `parameter_table`),
- count the floating-point operations of one U-Net call with PyTorch's own
  `torch.utils.flop_counter.FlopCounterMode` (`unet_flops`, `vae_decode_flops`),
- measure which tensors are alive at the same moment (`measure_peak_memory` works on meta tensors too).

Three facts the chapter builds on, each checked by ``tests/test_compute.py``:

- Stable Diffusion 1.5's U-Net has 859.5 M parameters and costs 0.80 TFLOP per call at 64×64
  latents (512×512 pixels); classifier-free guidance runs it on a batch of 2, so 1.61 TFLOP per step.
- Activations (the feature maps) grow with the pixel count: twice the side, four times the memory.
- Naive self-attention stores a tokens × tokens score matrix, and tokens grow with the pixel
  count, so its memory grows with the *square* of the pixel count: twice the side, sixteen times
  the memory. Nothing grows exponentially.

A FLOP here is one multiplication or one addition: a multiply-add counts as 2, as in the GPU
makers' "TFLOPS". FlopCounterMode counts matrix products, convolutions and attention, which are
nearly all of the work; normalisations, activations and additions are left out (a few percent).
"""

from __future__ import annotations

import functools
import json
import math
import numbers
import os
import statistics
import sys
import time
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten
from torch.utils.flop_counter import FlopCounterMode

from .errors import CourseInputError, CourseSetupError
from .models import EMBEDDED_DIR

__all__ = [
    "CONFIG_DIR",
    "DEFAULT_CPU_FLOP_RATE",
    "GPU",
    "GPUS",
    "MODELS",
    "TYPICAL_GPU_UTILISATION",
    "activation_memory",
    "attention_levels",
    "attention_memory",
    "available_models",
    "build_on_meta",
    "count_parameters",
    "estimate",
    "lower_bound_seconds",
    "measure_peak_memory",
    "measured_flop_rate",
    "parameter_table",
    "time_per_call",
    "unet_flops",
    "vae_decode_flops",
    "weight_memory",
]

GIB = 2**30
CONFIG_DIR = Path(__file__).resolve().parents[1] / "assets" / "configs"


# --------------------------------------------------------------------------------------------
# The models: published configs in assets/configs, and the embedded model's own folder
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ModelSpec:
    """One model whose cost the chapter compares."""

    key: str
    title: str
    source: str  # where the configs come from (a hub id, or the embedded model's folder)
    components: tuple[str, ...]
    resolution: int  # the picture side it was trained for, in pixels


MODELS: dict[str, ModelSpec] = {
    "sd15": ModelSpec("sd15", "Stable Diffusion 1.5", "stable-diffusion-v1-5/stable-diffusion-v1-5",
                      ("unet", "vae", "text_encoder"), 512),
    "sd21": ModelSpec("sd21", "Stable Diffusion 2.1", "stabilityai/stable-diffusion-2-1",
                      ("unet", "vae", "text_encoder"), 768),
    "sdxl": ModelSpec("sdxl", "Stable Diffusion XL base 1.0", "stabilityai/stable-diffusion-xl-base-1.0",
                      ("unet", "vae", "text_encoder", "text_encoder_2"), 1024),
    "embedded": ModelSpec("embedded", "minisd-cats (the course's embedded model)", "assets/models/minisd-cats",
                          ("unet", "vae", "text_encoder"), 64),
}

# Keys of a transformers config.json that describe the file, not the network.
_METADATA_KEYS = ("_name_or_path", "architectures", "torch_dtype", "dtype", "transformers_version", "model_type")


def _embedded_ready() -> bool:
    return (EMBEDDED_DIR / "unet" / "config.json").is_file()


def available_models() -> tuple[str, ...]:
    """
    The model keys this machine can account for: ``sd15``, ``sd21``, ``sdxl``, and ``embedded`` when
    the embedded model's folder (``assets/models/minisd-cats``) exists.

    Taught in: chapter 6 (Compute requirements).

    Returns:
        `tuple[str, ...]`: the keys, in the order of `MODELS`.
    """
    return tuple(k for k in MODELS if k != "embedded" or _embedded_ready())


def _check_model(model_key: Any) -> str:
    key = model_key.strip().lower() if isinstance(model_key, str) else None
    if key not in MODELS:
        raise CourseInputError(
            f"model_key={model_key!r} is not a model the course accounts for: choose one of "
            f"{', '.join(repr(k) for k in MODELS)}.")
    if key == "embedded" and not _embedded_ready():
        raise CourseSetupError(
            f"The embedded model's folder {EMBEDDED_DIR} is missing (no unet/config.json). Restore it with "
            "`git checkout -- assets/models` or train it with `make train-model`.")
    return key


def _config_path(model_key: str, component: str) -> Path:
    if model_key == "embedded":
        return EMBEDDED_DIR / component / "config.json"
    return CONFIG_DIR / model_key / f"{component}.json"


def _components(model_key: str) -> tuple[str, ...]:
    """The components of a model whose config is on disk (the embedded model may lack some)."""
    return tuple(c for c in MODELS[model_key].components if _config_path(model_key, c).is_file())


def _check_component(model_key: str, component: Any) -> str:
    comps = _components(model_key)
    if component not in comps:
        raise CourseInputError(
            f"component={component!r} is not a part of {model_key!r}: choose one of "
            f"{', '.join(repr(c) for c in comps)}.")
    return component


def _stamp(model_key: str, component: str) -> tuple[str, int]:
    """A cache key that changes when the config file does (path and modification time)."""
    path = _config_path(model_key, component)
    return str(path), path.stat().st_mtime_ns


def _read_config(model_key: str, component: str) -> dict:
    path = _config_path(model_key, component)
    try:
        return json.loads(path.read_text())
    except FileNotFoundError as e:
        raise CourseSetupError(
            f"{path} is missing. Restore it with `git checkout -- {path.relative_to(CONFIG_DIR.parents[1])}`.") from e


@functools.cache
def _build(model_key: str, component: str, stamp: tuple) -> torch.nn.Module:
    # `stamp` (the config file's path and modification time) makes a retrained embedded model rebuild.
    cfg = _read_config(model_key, component)
    if "_class_name" in cfg:  # a diffusers model: UNet2DConditionModel, AutoencoderKL, ...
        import diffusers

        cls = getattr(diffusers, cfg["_class_name"], None)
        if cls is None or not hasattr(cls, "from_config"):
            raise CourseSetupError(f"{_config_path(model_key, component)} names an unknown class "
                                   f"{cfg['_class_name']!r}; this diffusers version cannot build it.")
        with torch.device("meta"):
            module = cls.from_config(cfg)
    else:  # a transformers CLIP text tower
        from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

        arch = (cfg.get("architectures") or ["CLIPTextModel"])[0]
        classes = {"CLIPTextModel": CLIPTextModel, "CLIPTextModelWithProjection": CLIPTextModelWithProjection}
        if arch not in classes:
            raise CourseSetupError(f"{_config_path(model_key, component)} describes a {arch}; the course "
                                   f"builds only {', '.join(classes)}.")
        config = CLIPTextConfig(**{k: v for k, v in cfg.items() if k not in _METADATA_KEYS})
        with torch.device("meta"):
            module = classes[arch](config)
    return module.eval().requires_grad_(False)


def build_on_meta(model_key: str, component: str) -> torch.nn.Module:
    """
    Build one part of a model from its published config on PyTorch's meta device: the full network,
    with every parameter's shape and no stored numbers. It takes no memory and downloads nothing.

    The module is built once per process and shared: count it and run it, do not modify it.

    Taught in: chapter 6 (Compute requirements).

    Args:
        model_key (`str`):
            ``"sd15"``, ``"sd21"``, ``"sdxl"`` or ``"embedded"`` (see `available_models`).
        component (`str`):
            ``"unet"``, ``"vae"``, ``"text_encoder"``, or ``"text_encoder_2"`` (SDXL's second, OpenCLIP
            ViT-bigG text tower).

    Returns:
        `torch.nn.Module` on the meta device: a `diffusers.UNet2DConditionModel`,
        `diffusers.AutoencoderKL`, `transformers.CLIPTextModel` or
        `transformers.CLIPTextModelWithProjection`, in eval mode.

    Raises:
        `CourseInputError`: for an unknown model or component.
        `CourseSetupError`: if the config file is missing.

    Example:
        >>> unet = build_on_meta("sd15", "unet")
        >>> count_parameters(unet)
        859520964
    """
    key = _check_model(model_key)
    component = _check_component(key, component)
    return _build(key, component, _stamp(key, component))


# --------------------------------------------------------------------------------------------
# Parameters and weight memory
# --------------------------------------------------------------------------------------------

_DTYPE_NAMES = {"float32": torch.float32, "fp32": torch.float32, "float16": torch.float16, "fp16": torch.float16,
                "half": torch.float16, "bfloat16": torch.bfloat16, "bf16": torch.bfloat16, "int8": torch.int8,
                "float64": torch.float64}


def _dtype_bytes(dtype: Any, arg: str = "dtype") -> int:
    if isinstance(dtype, str):
        name = dtype.lower().removeprefix("torch.")
        if name not in _DTYPE_NAMES:
            raise CourseInputError(f"{arg}={dtype!r} is not a number format the course knows: choose one of "
                                   f"{sorted(_DTYPE_NAMES)}.")
        dtype = _DTYPE_NAMES[name]
    if not isinstance(dtype, torch.dtype):
        raise CourseInputError(f"{arg}={dtype!r} must be a torch.dtype such as torch.float16, or its name.")
    return dtype.itemsize


def count_parameters(module: torch.nn.Module) -> int:
    """
    The number of parameters (learned numbers) of a module; shared parameters count once.

    Works on meta modules, so it counts models that were never downloaded.

    Taught in: chapter 6 (Compute requirements).

    Args:
        module (`torch.nn.Module`): any PyTorch module.

    Returns:
        `int`: the parameter count.
    """
    if not isinstance(module, torch.nn.Module):
        raise CourseInputError(f"module must be a torch.nn.Module, got {type(module).__name__}.")
    return sum(p.numel() for p in module.parameters())


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
    if isinstance(params, bool) or not isinstance(params, numbers.Integral) or params < 0:
        raise CourseInputError(f"params must be a whole number ≥ 0, got {params!r}.")
    return int(params) * _dtype_bytes(dtype)


def parameter_table(models: Iterable[str] | None = None) -> list[dict]:
    """
    Parameters and weight memory of each part of each model, and each model's total.

    Taught in: chapter 6 (Compute requirements).

    Args:
        models (`Iterable[str]`, *optional*):
            Model keys. Defaults to every key in `available_models` (``sd15``, ``sd21``, ``sdxl``, and
            ``embedded`` when its folder exists). The embedded model, asked for but not on disk, is
            left out with a warning that says how to get it.

    Returns:
        `list[dict]`: one row per component and one ``"total"`` row per model, with the keys
        ``model``, ``component``, ``parameters`` (`int`), ``fp32_gib`` and ``fp16_gib`` (`float`,
        gibibytes of weights in float32 and float16).
    """
    if models is None:
        keys = list(available_models())
    else:
        if isinstance(models, str):
            models = (models,)
        keys = []
        for m in models:
            if isinstance(m, str) and m.strip().lower() == "embedded" and not _embedded_ready():
                import warnings

                warnings.warn(f"The embedded model's folder {EMBEDDED_DIR} is missing, so the table leaves it "
                              "out. Train it with `make train-model` or restore it with "
                              "`git checkout -- assets/models`.", stacklevel=2)
                continue
            keys.append(_check_model(m))
    rows = []
    for key in keys:
        total = 0
        for comp in _components(key):
            n = count_parameters(build_on_meta(key, comp))
            total += n
            rows.append(_param_row(key, comp, n))
        rows.append(_param_row(key, "total", total))
    return rows


def _param_row(model: str, component: str, n: int) -> dict:
    return {"model": model, "component": component, "parameters": n,
            "fp32_gib": weight_memory(n, torch.float32) / GIB, "fp16_gib": weight_memory(n, torch.float16) / GIB}


# --------------------------------------------------------------------------------------------
# FLOPs: PyTorch's FlopCounterMode on the meta device
# --------------------------------------------------------------------------------------------


def _count_flops(run: Callable[[], Any]) -> int:
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        run()
    return int(counter.get_total_flops())


def _check_int(value: Any, arg: str, lo: int, hi: int, hint: str = "") -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or not lo <= value <= hi:
        raise CourseInputError(f"{arg} must be a whole number from {lo} to {hi}, got {value!r}.{hint}")
    return int(value)


def _check_hw(value: Any, arg: str, lo: int, hi: int, multiple: int = 1) -> tuple[int, int]:
    """An int side, or a (height, width) pair, each a multiple of `multiple` in [lo, hi]."""
    pair = (value, value) if isinstance(value, numbers.Integral) and not isinstance(value, bool) else value
    if not isinstance(pair, (tuple, list)) or len(pair) != 2:
        raise CourseInputError(f"{arg} must be a whole number or a (height, width) pair, got {value!r}.")
    out = []
    for side in pair:
        if (isinstance(side, bool) or not isinstance(side, numbers.Integral) or not lo <= side <= hi
                or side % multiple):
            rule = f" and a multiple of {multiple}" if multiple > 1 else ""
            raise CourseInputError(
                f"{arg}={value!r}: each side must be a whole number from {lo} to {hi}{rule}.")
        out.append(int(side))
    return out[0], out[1]


def _text_len(model_key: str) -> int:
    return int(_read_config(model_key, "text_encoder").get("max_position_embeddings", 77))


def _unet_inputs(unet: torch.nn.Module, h: int, w: int, batch: int, text_len: int) -> tuple[tuple, dict]:
    """Meta tensors shaped like a pipeline's call to the U-Net."""
    cfg = unet.config
    kwargs: dict[str, Any] = {}
    with torch.device("meta"):
        sample = torch.empty(batch, cfg.in_channels, h, w)
        timestep = torch.full((batch,), 500)
        kwargs["encoder_hidden_states"] = torch.empty(batch, text_len, cfg.cross_attention_dim)
        if cfg.addition_embed_type == "text_time":  # SDXL: pooled text embedding + 6 size/crop numbers
            n_time = 6
            text_dim = cfg.projection_class_embeddings_input_dim - n_time * cfg.addition_time_embed_dim
            kwargs["added_cond_kwargs"] = {"text_embeds": torch.empty(batch, text_dim),
                                           "time_ids": torch.empty(batch, n_time)}
        # "text" (the embedded model) pools `encoder_hidden_states` itself and needs nothing more
        elif cfg.addition_embed_type not in (None, "text") or cfg.class_embed_type is not None:
            raise CourseInputError(f"This U-Net needs extra inputs ({cfg.addition_embed_type or cfg.class_embed_type});"
                                   " the course counts Stable Diffusion 1.x, 2.x and XL U-Nets.")
    return (sample, timestep), kwargs


@functools.lru_cache(maxsize=256)
def _unet_flops_cached(model_key: str, h: int, w: int, text_len: int, stamp: tuple) -> int:
    unet = build_on_meta(model_key, "unet")
    args, kwargs = _unet_inputs(unet, h, w, 1, text_len)
    return _count_flops(lambda: unet(*args, **kwargs))


def unet_flops(model: str | torch.nn.Module, latent_hw: int | tuple[int, int] | None = None, batch: int = 1,
               text_len: int | None = None) -> float:
    """
    Floating-point operations of one U-Net call, counted by `torch.utils.flop_counter.FlopCounterMode`
    on the meta device: the real network's real operations, with no numbers computed.

    One denoising step is one U-Net call; with classifier-free guidance the call has a batch of 2
    (the prompt and the empty prompt), so it costs twice as much.

    Taught in: chapter 6 (Compute requirements).

    Args:
        model (`str` or `torch.nn.Module`):
            A model key (``"sd15"``, ``"sd21"``, ``"sdxl"``, ``"embedded"``) or a diffusers
            `UNet2DConditionModel` (on any device: it is rebuilt on the meta device from its config).
        latent_hw (`int` or `(int, int)`, *optional*):
            Latent height and width (the picture's size divided by the VAE's factor, 8 for Stable
            Diffusion). Defaults to the model's own ``sample_size``: 64 for SD 1.5 (512 px), 96 for
            SD 2.1 (768 px), 128 for SDXL (1024 px).
        batch (`int`, defaults to 1):
            Latents per call, 1 to 256.
        text_len (`int`, *optional*):
            Prompt length in tokens. Defaults to the model's text encoder length (77 for Stable
            Diffusion; 77 for a module).

    Returns:
        `float`: FLOPs of the call (a multiply-add counts 2). SD 1.5 at 64×64: 8.03e11.

    Raises:
        `CourseInputError`: for an unknown model or out-of-range sizes.
    """
    batch = _check_int(batch, "batch", 1, 256)
    if isinstance(model, torch.nn.Module):
        unet = model
        if not hasattr(unet, "config") or not hasattr(unet.config, "cross_attention_dim"):
            raise CourseInputError(f"model must be a model key or a diffusers UNet2DConditionModel, got "
                                   f"{type(model).__name__}.")
        if next(unet.parameters()).device.type != "meta":
            with torch.device("meta"):
                unet = type(unet).from_config(unet.config).eval()
        size = unet.config.sample_size if latent_hw is None else latent_hw
        h, w = _check_hw(size, "latent_hw", 1, 1024)
        tl = _check_int(77 if text_len is None else text_len, "text_len", 1, 1024)
        args, kwargs = _unet_inputs(unet, h, w, 1, tl)
        return float(_count_flops(lambda: unet(*args, **kwargs)) * batch)
    key = _check_model(model)
    size = _read_config(key, "unet").get("sample_size", 64) if latent_hw is None else latent_hw
    h, w = _check_hw(size, "latent_hw", 1, 1024)
    tl = _check_int(_text_len(key) if text_len is None else text_len, "text_len", 1, 1024)
    # FLOPs grow exactly in proportion to the batch, so count one latent and multiply.
    return float(_unet_flops_cached(key, h, w, tl, _stamp(key, "unet")) * batch)


def _vae_factor(model_key: str) -> int:
    """Pixels per latent, per side: 2^(number of VAE levels - 1), 8 for Stable Diffusion."""
    cfg = _read_config(model_key, "vae")
    return 2 ** (len(cfg.get("block_out_channels", (0, 0, 0, 0))) - 1)


@functools.lru_cache(maxsize=256)
def _vae_flops_cached(model_key: str, h: int, w: int, stamp: tuple) -> int:
    vae = build_on_meta(model_key, "vae")
    f = _vae_factor(model_key)
    with torch.device("meta"):
        z = torch.empty(1, vae.config.latent_channels, h // f, w // f)
    return _count_flops(lambda: vae.decode(z))


def vae_decode_flops(model_key: str, image_hw: int | tuple[int, int] = 512, batch: int = 1) -> float:
    """
    Floating-point operations of decoding latents back into a picture of `image_hw` pixels, counted
    by FlopCounterMode on the meta device. It runs once per picture, after all the denoising steps.

    Taught in: chapter 6 (Compute requirements).

    Args:
        model_key (`str`): ``"sd15"``, ``"sd21"``, ``"sdxl"`` or ``"embedded"``.
        image_hw (`int` or `(int, int)`, defaults to 512):
            Picture height and width in pixels, multiples of the VAE's factor (8 for Stable Diffusion).
        batch (`int`, defaults to 1): pictures decoded at once, 1 to 256.

    Returns:
        `float`: FLOPs. SD 1.5 at 512×512: 2.51e12, three times one U-Net call.
    """
    key = _check_model(model_key)
    batch = _check_int(batch, "batch", 1, 256)
    h, w = _check_hw(image_hw, "image_hw", _vae_factor(key), 8192, _vae_factor(key))
    return float(_vae_flops_cached(key, h, w, _stamp(key, "vae")) * batch)


@functools.lru_cache(maxsize=32)
def _text_flops_cached(model_key: str, stamp: tuple) -> int:
    total = 0
    for comp in _components(model_key):
        if not comp.startswith("text_encoder"):
            continue
        te = build_on_meta(model_key, comp)
        with torch.device("meta"):
            ids = torch.zeros(1, te.config.max_position_embeddings, dtype=torch.long)
        total += _count_flops(lambda te=te, ids=ids: te(input_ids=ids))
    return total


# --------------------------------------------------------------------------------------------
# Memory: weights, feature maps (∝ pixels) and naive attention scores (∝ pixels²)
# --------------------------------------------------------------------------------------------


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
    tokens = _check_int(tokens, "tokens", 1, 10**7)
    heads = _check_int(heads, "heads", 1, 4096)
    batch = _check_int(batch, "batch", 1, 4096)
    dtype_bytes = _check_int(dtype_bytes, "dtype_bytes", 1, 8)
    return tokens * tokens * heads * batch * dtype_bytes


def _per_block(value: Any, n: int) -> list:
    return list(value) if isinstance(value, (list, tuple)) else [value] * n


def _unet_levels(model_key: str, resolution: tuple[int, int]) -> tuple[dict, list[dict]]:
    """The U-Net's levels at a picture size: channels, latent size, attention heads and layers."""
    cfg = _read_config(model_key, "unet")
    f = _vae_factor(model_key)
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
    key = _check_model(model_key)
    hw = _check_hw(resolution, "resolution", 64, 4096, 8)
    _, levels = _unet_levels(key, hw)
    rows = []
    for lv in levels:
        if lv["attention_layers"]:
            tokens = lv["latent_hw"][0] * lv["latent_hw"][1]
            rows.append({"level": lv["level"], "latent_hw": lv["latent_hw"], "tokens": tokens, "heads": lv["heads"],
                         "attention_layers": lv["attention_layers"],
                         "score_bytes": attention_memory(tokens, lv["heads"], 1, 2)})
    return rows


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
    key = _check_model(model_key)
    hw = _check_hw(resolution, "resolution", 64, 4096, 8)
    batch = _check_int(batch, "batch", 1, 4096)
    dtype_bytes = _check_int(dtype_bytes, "dtype_bytes", 1, 8)
    cfg, levels = _unet_levels(key, hw)

    def area(lv):
        return lv["latent_hw"][0] * lv["latent_hw"][1]

    # 1. skip connections: conv_in's output, each resnet (+attention) output and each downsampler's output
    skips = cfg["block_out_channels"][0] * area(levels[0])
    for i, lv in enumerate(levels):
        skips += cfg.get("layers_per_block", 2) * lv["channels"] * area(lv)
        if lv["downsample"]:
            skips += lv["channels"] * area(levels[i + 1])
    # 2. the widest tensor: GEGLU's projection (8 × channels) where attention runs, else an up-path
    #    concatenation (2 × channels)
    widest = max((8 if lv["attention_layers"] else 2) * lv["channels"] * area(lv) for lv in levels)
    unet_maps = (skips + 3 * widest) * batch * dtype_bytes
    # 3. naive attention: the largest score matrix
    attn = max((attention_memory(area(lv), lv["heads"], batch, dtype_bytes) for lv in levels if lv["attention_layers"]),
               default=0)
    # 4. the VAE decoder: channels reversed, each level doubles the size; the widest is an upsampler's output
    vcfg = _read_config(key, "vae")
    f = _vae_factor(key)
    lh, lw = hw[0] // f, hw[1] // f
    rev = list(vcfg.get("block_out_channels", (128, 256, 512, 512)))[::-1]
    n = len(rev)
    # up block j works at 2^j × the latent size; its upsampler's output is 2^(j+1) × (none after the last)
    widest_per_latent_pixel = max([rev[j] * 4 ** (j + 1) for j in range(n - 1)] + [rev[-1] * 4 ** (n - 1)])
    vae = 3 * widest_per_latent_pixel * lh * lw * batch * dtype_bytes
    return {"unet_feature_maps": int(unet_maps), "attention_scores": int(attn), "vae_decode": int(vae)}


# --------------------------------------------------------------------------------------------
# Measuring: peak memory and time of a call on this machine
# --------------------------------------------------------------------------------------------


class _LiveTensors(TorchDispatchMode):
    """Adds up the bytes of tensors created inside the mode that are still alive; keeps the peak.

    Each storage counts once (views share their base's storage) and leaves the count when Python
    frees it. Storages that existed before (weights, inputs) are never counted.
    """

    def __init__(self):
        super().__init__()
        self.current = 0
        self.peak = 0
        self._alive: dict[int, int] = {}

    def _freed(self, key: int, nbytes: int) -> None:
        if self._alive.pop(key, None) is not None:
            self.current -= nbytes

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        inputs = {id(t.untyped_storage()) for t in tree_flatten((args, kwargs))[0]
                  if isinstance(t, torch.Tensor) and t.layout == torch.strided}
        for t in tree_flatten(out)[0]:
            if not isinstance(t, torch.Tensor):
                continue
            try:
                storage = t.untyped_storage()
            except (RuntimeError, NotImplementedError):  # sparse and other storage-less tensors
                continue
            key = id(storage)
            if key in self._alive or key in inputs:  # a view, or an in-place result
                continue
            nbytes = storage.nbytes()
            self._alive[key] = nbytes
            self.current += nbytes
            self.peak = max(self.peak, self.current)
            weakref.finalize(storage, self._freed, key, nbytes)
        return out


def _proc_status(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise CourseSetupError(f"/proc/self/status has no {field} line on this system.")


def measure_peak_memory(fn: Callable[[], Any], method: str = "tensors") -> int:
    """
    Run `fn()` once and return the most memory its tensors held at any one moment, in bytes.

    Two methods, each honest about something different:

    - ``"tensors"`` (default, any system, any device): follows every tensor PyTorch creates inside
      `fn` and adds up the bytes of those alive at the same time. Weights and inputs that existed
      before do not count. It sees tensors only: not the memory an operation uses internally without
      making a tensor (oneDNN scratch space, the tiles of memory-efficient attention), not Python
      objects, not allocator overhead. It works on the **meta device**, which allocates nothing:
      that is how the chapter "measures" Stable Diffusion at 1024 px on a laptop. On the meta
      device PyTorch's attention takes the naive path (it stores the score matrix), so the result
      shows what naive attention would need.
    - ``"rss"`` (Linux only): the rise of the process's resident memory as the operating system
      counts it (peak ``VmHWM`` after resetting it, minus ``VmRSS`` before). It sees everything, but
      only in whole pages, and memory the allocator kept from earlier calls is reused without showing
      up: run it in a fresh process for a first-call figure.

    Python's ``tracemalloc`` is not used: PyTorch allocates outside Python's allocator, so it would
    report almost nothing.

    Taught in: chapter 6 (Compute requirements).

    Args:
        fn (`Callable[[], Any]`): the work to measure, called once with no arguments.
        method (`str`, defaults to ``"tensors"``): ``"tensors"`` or ``"rss"``.

    Returns:
        `int`: peak bytes above what was allocated before `fn` started.

    Example:
        >>> measure_peak_memory(lambda: torch.ones(1024, 1024))  # 4 MiB of float32
        4194304
    """
    if not callable(fn):
        raise CourseInputError(f"fn must be a function to call with no arguments, got {type(fn).__name__}.")
    if method == "tensors":
        mode = _LiveTensors()
        with mode:
            fn()
        return int(mode.peak)
    if method == "rss":
        if not sys.platform.startswith("linux") or not os.path.exists("/proc/self/clear_refs"):
            raise CourseSetupError("method='rss' reads /proc, which only Linux has; use method='tensors'.")
        try:
            with open("/proc/self/clear_refs", "w") as f:
                f.write("5")  # resets the peak resident size (VmHWM) to the current one
        except OSError as e:
            raise CourseSetupError(f"Cannot reset the peak memory counter here ({e}); use method='tensors'.") from e
        before = _proc_status("VmRSS")
        fn()
        return max(0, _proc_status("VmHWM") - before)
    raise CourseInputError(f"method={method!r} is not a way to measure: choose 'tensors' or 'rss'.")


def time_per_call(fn: Callable[[], Any], repeats: int = 5, warmup: int = 1) -> float:
    """
    The median wall-clock time of `fn()`, in seconds, after `warmup` untimed calls.

    The first call of a model in a process is slower (memory is allocated, kernels are chosen), so
    it is left out; the median ignores a call slowed down by something else on the machine.
    On a GPU, `fn` must wait for its own result (``torch.cuda.synchronize()``), or the time only
    counts the launch.

    Taught in: chapter 6 (Compute requirements).

    Args:
        fn (`Callable[[], Any]`): the work to time, called with no arguments.
        repeats (`int`, defaults to 5): timed calls, 1 to 1000.
        warmup (`int`, defaults to 1): untimed calls first, 0 to 100.

    Returns:
        `float`: median seconds per call.
    """
    if not callable(fn):
        raise CourseInputError(f"fn must be a function to call with no arguments, got {type(fn).__name__}.")
    repeats = _check_int(repeats, "repeats", 1, 1000)
    warmup = _check_int(warmup, "warmup", 0, 100)
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def measured_flop_rate(fn: Callable[[], Any], flops: float, repeats: int = 3) -> float:
    """
    FLOPs per second this machine reaches on `fn`: `flops` / `time_per_call(fn)`.

    Feed it to `estimate(..., cpu_flop_rate=...)` to scale a measurement on this computer to
    another model or size. Small models reach a lower rate than large ones (more time goes to
    overhead), so measure on something close to what you want to predict.

    Taught in: chapter 6 (Compute requirements).

    Args:
        fn (`Callable[[], Any]`): the work, called with no arguments.
        flops (`float`): its FLOPs, for example from `unet_flops`.
        repeats (`int`, defaults to 3): timed calls.

    Returns:
        `float`: FLOP/s.
    """
    if isinstance(flops, bool) or not isinstance(flops, numbers.Real) or not flops > 0:
        raise CourseInputError(f"flops must be a positive number, got {flops!r}.")
    return float(flops) / time_per_call(fn, repeats=repeats)


# --------------------------------------------------------------------------------------------
# GPUs and time
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GPU:
    """A graphics card's peak half-precision rate and memory, from its maker's specification."""

    key: str
    name: str
    fp16_tflops: float  # dense (no sparsity) FP16 tensor-core TFLOP/s, the card's fastest mode
    memory_gib: float
    source: str


#: Peak rates are *dense*: NVIDIA's "with sparsity" figures are twice these and need 2:4-sparse
#: weights, which Stable Diffusion does not have. They are each card's fastest FP16 mode, so that
#: `lower_bound_seconds` is a true lower bound. On GeForce cards that mode accumulates in FP16; with
#: FP32 accumulation (what PyTorch asks for in matrix products) they run at half the rate.
GPUS: dict[str, GPU] = {
    "t4": GPU("t4", "NVIDIA T4", 65.0, 16,
              "NVIDIA T4 datasheet: mixed precision (FP16/FP32) 65 TFLOPS; Turing has no sparsity mode."),
    "rtx3060": GPU("rtx3060", "NVIDIA GeForce RTX 3060 12 GB", 51.0, 12,
                   "NVIDIA quotes 101 tensor TFLOPS for the RTX 3060, a sparse FP16 figure; dense is half "
                   "(28 SMs × 4 tensor cores × 256 FLOP/clock × 1.78 GHz = 51). FP32 accumulation: 25.5."),
    "rtx4090": GPU("rtx4090", "NVIDIA GeForce RTX 4090", 330.3, 24,
                   "NVIDIA Ada Lovelace whitepaper: FP16 tensor TFLOPS with FP16 accumulate 330.3 dense "
                   "(660.6 sparse); with FP32 accumulate 165.2."),
    "a100-40gb": GPU("a100-40gb", "NVIDIA A100 40 GB", 312.0, 40,
                     "NVIDIA A100 datasheet: FP16/BF16 tensor core 312 TFLOPS (624 with sparsity)."),
    "a100-80gb": GPU("a100-80gb", "NVIDIA A100 80 GB", 312.0, 80,
                     "NVIDIA A100 datasheet: FP16/BF16 tensor core 312 TFLOPS (624 with sparsity)."),
    "h100-sxm": GPU("h100-sxm", "NVIDIA H100 SXM", 989.4, 80,
                    "NVIDIA H100 datasheet: FP16/BF16 tensor core 1,979 TFLOPS with sparsity, 989.4 dense."),
}

#: Share of the peak rate a Stable Diffusion pipeline reaches in practice: a middle value of what
#: was measured. SD 1.5, 512 px, guidance (1.61 TFLOP per step), diffusers with PyTorch 2.1 SDPA on
#: an A100 80 GB SXM: 31 steps/s = 50 TFLOP/s, 16 % of 312; compiled and channels-last: 47 steps/s,
#: 24 % (github.com/fal-ai/stable-diffusion-benchmarks). Small cards that throttle (a T4 at 70 W)
#: reach under 10 %. Attention, normalisations and memory traffic keep every pipeline far below peak.
TYPICAL_GPU_UTILISATION = 0.2

#: FLOP/s assumed for "cpu" when no measurement is given: the course's reference machine (2 cores)
#: ran SD 1.5's U-Net at 512 px (0.80 TFLOP) in about 3.9 s, about 0.2 TFLOP/s. Yours may differ
#: several times either way: measure it with `measured_flop_rate`.
DEFAULT_CPU_FLOP_RATE = 2.0e11

#: Memory a CUDA program uses before any model is loaded (context, cuBLAS/cuDNN workspaces): a round
#: assumption, often 0.3 to 1 GiB.
GPU_OVERHEAD_GIB = 0.5


def _check_gpu(gpu: Any, arg: str = "gpu") -> GPU:
    if isinstance(gpu, GPU):
        return gpu
    key = gpu.strip().lower() if isinstance(gpu, str) else None
    if key not in GPUS:
        cpu = "'cpu' or " if arg == "device_or_gpu" else ""
        raise CourseInputError(f"{arg}={gpu!r} is not in the course's GPU table: choose {cpu}one of "
                               f"{', '.join(repr(k) for k in GPUS)}.")
    return GPUS[key]


def lower_bound_seconds(flops: float, gpu: str | GPU) -> float:
    """
    The fewest seconds a GPU could need for `flops`: flops / its peak rate.

    A lower bound, never a forecast: it assumes every tensor core works on every clock tick, and
    real pipelines reach a fifth of that or less (see `TYPICAL_GPU_UTILISATION`).

    Taught in: chapter 6 (Compute requirements).

    Args:
        flops (`float`): floating-point operations, > 0.
        gpu (`str` or `GPU`): a key of `GPUS` (``"t4"``, ``"rtx3060"``, ``"rtx4090"``, ``"a100-40gb"``,
            ``"a100-80gb"``, ``"h100-sxm"``) or a `GPU`.

    Returns:
        `float`: seconds.
    """
    if isinstance(flops, bool) or not isinstance(flops, numbers.Real) or not flops > 0 or not math.isfinite(flops):
        raise CourseInputError(f"flops must be a positive number, got {flops!r}.")
    return float(flops) / (_check_gpu(gpu).fp16_tflops * 1e12)


def _ram_gib() -> float | None:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / GIB
    except (ValueError, OSError, AttributeError):
        return None


def estimate(model_key: str, resolution: int | tuple[int, int] | None, steps: int, device_or_gpu: str | GPU,
             guidance: bool = True, batch: int = 1, cpu_flop_rate: float | None = None) -> dict:
    """
    Will it run on my computer? Memory and time of a text-to-image call, from FLOPs and sizes.

    - Memory: the weights of every part in the device's number format (float16 on a GPU, float32 on
      the CPU, as `course_utils.device` chooses), plus the larger of the U-Net's and the VAE
      decoder's activations (`activation_memory`; memory-efficient attention, PyTorch 2's default),
      plus `GPU_OVERHEAD_GIB` on a GPU. ``attention_naive_gib`` adds what naive attention would need
      on top (scores and softmax, two score matrices).
    - Time: FLOPs of `steps` U-Net calls (batch × 2 with guidance), the text encoders and the VAE
      decoder. On a GPU, ``seconds_lower_bound`` divides them by the peak rate and
      ``seconds_typical`` by `TYPICAL_GPU_UTILISATION` × peak. On the CPU there is no meaningful
      peak: ``seconds_typical`` divides by `cpu_flop_rate` (a measurement, or
      `DEFAULT_CPU_FLOP_RATE`) and ``seconds_lower_bound`` is None.

    Taught in: chapter 6 (Compute requirements): the practical path's "will it run on my computer?"

    Args:
        model_key (`str`): ``"sd15"``, ``"sd21"``, ``"sdxl"`` or ``"embedded"``.
        resolution (`int` or `(int, int)`, *optional*): picture side (or height and width) in pixels,
            a multiple of 8 from 64 to 4096. None: the model's own (512, 768, 1024, 64).
        steps (`int`): denoising steps, 1 to 1000.
        device_or_gpu (`str` or `GPU`): ``"cpu"`` or a key of `GPUS`.
        guidance (`bool`, defaults to True): classifier-free guidance doubles the U-Net's batch.
        batch (`int`, defaults to 1): pictures per call, 1 to 64.
        cpu_flop_rate (`float`, *optional*): measured FLOP/s of this CPU (`measured_flop_rate`).

    Returns:
        `dict` with ``model``, ``device``, ``resolution`` (height, width), ``steps``, ``guidance``,
        ``batch``, ``dtype``, ``flops_per_step``, ``flops_total``, ``weights_gib``,
        ``activations_gib``, ``attention_naive_gib``, ``memory_gib``, ``device_memory_gib`` (None
        when unknown), ``fits`` (bool or None), ``seconds_lower_bound`` (None on the CPU),
        ``seconds_typical``, ``utilisation`` and ``notes`` (sentences that explain the numbers).

    Raises:
        `CourseInputError`: for an unknown model or GPU, a resolution that is not a multiple of 8 or
        out of range, steps < 1, or a batch out of range.
    """
    key = _check_model(model_key)
    if resolution is None:
        resolution = MODELS[key].resolution
    hw = _check_hw(resolution, "resolution", 64, 4096, 8)
    steps = _check_int(steps, "steps", 1, 1000, " A picture needs at least one denoising step.")
    batch = _check_int(batch, "batch", 1, 64)
    if not isinstance(guidance, bool):
        raise CourseInputError(f"guidance must be True or False, got {guidance!r}.")
    on_cpu = isinstance(device_or_gpu, str) and device_or_gpu.strip().lower() == "cpu"
    gpu = None if on_cpu else _check_gpu(device_or_gpu, "device_or_gpu")
    if cpu_flop_rate is not None and (isinstance(cpu_flop_rate, bool) or not isinstance(cpu_flop_rate, numbers.Real)
                                      or not cpu_flop_rate > 0):
        raise CourseInputError(f"cpu_flop_rate must be a positive number of FLOP/s, got {cpu_flop_rate!r}.")

    dtype_bytes = 4 if on_cpu else 2
    unet_batch = batch * (2 if guidance else 1)
    f = _vae_factor(key)
    notes = []

    # 1. FLOPs: steps × U-Net, the prompt(s) through the text encoders once, the VAE decoder once
    per_step = unet_flops(key, (hw[0] // f, hw[1] // f), batch=unet_batch)
    text = _text_flops_cached(key, _stamp(key, "text_encoder")) * (2 if guidance else 1)
    vae = vae_decode_flops(key, hw, batch=batch)
    total = steps * per_step + text + vae

    # 2. memory: weights + the larger activation phase (+ CUDA's own share on a GPU)
    params = sum(count_parameters(build_on_meta(key, c)) for c in _components(key))
    weights = weight_memory(params, torch.float32 if on_cpu else torch.float16)
    unet_act = activation_memory(key, hw, unet_batch, dtype_bytes)
    vae_act = activation_memory(key, hw, batch, dtype_bytes)["vae_decode"]
    activations = max(unet_act["unet_feature_maps"], vae_act)
    memory = (weights + activations) / GIB + (0 if on_cpu else GPU_OVERHEAD_GIB)
    attention_naive = 2 * unet_act["attention_scores"] / GIB
    device_memory = _ram_gib() if on_cpu else gpu.memory_gib
    fits = None if device_memory is None else memory <= device_memory

    # 3. time
    if on_cpu:
        rate = DEFAULT_CPU_FLOP_RATE if cpu_flop_rate is None else float(cpu_flop_rate)
        lower, typical, utilisation = None, total / rate, None
        notes.append(f"CPU time assumes {rate / 1e12:.2f} TFLOP/s "
                     + ("(your measurement)." if cpu_flop_rate is not None else
                        "(the course's 2-core reference machine); measure yours with measured_flop_rate."))
        notes.append("The CPU computes in float32: weights take twice the float16 memory.")
    else:
        lower = total / (gpu.fp16_tflops * 1e12)
        typical = lower / TYPICAL_GPU_UTILISATION
        utilisation = TYPICAL_GPU_UTILISATION
        notes.append(f"Lower bound: {gpu.name} at its peak {gpu.fp16_tflops:g} TFLOP/s; typical: "
                     f"{TYPICAL_GPU_UTILISATION:.0%} of that, as measured for Stable Diffusion pipelines.")
    if guidance:
        notes.append("Guidance runs the U-Net on the prompt and on the empty prompt: twice the work per step.")
    if key == "sdxl":
        notes.append("SDXL's VAE overflows in float16 and is usually run in float32, which adds memory and time.")
    if fits is False:
        notes.append("It does not fit: try a smaller picture, batch 1, or model offloading.")
    return {
        "model": key, "device": "cpu" if on_cpu else gpu.key, "resolution": hw, "steps": steps,
        "guidance": guidance, "batch": batch, "dtype": "float32" if on_cpu else "float16",
        "flops_per_step": per_step, "flops_total": total,
        "weights_gib": weights / GIB, "activations_gib": activations / GIB, "attention_naive_gib": attention_naive,
        "memory_gib": memory, "device_memory_gib": device_memory, "fits": fits,
        "seconds_lower_bound": lower, "seconds_typical": typical, "utilisation": utilisation, "notes": notes,
    }


# --- torch.compile on the embedded models: what `make bench-compile` measured ---------------------------------
@dataclass(frozen=True)
class CompileFigures:
    """One row of the shipped ``compile.md`` (seconds; `pays_*`: pictures after which compiling has paid)."""

    model: str
    eager: float
    compiled: float
    first_cold_cache: float
    first_warm_cache: float
    pays_cold: float | None  # None: compiled is not faster, so it never pays
    pays_warm: float | None

    @property
    def saving(self) -> float:
        """The share of a picture's time that compiling saves once compiled."""
        return 1 - self.compiled / self.eager

    def sentence(self) -> str:
        pays = ("never pays: compiled is not faster" if self.pays_cold is None else
                f"pays after {self.pays_cold:.0f} pictures on a first run, "
                f"{self.pays_warm:.0f} once the cache holds it")
        return (f"{self.model}: {self.eager:.3f} s per picture eager, {self.compiled:.3f} s compiled "
                f"({self.saving:.0%} less); the first compiled picture takes {self.first_cold_cache:.0f} s "
                f"with an empty cache and {self.first_warm_cache:.1f} s with a filled one, so compiling {pays}.")


def compile_figures(path: str | Path | None = None) -> tuple[str, list[CompileFigures]]:
    """The machine line and the rows of ``compile.md`` in the embedded model's folder (`make bench-compile`
    writes it; measured on the machine its first line names, not on yours)."""
    path = Path(path) if path is not None else EMBEDDED_DIR / "compile.md"
    if not path.exists():
        raise CourseSetupError(f"{path} is missing: `make bench-compile BENCH_ARGS=--save` measures torch.compile "
                               "on this machine and writes it (about 3 minutes).")
    lines = path.read_text().splitlines()
    rows = []
    for line in lines:
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 7 and cells[1].replace(".", "", 1).isdigit():
            nums = [float(c) for c in cells[1:5]]
            pays = [None if c == "never" else float(c) for c in cells[5:7]]
            rows.append(CompileFigures(cells[0], *nums, *pays))
    if not rows:
        raise CourseSetupError(f"{path} holds no table of torch.compile figures: run `make bench-compile "
                               "BENCH_ARGS=--save` again.")
    return lines[0], rows
