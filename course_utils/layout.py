"""Laying pictures out: crisp enlargements, grids of pictures and figures of rows.

The course shows its pictures in four ways, each one function here:

- `enlarge`: one picture enlarged with crisp (nearest-neighbour) pixels, so that a 64×64 picture
  shows its real pixels; `fit_display` does the same within a longest side (for widgets);
- `grid`: pictures in a grid, each centred in a cell, with an optional caption under each;
- `labelled_grid`: pictures in rows and columns, each row's and column's value written beside it;
- `figure_grid`: rows of pictures in a matplotlib figure, a title over each picture.

These functions take PIL images and trust their arguments: the learner's entry points
(`cu.image_grid`, `cu.plots.picture_grid`, `cu.plots.enlarge`, ...) check them first.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont

__all__ = ["enlarge", "figure_grid", "fit_display", "grid", "labelled_grid", "MAX_DISPLAY_SIDE"]

#: The longest side a widget sends to the browser: a real model's 512-pixel picture enlarged 4 times
#: would be a 2048-pixel PNG (several MB) per slider move.
MAX_DISPLAY_SIDE = 768


# --------------------------------------------------------------------------------------------
# Enlarging
# --------------------------------------------------------------------------------------------


def enlarge(img: Image.Image, scale: int) -> Image.Image:
    """`img` with each side `scale` times longer, crisp pixels (nearest-neighbour); itself when scale ≤ 1."""
    if scale <= 1:
        return img
    return img.resize((img.width * scale, img.height * scale), Image.Resampling.NEAREST)


def fit_display(img: Image.Image, scale: int = 1, max_side: int = MAX_DISPLAY_SIDE) -> Image.Image:
    """`img` enlarged up to `scale` times with crisp (nearest-neighbour) pixels, as long as its longer
    side stays within `max_side`; a picture already larger is shrunk smoothly to `max_side`."""
    longest = max(img.size)
    if longest > max_side:
        ratio = max_side / longest
        return img.resize((max(1, round(img.width * ratio)), max(1, round(img.height * ratio))),
                          Image.Resampling.LANCZOS)
    return enlarge(img, max(1, min(int(scale), max_side // longest)))


# --------------------------------------------------------------------------------------------
# A grid of pictures with captions
# --------------------------------------------------------------------------------------------


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.load_default(size=size)
    except Exception:  # Pillow built without FreeType: the fixed bitmap font
        return ImageFont.load_default()


def _wrap(text: str, font: Any, draw: ImageDraw.ImageDraw, width: int, max_lines: int = 2) -> list[str]:
    """Break a label into at most ``max_lines`` lines that fit ``width`` pixels."""
    words, lines, line = text.split(), [], ""
    for word in words:
        trial = f"{line} {word}".strip()
        if draw.textlength(trial, font=font) <= width or not line:
            line = trial
        else:
            lines.append(line)
            line = word
    if line:
        lines.append(line)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] += "…"
    # A single word longer than the tile is shortened letter by letter.
    fitted = []
    for ln in lines:
        while len(ln) > 1 and draw.textlength(ln, font=font) > width:
            ln = ln[:-2] + "…"
        fitted.append(ln)
    return fitted or [""]


def _captions(labels: Sequence[str] | None, cell_w: int) -> tuple[Any, list[list[str]], int, int]:
    """The font, each label's lines, the height of one line and of the caption band under a cell."""
    font = _font(max(10, min(18, cell_w // 14)))
    if labels is None:
        return font, [], 0, 0
    scratch = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    top, bottom = scratch.textbbox((0, 0), "Ag", font=font)[1::2]
    line_h = bottom - top + 2
    wrapped = [_wrap(str(lab), font, scratch, cell_w) for lab in labels]
    return font, wrapped, line_h, max(len(w) for w in wrapped) * line_h + 4


def grid(
    pictures: Sequence[Image.Image],
    cols: int,
    labels: Sequence[str] | None = None,
    pad: int = 2,
    bg: tuple[int, int, int] = (255, 255, 255),
) -> Image.Image:
    """
    The pictures in `cols` columns, each centred in a cell as large as the largest picture, with
    `pad` pixels between and around them and its label (at most two lines) under it.

    Labels are drawn in black or white, whichever reads better on `bg`.
    """
    rows = -(-len(pictures) // cols)
    cell_w = max(p.width for p in pictures)
    cell_h = max(p.height for p in pictures)
    font, wrapped, line_h, label_h = _captions(labels, cell_w)

    out = Image.new("RGB", (cols * cell_w + (cols + 1) * pad, rows * (cell_h + label_h) + (rows + 1) * pad), bg)
    draw = ImageDraw.Draw(out)
    ink = (0, 0, 0) if 0.299 * bg[0] + 0.587 * bg[1] + 0.114 * bg[2] > 128 else (255, 255, 255)
    for i, pic in enumerate(pictures):
        r, c = divmod(i, cols)
        x0 = pad + c * (cell_w + pad)
        y0 = pad + r * (cell_h + label_h + pad)
        out.paste(pic, (x0 + (cell_w - pic.width) // 2, y0 + (cell_h - pic.height) // 2))
        for j, line in enumerate(wrapped[i] if wrapped else []):
            tw = draw.textlength(line, font=font)
            draw.text((x0 + (cell_w - tw) / 2, y0 + cell_h + 2 + j * line_h), line, fill=ink, font=font, anchor="la")
    return out


# --------------------------------------------------------------------------------------------
# Rows and columns with their values written beside them
# --------------------------------------------------------------------------------------------


def labelled_grid(pictures: list[list[Image.Image]], row_labels: list[str], col_labels: list[str],
                  row_title: str = "", col_title: str = "", cell: int = 128) -> Image.Image:
    """Pictures in rows and columns, with each row's and column's value written beside it.

    Small pictures are enlarged towards `cell` pixels with crisp (nearest-neighbour) pixels; larger
    ones (a real model's 512-pixel pictures) are shrunk smoothly to fit the cell.
    """
    font = ImageFont.load_default(size=14)
    left, top, pad = 70, 44, 4
    n_rows, n_cols = len(pictures), max(len(r) for r in pictures)
    out = Image.new("RGB", (left + n_cols * (cell + pad), top + n_rows * (cell + pad)), "white")
    draw = ImageDraw.Draw(out)
    draw.text((left, 2), f"{col_title} (across)", fill="black", font=font)
    draw.text((4, top - 20), f"{row_title} (down)", fill="black", font=font)
    for j, label in enumerate(col_labels):
        draw.text((left + j * (cell + pad) + cell // 2, top - 12), label, fill="black", font=font, anchor="mm")
    for i, row in enumerate(pictures):
        y = top + i * (cell + pad)
        draw.text((left - 8, y + cell // 2), row_labels[i], fill="black", font=font, anchor="rm")
        for j, pic in enumerate(row):
            out.paste(fit_display(pic.convert("RGB"), cell, max_side=cell), (left + j * (cell + pad), y))
    return out


# --------------------------------------------------------------------------------------------
# A matplotlib figure of rows
# --------------------------------------------------------------------------------------------


def figure_grid(
    rows: Sequence[Sequence[Image.Image]],
    titles: Sequence[Sequence[str] | None] | None = None,
    row_labels: Sequence[str] | None = None,
    suptitle: str | None = None,
    size: float = 1.7,
):
    """
    A matplotlib figure with the pictures in rows (of any lengths), `titles` over them (one list
    per row, or None for a row without), `row_labels` left of the rows and `suptitle` over all;
    `size` is one picture's width in inches. Pixels are drawn crisp (no smoothing).

    The figure is closed in pyplot, so a cell shows it once when it is the cell's last value.
    """
    import matplotlib.pyplot as plt

    pics = [[p if p.mode == "RGB" else p.convert("RGB") for p in row] for row in rows]
    n_rows, n_cols = len(pics), max(len(r) for r in pics)
    aspect = max(p.height / p.width for row in pics for p in row)
    has_titles = titles is not None
    fig, axes = plt.subplots(
        n_rows, n_cols, figsize=(size * n_cols + (0.3 if row_labels else 0),
                                 size * aspect * n_rows + 0.28 * n_rows * has_titles + 0.4 * bool(suptitle)),
        squeeze=False, layout="constrained",
    )
    for r, row in enumerate(pics):
        for c in range(n_cols):
            ax = axes[r][c]
            ax.set_xticks([])
            ax.set_yticks([])
            if c >= len(row):
                ax.set_axis_off()
                continue
            ax.imshow(np.asarray(row[c]), interpolation="nearest")
            for spine in ax.spines.values():
                spine.set_visible(False)
            if has_titles and titles[r] is not None:
                ax.set_title(titles[r][c], fontsize=9)
        if row_labels:
            axes[r][0].set_ylabel(row_labels[r], fontsize=10)
    if suptitle:
        fig.suptitle(suptitle, fontsize=11)
    plt.close(fig)
    return fig
