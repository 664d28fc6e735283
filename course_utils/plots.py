"""Figures and animations: rows of pictures, GIFs, and the frames of a denoising run.

Taught in: chapter 2 (Forward and reverse diffusion), where a picture dissolves into noise and a new
one condenses out of it; the helpers are reused wherever a chapter shows a row of pictures or an
animation.

Two kinds of helper live here, beside the frames they show (`course_utils.frames`, re-exported):

- figures: `picture_grid` and `show_row` lay pictures out in a matplotlib figure with titles;
- animations: `make_gif` writes frames as a small looping GIF, and `gif_html` shows one inline.

Pictures may be PIL images, NumPy arrays (as `images.load_image` reads them) or torch tensors of
shape ``(3, H, W)`` or ``(1, 3, H, W)`` with values in ``[-1, 1]`` (as `images.to_pil` reads them).
"""

from __future__ import annotations

import base64
import html
import io
import os
from collections.abc import Sequence
from pathlib import Path

from PIL import Image

from . import checks, layout
from .errors import CourseInputError
from .frames import DenoisingRun, decode_latents, forward_frames, record_denoising
from .images import as_pil
from .saving import save_file

__all__ = [
    "DenoisingRun",
    "decode_latents",
    "enlarge",
    "forward_frames",
    "gif_html",
    "GifBytes",
    "make_gif",
    "picture_grid",
    "record_denoising",
    "show_row",
]


# --------------------------------------------------------------------------------------------
# Pictures in, pictures out
# --------------------------------------------------------------------------------------------


def enlarge(picture, scale: int = 4) -> Image.Image:
    """
    A picture enlarged `scale` times with crisp pixels (nearest-neighbour), as the course shows 64×64 pictures.

    Taught in: chapter 2 (Forward and reverse diffusion).

    Args:
        picture (`PIL.Image.Image`, `np.ndarray` or `torch.Tensor`): the picture.
        scale (`int`, defaults to 4): how many times to enlarge each side, from 1 to 32.

    Returns:
        `PIL.Image.Image`: an RGB picture of size ``(scale·W, scale·H)``.
    """
    return layout.enlarge(as_pil(picture), checks.whole("scale", scale, 1, 32, hint="e.g. scale=4."))


# --------------------------------------------------------------------------------------------
# Figures
# --------------------------------------------------------------------------------------------


def picture_grid(
    rows: Sequence[Sequence],
    titles: Sequence[Sequence[str]] | None = None,
    row_labels: Sequence[str] | None = None,
    suptitle: str | None = None,
    size: float = 1.7,
):
    """
    A matplotlib figure with pictures in rows, a title over each picture and a label left of each row.

    Pixels are drawn crisp (no smoothing), so a 64×64 picture shows its real pixels.

    Taught in: chapter 2 (Forward and reverse diffusion).

    Args:
        rows (list of lists of pictures): each inner list is one row; rows may differ in length.
        titles (list of lists of `str`, *optional*): one title per picture, shaped like `rows`.
        row_labels (list of `str`, *optional*): one label per row, written vertically on the left.
        suptitle (`str`, *optional*): a title over the whole figure.
        size (`float`, defaults to 1.7): the width of one picture in inches.

    Returns:
        `matplotlib.figure.Figure`: already closed in pyplot, so a cell shows it once when it is the
        cell's last value (or with `display(fig)`), and it can be saved with `fig.savefig(path)`.

    Raises:
        `CourseInputError`: if `rows` is empty, or `titles`/`row_labels` do not match it.
    """
    if isinstance(rows, (str, bytes)) or not isinstance(rows, Sequence) or not rows:
        raise CourseInputError("rows must be a non-empty list of rows, each a list of pictures.")
    pics = [[as_pil(p) for p in row] for row in rows]
    if any(not row for row in pics):
        raise CourseInputError("every row must hold at least one picture.")
    if titles is not None and (len(titles) != len(pics) or any(
            t is not None and len(t) != len(r) for t, r in zip(titles, pics))):
        raise CourseInputError("titles must have one list per row, with one title per picture.")
    if row_labels is not None and len(row_labels) != len(pics):
        raise CourseInputError(f"row_labels must have one label per row ({len(pics)}), got {len(row_labels)}.")
    checks.number("size", size, 0.3, 6, hint="It is one picture's width in inches, e.g. size=1.7.")
    return layout.figure_grid(pics, titles, row_labels, suptitle, size)


