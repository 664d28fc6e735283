"""The models chapter 6 compares, built from their published configs on PyTorch's meta device.

A config (``config.json``) is enough to build the whole network on the *meta* device: every layer and
every tensor shape exists, but no number is stored. The configs of Stable Diffusion 1.5, 2.1 and XL
are copied to ``assets/configs/`` (see the README there); the embedded model's sit in its own folder.

Taught in: chapter 6 (Compute requirements).
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from .. import checks
from ..errors import CourseSetupError
from ..models import EMBEDDED_DIR
from ..paths import CONFIGS

__all__ = ["CONFIG_DIR", "EMBEDDED_DIR", "MODELS", "ModelSpec", "available_models", "build_on_meta",
           "check_model", "check_sides", "components", "read_config", "stamp", "text_len", "vae_factor"]

CONFIG_DIR = CONFIGS


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


def embedded_ready() -> bool:
    """Whether the embedded model's folder holds its U-Net's config."""
    return (EMBEDDED_DIR / "unet" / "config.json").is_file()


def available_models() -> tuple[str, ...]:
    """
    The model keys this machine can account for: ``sd15``, ``sd21``, ``sdxl``, and ``embedded`` when
    the embedded model's folder (``assets/models/minisd-cats``) exists.

    Taught in: chapter 6 (Compute requirements).

    Returns:
        `tuple[str, ...]`: the keys, in the order of `MODELS`.
    """
    return tuple(k for k in MODELS if k != "embedded" or embedded_ready())


def check_model(model_key: Any) -> str:
    """`model_key` as a key of `MODELS` (any case, spaces around allowed); the embedded model must be on disk."""
    key = model_key.strip().lower() if isinstance(model_key, str) else None
    if key not in MODELS:
        checks.one_of("model_key", model_key, MODELS, hint="These are the models the course accounts for.")
    if key == "embedded" and not embedded_ready():
        raise CourseSetupError(
            f"The embedded model's folder {EMBEDDED_DIR} is missing (no unet/config.json). Restore it with "
            "`git checkout -- assets/models` or train it with `make train-model`.")
    return key


def check_sides(name: str, value: Any, lo: int, hi: int, multiple: int = 1) -> tuple[int, int]:
    """An int side, or a (height, width) pair, each a multiple of `multiple` in [lo, hi], as (height, width)."""
    sides = (value, value) if checks.is_whole(value) else value
    if isinstance(sides, (tuple, list)) and len(sides) == 2 and all(
            checks.is_whole(s) and lo <= s <= hi and s % multiple == 0 for s in sides):
        return int(sides[0]), int(sides[1])
    rule = f" that is a multiple of {multiple}" if multiple > 1 else ""
    raise checks.fail(name, value, f"a whole number from {lo} to {hi}{rule}, or a (height, width) pair of them")


def config_path(model_key: str, component: str) -> Path:
    """Where the config of one part of a model lies."""
    if model_key == "embedded":
        return EMBEDDED_DIR / component / "config.json"
    return CONFIG_DIR / model_key / f"{component}.json"


def components(model_key: str) -> tuple[str, ...]:
    """The components of a model whose config is on disk (the embedded model may lack some)."""
    return tuple(c for c in MODELS[model_key].components if config_path(model_key, c).is_file())


def stamp(model_key: str, component: str) -> tuple[str, int]:
    """A cache key that changes when the config file does (path and modification time)."""
    path = config_path(model_key, component)
    return str(path), path.stat().st_mtime_ns


def read_config(model_key: str, component: str) -> dict:
    """The config of one part of a model, as a dict (a checked `model_key`, such as `check_model` returns)."""
    path = config_path(model_key, component)
    try:
        return json.loads(path.read_text())
    except FileNotFoundError as e:
        raise CourseSetupError(
            f"{path} is missing. Restore it with `git checkout -- {path.relative_to(CONFIG_DIR.parents[1])}`.") from e


def text_len(model_key: str) -> int:
    """The prompt length of a model's text encoder, in tokens (77 for Stable Diffusion)."""
    return int(read_config(model_key, "text_encoder").get("max_position_embeddings", 77))


def vae_factor(model_key: str) -> int:
    """Pixels per latent, per side: 2^(number of VAE levels - 1), 8 for Stable Diffusion."""
    cfg = read_config(model_key, "vae")
    return 2 ** (len(cfg.get("block_out_channels", (0, 0, 0, 0))) - 1)


@functools.cache
def _build(model_key: str, component: str, stamp: tuple) -> torch.nn.Module:
    # `stamp` (the config file's path and modification time) makes a retrained embedded model rebuild.
    cfg = read_config(model_key, component)
    if "_class_name" in cfg:  # a diffusers model: UNet2DConditionModel, AutoencoderKL, ...
        import diffusers

        cls = getattr(diffusers, cfg["_class_name"], None)
        if cls is None or not hasattr(cls, "from_config"):
            raise CourseSetupError(f"{config_path(model_key, component)} names an unknown class "
                                   f"{cfg['_class_name']!r}; this diffusers version cannot build it.")
        with torch.device("meta"):
            module = cls.from_config(cfg)
    else:  # a transformers CLIP text tower
        from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

        arch = (cfg.get("architectures") or ["CLIPTextModel"])[0]
        classes = {"CLIPTextModel": CLIPTextModel, "CLIPTextModelWithProjection": CLIPTextModelWithProjection}
        if arch not in classes:
            raise CourseSetupError(f"{config_path(model_key, component)} describes a {arch}; the course "
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
    key = check_model(model_key)
    component = checks.one_of("component", component, components(key), hint=f"These are the parts of {key!r}.")
    return _build(key, component, stamp(key, component))
