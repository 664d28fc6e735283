"""Manga screentone, 16-bit console palettes and the files a print shop wants.

Chapter 8 ("MAU in manga style") turns MAU's photo into black ink and screentone: extended
difference-of-Gaussians lines (`xdog_lines`), a few grey steps (`posterize`), halftone dots
(`screentone`), all three at once (`manga_filter`), the model's picture combined with the photo's
lines (`combine_manga`), a measuring tape for the result (`manga_stats`) and a printable page
with speech bubbles (`manga_page`, `speech_bubble`, `save_png_300dpi`).

Chapter 9 ("MAU as a Sega-16-bit-inspired t-shirt design") follows the rules of the Mega Drive /
Genesis: a 9-bit colour space (`MD_LEVELS`, `snap_to_9bit`, `is_9bit`), sprite palettes of 15
colours plus transparency (`quantize_md`, `pixelate`, `add_outline`), a cut-out cat
(`remove_background`), a print file of 4500×5400 pixels at 300 dpi (`upscale_for_print`,
`save_print_png`, `check_print_file`, `assert_print_ready`) and a t-shirt to see it on
(`tshirt_mockup`). `PRESETS` and `make_sprite` give the practical path one call per look.

"Sega-inspired" means the style of 16-bit console art: no logo or character of the company.

Conventions: every function takes a PIL image (or anything `load_image` accepts: a path, a PIL
image of any mode, a NumPy array) and returns a PIL image. Manga results are mode ``L`` holding
only 0 (ink) and 255 (paper); sprites are ``RGBA`` with alpha 0 or 255.
"""

from __future__ import annotations

import math
import os
from numbers import Integral, Real
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageFont, ImageOps
from scipy import ndimage
from skimage import color as skcolor

from .errors import CourseInputError
from .images import load_image
from .saving import save_image

__all__ = [
    "MAX_FILTER_PIXELS",
    "MD_LEVELS",
    "MD_SCREEN",
    "PRESETS",
    "add_outline",
    "assert_print_ready",
    "border_plainness",
    "check_print_file",
    "combine_manga",
    "crop_to_subject",
    "is_9bit",
    "make_sprite",
    "manga_filter",
    "manga_page",
    "manga_stats",
    "on_checkerboard",
    "pixelate",
    "posterize",
    "quantize_md",
    "remove_background",
    "save_png_300dpi",
    "save_print_png",
    "screentone",
    "snap_to_9bit",
    "speech_bubble",
    "tshirt_mockup",
    "upscale_for_print",
    "xdog_lines",
]

#: Largest picture, in pixels, that the full-resolution manga filters accept: an A4 page at 300 dpi
#: (2480×3508, 8.7 million) fits, a 12-megapixel phone photo does not. Above it the filters take
#: seconds and most of a gigabyte; resize first with ``cu.load_image(photo, size=2048)``.
MAX_FILTER_PIXELS = 9_000_000

# ----------------------------------------------------------------------------------------------
# Argument checks shared by every helper
# ----------------------------------------------------------------------------------------------


def _is_int(value: Any) -> bool:
    return isinstance(value, Integral) and not isinstance(value, bool)


def _check_int(value: Any, name: str, low: int, high: int, hint: str) -> int:
    if not _is_int(value) or not low <= value <= high:
        raise CourseInputError(
            f"{name} must be a whole number from {low} to {high}, got {name}={value!r}. {hint}"
        )
    return int(value)


def _check_float(value: Any, name: str, low: float, high: float, hint: str, low_open: bool = False) -> float:
    ok = isinstance(value, Real) and not isinstance(value, bool) and math.isfinite(float(value))
    if ok:
        value = float(value)
        ok = (low < value if low_open else low <= value) and value <= high
    if not ok:
        bracket = "(" if low_open else "["
        raise CourseInputError(
            f"{name} must be a number in {bracket}{low:g}, {high:g}], got {name}={value!r}. {hint}"
        )
    return float(value)


def _check_colour(value: Any, name: str) -> tuple[int, int, int]:
    if (
        not isinstance(value, (tuple, list, np.ndarray))
        or len(value) != 3
        or not all(_is_int(c) and 0 <= c <= 255 for c in value)
    ):
        raise CourseInputError(
            f"{name} must be an (R, G, B) colour with whole numbers 0..255, got {name}={value!r}; "
            f"e.g. {name}=(0, 0, 0)."
        )
    return tuple(int(c) for c in value)


def _check_pair(value: Any, name: str, low: int, high: int, hint: str) -> tuple[int, int]:
    if (
        not isinstance(value, (tuple, list))
        or len(value) != 2
        or not all(_is_int(v) and low <= v <= high for v in value)
    ):
        raise CourseInputError(
            f"{name} must be a (width, height) pair of whole numbers from {low} to {high}, "
            f"got {name}={value!r}. {hint}"
        )
    return int(value[0]), int(value[1])


def _has_alpha(source: Any) -> bool:
    if isinstance(source, Image.Image):
        return source.mode in ("RGBA", "RGBa", "LA", "La", "PA") or "transparency" in source.info
    if isinstance(source, np.ndarray):
        return source.ndim == 3 and source.shape[2] == 4
    if isinstance(source, (str, os.PathLike)):
        try:
            with Image.open(source) as probe:
                return _has_alpha(probe)
        except Exception:  # load_image reports unreadable files with a clear message
            return False
    return False


def _load(source: Any, keep_alpha: bool | None = False) -> Image.Image:
    """`load_image` with no minimum size; ``keep_alpha=None`` keeps alpha only if the source has it."""
    if keep_alpha is None:
        keep_alpha = _has_alpha(source)
    return load_image(source, keep_alpha=keep_alpha, min_size=1)


def _check_filter_size(img: Image.Image, what: str) -> None:
    w, h = img.size
    if w * h > MAX_FILTER_PIXELS:
        raise CourseInputError(
            f"{what} got a picture of {w}×{h} = {w * h:,} pixels, more than MAX_FILTER_PIXELS="
            f"{MAX_FILTER_PIXELS:,} (an A4 page at 300 dpi). Resize it first, e.g. "
            "cu.load_image(photo, size=2048): a printed manga panel needs about 1200 pixels a side."
        )


def _grey(source: Any, what: str) -> np.ndarray:
    """Luminance of any picture as float32 in [0, 1]; transparency is laid on white paper."""
    pic = _load(source)
    _check_filter_size(pic, what)
    # L = 0.299 R + 0.587 G + 0.114 B (ITU-R 601 luma, what PIL's convert("L") computes)
    return np.asarray(pic.convert("L"), dtype=np.float32) / np.float32(255.0)


def _binary_image(black: np.ndarray) -> Image.Image:
    """A mode-L picture: 0 where ``black`` is True, 255 elsewhere."""
    return Image.fromarray(np.where(black, 0, 255).astype(np.uint8), mode="L")


# ----------------------------------------------------------------------------------------------
# Chapter 8: manga
# ----------------------------------------------------------------------------------------------


def _xdog_black(grey: np.ndarray, sigma: float, k: float, p: float, epsilon: float, phi: float) -> np.ndarray:
    """Boolean ink mask of the extended difference of Gaussians."""
    g1 = ndimage.gaussian_filter(grey, sigma, mode="nearest")
    g2 = ndimage.gaussian_filter(grey, sigma * k, mode="nearest")
    # S = (1 + p)·G_σ − p·G_kσ: the picture with its edges sharpened p times (Winnemöller 2012, eq. 7)
    s = (1.0 + p) * g1 - p * g2
    # T = 1 if S ≥ ε, else 1 + tanh(φ·(S − ε)): a soft step from ink (0) to paper (1) (eq. 5)
    t = np.where(s >= epsilon, 1.0, 1.0 + np.tanh(phi * (s - epsilon)))
    # Ink where the soft step is below one half: S < ε − atanh(0.5)/φ.
    return t < 0.5


def xdog_lines(
    img: Any,
    sigma: float = 1.0,
    k: float = 1.6,
    p: float = 20.0,
    epsilon: float = 0.01,
    phi: float = 10.0,
) -> Image.Image:
    r"""Draw ink lines with the extended difference of Gaussians (XDoG, Winnemöller et al. 2012).

    Taught in chapter 8 (MAU in manga style): the classical filter that draws the ink, no model.

    Two blurs of the grey picture are subtracted so that only the edges remain, sharpened ``p``
    times: ``S = (1 + p)·G_σ − p·G_kσ``. Where an edge is, ``S`` dips well below the picture's own
    brightness on the dark side. A soft threshold ``T = 1 + tanh(φ·(S − ε))`` (1 where ``S ≥ ε``)
    turns the dips into ink, and the result is cut at ``T = 0.5`` into pure black and white.

    Args:
        img (`PIL.Image.Image`, `np.ndarray` or path):
            The picture; any mode `load_image` accepts. Transparent parts count as white paper.
        sigma (`float`, defaults to 1.0):
            Blur of the fine Gaussian, in pixels (0.3 to 10): larger draws thicker, calmer lines.
        k (`float`, defaults to 1.6):
            Ratio of the two blurs (1.1 to 5); 1.6 makes the difference of Gaussians close to the
            Laplacian-of-Gaussian edge detector.
        p (`float`, defaults to 20.0):
            Edge sharpening (0 to 200): more ink at weaker edges as it grows.
        epsilon (`float`, defaults to 0.01):
            Threshold on the brightness scale ``[0, 1]`` (-1 to 1): areas darker than it are inked.
        phi (`float`, defaults to 10.0):
            Steepness of the soft threshold (0.1 to 1000); the cut at one half inks ``S`` below
            ``ε − 0.55/φ``, so a larger ``phi`` inks more of the faint dips.

    Returns:
        `PIL.Image.Image`: mode ``L``, the size of ``img``, holding only 0 (ink) and 255 (paper).

    Raises:
        `CourseInputError`: for a parameter outside its range or a picture larger than
        `MAX_FILTER_PIXELS`.

    Examples:
        >>> lines = cu.styles.xdog_lines(cu.mau(size=256))
        >>> {value for _, value in lines.getcolors()} <= {0, 255}
        True
    """
    sigma = _check_float(sigma, "sigma", 0.3, 10.0, "Try sigma=1.0; larger values give thicker lines.")
    k = _check_float(k, "k", 1.1, 5.0, "The paper's value is k=1.6.")
    p = _check_float(p, "p", 0.0, 200.0, "Try p=20; larger values ink weaker edges.")
    epsilon = _check_float(epsilon, "epsilon", -1.0, 1.0, "Try epsilon=0.01 (brightness scale 0..1).")
    phi = _check_float(phi, "phi", 0.1, 1000.0, "Try phi=10.")
    grey = _grey(img, "xdog_lines")
    return _binary_image(_xdog_black(grey, sigma, k, p, epsilon, phi))


def _posterize_array(grey: np.ndarray, levels: int, smooth: float) -> np.ndarray:
    """Grey in [0, 1] → ``levels`` evenly spaced values in [0, 1], after a contrast stretch."""
    if smooth > 0:
        grey = ndimage.gaussian_filter(grey, smooth, mode="nearest")
    # Stretch so that the darkest 1 % becomes black and the lightest 1 % white.
    lo, hi = np.percentile(grey, [1.0, 99.0])
    if hi - lo > 1e-3:
        grey = np.clip((grey - lo) / (hi - lo), 0.0, 1.0)
    # q = round(g·(n − 1)) / (n − 1): n evenly spaced steps from black to white
    return np.rint(grey * (levels - 1)) / (levels - 1)


