"""Enlarging a picture: the classical filters (`upscale`), how to measure what they keep (`sharpness`,
`psnr`), and on a CUDA GPU Stable Diffusion's x4 upscaler (`upscale_x4`), a diffusion model of its own.

Taught in: chapter 4 (The generation pipeline, step by step); `course_utils.pipeline` gathers these
with the chapter's other helpers.
"""

from __future__ import annotations

import math
from numbers import Integral

import numpy as np
import torch
from PIL import Image

from .errors import CourseInputError, CourseSetupError
from .images import picture_list, to_numpy
from .models import UPSCALER

# --------------------------------------------------------------------------------------------
# Enlarging a picture: classical upscalers, and how to measure them
# --------------------------------------------------------------------------------------------

#: The classical resampling filters, by name (Pillow's filters).
UPSCALE_METHODS: dict[str, Image.Resampling] = {
    "nearest": Image.Resampling.NEAREST,
    "bilinear": Image.Resampling.BILINEAR,
    "bicubic": Image.Resampling.BICUBIC,
    "lanczos": Image.Resampling.LANCZOS,
}


def upscale(img, size: int | tuple[int, int], method: str = "bicubic") -> Image.Image:
    """
    Enlarge a picture with a classical filter, which computes each new pixel from its neighbours.

    - ``"nearest"`` copies the nearest pixel: big square blocks, nothing smoothed;
    - ``"bilinear"`` and ``"bicubic"`` blend the 2×2 or 4×4 nearest pixels: smooth, a little soft;
    - ``"lanczos"`` blends 6×6 pixels with a windowed sinc: the sharpest of them, with faint halos.

    None of them can add detail the small picture does not hold: they only interpolate.

    Taught in: chapter 4 (The generation pipeline, step by step).

    Args:
        img (PIL image or NumPy array): the picture.
        size (`int` or `(width, height)`): the new size in pixels (an `int` for a square), 1 to 8192.
        method (`str`, defaults to ``"bicubic"``): one of `UPSCALE_METHODS`.

    Returns:
        `PIL.Image.Image`: the enlarged RGB picture.
    """
    pic = picture_list([img], "img")[0]
    if isinstance(method, str) and method.strip().lower() in UPSCALE_METHODS:
        method = method.strip().lower()
    else:
        raise CourseInputError(f"method={method!r} is not a known filter: choose one of {list(UPSCALE_METHODS)}.")
    wh = (size, size) if isinstance(size, Integral) and not isinstance(size, bool) else size
    if (not isinstance(wh, tuple | list) or len(wh) != 2
            or not all(isinstance(v, Integral) and not isinstance(v, bool) and 1 <= v <= 8192 for v in wh)):
        raise CourseInputError(f"size must be a whole number of pixels or (width, height), each 1 to 8192, "
                               f"got {size!r}; e.g. size=256.")
    return pic.resize((int(wh[0]), int(wh[1])), UPSCALE_METHODS[method])


def sharpness(img) -> float:
    """
    Mean gradient magnitude of a picture's brightness, in grey levels (0-255) per pixel.

    The gradient is how fast the brightness changes from one pixel to the next (central
    differences, `numpy.gradient`); edges and fine texture make it large, flat and blurred areas
    small. Compare pictures of the *same size* only: enlarging a picture spreads each edge over more
    pixels and lowers the number.

    Taught in: chapter 4 (The generation pipeline, step by step).

    Args:
        img (PIL image or NumPy array): the picture.

    Returns:
        `float`: 0 for a flat picture.
    """
    a = to_numpy(picture_list([img], "img")[0]) * 255.0
    grey = a @ np.array([0.299, 0.587, 0.114], dtype=np.float32)  # brightness (ITU-R BT.601 weights)
    gy, gx = np.gradient(grey)
    return float(np.mean(np.hypot(gx, gy)))


