"""The data every chapter-1 model learns: 16 × 16 black-and-white cat silhouettes, and their check.

Taught in: chapter 1 (A short history of generative models).
"""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image

from .. import checks
from ..errors import CourseInputError
from ..minisd import data as D

__all__ = ["KINDS", "cat_silhouettes", "check_images"]

# The four kinds of cat in the data set: pose × the way the cat faces.
KINDS = ("sitting, facing right", "sitting, facing left", "lying, facing right", "lying, facing left")


def check_images(x, name: str = "images") -> torch.Tensor:
    """`x`, a float tensor of pictures (N, 1, H, W), as `cat_silhouettes` makes them."""
    if not isinstance(x, torch.Tensor) or x.ndim != 4 or x.shape[1] != 1 or not x.is_floating_point():
        got = f"a {x.dtype} tensor of shape {tuple(x.shape)}" if isinstance(x, torch.Tensor) else type(x).__name__
        raise CourseInputError(
            f"{name} must be a float tensor of shape (N, 1, H, W) with values in [0, 1], got {got}. "
            "Make the data with cat_silhouettes()."
        )
    return x


def cat_silhouettes(n: int = 2048, size: int = 16, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """
    `n` black-and-white cat silhouettes of `size` × `size` pixels: the shared data set of chapter 1.

    Each cat is drawn by the embedded model's data generator (random pose, direction, size and
    position) at 4 times the target size, averaged down and cut at one half, so that every pixel is
    exactly 0 (background) or 1 (cat). That makes blur easy to see and to measure.

    Taught in: chapter 1 (A short history of generative models).

    Args:
        n (`int`, defaults to 2048):
            How many pictures, from 1 to 100 000.
        size (`int`, defaults to 16):
            Pixels per side, from 8 to 64.
        seed (`int`, defaults to 0):
            The seed of the random cats; the same seed gives the same pictures.

    Returns:
        `tuple(torch.Tensor, torch.Tensor)`: the pictures, float32 of shape `(n, 1, size, size)` with
        values 0 or 1 (1 = cat), and the kind of each cat, int64 of shape `(n,)`, an index into `KINDS`.

    Raises:
        `CourseInputError`: if an argument is out of range.
    """
    n = checks.whole("n", n, 1, 100_000)
    size = checks.whole("size", size, 8, 64)
    seed = checks.whole("seed", seed, 0, 2**32 - 1)
    rng = np.random.default_rng(seed)
    pictures = np.empty((n, size, size), np.float32)
    kinds = np.empty(n, np.int64)
    for i in range(n):
        spec = D.random_spec(rng, held_out=None)
        # the data generator's own silhouette, drawn 4 × larger, then averaged down
        mask = D.silhouette_mask(spec, 4 * size / D.SIZE).resize((size, size), Image.Resampling.BOX)
        pictures[i] = np.asarray(mask, np.float32) > 127.5
        kinds[i] = (0 if spec.pose == "sitting" else 2) + (0 if spec.facing == 1 else 1)
    return torch.from_numpy(pictures).unsqueeze(1), torch.from_numpy(kinds)