def posterize(img: Any, levels: int = 3, smooth: float = 0.0) -> Image.Image:
    r"""Reduce a picture to a few grey steps, the tones a manga artist would shade with.

    Taught in chapter 8 (MAU in manga style), as the step between the photo and its screentone.

    The grey picture is first stretched so that its darkest 1 % is black and its lightest 1 %
    white (a dim photo still uses every step), then rounded to ``levels`` evenly spaced greys.

    Args:
        img (`PIL.Image.Image`, `np.ndarray` or path):
            The picture; any mode `load_image` accepts. Transparent parts count as white.
        levels (`int`, defaults to 3):
            Number of grey steps, 2 to 16; 3 gives black, mid grey and white.
        smooth (`float`, defaults to 0.0):
            Gaussian blur in pixels before rounding (0 to 20): larger gives calmer, rounder areas.

    Returns:
        `PIL.Image.Image`: mode ``L`` holding at most ``levels`` values, ``round(255·i/(levels − 1))``.

    Examples:
        >>> len(cu.styles.posterize(cu.mau(size=128), levels=4).getcolors()) <= 4
        True
    """
    levels = _check_int(levels, "levels", 2, 16, "Try levels=3 (black, grey, white).")
    smooth = _check_float(smooth, "smooth", 0.0, 20.0, "Try smooth=1.5, or 0 for none.")
    q = _posterize_array(_grey(img, "posterize"), levels, smooth)
    return Image.fromarray(np.rint(q * 255.0).astype(np.uint8), mode="L")


def _disc_area(r: np.ndarray) -> np.ndarray:
    """Share of a unit cell lying within distance ``r`` of its centre (a disc clipped by the cell)."""
    r = np.minimum(r, math.sqrt(0.5))
    area = np.pi * r**2  # A = π r² while the disc fits inside the cell (r ≤ ½)
    big = r > 0.5
    if big.any():
        rb = r[big]
        # Beyond r = ½ the disc spills over the four sides; remove four circular segments:
        # A = π r² − 4 (r² acos(½ / r) − ½ √(r² − ¼))
        segment = rb**2 * np.arccos(0.5 / rb) - 0.5 * np.sqrt(rb**2 - 0.25)
        area[big] = np.pi * rb**2 - 4.0 * segment
    return np.clip(area, 0.0, 1.0)


def _tone_threshold(height: int, width: int, period: float, angle: float) -> np.ndarray:
    """A threshold map in [0, 1]: darkness d inks exactly the share d of each cell, as a round dot."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    theta = math.radians(angle)
    c, s = math.cos(theta), math.sin(theta)
    # (u, v): pixel centres in the rotated grid, measured in cells
    u = ((x + 0.5) * c + (y + 0.5) * s) / period
    v = (-(x + 0.5) * s + (y + 0.5) * c) / period
    du = u - np.floor(u) - 0.5
    dv = v - np.floor(v) - 0.5
    # Ranking the pixels of a cell by their distance to its centre, as the share of cell area
    # closer than them, makes "ink where threshold < darkness" a dot whose area is the darkness.
    return _disc_area(np.sqrt(du * du + dv * dv)).astype(np.float32)


def _screentone_black(darkness: np.ndarray, period: float, angle: float) -> np.ndarray:
    thr = _tone_threshold(darkness.shape[0], darkness.shape[1], period, angle)
    return (thr < darkness) | (darkness >= 1.0)


def _check_tone_args(period: Any, angle: Any) -> tuple[float, float]:
    period = _check_float(
        period, "period", 3.0, 64.0,
        "It is the distance between dot centres in pixels; a dot needs at least 3 pixels to look "
        "round. Try period=6 for a 512-pixel picture.",
    )
    angle = _check_float(angle, "angle", -360.0, 360.0, "Try angle=45 (the classic screen angle).")
    return period, angle


def screentone(img: Any, period: float = 6.0, angle: float = 45.0) -> Image.Image:
    r"""Render a picture's greys as a halftone of round black dots, like manga screentone.

    Taught in chapter 8 (MAU in manga style): how printed comics show grey with black ink only.

    The dots sit on a square grid turned by ``angle``; each dot's area is the darkness of the
    picture under it (a 30 % grey becomes dots covering 30 % of the paper). Up to about 78 %
    darkness the dots are round; beyond, they merge and leave shrinking white diamonds.

    Args:
        img (`PIL.Image.Image`, `np.ndarray` or path):
            The picture; any mode `load_image` accepts. Transparent parts count as white.
        period (`float`, defaults to 6.0):
            Distance between dot centres in pixels, 3 to 64. Printed at 300 dpi, 6 pixels is a
            screen of 50 lines per inch, close to the common 60-line tones.
        angle (`float`, defaults to 45.0):
            Turn of the dot grid in degrees; 45° hides the grid best from the eye.

    Returns:
        `PIL.Image.Image`: mode ``L`` holding only 0 and 255.

    Examples:
        >>> tone = cu.styles.screentone(Image.new("L", (256, 256), 128), period=8)
        >>> round(cu.styles.manga_stats(tone)["tone_period_px"])
        8
    """
    period, angle = _check_tone_args(period, angle)
    darkness = 1.0 - _grey(img, "screentone")
    return _binary_image(_screentone_black(darkness, period, angle))


# Manga keeps most of the page as paper: after the contrast stretch, greys below _INK_BELOW are solid
# black, greys from _PAPER_FROM up are bare paper, and the band between is cut into screens whose
# darkness runs from _SCREEN_DARKEST down to _SCREEN_LIGHTEST.
_INK_BELOW, _PAPER_FROM = 0.15, 0.5
_SCREEN_DARKEST, _SCREEN_LIGHTEST = 0.5, 0.2


def _manga_darkness(grey: np.ndarray, levels: int, smooth: float) -> np.ndarray:
    """Darkness in [0, 1] of each pixel's tone: 1 (black), a few screens, 0 (paper)."""
    g = ndimage.gaussian_filter(grey, smooth, mode="nearest")
    lo, hi = np.percentile(g, [1.0, 99.0])
    if hi - lo > 1e-3:
        g = np.clip((g - lo) / (hi - lo), 0.0, 1.0)
    if levels == 2:
        return (g < (_INK_BELOW + _PAPER_FROM) / 2).astype(np.float32)
    darkness = (g < _INK_BELOW).astype(np.float32)
    edges = np.linspace(_INK_BELOW, _PAPER_FROM, levels - 1)
    screens = np.linspace(_SCREEN_DARKEST, _SCREEN_LIGHTEST, levels - 2) if levels > 3 else [0.35]
    for k, d in enumerate(screens):
        darkness[(g >= edges[k]) & (g < edges[k + 1])] = d
    return darkness


def _manga_black(
    grey_lines: np.ndarray,
    grey_tones: np.ndarray,
    line_strength: float,
    tone_levels: int,
    period: float,
    angle: float,
) -> np.ndarray:
    """Ink mask of the manga filter: posterized tones as screentone, then XDoG lines on top."""
    scale = max(1.0, max(grey_lines.shape) / 512.0)  # blurs grow with the picture's size
    # 1. Tones: a few steps of a softened picture, each drawn as screentone.
    black = _screentone_black(_manga_darkness(grey_tones, tone_levels, smooth=2.0 * scale), period, angle)
    # 2. Lines: XDoG on a lightly smoothed picture (fur and JPEG noise would ink everywhere).
    if line_strength > 0:
        soft = ndimage.gaussian_filter(grey_lines, 0.7 * scale, mode="nearest")
        black |= _xdog_black(soft, 1.0 * scale, 1.6, 20.0 * line_strength, 0.01, 10.0)
    return black


def _check_manga_args(line_strength: Any, tone_levels: Any, period: Any, angle: Any) -> tuple:
    line_strength = _check_float(
        line_strength, "line_strength", 0.0, 5.0, "1.0 is the default; 0 draws no lines, 2 draws many."
    )
    tone_levels = _check_int(tone_levels, "tone_levels", 2, 8, "Try tone_levels=3 (black, dots, white).")
    period, angle = _check_tone_args(period, angle)
    return line_strength, tone_levels, period, angle


def manga_filter(
    img: Any,
    line_strength: float = 1.0,
    tone_levels: int = 3,
    period: float = 6.0,
    angle: float = 45.0,
) -> Image.Image:
    r"""Turn a photo into a manga drawing with classical filters: ink lines over screentone.

    Taught in chapter 8 (MAU in manga style), as the "no model" baseline the diffusion model is
    compared with.

    The picture is softened, its contrast stretched, and cut into ``tone_levels`` tones, as
    `posterize` does but the way a manga artist shades: most of the page stays paper. Greys below
    0.15 become solid black, greys from 0.5 up bare paper, and the band between is split evenly
    into ``tone_levels − 2`` screens (`screentone`) from 50 % dots (darker) to 20 % (lighter);
    with 3 tones the one screen is 35 %, with 2 tones there is no screen (black below 0.325). Ink
    lines from the extended difference of Gaussians (`xdog_lines`) are laid on top. Blurs grow
    with the picture beyond 512 pixels, so a large photo gets the same look, not finer lines.

    Args:
        img (`PIL.Image.Image`, `np.ndarray` or path):
            The photo; any mode `load_image` accepts. Transparent parts count as white paper.
        line_strength (`float`, defaults to 1.0):
            How eagerly edges are inked (0 to 5; it scales XDoG's ``p``); 0 draws tones only.
        tone_levels (`int`, defaults to 3):
            Number of tones, 2 to 8: 2 is black and white only, 3 adds one dot screen.
        period (`float`, defaults to 6.0):
            Distance between screentone dots in pixels, 3 to 64.
        angle (`float`, defaults to 45.0):
            Turn of the dot grid in degrees.

    Returns:
        `PIL.Image.Image`: mode ``L``, the size of ``img``, holding only 0 and 255.

    Raises:
        `CourseInputError`: for a parameter outside its range, or a picture above
        `MAX_FILTER_PIXELS` (resize it first).

    Examples:
        >>> page = cu.styles.manga_filter(cu.mau(size=512))
        >>> {value for _, value in page.getcolors()} <= {0, 255}
        True
    """
    line_strength, tone_levels, period, angle = _check_manga_args(line_strength, tone_levels, period, angle)
    grey = _grey(img, "manga_filter")
    return _binary_image(_manga_black(grey, grey, line_strength, tone_levels, period, angle))


def combine_manga(
    diffusion_img: Any,
    photo_img: Any,
    size: int | tuple[int, int] | None = None,
    line_strength: float = 1.0,
    tone_levels: int = 3,
    period: float = 6.0,
    angle: float = 45.0,
) -> Image.Image:
    r"""Diffusion for the style, filter for crisp ink: the model's tones with the photo's lines.

    Taught in chapter 8 (MAU in manga style), where the small model's 64×64 manga picture is too
    coarse to print.

    The diffusion picture is enlarged (bicubic) to the photo's resolution and gives the tones,
    drawn as screentone; the photo itself gives the ink lines (`xdog_lines`), at full resolution.
    Say so when showing the result: the sharp lines come from the classical filter, not from
    the model, which contributes only the shading and where it falls. The two layers line up only if
    the diffusion picture was made from this photo with a moderate ``strength`` (image-to-image);
    if the model moved things, the lines will not follow.

    When the two pictures' shapes differ (a square model picture, a 3:2 photo), the photo is
    cropped around its centre to the diffusion picture's shape, as `fit_square` does.

    Args:
        diffusion_img (`PIL.Image.Image`, `np.ndarray` or path):
            The model's picture, e.g. 64×64 RGB.
        photo_img (`PIL.Image.Image`, `np.ndarray` or path):
            The photo it was made from.
        size (`int` or `tuple[int, int]`, *optional*):
            Size of the result: ``None`` keeps the (cropped) photo's size, an `int` sets the
            longer side, a ``(width, height)`` pair sets both.
        line_strength, tone_levels, period, angle:
            As in `manga_filter`.

    Returns:
        `PIL.Image.Image`: mode ``L`` holding only 0 and 255.

    Examples:
        >>> small = cu.mau(size=64).resize((64, 64))
        >>> cu.styles.combine_manga(small, cu.fit_square(cu.mau(), 256)).size
        (256, 256)
    """
    line_strength, tone_levels, period, angle = _check_manga_args(line_strength, tone_levels, period, angle)
    model_pic = _load(diffusion_img)
    photo = _load(photo_img)
    # 1. Crop the photo to the model picture's shape if they differ by more than 1 %.
    dw, dh = model_pic.size
    if abs(photo.width / photo.height - dw / dh) > 0.01 * dw / dh:
        cw = min(photo.width, round(photo.height * dw / dh))
        ch = min(photo.height, round(photo.width * dh / dw))
        photo = ImageOps.fit(photo, (max(1, cw), max(1, ch)), Image.Resampling.LANCZOS)
    # 2. Choose the output size.
    if size is None:
        target = photo.size
    elif _is_int(size) and 8 <= size <= 8192:
        scale = size / max(photo.size)
        target = (max(1, round(photo.width * scale)), max(1, round(photo.height * scale)))
    else:
        target = _check_pair(size, "size", 8, 8192, "Pass None, an int (the longer side) or (width, height).")
    if target[0] * target[1] > MAX_FILTER_PIXELS:
        raise CourseInputError(
            f"size={size!r} gives {target[0]}×{target[1]} pixels, more than MAX_FILTER_PIXELS="
            f"{MAX_FILTER_PIXELS:,}. Pass a smaller size, e.g. size=2048."
        )
    if photo.size != target:
        photo = photo.resize(target, Image.Resampling.LANCZOS)
    # 3. Tones from the enlarged model picture, lines from the photo.
    tones = model_pic.convert("L").resize(target, Image.Resampling.BICUBIC)
    grey_tones = np.asarray(tones, dtype=np.float32) / np.float32(255.0)
    grey_lines = np.asarray(photo.convert("L"), dtype=np.float32) / np.float32(255.0)
    return _binary_image(_manga_black(grey_lines, grey_tones, line_strength, tone_levels, period, angle))


