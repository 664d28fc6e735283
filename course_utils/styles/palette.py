"""Chapter 9's colour rules: the Mega Drive's 9-bit colour space and one 15-colour sprite palette.

`MD_LEVELS` are the 8 levels of a channel (8 × 8 × 8 = 512 colours), `snap_to_9bit` moves
colours onto them and `is_9bit` checks them. `quantize_md` reduces a picture to one palette:
k-means in CIELAB, where equal distances look equally different, centres snapped to 9 bits,
optional ordered dithering. The colour maths (CIELAB, nearest colour, k-means) serves the
sprite, the cut-out and the print checks too.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PIL import Image
from skimage import color as skcolor

from .. import checks
from ..errors import CourseInputError
from .common import load_picture

__all__ = ["MD_LEVELS", "MD_SCREEN", "is_9bit", "quantize_md", "snap_to_9bit"]

#: The 8 brightness levels of a Mega Drive colour channel. The console's colour RAM holds 3 bits per
#: channel (9-bit colour: 8 × 8 × 8 = 512 colours). Multiplying the 3-bit value by 36 is the common
#: convention in pixel-art tools and many emulators, and keeps every level on a whole number. Some
#: emulators instead use a nonlinear ladder measured from the console's video DAC (e.g. 0, 52, 87,
#: 116, 144, 172, 206, 255); the course keeps the evenly spaced one so "is this 9-bit?" is exact.
MD_LEVELS: tuple[int, ...] = (0, 36, 72, 108, 144, 180, 216, 252)

#: The Mega Drive's usual screen size in pixels (H40 mode, NTSC): 320 × 224.
MD_SCREEN: tuple[int, int] = (320, 224)

_MD_ARRAY = np.array(MD_LEVELS, dtype=np.uint8)
_BAYER4 = np.array([[0, 8, 2, 10], [12, 4, 14, 6], [3, 11, 1, 9], [15, 7, 13, 5]], dtype=np.float32)


def snap_to_9bit(rgb_array: Any) -> Any:
    r"""Move colours to the nearest colour the Mega Drive can show (each channel onto `MD_LEVELS`).

    Taught in chapter 9 (MAU as a Sega-16-bit-inspired t-shirt design).

    Args:
        rgb_array (`np.ndarray` or `tuple`):
            Values 0..255: one colour ``(r, g, b)`` or an array of any shape (``(H, W, 3)``,
            ``(N, 3)``...). Each value goes to the nearest of 0, 36, ..., 252.

    Returns:
        A tuple of ints for one colour given as a tuple or list, otherwise a ``uint8`` array of
        the same shape.

    Examples:
        >>> cu.styles.snap_to_9bit((255, 100, 17))
        (252, 108, 0)
    """
    is_colour = isinstance(rgb_array, (tuple, list)) and np.ndim(rgb_array) == 1
    try:
        arr = np.asarray(rgb_array, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise CourseInputError(
            f"snap_to_9bit needs colour values 0..255 (a tuple or an array), got {rgb_array!r}."
        ) from err
    if arr.size == 0 or not np.isfinite(arr).all() or arr.min() < 0 or arr.max() > 255:
        raise CourseInputError(
            "snap_to_9bit needs colour values from 0 to 255; got values outside that range (or NaN). "
            "Scale float pictures with arr * 255 first."
        )
    # level index = round(v / 36), at most 7: 255 → 7 → 252
    snapped = _MD_ARRAY[np.clip(np.rint(arr / 36.0), 0, 7).astype(np.intp)]
    if is_colour:
        return tuple(int(v) for v in snapped.reshape(-1))
    return snapped


def is_9bit(colour: Any) -> Any:
    r"""Tell whether colours lie in the Mega Drive's 9-bit space (every channel in `MD_LEVELS`).

    Taught in chapter 9 (MAU as a Sega-16-bit-inspired t-shirt design).

    Args:
        colour (`tuple` or `np.ndarray`):
            One colour ``(r, g, b)`` (extra channels such as alpha are ignored) or an array of
            shape ``(..., 3)`` or ``(..., 4)``.

    Returns:
        `bool` for one colour, a boolean array of shape ``(...)`` for an array.

    Examples:
        >>> cu.styles.is_9bit((252, 108, 0)), cu.styles.is_9bit((255, 108, 0))
        (True, False)
    """
    arr = np.asarray(colour)
    if arr.ndim == 0 or arr.shape[-1] not in (3, 4):
        raise CourseInputError(f"is_9bit needs a colour (r, g, b) or an array of shape (..., 3), got {colour!r}.")
    ok = np.isin(arr[..., :3], _MD_ARRAY).all(axis=-1)
    return bool(ok) if arr.ndim == 1 else ok


_LAB_LUT: np.ndarray | None = None


def _lab_lut() -> np.ndarray:
    """CIELAB of the 64³ colours whose channels are (v >> 2) · 4 + 1.5, computed once."""
    global _LAB_LUT
    if _LAB_LUT is None:
        levels = (np.arange(64, dtype=np.float64) * 4 + 1.5) / 255.0
        r, g, b = np.meshgrid(levels, levels, levels, indexing="ij")
        rgb = np.stack([r, g, b], axis=-1).reshape(-1, 3)
        _LAB_LUT = skcolor.rgb2lab(rgb).astype(np.float32)
    return _LAB_LUT


def rgb_to_lab(rgb_uint8: np.ndarray) -> np.ndarray:
    """CIELAB of colours 0..255 in any (..., 3) array, as an (N, 3) float32 array."""
    return skcolor.rgb2lab(rgb_uint8.reshape(-1, 3).astype(np.float64) / 255.0).astype(np.float32)


def _nearest(x: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Index of the nearest row of ``c`` for each row of ``x``: argmin_j ‖x − c_j‖²."""
    # ‖x − c‖² = ‖x‖² − 2 x·c + ‖c‖², and ‖x‖² is the same for every j: one matrix product
    return (-2.0 * (x @ c.T) + (c * c).sum(axis=1)[None, :]).argmin(axis=1)


