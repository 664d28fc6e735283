"""The generation pipeline seen one part at a time: stage timings, latents as pictures, a film of
the steps, and what an upscaler adds.

Taught in: chapter 4 (The generation pipeline, step by step), on both paths. The technical path
rebuilds the text-to-image call by hand and times its stages with `StageTimer`; the practical path
watches a run step by step with `film_strip`, `settling` and `step_explorer`. Both look at a
latent with `show_latent` and compare upscalers with `upscale`, `sharpness` and `psnr`; on a CUDA
GPU, `upscale_x4` runs Stable Diffusion's x4 upscaler, a second diffusion model.

Pictures follow the conventions of `course_utils.images`: PIL RGB images, or NumPy ``float32``
arrays ``(H, W, 3)`` in ``[0, 1]``.
"""

from __future__ import annotations

import contextlib
import math
import statistics
import time
from collections.abc import Iterator, Sequence
from numbers import Integral

import numpy as np
import torch
from PIL import Image

from .errors import CourseInputError
from .images import image_grid, picture_list, to_numpy
from .upscaling import UPSCALE_METHODS, UPSCALER_ID, load_upscaler, psnr, sharpness, upscale, upscale_x4

__all__ = [
    "StageTimer",
    "UPSCALE_METHODS",
    "UPSCALER_ID",
    "film_strip",
    "load_upscaler",
    "psnr",
    "settling",
    "settling_chart",
    "sharpness",
    "show_latent",
    "step_explorer",
    "upscale",
    "upscale_x4",
]


# --------------------------------------------------------------------------------------------
# Timing the stages of a pipeline
# --------------------------------------------------------------------------------------------


class StageTimer:
    """
    Wall-clock times of the named stages of a pipeline, over several runs.

    Call `new_run` before each run, and wrap each stage in ``with timer("name"):``. A stage may run
    several times in one run (the U-Net runs once per step): its calls are kept one by one, and
    its *per-run* time is their sum. Medians over runs leave out a run slowed down by something
    else on the machine.

    Taught in: chapter 4 (The generation pipeline, step by step), technical path.

    Example:
        >>> timer = StageTimer()
        >>> for _ in range(3):
        ...     timer.new_run()
        ...     with timer("encode"):
        ...         pass
        >>> timer.runs
        3
    """

    def __init__(self) -> None:
        self._runs: list[dict[str, list[float]]] = []
        self.order: list[str] = []  # stage names, in the order they first ran

    def new_run(self) -> None:
        """Start a new run: the stages timed from now on belong to it."""
        self._runs.append({})

    @contextlib.contextmanager
    def __call__(self, stage: str) -> Iterator[None]:
        """Time the block inside ``with timer(stage):`` and add it to the current run."""
        if not isinstance(stage, str) or not stage:
            raise CourseInputError(f"stage must be a non-empty name (str), got {stage!r}; e.g. timer('unet').")
        if not self._runs:
            self.new_run()
        t0 = time.perf_counter()
        try:
            yield
        finally:
            seconds = time.perf_counter() - t0
            self._runs[-1].setdefault(stage, []).append(seconds)
            if stage not in self.order:
                self.order.append(stage)

    @property
    def runs(self) -> int:
        """How many runs were started."""
        return len(self._runs)

    def _check(self, stage: str) -> None:
        if stage not in self.order:
            raise CourseInputError(f"no stage called {stage!r} was timed; timed stages: {self.order or 'none yet'}.")

    def calls(self, stage: str) -> list[float]:
        """Seconds of every call of `stage`, over all runs."""
        self._check(stage)
        return [s for run in self._runs for s in run.get(stage, [])]

    def per_run(self, stage: str) -> list[float]:
        """Seconds spent in `stage` in each run that timed it (the sum of its calls)."""
        self._check(stage)
        return [sum(run[stage]) for run in self._runs if stage in run]

    def median_call(self, stage: str) -> float:
        """Median seconds of one call of `stage`."""
        return statistics.median(self.calls(stage))

    def median_per_run(self, stage: str) -> float:
        """Median seconds per run spent in `stage`."""
        return statistics.median(self.per_run(stage))

    def table(self) -> list[dict]:
        """
        One row per stage, in the order they first ran: ``stage``, ``calls_per_run``,
        ``ms_per_call`` and ``ms_per_run`` (medians) and ``share`` (of the sum of ``ms_per_run``).
        """
        if not self.order:
            raise CourseInputError("nothing was timed yet: wrap some work in `with timer('name'):` first.")
        rows = []
        for stage in self.order:
            counts = [len(run[stage]) for run in self._runs if stage in run]
            rows.append(dict(stage=stage, calls_per_run=statistics.median(counts),
                             ms_per_call=1000 * self.median_call(stage),
                             ms_per_run=1000 * self.median_per_run(stage)))
        total = sum(r["ms_per_run"] for r in rows) or 1.0
        for r in rows:
            r["share"] = r["ms_per_run"] / total
        return rows


