"""Loading pictures safely, converting between PIL, NumPy and torch, and laying out grids.

The course meets MAU, its cat, in chapter 1 and feeds MAU's photo (or the learner's own cat) to
the image-to-image pipeline from chapter 5 on. Every picture a learner brings goes through
`load_image`, which checks the file before the model ever sees it: a missing file, a text file
with a ``.jpg`` name, a truncated download or a decompression bomb all end in one
`CourseInputError` that says what was wrong and what to do. The checks on files live in
`image_files`, the conversion of arrays and pixel formats to RGB in `image_pixels`, the grid's
layout in `layout`.

Conventions used by every helper here:

- a PIL image is RGB (or RGBA when asked for), 8 bits per channel;
- a NumPy image is ``float32`` of shape ``(H, W, 3)`` with values in ``[0, 1]``;
- a torch image is ``float32`` of shape ``(1, 3, H, W)`` with values in ``[-1, 1]``, the range a
  Stable Diffusion VAE expects.
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Sequence
from numbers import Integral
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image, ImageOps

from . import checks, layout
from .errors import CourseInputError
from .image_files import capital, describe, from_pil, open_file, wrong_source_type
from .image_pixels import ALPHA_MODES, from_array, to_rgb
from .paths import ASSETS

if TYPE_CHECKING:
    import torch

__all__ = [
    "MAU_PATH",
    "fit_square",
    "image_grid",
    "load_image",
    "mau",
    "to_numpy",
    "to_pil",
    "to_tensor",
]

#: The course's photo of MAU (scikit-image's public-domain "chelsea"; see ``assets/CREDITS.md``).
MAU_PATH = ASSETS / "mau.jpg"

#: Environment variable that puts the learner's own cat in MAU's place.
CAT_PHOTO_ENV = "COURSE_CAT_PHOTO"

_WHITE = (255, 255, 255)


# ----------------------------------------------------------------------------------------------
# load_image
# ----------------------------------------------------------------------------------------------


def load_image(
    source: str | os.PathLike | Image.Image | np.ndarray,
    size: int | tuple[int, int] | None = None,
    keep_alpha: bool = False,
    min_size: int = 32,
    max_pixels: int = 50_000_000,
) -> Image.Image:
    r"""Load a picture from a file, a PIL image or a NumPy array, checked and converted to RGB.

    Taught in chapter 1 (meeting MAU) and used for every photo from chapter 5 (image-to-image) on.

    The picture is turned upright with its EXIF orientation (phones store portrait photos as
    rotated landscapes), and every mode Pillow can open is converted to 8-bit RGB: palette,
    grayscale, black-and-white, CMYK, YCbCr, LAB, HSV, 16-bit (scaled by 257, not clipped) and
    32-bit integer or floating-point images (scaled by their value range, see Notes). Transparent
    parts are laid on white unless ``keep_alpha`` is set.

    Args:
        source (`str`, `os.PathLike`, `PIL.Image.Image` or `np.ndarray`):
            A path to an image file, an image already opened with PIL, or an array of shape
            ``(H, W)``, ``(H, W, 1)``, ``(H, W, 3)`` or ``(H, W, 4)`` holding ``uint8`` values
            (integers in 0..255 are accepted in any integer dtype) or floats in ``[0, 1]``.
        size (`int` or `tuple[int, int]`, *optional*):
            ``None`` keeps the picture's size. An `int` resizes so that the longer side has that
            many pixels, keeping the aspect ratio. A ``(width, height)`` tuple resizes to exactly
            that size. Resizing uses Lanczos filtering.
        keep_alpha (`bool`, defaults to `False`):
            Return an RGBA image (opaque where the source had no transparency) instead of laying
            transparent parts on white.
        min_size (`int`, defaults to 32):
            Smallest width and height accepted, in pixels, checked before resizing.
        max_pixels (`int`, defaults to 50_000_000):
            Largest ``width * height`` accepted. A file's size is read from its header before any
            pixel is decoded, so a decompression bomb is refused without using memory. Pillow's
            own limit (``PIL.Image.MAX_IMAGE_PIXELS * 2``) still applies on top of this one.

    Returns:
        `PIL.Image.Image`: an ``RGB`` image, or ``RGBA`` when ``keep_alpha=True``. A new image
        that shares nothing with ``source``; for an animated file, its first frame.

    Raises:
        `CourseInputError`: for anything wrong with the input (missing file, folder, not an
        image, truncated or corrupt file, too small, too large, bad array, bad ``size``). The
        message names the file (or "the array" / "the image"), says what is wrong and what to do.

    Notes:
        Images with 32-bit samples (modes ``I`` and ``F``) have no fixed range. Floats in
        ``[0, 1]`` are multiplied by 255, values already in ``0..255`` are kept, and anything
        else is stretched from its minimum (black) to its maximum (white).

    Examples:
        >>> import course_utils as cu
        >>> img = cu.load_image(cu.MAU_PATH, size=256)
        >>> img.mode, max(img.size)
        ('RGB', 256)
    """
    # 1. Check the arguments that do not depend on the picture, so a typo fails at once.
    name = describe(source)
    checks.whole("min_size", min_size, 1, hint="32 suits the course's models.")
    checks.whole("max_pixels", max_pixels, 1, hint="The default is 50_000_000.")
    target = _check_size_argument(size, max_pixels)

    # Pillow reports odd files with warnings (a decompression-bomb warning, a palette with a
    # transparent colour, damaged EXIF data). Inside this function they are recorded, not shown:
    # what matters to the learner becomes a CourseInputError below.
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        # 2. A fully decoded PIL image, whatever the source, turned upright.
        img = _upright(_decode(source, name, min_size, max_pixels))
        # 3. Check its size.
        _check_min_size(img, name, min_size)
        # 4. Convert to 8-bit RGB (or RGBA), then resize.
        img = to_rgb(img, name, keep_alpha)
        if target is not None:
            img = _resize(img, target, size, name, max_pixels)
    return img


def _decode(source: Any, name: str, min_size: int, max_pixels: int) -> Image.Image:
    """A fully decoded PIL image from a path, a PIL image or an array."""
    if isinstance(source, (str, os.PathLike)):
        return open_file(source, name, max_pixels)
    if isinstance(source, Image.Image):
        return from_pil(source, name, max_pixels)
    if isinstance(source, np.ndarray):
        return from_array(source, name, min_size, max_pixels)
    raise CourseInputError(wrong_source_type(source))


def _upright(img: Image.Image) -> Image.Image:
    """The picture turned upright: EXIF orientation 6 means "rotate 90° clockwise to view"."""
    try:
        return ImageOps.exif_transpose(img)
    except Exception:  # damaged EXIF data must not stop a usable photo: keep it as stored
        return img


def _check_min_size(img: Image.Image, name: str, min_size: int) -> None:
    width, height = img.size
    if width < min_size or height < min_size:
        raise CourseInputError(
            f"{capital(name)} is only {width}×{height} pixels; the course needs at least "
            f"{min_size} pixels on each side. Use a larger picture (a phone photo is fine), or "
            f"pass min_size=... if you really want a tiny one."
        )


def _resize(img: Image.Image, target: tuple[str, Any], size: Any, name: str, max_pixels: int) -> Image.Image:
    """The picture resized (Lanczos) to `target`, refused when that would pass `max_pixels`."""
    new_size = _target_size(target, img.size)
    if new_size[0] * new_size[1] > max_pixels:
        raise CourseInputError(
            f"size={size!r} would make {name} {new_size[0]}×{new_size[1]} pixels, "
            f"more than max_pixels={max_pixels:,}. Pass a smaller size, e.g. size=512."
        )
    return img.resize(new_size, Image.Resampling.LANCZOS)


def _check_size_argument(size: Any, max_pixels: int) -> tuple[str, int | tuple[int, int]] | None:
    """Validate ``size``; return ("long", n), ("exact", (w, h)) or None."""
    if size is None:
        return None
    hint = "Pass an int (the longer side, e.g. size=512) or a (width, height) tuple (e.g. size=(512, 512))."
    if isinstance(size, Integral) and not isinstance(size, bool):
        if size < 1:
            raise CourseInputError(f"size must be at least 1 pixel, got size={size!r}. {hint}")
        return ("long", int(size))
    if isinstance(size, (tuple, list)) and len(size) == 2:
        if all(isinstance(s, Integral) and not isinstance(s, bool) and s >= 1 for s in size):
            w, h = int(size[0]), int(size[1])
            if w * h > max_pixels:
                raise CourseInputError(
                    f"size={tuple(size)!r} is too large: {w * h:,} pixels, more than "
                    f"max_pixels={max_pixels:,}. Pass a smaller size, e.g. size=512."
                )
            return ("exact", (w, h))
    raise CourseInputError(
        f"size must be None, a positive int or a (width, height) pair, got {size!r}. {hint}"
    )


def _target_size(target: tuple[str, Any], current: tuple[int, int]) -> tuple[int, int]:
    kind, value = target
    if kind == "exact":
        return value
    width, height = current
    scale = value / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))


# ----------------------------------------------------------------------------------------------
# MAU
# ----------------------------------------------------------------------------------------------


def mau(size: int | tuple[int, int] | None = None) -> Image.Image:
    r"""Load the photo of MAU, the course's cat, or the learner's own cat.

    Taught in chapter 1 (meeting MAU); used in every chapter that draws on a photo.

    MAU's photo is ``assets/mau.jpg``. A learner who sets the environment variable
    ``COURSE_CAT_PHOTO`` to the path of their own picture before starting JupyterLab gets that
    picture instead, in every notebook.

    Args:
        size (`int` or `tuple[int, int]`, *optional*):
            As in `load_image`: the longer side, or an exact ``(width, height)``.

    Returns:
        `PIL.Image.Image`: an RGB image.

    Raises:
        `CourseInputError`: if the photo is missing or cannot be read, with a hint naming
        ``COURSE_CAT_PHOTO`` when that is where the path came from.

    Examples:
        >>> import course_utils as cu
        >>> cu.mau(size=256).size
        (256, 170)
    """
    own = os.environ.get(CAT_PHOTO_ENV, "").strip()
    if own:
        try:
            return load_image(own, size=size)
        except CourseInputError as err:
            raise CourseInputError(
                f"{err} (This path comes from the environment variable {CAT_PHOTO_ENV}; fix it, or "
                f"unset it to use MAU's photo.)"
            ) from None
    if not MAU_PATH.exists():
        raise CourseInputError(
            f"MAU's photo is missing: {MAU_PATH} does not exist. Restore it with "
            "`git checkout assets/mau.jpg`, or recreate it with `python assets/make_assets.py`."
        )
    return load_image(MAU_PATH, size=size)


# ----------------------------------------------------------------------------------------------
# Conversions
# ----------------------------------------------------------------------------------------------


def _rgb(img: Image.Image | np.ndarray, what: str) -> Image.Image:
    """Any picture load_image accepts, as RGB, with no minimum size."""
    if not isinstance(img, (Image.Image, np.ndarray)):
        raise CourseInputError(
            f"{what} expects a PIL image or a NumPy array, got a {type(img).__name__}. "
            "Load a file with cu.load_image(path) first."
        )
    return load_image(img, min_size=1)


def to_tensor(img: Image.Image | np.ndarray) -> torch.Tensor:
    r"""Turn a picture into the tensor a diffusion model's VAE expects.

    Taught in chapter 4 (the generation pipeline), where MAU's photo enters the VAE.

    Args:
        img (`PIL.Image.Image` or `np.ndarray`):
            The picture; any mode or array `load_image` accepts (transparency is laid on white).

    Returns:
        `torch.FloatTensor` of shape ``(1, 3, H, W)``: values in ``[-1, 1]``, ``float32``, on the CPU.

    Examples:
        >>> x = cu.to_tensor(cu.mau(size=64))
        >>> x.shape, x.min() >= -1, x.max() <= 1
        (torch.Size([1, 3, 43, 64]), tensor(True), tensor(True))
    """
    import torch

    arr = to_numpy(_rgb(img, "to_tensor"))
    # x = 2 · p − 1 maps pixel values p ∈ [0, 1] onto the model's range [-1, 1].
    x = torch.from_numpy(arr).permute(2, 0, 1).unsqueeze(0)
    return (x * 2.0 - 1.0).contiguous()


def to_pil(tensor: torch.Tensor) -> Image.Image:
    r"""Turn a model's image tensor back into a PIL picture.

    Taught in chapter 4 (the generation pipeline), after the VAE decodes the latents.

    Args:
        tensor (`torch.Tensor` of shape ``(3, H, W)`` or ``(1, 3, H, W)``):
            Values in ``[-1, 1]``; values outside are clamped (a decoder overshoots a little).
            Any dtype and device.

    Returns:
        `PIL.Image.Image`: an RGB image of size ``(W, H)``.

    Raises:
        `CourseInputError`: for another shape, a batch of several images, or NaN values.
    """
    import torch

    if not isinstance(tensor, torch.Tensor):
        hint = "for a NumPy array use cu.load_image(arr)" if isinstance(tensor, np.ndarray) else ""
        raise CourseInputError(
            f"to_pil expects a torch tensor of shape (3, H, W) or (1, 3, H, W), got a "
            f"{type(tensor).__name__}{'; ' + hint if hint else ''}."
        )
    shape = tuple(tensor.shape)
    if tensor.ndim == 4 and shape[0] > 1 and shape[1] == 3:
        raise CourseInputError(
            f"to_pil got a batch of {shape[0]} images {shape}; it turns one image into a picture. "
            "Use cu.to_pil(batch[i]) for one, or cu.image_grid(batch) for all of them."
        )
    if tensor.ndim == 4 and shape[0] == 1:
        tensor = tensor[0]
    if tensor.ndim != 3 or tensor.shape[0] != 3:
        raise CourseInputError(
            f"to_pil expects a tensor of shape (3, H, W) or (1, 3, H, W), got {shape}. A VAE's "
            "latents (4 channels) must be decoded first with vae.decode(latents / scaling_factor)."
        )
    x = tensor.detach().to("cpu", torch.float32)
    if torch.isnan(x).any():
        raise CourseInputError(
            "to_pil got a tensor with NaN values: the computation that made it went wrong "
            "(on a CPU, often float16; use float32). Check the step before this one."
        )
    # p = (x + 1) / 2 maps the model's range [-1, 1] back onto pixel values [0, 1].
    x = ((x.clamp(-1.0, 1.0) + 1.0) / 2.0 * 255.0).round().to(torch.uint8)
    return Image.fromarray(x.permute(1, 2, 0).contiguous().numpy(), mode="RGB")


def to_numpy(img: Image.Image | np.ndarray) -> np.ndarray:
    r"""Turn a picture into a float NumPy array, the form used for plots and pixel arithmetic.

    Taught in chapter 2 (how diffusion works), where noise is added to MAU's pixels by hand.

    Args:
        img (`PIL.Image.Image` or `np.ndarray`):
            The picture; any mode or array `load_image` accepts (transparency is laid on white).

    Returns:
        `np.ndarray` of shape ``(H, W, 3)``: ``float32`` values in ``[0, 1]``.
    """
    rgb = _rgb(img, "to_numpy")
    return np.asarray(rgb, dtype=np.float32) / np.float32(255.0)


def fit_square(img: Image.Image | np.ndarray, size: int) -> Image.Image:
    r"""Crop the centre square of a picture and resize it to ``size × size``.

    Taught in chapter 5 (image-to-image): Stable Diffusion works best on square pictures whose
    side is a multiple of 8, such as 512.

    Args:
        img (`PIL.Image.Image` or `np.ndarray`):
            The picture; any mode or array `load_image` accepts. RGBA stays RGBA, any other
            mode becomes RGB.
        size (`int`):
            Side of the square result, in pixels.

    Returns:
        `PIL.Image.Image` of size ``(size, size)``.
    """
    checks.whole("size", size, 1, hint="It is the side of the square, e.g. fit_square(img, 512).")
    if not isinstance(img, (Image.Image, np.ndarray)):
        _rgb(img, "fit_square")  # raises the usual "expects a PIL image" error
    keep_alpha = isinstance(img, Image.Image) and img.mode in ALPHA_MODES
    pic = load_image(img, keep_alpha=keep_alpha, min_size=1)
    return ImageOps.fit(pic, (int(size), int(size)), Image.Resampling.LANCZOS, centering=(0.5, 0.5))


# ----------------------------------------------------------------------------------------------
# Grids
# ----------------------------------------------------------------------------------------------


def _as_pil_list(images: Any) -> list[Image.Image]:
    """Accept PIL images, arrays, (3,H,W)/(1,3,H,W) tensors, or an (N,3,H,W) batch tensor."""
    if type(images).__module__.startswith("torch") and getattr(images, "ndim", 0) == 4:
        return [to_pil(t) for t in images]
    if isinstance(images, (Image.Image, np.ndarray)) or type(images).__module__.startswith("torch"):
        images = [images]
    if not isinstance(images, Sequence) or isinstance(images, (str, bytes)):
        raise CourseInputError(
            f"image_grid expects a list of pictures, got a {type(images).__name__}. "
            "Pass e.g. [img1, img2, img3]."
        )
    out = []
    for i, item in enumerate(images):
        if isinstance(item, Image.Image) or isinstance(item, np.ndarray):
            try:
                out.append(load_image(item, min_size=1))
            except CourseInputError as err:
                raise CourseInputError(f"image_grid: picture number {i} is not usable: {err}") from None
        elif type(item).__module__.startswith("torch"):
            out.append(to_pil(item))
        else:
            raise CourseInputError(
                f"image_grid: picture number {i} is a {type(item).__name__}, not a picture. Pass PIL "
                "images, NumPy arrays or torch tensors."
            )
    return out


def image_grid(
    images: Sequence[Image.Image | np.ndarray | torch.Tensor],
    cols: int | None = None,
    labels: Sequence[str] | None = None,
    pad: int = 2,
    bg: tuple[int, int, int] = _WHITE,
) -> Image.Image:
    r"""Lay pictures out in a grid, with an optional label under each one.

    Taught in chapter 7 (the parameters), where one grid shows MAU at several guidance scales.

    Pictures of different sizes are centred in cells as large as the largest picture.

    Args:
        images (`list` of `PIL.Image.Image`, `np.ndarray` or `torch.Tensor`):
            The pictures, in reading order. Arrays follow `load_image`, tensors follow `to_pil`;
            an ``(N, 3, H, W)`` batch tensor is split into its N pictures.
        cols (`int`, *optional*):
            Number of columns; by default the grid is as square as possible.
        labels (`list[str]`, *optional*):
            One caption per picture, drawn under it in Pillow's default font (long captions are
            wrapped onto two lines and shortened with "…").
        pad (`int`, defaults to 2):
            Space between pictures and around the grid, in pixels.
        bg (`tuple[int, int, int]`, defaults to white):
            Background colour; labels are drawn in black or white, whichever reads better on it.

    Returns:
        `PIL.Image.Image`: one RGB picture.

    Examples:
        >>> tiles = [cu.mau(size=128) for _ in range(4)]
        >>> cu.image_grid(tiles, cols=2, labels=["a", "b", "c", "d"]).mode
        'RGB'
    """
    # 1. Check the arguments.
    pics = _as_pil_list(images)
    n = len(pics)
    if n == 0:
        raise CourseInputError("image_grid got an empty list: pass at least one picture.")
    cols = math.ceil(math.sqrt(n)) if cols is None else checks.whole("cols", cols, 1, hint="e.g. cols=4.")
    pad = checks.whole("pad", pad, 0, hint="It is in pixels, e.g. pad=2.")
    bg = checks.colour("bg", bg)
    _check_labels(labels, n)
    # 2. Lay them out.
    return layout.grid(pics, min(cols, n), labels, pad, bg)


def _check_labels(labels: Any, n: int) -> None:
    if labels is None:
        return
    if isinstance(labels, str) or not isinstance(labels, Sequence):
        raise CourseInputError(
            f"labels must be a list with one caption per picture, got {type(labels).__name__}; "
            'e.g. labels=["steps=10", "steps=50"].'
        )
    if len(labels) != n:
        raise CourseInputError(
            f"image_grid got {n} pictures but {len(labels)} labels: give one label per picture "
            "(use \"\" for a picture without one)."
        )


def picture_list(frames, what: str) -> list[Image.Image]:
    """`frames` (a non-empty list of PIL images or NumPy arrays) as RGB PIL images; `what` names them in errors."""
    if isinstance(frames, (str, bytes)) or not isinstance(frames, Sequence) or len(frames) == 0:
        raise CourseInputError(f"{what} must be a non-empty list of pictures.")
    out = []
    for i, f in enumerate(frames):
        if isinstance(f, Image.Image):
            out.append(f.convert("RGB"))
        elif isinstance(f, np.ndarray):
            out.append(load_image(f, min_size=1))
        else:
            raise CourseInputError(f"{what}: item {i} is a {type(f).__name__}, not a PIL image or a NumPy array.")
    return out


def as_pil(picture, what: str = "picture") -> Image.Image:
    """A PIL RGB image from a PIL image, a NumPy array or a [-1, 1] tensor; `what` names it in errors."""
    import torch

    if isinstance(picture, Image.Image):
        return picture if picture.mode == "RGB" else picture.convert("RGB")
    if isinstance(picture, torch.Tensor):
        return to_pil(picture)
    if isinstance(picture, np.ndarray):
        return load_image(picture, min_size=1)
    raise CourseInputError(
        f"{what} must be a PIL image, a NumPy array or a torch tensor of shape (3, H, W) in [-1, 1], "
        f"got a {type(picture).__name__}."
    )
