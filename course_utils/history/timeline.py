"""The practical path's timeline of image generation: eras, milestones and what each era's models drew.

Taught in: chapter 1 (A short history of generative models), practical path.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from .. import checks
from .painters import FAMILIES, sample

__all__ = ["ERAS", "MILESTONES", "course_timeline", "timeline_figure"]

# The milestones on the practical path's timeline: (year as a decimal, name, family, where the label
# goes: (year, row)). Months of the first public paper or release: VAE Dec 2013, GAN Jun 2014, the
# first diffusion model Mar 2015, PixelRNN Jan and PixelCNN Jun 2016, Progressive GAN Oct 2017,
# StyleGAN Dec 2018, VQ-VAE-2 Jun 2019, DDPM Jun 2020, DALL·E and CLIP Jan 2021, GLIDE and latent
# diffusion Dec 2021, DALL·E 2 Apr 2022, Imagen May 2022, Stable Diffusion Aug 2022, SDXL Jul 2023,
# DALL·E 3 Oct 2023, Stable Diffusion 3 Mar 2024 (paper; weights Jun 2024), FLUX.1 Aug 2024.
MILESTONES: tuple[tuple[float, str, str, tuple[float, int]], ...] = (
    (2013.95, "VAE", "VAE", (2013.95, 0)),
    (2014.45, "GAN", "GAN", (2014.55, 1)),
    (2015.2, "first diffusion\nmodel", "diffusion", (2015.3, 3)),
    (2016.3, "PixelRNN,\nPixelCNN", "autoregressive", (2016.4, 1)),
    (2017.8, "Progressive\nGAN", "GAN", (2017.7, 0)),
    (2018.95, "StyleGAN", "GAN", (2018.75, 2)),
    (2019.45, "VQ-VAE-2", "combined", (2019.55, 0)),
    (2020.45, "DDPM", "diffusion", (2020.35, 2)),
    (2021.05, "DALL·E,\nCLIP", "combined", (2021.0, 0)),
    (2021.97, "GLIDE, latent\ndiffusion", "diffusion", (2021.6, 3)),
    (2022.3, "DALL·E 2", "diffusion", (2022.35, 1)),
    (2022.4, "Imagen", "diffusion", (2023.05, 0)),
    (2022.65, "Stable\nDiffusion", "combined", (2022.95, 2)),
    (2023.55, "SDXL", "combined", (2023.6, 1)),
    (2023.8, "DALL·E 3", "diffusion", (2024.0, 3)),
    (2024.2, "Stable\nDiffusion 3", "combined", (2024.5, 0)),
    (2024.6, "FLUX.1", "combined", (2024.95, 2)),
)

# (first year, last year or None for "until today", name, what the pictures looked like).
ERAS: tuple[tuple[int, int | None, str, str], ...] = (
    (2014, 2018, "Early days", "fuzzy faces and simple objects"),
    (2019, 2021, "Middle period", "recognisable, with obvious flaws"),
    (2022, None, "Recent revolution", "photorealistic and stylised"),
)

_FAMILY_COLOURS = {**FAMILIES, "combined": "tab:orange"}
_ERA_COLOURS = ("#dbe9f6", "#fde7cf", "#dcf0d5")


def _thumbnail(ax, picture, caption: str) -> None:
    if isinstance(picture, torch.Tensor):
        grid = picture[:, 0]  # (k, H, W): laid out in one square-ish block with white gaps
        k, h, w = grid.shape
        cols = math.ceil(math.sqrt(k))
        rows = math.ceil(k / cols)
        canvas = torch.zeros(rows * (h + 1) + 1, cols * (w + 1) + 1)
        for j in range(k):
            r, c = divmod(j, cols)
            canvas[1 + r * (h + 1): 1 + r * (h + 1) + h, 1 + c * (w + 1): 1 + c * (w + 1) + w] = grid[j]
        ax.imshow(canvas.numpy(), cmap="gray_r", vmin=0, vmax=1, interpolation="nearest")
    elif picture is None:
        ax.text(0.5, 0.5, "(not available)", ha="center", va="center", fontsize=8, color="0.4",
                transform=ax.transAxes)
    else:
        ax.imshow(np.asarray(picture), interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel(caption, fontsize=8.5, labelpad=3)


def _draw_eras(ax, hi: float) -> None:
    """The three eras as coloured bands, each with its name, years and what its pictures looked like."""
    for (first, last, name, look), colour in zip(ERAS, _ERA_COLOURS):
        end = hi if last is None else last + 1
        ax.axvspan(first, end, color=colour, zorder=0)
        years = f"{first}–{'today' if last is None else last}"
        ax.text((first + end) / 2, 4.9, f"{name} ({years})", ha="center", va="center", fontsize=10.5, weight="bold")
        ax.text((first + end) / 2, 4.45, look, ha="center", va="center", fontsize=9.5, style="italic")


def _draw_milestones(ax) -> None:
    """The year axis and the milestones on it, each a dot and a label in its family's colour."""
    ax.axhline(0, color="0.3", lw=1.2, zorder=1)
    heights = (0.55, 1.45, 2.35, 3.25)
    for year, name, family, (text_x, row) in MILESTONES:
        colour = _FAMILY_COLOURS[family]
        ax.plot(year, 0, "o", color=colour, ms=6, zorder=3)
        ax.annotate(name, xy=(year, 0), xytext=(text_x, heights[row]), ha="center", va="bottom", fontsize=8.3,
                    linespacing=1.0, zorder=4, bbox=dict(boxstyle="round,pad=0.2", fc="white", ec=colour, lw=1),
                    arrowprops=dict(arrowstyle="-", color=colour, lw=0.9, shrinkA=0, shrinkB=0))


