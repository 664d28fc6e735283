"""VAE (Kingma & Welling 2013): describe a picture in a few numbers, then redraw it.

Its weakness, measured in chapter 1: blur, grey pixels where the data has none.

Taught in: chapter 1 (A short history of generative models).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from .. import checks
from ..errors import CourseInputError
from .data import check_images
from .training import Trained, batches, check_trained, mlp, one_thread, seeded

__all__ = ["VAE", "VAEConfig", "sample_vae", "train_vae", "vae_latent_map", "vae_loss"]


@dataclass
class VAEConfig:
    latent: int = 2  # numbers in the code z: two, so that the whole code space fits on one page
    hidden: int = 256
    steps: int = 600
    batch: int = 64
    lr: float = 2e-3
    seed: int = 0


class VAE(nn.Module):
    """Encoder q(z|x): pictures -> (mean, log-variance), each (B, latent); decoder p(x|z): z -> pixel logits."""

    def __init__(self, latent: int, hidden: int, size: int):
        super().__init__()
        self.latent, self.size = latent, size
        self.encoder = mlp(size * size, hidden, hidden, 2 * latent)
        self.decoder = mlp(latent, hidden, hidden, size * size)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """μ and log σ² of q(z|x), each of shape (B, latent)."""
        mean, logvar = self.encoder(x.flatten(1)).chunk(2, dim=1)
        return mean, logvar

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """The logits of p(x|z), shape (B, 1, H, W): σ(logits) is the chance that each pixel is cat."""
        return self.decoder(z).view(-1, 1, self.size, self.size)


def vae_loss(model: VAE, x: torch.Tensor, generator: torch.Generator | None = None):
    """
    The negative ELBO of a batch, per picture: reconstruction error + KL(q(z|x) ‖ N(0, I)).

        -ELBO = E_q[-log p(x|z)] + KL(q(z|x) ‖ p(z)),   KL = ½ Σ_j (μ_j² + σ_j² - 1 - log σ_j²)

    The expectation is estimated with one z = μ + σ ε (the reparameterisation trick, which lets the
    gradient flow through the random draw). The decoder is Bernoulli: -log p(x|z) is the binary
    cross-entropy, summed over the pixels.

    Taught in: chapter 1 (A short history of generative models).

    Args:
        model (`VAE`): the autoencoder.
        x (`torch.Tensor` of shape `(B, 1, H, W)`): pictures with values 0 or 1.
        generator (`torch.Generator`, *optional*): for ε.

    Returns:
        `tuple(torch.Tensor, torch.Tensor, torch.Tensor)`, each 0-dim: -ELBO, the reconstruction
        term and the KL term, each summed over a picture and averaged over the batch (in nats).
    """
    mean, logvar = model.encode(x)
    eps = torch.randn(mean.shape, generator=generator)
    # z = μ + σ ε
    z = mean + (0.5 * logvar).exp() * eps
    # -log p(x|z) = Σ_pixels BCE(σ(logits), x)
    recon = F.binary_cross_entropy_with_logits(model.decode(z), x, reduction="sum") / len(x)
    # KL(N(μ, σ²) ‖ N(0, 1)) = ½ Σ (μ² + σ² - 1 - log σ²)
    kl = 0.5 * (mean.pow(2) + logvar.exp() - 1.0 - logvar).sum() / len(x)
    return recon + kl, recon, kl


@one_thread
def train_vae(data: torch.Tensor, cfg: VAEConfig | None = None) -> Trained:
    """
    Train a VAE by maximising the ELBO (minimising `vae_loss`).

    Taught in: chapter 1 (A short history of generative models).

    Args:
        data (`torch.Tensor` of shape `(N, 1, H, W)`): training pictures with values 0 or 1.
        cfg (`VAEConfig`, *optional*): the settings; defaults to `VAEConfig()`.

    Returns:
        `Trained`: the VAE, the losses "-ELBO", "reconstruction" and "KL" per step, and the seconds.
    """
    data = check_images(data, "data")
    cfg = cfg or VAEConfig()
    g = torch.Generator().manual_seed(cfg.seed)
    model = seeded(cfg.seed, lambda: VAE(cfg.latent, cfg.hidden, data.shape[-1]))
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    losses: dict[str, list[float]] = {"-ELBO": [], "reconstruction": [], "KL": []}
    t0 = time.perf_counter()
    for x in batches(data, cfg.batch, cfg.steps, g):
        loss, recon, kl = vae_loss(model, x, g)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        for name, value in zip(losses, (loss, recon, kl)):
            losses[name].append(value.item())
    seconds = time.perf_counter() - t0
    model.eval()
    return Trained(model, losses, seconds, cfg)


@one_thread
@torch.no_grad()
def sample_vae(trained: Trained, n: int, seed: int = 0) -> torch.Tensor:
    """
    `n` pictures from a trained VAE: z ~ N(0, I), x = σ(decoder(z)). One network call for all.

    The picture is the decoder's *mean*: for each pixel, the chance that it is cat. Where the code z
    leaves the decoder unsure (is the tail up or down?), it paints the average of the possibilities,
    a shade of grey: that is the VAE's blur.

    Taught in: chapter 1 (A short history of generative models).

    Returns:
        `torch.Tensor` of shape `(n, 1, H, W)`, values in (0, 1).
    """
    n = checks.whole("n", n, 1, 10_000)
    model = check_trained(trained, "VAE", VAE)
    z = torch.randn(n, model.latent, generator=torch.Generator().manual_seed(seed))
    return torch.sigmoid(model.decode(z))


@one_thread
@torch.no_grad()
def vae_latent_map(trained: Trained, n: int = 9, span: float = 2.5) -> torch.Tensor:
    """
    The decoder's picture at every point of an `n` × `n` grid of 2-number codes z ∈ [-span, span]².

    Taught in: chapter 1: neighbouring codes give similar cats, the smooth "latent space" that
    Stable Diffusion borrows from VAEs.

    Returns:
        `torch.Tensor` of shape `(n * n, 1, H, W)`, row by row (z_2 from +span down, z_1 left to right).

    Raises:
        `CourseInputError`: if the VAE's code does not have exactly 2 numbers.
    """
    model = check_trained(trained, "VAE", VAE)
    if model.latent != 2:
        raise CourseInputError(f"vae_latent_map draws a 2-number code on a page; this VAE has {model.latent}.")
    n = checks.whole("n", n, 2, 32)
    axis = torch.linspace(-span, span, n)
    z2, z1 = torch.meshgrid(axis.flip(0), axis, indexing="ij")
    return torch.sigmoid(model.decode(torch.stack([z1.flatten(), z2.flatten()], dim=1)))