# --------------------------------------------------------------------------------------------
# Latents as pictures
# --------------------------------------------------------------------------------------------


def _check_latent(latents, channels: int | None = None) -> torch.Tensor:
    if not isinstance(latents, torch.Tensor):
        raise CourseInputError(f"latents must be a torch tensor of shape (1, C, h, w), got a {type(latents).__name__}.")
    z = latents.detach().float().cpu()
    if z.ndim == 4 and z.shape[0] == 1:
        z = z[0]
    if z.ndim != 3:
        raise CourseInputError(
            f"latents must be ONE latent, of shape (1, C, h, w) or (C, h, w), got shape {tuple(latents.shape)}; "
            "for a batch, pass latents[i:i+1].")
    if channels is not None and z.shape[0] != channels:
        raise CourseInputError(f"latents must have {channels} channels (the VAE's latent_channels), "
                               f"got shape {tuple(latents.shape)}.")
    if not torch.isfinite(z).all():
        raise CourseInputError("latents hold NaN or infinite values: the step that made them went wrong.")
    return z


@torch.no_grad()
def show_latent(latents: torch.Tensor, vae, title: str | None = None, size: float = 2.0):
    """
    A figure of one latent: each channel as a greyscale picture on one shared scale, and the picture
    the VAE decodes from it.

    Grey is 0; white and black are the largest positive and negative values of the four channels
    (one scale for all, so that the channels can be compared). The colour bar gives the values.

    Taught in: chapter 4 (The generation pipeline, step by step).

    Args:
        latents (`torch.Tensor` of shape `(1, C, h, w)` or `(C, h, w)`): scaled latents, as the
            denoising loop holds them (the decoder receives them divided by the VAE's scaling factor).
        vae (`diffusers.AutoencoderKL`): the pipeline's VAE, e.g. `pipe.vae`.
        title (`str`, *optional*): a title over the figure.
        size (`float`, defaults to 2.0): the width of one panel, in inches (0.5 to 6).

    Returns:
        `matplotlib.figure.Figure` (closed in pyplot: a cell shows it when it is the cell's last value).

    Raises:
        `CourseInputError`: for a tensor that is not one latent with the VAE's number of channels.
    """
    import matplotlib.pyplot as plt

    from .plots import decode_latents

    z = _check_latent(latents, int(vae.config.latent_channels))
    if isinstance(size, bool) or not isinstance(size, int | float) or not 0.5 <= size <= 6:
        raise CourseInputError(f"size must be a number of inches from 0.5 to 6, got {size!r}.")
    picture = decode_latents(vae, z.unsqueeze(0))[0]
    c, h, w = z.shape
    limit = float(z.abs().max()) or 1.0
    fig, axes = plt.subplots(1, c + 1, figsize=(size * (c + 1) + 0.8, size + 0.75), layout="constrained")
    for k in range(c):
        im = axes[k].imshow(z[k].numpy(), cmap="gray", vmin=-limit, vmax=limit, interpolation="nearest")
        axes[k].set_title(f"channel {k}\n{float(z[k].min()):+.2f} to {float(z[k].max()):+.2f}", fontsize=9)
        axes[k].set(xticks=[], yticks=[])
    axes[0].set_ylabel(f"{h} × {w} latent pixels", fontsize=9)
    fig.colorbar(im, ax=axes[:c], shrink=0.8, label="latent value (unitless)")
    axes[c].imshow(np.asarray(picture), interpolation="nearest")
    axes[c].set_title(f"decoded\n{picture.width} × {picture.height} × 3 pixels", fontsize=9)
    axes[c].set(xticks=[], yticks=[])
    if title:
        fig.suptitle(title, fontsize=11)
    plt.close(fig)
    return fig


