"""Four tiny generative models trained on the same pictures: GAN, VAE, autoregressive and diffusion.

Chapter 1 retells the history of image generation by *running* it. Every model here learns the
same data set, 16 × 16 black-and-white cat silhouettes drawn by the embedded model's own data
generator (`course_utils.minisd.data`), in a few seconds on a laptop CPU. Each family's typical
weakness then shows up as a number:

    family           first paper                 weakness measured here
    VAE              Kingma & Welling 2013       blur: grey pixels where the data has none
    GAN              Goodfellow et al. 2014      mode collapse: less variety than the data
    autoregressive   MADE 2015, PixelCNN 2016    one network call per pixel when sampling
    diffusion        Ho et al. 2020 (DDPM)       one network call per denoising step

The file reads top to bottom, nanoGPT-style: the data, then one section per family (settings as a
commented dataclass, the network, the training loop, the sampler), then the measurements and the
timeline of the practical path. Every random draw uses a seeded `torch.Generator` or
`np.random.default_rng`, so the same settings give the same models and pictures on the same
machine and library versions.

The networks are so small that splitting their matrix products between CPU cores costs more
than it saves, and on a busy machine a two-thread product can wait many times longer for the
second core than it computes. Training and sampling therefore run on one thread and give the
caller's `torch.get_num_threads()` back afterwards (see `_one_thread`).

Taught in: chapter 1 (A short history of generative models), technical and practical paths.
"""

from __future__ import annotations

import functools
import math
import numbers
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image

from .diffusion import p_sample, q_sample, timesteps_for
from .errors import CourseInputError
from .minisd import data as D
from .schedules import alphas_cumprod as _alphas_cumprod
from .schedules import make_betas

__all__ = [
    "ERAS",
    "FAMILIES",
    "KINDS",
    "MILESTONES",
    "ARConfig",
    "DiffusionConfig",
    "GANConfig",
    "Trained",
    "VAEConfig",
    "cat_silhouettes",
    "diversity",
    "gan_value",
    "kind_coverage",
    "mid_grey_share",
    "nearest_distance",
    "painting_figure",
    "picture_grid",
    "picture_rows",
    "sample",
    "sample_autoregressive",
    "sample_diffusion",
    "sample_gan",
    "sample_vae",
    "timeline_figure",
    "train_all",
    "train_autoregressive",
    "train_diffusion",
    "train_gan",
    "train_vae",
    "vae_latent_map",
    "vae_loss",
]

# The four kinds of cat in the data set: pose × the way the cat faces.
KINDS = ("sitting, facing right", "sitting, facing left", "lying, facing right", "lying, facing left")

# The four families, in the order the course shows them, with a colour each for the figures.
FAMILIES = {"GAN": "tab:red", "VAE": "tab:blue", "autoregressive": "tab:purple", "diffusion": "tab:green"}

# Called after each sampling step as callback(step_index, pictures so far in [0, 1], (n, 1, H, W)).
StepCallback = Callable[[int, torch.Tensor], None]


# --------------------------------------------------------------------------------------------
# Input checks and small shared pieces
# --------------------------------------------------------------------------------------------


