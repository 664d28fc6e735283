"""Chapter 8's classical manga filters: ink lines, grey steps, screentone, and a measuring tape.

`xdog_lines` draws ink with the extended difference of Gaussians, `posterize` cuts a picture
into a few greys, `screentone` turns greys into round black dots, `manga_filter` does all three
at once, `combine_manga` lays the photo's lines over the diffusion model's tones, and
`manga_stats` measures a result: ink, paper and the dots' spacing.

Every result is mode ``L`` holding only 0 (ink) and 255 (paper).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from PIL import Image, ImageOps
from scipy import ndimage

from .. import checks
from ..errors import CourseInputError
from .common import load_picture

__all__ = ["MAX_FILTER_PIXELS", "combine_manga", "manga_filter", "manga_stats", "posterize", "screentone",
           "xdog_lines"]

#: Largest picture, in pixels, that the full-resolution manga filters accept: an A4 page at 300 dpi
#: (2480×3508, 8.7 million) fits, a 12-megapixel phone photo does not. Above it the filters take
#: seconds and most of a gigabyte; resize first with ``cu.load_image(photo, size=2048)``.
MAX_FILTER_PIXELS = 9_000_000


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
    pic = load_picture(source)
    _check_filter_size(pic, what)
    # L = 0.299 R + 0.587 G + 0.114 B (ITU-R 601 luma, what PIL's convert("L") computes)
    return np.asarray(pic.convert("L"), dtype=np.float32) / np.float32(255.0)


def _binary_image(black: np.ndarray) -> Image.Image:
    """A mode-L picture: 0 where ``black`` is True, 255 elsewhere."""
    return Image.fromarray(np.where(black, 0, 255).astype(np.uint8), mode="L")


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
    sigma = checks.number("sigma", sigma, 0.3, 10.0, hint="Try sigma=1.0; larger values give thicker lines.")
    k = checks.number("k", k, 1.1, 5.0, hint="The paper's value is k=1.6.")
    p = checks.number("p", p, 0.0, 200.0, hint="Try p=20; larger values ink weaker edges.")
    epsilon = checks.number("epsilon", epsilon, -1.0, 1.0, hint="Try epsilon=0.01 (brightness scale 0..1).")
    phi = checks.number("phi", phi, 0.1, 1000.0, hint="Try phi=10.")
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
    levels = checks.whole("levels", levels, 2, 16, hint="Try levels=3 (black, grey, white).")
    smooth = checks.number("smooth", smooth, 0.0, 20.0, hint="Try smooth=1.5, or 0 for none.")
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
    period = checks.number(
        "period", period, 3.0, 64.0,
        hint="It is the distance between dot centres in pixels; a dot needs at least 3 pixels to look "
             "round. Try period=6 for a 512-pixel picture.",
    )
    angle = checks.number("angle", angle, -360.0, 360.0, hint="Try angle=45 (the classic screen angle).")
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
    line_strength = checks.number(
        "line_strength", line_strength, 0.0, 5.0, hint="1.0 is the default; 0 draws no lines, 2 draws many.",
    )
    tone_levels = checks.whole("tone_levels", tone_levels, 2, 8, hint="Try tone_levels=3 (black, dots, white).")
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
    model_pic = load_picture(diffusion_img)
    photo = _crop_to_shape(load_picture(photo_img), model_pic.size)
    target = _combined_size(size, photo.size)
    if photo.size != target:
        photo = photo.resize(target, Image.Resampling.LANCZOS)
    # Tones from the enlarged model picture, lines from the photo.
    tones = model_pic.convert("L").resize(target, Image.Resampling.BICUBIC)
    grey_tones = np.asarray(tones, dtype=np.float32) / np.float32(255.0)
    grey_lines = np.asarray(photo.convert("L"), dtype=np.float32) / np.float32(255.0)
    return _binary_image(_manga_black(grey_lines, grey_tones, line_strength, tone_levels, period, angle))


def _crop_to_shape(photo: Image.Image, shape: tuple[int, int]) -> Image.Image:
    """The photo cropped around its centre to the aspect ratio of ``shape``, if they differ by more than 1 %."""
    dw, dh = shape
    if abs(photo.width / photo.height - dw / dh) <= 0.01 * dw / dh:
        return photo
    cw = min(photo.width, round(photo.height * dw / dh))
    ch = min(photo.height, round(photo.width * dh / dw))
    return ImageOps.fit(photo, (max(1, cw), max(1, ch)), Image.Resampling.LANCZOS)


def _combined_size(size: Any, photo_size: tuple[int, int]) -> tuple[int, int]:
    """`combine_manga`'s output size: the photo's (None), its longer side set (an int), or (width, height)."""
    if size is None:
        target = photo_size
    elif checks.is_whole(size) and 8 <= size <= 8192:
        scale = size / max(photo_size)
        target = (max(1, round(photo_size[0] * scale)), max(1, round(photo_size[1] * scale)))
    else:
        target = checks.pair("size", size, 8, 8192, hint="Pass None, an int (the longer side) or (width, height).")
    if target[0] * target[1] > MAX_FILTER_PIXELS:
        raise CourseInputError(
            f"size={size!r} gives {target[0]}×{target[1]} pixels, more than MAX_FILTER_PIXELS="
            f"{MAX_FILTER_PIXELS:,}. Pass a smaller size, e.g. size=2048."
        )
    return target


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
    min_period = checks.number("min_period", min_period, 2.0, 1000.0, hint="Try min_period=2.5.")
    max_period = checks.number("max_period", max_period, 2.0, 1000.0, hint="Try max_period=32.")
    if max_period <= min_period:
        raise CourseInputError(
            f"max_period must be larger than min_period, got min_period={min_period:g} and "
            f"max_period={max_period:g}. Try min_period=2.5, max_period=32."
        )
    pix = np.asarray(load_picture(img).convert("L"))
    n = pix.size
    stats: dict[str, Any] = {
        "black_share": float(np.count_nonzero(pix == 0) / n),
        "white_share": float(np.count_nonzero(pix == 255) / n),
    }
    stats["grey_share"] = float(np.count_nonzero((pix > 0) & (pix < 255)) / n)
    stats.update(tone_period_px=None, tone_frequency=None, tone_angle_deg=None, tone_peak_ratio=0.0)
    stats.update(_tone_peak(pix, min_period, max_period))
    return stats


def _tone_peak(pix: np.ndarray, min_period: float, max_period: float) -> dict[str, float]:
    """The strongest periodic pattern of a grey picture (uint8) between the two periods, from its spectrum.

    Empty for a picture too small or too plain to have one.
    """
    # 1. The central crop, its mean removed, under a Hann window.
    h, w = pix.shape
    ch, cw = min(h, 1024), min(w, 1024)
    y0, x0 = (h - ch) // 2, (w - cw) // 2
    a = pix[y0:y0 + ch, x0:x0 + cw].astype(np.float64) / 255.0
    a -= a.mean()
    if ch < 8 or cw < 8 or not np.any(a):
        return {}
    a *= np.hanning(ch)[:, None] * np.hanning(cw)[None, :]
    # 2. |F(fy, fx)|; the spectrum of a real picture is symmetric, so half of it is enough.
    mag = np.abs(np.fft.rfft2(a))
    fy = np.fft.fftfreq(ch)[:, None]
    fx = np.fft.rfftfreq(cw)[None, :]
    f = np.sqrt(fx**2 + fy**2)  # cycles per pixel
    band = (f >= 1.0 / max_period) & (f <= 1.0 / min_period)
    if not band.any():
        return {}
    # 3. The strongest peak in the band.
    scores = np.where(band, mag, -1.0)
    iy, ix = np.unravel_index(int(np.argmax(scores)), scores.shape)
    freq = float(f[iy, ix])
    median = float(np.median(mag[band]))
    return {
        "tone_period_px": 1.0 / freq,
        "tone_frequency": freq,
        "tone_angle_deg": float(math.degrees(math.atan2(fy[iy, 0], fx[0, ix])) % 90.0),
        "tone_peak_ratio": float(mag[iy, ix] / median) if median > 0 else float("inf"),
    }
