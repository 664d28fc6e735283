"""Real photographs for the embedded autoencoder: the public-domain photos that installed packages ship.

An autoencoder that has only seen drawn cats turns a photo into a smear of drawn-cat colours, and
image-to-image can only keep what the autoencoder keeps. So the autoencoder also trains on photos:
random crops, scales, flips and colour shifts of a dozen photos from scikit-image's and matplotlib's
sample data (every source and its licence in `assets/CREDITS.md`).

MAU's photo ("chelsea") is never a training picture, and neither are the other `HELD_OUT` photos:
the autoencoder's round-trip bounds are measured on them. Taught in: chapter 5 (why the autoencoder
decides what image-to-image can keep) and the model card.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from . import data as D

# Colour photos first, then grey ones (tinted at random when used); `load` finds each by name.
TRAIN = ("astronaut", "retina", "hubble_deep_field", "immunohistochemistry",
         "camera", "brick", "grass", "gravel", "coins")
HELD_OUT = ("chelsea", "coffee", "rocket", "grace_hopper")  # chelsea is MAU; never trained on


def load(name: str) -> Image.Image:
    """One of the package photos, as RGB (grey ones as three equal channels)."""
    if name == "grace_hopper":
        from matplotlib import cbook

        with cbook.get_sample_data("grace_hopper.jpg") as f:
            return Image.open(f).convert("RGB")
    import skimage.data

    a = getattr(skimage.data, name)()
    if a.ndim == 2:
        a = np.repeat(a[..., None], 3, axis=2)
    return Image.fromarray(a[..., :3])


def held_out_photos(size: int = D.SIZE) -> dict[str, Image.Image]:
    """The held-out photos at `size` pixels, centred squares: what the round-trip bounds are measured on."""
    from course_utils.images import fit_square

    return {name: fit_square(load(name), size) for name in HELD_OUT}


def _jitter(a: np.ndarray, rng: np.random.Generator, grey: bool) -> np.ndarray:
    """Shift hue, saturation and brightness a little (grey photos get a random tint)."""
    hsv = np.asarray(Image.fromarray(a).convert("HSV")).astype(float)
    if grey:
        hsv[..., 0] = rng.uniform(0, 255)
        hsv[..., 1] = rng.uniform(0, 140)
    else:
        hsv[..., 0] = (hsv[..., 0] + rng.uniform(-40, 40)) % 256
        hsv[..., 1] *= rng.uniform(0.6, 1.4)
    hsv[..., 2] *= rng.uniform(0.75, 1.2)
    return np.asarray(Image.fromarray(np.clip(hsv, 0, 255).astype(np.uint8), "HSV").convert("RGB"))


def photo_crops(n: int, seed: int = 0, size: int = D.SIZE) -> np.ndarray:
    """`n` training crops as uint8 (n, size, size, 3): random squares of a training photo (from 1/8 of
    its shorter side to all of it), resized to `size`, flipped half the time, colours shifted."""
    rng = np.random.default_rng(seed)
    photos = {name: load(name) for name in TRAIN}
    grey = {name: bool(np.ptp(np.asarray(p).astype(int)[..., :3] - np.asarray(p)[..., :1], axis=None) == 0)
            for name, p in photos.items()}
    out = np.empty((n, size, size, 3), np.uint8)
    names = list(photos)
    for i in range(n):
        name = names[int(rng.integers(len(names)))]
        img = photos[name]
        w, h = img.size
        side = int(min(w, h) * np.exp(rng.uniform(np.log(1 / 8), 0)))
        side = max(side, min(size, w, h))
        x, y = int(rng.integers(0, w - side + 1)), int(rng.integers(0, h - side + 1))
        crop = img.crop((x, y, x + side, y + side)).resize((size, size), Image.Resampling.LANCZOS)
        if rng.random() < 0.5:
            crop = crop.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        out[i] = _jitter(np.asarray(crop), rng, grey[name]) if rng.random() < 0.8 else np.asarray(crop)
    return out