def _check_int(name: str, value, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or not lo <= value <= hi:
        raise CourseInputError(f"{name} must be a whole number from {lo} to {hi}, got {value!r}.")
    return int(value)


def _check_images(x, name: str = "images") -> torch.Tensor:
    if not isinstance(x, torch.Tensor) or x.ndim != 4 or x.shape[1] != 1 or not x.is_floating_point():
        got = f"a {x.dtype} tensor of shape {tuple(x.shape)}" if isinstance(x, torch.Tensor) else type(x).__name__
        raise CourseInputError(
            f"{name} must be a float tensor of shape (N, 1, H, W) with values in [0, 1], got {got}. "
            "Make the data with cat_silhouettes()."
        )
    return x


def _check_trained(trained, family: str, model_type: type) -> nn.Module:
    model = trained.model if isinstance(trained, Trained) else trained
    if not isinstance(model, model_type):
        raise CourseInputError(
            f"this sampler needs a trained {family} model (what train_{family.lower()}() returns), "
            f"got {type(model).__name__}."
        )
    return model


def _one_thread(fn):
    """Run `fn` on one CPU thread, then give the caller's thread count back.

    The matrices of these tiny networks are too small to be worth splitting between cores; on a
    shared CPU with OpenMP's default busy waiting, a two-thread product of a 64 × 256 by a 256 × 256
    matrix was measured 4 to 70 times slower than a one-thread one (each product waits for the second
    core). One thread also makes the results independent of how many cores the machine has.
    """

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        before = torch.get_num_threads()
        if before == 1:
            return fn(*args, **kwargs)
        torch.set_num_threads(1)
        try:
            return fn(*args, **kwargs)
        finally:
            torch.set_num_threads(before)

    return wrapper


@dataclass
class Trained:
    """A trained model, its loss curves and how long training took.

    Attributes:
        model (`torch.nn.Module`): the network that makes pictures (for a GAN, the generator).
        losses (`dict[str, list[float]]`): one curve per name, one value per training step.
        seconds (`float`): wall-clock training time on this machine.
        config (dataclass): the settings it was trained with.
        extra (`dict`): anything else worth keeping (the discriminator, the noise schedule, ...).
    """

    model: nn.Module
    losses: dict[str, list[float]]
    seconds: float
    config: object
    extra: dict = field(default_factory=dict)


def _batches(data: torch.Tensor, batch: int, steps: int, generator: torch.Generator):
    """`steps` mini-batches of `batch` pictures drawn at random from `data`."""
    for _ in range(steps):
        yield data[torch.randint(len(data), (batch,), generator=generator)]


def _mlp(*widths: int, act: Callable[[], nn.Module] = nn.SiLU) -> nn.Sequential:
    """Linear layers of the given widths with an activation between them (none after the last)."""
    layers: list[nn.Module] = []
    for i in range(len(widths) - 1):
        layers.append(nn.Linear(widths[i], widths[i + 1]))
        if i < len(widths) - 2:
            layers.append(act())
    return nn.Sequential(*layers)


def _seeded(seed: int, build: Callable):
    """`build()` with the initial weights drawn from `seed`; torch's global random state is left as it was."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return build()


def _leaky() -> nn.Module:
    return nn.LeakyReLU(0.2)


# --------------------------------------------------------------------------------------------
# The data: cat silhouettes
# --------------------------------------------------------------------------------------------


def cat_silhouettes(n: int = 2048, size: int = 16, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """
    `n` black-and-white cat silhouettes of `size` × `size` pixels: the shared data set of chapter 1.

    Each cat is drawn by the embedded model's data generator (random pose, direction, size and
    position) at 4 times the target size, averaged down and cut at one half, so that every pixel is
    exactly 0 (background) or 1 (cat). That makes blur easy to see and to measure.

    Taught in: chapter 1 (A short history of generative models).

    Args:
        n (`int`, defaults to 2048):
            How many pictures, from 1 to 100 000.
        size (`int`, defaults to 16):
            Pixels per side, from 8 to 64.
        seed (`int`, defaults to 0):
            The seed of the random cats; the same seed gives the same pictures.

    Returns:
        `tuple(torch.Tensor, torch.Tensor)`: the pictures, float32 of shape `(n, 1, size, size)` with
        values 0 or 1 (1 = cat), and the kind of each cat, int64 of shape `(n,)`, an index into `KINDS`.

    Raises:
        `CourseInputError`: if an argument is out of range.
    """
    n = _check_int("n", n, 1, 100_000)
    size = _check_int("size", size, 8, 64)
    seed = _check_int("seed", seed, 0, 2**32 - 1)
    rng = np.random.default_rng(seed)
    pictures = np.empty((n, size, size), np.float32)
    kinds = np.empty(n, np.int64)
    for i in range(n):
        spec = D.random_spec(rng, held_out=None)
        # the data generator's own silhouette, drawn 4 × larger, then averaged down
        mask = D._mask(spec, 4 * size / D.SIZE).resize((size, size), Image.Resampling.BOX)
        pictures[i] = np.asarray(mask, np.float32) > 127.5
        kinds[i] = (0 if spec.pose == "sitting" else 2) + (0 if spec.facing == 1 else 1)
    return torch.from_numpy(pictures).unsqueeze(1), torch.from_numpy(kinds)


# --------------------------------------------------------------------------------------------
# 1. GAN (Goodfellow et al. 2014): a forger and a detective
# --------------------------------------------------------------------------------------------


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
        self.net = _mlp(latent, hidden, hidden, size * size, act=_leaky)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.net(z)).view(-1, 1, self.size, self.size)


class Discriminator(nn.Module):
    """D(x): pictures (B, 1, H, W) -> the logit of "this picture is real", shape (B,)."""

    def __init__(self, hidden: int, size: int):
        super().__init__()
        self.net = _mlp(size * size, hidden, hidden, 1, act=_leaky)

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


@_one_thread
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
    data = _check_images(data, "data")
    cfg = cfg or GANConfig()
    g = torch.Generator().manual_seed(cfg.seed)
    size = data.shape[-1]
    G, Dnet = _seeded(cfg.seed, lambda: (Generator(cfg.latent, cfg.hidden, size), Discriminator(cfg.hidden, size)))
    opt_g = torch.optim.Adam(G.parameters(), lr=cfg.lr, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(Dnet.parameters(), lr=cfg.lr, betas=(0.5, 0.999))
    z_watch = torch.randn(64, cfg.latent, generator=torch.Generator().manual_seed(cfg.seed + 1))
    losses: dict[str, list[float]] = {"D": [], "G": []}
    variety: list[tuple[int, float]] = []
    t0 = time.perf_counter()
    for step, real in enumerate(_batches(data, cfg.batch, cfg.steps, g)):
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


@_one_thread
@torch.no_grad()
def sample_gan(trained: Trained, n: int, seed: int = 0) -> torch.Tensor:
    """
    `n` pictures from a trained GAN: z ~ N(0, I), x = G(z). One network call for all of them.

    Taught in: chapter 1 (A short history of generative models).

    Returns:
        `torch.Tensor` of shape `(n, 1, H, W)`, values in (0, 1).
    """
    n = _check_int("n", n, 1, 10_000)
    G = _check_trained(trained, "GAN", Generator)
    z = torch.randn(n, G.latent, generator=torch.Generator().manual_seed(seed))
    return G(z)


# --------------------------------------------------------------------------------------------
# 2. VAE (Kingma & Welling 2013): describe a picture in a few numbers, then redraw it
# --------------------------------------------------------------------------------------------


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
        self.encoder = _mlp(size * size, hidden, hidden, 2 * latent)
        self.decoder = _mlp(latent, hidden, hidden, size * size)

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


@_one_thread
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
    data = _check_images(data, "data")
    cfg = cfg or VAEConfig()
    g = torch.Generator().manual_seed(cfg.seed)
    model = _seeded(cfg.seed, lambda: VAE(cfg.latent, cfg.hidden, data.shape[-1]))
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    losses: dict[str, list[float]] = {"-ELBO": [], "reconstruction": [], "KL": []}
    t0 = time.perf_counter()
    for x in _batches(data, cfg.batch, cfg.steps, g):
        loss, recon, kl = vae_loss(model, x, g)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        for name, value in zip(losses, (loss, recon, kl)):
            losses[name].append(value.item())
    seconds = time.perf_counter() - t0
    model.eval()
    return Trained(model, losses, seconds, cfg)


@_one_thread
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
    n = _check_int("n", n, 1, 10_000)
    model = _check_trained(trained, "VAE", VAE)
    z = torch.randn(n, model.latent, generator=torch.Generator().manual_seed(seed))
    return torch.sigmoid(model.decode(z))


@_one_thread
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
    model = _check_trained(trained, "VAE", VAE)
    if model.latent != 2:
        raise CourseInputError(f"vae_latent_map draws a 2-number code on a page; this VAE has {model.latent}.")
    n = _check_int("n", n, 2, 32)
    axis = torch.linspace(-span, span, n)
    z2, z1 = torch.meshgrid(axis.flip(0), axis, indexing="ij")
    return torch.sigmoid(model.decode(torch.stack([z1.flatten(), z2.flatten()], dim=1)))


# --------------------------------------------------------------------------------------------
# 3. Autoregressive (MADE, Germain et al. 2015; PixelCNN, van den Oord et al. 2016): pixel by pixel
# --------------------------------------------------------------------------------------------


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


@_one_thread
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
    data = _check_images(data, "data")
    cfg = cfg or ARConfig()
    g = torch.Generator().manual_seed(cfg.seed)
    model = _seeded(cfg.seed, lambda: AutoregressiveNet(cfg.hidden, data.shape[-1]))
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    losses: dict[str, list[float]] = {"-log p(x)": []}
    t0 = time.perf_counter()
    for x in _batches(data, cfg.batch, cfg.steps, g):
        # -log p(x) = Σ_i -log p(x_i | x_<i), a binary cross-entropy per pixel
        loss = F.binary_cross_entropy_with_logits(model(x), x, reduction="sum") / len(x)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        losses["-log p(x)"].append(loss.item())
    seconds = time.perf_counter() - t0
    model.eval()
    return Trained(model, losses, seconds, cfg)


@_one_thread
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
    n = _check_int("n", n, 1, 10_000)
    model = _check_trained(trained, "autoregressive", AutoregressiveNet)
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


# --------------------------------------------------------------------------------------------
# 4. Diffusion (DDPM, Ho et al. 2020): learn to remove noise, then start from pure noise
# --------------------------------------------------------------------------------------------


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
        self.time = _mlp(32, hidden, 2 * hidden)  # t -> a scale and a shift for the first hidden layer
        self.inp = nn.Linear(size * size, hidden)
        self.net = _mlp(hidden, hidden, hidden, size * size)

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


@_one_thread
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
    data = _check_images(data, "data")
    cfg = cfg or DiffusionConfig()
    g = torch.Generator().manual_seed(cfg.seed)
    # ᾱ_t = Π_{s≤t} (1 - β_s)
    abar = _alphas_cumprod(make_betas(cfg.schedule, cfg.num_train_timesteps))
    model = _seeded(cfg.seed, lambda: Denoiser(cfg.hidden, data.shape[-1], abar))
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    losses: dict[str, list[float]] = {"x0 MSE": []}
    t0 = time.perf_counter()
    for x in _batches(data, cfg.batch, cfg.steps, g):
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


@_one_thread
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
    n = _check_int("n", n, 1, 10_000)
    model = _check_trained(trained, "diffusion", Denoiser)
    abar = trained.extra["alphas_cumprod"] if isinstance(trained, Trained) else model.alphas_cumprod.double()
    T = abar.shape[0]
    steps = T if steps is None else _check_int("steps", steps, 1, T)
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


# --------------------------------------------------------------------------------------------
# All four at once (the practical path)
# --------------------------------------------------------------------------------------------


def train_all(data: torch.Tensor, scale: float = 1.0, seed: int = 0) -> dict[str, Trained]:
    """
    Train the four families on `data`, each with its default settings' steps times `scale`.

    Taught in: chapter 1 (A short history of generative models), practical path.

    Returns:
        `dict[str, Trained]` with keys "GAN", "VAE", "autoregressive" and "diffusion".
    """
    if isinstance(scale, bool) or not isinstance(scale, numbers.Real) or not 0.05 <= scale <= 10:
        raise CourseInputError(f"scale must be a number from 0.05 to 10 (1 = the full budget), got {scale!r}.")
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
    if family == "GAN":
        return sample_gan(trained, n, seed), 1
    if family == "VAE":
        return sample_vae(trained, n, seed), 1
    if family == "autoregressive":
        return sample_autoregressive(trained, n, seed)
    if family == "diffusion":
        return sample_diffusion(trained, n, seed=seed)
    raise CourseInputError(f"family must be one of {', '.join(FAMILIES)}, got {family!r}.")


# --------------------------------------------------------------------------------------------
# Measuring the weaknesses
# --------------------------------------------------------------------------------------------


def diversity(images: torch.Tensor) -> float:
    """
    How different the pictures of a set are from each other: the mean share of pixels in which two
    different pictures disagree (pixels counted as cat above one half).

    A model that draws the same few pictures again and again (mode collapse) scores far below its
    training data. Taught in: chapter 1.
    """
    x = (_check_images(images).flatten(1) > 0.5).double()
    n = len(x)
    if n < 2:
        return 0.0
    d = torch.cdist(x, x, p=1) / x.shape[1]  # share of disagreeing pixels, every pair
    return float(d.sum() / (n * (n - 1)))


def mid_grey_share(images: torch.Tensor, low: float = 0.2, high: float = 0.8) -> float:
    """
    The share of pixels that are neither clearly black nor clearly white (between `low` and `high`).

    The data are pure black and white, so they score 0; a blurry model scores high. Taught in: chapter 1.
    """
    x = _check_images(images)
    return float(((x > low) & (x < high)).float().mean())


def nearest_distance(images: torch.Tensor, data: torch.Tensor) -> float:
    """
    How far the pictures are from being real cats: for each picture (pixels counted as cat above one
    half), the share of pixels in which it differs from the closest training picture; averaged.

    0 would mean every picture is a copy of a training cat, so read it together with `diversity`.
    Taught in: chapter 1.
    """
    x = (_check_images(images).flatten(1) > 0.5).double()
    y = (_check_images(data, "data").flatten(1) > 0.5).double()
    return float((torch.cdist(x, y, p=1).min(dim=1).values / x.shape[1]).mean())


def kind_coverage(images: torch.Tensor, data: torch.Tensor, kinds: torch.Tensor) -> torch.Tensor:
    """
    How the pictures spread over the four `KINDS` of cat: each picture takes the kind of its closest
    training picture. Taught in: chapter 1.

    Returns:
        `torch.Tensor` of shape `(4,)`, float64: the share of pictures of each kind (sums to 1).
    """
    x = (_check_images(images).flatten(1) > 0.5).double()
    y = (_check_images(data, "data").flatten(1) > 0.5).double()
    nearest = torch.cdist(x, y, p=1).argmin(dim=1)
    return torch.bincount(kinds[nearest], minlength=len(KINDS)).double() / len(x)


# --------------------------------------------------------------------------------------------
# Figures
# --------------------------------------------------------------------------------------------


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
        pics = _check_images(pics, f"rows[{label!r}]")
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


def picture_grid(pictures: torch.Tensor, cols: int = 8, scale: int = 6, pad: int = 1) -> Image.Image:
    """
    Pictures (N, 1, H, W) in [0, 1] as one PIL image: black cats on white, enlarged `scale` times with
    crisp pixels, `pad` white pixels between them (before enlarging). Taught in: chapter 1.
    """
    x = _check_images(pictures).clamp(0, 1)
    cols = _check_int("cols", cols, 1, 1000)
    scale = _check_int("scale", scale, 1, 64)
    n, _, h, w = x.shape
    rows = math.ceil(n / cols)
    canvas = torch.zeros(rows * (h + pad) + pad, min(cols, n) * (w + pad) + pad)
    for i in range(n):
        r, c = divmod(i, cols)
        canvas[pad + r * (h + pad): pad + r * (h + pad) + h, pad + c * (w + pad): pad + c * (w + pad) + w] = x[i, 0]
    img = Image.fromarray(((1 - canvas.numpy()) * 255).round().astype(np.uint8)).convert("RGB")  # 2-D uint8: "L"
    return img.resize((img.width * scale, img.height * scale), Image.Resampling.NEAREST)


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
    rows: dict[str, list] = {}
    g = torch.Generator().manual_seed(seed)
    z = torch.randn(1, painters["GAN"].model.latent, generator=g)
    side = int(math.isqrt(z.shape[1]))
    gan_start = ((z[0, : side * side].view(1, 1, side, side) / 2.5 + 1) / 2).clamp(0, 1)
    rows["GAN"] = [(gan_start, f"{z.shape[1]} random numbers")] + [None] * 4
    rows["GAN"].append((sample_gan(painters["GAN"], 1, seed), "finished"))
    zv = torch.randn(1, painters["VAE"].model.latent, generator=g)
    code = "z = (" + ", ".join(f"{v:.1f}" for v in zv[0].tolist()) + ")"
    rows["VAE"] = [(code, f"{zv.shape[1]} random numbers")] + [None] * 4
    with torch.no_grad():
        rows["VAE"].append((torch.sigmoid(painters["VAE"].model.decode(zv)), "finished"))

    for family, sampler in (("autoregressive", sample_autoregressive), ("diffusion", sample_diffusion)):
        frames: list[torch.Tensor] = []
        final, calls = sampler(painters[family], 1, seed=seed, callback=lambda i, x, keep=frames: keep.append(x))
        if family == "autoregressive":
            start, what = (torch.zeros_like(final), "empty canvas"), "pixels"
        else:
            first = torch.randn(final.shape, generator=torch.Generator().manual_seed(seed))
            start, what = (((first + 1) / 2).clamp(0, 1), "pure static"), "steps"
        picks = [round(calls * k / 5) for k in (1, 2, 3, 4)]
        rows[family] = [start] + [(frames[k - 1], f"{k} of {calls} {what}") for k in picks]
        rows[family].append((final, "finished"))

    calls_text = {"GAN": "1 call", "VAE": "1 call",
                  "autoregressive": f"{painters['autoregressive'].model.size ** 2} calls",
                  "diffusion": f"{painters['diffusion'].extra['alphas_cumprod'].shape[0]} calls"}
    for r, (family, items) in enumerate(rows.items()):
        for c, item in enumerate(items):
            ax = axes[r, c]
            ax.set_xticks([])
            ax.set_yticks([])
            if item is None:
                ax.axis("off")
                if c == 2:
                    ax.annotate("", xy=(2.6, 0.5), xytext=(-0.6, 0.5), xycoords="axes fraction",
                                arrowprops=dict(arrowstyle="->", color="0.4", lw=1.2))
                    ax.text(1.0, 0.62, "one network call", ha="center", va="bottom", fontsize=9, color="0.3",
                            transform=ax.transAxes)
                continue
            picture, caption = item
            if isinstance(picture, str):
                ax.text(0.5, 0.5, picture, ha="center", va="center", fontsize=9, transform=ax.transAxes)
            else:
                ax.imshow(picture[0, 0].numpy(), cmap="gray_r", vmin=0, vmax=1, interpolation="nearest")
            ax.set_title(caption, fontsize=8.5)
        axes[r, 0].set_ylabel(f"{family}\n({calls_text[family]})", rotation=0, ha="right", va="center", fontsize=10)
    fig.suptitle("How each family paints a cat", fontsize=12)
    fig.subplots_adjust(left=2.0 / (cols * size + 2.2), right=0.99, top=0.88, bottom=0.02, wspace=0.12, hspace=0.45)
    return fig


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
    from matplotlib.lines import Line2D

    now = max(2025, datetime.date.today().year) if now is None else _check_int("now", now, 2025, 2100)
    for era, _caption, _picture in thumbnails:
        _check_int("era index", era, 0, len(ERAS) - 1)
    W, Hfig = 12.5, 6.6
    fig = plt.figure(figsize=(W, Hfig))
    lo, hi = 2013.4, now + 1
    ax = fig.add_axes([0.03, 0.45, 0.94, 0.44])
    ax.set_xlim(lo, hi)
    ax.set_ylim(-0.3, 5.2)
    for (first, last, name, look), colour in zip(ERAS, _ERA_COLOURS):
        end = hi if last is None else last + 1
        ax.axvspan(first, end, color=colour, zorder=0)
        years = f"{first}–{'today' if last is None else last}"
        ax.text((first + end) / 2, 4.9, f"{name} ({years})", ha="center", va="center", fontsize=10.5, weight="bold")
        ax.text((first + end) / 2, 4.45, look, ha="center", va="center", fontsize=9.5, style="italic")
    ax.axhline(0, color="0.3", lw=1.2, zorder=1)
    heights = (0.55, 1.45, 2.35, 3.25)
    for year, name, family, (text_x, row) in MILESTONES:
        colour = _FAMILY_COLOURS[family]
        ax.plot(year, 0, "o", color=colour, ms=6, zorder=3)
        ax.annotate(name, xy=(year, 0), xytext=(text_x, heights[row]), ha="center", va="bottom", fontsize=8.3,
                    linespacing=1.0, zorder=4, bbox=dict(boxstyle="round,pad=0.2", fc="white", ec=colour, lw=1),
                    arrowprops=dict(arrowstyle="-", color=colour, lw=0.9, shrinkA=0, shrinkB=0))
    ax.set_yticks([])
    ax.set_xticks(range(2014, now + 1))
    ax.tick_params(axis="x", labelsize=9)
    ax.set_xlabel("year of the first paper or public release", fontsize=9)
    for spine in ("left", "right", "top"):
        ax.spines[spine].set_visible(False)
    handles = [Line2D([], [], marker="o", ls="", color=c, label=f) for f, c in _FAMILY_COLOURS.items()]
    fig.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0.955), ncol=5, fontsize=9, frameon=False)
    fig.suptitle("From fuzzy to photorealistic: a timeline of image generation", fontsize=13, y=0.995)

    # thumbnails under each era, side by side, as large as the era's width allows
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
