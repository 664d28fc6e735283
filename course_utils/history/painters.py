"""All four families at once, as the practical path uses them: train them together, sample any of them.

Taught in: chapter 1 (A short history of generative models).
"""

from __future__ import annotations

import torch

from .. import checks
from .autoregressive import ARConfig, sample_autoregressive, train_autoregressive
from .ddpm import DiffusionConfig, sample_diffusion, train_diffusion
from .gan import GANConfig, sample_gan, train_gan
from .training import Trained
from .vae import VAEConfig, sample_vae, train_vae

__all__ = ["FAMILIES", "sample", "train_all"]

# The four families, in the order the course shows them, with a colour each for the figures.
FAMILIES = {"GAN": "tab:red", "VAE": "tab:blue", "autoregressive": "tab:purple", "diffusion": "tab:green"}


def train_all(data: torch.Tensor, scale: float = 1.0, seed: int = 0) -> dict[str, Trained]:
    """
    Train the four families on `data`, each with its default settings' steps times `scale`.

    Taught in: chapter 1 (A short history of generative models), practical path.

    Returns:
        `dict[str, Trained]` with keys "GAN", "VAE", "autoregressive" and "diffusion".
    """
    scale = checks.number("scale", scale, 0.05, 10, hint="1 is the full budget.")
    from tqdm.auto import tqdm

    steps = lambda cfg: max(1, round(cfg.steps * scale))  # noqa: E731
    trainers = {"GAN": lambda: train_gan(data, GANConfig(steps=steps(GANConfig()), seed=seed)),
                "VAE": lambda: train_vae(data, VAEConfig(steps=steps(VAEConfig()), seed=seed)),
                "autoregressive": lambda: train_autoregressive(data, ARConfig(steps=steps(ARConfig()), seed=seed)),
                "diffusion": lambda: train_diffusion(data, DiffusionConfig(steps=steps(DiffusionConfig()), seed=seed))}
    bar = tqdm(trainers.items(), total=len(trainers), desc="training the four painters", leave=False)
    return {name: train() for name, train in bar}


def sample(family: str, trained: Trained, n: int, seed: int = 0) -> tuple[torch.Tensor, int]:
    """
    `n` pictures from any of the four families, and the number of network calls it took.

    Taught in: chapter 1 (A short history of generative models).

    Returns:
        `tuple(torch.Tensor, int)`: pictures (n, 1, H, W) in [0, 1] and the calls per picture.
    """
    family = checks.one_of("family", family, FAMILIES)
    if family == "GAN":
        return sample_gan(trained, n, seed), 1
    if family == "VAE":
        return sample_vae(trained, n, seed), 1
    if family == "autoregressive":
        return sample_autoregressive(trained, n, seed)
    return sample_diffusion(trained, n, seed=seed)