def _label_years(fig, ax, now: int) -> None:
    """Year ticks, the axis label, the families' legend and the title."""
    from matplotlib.lines import Line2D

    ax.set_yticks([])
    ax.set_xticks(range(2014, now + 1))
    ax.tick_params(axis="x", labelsize=9)
    ax.set_xlabel("year of the first paper or public release", fontsize=9)
    for spine in ("left", "right", "top"):
        ax.spines[spine].set_visible(False)
    handles = [Line2D([], [], marker="o", ls="", color=c, label=f) for f, c in _FAMILY_COLOURS.items()]
    fig.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0.955), ncol=5, fontsize=9, frameon=False)
    fig.suptitle("From fuzzy to photorealistic: a timeline of image generation", fontsize=13, y=0.995)


def _place_thumbnails(fig, thumbnails: list, lo: float, hi: float, W: float, Hfig: float) -> None:
    """Thumbnails under each era, side by side, as large as the era's width allows."""
    to_fig = lambda year: 0.03 + 0.94 * (year - lo) / (hi - lo)  # noqa: E731
    top, max_h = 0.37, 0.29  # figure-height units
    for era, (first, last, _, _) in enumerate(ERAS):
        items = [(c, p) for e, c, p in thumbnails if e == era]
        if not items:
            continue
        a, b = to_fig(first), to_fig(hi if last is None else last + 1)
        step = (b - a) / len(items)
        w = min(step * 0.86, max_h * Hfig / W)  # figure-width units
        h = w * W / Hfig  # a square in inches
        for j, (caption, picture) in enumerate(items):
            cx = a + step * (j + 0.5)
            _thumbnail(fig.add_axes([cx - w / 2, top - h, w, h]), picture, caption)


def timeline_figure(thumbnails: list[tuple[int, str, object]], now: int | None = None):
    """
    The practical path's timeline: the three eras, the milestones (coloured by family) and, under each
    era, thumbnails of what such models draw.

    Taught in: chapter 1 (A short history of generative models), practical path.

    Args:
        thumbnails (`list` of `(era_index, caption, picture)`):
            era 0, 1 or 2; a caption; a tensor of pictures (k, 1, H, W) in [0, 1], a PIL image, or
            `None` for a picture that could not be made (a placeholder is drawn).
        now (`int`, *optional*): the last year on the axis; defaults to this year (at least 2025).

    Returns:
        `matplotlib.figure.Figure`.
    """
    import datetime

    import matplotlib.pyplot as plt

    now = max(2025, datetime.date.today().year) if now is None else checks.whole("now", now, 2025, 2100)
    for era, _caption, _picture in thumbnails:
        checks.whole("era", era, 0, len(ERAS) - 1)
    W, Hfig = 12.5, 6.6
    fig = plt.figure(figsize=(W, Hfig))
    lo, hi = 2013.4, now + 1
    ax = fig.add_axes([0.03, 0.45, 0.94, 0.44])
    ax.set_xlim(lo, hi)
    ax.set_ylim(-0.3, 5.2)
    _draw_eras(ax, hi)
    _draw_milestones(ax)
    _label_years(fig, ax, now)
    _place_thumbnails(fig, thumbnails, lo, hi, W, Hfig)
    return fig


def course_timeline(painters: dict, today: dict | None = None, seed: int = 1):
    """
    `timeline_figure` filled with the chapter's own pictures: nine samples of each small painter
    (`painters`: family -> trained model, as `train_all` returns) and, for today's era, the text-to-image
    pictures in `today` (``{"photo": image, "manga": image}``; missing ones are drawn as empty frames).

    Taught in: chapter 1 (A short history of generative models), practical path.
    """
    today = today or {}
    samples = {family: sample(family, painter, 9, seed=seed)[0] for family, painter in painters.items()}
    return timeline_figure([
        (0, "VAE-style (2013):\nsoft edges", samples["VAE"]),
        (0, "GAN-style (2014):\none cat, again and again", samples["GAN"]),
        (0, "PixelCNN-style (2016):\ndot by dot", samples["autoregressive"]),
        (1, "DDPM-style (2020): recognisable,\nsmall and simple", samples["diffusion"]),
        (2, "from text: “a ginger cat\nin photo style …”", today.get("photo")),
        (2, "the same cat, asked\nfor in manga style", today.get("manga")),
    ])
