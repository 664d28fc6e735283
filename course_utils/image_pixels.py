"""Pixels of every kind as 8-bit RGB: NumPy arrays and all of Pillow's pixel formats.

`load_image` turns whatever it is given into an 8-bit RGB (or RGBA) picture with these functions:
arrays of uint8, booleans, floats in [0, 1] or integers in 0..255; palette, grayscale, CMYK,
16-bit and 32-bit images (scaled by their value range, not clipped). A value that is not a picture
yet (NaN, floats in [-1, 1], a channels-first array) ends in a `CourseInputError` that says how to
fix it.

Taught in: chapter 1 (meeting MAU), through `cu.load_image`.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from .errors import CourseInputError
from .image_files import capital, check_pixel_count

__all__ = ["ALPHA_MODES", "from_array", "to_rgb"]

# Modes that carry an alpha channel of their own (others may carry a transparent colour instead).
ALPHA_MODES = {"RGBA", "RGBa", "LA", "La", "PA"}
SIXTEEN_BIT_MODES = {"I;16", "I;16L", "I;16B", "I;16N"}


def from_array(arr: np.ndarray, name: str, min_size: int, max_pixels: int) -> Image.Image:
    """Turn a (H, W), (H, W, 1), (H, W, 3) or (H, W, 4) array into an L, RGB or RGBA image."""
    _check_array_shape(arr)
    height, width = arr.shape[:2]
    if height < min_size or width < min_size:
        raise CourseInputError(
            f"The array is only {width}×{height} pixels; the course needs at least {min_size} "
            "pixels on each side. Use a larger picture, or pass min_size=... if you really want a tiny one."
        )
    check_pixel_count(width, height, name, max_pixels)
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    data = _as_uint8(arr)
    mode = "L" if data.ndim == 2 else {3: "RGB", 4: "RGBA"}[data.shape[2]]
    return Image.fromarray(np.ascontiguousarray(data), mode=mode)


def _check_array_shape(arr: np.ndarray) -> None:
    """Refuse an array that is not (H, W), (H, W, 1), (H, W, 3) or (H, W, 4), naming the likely mix-up."""
    shape_hint = (
        "Image arrays are (height, width) for gray, (height, width, 3) for RGB or "
        "(height, width, 4) for RGBA."
    )
    if arr.ndim == 3 and arr.shape[0] in (1, 3, 4) and arr.shape[2] not in (1, 3, 4):
        raise CourseInputError(
            f"The array has shape {arr.shape}, which looks channels-first (the torch layout). "
            f"{shape_hint} Use arr.transpose(1, 2, 0), or cu.to_pil(tensor) for a torch tensor."
        )
    if arr.ndim == 4 and arr.shape[0] == 1:
        raise CourseInputError(
            f"The array has shape {arr.shape}, a batch of one. {shape_hint} Use arr[0] (and "
            "arr[0].transpose(1, 2, 0) if the channels come first)."
        )
    if not (arr.ndim == 2 or (arr.ndim == 3 and arr.shape[2] in (1, 3, 4))):
        raise CourseInputError(f"The array has shape {arr.shape}. {shape_hint}")


def _as_uint8(arr: np.ndarray) -> np.ndarray:
    """The array's values as uint8 0..255: uint8 kept, booleans as 0/255, floats in [0, 1] scaled."""
    if arr.dtype == np.uint8:
        return arr
    if arr.dtype == np.bool_:
        return arr.astype(np.uint8) * 255
    if np.issubdtype(arr.dtype, np.floating):
        return _floats_as_uint8(arr)
    if np.issubdtype(arr.dtype, np.integer):
        return _integers_as_uint8(arr)
    raise CourseInputError(
        f"The array has dtype {arr.dtype}; images must be uint8 (0..255) or float (0 to 1). "
        "Convert it with arr.astype(np.uint8) or arr.astype(np.float32) after scaling."
    )