def manga_stats(img: Any, min_period: float = 2.5, max_period: float = 32.0) -> dict[str, Any]:
    r"""Measure a manga picture: how much ink, how much paper, and the screentone's dot spacing.

    Taught in chapter 8 (MAU in manga style), to check a result with numbers, not only the eye.

    The dot spacing is found with a 2-D Fourier transform: a regular grid of dots is a strong,
    sharp peak at the frequency ``1 / period``. The peak is searched between ``1/max_period`` and
    ``1/min_period`` cycles per pixel, after a Hann window (so the picture's edges do not leak
    into it), on the central 1024×1024 pixels at most.

    Args:
        img (`PIL.Image.Image`, `np.ndarray` or path):
            The picture; colour pictures are measured on their grey.
        min_period (`float`, defaults to 2.5):
            Shortest dot spacing searched, in pixels (at least 2, the finest a grid of pixels holds).
        max_period (`float`, defaults to 32.0):
            Longest dot spacing searched, in pixels; longer waves are the drawing, not the dots.

    Returns:
        `dict` with

        - ``"black_share"``, ``"white_share"``, ``"grey_share"`` (`float`): shares of pixels equal
          to 0, equal to 255, and anything between (a proper manga filter gives a grey share of 0);
        - ``"tone_period_px"`` (`float` or `None`): spacing of the strongest periodic pattern, in
          pixels along the grid (``None`` for a uniform picture);
        - ``"tone_frequency"`` (`float` or `None`): the same as cycles per pixel, ``1 / period``;
        - ``"tone_angle_deg"`` (`float` or `None`): the grid's direction, in degrees modulo 90;
        - ``"tone_peak_ratio"`` (`float`): the peak's height over the median of the band
          searched; above about 20 the dots are clearly there.

    Examples:
        >>> stats = cu.styles.manga_stats(cu.styles.manga_filter(cu.mau(size=512)))
        >>> stats["grey_share"]
        0.0
    """
    min_period = _check_float(min_period, "min_period", 2.0, 1000.0, "Try min_period=2.5.")
    max_period = _check_float(max_period, "max_period", 2.0, 1000.0, "Try max_period=32.")
    if max_period <= min_period:
        raise CourseInputError(
            f"max_period must be larger than min_period, got min_period={min_period:g} and "
            f"max_period={max_period:g}. Try min_period=2.5, max_period=32."
        )
    pix = np.asarray(_load(img).convert("L"))
    n = pix.size
    stats: dict[str, Any] = {
        "black_share": float(np.count_nonzero(pix == 0) / n),
        "white_share": float(np.count_nonzero(pix == 255) / n),
    }
    stats["grey_share"] = float(np.count_nonzero((pix > 0) & (pix < 255)) / n)
    stats.update(tone_period_px=None, tone_frequency=None, tone_angle_deg=None, tone_peak_ratio=0.0)

    # 1. The central crop, its mean removed, under a Hann window.
    h, w = pix.shape
    ch, cw = min(h, 1024), min(w, 1024)
    y0, x0 = (h - ch) // 2, (w - cw) // 2
    a = pix[y0:y0 + ch, x0:x0 + cw].astype(np.float64) / 255.0
    a -= a.mean()
    if ch < 8 or cw < 8 or not np.any(a):
        return stats
    a *= np.hanning(ch)[:, None] * np.hanning(cw)[None, :]
    # 2. |F(fy, fx)|; the spectrum of a real picture is symmetric, so half of it is enough.
    mag = np.abs(np.fft.rfft2(a))
    fy = np.fft.fftfreq(ch)[:, None]
    fx = np.fft.rfftfreq(cw)[None, :]
    f = np.sqrt(fx**2 + fy**2)  # cycles per pixel
    band = (f >= 1.0 / max_period) & (f <= 1.0 / min_period)
    if not band.any():
        return stats
    # 3. The strongest peak in the band.
    scores = np.where(band, mag, -1.0)
    iy, ix = np.unravel_index(int(np.argmax(scores)), scores.shape)
    freq = float(f[iy, ix])
    median = float(np.median(mag[band]))
    stats.update(
        tone_period_px=1.0 / freq,
        tone_frequency=freq,
        tone_angle_deg=float(math.degrees(math.atan2(fy[iy, 0], fx[0, ix])) % 90.0),
        tone_peak_ratio=float(mag[iy, ix] / median) if median > 0 else float("inf"),
    )
    return stats


# -- speech bubbles and pages --------------------------------------------------------------------


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.load_default(size=size)
    except Exception:  # Pillow built without FreeType: the small fixed bitmap font
        return ImageFont.load_default()


def _wrap_lines(text: str, font: Any, draw: ImageDraw.ImageDraw, width: float) -> str:
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for word in paragraph.split():
            trial = f"{line} {word}".strip()
            if not line or draw.textlength(trial, font=font) <= width:
                line = trial
            else:
                lines.append(line)
                line = word
        lines.append(line)
    return "\n".join(lines)