# --------------------------------------------------------------------------------------------
# A run, step by step
# --------------------------------------------------------------------------------------------


def film_strip(frames: Sequence, labels: Sequence[str] | None = None, cols: int = 10, thumb: int = 128) -> Image.Image:
    """
    Frames laid out like a film strip: rows of `cols` pictures, each shown `thumb` pixels wide
    (small frames are enlarged with crisp pixels, large ones shrunk smoothly), with its label
    underneath.

    Taught in: chapter 4 (The generation pipeline, step by step), practical path.

    Args:
        frames (list of PIL images or NumPy arrays): the frames, in order.
        labels (list of `str`, *optional*): one label per frame (default: "1", "2", ...).
        cols (`int`, defaults to 10): frames per row, 1 to 40.
        thumb (`int`, defaults to 128): the width of each shown frame in pixels, 16 to 512.

    Returns:
        `PIL.Image.Image`: one RGB picture.
    """
    pics = picture_list(frames, "frames")
    for name, v, lo, hi in (("cols", cols, 1, 40), ("thumb", thumb, 16, 512)):
        if isinstance(v, bool) or not isinstance(v, Integral) or not lo <= v <= hi:
            raise CourseInputError(f"{name} must be a whole number from {lo} to {hi}, got {v!r}.")
    labels = [str(i + 1) for i in range(len(pics))] if labels is None else list(labels)
    if len(labels) != len(pics):
        raise CourseInputError(f"got {len(pics)} frames but {len(labels)} labels: give one label per frame.")
    shown = []
    for p in pics:
        size = (int(thumb), max(1, round(p.height * thumb / p.width)))
        filt = Image.Resampling.NEAREST if thumb >= p.width else Image.Resampling.LANCZOS
        shown.append(p.resize(size, filt))
    return image_grid(shown, cols=min(int(cols), len(shown)), labels=labels, pad=3)


