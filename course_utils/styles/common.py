"""What every style helper shares: reading a picture in, and the PNG path a print file goes to.

Every helper of chapters 8 and 9 takes a PIL image or anything `load_image` accepts (a path, a
PIL image of any mode, a NumPy array). Sprites keep their transparency; manga pictures lay it on
white paper.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from ..errors import CourseInputError
from ..images import load_image

__all__ = ["has_alpha", "load_picture", "load_sprite", "png_path"]


def has_alpha(source: Any) -> bool:
    """Whether a picture (PIL image, array or file) carries transparency."""
    if isinstance(source, Image.Image):
        return source.mode in ("RGBA", "RGBa", "LA", "La", "PA") or "transparency" in source.info
    if isinstance(source, np.ndarray):
        return source.ndim == 3 and source.shape[2] == 4
    if isinstance(source, (str, os.PathLike)):
        try:
            with Image.open(source) as probe:
                return has_alpha(probe)
        except Exception:  # load_image reports unreadable files with a clear message
            return False
    return False


def load_picture(source: Any, keep_alpha: bool | None = False) -> Image.Image:
    """`load_image` with no minimum size; ``keep_alpha=None`` keeps alpha only if the source has it."""
    if keep_alpha is None:
        keep_alpha = has_alpha(source)
    return load_image(source, keep_alpha=keep_alpha, min_size=1)


def load_sprite(img: Any, what: str) -> Image.Image:
    """The picture as ``RGBA``; `what` (the caller's name) complains about one without transparency."""
    pic = load_picture(img, keep_alpha=None)
    if pic.mode != "RGBA":
        raise CourseInputError(
            f"{what} needs a sprite with transparency (RGBA), got a {pic.mode} picture with none. "
            "Cut the background away first with cu.styles.remove_background(img)."
        )
    return pic


def png_path(path: Any, what: str) -> Path:
    """`path` as a `Path` ending in ``.png``; `what` (the caller's name) complains about any other."""
    if not isinstance(path, (str, os.PathLike)):
        raise CourseInputError(f"{what} needs a file path ending in .png, got a {type(path).__name__}.")
    path = Path(path).expanduser()
    if path.suffix.lower() != ".png":
        raise CourseInputError(
            f"{what} writes PNG files (lossless, with transparency and a dpi tag), but the path "
            f"'{path}' ends in '{path.suffix}'. Use a name ending in .png."
        )
    return path
