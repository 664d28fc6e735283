"""Chapter 9's print file and t-shirt: the file a print shop wants, its checks, and a shirt to see it on.

`upscale_for_print` enlarges a sprite onto a 4500 × 5400 canvas at 300 dpi, `save_print_png`
writes it, `check_print_file` and `assert_print_ready` check it against the design's rules,
`outline_contrast` and `MIN_OUTLINE_CONTRAST` say whether the outline shows on a shirt,
`tshirt_problems` lists what stops a print, and `tshirt_mockup` draws the shirt.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from .. import checks
from ..errors import CourseInputError
from ..images import load_image
from ..layout import enlarge
from ..saving import save_image
from .common import load_picture, png_path
from .palette import is_9bit, rgb_to_lab, snap_to_9bit

__all__ = ["MIN_OUTLINE_CONTRAST", "assert_print_ready", "check_print_file", "outline_contrast", "save_print_png",
           "tshirt_mockup", "tshirt_problems", "upscale_for_print"]

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
    cw, ch = checks.pair("size", size, 16, 20000, hint="Print shops usually ask for size=(4500, 5400).")
    dpi = checks.whole("dpi", dpi, 72, 1200, hint="Print shops ask for dpi=300.")
    pic = load_picture(sprite_rgba, keep_alpha=True)
    w, h = pic.size
    factor = min(cw // w, ch // h)
    if factor < 1:
        raise CourseInputError(
            f"The sprite is {w}×{h} pixels, larger than the canvas size={size!r}: it cannot be "
            "enlarged onto it. Make a smaller sprite (pixelate(img, grid=64)) or a larger canvas."
        )
    big = enlarge(pic, factor)
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
    dpi = checks.whole("dpi", dpi, 72, 1200, hint="Print shops ask for dpi=300.")
    path = png_path(path, "save_print_png")
    pic = img if img.mode == "RGBA" else img.convert("RGBA")
    # compress_level 3: the big flat areas still pack small, and a 4500×5400 file writes in about a second.
    return save_image(pic, path, overwrite=overwrite, what="print file", format="PNG", dpi=(dpi, dpi),
                      compress_level=3)


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
    max_colors = checks.whole("max_colors", max_colors, 1, 256, hint="A sprite palette holds max_colors=15.")
    want_w, want_h = checks.pair("size", size, 1, 20000, hint="Print shops usually ask for size=(4500, 5400).")
    dpi = checks.whole("dpi", dpi, 72, 1200, hint="Print shops ask for dpi=300.")
    pic, dpi_value = _read_print_file(path_or_img)
    opaque_colours = _opaque_colours(pic)
    alpha_channel = pic.getchannel("A")
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


def _read_print_file(path_or_img: Any) -> tuple[Image.Image, tuple[float, float] | None]:
    """The RGBA picture and its dpi tag (from the file when there is one; None when missing or unreadable)."""
    if isinstance(path_or_img, (str, os.PathLike)):
        pic = load_image(path_or_img, keep_alpha=True, min_size=1)
        with Image.open(path_or_img) as f:
            found_dpi = f.info.get("dpi")
    elif isinstance(path_or_img, Image.Image):
        found_dpi = path_or_img.info.get("dpi")
        pic = load_picture(path_or_img, keep_alpha=True)
    else:
        raise CourseInputError(
            f"check_print_file needs a file path or a PIL image, got a {type(path_or_img).__name__}."
        )
    if found_dpi is None:
        return pic, None
    try:
        return pic, (float(found_dpi[0]), float(found_dpi[1]))
    except (TypeError, ValueError, IndexError):
        return pic, None


def _opaque_colours(pic: Image.Image) -> set[tuple[int, int, int]]:
    """The colours of an RGBA picture's pixels with alpha above 0 (PIL's C counter; NumPy for very colourful ones)."""
    counted = pic.getcolors(1 << 16)
    if counted is not None:
        return {c[:3] for _, c in counted if c[3] > 0}
    arr = np.asarray(pic)
    rgb = arr[arr[:, :, 3] > 0][:, :3].astype(np.uint32)
    codes = np.unique((rgb[:, 0] << 16) | (rgb[:, 1] << 8) | rgb[:, 2])
    return {(int(c >> 16), int((c >> 8) & 255), int(c & 255)) for c in codes}


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



#: The contrast rule: an outline at least this far (CIELAB ΔE, CIE76) from the shirt's colour stands out;
#: about 2 is barely visible.
MIN_OUTLINE_CONTRAST = 20.0


def outline_contrast(outline: Any, shirt: Any) -> float:
    """How far the sprite's outline (snapped to the 9-bit space) stands from the shirt: CIELAB ΔE (CIE76).

    Taught in chapter 9. A black outline on a charcoal shirt reads about 12 and vanishes; at least
    `MIN_OUTLINE_CONTRAST` (20) stands out. Every preset passes it against its own shirt colour.
    """
    line = np.asarray(snap_to_9bit(checks.colour("outline", outline)), dtype=np.uint8)
    cloth = np.asarray(checks.colour("shirt", shirt), dtype=np.uint8)
    return float(np.linalg.norm(rgb_to_lab(line[None]) - rgb_to_lab(cloth[None])))


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
    shirt = checks.colour("shirt_colour", shirt_colour)
    size = checks.whole("size", size, 200, 4000, hint="Try size=1000.")
    design_width = checks.number("design_width", design_width, 0.05, 0.6, hint="Try design_width=0.4.")
    design = load_picture(design_rgba, keep_alpha=True)
    bbox = design.getchannel("A").point(lambda a: 255 if a >= 128 else 0).getbbox()
    if bbox is None:
        raise CourseInputError("tshirt_mockup got a design that is fully transparent: there is nothing to print.")
    design = design.crop(bbox)
    # The shirt, drawn at twice the size and reduced for smooth edges.
    mock = _draw_shirt(shirt, 2 * size).resize((size, size), Image.Resampling.LANCZOS)
    # The design on the chest, nearest-neighbour so pixels stay square and sharp.
    full_w = (1 - 2 * 0.070) * size
    target_w = design_width * full_w
    max_h = 0.52 * size
    scale = min(target_w / design.width, max_h / design.height)
    dw, dh = max(1, round(design.width * scale)), max(1, round(design.height * scale))
    art = design.resize((dw, dh), Image.Resampling.NEAREST)
    mock.paste(art, (round((size - dw) / 2), round(0.215 * size)), art)
    return mock


def _shade(shirt: tuple[int, int, int], f: float) -> tuple[int, int, int]:
    """The fabric darker (f < 1: towards black) or lighter (f > 1: towards white)."""
    return tuple(round(c * f if f <= 1 else c + (f - 1) * (255 - c)) for c in shirt)


def _mirrored(x: float, y: float, side: int, s: float) -> tuple[float, float]:
    """A point of the left half (side 1) or its mirror image on the right (side -1), on an s-pixel canvas."""
    return ((0.5 + side * (x - 0.5)) * s, y * s)


def _draw_shirt(shirt: tuple[int, int, int], s2: int) -> Image.Image:
    """The flat shirt in `shirt` colour on a backdrop, with its shadow, folds, seams and collar, s2 pixels square."""
    luma = 0.299 * shirt[0] + 0.587 * shirt[1] + 0.114 * shirt[2]
    light_shirt = luma > 150
    bg = (214, 218, 224) if light_shirt else (238, 236, 232)
    seam, thin = _shade(shirt, 0.7 if luma > 60 else 1.25), max(2, int(0.003 * s2))
    mask = Image.new("L", (s2, s2), 0)
    ImageDraw.Draw(mask).polygon(_shirt_outline(s2), fill=255)
    canvas = Image.new("RGB", (s2, s2), bg)
    # a soft shadow under the shirt
    shadow = mask.transform(mask.size, Image.Transform.AFFINE, (1, 0, -0.008 * s2, 0, 1, -0.014 * s2))
    shadow = shadow.filter(ImageFilter.GaussianBlur(0.012 * s2)).point(lambda v: v * 0.35)
    canvas.paste((0, 0, 0), (0, 0), shadow)
    canvas.paste(_fabric(shirt, s2, seam, thin), (0, 0), mask)
    # the collar: the inside of the back between the back and front necklines, then the ribs
    d = ImageDraw.Draw(canvas)
    t = np.linspace(0.0, math.pi, 33)
    back = [((0.5 - 0.095 * math.cos(a)) * s2, (0.105 - 0.016 * math.sin(a)) * s2) for a in t]
    front = [((0.5 - 0.095 * math.cos(a)) * s2, (0.105 + 0.070 * math.sin(a)) * s2) for a in t]
    d.polygon(back + front[::-1], fill=_shade(shirt, 0.45))
    rib = _shade(shirt, 0.88) if light_shirt else _shade(shirt, 1.15)
    d.line(back, fill=rib, width=int(0.014 * s2), joint="curve")
    d.line(front, fill=rib, width=int(0.020 * s2), joint="curve")
    stitch = [((0.5 - 0.1 * math.cos(a)) * s2, (0.105 + 0.080 * math.sin(a)) * s2) for a in t]
    d.line(stitch, fill=seam, width=thin, joint="curve")
    return canvas


def _fabric(shirt: tuple[int, int, int], s2: int, seam: tuple[int, int, int], thin: int) -> Image.Image:
    """The shirt's cloth over the whole canvas: lit a little from the top, with folds and seams."""
    fabric = Image.new("RGB", (s2, s2), shirt)
    ramp = Image.linear_gradient("L").resize((s2, s2))
    fabric = Image.composite(Image.new("RGB", (s2, s2), _shade(shirt, 0.82)), fabric, ramp.point(lambda v: v * 0.5))
    # folds: soft shadows, each with a highlight beside it (the only fold a dark fabric shows)
    shadows, lights = Image.new("L", (s2, s2), 0), Image.new("L", (s2, s2), 0)
    sd, ld = ImageDraw.Draw(shadows), ImageDraw.Draw(lights)
    for side in (1, -1):
        def p(x: float, y: float, side: int = side) -> tuple[float, float]:
            return _mirrored(x, y, side, s2)

        sd.line([p(0.275, 0.33), p(0.33, 0.40), p(0.36, 0.47)], fill=150, width=int(0.012 * s2))
        ld.line([p(0.29, 0.32), p(0.345, 0.385), p(0.375, 0.45)], fill=110, width=int(0.008 * s2))
        sd.line([p(0.28, 0.78), p(0.33, 0.85), p(0.35, 0.905)], fill=110, width=int(0.010 * s2))
        ld.line([p(0.295, 0.77), p(0.345, 0.835), p(0.368, 0.89)], fill=80, width=int(0.007 * s2))
    blur = ImageFilter.GaussianBlur(0.012 * s2)
    fabric = Image.composite(Image.new("RGB", (s2, s2), _shade(shirt, 0.55)), fabric, shadows.filter(blur))
    fabric = Image.composite(Image.new("RGB", (s2, s2), _shade(shirt, 1.18)), fabric, lights.filter(blur))
    # seams: armholes, sleeve hems and the bottom hem
    lines = ImageDraw.Draw(fabric)
    for side in (1, -1):
        lines.line([_mirrored(0.255, 0.152, side, s2), _mirrored(0.262, 0.315, side, s2)], fill=seam, width=thin)
        lines.line([_mirrored(0.165, 0.382, side, s2), _mirrored(0.093, 0.325, side, s2)], fill=seam, width=thin)
    lines.line([(0.272 * s2, 0.885 * s2), (0.728 * s2, 0.885 * s2)], fill=seam, width=thin)
    return fabric
