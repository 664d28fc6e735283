"""Chapter 9's cut-out: the subject lifted off its background, and ways to look at the result.

`remove_background` makes a plain backdrop transparent (or keeps an ellipse, the round badge of
retro t-shirts), `border_plainness` says whether a backdrop is plain enough for that,
`crop_to_subject` trims the transparent margin, and `on_checkerboard` shows transparency the
way image editors do.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PIL import Image
from scipy import ndimage

from .. import checks
from ..errors import CourseInputError
from ..layout import enlarge
from .common import load_picture, load_sprite
from .palette import kmeans, rgb_to_lab

__all__ = ["border_plainness", "crop_to_subject", "on_checkerboard", "remove_background"]

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
    tolerance = checks.number(
        "tolerance", tolerance, 1.0, 100.0, hint="Try tolerance=12; raise it if background stays.",
    )
    if method not in ("flood", "threshold", "ellipse"):
        raise CourseInputError(f"method must be 'flood', 'threshold' or 'ellipse', got method={method!r}.")
    work_size = checks.whole("work_size", work_size, 64, 2048, hint="Try work_size=512.")
    margin = checks.number("margin", margin, 0.0, 0.4, hint="Try margin=0.03.")
    pic = load_picture(img, keep_alpha=True)
    w, h = pic.size
    if w < 3 or h < 3:
        raise CourseInputError(f"remove_background needs at least 3×3 pixels, got {w}×{h}.")
    if method == "ellipse":
        return _with_alpha(pic, _ellipse_mask(w, h, margin))
    # The mask is worked out on a copy at most work_size pixels long, then enlarged back.
    scale = min(1.0, work_size / max(w, h))
    small = pic.resize((max(3, round(w * scale)), max(3, round(h * scale))), Image.Resampling.BOX) if scale < 1 else pic
    background = _background(np.asarray(small), tolerance, flood=method == "flood")
    subject = _tidy_subject(~background, keep_largest, fill_holes)
    mask = Image.fromarray(np.where(subject, 255, 0).astype(np.uint8), mode="L")
    if mask.size != (w, h):  # a smooth enlargement of the mask, cut at one half
        mask = mask.resize((w, h), Image.Resampling.BILINEAR).point(lambda v: 255 if v >= 128 else 0)
    return _with_alpha(pic, np.asarray(mask))


def _ellipse_mask(w: int, h: int, margin: float) -> np.ndarray:
    """255 inside the ellipse that fills a w×h picture less `margin` of each side, 0 outside."""
    # inside when ((x − cx) / a)² + ((y − cy) / b)² ≤ 1, for pixel centres (x, y)
    y, x = np.mgrid[0:h, 0:w].astype(np.float32) + 0.5
    a, b = w * (0.5 - margin), h * (0.5 - margin)
    inside = ((x - w / 2) / a) ** 2 + ((y - h / 2) / b) ** 2 <= 1.0
    return np.where(inside, 255, 0).astype(np.uint8)


def _with_alpha(pic: Image.Image, mask: np.ndarray) -> Image.Image:
    """The RGBA picture with its alpha lowered to 0 where `mask` (uint8, 0 or 255) is 0."""
    out = np.asarray(pic).copy()
    out[:, :, 3] = np.minimum(out[:, :, 3], mask)
    return Image.fromarray(out, mode="RGBA")


def _background(arr: np.ndarray, tolerance: float, flood: bool) -> np.ndarray:
    """Where an RGBA array shows background: colours within `tolerance` of its border's, or transparent.

    With `flood`, only such regions that touch the border count, as a paint bucket poured from every edge.
    """
    lab = rgb_to_lab(arr[:, :, :3]).reshape(arr.shape[0], arr.shape[1], 3)
    clear = arr[:, :, 3] < 128
    edge = np.zeros(clear.shape, dtype=bool)
    edge[0, :] = edge[-1, :] = edge[:, 0] = edge[:, -1] = True
    # The background's colours: k-means on the opaque border pixels.
    border = lab[edge & ~clear].astype(np.float64)
    if len(border):
        refs = kmeans(border, min(8, len(border)), np.random.default_rng(0))
        dist2 = np.min(((lab[:, :, None, :] - refs[None, None, :, :].astype(np.float32)) ** 2).sum(axis=3), axis=2)
        like = (dist2 <= tolerance**2) | clear
    else:
        like = clear.copy()
    if not flood:
        return like
    labels, _ = ndimage.label(like)
    seeds = np.unique(labels[edge & like])
    return np.isin(labels, seeds[seeds > 0])


def _tidy_subject(subject: np.ndarray, keep_largest: bool, fill_holes: bool) -> np.ndarray:
    """The subject's mask, with only its largest connected piece and/or its holes filled."""
    if keep_largest and subject.any():
        labels, count = ndimage.label(subject)
        if count > 1:
            sizes = np.bincount(labels.ravel())
            sizes[0] = 0
            subject = labels == int(sizes.argmax())
    if fill_holes:
        subject = ndimage.binary_fill_holes(subject)
    return subject


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
    pad = checks.whole("pad", pad, 0, 1000, hint="Try pad=0, or pad=2 to keep room for an outline.")
    pic = load_sprite(img_rgba, "crop_to_subject")
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
    tolerance = checks.number("tolerance", tolerance, 1.0, 100.0, hint="Try tolerance=10.")
    n_colours = checks.whole("n_colours", n_colours, 1, 8, hint="Try n_colours=2 (a wall and a floor).")
    arr = np.asarray(load_picture(img))
    if arr.shape[0] < 3 or arr.shape[1] < 3:
        raise CourseInputError(f"border_plainness needs at least 3×3 pixels, got {arr.shape[1]}×{arr.shape[0]}.")
    border = np.concatenate([arr[0], arr[-1], arr[1:-1, 0], arr[1:-1, -1]])
    lab = rgb_to_lab(border).astype(np.float64)
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
    scale = checks.whole("scale", scale, 1, 64, hint="Try scale=4.")
    cell = checks.whole("cell", cell, 1, 256, hint="Try cell=8.")
    pic = load_picture(img, keep_alpha=None)
    pic = enlarge(pic, scale)
    if pic.mode != "RGBA":
        return pic
    y, x = np.mgrid[0:pic.height, 0:pic.width]
    board = np.where(((x // cell + y // cell) % 2 == 0)[:, :, None], 255, 204).astype(np.uint8)
    out = Image.fromarray(np.repeat(board, 3, axis=2), mode="RGB")
    out.paste(pic, (0, 0), pic)
    return out