def show_row(pictures: Sequence, titles: Sequence[str] | None = None, suptitle: str | None = None,
             size: float = 1.7):
    """
    One row of pictures with a title over each: `picture_grid` for a single row.

    Taught in: chapter 2 (Forward and reverse diffusion).

    Args:
        pictures (list of pictures), titles (list of `str`, *optional*), suptitle (`str`, *optional*),
        size (`float`, defaults to 1.7): as in `picture_grid`.

    Returns:
        `matplotlib.figure.Figure` (closed in pyplot; see `picture_grid`).
    """
    return picture_grid([pictures], titles=None if titles is None else [titles], suptitle=suptitle, size=size)


# --------------------------------------------------------------------------------------------
# Animations
# --------------------------------------------------------------------------------------------


class GifBytes(bytes):
    """The bytes of a GIF, with ``.path``: the file they were written to (``None`` when not written)."""

    path: Path | None = None


def make_gif(
    frames: Sequence,
    path: str | os.PathLike | None = None,
    frame_ms: int = 100,
    first_ms: int | None = None,
    last_ms: int = 1200,
    scale: int = 1,
    max_side: int = 256,
    colors: int = 128,
    *,
    overwrite: bool = False,
) -> GifBytes:
    """
    Frames to a looping animated GIF (bytes), written to `path` too when one is given.

    GIFs of noise do not compress well: keep them small in pixels and let the browser enlarge them
    (`gif_html` does, with crisp pixels). A 64×64 animation of 30 frames is a few dozen KB.

    Taught in: chapter 2 (Forward and reverse diffusion).

    Args:
        frames (list of pictures): the frames, in order; at least one.
        path (`str` or `os.PathLike`, *optional*): where to write the GIF (its folder is created).
        frame_ms (`int`, defaults to 100): how long each frame shows, in milliseconds (20 to 10 000).
        first_ms (`int`, *optional*): how long the first frame shows (default: `frame_ms`).
        last_ms (`int`, defaults to 1200): how long the last frame shows before the loop starts again.
        scale (`int`, defaults to 1): enlarge each frame this many times (crisp pixels) before saving.
        max_side (`int`, defaults to 256): frames larger than this (after `scale`) are shrunk to fit,
            so that a 512×512 Stable Diffusion run does not make a file of many megabytes.
        colors (`int`, defaults to 128): colours per frame, from 2 to 256 (fewer make smaller files).
        overwrite (`bool`, defaults to ``False``): replace a file at `path`. Without it an earlier file
            is kept and the GIF gets the next free name (``anim-2.gif``, ``anim-3.gif`` ...).

    Returns:
        `GifBytes`: the GIF file's contents (``bytes``), with ``.path`` the file really written
        (``None`` without `path`).

    Raises:
        `CourseInputError`: for no frames, frames of different sizes, or a setting out of range; or
            (with `CourseSetupError`) when the file cannot be written, saying why and what to do.
    """
    if isinstance(frames, (str, bytes)) or not isinstance(frames, Sequence) or len(frames) == 0:
        raise CourseInputError("frames must be a non-empty list of pictures.")
    for name, value, lo, hi in (("frame_ms", frame_ms, 20, 10_000), ("last_ms", last_ms, 20, 10_000),
                                ("max_side", max_side, 16, 4096), ("colors", colors, 2, 256)):
        checks.whole(name, value, lo, hi)
    if first_ms is not None:
        checks.whole("first_ms", first_ms, 20, 10_000, hint="Or None: as long as the other frames.")
    scale = checks.whole("scale", scale, 1, 32, hint="e.g. scale=4.")
    pics = _gif_frames([as_pil(f, "each frame") for f in frames], scale, max_side)
    durations = [int(frame_ms)] * len(pics)
    if first_ms is not None:
        durations[0] = int(first_ms)
    durations[-1] = int(last_ms)
    data = GifBytes(_gif_bytes(pics, int(colors), durations))
    if path is not None:
        data.path = save_file(path, lambda tmp: tmp.write_bytes(data), overwrite=overwrite, what="GIF")
    return data


