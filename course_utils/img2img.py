"""Image-to-image: where strength starts the denoising, and how much of the photo survives.

Taught in: chapter 5 (image-to-image), both paths.

* `strength_schedule` reproduces diffusers' choice of timesteps for a strength: of ``steps``
  timesteps, only the last ``int(steps x strength)`` run, and the photo's latent is noised to the
  first of them, ``z_t = sqrt(ᾱ_t) z_0 + sqrt(1 - ᾱ_t) ε``. It also reports ``sqrt(ᾱ_t)``, the share of
  the photo still present in the starting latent (not 0 even at ``strength=1``).
* `ssim` measures how much a result still looks like the reference (structural similarity, 1 = same).
* `strength_sweep` makes pictures at several strengths and seeds and scores each against the
  reference (SSIM) and against the prompt (CLIP score), for the trade-off curve of chapter 5.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from numbers import Integral

import numpy as np
import torch
from PIL import Image

from .errors import CourseInputError
from .generate import check_strength, image_to_image
from .images import fit_square, load_image
from .models import picture_size

__all__ = ["StrengthSchedule", "ssim", "strength_schedule", "strength_sweep", "sweep_means"]


@dataclass(frozen=True)
class StrengthSchedule:
    """Which timesteps an image-to-image call runs, as diffusers' ``get_timesteps`` chooses them.

    Attributes:
        steps: the number of inference steps asked for (``num_inference_steps``).
        strength: the strength asked for, in (0, 1].
        steps_run: ``min(int(steps x strength), steps)``, the denoising steps that actually run.
        t_start: ``steps - steps_run``, the index of the first timestep that runs.
        timesteps: the timesteps that run, ``scheduler.timesteps[t_start * order:]`` (a 1-D tensor).
        first_timestep: the timestep the photo's latent is noised to, ``timesteps[0]``.
        alpha_bar: ᾱ at that timestep.
        signal: ``sqrt(ᾱ)``, the factor the photo's latent keeps in the starting latent.
        noise: ``sqrt(1 - ᾱ)``, the factor of the fresh noise.
    """

    steps: int
    strength: float
    steps_run: int
    t_start: int
    timesteps: torch.Tensor
    first_timestep: int
    alpha_bar: float
    signal: float
    noise: float


def _check_steps(steps, num_train_timesteps: int) -> int:
    if isinstance(steps, bool) or not isinstance(steps, Integral) or not 1 <= steps <= num_train_timesteps:
        raise CourseInputError(
            f"steps={steps!r} must be a whole number from 1 to {num_train_timesteps} (the scheduler's "
            "training timesteps), e.g. steps=20.")
    return int(steps)


def strength_schedule(scheduler, steps: int, strength: float) -> StrengthSchedule:
    """The timesteps an image-to-image call runs for ``steps`` and ``strength``, as diffusers picks them.

    Calls ``scheduler.set_timesteps(steps)`` (the scheduler is changed, as the pipeline changes it), then::

        steps_run = min(int(steps * strength), steps)
        t_start   = max(steps - steps_run, 0)
        timesteps = scheduler.timesteps[t_start * scheduler.order:]

    Args:
        scheduler: a diffusers scheduler with ``alphas_cumprod`` (DDIM, DDPM, PNDM ...), e.g. ``pipe.scheduler``.
        steps (`int`): ``num_inference_steps``, 1 to the scheduler's ``num_train_timesteps``.
        strength (`float`): in (0, 1].

    Returns:
        `StrengthSchedule`.

    Raises:
        `CourseInputError`: for a bad ``steps`` or ``strength``, or when ``int(steps x strength)`` is 0
        (no step would run: the pipeline would return the photo's round trip, or fail).
    """
    if not hasattr(scheduler, "set_timesteps") or not hasattr(scheduler, "alphas_cumprod"):
        raise CourseInputError(
            f"scheduler must be a diffusers scheduler with alphas_cumprod (e.g. pipe.scheduler), got "
            f"{type(scheduler).__name__}.")
    steps = _check_steps(steps, int(scheduler.config.num_train_timesteps))
    strength = check_strength(strength, steps)  # also: at least one step runs
    steps_run = min(int(steps * strength), steps)
    scheduler.set_timesteps(steps)
    t_start = max(steps - steps_run, 0)
    order = int(getattr(scheduler, "order", 1))
    timesteps = scheduler.timesteps[t_start * order:]
    first = int(timesteps[0])
    if first >= len(scheduler.alphas_cumprod):  # e.g. 1000 leading steps with steps_offset=1 start at t=1000
        raise CourseInputError(
            f"steps={steps} makes this scheduler start at timestep {first}, beyond the last trained one "
            f"({len(scheduler.alphas_cumprod) - 1}); the pipeline would fail too. Use fewer steps.")
    alpha_bar = float(scheduler.alphas_cumprod[first])
    return StrengthSchedule(steps=steps, strength=strength, steps_run=steps_run, t_start=t_start,
                            timesteps=timesteps, first_timestep=first, alpha_bar=alpha_bar,
                            signal=math.sqrt(alpha_bar), noise=math.sqrt(1 - alpha_bar))


def _rgb_array(img, name: str) -> np.ndarray:
    if isinstance(img, Image.Image):
        return np.asarray(img.convert("RGB"), dtype=np.float64)
    if isinstance(img, np.ndarray):
        a = np.asarray(img, dtype=np.float64)
        if a.ndim != 3 or a.shape[-1] != 3:
            raise CourseInputError(f"{name} must be an (H, W, 3) array, got shape {a.shape}.")
        if a.size and a.max() <= 1.0 and img.dtype.kind == "f":  # floats in [0, 1]
            a = a * 255.0
        return a
    raise CourseInputError(f"{name} must be a PIL image or an (H, W, 3) array, got {type(img).__name__}.")


def ssim(a, b) -> float:
    """Structural similarity of two pictures of the same size: 1 = identical, about 0 = unrelated.

    Compares local means, contrasts and correlations in 7 x 7 windows, per colour channel
    (``skimage.metrics.structural_similarity`` with ``data_range=255``). Taught in chapter 5.

    Args:
        a, b: PIL images, or ``(H, W, 3)`` arrays (uint8 in 0..255, or floats in [0, 1]); at least 7 x 7.

    Raises:
        `CourseInputError`: for pictures of different sizes, smaller than 7 x 7, or not pictures.
    """
    from skimage.metrics import structural_similarity

    x, y = _rgb_array(a, "a"), _rgb_array(b, "b")
    if x.shape != y.shape:
        raise CourseInputError(
            f"ssim compares pictures of the same size, got {x.shape[1]}x{x.shape[0]} and {y.shape[1]}x{y.shape[0]}; "
            f"bring the photo to the picture's size first, e.g. cu.fit_square(photo, {x.shape[1]}).")
    if min(x.shape[:2]) < 7:
        raise CourseInputError(f"ssim needs pictures of at least 7 x 7 pixels, got {x.shape[1]}x{x.shape[0]}.")
    return float(structural_similarity(x, y, channel_axis=-1, data_range=255.0))


def strength_sweep(image, prompt: str, strengths: Sequence[float], *, pipe, seed: int = 0, num_seeds: int = 3,
                   steps: int | None = None, guidance: float | None = None, size: int | None = None,
                   judge=None) -> list[dict]:
    """Image-to-image at each strength with ``num_seeds`` seeds, scored against the photo and the prompt.

    Taught in chapter 5. Each strength is one `course_utils.image_to_image` call making ``num_seeds``
    pictures (picture i uses ``seed + i``); the photo is fitted to the model's square size first.

    Args:
        image: the reference (path, PIL image or array).
        prompt (`str`): what to turn it into.
        strengths (sequence of `float`): each in (0, 1].
        pipe: a loaded pipeline (text-to-image or image-to-image).
        seed (`int`), num_seeds (`int`, 1 to 16): the seeds ``seed .. seed + num_seeds - 1``.
        steps, guidance: as in `image_to_image` (default: the model's).
        size (`int`, *optional*): the side of the square the photo is fitted to (default: the model's).
        judge: a `course_utils.minisd.metrics.ClipJudge`; without one, ``clip`` is ``nan``.

    Returns:
        `list[dict]`: one row per picture, with ``strength``, ``seed``, ``steps_run``, ``ssim`` (against
        the fitted reference), ``clip`` (CLIP score against ``prompt``, 0 to 100) and ``image``.
    """
    if isinstance(strengths, (str, bytes)) or not isinstance(strengths, Sequence) or not strengths:
        raise CourseInputError(f"strengths must be a non-empty list of numbers in (0, 1], got {strengths!r}.")
    strengths = [check_strength(s) for s in strengths]
    if isinstance(num_seeds, bool) or not isinstance(num_seeds, Integral) or not 1 <= num_seeds <= 16:
        raise CourseInputError(f"num_seeds={num_seeds!r} must be a whole number from 1 to 16.")
    if size is None:
        size = picture_size(pipe)
    photo = load_image(image)
    reference = fit_square(photo, size)  # what image_to_image makes of the photo, for ssim
    rows = []
    for s in strengths:
        result = image_to_image(photo, prompt, strength=s, pipe=pipe, seed=seed, num_images=int(num_seeds),
                                steps=steps, guidance=guidance, size=size)
        clips = judge.score(result.images, [prompt] * len(result.images)).tolist() if judge is not None \
            else [float("nan")] * len(result.images)
        for i, (img, clip) in enumerate(zip(result.images, clips)):
            rows.append(dict(strength=s, seed=result.params["seed"] + i,
                             steps_run=result.params["denoising_steps_run"], ssim=ssim(img, reference),
                             clip=float(clip), image=img))
    return rows


def sweep_means(rows: list[dict]) -> dict[str, np.ndarray]:
    """Average a `strength_sweep` over seeds: arrays ``strength``, ``ssim``, ``ssim_std``, ``clip``, ``clip_std``."""
    if not rows or not all(isinstance(r, dict) and {"strength", "ssim", "clip"} <= r.keys() for r in rows):
        raise CourseInputError("rows must be the non-empty list of dicts that strength_sweep returns.")
    strengths = sorted({r["strength"] for r in rows})
    out: dict[str, list] = {k: [] for k in ("strength", "ssim", "ssim_std", "clip", "clip_std")}
    for s in strengths:
        group = [r for r in rows if r["strength"] == s]
        out["strength"].append(s)
        for key in ("ssim", "clip"):
            v = np.array([r[key] for r in group], dtype=float)
            out[key].append(v.mean())
            out[f"{key}_std"].append(v.std())
    return {k: np.array(v) for k, v in out.items()}
