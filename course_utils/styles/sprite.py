"""Chapter 9's sprite: a picture shrunk to a 16-bit console grid, outlined, one call per look.

`pixelate` draws a picture on a coarse grid with one 9-bit palette, `add_outline` rings the
sprite in a dark colour, and `make_sprite` runs the whole recipe (cut-out, colour adjustments,
grid, outline) with the settings of one of the `PRESETS`.
"""

from __future__ import annotations

from numbers import Real
from typing import Any

import numpy as np
from PIL import Image, ImageEnhance
from scipy import ndimage

from .. import checks
from ..errors import CourseInputError
from .common import load_picture, load_sprite
from .cutout import remove_background
from .palette import check_n_colors, fit_palette, join_alpha, map_to_palette, quantize_md, snap_to_9bit, split_alpha

__all__ = ["PRESETS", "add_outline", "make_sprite", "pixelate"]

def _check_grid(grid: Any) -> int:
    return checks.whole(
        "grid", grid, 8, 320,
        hint="It is the sprite's longer side in pixels; 16-bit sprites were 16 to 128 pixels and the "
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
    n_colors = check_n_colors(n_colors)
    seed = checks.whole("seed", seed, 0, 2**32 - 1, hint="Any whole number works, e.g. seed=0.")
    if method not in ("mode", "box"):
        raise CourseInputError(f"method must be 'mode' or 'box', got method={method!r}.")
    pic = load_picture(img, keep_alpha=None)
    w, h = pic.size
    scale = grid / max(w, h)
    gw, gh = max(1, round(w * scale)), max(1, round(h * scale))

    if dither or method == "box":
        resample = Image.Resampling.BOX if scale < 1 else Image.Resampling.LANCZOS
        small = pic.resize((gw, gh), resample)
        return quantize_md(small, n_colors=n_colors, dither=dither, seed=seed)[0]

    # The picture at 4×4 sub-pixels per sprite pixel, and a palette fitted to it.
    mid = pic.resize((gw * _SUB, gh * _SUB), Image.Resampling.LANCZOS if scale * _SUB >= 1 else Image.Resampling.BOX)
    rgb, opaque = split_alpha(mid)
    pixels = rgb.reshape(-1, 3) if opaque is None else rgb[opaque]
    if len(pixels) == 0:
        raise CourseInputError("pixelate got a picture with no opaque pixel: there is nothing to draw.")
    palette = fit_palette(pixels, n_colors, seed)
    idx = map_to_palette(rgb, palette, dither=False)
    if opaque is None:
        return join_alpha(palette[_block_vote(_blocks(idx), len(palette))], None)
    ob = _blocks(opaque)
    votes = np.where(ob, _blocks(idx), len(palette))  # transparent sub-pixels vote for "nothing"
    keep = ob.sum(axis=2) * 2 >= _SUB * _SUB  # opaque where most of the block is
    return join_alpha(palette[_block_vote(votes, len(palette))], keep)


#: Sub-pixels per sprite pixel, each way, in `pixelate`'s "mode" method.
_SUB = 4


def _blocks(a: np.ndarray) -> np.ndarray:
    """An (H·4, W·4) array as (H, W, 16): the sub-pixels of each sprite pixel."""
    gh, gw = a.shape[0] // _SUB, a.shape[1] // _SUB
    return a.reshape(gh, _SUB, gw, _SUB).transpose(0, 2, 1, 3).reshape(gh, gw, _SUB * _SUB)


def _block_vote(blocks: np.ndarray, k: int) -> np.ndarray:
    """The most common palette index 0..k-1 of each block (ties go to the lower index; k votes for none)."""
    counts = np.zeros((*blocks.shape[:2], k + 1), dtype=np.int32)
    for j in range(k + 1):
        counts[:, :, j] = (blocks == j).sum(axis=2)
    return counts[:, :, :k].argmax(axis=2)


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
    colour = snap_to_9bit(checks.colour("colour", colour))
    width = checks.whole("width", width, 1, 8, hint="Try width=1: one sprite pixel.")
    if connectivity not in (4, 8) or isinstance(connectivity, bool):
        raise CourseInputError(f"connectivity must be 4 or 8, got connectivity={connectivity!r}.")
    pic = load_sprite(sprite_rgba, "add_outline")
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
    pic = load_picture(img, keep_alpha=None)
    if remove_bg:
        pic = remove_background(pic, tolerance=settings["tolerance"], method=settings["cutout"])
    pic = load_picture(pic, keep_alpha=True)
    sat = checks.number("saturation", settings["saturation"], 0.0, 3.0, hint="1.0 leaves colours as they are.")
    con = checks.number("contrast", settings["contrast"], 0.2, 3.0, hint="1.0 leaves contrast as it is.")
    bri = checks.number("brightness", settings["brightness"], 0.2, 3.0, hint="1.0 leaves brightness as it is.")
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
