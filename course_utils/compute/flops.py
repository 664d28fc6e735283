"""FLOPs: PyTorch's own `FlopCounterMode` counts one call of a network built on the meta device.

A FLOP here is one multiplication or one addition: a multiply-add counts as 2, as in the GPU makers'
"TFLOPS". FlopCounterMode counts matrix products, convolutions and attention, which are nearly all of
the work; normalisations, activations and additions are left out (a few percent).

Taught in: chapter 6 (Compute requirements).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import torch
from torch.utils.flop_counter import FlopCounterMode

from .. import checks
from ..errors import CourseInputError
from . import configs
from .configs import build_on_meta, check_model, check_sides, components, read_config, stamp, vae_factor

__all__ = ["text_encoder_flops", "unet_flops", "vae_decode_flops"]


def _count_flops(run: Callable[[], Any]) -> int:
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        run()
    return int(counter.get_total_flops())


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


def _module_unet_flops(model: torch.nn.Module, latent_hw, text_len) -> int:
    """FLOPs of one latent through a diffusers U-Net module, rebuilt on the meta device from its config."""
    unet = model
    if not hasattr(unet, "config") or not hasattr(unet.config, "cross_attention_dim"):
        raise CourseInputError(f"model must be a model key or a diffusers UNet2DConditionModel, got "
                               f"{type(model).__name__}.")
    if next(unet.parameters()).device.type != "meta":
        with torch.device("meta"):
            unet = type(unet).from_config(unet.config).eval()
    size = unet.config.sample_size if latent_hw is None else latent_hw
    h, w = check_sides("latent_hw", size, 1, 1024)
    tl = checks.whole("text_len", 77 if text_len is None else text_len, 1, 1024)
    args, kwargs = _unet_inputs(unet, h, w, 1, tl)
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
    batch = checks.whole("batch", batch, 1, 256)
    if isinstance(model, torch.nn.Module):
        return float(_module_unet_flops(model, latent_hw, text_len) * batch)
    key = check_model(model)
    size = read_config(key, "unet").get("sample_size", 64) if latent_hw is None else latent_hw
    h, w = check_sides("latent_hw", size, 1, 1024)
    tl = checks.whole("text_len", configs.text_len(key) if text_len is None else text_len, 1, 1024)
    # FLOPs grow exactly in proportion to the batch, so count one latent and multiply.
    return float(_unet_flops_cached(key, h, w, tl, stamp(key, "unet")) * batch)


@functools.lru_cache(maxsize=256)
def _vae_flops_cached(model_key: str, h: int, w: int, stamp: tuple) -> int:
    vae = build_on_meta(model_key, "vae")
    f = vae_factor(model_key)
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
    key = check_model(model_key)
    batch = checks.whole("batch", batch, 1, 256)
    h, w = check_sides("image_hw", image_hw, vae_factor(key), 8192, vae_factor(key))
    return float(_vae_flops_cached(key, h, w, stamp(key, "vae")) * batch)


@functools.lru_cache(maxsize=32)
def _text_flops_cached(model_key: str, stamp: tuple) -> int:
    total = 0
    for comp in components(model_key):
        if not comp.startswith("text_encoder"):
            continue
        te = build_on_meta(model_key, comp)
        with torch.device("meta"):
            ids = torch.zeros(1, te.config.max_position_embeddings, dtype=torch.long)
        total += _count_flops(lambda te=te, ids=ids: te(input_ids=ids))
    return total


def text_encoder_flops(model_key: str) -> int:
    """FLOPs of one full-length prompt through every text encoder of a model (a checked key)."""
    return _text_flops_cached(model_key, stamp(model_key, "text_encoder"))
