"""GAN (Goodfellow et al. 2014): a forger and a detective.

The forger G turns random codes into pictures; the detective D learns to tell them from real ones, and
G learns to fool D. Its weakness, measured in chapter 1: mode collapse, less variety than the data.

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
from .measures import diversity
from .training import Trained, batches, check_trained, leaky, mlp, one_thread, seeded

__all__ = ["Discriminator", "GANConfig", "Generator", "gan_value", "sample_gan", "train_gan"]


@dataclass
class GANConfig:
    latent: int = 16  # size of the random code z the forger starts from
    hidden: int = 256  # width of the hidden layers of both networks
    steps: int = 600  # training steps: one detective update and one forger update each
    batch: int = 64
    lr: float = 1e-3  # Adam's learning rate, both networks (betas 0.5, 0.999 as in DCGAN)
    log_every: int = 25  # measure the variety of the forger's pictures every this many steps
    seed: int = 0


class Generator(nn.Module):
    """G(z): random codes (B, latent) -> pictures (B, 1, H, W) with values in (0, 1)."""

    def __init__(self, latent: int, hidden: int, size: int):
        super().__init__()
        self.latent, self.size = latent, size
        self.net = mlp(latent, hidden, hidden, size * size, act=leaky)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.net(z)).view(-1, 1, self.size, self.size)


class Discriminator(nn.Module):
    """D(x): pictures (B, 1, H, W) -> the logit of "this picture is real", shape (B,)."""

    def __init__(self, hidden: int, size: int):
        super().__init__()
        self.net = mlp(size * size, hidden, hidden, 1, act=leaky)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x.flatten(1)).squeeze(1)


def gan_value(d_real_logits: torch.Tensor, d_fake_logits: torch.Tensor) -> torch.Tensor:
    """
    The GAN value function V(D, G) = E[log D(x)] + E[log(1 - D(G(z)))], from the detective's logits.

    The detective D maximises it, the forger G minimises it (Goodfellow et al. 2014, eq. 1).

    Taught in: chapter 1 (A short history of generative models).

    Args:
        d_real_logits (`torch.Tensor` of shape `(B,)`): D's logits on real pictures.
        d_fake_logits (`torch.Tensor` of shape `(B,)`): D's logits on generated pictures.

    Returns:
        `torch.Tensor`, 0-dim: V. It is -2 log 2 ≈ -1.386 when D answers one half everywhere, the
        value at the game's equilibrium.
    """
    # log D(x) = log σ(logit) = -softplus(-logit);   log(1 - D(G(z))) = log σ(-logit) = -softplus(logit)
    return (-F.softplus(-d_real_logits)).mean() + (-F.softplus(d_fake_logits)).mean()


@one_thread
def train_gan(data: torch.Tensor, cfg: GANConfig | None = None) -> Trained:
    """
    Train a GAN: the detective D learns to tell real pictures from G's, the forger G learns to fool D.

        min_G max_D  E_x[log D(x)] + E_z[log(1 - D(G(z)))]

    G minimises the "non-saturating" loss -log D(G(z)) that the GAN paper recommends in practice:
    it gives G strong gradients early on, when D spots its forgeries easily.

    Taught in: chapter 1 (A short history of generative models).

    Args:
        data (`torch.Tensor` of shape `(N, 1, H, W)`): training pictures with values in [0, 1].
        cfg (`GANConfig`, *optional*): the settings; defaults to `GANConfig()`.

    Returns:
        `Trained`: the generator, the losses "D" (= -V) and "G" per step and the seconds it took;
        ``extra["discriminator"]`` and ``extra["diversity"]``, a list of (step, `diversity` of 64
        pictures from the same fixed codes) taken every `cfg.log_every` steps.
    """
    data = check_images(data, "data")
    cfg = cfg or GANConfig()
    g = torch.Generator().manual_seed(cfg.seed)
    size = data.shape[-1]
    G, Dnet = seeded(cfg.seed, lambda: (Generator(cfg.latent, cfg.hidden, size), Discriminator(cfg.hidden, size)))
    opt_g = torch.optim.Adam(G.parameters(), lr=cfg.lr, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(Dnet.parameters(), lr=cfg.lr, betas=(0.5, 0.999))
    z_watch = torch.randn(64, cfg.latent, generator=torch.Generator().manual_seed(cfg.seed + 1))
    losses: dict[str, list[float]] = {"D": [], "G": []}
    variety: list[tuple[int, float]] = []
    t0 = time.perf_counter()
    for step, real in enumerate(batches(data, cfg.batch, cfg.steps, g)):
        z = torch.randn(cfg.batch, cfg.latent, generator=g)
        fake = G(z)
        # 1. the detective: maximise V = log D(x) + log(1 - D(G(z))), i.e. minimise -V
        loss_d = -gan_value(Dnet(real), Dnet(fake.detach()))
        opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        opt_d.step()
        # 2. the forger: minimise -log D(G(z)), against the detective just updated
        loss_g = F.softplus(-Dnet(fake)).mean()
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()
        losses["D"].append(loss_d.item())
        losses["G"].append(loss_g.item())
        if step % cfg.log_every == 0 or step == cfg.steps - 1:
            with torch.no_grad():
                variety.append((step, diversity(G(z_watch))))
    seconds = time.perf_counter() - t0
    G.eval()
    return Trained(G, losses, seconds, cfg, {"discriminator": Dnet.eval(), "diversity": variety})


@one_thread
@torch.no_grad()
def sample_gan(trained: Trained, n: int, seed: int = 0) -> torch.Tensor:
    """
    `n` pictures from a trained GAN: z ~ N(0, I), x = G(z). One network call for all of them.

    Taught in: chapter 1 (A short history of generative models).

    Returns:
        `torch.Tensor` of shape `(n, 1, H, W)`, values in (0, 1).
    """
    n = checks.whole("n", n, 1, 10_000)
    G = check_trained(trained, "GAN", Generator)
    z = torch.randn(n, G.latent, generator=torch.Generator().manual_seed(seed))
    return G(z)