def _fit_text(draw: ImageDraw.ImageDraw, text: str, width: float, height: float, start: int) -> tuple[Any, str]:
    """The largest font size ≤ ``start`` at which the wrapped text fits ``width`` × ``height``."""
    size = max(8, int(start))
    while True:
        font = _font(size)
        wrapped = _wrap_lines(text, font, draw, width)
        x0, y0, x1, y1 = draw.multiline_textbbox((0, 0), wrapped, font=font, align="center", spacing=size // 5)
        if (x1 - x0 <= width and y1 - y0 <= height) or size <= 8:
            return font, wrapped
        size = max(8, int(size * 0.9))


def speech_bubble(
    draw_or_img: Image.Image | ImageDraw.ImageDraw,
    xy: tuple[float, float, float, float],
    text: str,
    tail: tuple[float, float] | None = None,
    font_size: int | None = None,
    line_width: int | None = None,
) -> Image.Image | ImageDraw.ImageDraw:
    r"""Draw a manga speech bubble: a white ellipse with a black rim, a tail and centred text.

    Taught in chapter 8 (MAU in manga style), when MAU's panels become a page.

    Args:
        draw_or_img (`PIL.Image.Image` or `PIL.ImageDraw.ImageDraw`):
            Where to draw, in place: a picture (mode ``L``, ``RGB`` or ``RGBA``) or a drawing
            context made with ``ImageDraw.Draw(picture)``.
        xy (`tuple` of 4 numbers):
            The bubble's box ``(x0, y0, x1, y1)`` in pixels, at least 20 pixels each way.
        text (`str`):
            What MAU says; wrapped to fit the bubble, ``"\n"`` forces a new line. The font shrinks
            (down to 8 pixels) until the text fits.
        tail (`tuple[float, float]`, *optional*):
            The point the tail aims at (the speaker's mouth), in pixels. By default it points down
            and to the left, below the bubble.
        font_size (`int`, *optional*):
            Starting font size in pixels; by default a fifth of the bubble's height.
        line_width (`int`, *optional*):
            Rim thickness in pixels; by default 1/40 of the bubble's smaller side, at least 2.

    Returns:
        The ``draw_or_img`` it was given, drawn on.

    Examples:
        >>> page = Image.new("L", (400, 300), 255)
        >>> _ = cu.styles.speech_bubble(page, (40, 20, 360, 160), "Nyaa! Feed me!")
    """
    # 1. Check the arguments.
    if isinstance(draw_or_img, Image.Image):
        draw = ImageDraw.Draw(draw_or_img)
    elif isinstance(draw_or_img, ImageDraw.ImageDraw):
        draw = draw_or_img
    else:
        raise CourseInputError(
            f"speech_bubble draws on a PIL image or an ImageDraw.Draw, got a {type(draw_or_img).__name__}; "
            "e.g. speech_bubble(page, (40, 20, 360, 160), 'Nya!')."
        )
    if (
        not isinstance(xy, (tuple, list))
        or len(xy) != 4
        or not all(isinstance(v, Real) and not isinstance(v, bool) and math.isfinite(v) for v in xy)
        or xy[2] - xy[0] < 20
        or xy[3] - xy[1] < 20
    ):
        raise CourseInputError(
            f"xy must be a box (x0, y0, x1, y1) in pixels with x1 - x0 and y1 - y0 of at least 20, "
            f"got xy={xy!r}; e.g. xy=(40, 20, 360, 160)."
        )
    if not isinstance(text, str):
        raise CourseInputError(f"text must be a string, got {type(text).__name__}; e.g. text='Nya!'.")
    x0, y0, x1, y1 = (float(v) for v in xy)
    bw, bh = x1 - x0, y1 - y0
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    if tail is None:
        tail = (x0 + 0.3 * bw, y1 + 0.45 * bh)
    if (
        not isinstance(tail, (tuple, list))
        or len(tail) != 2
        or not all(isinstance(v, Real) and not isinstance(v, bool) and math.isfinite(v) for v in tail)
    ):
        raise CourseInputError(f"tail must be a point (x, y) in pixels or None, got tail={tail!r}.")
    if line_width is None:
        line_width = max(2, round(min(bw, bh) / 40))
    line_width = _check_int(line_width, "line_width", 1, 100, "Try line_width=4.")
    if font_size is None:
        font_size = min(500, max(10, round(bh / 5)))
    font_size = _check_int(font_size, "font_size", 6, 500, "Try font_size=40.")

    # 2. The tail: a triangle from a base inside the ellipse to the tip.
    tx, ty = float(tail[0]), float(tail[1])
    dx, dy = tx - cx, ty - cy
    dist = math.hypot(dx, dy) or 1.0
    ux, uy = dx / dist, dy / dist
    # Radius of the ellipse in the tail's direction: 1/r² = (u_x/a)² + (u_y/b)²
    r_edge = 1.0 / math.sqrt((ux / (bw / 2)) ** 2 + (uy / (bh / 2)) ** 2)
    base_r, half = 0.6 * r_edge, 0.13 * min(bw, bh)
    bx, by = cx + ux * base_r, cy + uy * base_r
    triangle = [(bx - uy * half, by + ux * half), (tx, ty), (bx + uy * half, by - ux * half)]

    # 3. Ink first (ellipse and tail grown by the rim's width), then paper inside: the rim stays
    #    open where the tail joins the bubble.
    lw = line_width
    draw.ellipse((x0 - lw, y0 - lw, x1 + lw, y1 + lw), fill="black")
    draw.polygon(triangle, fill="black")
    draw.line([*triangle, triangle[0]], fill="black", width=2 * lw, joint="curve")
    draw.ellipse((x0, y0, x1, y1), fill="white")
    draw.polygon(triangle, fill="white")

    # 4. The text, wrapped and centred.
    font, wrapped = _fit_text(draw, text, 0.72 * bw, 0.62 * bh, font_size)
    size = getattr(font, "size", 10)
    draw.multiline_text((cx, cy), wrapped, fill="black", font=font, anchor="mm", align="center",
                        spacing=int(size) // 5)
    return draw_or_img


def _is_grey(pic: Image.Image) -> bool:
    arr = np.asarray(pic)
    return bool((arr[:, :, 0] == arr[:, :, 1]).all() and (arr[:, :, 1] == arr[:, :, 2]).all())


def _is_binary(pic: Image.Image) -> bool:
    colours = pic.getcolors(3)
    return colours is not None and {c for _, c in colours} <= {0, 255}


def manga_page(
    panels: list[Any],
    captions: list[str | None] | None = None,
    bubbles: list[Any] | None = None,
    layout: str = "2x2",
    title: str | None = None,
    right_to_left: bool = True,
    dpi: int = 300,
    page_size_px: tuple[int, int] = (2480, 3508),
) -> Image.Image:
    r"""Lay four panels out as a printable manga page, with borders, captions and speech bubbles.

    Taught in chapter 8 (MAU in manga style), where MAU's story fills one A4 page.

    Each panel is cropped around its centre to fill its frame and gets a black border; frames are
    separated by white gutters, wider between rows than between columns, as in printed manga.
    Manga is read from right to left, so with ``layout="2x2"`` and ``right_to_left=True`` the
    first panel sits top right. ``layout="4koma"`` stacks the panels in one column, the Japanese
    four-panel strip (yonkoma). Black-and-white panels are resized with nearest-neighbour so their
    screentone stays pure ink; for the crispest dots, make panels about the size of their frame
    (about 1060×1570 pixels for 2x2 on A4).

    Args:
        panels (`list` of 4 pictures):
            The panels in reading order; any picture `load_image` accepts.
        captions (`list` of `str` or `None`, *optional*):
            One narration box per panel (``None`` or ``""`` for none), drawn at its top left.
        bubbles (`list`, *optional*):
            Speech bubbles, each either ``(panel_index, text)`` or a dict with keys ``"panel"``,
            ``"text"`` and optionally ``"box"`` (``(x0, y0, x1, y1)`` as fractions of the panel,
            default top right) and ``"tail"`` (``(x, y)`` as fractions of the panel).
        layout (`str`, defaults to ``"2x2"``):
            ``"2x2"`` or ``"4koma"``.
        title (`str`, *optional*):
            A title above the panels.
        right_to_left (`bool`, defaults to `True`):
            Panel order of the 2x2 layout: right to left (manga) or left to right.
        dpi (`int`, defaults to 300):
            Print resolution stored in ``page.info["dpi"]``; save with `save_png_300dpi`.
        page_size_px (`tuple[int, int]`, defaults to ``(2480, 3508)``):
            Page size in pixels: A4 at 300 dpi. B5, the usual manga magazine size, is (2079, 2953).

    Returns:
        `PIL.Image.Image`: mode ``L`` when every panel is grey, otherwise ``RGB``.

    Examples:
        >>> panel = cu.styles.manga_filter(cu.mau(size=512))
        >>> page = cu.styles.manga_page([panel] * 4, bubbles=[(0, "Nya!")])
        >>> page.size
        (2480, 3508)
    """
    # 1. Check the arguments.
    if not isinstance(panels, (list, tuple)) or len(panels) != 4:
        got = f"{len(panels)} panels" if isinstance(panels, (list, tuple)) else f"a {type(panels).__name__}"
        raise CourseInputError(
            f"manga_page lays out exactly 4 panels, got {got}. Pass a list of 4 pictures "
            "(repeat one, e.g. [panel] * 4, to try the layout)."
        )
    if layout not in ("2x2", "4koma"):
        raise CourseInputError(f"layout must be '2x2' or '4koma', got layout={layout!r}.")
    page_w, page_h = _check_pair(page_size_px, "page_size_px", 400, 10000, "A4 at 300 dpi is (2480, 3508).")
    dpi = _check_int(dpi, "dpi", 72, 1200, "Print shops ask for dpi=300.")
    if captions is not None and (not isinstance(captions, (list, tuple)) or len(captions) != 4):
        raise CourseInputError(
            f"captions must be a list of 4 strings (or None for a panel without one), got {captions!r}."
        )
    pics = []
    for i, panel in enumerate(panels):
        try:
            pics.append(_load(panel))
        except CourseInputError as err:
            raise CourseInputError(f"manga_page: panel number {i} is not usable: {err}") from None
    mode = "L" if all(_is_grey(pic) for pic in pics) else "RGB"
    bubble_specs = _bubble_specs(bubbles)

    # 2. Page geometry: margins, gutters and frames, scaled with the page width.
    margin = round(0.07 * page_w)
    col_gap, row_gap = round(0.018 * page_w), round(0.032 * page_w)
    border = max(2, round(page_w / 400))
    top = margin
    page = Image.new(mode, (page_w, page_h), "white")
    draw = ImageDraw.Draw(page)
    if title:
        title_font = _font(max(12, round(page_w / 28)))
        draw.text((page_w / 2, margin * 0.55), str(title), fill="black", font=title_font, anchor="mm")
        top = round(margin * 1.1)
    inner_w, inner_h = page_w - 2 * margin, page_h - top - margin
    if layout == "2x2":
        cell_w, cell_h = (inner_w - col_gap) // 2, (inner_h - row_gap) // 2
        order = [(0, 1), (0, 0), (1, 1), (1, 0)] if right_to_left else [(0, 0), (0, 1), (1, 0), (1, 1)]
        boxes = [(margin + c * (cell_w + col_gap), top + r * (cell_h + row_gap)) for r, c in order]
    else:
        cell_w, cell_h = round(0.62 * inner_w), (inner_h - 3 * row_gap) // 4
        left = (page_w - cell_w) // 2
        boxes = [(left, top + r * (cell_h + row_gap)) for r in range(4)]
    if cell_w < 20 or cell_h < 20:
        raise CourseInputError(f"page_size_px={page_size_px!r} leaves no room for 4 panels; use (2480, 3508).")

    # 3. Panels, borders, captions.
    cap_font = _font(max(10, round(page_w / 60)))
    for i, (pic, (px, py)) in enumerate(zip(pics, boxes)):
        resample = Image.Resampling.NEAREST if _is_binary(pic.convert("L")) else Image.Resampling.LANCZOS
        page.paste(ImageOps.fit(pic.convert(mode), (cell_w, cell_h), resample), (px, py))
        draw.rectangle((px, py, px + cell_w - 1, py + cell_h - 1), outline="black", width=border)
        caption = captions[i] if captions is not None else None
        if caption:
            pad = round(cap_font.size * 0.45) if hasattr(cap_font, "size") else 6
            wrapped = _wrap_lines(str(caption), cap_font, draw, 0.6 * cell_w)
            tb = draw.multiline_textbbox((0, 0), wrapped, font=cap_font, spacing=pad // 2)
            bx0, by0 = px + border + pad, py + border + pad
            bx1, by1 = bx0 + (tb[2] - tb[0]) + 2 * pad, by0 + (tb[3] - tb[1]) + 2 * pad
            draw.rectangle((bx0, by0, bx1, by1), fill="white", outline="black", width=max(2, border // 2))
            draw.multiline_text((bx0 + pad - tb[0], by0 + pad - tb[1]), wrapped, fill="black", font=cap_font,
                                spacing=pad // 2)

    # 4. Speech bubbles, in panel coordinates.
    for panel_index, text, box, tail in bubble_specs:
        px, py = boxes[panel_index]
        xy = (px + box[0] * cell_w, py + box[1] * cell_h, px + box[2] * cell_w, py + box[3] * cell_h)
        tip = (px + tail[0] * cell_w, py + tail[1] * cell_h)
        speech_bubble(draw, xy, text, tail=tip, font_size=max(12, round(page_w / 44)),
                      line_width=max(2, round(border * 0.8)))
    page.info["dpi"] = (dpi, dpi)
    return page


def _bubble_specs(bubbles: Any) -> list[tuple[int, str, tuple, tuple]]:
    if bubbles is None:
        return []
    hint = 'Each bubble is (panel_index, text) or {"panel": 0, "text": "Nya!", "box": (0.5, 0.05, 0.95, 0.3)}.'
    if not isinstance(bubbles, (list, tuple)):
        raise CourseInputError(f"bubbles must be a list, got {type(bubbles).__name__}. {hint}")
    specs = []
    for bubble in bubbles:
        if isinstance(bubble, dict):
            panel, text = bubble.get("panel"), bubble.get("text")
            box, tail = bubble.get("box"), bubble.get("tail")
        elif isinstance(bubble, (list, tuple)) and len(bubble) == 2:
            (panel, text), box, tail = bubble, None, None
        else:
            raise CourseInputError(f"bubble {bubble!r} is not understood. {hint}")
        if not _is_int(panel) or not 0 <= panel <= 3 or not isinstance(text, str):
            raise CourseInputError(f"bubble {bubble!r} needs a panel index 0..3 and a text string. {hint}")
        box = (0.5, 0.05, 0.95, 0.3) if box is None else box
        if (
            not isinstance(box, (list, tuple))
            or len(box) != 4
            or not all(isinstance(v, Real) and -0.5 <= v <= 1.5 for v in box)
            or box[2] <= box[0]
            or box[3] <= box[1]
        ):
            raise CourseInputError(f"bubble box {box!r} must be (x0, y0, x1, y1) fractions of the panel. {hint}")
        if tail is None:
            tail = (box[0] + 0.35 * (box[2] - box[0]), box[3] + 0.5 * (box[3] - box[1]))
        specs.append((int(panel), text, tuple(float(v) for v in box), tuple(float(v) for v in tail)))
    return specs


def _check_png_path(path: Any, what: str) -> Path:
    if not isinstance(path, (str, os.PathLike)):
        raise CourseInputError(f"{what} needs a file path ending in .png, got a {type(path).__name__}.")
    path = Path(path).expanduser()
    if path.suffix.lower() != ".png":
        raise CourseInputError(
            f"{what} writes PNG files (lossless, with transparency and a dpi tag), but the path "
            f"'{path}' ends in '{path.suffix}'. Use a name ending in .png."
        )
    return path


def save_png_300dpi(img: Image.Image, path: str | os.PathLike, *, overwrite: bool = False) -> Path:
    r"""Save a picture as PNG tagged 300 dots per inch, the resolution print shops expect.

    Taught in chapter 8 (MAU in manga style), to print MAU's manga page.

    PNG stores the resolution in dots per metre, so it reads back as 299.9994 dpi: print software
    rounds it to 300.

    Args:
        img (`PIL.Image.Image`): the picture (any mode PNG holds: ``L``, ``RGB``, ``RGBA``...).
        path (`str` or `os.PathLike`): where to write; must end in ``.png``. Missing folders are made.
        overwrite (`bool`, defaults to ``False``): replace a file of that name. Without it an earlier
            file is kept and the page gets the next free name (``page-2.png``, ``page-3.png`` ...).

    Returns:
        `pathlib.Path`: the path really written (print it: it may carry a number).

    Raises:
        `CourseInputError` or `CourseSetupError`: the file could not be written; the message says why
            and what to do, and an earlier file of that name is untouched.
    """
    if not isinstance(img, Image.Image):
        raise CourseInputError(f"save_png_300dpi saves a PIL image, got a {type(img).__name__}.")
    path = _check_png_path(path, "save_png_300dpi")
    return save_image(img, path, overwrite=overwrite, what="page", format="PNG", dpi=(300, 300))


# ----------------------------------------------------------------------------------------------
# Chapter 9: the 16-bit console look
# ----------------------------------------------------------------------------------------------

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


def _rgb_to_lab(rgb_uint8: np.ndarray) -> np.ndarray:
    return skcolor.rgb2lab(rgb_uint8.reshape(-1, 3).astype(np.float64) / 255.0).astype(np.float32)


def _nearest(x: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Index of the nearest row of ``c`` for each row of ``x``: argmin_j ‖x − c_j‖²."""
    # ‖x − c‖² = ‖x‖² − 2 x·c + ‖c‖², and ‖x‖² is the same for every j: one matrix product
    return (-2.0 * (x @ c.T) + (c * c).sum(axis=1)[None, :]).argmin(axis=1)


def _kmeans(x: np.ndarray, k: int, rng: np.random.Generator, iters: int = 15) -> np.ndarray:
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


def _fit_palette(rgb: np.ndarray, n_colors: int, seed: int, sample: int = 20000) -> np.ndarray:
    """k-means in CIELAB on up to ``sample`` pixels, centres snapped to 9-bit, duplicates merged."""
    rng = np.random.default_rng(seed)
    if len(rgb) > sample:
        rgb = rgb[rng.integers(0, len(rgb), size=sample)]
    lab = _rgb_to_lab(rgb).astype(np.float64)
    centres = _kmeans(lab, n_colors, rng)
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


def _map_to_palette(rgb: np.ndarray, palette: np.ndarray, dither: bool) -> np.ndarray:
    """Index of the nearest palette colour (in CIELAB) for each pixel of an (H, W, 3) uint8 array."""
    h, w = rgb.shape[:2]
    if dither and len(palette) > 1:
        # Ordered dithering: add the 4×4 Bayer threshold (−½..½) × spread to every channel, so
        # neighbouring pixels of a mid colour fall on either side of it, in a fixed pattern.
        offsets = (_BAYER4 + 0.5) / 16.0 - 0.5
        tile = np.tile(offsets, (h // 4 + 1, w // 4 + 1))[:h, :w]
        shifted = rgb.astype(np.float32) + (_dither_spread(palette) * tile)[:, :, None]
        rgb = np.clip(np.rint(shifted), 0, 255).astype(np.uint8)
    pal_lab = _rgb_to_lab(palette).astype(np.float64)
    if h * w <= 1 << 18:
        return _nearest(_rgb_to_lab(rgb).astype(np.float64), pal_lab).reshape(h, w)
    # Large pictures: look the answer up in a table of 64³ colours (6 bits per channel).
    table = _nearest(_lab_lut().astype(np.float64), pal_lab).astype(np.uint8)
    q = (rgb >> 2).astype(np.uint32)
    return table[(q[..., 0] << 12) | (q[..., 1] << 6) | q[..., 2]]


def _check_n_colors(n_colors: Any) -> int:
    return _check_int(
        n_colors, "n_colors", 1, 15,
        "A Mega Drive sprite palette holds 15 colours plus transparency; leave one for the outline, "
        "e.g. n_colors=14.",
    )


def _split_alpha(pic: Image.Image) -> tuple[np.ndarray, np.ndarray | None]:
    arr = np.asarray(pic)
    if pic.mode == "RGBA":
        return arr[:, :, :3], arr[:, :, 3] >= 128
    return arr, None


def _join(rgb: np.ndarray, opaque: np.ndarray | None) -> Image.Image:
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
    order = np.argsort(_rgb_to_lab(used)[:, 0], kind="stable")
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
    n_colors = _check_n_colors(n_colors)
    seed = _check_int(seed, "seed", 0, 2**32 - 1, "Any whole number works, e.g. seed=0.")
    pic = _load(img, keep_alpha=None)
    rgb, opaque = _split_alpha(pic)
    pixels = rgb.reshape(-1, 3) if opaque is None else rgb[opaque]
    if len(pixels) == 0:
        raise CourseInputError(
            "quantize_md got a picture with no opaque pixel (every alpha is below 128): there is "
            "nothing to colour. Check the alpha channel, e.g. remove_background's tolerance."
        )
    palette = _fit_palette(pixels, n_colors, seed)
    out = palette[_map_to_palette(rgb, palette, bool(dither))]
    return _join(out, opaque), _palette_list(out, opaque)


def _check_grid(grid: Any) -> int:
    return _check_int(
        grid, "grid", 8, 320,
        "It is the sprite's longer side in pixels; 16-bit sprites were 16 to 128 pixels and the "
        "screen 320 wide. Try grid=64.",
    )


def pixelate(
    img: Any,
    grid: int = 64,
    n_colors: int = 15,
    dither: bool = False,
    method: str = "mode",
    seed: int = 0,
) -> Image.Image:
    r"""Shrink a picture to a sprite: ``grid`` pixels on its longer side, one 9-bit palette.

    Taught in chapter 9 (MAU as a Sega-16-bit-inspired t-shirt design).

    ``method="mode"`` (the default) draws the picture at 4 × 4 sub-pixels per sprite pixel,
    gives each sub-pixel its palette colour, and keeps the most common colour of each block: flat
    areas stay flat and edges stay sharp, the way a pixel artist draws. ``method="box"`` averages
    each block first and then picks the colour, keeping more detail and some in-between
    colours; dithering always works this way (averaging is what dithering imitates).

    A transparent picture gives a transparent sprite: a sprite pixel is opaque when most of its
    block is.

    Args:
        img (`PIL.Image.Image`, `np.ndarray` or path):
            The picture (a cut-out from `remove_background` gives a sprite with no background).
        grid (`int`, defaults to 64):
            The sprite's longer side in pixels, 8 to 320. A smaller picture is enlarged.
        n_colors (`int`, defaults to 15):
            Palette size, 1 to 15; use 14 if `add_outline` comes next.
        dither (`bool`, defaults to `False`):
            Ordered dithering (see `quantize_md`).
        method (`str`, defaults to ``"mode"``):
            ``"mode"`` or ``"box"``.
        seed (`int`, defaults to 0):
            Seed of the palette's clustering.

    Returns:
        `PIL.Image.Image`: the small sprite, ``RGB`` (or ``RGBA`` for a transparent input), with at
        most ``n_colors`` opaque colours, all 9-bit.

    Examples:
        >>> cu.styles.pixelate(cu.mau(), grid=64).size
        (64, 43)
    """
    grid = _check_grid(grid)
    n_colors = _check_n_colors(n_colors)
    seed = _check_int(seed, "seed", 0, 2**32 - 1, "Any whole number works, e.g. seed=0.")
    if method not in ("mode", "box"):
        raise CourseInputError(f"method must be 'mode' or 'box', got method={method!r}.")
    pic = _load(img, keep_alpha=None)
    w, h = pic.size
    scale = grid / max(w, h)
    gw, gh = max(1, round(w * scale)), max(1, round(h * scale))

    if dither or method == "box":
        resample = Image.Resampling.BOX if scale < 1 else Image.Resampling.LANCZOS
        small = pic.resize((gw, gh), resample)
        return quantize_md(small, n_colors=n_colors, dither=dither, seed=seed)[0]

    # 1. The picture at 4×4 sub-pixels per sprite pixel, and a palette fitted to it.
    sub = 4
    mid = pic.resize((gw * sub, gh * sub), Image.Resampling.LANCZOS if scale * sub >= 1 else Image.Resampling.BOX)
    rgb, opaque = _split_alpha(mid)
    pixels = rgb.reshape(-1, 3) if opaque is None else rgb[opaque]
    if len(pixels) == 0:
        raise CourseInputError("pixelate got a picture with no opaque pixel: there is nothing to draw.")
    palette = _fit_palette(pixels, n_colors, seed)
    idx = _map_to_palette(rgb, palette, dither=False)
    # 2. The most common palette index of each 4×4 block (ties go to the lower index).
    k = len(palette)
    blocks = idx.reshape(gh, sub, gw, sub).transpose(0, 2, 1, 3).reshape(gh, gw, sub * sub)
    if opaque is not None:
        ob = opaque.reshape(gh, sub, gw, sub).transpose(0, 2, 1, 3).reshape(gh, gw, sub * sub)
        blocks = np.where(ob, blocks, k)  # transparent sub-pixels vote for "nothing"
        keep = ob.sum(axis=2) * 2 >= sub * sub
    counts = np.zeros((gh, gw, k + 1), dtype=np.int32)
    for j in range(k + 1):
        counts[:, :, j] = (blocks == j).sum(axis=2)
    best = counts[:, :, :k].argmax(axis=2)
    out = palette[best]
    return _join(out, None if opaque is None else keep)


def _rgba(img: Any, what: str) -> Image.Image:
    pic = _load(img, keep_alpha=None)
    if pic.mode != "RGBA":
        raise CourseInputError(
            f"{what} needs a sprite with transparency (RGBA), got a {pic.mode} picture with none. "
            "Cut the background away first with cu.styles.remove_background(img)."
        )
    return pic


def add_outline(
    sprite_rgba: Any,
    colour: tuple[int, int, int] = (0, 0, 0),
    width: int = 1,
    connectivity: int = 4,
    expand: bool = True,
) -> Image.Image:
    r"""Draw a dark outline around a sprite's opaque pixels, the trademark of 16-bit sprites.

    Taught in chapter 9 (MAU as a Sega-16-bit-inspired t-shirt design).

    The opaque mask (alpha ≥ 128) is grown by ``width`` pixels (a binary dilation); the new ring
    is painted in ``colour``, snapped to the 9-bit space. The sprite's own pixels never change.
    The outline is one more palette colour: quantize to 14 colours first so that 14 + outline
    stays within the 15 a palette holds (unless the outline's colour is already in the sprite).

    Args:
        sprite_rgba (`PIL.Image.Image`, `np.ndarray` or path):
            The sprite, with transparency.
        colour (`tuple[int, int, int]`, defaults to black):
            The outline's colour; snapped with `snap_to_9bit`.
        width (`int`, defaults to 1):
            Thickness in sprite pixels, 1 to 8.
        connectivity (`int`, defaults to 4):
            4 grows the mask through the sides of pixels only (rounded corners, the classic
            look), 8 also through corners (a thicker, square outline).
        expand (`bool`, defaults to `True`):
            Add ``width`` transparent pixels on every side first, so the outline is never cut off
            by the edge.

    Returns:
        `PIL.Image.Image`: ``RGBA`` with alpha 0 or 255, larger by ``2 · width`` each way when
        ``expand``.

    Examples:
        >>> sprite = cu.styles.remove_background(cu.mau(size=128))
        >>> cu.styles.add_outline(sprite).mode
        'RGBA'
    """
    colour = snap_to_9bit(_check_colour(colour, "colour"))
    width = _check_int(width, "width", 1, 8, "Try width=1: one sprite pixel.")
    if connectivity not in (4, 8) or isinstance(connectivity, bool):
        raise CourseInputError(f"connectivity must be 4 or 8, got connectivity={connectivity!r}.")
    pic = _rgba(sprite_rgba, "add_outline")
    arr = np.asarray(pic).copy()
    if expand:
        arr = np.pad(arr, ((width, width), (width, width), (0, 0)))
    opaque = arr[:, :, 3] >= 128
    structure = ndimage.generate_binary_structure(2, 1 if connectivity == 4 else 2)
    grown = ndimage.binary_dilation(opaque, structure=structure, iterations=width)
    ring = grown & ~opaque
    arr[ring, :3] = colour
    arr[:, :, 3] = np.where(grown, 255, 0)
    arr[~grown, :3] = 0
    return Image.fromarray(arr, mode="RGBA")


def remove_background(
    img: Any,
    tolerance: float = 12.0,
    method: str = "flood",
    keep_largest: bool = True,
    fill_holes: bool = True,
    work_size: int = 512,
    margin: float = 0.03,
) -> Image.Image:
    r"""Cut a subject out of a plain background: the background becomes transparent.

    Taught in chapter 9 (MAU as a Sega-16-bit-inspired t-shirt design), before the sprite.

    1. The colours of the picture's border are taken as the background's: k-means groups them
       into at most 8 colours, in CIELAB.
    2. A pixel looks like background when its colour is within ``tolerance`` (CIELAB ΔE, where
       about 2.3 is a just-visible difference) of one of them.
    3. ``method="flood"`` keeps only the background-like regions connected to the border, as a
       paint bucket poured from every edge would; ``method="threshold"`` takes every
       background-like pixel, also those seen through holes (between a cat's legs).
    4. What is left is the subject. ``keep_largest`` keeps only its largest connected piece
       (drops specks), ``fill_holes`` fills enclosed holes (an eye as light as the wall).

    This works for a subject on a plain or gently graded background (a studio photo, the model's
    drawings). It fails on a close-up whose subject is cut by the frame, like MAU's photo: the
    border then holds the cat's own colours, and the flood eats the cat. A real segmentation model
    would be needed there; ``method="ellipse"`` is the robust stand-in, keeping an ellipse that
    fills the picture (less ``margin`` on each side), the round badge of many retro t-shirts.

    The mask is worked out on a copy whose longer side is ``work_size`` pixels and enlarged back
    smoothly, so a 12-megapixel photo takes the same time as a small one.

    Args:
        img (`PIL.Image.Image`, `np.ndarray` or path):
            The picture. Pixels already transparent stay transparent.
        tolerance (`float`, defaults to 12.0):
            Largest colour difference (CIELAB ΔE, 1 to 100) still counted as background.
        method (`str`, defaults to ``"flood"``):
            ``"flood"``, ``"threshold"`` or ``"ellipse"`` (which ignores the colours).
        keep_largest (`bool`, defaults to `True`):
            Keep only the largest piece of the subject.
        fill_holes (`bool`, defaults to `True`):
            Fill holes inside the subject.
        work_size (`int`, defaults to 512):
            Longer side of the working copy, 64 to 2048.
        margin (`float`, defaults to 0.03):
            For ``method="ellipse"``: the gap between the ellipse and each side, as a share of
            that side (0 to 0.4).

    Returns:
        `PIL.Image.Image`: ``RGBA`` of the input's size; alpha 0 on the background, 255 on the subject.

    Examples:
        >>> cut = cu.styles.remove_background(cu.mau(size=256), tolerance=15)
        >>> cut.mode
        'RGBA'
    """
    # 1. Check the arguments.
    tolerance = _check_float(tolerance, "tolerance", 1.0, 100.0, "Try tolerance=12; raise it if background stays.")
    if method not in ("flood", "threshold", "ellipse"):
        raise CourseInputError(f"method must be 'flood', 'threshold' or 'ellipse', got method={method!r}.")
    work_size = _check_int(work_size, "work_size", 64, 2048, "Try work_size=512.")
    margin = _check_float(margin, "margin", 0.0, 0.4, "Try margin=0.03.")
    pic = _load(img, keep_alpha=True)
    w, h = pic.size
    if w < 3 or h < 3:
        raise CourseInputError(f"remove_background needs at least 3×3 pixels, got {w}×{h}.")
    if method == "ellipse":
        # inside when ((x − cx) / a)² + ((y − cy) / b)² ≤ 1, for pixel centres (x, y)
        y, x = np.mgrid[0:h, 0:w].astype(np.float32) + 0.5
        a, b = w * (0.5 - margin), h * (0.5 - margin)
        inside = ((x - w / 2) / a) ** 2 + ((y - h / 2) / b) ** 2 <= 1.0
        out = np.asarray(pic).copy()
        out[:, :, 3] = np.where(inside, out[:, :, 3], 0)
        return Image.fromarray(out, mode="RGBA")

    # 2. The working copy and its colours in CIELAB.
    scale = min(1.0, work_size / max(w, h))
    small = pic.resize((max(3, round(w * scale)), max(3, round(h * scale))), Image.Resampling.BOX) if scale < 1 else pic
    arr = np.asarray(small)
    lab = _rgb_to_lab(arr[:, :, :3]).reshape(arr.shape[0], arr.shape[1], 3)
    clear = arr[:, :, 3] < 128

    # 3. Background colours: k-means on the opaque border pixels.
    edge = np.zeros(clear.shape, dtype=bool)
    edge[0, :] = edge[-1, :] = edge[:, 0] = edge[:, -1] = True
    border = lab[edge & ~clear].astype(np.float64)
    if len(border):
        refs = _kmeans(border, min(8, len(border)), np.random.default_rng(0))
        dist2 = np.min(((lab[:, :, None, :] - refs[None, None, :, :].astype(np.float32)) ** 2).sum(axis=3), axis=2)
        like = (dist2 <= tolerance**2) | clear
    else:
        like = clear.copy()

    # 4. Background: flood from the border, or every background-like pixel.
    if method == "flood":
        labels, _ = ndimage.label(like)
        seeds = np.unique(labels[edge & like])
        background = np.isin(labels, seeds[seeds > 0])
    else:
        background = like
    subject = ~background
    if keep_largest and subject.any():
        labels, count = ndimage.label(subject)
        if count > 1:
            sizes = np.bincount(labels.ravel())
            sizes[0] = 0
            subject = labels == int(sizes.argmax())
    if fill_holes:
        subject = ndimage.binary_fill_holes(subject)

    # 5. Back to full size: a smooth enlargement of the mask, cut at one half.
    mask = Image.fromarray(np.where(subject, 255, 0).astype(np.uint8), mode="L")
    if mask.size != (w, h):
        mask = mask.resize((w, h), Image.Resampling.BILINEAR).point(lambda v: 255 if v >= 128 else 0)
    alpha = np.minimum(np.asarray(pic)[:, :, 3], np.asarray(mask))
    out = np.asarray(pic).copy()
    out[:, :, 3] = alpha
    return Image.fromarray(out, mode="RGBA")


def upscale_for_print(
    sprite_rgba: Any,
    size: tuple[int, int] = (4500, 5400),
    dpi: int = 300,
) -> Image.Image:
    r"""Enlarge a sprite for a t-shirt print: whole-number scaling, centred on a transparent canvas.

    Taught in chapter 9 (MAU as a Sega-16-bit-inspired t-shirt design).

    Every sprite pixel becomes an ``f × f`` square of one colour, with ``f`` the largest whole
    number that fits (nearest-neighbour scaling: no blur, no new colours). The default canvas,
    4500 × 5400 pixels at 300 dpi, is 15 × 18 inches, the print area most print-on-demand
    shops ask for.

    Args:
        sprite_rgba (`PIL.Image.Image`, `np.ndarray` or path):
            The sprite; without an alpha channel it is taken as fully opaque.
        size (`tuple[int, int]`, defaults to ``(4500, 5400)``):
            The canvas ``(width, height)`` in pixels, 16 to 20000 each way.
        dpi (`int`, defaults to 300):
            Resolution stored in ``result.info["dpi"]`` (72 to 1200); `save_print_png` writes it.

    Returns:
        `PIL.Image.Image`: ``RGBA`` of exactly ``size``.

    Raises:
        `CourseInputError`: for a bad ``size`` or ``dpi``, or a sprite larger than the canvas.

    Examples:
        >>> sprite = cu.styles.pixelate(cu.mau(), grid=64)
        >>> cu.styles.upscale_for_print(sprite).size
        (4500, 5400)
    """
    cw, ch = _check_pair(size, "size", 16, 20000, "Print shops usually ask for size=(4500, 5400).")
    dpi = _check_int(dpi, "dpi", 72, 1200, "Print shops ask for dpi=300.")
    pic = _load(sprite_rgba, keep_alpha=True)
    w, h = pic.size
    factor = min(cw // w, ch // h)
    if factor < 1:
        raise CourseInputError(
            f"The sprite is {w}×{h} pixels, larger than the canvas size={size!r}: it cannot be "
            "enlarged onto it. Make a smaller sprite (pixelate(img, grid=64)) or a larger canvas."
        )
    big = pic.resize((w * factor, h * factor), Image.Resampling.NEAREST)
    canvas = Image.new("RGBA", (cw, ch), (0, 0, 0, 0))
    canvas.paste(big, ((cw - big.width) // 2, (ch - big.height) // 2))
    canvas.info["dpi"] = (dpi, dpi)
    return canvas


def save_print_png(img: Image.Image, path: str | os.PathLike, dpi: int = 300, *, overwrite: bool = False) -> Path:
    r"""Save a print file: PNG with its transparency and a dpi tag.

    Taught in chapter 9 (MAU as a Sega-16-bit-inspired t-shirt design).

    Args:
        img (`PIL.Image.Image`): the print picture, normally from `upscale_for_print`.
        path (`str` or `os.PathLike`): where to write; must end in ``.png``. Missing folders are made.
        dpi (`int`, defaults to 300): the resolution tag, 72 to 1200.
        overwrite (`bool`, defaults to ``False``): replace a file of that name. Without it an earlier
            file is kept and the new one gets the next free name (``print-2.png`` ...).

    Returns:
        `pathlib.Path`: the path really written (it may carry a number). Check it with
        `check_print_file(path)`.

    Raises:
        `CourseInputError` or `CourseSetupError`: the file could not be written; the message says why
            and what to do, and an earlier file of that name is untouched.
    """
    if not isinstance(img, Image.Image):
        raise CourseInputError(f"save_print_png saves a PIL image, got a {type(img).__name__}.")
    dpi = _check_int(dpi, "dpi", 72, 1200, "Print shops ask for dpi=300.")
    path = _check_png_path(path, "save_print_png")
    pic = img if img.mode == "RGBA" else img.convert("RGBA")
    # compress_level 3: the big flat areas still pack small, and a 4500×5400 file writes in about a second.
    return save_image(pic, path, overwrite=overwrite, what="print file", format="PNG", dpi=(dpi, dpi),
                      compress_level=3)


def tshirt_problems(sprite: Image.Image, shirt_colour, outline_colour, max_colours: int = 15) -> list[str]:
    """What stops `sprite` from being printed on a shirt of `shirt_colour`, one short phrase each (an
    empty list: print-ready): too many colours, colours outside the 9-bit palette, a background that is
    not fully see-through, or an outline too close to the shirt's colour (`outline_contrast` below
    `MIN_OUTLINE_CONTRAST`).

    Taught in chapter 9 (practical), as the check of the learner's own design.
    """
    rules = check_print_file(sprite, max_colors=max_colours, size=sprite.size)
    contrast = outline_contrast(outline_colour, shirt_colour)
    found = [(rules["n_colors"] <= max_colours, f"{rules['n_colors']} colours, more than {max_colours}"),
             (rules["all_9bit"], f"colours outside the 512: {rules['non_9bit_colors']}"),
             (rules["alpha_binary"] and sprite.getchannel("A").getextrema()[0] == 0,
              "the background is not see-through"),
             (contrast >= MIN_OUTLINE_CONTRAST, f"the outline hardly shows on this shirt (ΔE {contrast:.0f}, at least "
              f"{MIN_OUTLINE_CONTRAST:.0f} needed): pick a lighter or darker shirt, or another preset")]
    return [why for ok, why in found if not ok]


def check_print_file(
    path_or_img: Any,
    max_colors: int = 15,
    size: tuple[int, int] = (4500, 5400),
    dpi: int = 300,
) -> dict[str, Any]:
    r"""Check a print file against the rules of the design, and report each one.

    Taught in chapter 9 (MAU as a Sega-16-bit-inspired t-shirt design), as the last step before
    uploading to a print shop.

    Args:
        path_or_img (`str`, `os.PathLike` or `PIL.Image.Image`):
            The saved PNG (its dpi tag is read back from the file) or a picture in memory (its
            ``info["dpi"]`` is used).
        max_colors (`int`, defaults to 15): the most opaque colours allowed, 1 to 256.
        size (`tuple[int, int]`, defaults to ``(4500, 5400)``): the exact size required.
        dpi (`int`, defaults to 300): the resolution required.

    Returns:
        `dict` with the figures ``"size"``, ``"dpi"`` (`None` if untagged), ``"n_colors"`` (opaque
        colours) and ``"non_9bit_colors"`` (a list, at most 10 shown), and the checks, each a
        `bool`: ``"size_ok"``, ``"dpi_ok"``, ``"colors_ok"``, ``"all_9bit"``,
        ``"background_transparent"`` (every pixel of the outer frame has alpha 0),
        ``"alpha_binary"`` (alpha only 0 or 255) and ``"ok"`` (all of them).

    Examples:
        >>> report = cu.styles.check_print_file("mau_print.png")  # doctest: +SKIP
        >>> report["ok"]  # doctest: +SKIP
        True
    """
    max_colors = _check_int(max_colors, "max_colors", 1, 256, "A sprite palette holds max_colors=15.")
    want_w, want_h = _check_pair(size, "size", 1, 20000, "Print shops usually ask for size=(4500, 5400).")
    dpi = _check_int(dpi, "dpi", 72, 1200, "Print shops ask for dpi=300.")
    # 1. The picture and its dpi tag (from the file when there is one).
    if isinstance(path_or_img, (str, os.PathLike)):
        pic = load_image(path_or_img, keep_alpha=True, min_size=1)
        with Image.open(path_or_img) as f:
            found_dpi = f.info.get("dpi")
    elif isinstance(path_or_img, Image.Image):
        found_dpi = path_or_img.info.get("dpi")
        pic = _load(path_or_img, keep_alpha=True)
    else:
        raise CourseInputError(
            f"check_print_file needs a file path or a PIL image, got a {type(path_or_img).__name__}."
        )
    dpi_value = None
    if found_dpi is not None:
        try:
            dpi_value = (float(found_dpi[0]), float(found_dpi[1]))
        except (TypeError, ValueError, IndexError):
            dpi_value = None
    # 2. The colours of the opaque pixels (PIL's C counter; NumPy only for very colourful files).
    alpha_channel = pic.getchannel("A")
    counted = pic.getcolors(1 << 16)
    if counted is not None:
        opaque_colours = {c[:3] for _, c in counted if c[3] > 0}
    else:
        arr = np.asarray(pic)
        rgb = arr[arr[:, :, 3] > 0][:, :3].astype(np.uint32)
        codes = np.unique((rgb[:, 0] << 16) | (rgb[:, 1] << 8) | rgb[:, 2])
        opaque_colours = {(int(c >> 16), int((c >> 8) & 255), int(c & 255)) for c in codes}
    non_9bit = sorted(c for c in opaque_colours if not is_9bit(c))
    alpha_values = {v for _, v in alpha_channel.getcolors(256)}
    alpha = np.asarray(alpha_channel)
    frame = np.concatenate([alpha[0, :], alpha[-1, :], alpha[:, 0], alpha[:, -1]])
    report: dict[str, Any] = {
        "size": pic.size,
        "size_ok": pic.size == (want_w, want_h),
        "dpi": dpi_value,
        "dpi_ok": dpi_value is not None and all(round(v) == dpi for v in dpi_value),
        "n_colors": len(opaque_colours),
        "colors_ok": 0 < len(opaque_colours) <= max_colors,
        "non_9bit_colors": non_9bit[:10],
        "all_9bit": not non_9bit,
        "background_transparent": bool((frame == 0).all()),
        "alpha_binary": alpha_values <= {0, 255},
    }
    report["ok"] = all(report[k] for k in ("size_ok", "dpi_ok", "colors_ok", "all_9bit",
                                           "background_transparent", "alpha_binary"))
    return report


def assert_print_ready(
    path_or_img: Any,
    max_colors: int = 15,
    size: tuple[int, int] = (4500, 5400),
    dpi: int = 300,
) -> dict[str, Any]:
    r"""Run `check_print_file` and raise an error that lists every rule the file breaks.

    Taught in chapter 9 (MAU as a Sega-16-bit-inspired t-shirt design).

    Returns:
        `dict`: the report of `check_print_file`, when every check passes.

    Raises:
        `CourseInputError`: listing each failed check, its figure and how to fix it.
    """
    r = check_print_file(path_or_img, max_colors=max_colors, size=size, dpi=dpi)
    problems = []
    if not r["size_ok"]:
        problems.append(f"size is {r['size'][0]}×{r['size'][1]}, not {size[0]}×{size[1]}: use upscale_for_print")
    if not r["dpi_ok"]:
        found = "missing" if r["dpi"] is None else f"{r['dpi'][0]:.0f}"
        problems.append(f"dpi is {found}, not {dpi}: save with save_print_png(img, path, dpi={dpi})")
    if not r["colors_ok"]:
        problems.append(f"{r['n_colors']} opaque colours, allowed 1 to {max_colors}: quantize with fewer colours")
    if not r["all_9bit"]:
        problems.append(f"colours outside the 9-bit space, e.g. {r['non_9bit_colors'][:3]}: use quantize_md")
    if not r["background_transparent"]:
        problems.append("the border is not fully transparent: use remove_background, and keep the design "
                        "off the canvas edge")
    if not r["alpha_binary"]:
        problems.append("some pixels are half transparent: sprites use alpha 0 or 255 only")
    if problems:
        raise CourseInputError("The print file is not ready:\n- " + "\n- ".join(problems))
    return r


# -- the t-shirt mockup --------------------------------------------------------------------------

# Left half of a flat, front-facing t-shirt in a unit square (x to the right, y down); the right
# half is its mirror image. Points run from the neck, over the shoulder and sleeve, to the hem.
_SHIRT_LEFT = [
    (0.405, 0.105), (0.330, 0.128), (0.255, 0.152), (0.185, 0.195), (0.120, 0.262), (0.070, 0.335),
    (0.155, 0.400), (0.200, 0.365), (0.262, 0.315), (0.268, 0.420), (0.266, 0.560), (0.268, 0.720),
    (0.272, 0.905), (0.330, 0.912), (0.420, 0.916), (0.500, 0.917),
]


def _shirt_outline(s: float) -> list[tuple[float, float]]:
    left = [(x * s, y * s) for x, y in _SHIRT_LEFT]
    right = [(s - x, y) for x, y in reversed(left[:-1])]
    # The front neckline: a half ellipse dipping from (0.405, 0.105) to (0.5, 0.175).
    neck = [(0.5 * s + 0.095 * s * math.cos(t), 0.105 * s + 0.07 * s * math.sin(t))
            for t in np.linspace(0.0, math.pi, 25)]
    return left + right + neck


def tshirt_mockup(
    design_rgba: Any,
    shirt_colour: tuple[int, int, int] = (30, 30, 36),
    size: int = 1000,
    design_width: float = 0.4,
) -> Image.Image:
    r"""Show a design printed on a flat t-shirt, to judge it before ordering.

    Taught in chapter 9 (MAU as a Sega-16-bit-inspired t-shirt design).

    The shirt is drawn with PIL (body, sleeves, ribbed collar, the inside of the back neck,
    seams and soft folds), smoothed by drawing at twice the size. The design is cropped to its
    opaque part, enlarged or reduced with nearest-neighbour (pixel art stays crisp) to
    ``design_width`` of the shirt's full width, sleeves included, and placed on the chest.

    Args:
        design_rgba (`PIL.Image.Image`, `np.ndarray` or path):
            The design: a sprite or the print file from `upscale_for_print`.
        shirt_colour (`tuple[int, int, int]`, defaults to ``(30, 30, 36)``):
            The fabric's colour (any colour: the shirt need not be 9-bit).
        size (`int`, defaults to 1000):
            Side of the square result in pixels, 200 to 4000.
        design_width (`float`, defaults to 0.4):
            Width of the design as a share of the shirt's width, 0.05 to 0.6.

    Returns:
        `PIL.Image.Image`: ``RGB`` of ``size × size``.

    Examples:
        >>> sprite = cu.styles.add_outline(cu.styles.remove_background(cu.mau(size=128)))
        >>> cu.styles.tshirt_mockup(sprite, size=600).size
        (600, 600)
    """
    # 1. Check the arguments.
    shirt = _check_colour(shirt_colour, "shirt_colour")
    size = _check_int(size, "size", 200, 4000, "Try size=1000.")
    design_width = _check_float(design_width, "design_width", 0.05, 0.6, "Try design_width=0.4.")
    design = _load(design_rgba, keep_alpha=True)
    bbox = design.getchannel("A").point(lambda a: 255 if a >= 128 else 0).getbbox()
    if bbox is None:
        raise CourseInputError("tshirt_mockup got a design that is fully transparent: there is nothing to print.")
    design = design.crop(bbox)

    # 2. The shirt, drawn at twice the size and reduced for smooth edges.
    s2 = 2 * size
    luma = 0.299 * shirt[0] + 0.587 * shirt[1] + 0.114 * shirt[2]
    light_shirt = luma > 150
    bg = (214, 218, 224) if light_shirt else (238, 236, 232)

    def shade(f: float) -> tuple[int, int, int]:
        """The fabric darker (f < 1: towards black) or lighter (f > 1: towards white)."""
        return tuple(round(c * f if f <= 1 else c + (f - 1) * (255 - c)) for c in shirt)

    outline = _shirt_outline(s2)
    mask = Image.new("L", (s2, s2), 0)
    ImageDraw.Draw(mask).polygon(outline, fill=255)
    canvas = Image.new("RGB", (s2, s2), bg)
    # a soft shadow under the shirt
    shadow = mask.transform(mask.size, Image.Transform.AFFINE, (1, 0, -0.008 * s2, 0, 1, -0.014 * s2))
    shadow = shadow.filter(ImageFilter.GaussianBlur(0.012 * s2)).point(lambda v: v * 0.35)
    canvas.paste((0, 0, 0), (0, 0), shadow)
    # the fabric, lit a little from the top
    fabric = Image.new("RGB", (s2, s2), shirt)
    ramp = Image.linear_gradient("L").resize((s2, s2))
    fabric = Image.composite(Image.new("RGB", (s2, s2), shade(0.82)), fabric, ramp.point(lambda v: v * 0.5))
    # folds: soft shadows, each with a highlight beside it (the only fold a dark fabric shows)
    shadows, lights = Image.new("L", (s2, s2), 0), Image.new("L", (s2, s2), 0)
    sd, ld = ImageDraw.Draw(shadows), ImageDraw.Draw(lights)
    for side in (1, -1):
        def p(x: float, y: float, side: int = side) -> tuple[float, float]:
            return ((0.5 + side * (x - 0.5)) * s2, y * s2)

        sd.line([p(0.275, 0.33), p(0.33, 0.40), p(0.36, 0.47)], fill=150, width=int(0.012 * s2))
        ld.line([p(0.29, 0.32), p(0.345, 0.385), p(0.375, 0.45)], fill=110, width=int(0.008 * s2))
        sd.line([p(0.28, 0.78), p(0.33, 0.85), p(0.35, 0.905)], fill=110, width=int(0.010 * s2))
        ld.line([p(0.295, 0.77), p(0.345, 0.835), p(0.368, 0.89)], fill=80, width=int(0.007 * s2))
    blur = ImageFilter.GaussianBlur(0.012 * s2)
    fabric = Image.composite(Image.new("RGB", (s2, s2), shade(0.55)), fabric, shadows.filter(blur))
    fabric = Image.composite(Image.new("RGB", (s2, s2), shade(1.18)), fabric, lights.filter(blur))
    # seams: armholes, sleeve hems and the bottom hem
    lines = ImageDraw.Draw(fabric)
    seam, thin = shade(0.7 if luma > 60 else 1.25), max(2, int(0.003 * s2))
    for side in (1, -1):
        def q(x: float, y: float, side: int = side) -> tuple[float, float]:
            return ((0.5 + side * (x - 0.5)) * s2, y * s2)

        lines.line([q(0.255, 0.152), q(0.262, 0.315)], fill=seam, width=thin)
        lines.line([q(0.165, 0.382), q(0.093, 0.325)], fill=seam, width=thin)
    lines.line([(0.272 * s2, 0.885 * s2), (0.728 * s2, 0.885 * s2)], fill=seam, width=thin)
    canvas.paste(fabric, (0, 0), mask)
    # the collar: the inside of the back between the back and front necklines, then the ribs
    d = ImageDraw.Draw(canvas)
    t = np.linspace(0.0, math.pi, 33)
    back = [((0.5 - 0.095 * math.cos(a)) * s2, (0.105 - 0.016 * math.sin(a)) * s2) for a in t]
    front = [((0.5 - 0.095 * math.cos(a)) * s2, (0.105 + 0.070 * math.sin(a)) * s2) for a in t]
    d.polygon(back + front[::-1], fill=shade(0.45))
    rib = shade(0.88) if light_shirt else shade(1.15)
    d.line(back, fill=rib, width=int(0.014 * s2), joint="curve")
    d.line(front, fill=rib, width=int(0.020 * s2), joint="curve")
    stitch = [((0.5 - 0.1 * math.cos(a)) * s2, (0.105 + 0.080 * math.sin(a)) * s2) for a in t]
    d.line(stitch, fill=seam, width=thin, joint="curve")
    mock = canvas.resize((size, size), Image.Resampling.LANCZOS)

    # 3. The design on the chest, nearest-neighbour so pixels stay square and sharp.
    full_w = (1 - 2 * 0.070) * size
    target_w = design_width * full_w
    max_h = 0.52 * size
    scale = min(target_w / design.width, max_h / design.height)
    dw, dh = max(1, round(design.width * scale)), max(1, round(design.height * scale))
    art = design.resize((dw, dh), Image.Resampling.NEAREST)
    mock.paste(art, (round((size - dw) / 2), round(0.215 * size)), art)
    return mock



# -- looking at cut-outs ---------------------------------------------------------------------------


def crop_to_subject(img_rgba: Any, pad: int = 0) -> Image.Image:
    r"""Crop a cut-out to its opaque pixels, so that a sprite's grid spans the subject, not the backdrop.

    Taught in chapter 9 (MAU as a Sega-16-bit-inspired t-shirt design), between
    `remove_background` and `pixelate`.

    Args:
        img_rgba (`PIL.Image.Image`, `np.ndarray` or path):
            The cut-out, with transparency (alpha below 128 counts as transparent).
        pad (`int`, defaults to 0):
            Transparent pixels kept on every side of the subject, 0 to 1000.

    Returns:
        `PIL.Image.Image`: ``RGBA``, the bounding box of the opaque pixels grown by ``pad``
        (never beyond the picture).

    Raises:
        `CourseInputError`: for a picture without transparency or with no opaque pixel.

    Examples:
        >>> cut = cu.styles.remove_background(cu.mau(size=128), method="ellipse", margin=0.2)
        >>> cu.styles.crop_to_subject(cut).size
        (76, 51)
    """
    pad = _check_int(pad, "pad", 0, 1000, "Try pad=0, or pad=2 to keep room for an outline.")
    pic = _rgba(img_rgba, "crop_to_subject")
    box = pic.getchannel("A").point(lambda a: 255 if a >= 128 else 0).getbbox()
    if box is None:
        raise CourseInputError(
            "crop_to_subject got a picture that is fully transparent: there is no subject to crop to. "
            "Check the cut-out, e.g. remove_background's tolerance or method."
        )
    x0, y0, x1, y1 = box
    return pic.crop((max(0, x0 - pad), max(0, y0 - pad), min(pic.width, x1 + pad), min(pic.height, y1 + pad)))


def border_plainness(img: Any, tolerance: float = 10.0, n_colours: int = 2) -> float:
    r"""How plain is a picture's frame? The share of its border pixels close to its main colours.

    Taught in chapter 9 (MAU as a Sega-16-bit-inspired t-shirt design): `remove_background`'s
    flood fill assumes a plain backdrop, and this measures whether the assumption holds. A
    model's drawing on a flat colour scores near 1; a close-up photo, whose border is fur,
    scores about 0.4. Above about 0.8 the flood fill is safe; below, use ``method="ellipse"``.

    The main colours are found one after the other: the median (in CIELAB) of the border pixels
    not yet covered, then every pixel within ``tolerance`` of it counts as covered.

    Args:
        img (`PIL.Image.Image`, `np.ndarray` or path):
            The picture; transparency is laid on white.
        tolerance (`float`, defaults to 10.0):
            Largest colour difference (CIELAB ΔE, 1 to 100) from a main colour; 2.3 is just visible.
        n_colours (`int`, defaults to 2):
            How many main colours the backdrop may have, 1 to 8 (2 allows a wall and a floor).

    Returns:
        `float` in ``[0, 1]``: the share of border pixels within ``tolerance`` of a main colour.

    Examples:
        >>> round(cu.styles.border_plainness(cu.mau(size=256)), 1) < 0.8
        True
    """
    tolerance = _check_float(tolerance, "tolerance", 1.0, 100.0, "Try tolerance=10.")
    n_colours = _check_int(n_colours, "n_colours", 1, 8, "Try n_colours=2 (a wall and a floor).")
    arr = np.asarray(_load(img))
    if arr.shape[0] < 3 or arr.shape[1] < 3:
        raise CourseInputError(f"border_plainness needs at least 3×3 pixels, got {arr.shape[1]}×{arr.shape[0]}.")
    border = np.concatenate([arr[0], arr[-1], arr[1:-1, 0], arr[1:-1, -1]])
    lab = _rgb_to_lab(border).astype(np.float64)
    covered = np.zeros(len(lab), dtype=bool)
    for _ in range(n_colours):
        if covered.all():
            break
        centre = np.median(lab[~covered], axis=0)
        # ΔE = ‖lab − centre‖: the Euclidean distance in CIELAB
        covered |= np.sqrt(((lab - centre) ** 2).sum(axis=1)) <= tolerance
    return float(covered.mean())


def on_checkerboard(img: Any, scale: int = 1, cell: int = 8) -> Image.Image:
    r"""Show a transparent picture the way image editors do: over a grey-and-white checkerboard.

    Taught in chapter 9 (MAU as a Sega-16-bit-inspired t-shirt design), to see what a cut-out kept.

    Args:
        img (`PIL.Image.Image`, `np.ndarray` or path):
            The picture; one without transparency is returned as it is (enlarged).
        scale (`int`, defaults to 1):
            Enlargement with nearest-neighbour, 1 to 64, so pixel art stays crisp.
        cell (`int`, defaults to 8):
            Side of a checkerboard square in pixels of the result, 1 to 256.

    Returns:
        `PIL.Image.Image`: ``RGB``, ``scale`` times the size of ``img``.

    Examples:
        >>> sprite = cu.styles.add_outline(cu.styles.pixelate(cu.styles.remove_background(
        ...     cu.mau(size=128), method="ellipse"), grid=32))
        >>> cu.styles.on_checkerboard(sprite, scale=4).size
        (136, 92)
    """
    scale = _check_int(scale, "scale", 1, 64, "Try scale=4.")
    cell = _check_int(cell, "cell", 1, 256, "Try cell=8.")
    pic = _load(img, keep_alpha=None)
    if scale > 1:
        pic = pic.resize((pic.width * scale, pic.height * scale), Image.Resampling.NEAREST)
    if pic.mode != "RGBA":
        return pic
    y, x = np.mgrid[0:pic.height, 0:pic.width]
    board = np.where(((x // cell + y // cell) % 2 == 0)[:, :, None], 255, 204).astype(np.uint8)
    out = Image.fromarray(np.repeat(board, 3, axis=2), mode="RGB")
    out.paste(pic, (0, 0), pic)
    return out

# -- presets and the one-call pipeline ------------------------------------------------------------

#: Looks for the practical notebook of chapter 9. Each preset is a dict of ``make_sprite`` and
#: ``tshirt_mockup`` settings: the sprite's ``grid``, ``n_colors`` (14 + outline = 15), ``dither``,
#: the outline's colour (``None`` for none) and width, the picture's ``saturation``, ``contrast``
#: and ``brightness`` before quantizing (1.0 leaves them) and its ``tint`` (a multiplier for each of
#: red, green and blue), how the background is removed (``cutout``,
#: a ``method`` of `remove_background`: ``"ellipse"`` suits close-up photos such as MAU's,
#: ``"flood"`` a subject on a plain background) with its ``tolerance``, and the ``shirt_colour``.
PRESETS: dict[str, dict[str, Any]] = {
    "arcade": {  # bold, saturated, contrasty colours in flat areas, a black outline on a natural white shirt
        "grid": 64, "n_colors": 14, "dither": False, "outline": (0, 0, 0), "outline_width": 1,
        "saturation": 1.4, "contrast": 1.3, "brightness": 1.05, "tint": (1.0, 1.0, 1.0),
        "cutout": "ellipse", "tolerance": 12.0, "shirt_colour": (236, 232, 224),
    },
    "pastel": {  # soft, light colours with dithered shading, a purple outline on a lilac shirt
        "grid": 48, "n_colors": 14, "dither": True, "outline": (72, 36, 108), "outline_width": 1,
        "saturation": 0.7, "contrast": 0.9, "brightness": 1.2, "tint": (1.0, 0.97, 1.05),
        "cutout": "ellipse", "tolerance": 12.0, "shirt_colour": (226, 214, 236),
    },
    "night": {  # a finer sprite in cool moonlight, dithered, a deep blue outline on a navy shirt
        "grid": 80, "n_colors": 14, "dither": True, "outline": (0, 0, 72), "outline_width": 1,
        "saturation": 1.1, "contrast": 1.2, "brightness": 0.95, "tint": (0.8, 0.9, 1.2),
        "cutout": "ellipse", "tolerance": 12.0, "shirt_colour": (22, 28, 52),
    },
}


#: The contrast rule: an outline at least this far (CIELAB ΔE, CIE76) from the shirt's colour stands out;
#: about 2 is barely visible.
MIN_OUTLINE_CONTRAST = 20.0


def outline_contrast(outline: Any, shirt: Any) -> float:
    """How far the sprite's outline (snapped to the 9-bit space) stands from the shirt: CIELAB ΔE (CIE76).

    Taught in chapter 9. A black outline on a charcoal shirt reads about 12 and vanishes; at least
    `MIN_OUTLINE_CONTRAST` (20) stands out. Every preset passes it against its own shirt colour.
    """
    line = np.asarray(snap_to_9bit(_check_colour(outline, "outline")), dtype=np.uint8)
    cloth = np.asarray(_check_colour(shirt, "shirt"), dtype=np.uint8)
    return float(np.linalg.norm(_rgb_to_lab(line[None]) - _rgb_to_lab(cloth[None])))


def make_sprite(img: Any, preset: str = "arcade", remove_bg: bool = True, **overrides: Any) -> Image.Image:
    r"""From a photo to an outlined sprite in one call: background, colours, grid, outline.

    Taught in chapter 9 (MAU as a Sega-16-bit-inspired t-shirt design), practical path.

    Runs `remove_background` (unless ``remove_bg=False``), adjusts saturation, contrast,
    brightness and tint, then `pixelate` and `add_outline`, with the settings of ``PRESETS[preset]``; any setting can
    be overridden by name, e.g. ``make_sprite(photo, "arcade", grid=48)``.

    Args:
        img (`PIL.Image.Image`, `np.ndarray` or path): the photo.
        preset (`str`, defaults to ``"arcade"``): a key of `PRESETS`.
        remove_bg (`bool`, defaults to `True`): cut the background away first.
        **overrides: settings replacing the preset's (keys of `PRESETS` entries).

    Returns:
        `PIL.Image.Image`: the ``RGBA`` sprite, ready for `upscale_for_print` and `tshirt_mockup`.

    Examples:
        >>> sprite = cu.styles.make_sprite(cu.mau(), "arcade")
        >>> len(cu.styles.check_print_file(cu.styles.upscale_for_print(sprite))["non_9bit_colors"])
        0
    """
    if preset not in PRESETS:
        raise CourseInputError(f"preset must be one of {sorted(PRESETS)}, got preset={preset!r}.")
    settings = dict(PRESETS[preset])
    unknown = set(overrides) - set(settings)
    if unknown:
        raise CourseInputError(f"make_sprite does not know the setting(s) {sorted(unknown)}; use {sorted(settings)}.")
    settings.update(overrides)
    pic = _load(img, keep_alpha=None)
    if remove_bg:
        pic = remove_background(pic, tolerance=settings["tolerance"], method=settings["cutout"])
    pic = _load(pic, keep_alpha=True)
    sat = _check_float(settings["saturation"], "saturation", 0.0, 3.0, "1.0 leaves colours as they are.")
    con = _check_float(settings["contrast"], "contrast", 0.2, 3.0, "1.0 leaves contrast as it is.")
    bri = _check_float(settings["brightness"], "brightness", 0.2, 3.0, "1.0 leaves brightness as it is.")
    tint = settings["tint"]
    tint_ok = isinstance(tint, (tuple, list)) and len(tint) == 3
    if not (tint_ok and all(isinstance(v, Real) and 0 <= v <= 3 for v in tint)):
        raise CourseInputError(f"tint must be three multipliers (red, green, blue) from 0 to 3, got tint={tint!r}.")
    alpha = pic.getchannel("A")
    rgb = ImageEnhance.Color(pic.convert("RGB")).enhance(sat)
    rgb = ImageEnhance.Brightness(ImageEnhance.Contrast(rgb).enhance(con)).enhance(bri)
    if tuple(tint) != (1.0, 1.0, 1.0):
        arr = np.asarray(rgb, dtype=np.float32) * np.asarray(tint, dtype=np.float32)
        rgb = Image.fromarray(np.clip(np.rint(arr), 0, 255).astype(np.uint8), mode="RGB")
    rgb.putalpha(alpha)
    sprite = pixelate(rgb, grid=settings["grid"], n_colors=settings["n_colors"], dither=settings["dither"])
    if settings["outline"] is not None:
        sprite = add_outline(sprite, colour=settings["outline"], width=settings["outline_width"])
    return sprite