def _gif_frames(pics: list[Image.Image], scale: int, max_side: int) -> list[Image.Image]:
    """The frames, all of one size, enlarged `scale` times (crisp pixels), then shrunk to fit `max_side`."""
    if len({p.size for p in pics}) != 1:
        sizes = sorted({p.size for p in pics})
        raise CourseInputError(f"all frames must have the same size, got sizes {sizes[:4]}.")
    pics = [layout.enlarge(p, scale) for p in pics]
    w, h = pics[0].size
    if max(w, h) > max_side:
        k = max_side / max(w, h)
        pics = [p.resize((max(1, round(w * k)), max(1, round(h * k))), Image.Resampling.LANCZOS) for p in pics]
    return pics


def _gif_bytes(pics: list[Image.Image], colors: int, durations: list[int]) -> bytes:
    """A looping GIF of the frames, each with its own adaptive palette of `colors` colours (noise needs
    other colours than the finished picture)."""
    paletted = [p.quantize(colors=colors, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE) for p in pics]
    buf = io.BytesIO()
    paletted[0].save(buf, format="GIF", save_all=True, append_images=paletted[1:], duration=durations,
                     loop=0, optimize=False, disposal=1)
    return buf.getvalue()


def gif_html(gif: bytes | str | os.PathLike, width: int = 256, caption: str | None = None):
    """
    Show a GIF inline in a notebook, enlarged with crisp pixels, from its bytes or its file.

    The GIF is embedded as base64 in an `<img>` tag, so it plays in JupyterLab, in a saved
    notebook and in an exported HTML page alike.

    Taught in: chapter 2 (Forward and reverse diffusion).

    Args:
        gif (`bytes`, `str` or `os.PathLike`): the GIF's bytes (from `make_gif`) or the path of a GIF file.
        width (`int`, defaults to 256): the shown width in screen pixels (the height follows).
        caption (`str`, *optional*): a line of text under the animation.

    Returns:
        `IPython.display.HTML`

    Raises:
        `CourseInputError`: if the data is not a GIF, or the file does not exist.
    """
    from IPython.display import HTML

    if isinstance(gif, (str, os.PathLike)):
        path = Path(gif)
        if not path.is_file():
            raise CourseInputError(f"gif_html: the file {path} does not exist; make it with make_gif(frames, path).")
        gif = path.read_bytes()
    if not isinstance(gif, (bytes, bytearray)) or bytes(gif[:6]) not in (b"GIF87a", b"GIF89a"):
        raise CourseInputError("gif_html needs the bytes of a GIF (from make_gif) or the path of a .gif file.")
    checks.whole("width", width, 16, 2048, hint="It is in screen pixels, e.g. width=256.")
    data = base64.b64encode(bytes(gif)).decode("ascii")
    img = (f'<img src="data:image/gif;base64,{data}" width="{int(width)}" '
           'style="image-rendering:pixelated;image-rendering:crisp-edges;border:1px solid #ccc">')
    text = f'<div style="font-size:0.9em;opacity:0.8">{html.escape(caption)}</div>' if caption else ""
    return HTML(f'<figure style="margin:4px 0">{img}{text}</figure>')
