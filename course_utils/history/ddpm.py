"""Diffusion (DDPM, Ho et al. 2020): learn to remove noise, then start from pure noise.

Its weakness, measured in chapter 1: one network call per denoising step. Chapter 2 goes deeper.

Taught in: chapter 1 (A short history of generative models).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from .. import checks
from ..diffusion import p_sample, q_sample, timesteps_for
from ..schedules import alphas_cumprod as _alphas_cumprod
from ..schedules import make_betas
from .data import check_images
from .training import StepCallback, Trained, batches, check_trained, mlp, one_thread, seeded

__all__ = ["Denoiser", "DiffusionConfig", "sample_diffusion", "train_diffusion"]


@dataclass
class DiffusionConfig:
    num_train_timesteps: int = 100  # T; DDPM and Stable Diffusion use 1000
    schedule: str = "cosine"  # β_t from make_betas; the cosine schedule wastes few steps on pure noise
    hidden: int = 256
    steps: int = 800
    batch: int = 64
    lr: float = 2e-3
    seed: int = 0


class Denoiser(nn.Module):
    """
    ε_θ(x_t, t): noisy pictures (B, 1, H, W) in [-1, 1] and timesteps (B,) -> the predicted noise.

    Inside, a small MLP guesses the clean picture x̂_0 (`clean`), and `forward` turns the guess into
    the noise it implies, ε̂ = (x_t - √ᾱ_t x̂_0) / √(1-ᾱ_t). Both carry the same information (each
    follows from the other through the closed form of the forward process), but a small MLP learns
    "what does the clean cat look like?" much faster than "which part of 256 numbers is noise?".
    Outside, the model speaks DDPM's language: it returns ε̂, as Stable Diffusion's U-Net does.
    """

    def __init__(self, hidden: int, size: int, alphas_cumprod: torch.Tensor):
        super().__init__()
        self.size = size
        self.register_buffer("alphas_cumprod", alphas_cumprod.float())
        self.time = mlp(32, hidden, 2 * hidden)  # t -> a scale and a shift for the first hidden layer
        self.inp = nn.Linear(size * size, hidden)
        self.net = mlp(hidden, hidden, hidden, size * size)

    def clean(self, x_t: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """x̂_0(x_t, t), the MLP's guess of the clean pictures, shape (B, 1, H, W), values in (-1, 1)."""
        # a sinusoidal embedding of t, as in the Transformer and in DDPM's U-Net
        T = self.alphas_cumprod.shape[0]
        freqs = torch.exp(-math.log(1000.0) * torch.arange(16) / 16)
        angles = t.float()[:, None] * freqs[None] * (1000.0 / T)
        scale, shift = self.time(torch.cat([angles.sin(), angles.cos()], dim=1)).chunk(2, dim=1)
        h = F.silu(self.inp(x_t.flatten(1)) * (1 + scale) + shift)
        return torch.tanh(self.net(h)).view(-1, 1, self.size, self.size)

    def forward(self, x_t: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        abar = self.alphas_cumprod[t].view(-1, 1, 1, 1)
        # ε̂ = (x_t - √ᾱ_t x̂_0) / √(1-ᾱ_t)
        return (x_t - abar.sqrt() * self.clean(x_t, t)) / (1 - abar).sqrt()


@one_thread
def train_diffusion(data: torch.Tensor, cfg: DiffusionConfig | None = None) -> Trained:
    """
    Train a DDPM denoiser: noise pictures to random timesteps and learn to undo the noise.

        x_t = √ᾱ_t x_0 + √(1-ᾱ_t) ε,   loss = ‖x_0 - x̂_0(x_t, t)‖²

    This is DDPM's Algorithm 1 (Ho et al. 2020) with the network's guess written as the clean picture
    instead of the noise (see `Denoiser`); Ho et al. compare both choices. Pictures are mapped from
    [0, 1] to [-1, 1] first, the range diffusion models expect.

    Taught in: chapter 1 (A short history of generative models); chapter 2 goes deeper.

    Args:
        data (`torch.Tensor` of shape `(N, 1, H, W)`): training pictures with values in [0, 1].
        cfg (`DiffusionConfig`, *optional*): the settings; defaults to `DiffusionConfig()`.

    Returns:
        `Trained`: the denoiser, the loss "x0 MSE" per step, the seconds, and the schedule's ᾱ
        (float64) in ``extra["alphas_cumprod"]``.
    """
    data = check_images(data, "data")
    cfg = cfg or DiffusionConfig()
    g = torch.Generator().manual_seed(cfg.seed)
    # ᾱ_t = Π_{s≤t} (1 - β_s)
    abar = _alphas_cumprod(make_betas(cfg.schedule, cfg.num_train_timesteps))
    model = seeded(cfg.seed, lambda: Denoiser(cfg.hidden, data.shape[-1], abar))
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    losses: dict[str, list[float]] = {"x0 MSE": []}
    t0 = time.perf_counter()
    for x in batches(data, cfg.batch, cfg.steps, g):
        x0 = 2 * x - 1  # [0, 1] -> [-1, 1]
        t = torch.randint(cfg.num_train_timesteps, (len(x0),), generator=g)
        eps = torch.randn(x0.shape, generator=g)
        # x_t = √ᾱ_t x_0 + √(1-ᾱ_t) ε
        x_t = q_sample(x0, t, eps, abar)
        # loss = ‖x_0 - x̂_0(x_t, t)‖²
        loss = F.mse_loss(model.clean(x_t, t), x0)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        losses["x0 MSE"].append(loss.item())
    seconds = time.perf_counter() - t0
    model.eval()
    return Trained(model, losses, seconds, cfg, {"alphas_cumprod": abar})


@one_thread
@torch.no_grad()
def sample_diffusion(
    trained: Trained, n: int, steps: int | None = None, seed: int = 0, callback: StepCallback | None = None
) -> tuple[torch.Tensor, int]:
    """
    `n` pictures with DDPM's sampler: start from pure noise and take `steps` denoising steps.

        x_prev = μ̃(x_t, x̂_0) + σ_t z,   x̂_0 = (x_t - √(1-ᾱ_t) ε_θ(x_t, t)) / √ᾱ_t

    With fewer steps than the T it was trained with, the sampler jumps over timesteps ("leading"
    spacing, as diffusers' `DDPMScheduler.set_timesteps`). The noise comes from one CPU
    `torch.Generator`, drawn as diffusers' `DDPMScheduler.step(..., generator=g)` draws it, so the
    same loop written with diffusers gives the same pictures.

    Taught in: chapter 1 (A short history of generative models); chapter 2 goes deeper.

    Args:
        trained (`Trained`): what `train_diffusion` returned.
        n (`int`): how many pictures, drawn side by side.
        steps (`int`, *optional*): denoising steps, from 1 to T; defaults to T.
        seed (`int`, defaults to 0): the seed of the starting noise and of every step's noise.
        callback (*optional*): called after each step as ``callback(i, pictures)``, the pictures
            mapped to [0, 1] (still noisy, except after the last step).

    Returns:
        `tuple(torch.Tensor, int)`: the pictures, shape (n, 1, H, W), mapped back to [0, 1], and
        the number of network calls (`steps`).
    """
    n = checks.whole("n", n, 1, 10_000)
    model = check_trained(trained, "diffusion", Denoiser)
    abar = trained.extra["alphas_cumprod"] if isinstance(trained, Trained) else model.alphas_cumprod.double()
    T = abar.shape[0]
    steps = T if steps is None else checks.whole("steps", steps, 1, T)
    g = torch.Generator().manual_seed(seed)
    # 1. start from pure noise, x_T ~ N(0, I)
    x = torch.randn(n, 1, model.size, model.size, generator=g)
    timesteps = timesteps_for(steps, T)
    for i, t in enumerate(timesteps.tolist()):
        prev_t = int(timesteps[i + 1]) if i + 1 < len(timesteps) else -1
        # 2. ε̂ = ε_θ(x_t, t), one network call
        eps = model(x, torch.full((n,), t, dtype=torch.long))
        # 3. x_prev = μ̃ + σ_t z (DDPM's step with diffusers' default clip_sample=True)
        x, _ = p_sample(x, eps, t, prev_t, abar, clip_sample=True, generator=g)
        if callback is not None:
            callback(i, ((x + 1) / 2).clamp(0, 1))
    # 4. [-1, 1] -> [0, 1]
    return ((x + 1) / 2).clamp(0, 1), len(timesteps)
