"""Chapter 1's pictures: rows of samples, a grid of them, and how each family paints one cat.

Cats are drawn black on white, with grey where a model is unsure.

Taught in: chapter 1 (A short history of generative models).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from PIL import Image

from .. import checks
from ..layout import enlarge
from .autoregressive import sample_autoregressive
from .data import check_images
from .ddpm import sample_diffusion
from .gan import sample_gan
from .training import Trained

__all__ = ["painting_figure", "sample_grid", "picture_rows"]


def picture_rows(rows: dict[str, torch.Tensor], n: int = 10, title: str | None = None,
                 titles: list[str] | None = None, size: float = 0.85):
    """
    One figure with a row of `n` pictures for each entry of `rows` (label -> (N, 1, H, W) in [0, 1]).

    Cats are drawn black on white, with grey where a model is unsure. Taught in: chapter 1.

    Args:
        rows (`dict[str, torch.Tensor]`): the row labels and their pictures.
        n (`int`, defaults to 10): pictures per row.
        title (`str`, *optional*): the figure's title.
        titles (`list[str]`, *optional*): a title over each column of the first row.
        size (`float`, defaults to 0.85): inches per picture.

    Returns:
        `matplotlib.figure.Figure`.
    """
    import matplotlib.pyplot as plt

    head = (0.45 if title else 0.05) + (0.3 if titles else 0.0)  # inches above the pictures
    fig_w, fig_h = n * size + 1.8, len(rows) * size + head + 0.05
    fig, axes = plt.subplots(len(rows), n, figsize=(fig_w, fig_h), squeeze=False)
    for r, (label, pics) in enumerate(rows.items()):
        pics = check_images(pics, f"rows[{label!r}]")
        for c in range(n):
            ax = axes[r, c]
            if c < len(pics):
                ax.imshow(pics[c, 0].numpy(), cmap="gray_r", vmin=0, vmax=1, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            for spine in ax.spines.values():
                spine.set_color("#bbbbbb")
        axes[r, 0].set_ylabel(label, rotation=0, ha="right", va="center", fontsize=10)
    for ax, text in zip(axes[0], titles or []):
        ax.set_title(text, fontsize=9)
    if title:
        fig.suptitle(title, fontsize=12, y=1 - 0.08 / fig_h)
    fig.subplots_adjust(left=1.7 / fig_w, right=1 - 0.05 / fig_w, wspace=0.08, hspace=0.08,
                        top=1 - head / fig_h, bottom=0.05 / fig_h)
    return fig


def sample_grid(pictures: torch.Tensor, cols: int = 8, scale: int = 6, pad: int = 1) -> Image.Image:
    """
    Pictures (N, 1, H, W) in [0, 1] as one PIL image: black cats on white, enlarged `scale` times with
    crisp pixels, `pad` white pixels between them (before enlarging). Taught in: chapter 1.
    """
    x = check_images(pictures).clamp(0, 1)
    cols = checks.whole("cols", cols, 1, 1000)
    scale = checks.whole("scale", scale, 1, 64)
    n, _, h, w = x.shape
    rows = math.ceil(n / cols)
    canvas = torch.zeros(rows * (h + pad) + pad, min(cols, n) * (w + pad) + pad)
    for i in range(n):
        r, c = divmod(i, cols)
        canvas[pad + r * (h + pad): pad + r * (h + pad) + h, pad + c * (w + pad): pad + c * (w + pad) + w] = x[i, 0]
    img = Image.fromarray(((1 - canvas.numpy()) * 255).round().astype(np.uint8)).convert("RGB")  # 2-D uint8: "L"
    return enlarge(img, scale)


def _one_call_rows(painters: dict[str, Trained], g: torch.Generator, seed: int) -> dict[str, list]:
    """GAN and VAE: the random code they start from, then the finished picture from one network call."""
    z = torch.randn(1, painters["GAN"].model.latent, generator=g)
    side = int(math.isqrt(z.shape[1]))
    gan_start = ((z[0, : side * side].view(1, 1, side, side) / 2.5 + 1) / 2).clamp(0, 1)
    rows = {"GAN": [(gan_start, f"{z.shape[1]} random numbers")] + [None] * 4}
    rows["GAN"].append((sample_gan(painters["GAN"], 1, seed), "finished"))
    zv = torch.randn(1, painters["VAE"].model.latent, generator=g)
    code = "z = (" + ", ".join(f"{v:.1f}" for v in zv[0].tolist()) + ")"
    rows["VAE"] = [(code, f"{zv.shape[1]} random numbers")] + [None] * 4
    with torch.no_grad():
        rows["VAE"].append((torch.sigmoid(painters["VAE"].model.decode(zv)), "finished"))
    return rows


def _stepwise_row(family: str, trained: Trained, seed: int) -> list:
    """Autoregressive and diffusion: the start, four moments on the way and the finished picture."""
    sampler = sample_autoregressive if family == "autoregressive" else sample_diffusion
    frames: list[torch.Tensor] = []
    final, calls = sampler(trained, 1, seed=seed, callback=lambda i, x, keep=frames: keep.append(x))
    if family == "autoregressive":
        start, what = (torch.zeros_like(final), "empty canvas"), "pixels"
    else:
        first = torch.randn(final.shape, generator=torch.Generator().manual_seed(seed))
        start, what = (((first + 1) / 2).clamp(0, 1), "pure static"), "steps"
    picks = [round(calls * k / 5) for k in (1, 2, 3, 4)]
    return [start] + [(frames[k - 1], f"{k} of {calls} {what}") for k in picks] + [(final, "finished")]


def _painting_cell(ax, item, column: int) -> None:
    """One cell of `painting_figure`: a picture or a code with its caption, or the gap of a one-call jump."""
    ax.set_xticks([])
    ax.set_yticks([])
    if item is None:
        ax.axis("off")
        if column == 2:
            ax.annotate("", xy=(2.6, 0.5), xytext=(-0.6, 0.5), xycoords="axes fraction",
                        arrowprops=dict(arrowstyle="->", color="0.4", lw=1.2))
            ax.text(1.0, 0.62, "one network call", ha="center", va="bottom", fontsize=9, color="0.3",
                    transform=ax.transAxes)
        return
    picture, caption = item
    if isinstance(picture, str):
        ax.text(0.5, 0.5, picture, ha="center", va="center", fontsize=9, transform=ax.transAxes)
    else:
        ax.imshow(picture[0, 0].numpy(), cmap="gray_r", vmin=0, vmax=1, interpolation="nearest")
    ax.set_title(caption, fontsize=8.5)


def painting_figure(painters: dict[str, Trained], seed: int = 0, size: float = 1.15):
    """
    How each family paints one cat: from its starting point, through the steps it takes, to the end.

    GAN and VAE jump from a random code to the picture in one network call; the autoregressive model
    fills the canvas pixel by pixel; the diffusion model clears the static step by step.

    Taught in: chapter 1 (A short history of generative models), practical path.

    Args:
        painters (`dict[str, Trained]`): what `train_all` returned.
        seed (`int`, defaults to 0): which cat each painter draws.

    Returns:
        `matplotlib.figure.Figure`: 4 rows (the families) × 6 columns (start, 4 moments, finished).
    """
    import matplotlib.pyplot as plt

    cols = 6
    fig, axes = plt.subplots(4, cols, figsize=(cols * size + 2.2, 4 * size + 0.5))
    rows = _one_call_rows(painters, torch.Generator().manual_seed(seed), seed)
    for family in ("autoregressive", "diffusion"):
        rows[family] = _stepwise_row(family, painters[family], seed)
    calls_text = {"GAN": "1 call", "VAE": "1 call",
                  "autoregressive": f"{painters['autoregressive'].model.size ** 2} calls",
                  "diffusion": f"{painters['diffusion'].extra['alphas_cumprod'].shape[0]} calls"}
    for r, (family, items) in enumerate(rows.items()):
        for c, item in enumerate(items):
            _painting_cell(axes[r, c], item, c)
        axes[r, 0].set_ylabel(f"{family}\n({calls_text[family]})", rotation=0, ha="right", va="center", fontsize=10)
    fig.suptitle("How each family paints a cat", fontsize=12)
    fig.subplots_adjust(left=2.0 / (cols * size + 2.2), right=0.99, top=0.88, bottom=0.02, wspace=0.12, hspace=0.45)
    return fig