def kmeans(x: np.ndarray, k: int, rng: np.random.Generator, iters: int = 15) -> np.ndarray:
    """Plain k-means (Lloyd) with k-means++ starting centres; ``x`` is (N, D) float64."""
    n = len(x)
    centres = [x[int(rng.integers(n))]]
    d2 = ((x - centres[0]) ** 2).sum(axis=1)
    for _ in range(1, k):
        total = d2.sum()
        if total <= 0:  # fewer distinct points than centres
            break
        # k-means++: draw the next centre with probability ∝ squared distance to the nearest one
        i = int(rng.choice(n, p=d2 / total))
        centres.append(x[i])
        d2 = np.minimum(d2, ((x - x[i]) ** 2).sum(axis=1))
    c = np.array(centres)
    for _ in range(iters):
        # assign each point to its nearest centre: argmin_j ‖x − c_j‖²
        labels = _nearest(x, c)
        counts = np.bincount(labels, minlength=len(c)).astype(np.float64)
        sums = np.zeros_like(c)
        np.add.at(sums, labels, x)
        # move each centre to the mean of its points (an empty cluster keeps its centre)
        new = np.where(counts[:, None] > 0, sums / np.maximum(counts, 1)[:, None], c)
        if np.allclose(new, c, atol=1e-3):
            c = new
            break
        c = new
    return c


def fit_palette(rgb: np.ndarray, n_colors: int, seed: int, sample: int = 20000) -> np.ndarray:
    """k-means in CIELAB on up to ``sample`` pixels, centres snapped to 9-bit, duplicates merged."""
    rng = np.random.default_rng(seed)
    if len(rgb) > sample:
        rgb = rgb[rng.integers(0, len(rgb), size=sample)]
    lab = rgb_to_lab(rgb).astype(np.float64)
    centres = kmeans(lab, n_colors, rng)
    back = skcolor.lab2rgb(centres[None, :, :])[0] * 255.0
    snapped = snap_to_9bit(np.clip(back, 0, 255))
    # np.unique both merges the duplicates that snapping made and sorts, so the result is deterministic.
    return np.unique(snapped.reshape(-1, 3), axis=0)


def _dither_spread(palette: np.ndarray) -> float:
    """How far ordered dithering pushes colours: about half a step between neighbouring palette colours."""
    if len(palette) < 2:
        return 0.0
    p = palette.astype(np.float64)
    d = np.sqrt(((p[:, None, :] - p[None, :, :]) ** 2).sum(axis=2))
    np.fill_diagonal(d, np.inf)
    return float(0.6 * np.median(d.min(axis=1)))