def _coarse_and_detail(a: np.ndarray, block: int) -> tuple[np.ndarray, np.ndarray]:
    """Split a picture into its block averages (the layout) and what is left (the detail)."""
    h, w = a.shape[0] // block * block, a.shape[1] // block * block
    a = a[:h, :w]
    coarse = a.reshape(h // block, block, w // block, block, -1).mean(axis=(1, 3))
    blocky = np.repeat(np.repeat(coarse, block, axis=0), block, axis=1)
    return coarse, a - blocky


def _resemblance(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson correlation of two arrays: 1 when one is the other rescaled, 0 when unrelated."""
    a = a.ravel().astype(np.float64) - a.mean()
    b = b.ravel().astype(np.float64) - b.mean()
    denom = math.sqrt(float(a @ a) * float(b @ b))
    if denom == 0.0:  # a flat layer: it resembles the other only if that one is flat too
        return float(np.allclose(a, b))
    return float(a @ b) / denom


def settling(frames: Sequence, final=None, block: int = 8) -> dict[str, np.ndarray]:
    """
    How much of the finished picture each frame of a run already shows, at two scales: the
    **layout** (averages over `block` × `block` squares: where the big shapes and colours are) and
    the **detail** (the picture minus those averages: edges, stripes, texture).

    Each value is the correlation between the frame and the final picture at that scale: 1 when
    that scale of the frame matches the final one (up to contrast), near 0 when it shows nothing
    of it. A curve that rises early means that scale was decided early.

    Taught in: chapter 4 (The generation pipeline, step by step), practical path.

    Args:
        frames (list of PIL images or NumPy arrays): the frames, all of one size, noisiest first.
        final (PIL image or NumPy array, *optional*): the finished picture (default: the last frame).
        block (`int`, defaults to 8): the side of the squares, in pixels (2 to the picture's side).

    Returns:
        `dict` with ``"layout"`` and ``"detail"``: arrays with one value per frame, at most 1.
    """
    pics = picture_list(frames, "frames")
    end = pics[-1] if final is None else picture_list([final], "final")[0]
    if len({p.size for p in [*pics, end]}) != 1:
        raise CourseInputError("all frames and the final picture must have the same size.")
    side = min(end.size)
    if isinstance(block, bool) or not isinstance(block, Integral) or not 2 <= block <= side:
        raise CourseInputError(f"block must be a whole number of pixels from 2 to {side}, got {block!r}.")
    end_c, end_d = _coarse_and_detail(to_numpy(end), int(block))
    layout, detail = [], []
    for p in pics:
        c, d = _coarse_and_detail(to_numpy(p), int(block))
        layout.append(_resemblance(c, end_c))
        detail.append(_resemblance(d, end_d))
    return {"layout": np.array(layout), "detail": np.array(detail)}


def settling_chart(curves: dict[str, np.ndarray], threshold: float = 0.9):
    """
    The two curves of `settling` against the pass, with the first pass at which each reaches
    `threshold` marked. Returns the figure and ``{"layout": pass or None, "detail": pass or None}``.

    Taught in: chapter 4 (The generation pipeline, step by step), practical path.
    """
    import matplotlib.pyplot as plt

    if not isinstance(curves, dict) or set(curves) != {"layout", "detail"}:
        raise CourseInputError("curves must be what cu.pipeline.settling returns: {'layout': ..., 'detail': ...}.")
    passes = np.arange(1, len(curves["layout"]) + 1)
    fig, ax = plt.subplots(figsize=(8, 3.6))
    first = {}
    layers = {"layout": ("tab:blue", "8 × 8 averages", 0.55), "detail": ("tab:orange", "finer than 8 × 8", 0.35)}
    for name, (colour, what, text_y) in layers.items():
        ax.plot(passes, curves[name], "o-", ms=4, color=colour, label=f"{name} ({what})")
        first[name] = next((int(i) + 1 for i, v in enumerate(curves[name]) if v >= threshold), None)
        if first[name]:
            ax.annotate(f"{name}: {threshold:g} at pass {first[name]}", (first[name], threshold),
                        xytext=(first[name] + 0.6, text_y), color=colour, fontsize=9,
                        arrowprops=dict(arrowstyle="->", color=colour))
    ax.axhline(threshold, color="grey", ls="--", lw=0.8)
    ax.set(title="How much of the finished picture the guess already shows", xlabel="pass",
           ylabel="resemblance (0 = none, 1 = same)", ylim=(min(0, curves["detail"].min()) - 0.05, 1.05),
           xticks=list(passes))
    ax.legend(loc="lower right", fontsize=9)
    fig.tight_layout()
    plt.close(fig)
    return fig, first


def step_explorer(run, scale: int = 3):
    """
    A slider over the steps of a recorded run: the canvas (the noisy latent, decoded) and the
    model's guess of the finished picture, side by side. Step 0 is the pure noise the run started
    from; the last step is the finished picture.

    Every frame is already in `run`, so moving the slider only shows a stored picture.

    Taught in: chapter 4 (The generation pipeline, step by step), practical path.

    Args:
        run (`course_utils.plots.DenoisingRun`): from `cu.plots.record_denoising(...)`.
        scale (`int`, defaults to 3): how many times to enlarge the pictures on screen (frames larger
            than 256 pixels are shown as they are).

    Returns:
        `course_utils.widgets.ImageExplorer` with one control, ``"step"``
        (``explorer.controls["step"].value = 5`` moves it from code).
    """
    from .widgets import ImageExplorer, slider

    needed = ("frames", "x0_frames", "timesteps")
    if not all(hasattr(run, a) for a in needed):
        raise CourseInputError("run must be a recorded run, from cu.plots.record_denoising(prompt, ...).")
    n = len(run.timesteps)
    if n < 1 or len(run.frames) != n + 1 or len(run.x0_frames) != n:
        raise CourseInputError(f"run holds {len(run.frames)} canvas frames and {len(run.x0_frames)} guesses for "
                               f"{n} steps; expected {n + 1} and {n}.")
    scale = max(1, min(int(scale), 256 // max(run.frames[0].size)))  # big frames (512 px) are not enlarged
    blank = Image.new("RGB", run.frames[0].size, (255, 255, 255))
    pairs = [image_grid([run.frames[0], blank], cols=2, labels=["canvas", "no guess yet"])]
    pairs += [image_grid([run.frames[i + 1], run.x0_frames[i]], cols=2, labels=["canvas", "guess"])
              for i in range(n)]

    def render(step):
        return pairs[step]

    def caption(step):
        if step == 0:
            return "step 0: the pure noise the run starts from"
        return f"step {step} of {n} (noise level t = {run.timesteps[step - 1]})"

    return ImageExplorer(render, {"step": slider("step", 0, 0, n, 1)}, scale=scale, caption=caption,
                         title="Scrub through the steps")