def psnr(img, reference) -> float:
    """
    Peak signal-to-noise ratio of `img` against `reference`, in decibels: 10·log10(255² / MSE).

    Higher is closer; identical pictures give infinity. Around 20 dB the difference is easy to see,
    above 40 dB hardly at all.

    Taught in: chapter 4 (The generation pipeline, step by step).

    Args:
        img, reference (PIL images or NumPy arrays of the same size).

    Returns:
        `float`: dB (``math.inf`` when the pictures are identical).
    """
    a, b = (to_numpy(p) * 255.0 for p in picture_list([img, reference], "img and reference"))
    if a.shape != b.shape:
        raise CourseInputError(f"img and reference must have the same size, got {a.shape[1::-1]} and "
                               f"{b.shape[1::-1]} (width, height).")
    mse = float(np.mean((a.astype(np.float64) - b) ** 2))
    return math.inf if mse == 0 else 10 * math.log10(255.0**2 / mse)


# --------------------------------------------------------------------------------------------
# A learned upscaler: Stable Diffusion's x4 upscaler (GPU only)
# --------------------------------------------------------------------------------------------

#: Stable Diffusion's x4 upscaler on the Hugging Face hub (about 3.5 GB; licence CreativeML OpenRAIL++-M).
UPSCALER_ID = UPSCALER.source


def load_upscaler(device: str | torch.device | None = None):
    """
    Load Stable Diffusion's x4 upscaler (`diffusers.StableDiffusionUpscalePipeline`) on a CUDA GPU,
    in float16, from the local cache or the hub. It is loaded once per session.

    It is a diffusion model of its own: a U-Net that denoises a 4× larger latent while looking at
    the small picture and the prompt, so it can paint plausible detail the small picture lacks.

    Taught in: chapter 4 (The generation pipeline, step by step).

    Raises:
        `CourseSetupError`: without a CUDA GPU (on a CPU it would take minutes per picture), or when
        the weights are neither cached nor downloadable.
    """
    from diffusers import StableDiffusionUpscalePipeline

    from .device import get_device
    from .models import load_model

    dev = get_device(device)
    if dev.type != "cuda":
        raise CourseSetupError(
            f"The x4 upscaler needs a CUDA GPU; this computer computes on the {dev.type.upper()}, where one "
            "picture would take many minutes. Use cu.pipeline.upscale(img, size, 'lanczos') instead.")
    return load_model(UPSCALER, dev, torch.float16, cls=StableDiffusionUpscalePipeline)


def upscale_x4(img, prompt: str = "", steps: int = 25, seed: int = 0, noise_level: int = 20) -> Image.Image:
    """
    Enlarge a picture 4 times with Stable Diffusion's x4 upscaler (CUDA GPU only, see `load_upscaler`).

    Args:
        img (PIL image or NumPy array): the small picture, at most 256 pixels a side (the upscaler's
            memory grows fast with size; 128 × 128 gives 512 × 512).
        prompt (`str`): what the picture shows; it guides the invented detail.
        steps (`int`, defaults to 25): denoising steps of the upscaler, 1 to 200.
        seed (`int`, defaults to 0): the seed of its noise.
        noise_level (`int`, defaults to 20): how much noise is added to the small picture first,
            0 to 350; more noise gives the model more freedom to invent.

    Returns:
        `PIL.Image.Image`: the picture, 4 times larger on each side.
    """
    pic = picture_list([img], "img")[0]
    if max(pic.size) > 256:
        raise CourseInputError(f"img is {pic.width} × {pic.height} pixels; give the x4 upscaler at most 256 "
                               "a side (shrink it first with upscale(img, 128, 'lanczos')).")
    if not isinstance(prompt, str):
        raise CourseInputError(f"prompt must be text (a str), got {type(prompt).__name__}.")
    checks = (("steps", steps, 1, 200), ("seed", seed, 0, 2**63 - 1), ("noise_level", noise_level, 0, 350))
    for name, v, lo, hi in checks:
        if isinstance(v, bool) or not isinstance(v, Integral) or not lo <= v <= hi:
            raise CourseInputError(f"{name} must be a whole number from {lo} to {hi}, got {v!r}.")
    pipe = load_upscaler()
    generator = torch.Generator("cpu").manual_seed(int(seed))
    with torch.inference_mode():
        return pipe(prompt=prompt, image=pic, num_inference_steps=int(steps), noise_level=int(noise_level),
                    generator=generator).images[0]
