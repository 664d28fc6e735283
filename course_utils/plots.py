"""Figures and animations: rows of pictures, GIFs, and the frames of a denoising run.

Taught in: chapter 2 (Forward and reverse diffusion), where a picture dissolves into noise and a new
one condenses out of it; the helpers are reused wherever a chapter shows a row of pictures or an
animation.

Three kinds of helper live here:

- frames: `forward_frames` noises a picture to several timesteps in closed form (one fixed noise, so
  the frames blend smoothly), `decode_latents` turns latents into pictures with the VAE, and
  `record_denoising` runs the pipeline and keeps every step's latents, x̂_0 and decoded pictures;
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
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from . import checks, layout
from .diffusion import q_sample
from .errors import CourseInputError
from .images import load_image, to_pil, to_tensor
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


def _as_pil(picture, what: str = "picture") -> Image.Image:
    """A PIL RGB image from a PIL image, a NumPy array or a [-1, 1] tensor."""
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
    return layout.enlarge(_as_pil(picture), checks.whole("scale", scale, 1, 32, hint="e.g. scale=4."))


# --------------------------------------------------------------------------------------------
# Frames: the forward process, decoding, and a recorded reverse process
# --------------------------------------------------------------------------------------------


def forward_frames(
    picture,
    timesteps: Sequence[int] | torch.Tensor,
    alphas_cumprod: torch.Tensor,
    seed: int = 0,
    noise: torch.Tensor | None = None,
) -> list[Image.Image]:
    """
    The picture noised to each timestep in closed form, x_t = √ᾱ_t x_0 + √(1-ᾱ_t) ε, with ONE noise ε.

    Because every frame shares the same ε, the frames blend smoothly from the picture into that one
    noise pattern: the view a slider over t or an animation needs. (Fresh noise per frame would
    flicker; the distribution of each frame is the same either way.)

    Taught in: chapter 2 (Forward and reverse diffusion).

    Args:
        picture (`PIL.Image.Image`, `np.ndarray` or `torch.Tensor` of shape `(1, 3, H, W)` in [-1, 1]):
            The clean picture x_0.
        timesteps (sequence of `int` or `torch.LongTensor`):
            The timesteps to show, each from 0 to T-1, in any order.
        alphas_cumprod (`torch.Tensor` of shape `(T,)`):
            ᾱ_0 ... ᾱ_{T-1}, e.g. `NoiseSchedule.from_kind("scaled_linear").alphas_cumprod`.
        seed (`int`, defaults to 0):
            Seed of the noise ε (ignored when `noise` is given).
        noise (`torch.Tensor` of shape `(1, 3, H, W)`, *optional*):
            ε itself, to share one noise between several calls.

    Returns:
        `list[PIL.Image.Image]`: one picture per timestep, in the order of `timesteps`, clamped to [-1, 1].

    Raises:
        `CourseInputError`: for a timestep out of range, a noise of the wrong shape, or a bad picture.
    """
    x0 = picture if isinstance(picture, torch.Tensor) else to_tensor(_as_pil(picture))
    if x0.ndim == 3:
        x0 = x0.unsqueeze(0)
    if x0.ndim != 4 or x0.shape[0] != 1 or x0.shape[1] != 3:
        raise CourseInputError(
            f"picture must be one RGB picture, a tensor of shape (1, 3, H, W), got shape {tuple(x0.shape)}."
        )
    x0 = x0.float()
    if noise is None:
        seed = checks.whole("seed", seed, 0)
        noise = torch.randn(x0.shape, generator=torch.Generator().manual_seed(seed))
    ts = timesteps.tolist() if isinstance(timesteps, torch.Tensor) else list(timesteps)
    if not ts:
        raise CourseInputError("timesteps is empty: give at least one timestep, e.g. [0, 250, 500, 999].")
    # x_t = √ᾱ_t x_0 + √(1-ᾱ_t) ε, for each t (q_sample checks t, the noise's shape and the schedule)
    return [to_pil(q_sample(x0, int(t), noise, alphas_cumprod)) for t in ts]


@torch.no_grad()
def decode_latents(vae, latents: torch.Tensor, batch_size: int = 8) -> list[Image.Image]:
    """
    Latents to pictures with the VAE: x = decoder(z / scaling_factor), then [-1, 1] to pixels.

    The division undoes the scaling the pipeline applies after encoding (Stable Diffusion 1.x
    multiplies by 0.18215 so that latents have unit variance).

    Taught in: chapter 2 (Forward and reverse diffusion); chapter 4 takes the VAE apart.

    Args:
        vae (`diffusers.AutoencoderKL`): e.g. `pipe.vae`; its `config.scaling_factor` is used.
        latents (`torch.Tensor` of shape `(B, C, h, w)` or `(C, h, w)`): scaled latents, any device and dtype.
        batch_size (`int`, defaults to 8): how many latents to decode at once (bounds the memory used).

    Returns:
        `list[PIL.Image.Image]`: B pictures.

    Raises:
        `CourseInputError`: if `latents` is not a 3-D or 4-D tensor with the VAE's number of channels.
    """
    channels = int(vae.config.latent_channels)
    if not isinstance(latents, torch.Tensor) or latents.ndim not in (3, 4):
        got = tuple(latents.shape) if isinstance(latents, torch.Tensor) else type(latents).__name__
        raise CourseInputError(f"latents must be a tensor of shape (B, {channels}, h, w), got {got}.")
    if latents.ndim == 3:
        latents = latents.unsqueeze(0)
    if latents.shape[1] != channels:
        raise CourseInputError(
            f"latents must have {channels} channels (the VAE's latent_channels), got shape {tuple(latents.shape)}."
        )
    batch_size = checks.whole("batch_size", batch_size, 1)
    param = next(vae.parameters())
    out: list[Image.Image] = []
    for chunk in latents.split(batch_size):
        # x = D(z / s)
        z = chunk.to(param.device, param.dtype) / vae.config.scaling_factor
        out.extend(to_pil(p) for p in vae.decode(z).sample.float().cpu())
    return out


@dataclass
class DenoisingRun:
    """
    Everything a recorded denoising run kept, one entry per step (see `record_denoising`).

    Attributes:
        timesteps (`list[int]`): the timestep of each step, noisiest first.
        initial (`torch.Tensor` of shape `(1, C, h, w)`): the pure noise the run started from.
        latents (`list[torch.Tensor]`): the latents *after* each step, each `(1, C, h, w)`, CPU float32.
        pred_x0 (`list[torch.Tensor]`): the model's guess x̂_0 of the clean latents at each step.
        frames (`list[PIL.Image.Image]`): the decoded initial noise, then the decoded x_t after each step
            (so `len(frames) == len(timesteps) + 1`; the last frame is the finished picture).
        x0_frames (`list[PIL.Image.Image]`): the decoded x̂_0 of each step.
        image (`PIL.Image.Image`): the finished picture, as the pipeline returned it.
        params (`dict`): the parameters of the run (prompt, steps, guidance, seed, ...).
    """

    timesteps: list[int]
    initial: torch.Tensor
    latents: list[torch.Tensor]
    pred_x0: list[torch.Tensor]
    frames: list[Image.Image]
    x0_frames: list[Image.Image]
    image: Image.Image
    params: dict = field(default_factory=dict)


def record_denoising(
    prompt: str,
    pipe=None,
    steps: int | None = None,
    guidance: float | None = None,
    seed: int = 0,
    negative_prompt: str | None = None,
) -> DenoisingRun:
    """
    Make one picture from `prompt` and keep every step: the latents, the model's x̂_0, and both decoded.

    It calls `generate.text_to_image` with a step callback, so the picture is the same as the one
    `cu.text_to_image(prompt, seed=seed, ...)` makes. The initial noise is redrawn from the seed
    exactly as the pipeline drew it (one CPU generator per picture).

    Taught in: chapter 2 (Forward and reverse diffusion).

    Args:
        prompt (`str`): what to draw.
        pipe (`StableDiffusionPipeline`, *optional*): the pipeline; by default `cu.load_pipeline()`.
        steps (`int`, *optional*): denoising steps (default: the model's, 20 for the embedded model).
        guidance (`float`, *optional*): classifier-free guidance scale (default: the model's).
        seed (`int`, defaults to 0): the seed of the initial noise.
        negative_prompt (`str`, *optional*): what to steer away from.

    Returns:
        `DenoisingRun`

    Raises:
        `CourseInputError`: for a bad parameter, as `text_to_image` checks them.
    """
    from .generate import text_to_image  # generate imports models; keep `import plots` light

    timesteps: list[int] = []
    latents: list[torch.Tensor] = []
    pred_x0: list[torch.Tensor] = []

    def keep(i: int, t: int, x_t: torch.Tensor, x0: torch.Tensor | None) -> None:
        timesteps.append(int(t))
        latents.append(x_t[:1].clone())
        pred_x0.append(x_t[:1].clone() if x0 is None else x0[:1].clone())

    result = text_to_image(prompt, negative_prompt=negative_prompt, steps=steps, guidance=guidance,
                           seed=seed, pipe=pipe, callback=keep)
    pipe = pipe if pipe is not None else _default_pipe()
    # the pipeline's first latents: randn from a CPU generator seeded with `seed`, times init_noise_sigma
    shape = tuple(latents[0].shape)
    generator = torch.Generator("cpu").manual_seed(int(result.params["seed"]))
    initial = torch.randn(shape, generator=generator) * float(pipe.scheduler.init_noise_sigma)
    frames = decode_latents(pipe.vae, torch.cat([initial, *latents]))
    x0_frames = decode_latents(pipe.vae, torch.cat(pred_x0))
    return DenoisingRun(timesteps=timesteps, initial=initial, latents=latents, pred_x0=pred_x0, frames=frames,
                        x0_frames=x0_frames, image=result.image, params=result.params)


def _default_pipe():
    from .models import load_pipeline

    return load_pipeline(verbose=False)


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
    pics = [[_as_pil(p) for p in row] for row in rows]
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
    pics = _gif_frames([_as_pil(f, "each frame") for f in frames], scale, max_side)
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
