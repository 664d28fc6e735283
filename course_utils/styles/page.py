"""Chapter 8's printable manga page: speech bubbles, four framed panels, a 300 dpi PNG.

`speech_bubble` draws a white ellipse with a rim, a tail and fitted text; `manga_page` lays four
panels out on an A4 page (2x2, read right to left, or the yonkoma strip) with captions and
bubbles; `save_png_300dpi` writes it with the resolution print shops expect.
"""

from __future__ import annotations

import math
import os
from numbers import Real
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont, ImageOps

from .. import checks
from ..errors import CourseInputError
from ..saving import save_image
from .common import load_picture, png_path

__all__ = ["manga_page", "save_png_300dpi", "speech_bubble"]



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
    draw = _drawing(draw_or_img)
    x0, y0, x1, y1 = _bubble_box(xy)
    if not isinstance(text, str):
        raise CourseInputError(f"text must be a string, got {type(text).__name__}; e.g. text='Nya!'.")
    bw, bh = x1 - x0, y1 - y0
    if tail is None:
        tail = (x0 + 0.3 * bw, y1 + 0.45 * bh)
    if not isinstance(tail, (tuple, list)) or len(tail) != 2 or not all(checks.is_number(v) for v in tail):
        raise CourseInputError(f"tail must be a point (x, y) in pixels or None, got tail={tail!r}.")
    if line_width is None:
        line_width = max(2, round(min(bw, bh) / 40))
    line_width = checks.whole("line_width", line_width, 1, 100, hint="Try line_width=4.")
    if font_size is None:
        font_size = min(500, max(10, round(bh / 5)))
    font_size = checks.whole("font_size", font_size, 6, 500, hint="Try font_size=40.")

    triangle = _tail_triangle((x0, y0, x1, y1), (float(tail[0]), float(tail[1])))
    # Ink first (ellipse and tail grown by the rim's width), then paper inside: the rim stays
    # open where the tail joins the bubble.
    lw = line_width
    draw.ellipse((x0 - lw, y0 - lw, x1 + lw, y1 + lw), fill="black")
    draw.polygon(triangle, fill="black")
    draw.line([*triangle, triangle[0]], fill="black", width=2 * lw, joint="curve")
    draw.ellipse((x0, y0, x1, y1), fill="white")
    draw.polygon(triangle, fill="white")
    # The text, wrapped and centred.
    font, wrapped = _fit_text(draw, text, 0.72 * bw, 0.62 * bh, font_size)
    size = getattr(font, "size", 10)
    draw.multiline_text(((x0 + x1) / 2, (y0 + y1) / 2), wrapped, fill="black", font=font, anchor="mm",
                        align="center", spacing=int(size) // 5)
    return draw_or_img


def _drawing(draw_or_img: Any) -> ImageDraw.ImageDraw:
    """A drawing context on a picture, or the context itself."""
    if isinstance(draw_or_img, Image.Image):
        return ImageDraw.Draw(draw_or_img)
    if isinstance(draw_or_img, ImageDraw.ImageDraw):
        return draw_or_img
    raise CourseInputError(
        f"speech_bubble draws on a PIL image or an ImageDraw.Draw, got a {type(draw_or_img).__name__}; "
        "e.g. speech_bubble(page, (40, 20, 360, 160), 'Nya!')."
    )


def _bubble_box(xy: Any) -> tuple[float, float, float, float]:
    """The bubble's box as floats, at least 20 pixels each way."""
    if (
        not isinstance(xy, (tuple, list))
        or len(xy) != 4
        or not all(checks.is_number(v) for v in xy)
        or xy[2] - xy[0] < 20
        or xy[3] - xy[1] < 20
    ):
        raise CourseInputError(
            f"xy must be a box (x0, y0, x1, y1) in pixels with x1 - x0 and y1 - y0 of at least 20, "
            f"got xy={xy!r}; e.g. xy=(40, 20, 360, 160)."
        )
    x0, y0, x1, y1 = (float(v) for v in xy)
    return x0, y0, x1, y1


def _tail_triangle(box: tuple[float, float, float, float], tip: tuple[float, float]) -> list[tuple[float, float]]:
    """The tail: a triangle from a base inside the bubble's ellipse to the tip."""
    x0, y0, x1, y1 = box
    bw, bh = x1 - x0, y1 - y0
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    tx, ty = tip
    dx, dy = tx - cx, ty - cy
    dist = math.hypot(dx, dy) or 1.0
    ux, uy = dx / dist, dy / dist
    # Radius of the ellipse in the tail's direction: 1/r² = (u_x/a)² + (u_y/b)²
    r_edge = 1.0 / math.sqrt((ux / (bw / 2)) ** 2 + (uy / (bh / 2)) ** 2)
    base_r, half = 0.6 * r_edge, 0.13 * min(bw, bh)
    bx, by = cx + ux * base_r, cy + uy * base_r
    return [(bx - uy * half, by + ux * half), (tx, ty), (bx + uy * half, by - ux * half)]


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
    page_w, page_h, dpi = _check_page_args(panels, captions, layout, dpi, page_size_px)
    pics = _load_panels(panels)
    mode = "L" if all(_is_grey(pic) for pic in pics) else "RGB"
    bubble_specs = _bubble_specs(bubbles)

    page = Image.new(mode, (page_w, page_h), "white")
    draw = ImageDraw.Draw(page)
    top = _draw_title(draw, title, page_w)
    (cell_w, cell_h), corners = _panel_frames(layout, right_to_left, (page_w, page_h), top)
    if cell_w < 20 or cell_h < 20:
        raise CourseInputError(f"page_size_px={page_size_px!r} leaves no room for 4 panels; use (2480, 3508).")
    border = max(2, round(page_w / 400))
    cap_font = _font(max(10, round(page_w / 60)))
    for i, (pic, (px, py)) in enumerate(zip(pics, corners)):
        resample = Image.Resampling.NEAREST if _is_binary(pic.convert("L")) else Image.Resampling.LANCZOS
        page.paste(ImageOps.fit(pic.convert(mode), (cell_w, cell_h), resample), (px, py))
        draw.rectangle((px, py, px + cell_w - 1, py + cell_h - 1), outline="black", width=border)
        caption = captions[i] if captions is not None else None
        if caption:
            _draw_caption(draw, str(caption), cap_font, (px + border, py + border), 0.6 * cell_w, max(2, border // 2))
    # Speech bubbles, placed in panel coordinates.
    for panel_index, text, box, tail in bubble_specs:
        px, py = corners[panel_index]
        xy = (px + box[0] * cell_w, py + box[1] * cell_h, px + box[2] * cell_w, py + box[3] * cell_h)
        tip = (px + tail[0] * cell_w, py + tail[1] * cell_h)
        speech_bubble(draw, xy, text, tail=tip, font_size=max(12, round(page_w / 44)),
                      line_width=max(2, round(border * 0.8)))
    page.info["dpi"] = (dpi, dpi)
    return page


def _check_page_args(panels: Any, captions: Any, layout: Any, dpi: Any, page_size_px: Any) -> tuple[int, int, int]:
    """`manga_page`'s arguments checked; returns the page's width, height and dpi."""
    if not isinstance(panels, (list, tuple)) or len(panels) != 4:
        got = f"{len(panels)} panels" if isinstance(panels, (list, tuple)) else f"a {type(panels).__name__}"
        raise CourseInputError(
            f"manga_page lays out exactly 4 panels, got {got}. Pass a list of 4 pictures "
            "(repeat one, e.g. [panel] * 4, to try the layout)."
        )
    if layout not in ("2x2", "4koma"):
        raise CourseInputError(f"layout must be '2x2' or '4koma', got layout={layout!r}.")
    page_w, page_h = checks.pair("page_size_px", page_size_px, 400, 10000, hint="A4 at 300 dpi is (2480, 3508).")
    dpi = checks.whole("dpi", dpi, 72, 1200, hint="Print shops ask for dpi=300.")
    if captions is not None and (not isinstance(captions, (list, tuple)) or len(captions) != 4):
        raise CourseInputError(
            f"captions must be a list of 4 strings (or None for a panel without one), got {captions!r}."
        )
    return page_w, page_h, dpi


def _load_panels(panels: list[Any]) -> list[Image.Image]:
    """Each panel as an RGB picture; an unusable one is named by its number."""
    pics = []
    for i, panel in enumerate(panels):
        try:
            pics.append(load_picture(panel))
        except CourseInputError as err:
            raise CourseInputError(f"manga_page: panel number {i} is not usable: {err}") from None
    return pics


def _page_margin(page_w: int) -> int:
    """The white margin around the panels: 7 % of the page's width."""
    return round(0.07 * page_w)


def _draw_title(draw: ImageDraw.ImageDraw, title: str | None, page_w: int) -> int:
    """Draw the title centred in the top margin, if there is one; returns where the panels start."""
    margin = _page_margin(page_w)
    if not title:
        return margin
    title_font = _font(max(12, round(page_w / 28)))
    draw.text((page_w / 2, margin * 0.55), str(title), fill="black", font=title_font, anchor="mm")
    return round(margin * 1.1)


def _panel_frames(
    layout: str, right_to_left: bool, page_size: tuple[int, int], top: int
) -> tuple[tuple[int, int], list[tuple[int, int]]]:
    """The frames' (width, height) and each panel's top-left corner, in reading order.

    Gutters are wider between rows than between columns, as in printed manga; all scale with the page.
    """
    page_w, page_h = page_size
    margin = _page_margin(page_w)
    col_gap, row_gap = round(0.018 * page_w), round(0.032 * page_w)
    inner_w, inner_h = page_w - 2 * margin, page_h - top - margin
    if layout == "2x2":
        cell_w, cell_h = (inner_w - col_gap) // 2, (inner_h - row_gap) // 2
        order = [(0, 1), (0, 0), (1, 1), (1, 0)] if right_to_left else [(0, 0), (0, 1), (1, 0), (1, 1)]
        corners = [(margin + c * (cell_w + col_gap), top + r * (cell_h + row_gap)) for r, c in order]
    else:
        cell_w, cell_h = round(0.62 * inner_w), (inner_h - 3 * row_gap) // 4
        left = (page_w - cell_w) // 2
        corners = [(left, top + r * (cell_h + row_gap)) for r in range(4)]
    return (cell_w, cell_h), corners


def _draw_caption(
    draw: ImageDraw.ImageDraw, caption: str, font: Any, corner: tuple[int, int], width: float, rim: int
) -> None:
    """A narration box: the caption wrapped to `width`, in a white box with a black rim, at `corner`."""
    pad = round(font.size * 0.45) if hasattr(font, "size") else 6
    wrapped = _wrap_lines(caption, font, draw, width)
    tb = draw.multiline_textbbox((0, 0), wrapped, font=font, spacing=pad // 2)
    bx0, by0 = corner[0] + pad, corner[1] + pad
    bx1, by1 = bx0 + (tb[2] - tb[0]) + 2 * pad, by0 + (tb[3] - tb[1]) + 2 * pad
    draw.rectangle((bx0, by0, bx1, by1), fill="white", outline="black", width=rim)
    draw.multiline_text((bx0 + pad - tb[0], by0 + pad - tb[1]), wrapped, fill="black", font=font, spacing=pad // 2)


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
        if not checks.is_whole(panel) or not 0 <= panel <= 3 or not isinstance(text, str):
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
    path = png_path(path, "save_png_300dpi")
    return save_image(img, path, overwrite=overwrite, what="page", format="PNG", dpi=(300, 300))
