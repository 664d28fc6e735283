"""Autoregressive models (MADE, Germain et al. 2015; PixelCNN, van den Oord et al. 2016): pixel by pixel.

Its weakness, measured in chapter 1: one network call per pixel when sampling.

Taught in: chapter 1 (A short history of generative models).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from .. import checks
from .data import check_images
from .training import StepCallback, Trained, batches, check_trained, one_thread, seeded

__all__ = ["ARConfig", "AutoregressiveNet", "MaskedLinear", "sample_autoregressive", "train_autoregressive"]


@dataclass
class ARConfig:
    hidden: int = 256  # width of the two masked hidden layers
    steps: int = 600
    batch: int = 64
    lr: float = 2e-3
    seed: int = 0


class MaskedLinear(nn.Linear):
    """A linear layer with some connections cut for good: y = x (W ⊙ M)ᵀ + b, M of shape (out, in)."""

    def __init__(self, mask: torch.Tensor):
        super().__init__(mask.shape[1], mask.shape[0])
        self.register_buffer("mask", mask.float())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.weight * self.mask, self.bias)


class AutoregressiveNet(nn.Module):
    """
    A masked network (MADE) over the pixels in reading order: output i sees only pixels 0 ... i-1.

    Pictures (B, 1, H, W) -> logits of p(x_i = 1 | x_<i) for every pixel i, shape (B, 1, H, W).
    Each hidden unit k gets a "degree" m(k) from 1 to D-1 (D = H·W pixels) and may see only the
    pixels i < m(k); output i may read only the units with m(k) ≤ i. PixelCNN enforces the same
    rule with masked convolutions, and a transformer over pixels or tokens with a causal mask.
    """

    def __init__(self, hidden: int, size: int):
        super().__init__()
        self.size = size
        d = size * size
        pixel = torch.arange(d)  # pixel i, counted from 0 in reading order
        degree = torch.arange(hidden) % (d - 1) + 1  # m(k) ∈ {1, ..., D-1}, spread evenly
        self.net = nn.Sequential(
            MaskedLinear(degree[:, None] > pixel[None, :]),  # unit k sees pixels i < m(k)
            nn.ReLU(),
            MaskedLinear(degree[:, None] >= degree[None, :]),  # a unit sees units of lower or equal degree
            nn.ReLU(),
            MaskedLinear(pixel[:, None] >= degree[None, :]),  # output i reads units with m(k) ≤ i
        )
        self.direct = MaskedLinear(pixel[:, None] > pixel[None, :])  # and every earlier pixel directly

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        flat = x.flatten(1)
        return (self.net(flat) + self.direct(flat)).view(-1, 1, self.size, self.size)


@one_thread
def train_autoregressive(data: torch.Tensor, cfg: ARConfig | None = None) -> Trained:
    """
    Train an autoregressive model: maximise log p(x) = Σ_i log p(x_i | x_<i), all pixels at once.

    Training is parallel because the masks make every pixel's prediction read only the earlier
    pixels of the *real* picture ("teacher forcing"); sampling cannot be, see `sample_autoregressive`.

    Taught in: chapter 1 (A short history of generative models).

    Args:
        data (`torch.Tensor` of shape `(N, 1, H, W)`): training pictures with values 0 or 1.
        cfg (`ARConfig`, *optional*): the settings; defaults to `ARConfig()`.

    Returns:
        `Trained`: the network, the loss "-log p(x)" (nats per picture) per step, and the seconds.
    """
    data = check_images(data, "data")
    cfg = cfg or ARConfig()
    g = torch.Generator().manual_seed(cfg.seed)
    model = seeded(cfg.seed, lambda: AutoregressiveNet(cfg.hidden, data.shape[-1]))
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    losses: dict[str, list[float]] = {"-log p(x)": []}
    t0 = time.perf_counter()
    for x in batches(data, cfg.batch, cfg.steps, g):
        # -log p(x) = Σ_i -log p(x_i | x_<i), a binary cross-entropy per pixel
        loss = F.binary_cross_entropy_with_logits(model(x), x, reduction="sum") / len(x)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        losses["-log p(x)"].append(loss.item())
    seconds = time.perf_counter() - t0
    model.eval()
    return Trained(model, losses, seconds, cfg)


@one_thread
@torch.no_grad()
def sample_autoregressive(
    trained: Trained | nn.Module, n: int, seed: int = 0, callback: StepCallback | None = None
) -> tuple[torch.Tensor, int]:
    """
    `n` pictures, one pixel at a time in reading order: x_i ~ p(x_i | x_<i).

    Every pixel needs a fresh network call on the picture drawn so far, so an H × W picture takes
    H·W calls, however many pictures are drawn side by side.

    Taught in: chapter 1 (A short history of generative models).

    Args:
        trained (`Trained` or `AutoregressiveNet`): the model (an untrained net times the same).
        n (`int`): how many pictures, drawn side by side.
        seed (`int`, defaults to 0): the seed of the coin flips.
        callback (*optional*): called after each pixel as ``callback(i, pictures)``.

    Returns:
        `tuple(torch.Tensor, int)`: the pictures, shape (n, 1, H, W) with values 0 or 1, and the
        number of network calls it took (H·W).
    """
    n = checks.whole("n", n, 1, 10_000)
    model = check_trained(trained, "autoregressive", AutoregressiveNet)
    g = torch.Generator().manual_seed(seed)
    x = torch.zeros(n, model.size * model.size)
    calls = 0
    for i in range(x.shape[1]):
        # p(x_i = 1 | x_<i): one call on the picture so far (pixels i, i+1, ... are 0 and unseen)
        p = torch.sigmoid(model(x).flatten(1)[:, i])
        calls += 1
        # x_i ~ Bernoulli(p)
        x[:, i] = (torch.rand(n, generator=g) < p).float()
        if callback is not None:
            callback(i, x.view(n, 1, model.size, model.size).clone())
    return x.view(n, 1, model.size, model.size), calls