def map_to_palette(rgb: np.ndarray, palette: np.ndarray, dither: bool) -> np.ndarray:
    """Index of the nearest palette colour (in CIELAB) for each pixel of an (H, W, 3) uint8 array."""
    h, w = rgb.shape[:2]
    if dither and len(palette) > 1:
        # Ordered dithering: add the 4×4 Bayer threshold (−½..½) × spread to every channel, so
        # neighbouring pixels of a mid colour fall on either side of it, in a fixed pattern.
        offsets = (_BAYER4 + 0.5) / 16.0 - 0.5
        tile = np.tile(offsets, (h // 4 + 1, w // 4 + 1))[:h, :w]
        shifted = rgb.astype(np.float32) + (_dither_spread(palette) * tile)[:, :, None]
        rgb = np.clip(np.rint(shifted), 0, 255).astype(np.uint8)
    pal_lab = rgb_to_lab(palette).astype(np.float64)
    if h * w <= 1 << 18:
        return _nearest(rgb_to_lab(rgb).astype(np.float64), pal_lab).reshape(h, w)
    # Large pictures: look the answer up in a table of 64³ colours (6 bits per channel).
    table = _nearest(_lab_lut().astype(np.float64), pal_lab).astype(np.uint8)
    q = (rgb >> 2).astype(np.uint32)
    return table[(q[..., 0] << 12) | (q[..., 1] << 6) | q[..., 2]]


def check_n_colors(n_colors: Any) -> int:
    """A palette size of 1 to 15 colours, the most a sprite palette holds besides transparency."""
    return checks.whole(
        "n_colors", n_colors, 1, 15,
        hint="A Mega Drive sprite palette holds 15 colours plus transparency; leave one for the outline, "
             "e.g. n_colors=14.",
    )


def split_alpha(pic: Image.Image) -> tuple[np.ndarray, np.ndarray | None]:
    """A picture's RGB array and, for an RGBA one, where it is opaque (alpha ≥ 128); else None."""
    arr = np.asarray(pic)
    if pic.mode == "RGBA":
        return arr[:, :, :3], arr[:, :, 3] >= 128
    return arr, None


def join_alpha(rgb: np.ndarray, opaque: np.ndarray | None) -> Image.Image:
    """`split_alpha` undone: RGB, or RGBA with alpha 255 where `opaque` and black, clear pixels elsewhere."""
    if opaque is None:
        return Image.fromarray(np.ascontiguousarray(rgb), mode="RGB")
    rgba = np.dstack([np.where(opaque[:, :, None], rgb, 0), np.where(opaque, 255, 0)]).astype(np.uint8)
    return Image.fromarray(rgba, mode="RGBA")


def _palette_list(rgb: np.ndarray, opaque: np.ndarray | None) -> list[tuple[int, int, int]]:
    """The colours used, darkest first (by CIELAB lightness)."""
    pix = rgb.reshape(-1, 3) if opaque is None else rgb[opaque]
    if len(pix) == 0:
        return []
    codes = np.unique((pix[:, 0].astype(np.uint32) << 16) | (pix[:, 1].astype(np.uint32) << 8) | pix[:, 2])
    used = np.stack([(codes >> 16) & 255, (codes >> 8) & 255, codes & 255], axis=1).astype(np.uint8)
    order = np.argsort(rgb_to_lab(used)[:, 0], kind="stable")
    return [tuple(int(v) for v in used[i]) for i in order]


def quantize_md(
    img: Any,
    n_colors: int = 15,
    dither: bool = False,
    seed: int = 0,
) -> tuple[Image.Image, list[tuple[int, int, int]]]:
    r"""Reduce a picture to one Mega Drive sprite palette: at most 15 colours, all 9-bit.

    Taught in chapter 9 (MAU as a Sega-16-bit-inspired t-shirt design).

    1. k-means clustering (written out here with NumPy) finds ``n_colors`` colours on up to
       20 000 pixels drawn at random with ``seed``, in CIELAB, where equal distances look
       equally different to the eye.
    2. Each colour is snapped to the 9-bit space (`snap_to_9bit`); colours that land on the same
       9-bit colour merge, so the palette may come out smaller than ``n_colors``.
    3. Every pixel takes the nearest palette colour in CIELAB, optionally after ordered (4×4
       Bayer) dithering, which mixes two neighbouring colours in a fixed checker-like pattern to
       suggest the colour between them, as 16-bit games did.

    Transparency: for a picture with an alpha channel, pixels with alpha below 128 are left out
    of the clustering and come back fully transparent (RGB 0, 0, 0); the others become opaque.

    Args:
        img (`PIL.Image.Image`, `np.ndarray` or path):
            The picture; any mode `load_image` accepts.
        n_colors (`int`, defaults to 15):
            Palette size, 1 to 15 (a sprite palette is 15 colours plus transparency). Use 14 when
            `add_outline` will add its colour.
        dither (`bool`, defaults to `False`):
            Use ordered dithering.
        seed (`int`, defaults to 0):
            Seed of the random draws; the same seed gives the same bytes.

    Returns:
        `tuple`: the ``RGB`` picture (``RGBA`` if the input had alpha), and its palette, a `list`
        of the ``(r, g, b)`` colours it uses, darkest first.

    Raises:
        `CourseInputError`: for ``n_colors`` outside 1..15, or a picture with no opaque pixel.

    Examples:
        >>> pic, palette = cu.styles.quantize_md(cu.mau(size=128), n_colors=15)
        >>> len(palette) <= 15 and all(cu.styles.is_9bit(c) for c in palette)
        True
    """
    n_colors = check_n_colors(n_colors)
    seed = checks.whole("seed", seed, 0, 2**32 - 1, hint="Any whole number works, e.g. seed=0.")
    pic = load_picture(img, keep_alpha=None)
    rgb, opaque = split_alpha(pic)
    pixels = rgb.reshape(-1, 3) if opaque is None else rgb[opaque]
    if len(pixels) == 0:
        raise CourseInputError(
            "quantize_md got a picture with no opaque pixel (every alpha is below 128): there is "
            "nothing to colour. Check the alpha channel, e.g. remove_background's tolerance."
        )
    palette = fit_palette(pixels, n_colors, seed)
    out = palette[map_to_palette(rgb, palette, bool(dither))]
    return join_alpha(out, opaque), _palette_list(out, opaque)

