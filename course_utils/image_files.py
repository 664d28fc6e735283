"""Opening picture files safely: the checks `load_image` runs before a model sees a file.

A missing file, a web address, a folder, a text file with a ``.jpg`` name, an EPS file, a
truncated download or a decompression bomb each end in one `CourseInputError` that names the
file, says what is wrong and what to do. A file's size is read from its header before any pixel is
decoded.

Taught in: chapter 1 (meeting MAU), through `cu.load_image`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, UnidentifiedImageError

from .errors import CourseInputError

__all__ = ["capital", "check_pixel_count", "describe", "from_pil", "open_file", "wrong_source_type"]


def describe(source: Any) -> str:
    """Name the input the way an error message should: the file's path, or what it is."""
    if isinstance(source, (str, os.PathLike)):
        return f"the file '{os.fspath(source)}'"
    if isinstance(source, np.ndarray):
        return "the array"
    if isinstance(source, Image.Image):
        return "the image"
    return "the input"


def capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def wrong_source_type(source: Any) -> str:
    kind = type(source).__name__
    hint = "Pass a path to an image file (str or pathlib.Path), a PIL image, or a NumPy array."
    if type(source).__module__.startswith("torch"):
        hint = "For a torch tensor, pass cu.to_pil(tensor) instead: it makes a PIL image of it."
    elif isinstance(source, (bytes, bytearray)):
        hint = (
            "For bytes read from a file, pass the file's path instead, or open them with "
            "PIL.Image.open(io.BytesIO(data)) and pass the image."
        )
    return f"load_image cannot read a value of type {kind}. {hint}"


def check_pixel_count(width: int, height: int, name: str, max_pixels: int) -> None:
    if width * height > max_pixels:
        raise CourseInputError(
            f"{capital(name)} is {width}×{height} = {width * height:,} pixels, more than the "
            f"{max_pixels:,} allowed; decoding it could fill the computer's memory (a file like this "
            "can be a 'decompression bomb'). Use a smaller picture (a few megapixels is plenty, the "
            "models work at 512×512 or less), or pass max_pixels=... if you trust the file."
        )


def open_file(source: str | os.PathLike, name: str, max_pixels: int) -> Image.Image:
    """Open, check and fully decode an image file."""
    img = _open_header(_existing_path(source, name), name)
    with img:
        if img.format == "EPS":
            raise CourseInputError(
                f"{capital(name)} is an EPS (PostScript) file, which needs Ghostscript to draw. "
                "Export the picture as PNG or JPEG and load that instead."
            )
        check_pixel_count(img.width, img.height, name, max_pixels)
        _decode_pixels(img, name)
        # Detach the decoded pixels (with palette and info) from the file, which `with` then closes.
        return img.copy()


def _existing_path(source: str | os.PathLike, name: str) -> Path:
    """The path of `source`, refused with a clear message when it is a web address, missing or a folder."""
    text = os.fspath(source)
    if isinstance(text, bytes):
        text = os.fsdecode(text)
    if text.startswith(("http://", "https://")):
        raise CourseInputError(
            f"{capital(name)} is a web address; load_image reads files on this computer. Download "
            "the picture first (right click, 'Save image as...') and pass the saved file's path."
        )
    path = Path(text).expanduser()
    if not path.exists():
        raise CourseInputError(
            f"{capital(name)} does not exist (looked for {path.absolute()}). Check the spelling, "
            "or give the full path; relative paths start from the notebook's folder "
            f"({Path.cwd()})."
        )
    if path.is_dir():
        raise CourseInputError(
            f"{capital(name)} is a folder, not an image. Pass the path of one picture inside it, "
            "e.g. Path(folder) / 'cat.jpg'."
        )
    return path


def _open_header(path: Path, name: str) -> Image.Image:
    """The image file opened lazily: Image.open reads only the header, so the size is known before
    any pixel is decoded."""
    try:
        return Image.open(path)
    except UnidentifiedImageError as err:
        raise CourseInputError(
            f"{capital(name)} is not a picture Pillow can read ({_sniff(path)}). Open it in an image "
            "viewer to check it, then save or export it as JPEG or PNG and try again."
        ) from err
    except Image.DecompressionBombError as err:
        raise CourseInputError(
            f"{capital(name)} claims a size above Pillow's safety limit ({err}). It is either "
            "broken or a 'decompression bomb'; use a smaller picture."
        ) from err
    except PermissionError as err:
        raise CourseInputError(
            f"{capital(name)} cannot be read: permission denied. Copy the picture somewhere you "
            "own (e.g. next to the notebook) and pass that path."
        ) from err
    except Exception as err:
        raise CourseInputError(
            f"{capital(name)} could not be opened as an image ({type(err).__name__}: {err}). The "
            "file may be damaged; save or export the picture again as JPEG or PNG and retry."
        ) from err


def _decode_pixels(img: Image.Image, name: str) -> None:
    """Decode every pixel now, so a truncated download fails here with a clear message instead of
    later, deep inside a model."""
    try:
        img.load()
    except (Image.DecompressionBombError, MemoryError) as err:
        raise CourseInputError(
            f"{capital(name)} is too large to decode in memory ({err}). Use a smaller picture."
        ) from err
    except Exception as err:
        raise CourseInputError(
            f"{capital(name)} is damaged or incomplete ({err}); it may be a download that "
            "did not finish. Download or copy the picture again, or re-save it in an image "
            "editor, and retry."
        ) from err


def _sniff(path: Path) -> str:
    """A short description of what a non-image file starts with."""
    try:
        with open(path, "rb") as f:
            head = f.read(64)
    except OSError:
        return "it could not be read"
    if not head:
        return "it is empty"
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        return f"it has {path.stat().st_size:,} bytes in no image format Pillow knows"
    first = text.strip().splitlines()[0][:40] if text.strip() else ""
    return f"it looks like text, starting with {first!r}"


def from_pil(source: Image.Image, name: str, max_pixels: int) -> Image.Image:
    """A decoded copy of an image already opened with PIL, after checking its pixel count."""
    check_pixel_count(source.width, source.height, name, max_pixels)
    try:
        source.load()
        return source.copy()
    except Exception as err:
        raise CourseInputError(
            f"{capital(name)} could not be decoded ({err}); the file it was opened from may be "
            "damaged or incomplete, or already closed. Load the file with cu.load_image(path) instead."
        ) from err