def _floats_as_uint8(arr: np.ndarray) -> np.ndarray:
    """Floats in [0, 1] as 0..255; NaN, infinite or out-of-range values are refused with a fix."""
    bad = ~np.isfinite(arr)
    if bad.any():
        nans = int(np.isnan(arr).sum())
        what = f"{nans:,} NaN values" if nans else f"{int(bad.sum()):,} infinite values"
        raise CourseInputError(
            f"The array has {what}: it is not a picture yet. This usually means a computation "
            "went wrong before (a division by zero, a diverged model). Check where the array "
            "comes from; np.nan_to_num(arr) replaces them if you must."
        )
    low, high = float(arr.min()), float(arr.max())
    tol = 1e-3
    if low < -tol or high > 1 + tol:
        if low >= -1 - tol and low < -tol and high <= 1 + tol:
            fix = "It looks like [-1, 1] (the model's range): use (arr + 1) / 2."
        elif low >= 0 and high <= 255 + tol:
            fix = "It looks like 0..255: use arr.astype(np.uint8), or arr / 255."
        else:
            fix = "Rescale it, e.g. (arr - arr.min()) / (arr.max() - arr.min())."
        raise CourseInputError(
            f"The array holds floats from {low:.4g} to {high:.4g}; float images must lie in "
            f"[0, 1]. {fix}"
        )
    return np.rint(np.clip(arr, 0.0, 1.0) * 255.0).astype(np.uint8)


def _integers_as_uint8(arr: np.ndarray) -> np.ndarray:
    """Integers in 0..255 as uint8; others are refused with a fix."""
    low, high = int(arr.min()), int(arr.max())
    if low < 0 or high > 255:
        sixteen_bit = 0 <= low and high <= 65535
        fix = "For 16-bit data use arr / 65535." if sixteen_bit else "Rescale it to 0..255."
        raise CourseInputError(
            f"The array holds {arr.dtype} values from {low} to {high}; integer images must "
            f"lie in 0..255 (uint8). {fix}"
        )
    return arr.astype(np.uint8)


def to_rgb(img: Image.Image, name: str, keep_alpha: bool) -> Image.Image:
    """Convert any Pillow mode to RGB, or RGBA when ``keep_alpha``."""
    mode = img.mode
    # Samples wider than 8 bits first: scale them, do not let Pillow clip them.
    if mode in SIXTEEN_BIT_MODES or mode in ("I", "F"):
        img = _wide_to_l(img, name)
        mode = "L"

    has_alpha = mode in ALPHA_MODES or "transparency" in img.info
    try:
        if has_alpha:
            rgba = img.convert("RGBA")
            if keep_alpha:
                return rgba
            white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
            return Image.alpha_composite(white, rgba).convert("RGB")
        rgb = img if mode == "RGB" else img.convert("RGB")
    except (ValueError, OSError) as err:
        raise CourseInputError(
            f"{capital(name)} uses the pixel format '{mode}', which could not be converted to RGB "
            f"({err}). Save it as an ordinary 8-bit RGB PNG or JPEG in an image editor and retry."
        ) from err
    return rgb.convert("RGBA") if keep_alpha else rgb


def _wide_to_l(img: Image.Image, name: str) -> Image.Image:
    """Scale a 16-bit, 32-bit integer or float grayscale image to 8-bit ``L``."""
    arr = np.asarray(img)
    if img.mode in SIXTEEN_BIT_MODES:
        # 65535 / 255 = 257: the full 16-bit range maps onto the full 8-bit range.
        out = np.rint(arr.astype(np.float64) / 257.0)
        return Image.fromarray(out.astype(np.uint8), mode="L")
    arr = arr.astype(np.float64)
    if not np.isfinite(arr).all():
        raise CourseInputError(
            f"{capital(name)} is a floating-point image with NaN or infinite values, so it has no "
            "colours to show. Check how the file was made, or replace the values with np.nan_to_num."
        )
    low, high = float(arr.min()), float(arr.max())
    if img.mode == "F" and low >= 0 and high <= 1:
        out = arr * 255.0  # floats in [0, 1]
    elif low >= 0 and high <= 255:
        out = arr  # 8-bit values in a wider container
    elif high > low:
        out = (arr - low) / (high - low) * 255.0  # stretch the value range onto 0..255
    else:
        out = np.zeros_like(arr)
    return Image.fromarray(np.rint(np.clip(out, 0, 255)).astype(np.uint8), mode="L")
