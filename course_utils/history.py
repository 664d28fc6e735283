"""Four tiny generative models trained on the same pictures: GAN, VAE, autoregressive and diffusion.

Chapter 1 retells the history of image generation by *running* it. Every model here learns the
same data set, 16 × 16 black-and-white cat silhouettes drawn by the embedded model's own data
generator (`course_utils.minisd.data`), in a few seconds on a laptop CPU. Each family's typical
weakness then shows up in a number that chapter 1 measures:

    family           paper                     weakness measured here
    GAN              Goodfellow et al. 2014    mode collapse: less variety than the data
    VAE              Kingma & Welling 2013     blur: many grey pixels where the data has none
    autoregressive   van den Oord et al. 2016  one network call per pixel when sampling
    diffusion        Ho et al. 2020            one network call per denoising step

The file reads top to bottom, nanoGPT-style: the data, then one section per family (settings as a
commented dataclass, the network, the training loop, the sampler), then the measurements and the
timeline figure of the practical path. Every random draw uses a seeded `torch.Generator` or
`np.random.default_rng`, so the same settings give the same models and pictures on the same
machine and library versions. Nothing here changes `torch.set_num_threads`.

Taught in: chapter 1 (A short history of generative models), technical and practical paths.
"""

from __future__ import annotations

import math
import numbers
import time
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
    "KINDS",
    "DiffusionConfig",
    "GANConfig",
    "ARConfig",
    "Trained",
    "VAEConfig",
    "cat_silhouettes",
    "diversity",
    "gan_value",
    "kind_coverage",
    "mid_grey_share",
    "nearest_distance",
    "sample_diffusion",
    "sample_gan",
    "sample_autoregressive",
    "sample_vae",
    "train_diffusion",
    "train_gan",
    "train_autoregressive",
    "train_vae",
    "vae_loss",
]

# The four kinds of cat in the data set: pose × which way the cat faces.
KINDS = ("sitting, facing right", "sitting, facing left", "lying, facing right", "lying, facing left")


# --------------------------------------------------------------------------------------------
# Input checks
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


# --------------------------------------------------------------------------------------------
# The data: cat silhouettes
# --------------------------------------------------------------------------------------------


def cat_silhouettes(n: int = 2048, size: int = 16, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """
    `n` black-and-white cat silhouettes of `size` × `size` pixels: the shared data set of chapter 1.

    Each cat is drawn by the embedded model's data generator (random pose, direction, size and
    position), at 4 times the target size, averaged down and thresholded at one half, so that every
    pixel is exactly 0 (background) or 1 (cat). That makes blur easy to see and to measure.

    Taught in: chapter 1 (A short history of generative models).

    Args:
        n (`int`, defaults to 2048):
            How many pictures, from 1 to 100 000.
        size (`int`, defaults to 16):
            Pixels per side, from 8 to 64.
        seed (`int`, defaults to 0):
            The seed of the random cats; the same seed gives the same pictures.

    Returns:
        `tuple(torch.Tensor, torch.Tensor)`: the pictures, float32 of shape `(n, 1, size, size)`
        with values 0 or 1, and the kind of each cat, int64 of shape `(n,)`, an index into `KINDS`.

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
        # the generator's own silhouette drawing, 4 × supersampled, then averaged down
        mask = D._mask(spec, 4 * size / D.SIZE).resize((size, size), Image.Resampling.BOX)
        pictures[i] = np.asarray(mask, np.float32) > 127.5
        kinds[i] = (0 if spec.pose == "sitting" else 2) + (0 if spec.facing == 1 else 1)
    return torch.from_numpy(pictures).unsqueeze(1), torch.from_numpy(kinds)


def _batches(data: torch.Tensor, batch: int, steps: int, generator: torch.Generator):
    """`steps` random mini-batches of `data` (drawn with replacement across batches)."""
    for _ in range(steps):
        yield data[torch.randint(len(data), (batch,), generator=generator)]


@dataclass
class Trained:
    """A trained model, its loss curves and how long training took.

    Attributes:
        model (`torch.nn.Module`): the network that makes pictures (for a GAN, the generator).
        losses (`dict[str, list[float]]`): one loss curve per name, one value per training step.
        seconds (`float`): wall-clock training time on this machine.
        config (dataclass): the settings it was trained with.
        extra (`dict`): anything else a family needs to sample (the discriminator, the schedule).
    """

    model: nn.Module
    losses: dict[str, list[float]]
    seconds: float
    config: object
    extra: dict = field(default_factory=dict)


def _mlp(*widths: int, act: type[nn.Module] = nn.SiLU) -> nn.Sequential:
    """Linear layers of the given widths with an activation between them (none after the last)."""
    layers: list[nn.Module] = []
    for i in range(len(widths) - 1):
        layers.append(nn.Linear(widths[i], widths[i + 1]))
        if i < len(widths) - 2:
            layers.append(act())
    return nn.Sequential(*layers)


# --------------------------------------------------------------------------------------------
# 1. GAN (Goodfellow et al. 2014): a forger and a detective
# --------------------------------------------------------------------------------------------


@dataclass
class GANConfig:
    latent: int = 16  # size of the random code z the generator starts from
    hidden: int = 256  # width of the hidden layers of both networks
    steps: int = 1500  # training steps (one detective update + one forger update each)
    batch: int = 64
    lr: float = 1e-3  # Adam learning rate of both networks
    seed: int = 0


class Generator(nn.Module):
    """G(z): a random code z of shape (B, latent) -> pictures (B, 1, H, W) in [0, 1]."""

    def __init__(self, latent: int, hidden: int, size: int):
        super().__init__()
        self.latent, self.size = latent, size
        self.net = _mlp(latent, hidden, hidden, size * size, act=lambda: nn.LeakyReLU(0.2))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.net(z)).view(-1, 1, self.size, self.size)


class Discriminator(nn.Module):
    """D(x): pictures (B, 1, H, W) -> the logit of "this picture is real", shape (B,)."""

    def __init__(self, hidden: int, size: int):
        super().__init__()
        self.net = _mlp(size * size, hidden, hidden, 1, act=lambda: nn.LeakyReLU(0.2))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x.flatten(1)).squeeze(1)


def gan_value(d_real_logits: torch.Tensor, d_fake_logits: torch.Tensor) -> torch.Tensor:
    """
    The GAN value function V(D, G) = E[log D(x)] + E[log(1 - D(G(z)))], from the detective's logits.

    The detective maximises it, the forger minimises it (Goodfellow et al. 2014, eq. 1).

    Taught in: chapter 1 (A short history of generative models).

    Args:
        d_real_logits (`torch.Tensor` of shape `(B,)`): D's logits on real pictures.
        d_fake_logits (`torch.Tensor` of shape `(B,)`): D's logits on generated pictures.

    Returns:
        `torch.Tensor`, 0-dim: V. It equals -2 log 2 ≈ -1.386 when D answers one half everywhere.
    """
    # log D(x) = log σ(logit) = -softplus(-logit);  log(1 - D(G(z))) = -softplus(logit)
    return (-F.softplus(-d_real_logits)).mean() + (-F.softplus(d_fake_logits)).mean()


def train_gan(data: torch.Tensor, cfg: GANConfig | None = None) -> Trained:
    """
    Train a GAN: the discriminator D learns to tell real pictures from G's, G learns to fool D.

        min_G max_D  E_x[log D(x)] + E_z[log(1 - D(G(z)))]

    G is trained with the "non-saturating" loss -log D(G(z)) that the GAN paper recommends in
    practice: it gives G strong gradients early, when D easily spots its forgeries.

    Taught in: chapter 1 (A short history of generative models).

    Args:
        data (`torch.Tensor` of shape `(N, 1, H, W)`): training pictures with values in [0, 1].
        cfg (`GANConfig`, *optional*): the settings; defaults to `GANConfig()`.

    Returns:
        `Trained`: the generator, the losses "D" and "G" per step, the seconds it took, and the
        discriminator in ``extra["discriminator"]``.
    """
    data = _check_images(data, "data")
    cfg = cfg or GANConfig()
    g = torch.Generator().manual_seed(cfg.seed)
    torch.manual_seed(cfg.seed)  # the networks' initial weights
    size = data.shape[-1]
    G, Dnet = Generator(cfg.latent, cfg.hidden, size), Discriminator(cfg.hidden, size)
    opt_g = torch.optim.Adam(G.parameters(), lr=cfg.lr, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(Dnet.parameters(), lr=cfg.lr, betas=(0.5, 0.999))
    losses: dict[str, list[float]] = {"D": [], "G": []}
    t0 = time.perf_counter()
    for real in _batches(data, cfg.batch, cfg.steps, g):
        z = torch.randn(cfg.batch, cfg.latent, generator=g)
        # 1. the detective: maximise log D(x) + log(1 - D(G(z)))  <=>  minimise -V
        fake = G(z)
        loss_d = -gan_value(Dnet(real), Dnet(fake.detach()))
        opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        opt_d.step()
        # 2. the forger: minimise -log D(G(z)) (non-saturating)
        loss_g = F.softplus(-Dnet(fake)).mean()
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()
        losses["D"].append(loss_d.item())
        losses["G"].append(loss_g.item())
    G.eval()
    return Trained(G, losses, time.perf_counter() - t0, cfg, {"discriminator": Dnet.eval()})


@torch.no_grad()
def sample_gan(trained: Trained, n: int, seed: int = 0) -> torch.Tensor:
    """`n` pictures from a trained GAN: x = G(z), z ~ N(0, I). One network call. Shape (n, 1, H, W)."""
    n = _check_int("n", n, 1, 10_000)
    G = trained.model
    z = torch.randn(n, G.latent, generator=torch.Generator().manual_seed(seed))
    return G(z)


# --------------------------------------------------------------------------------------------
# 2. VAE (Kingma & Welling 2013): describe a picture in a few numbers, then redraw it
# --------------------------------------------------------------------------------------------


@dataclass
class VAEConfig:
    latent: int = 8  # numbers in the code z (Stable Diffusion's VAE: 4 × 64 × 64)
    hidden: int = 256
    steps: int = 1500
    batch: int = 64
    lr: float = 2e-3
    seed: int = 0


class VAE(nn.Module):
    """Encoder q(z|x) -> (mean, log-variance) of shape (B, latent); decoder p(x|z) -> pixel logits."""

    def __init__(self, latent: int, hidden: int, size: int):
        super().__init__()
        self.latent, self.size = latent, size
        self.encoder = _mlp(size * size, hidden, hidden, 2 * latent)
        self.decoder = _mlp(latent, hidden, hidden, size * size)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mean, logvar = self.encoder(x.flatten(1)).chunk(2, dim=1)
        return mean, logvar

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """The logits of p(x|z), shape (B, 1, H, W); σ(logits) is the decoder's picture."""
        return self.decoder(z).view(-1, 1, self.size, self.size)


def vae_loss(model: VAE, x: torch.Tensor, generator: torch.Generator | None = None):
    """
    The negative ELBO of a batch, per picture: reconstruction error + KL(q(z|x) ‖ N(0, I)).

        -ELBO = E_q[-log p(x|z)] + KL(q(z|x) ‖ p(z)),   KL = ½ Σ (μ² + σ² - 1 - log σ²)

    with z = μ + σ ε (the reparameterisation trick) and a Bernoulli decoder, whose -log p(x|z) is
    the binary cross-entropy summed over the pixels.

    Taught in: chapter 1 (A short history of generative models).

    Returns:
        `tuple(torch.Tensor, torch.Tensor, torch.Tensor)`, each 0-dim: -ELBO, the reconstruction
        term and the KL term, all averaged over the batch.
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


def train_vae(data: torch.Tensor, cfg: VAEConfig | None = None) -> Trained:
    """
    Train a VAE by maximising the ELBO (minimising `vae_loss`).

    Taught in: chapter 1 (A short history of generative models).

    Args:
        data (`torch.Tensor` of shape `(N, 1, H, W)`): training pictures with values in [0, 1].
        cfg (`VAEConfig`, *optional*): the settings; defaults to `VAEConfig()`.

    Returns:
        `Trained`: the VAE, the losses "-ELBO", "reconstruction" and "KL" per step, and the seconds.
    """
    data = _check_images(data, "data")
    cfg = cfg or VAEConfig()
    g = torch.Generator().manual_seed(cfg.seed)
    torch.manual_seed(cfg.seed)
    model = VAE(cfg.latent, cfg.hidden, data.shape[-1])
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    losses: dict[str, list[float]] = {"-ELBO": [], "reconstruction": [], "KL": []}
    t0 = time.perf_counter()
    for x in _batches(data, cfg.batch, cfg.steps, g):
        loss, recon, kl = vae_loss(model, x, g)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        for k, v in zip(losses, (loss, recon, kl)):
            losses[k].append(v.item())
    model.eval()
    return Trained(model, losses, time.perf_counter() - t0, cfg)


@torch.no_grad()
def sample_vae(trained: Trained, n: int, seed: int = 0) -> torch.Tensor:
    """
    `n` pictures from a trained VAE: z ~ N(0, I), x = σ(decoder(z)). One network call.

    The picture is the decoder's *mean*, the average of all the pictures it finds likely for z;
    that average is where the VAE's blur comes from. Shape (n, 1, H, W), values in [0, 1].
    """
    n = _check_int("n", n, 1, 10_000)
    model = trained.model
    z = torch.randn(n, model.latent, generator=torch.Generator().manual_seed(seed))
    return torch.sigmoid(model.decode(z))


# --------------------------------------------------------------------------------------------
# 3. Autoregressive (MADE, Germain et al. 2015; PixelCNN, van den Oord et al. 2016): pixel by pixel
# --------------------------------------------------------------------------------------------


@dataclass
class ARConfig:
    hidden: int = 512  # width of the two masked hidden layers
    steps: int = 1500
    batch: int = 64
    lr: float = 1e-3
    seed: int = 0


class MaskedLinear(nn.Linear):
    """A linear layer with some connections cut for good: y = x (W ⊙ M)ᵀ + b."""

    def __init__(self, mask: torch.Tensor):
        super().__init__(mask.shape[1], mask.shape[0])
        self.register_buffer("mask", mask.float())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.weight * self.mask, self.bias)


class AutoregressiveNet(nn.Module):
    """
    A masked network (MADE) over the pixels in reading order: output i sees only pixels 0 ... i-1.

    Pictures (B, 1, H, W) -> logits of p(x_i = 1 | x_<i) for every pixel i, shape (B, 1, H, W).
    Every hidden unit k gets a "degree" m(k) from 1 to D-1 and may only see pixels with an index
    below m(k); output i may only read units whose degree is at most i. PixelCNN enforces the same
    rule with masked convolutions; a transformer over pixels (as in DALL·E) with a causal mask.
    """

    def __init__(self, hidden: int, size: int):
        super().__init__()
        self.size = size
        d = size * size
        pixel = torch.arange(d)  # pixel i (0-based) is the (i+1)-th in reading order
        degree = torch.arange(hidden) % (d - 1) + 1  # m(k) ∈ {1, ..., D-1}, spread evenly
        self.net = nn.Sequential(
            MaskedLinear(degree[:, None] > pixel[None, :]),  # unit k sees pixels i < m(k)
            nn.ReLU(),
            MaskedLinear(degree[:, None] >= degree[None, :]),  # degrees never decrease
            nn.ReLU(),
            MaskedLinear(pixel[:, None] >= degree[None, :]),  # output i reads units with m(k) ≤ i
        )
        self.direct = MaskedLinear(pixel[:, None] > pixel[None, :])  # a direct path from every earlier pixel

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        flat = x.flatten(1)
        return (self.net(flat) + self.direct(flat)).view(-1, 1, self.size, self.size)


def train_autoregressive(data: torch.Tensor, cfg: ARConfig | None = None) -> Trained:
    """
    Train an autoregressive model: maximise log p(x) = Σ_i log p(x_i | x_<i), all pixels at once.

    Training is parallel because the masks make every pixel's prediction read only earlier pixels
    of the *real* picture ("teacher forcing"); sampling cannot be, see `sample_autoregressive`.

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
    torch.manual_seed(cfg.seed)
    model = AutoregressiveNet(cfg.hidden, data.shape[-1])
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
    model.eval()
    return Trained(model, losses, time.perf_counter() - t0, cfg)


@torch.no_grad()
def sample_autoregressive(trained: Trained | nn.Module, n: int, seed: int = 0) -> tuple[torch.Tensor, int]:
    """
    `n` pictures, one pixel at a time in reading order: x_i ~ p(x_i | x_<i).

    Every pixel needs a fresh network call on the picture drawn so far, so an H × W picture takes
    H·W calls, however many pictures are drawn side by side in the batch.

    Taught in: chapter 1 (A short history of generative models).

    Args:
        trained (`Trained` or `AutoregressiveNet`): the model (an untrained net is fine for timing).
        n (`int`): how many pictures, drawn side by side.
        seed (`int`, defaults to 0): the seed of the coin flips.

    Returns:
        `tuple(torch.Tensor, int)`: the pictures, shape (n, 1, H, W) with values 0 or 1, and the
        number of network calls it took (H·W).
    """
    n = _check_int("n", n, 1, 10_000)
    model = trained.model if isinstance(trained, Trained) else trained
    g = torch.Generator().manual_seed(seed)
    x = torch.zeros(n, model.size * model.size)
    calls = 0
    for i in range(x.shape[1]):
        # p(x_i = 1 | x_<i): one call on the picture so far (pixels i, i+1, ... are still 0 and unseen)
        p = torch.sigmoid(model(x).flatten(1)[:, i])
        calls += 1
        x[:, i] = (torch.rand(n, generator=g) < p).float()
    return x.view(n, 1, model.size, model.size), calls


# --------------------------------------------------------------------------------------------
# 4. Diffusion (DDPM, Ho et al. 2020): learn to remove noise, then start from pure noise
# --------------------------------------------------------------------------------------------


@dataclass
class DiffusionConfig:
    num_train_timesteps: int = 100  # T; DDPM and Stable Diffusion use 1000
    schedule: str = "cosine"  # β_t from make_betas; the cosine schedule spends few steps on pure noise
    hidden: int = 256
    steps: int = 1200
    batch: int = 64
    lr: float = 2e-3
    seed: int = 0


class Denoiser(nn.Module):
    """
    ε_θ(x_t, t): noisy pictures (B, 1, H, W) in [-1, 1] and timesteps (B,) -> predicted noise (B, 1, H, W).

    Inside, a small MLP guesses the clean picture x̂_0 (`clean`), and `forward` turns that guess into
    the noise it implies, ε̂ = (x_t - √ᾱ_t x̂_0) / √(1-ᾱ_t). Both carry the same information (one
    follows from the other through the closed form of the forward process), but a small MLP learns
    "what does the clean cat look like" much faster than "which of 256 random numbers is noise".
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
        # sinusoidal embedding of t, as in the Transformer and in DDPM's U-Net
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


def train_diffusion(data: torch.Tensor, cfg: DiffusionConfig | None = None) -> Trained:
    """
    Train a DDPM denoiser: noise pictures to random timesteps, learn to undo the noise.

        x_t = √ᾱ_t x_0 + √(1-ᾱ_t) ε,   loss = ‖x_0 - x̂_0(x_t, t)‖²

    This is DDPM's Algorithm 1 (Ho et al. 2020) with the network's guess written as the clean
    picture instead of the noise (see `Denoiser`); Ho et al. compare both. Pictures are mapped from
    [0, 1] to [-1, 1] first, the range diffusion models expect.

    Taught in: chapter 1 (A short history of generative models); chapter 2 goes deeper.

    Args:
        data (`torch.Tensor` of shape `(N, 1, H, W)`): training pictures with values in [0, 1].
        cfg (`DiffusionConfig`, *optional*): the settings; defaults to `DiffusionConfig()`.

    Returns:
        `Trained`: the denoiser, the loss "x0 MSE" per step, the seconds, and the schedule's
        ᾱ (float64) in ``extra["alphas_cumprod"]``.
    """
    data = _check_images(data, "data")
    cfg = cfg or DiffusionConfig()
    g = torch.Generator().manual_seed(cfg.seed)
    torch.manual_seed(cfg.seed)
    # ᾱ_t = Π_{s≤t} (1 - β_s)
    abar = _alphas_cumprod(make_betas(cfg.schedule, cfg.num_train_timesteps))
    model = Denoiser(cfg.hidden, data.shape[-1], abar)
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
    model.eval()
    return Trained(model, losses, time.perf_counter() - t0, cfg, {"alphas_cumprod": abar})


@torch.no_grad()
def sample_diffusion(trained: Trained, n: int, steps: int | None = None, seed: int = 0) -> tuple[torch.Tensor, int]:
    """
    `n` pictures from a trained denoiser with DDPM's sampler: from pure noise, `steps` reverse steps.

        x_prev = μ̃(x_t, x̂_0) + σ_t z,   x̂_0 = (x_t - √(1-ᾱ_t) ε_θ(x_t, t)) / √ᾱ_t

    With fewer steps than the T it was trained with, the sampler jumps over timesteps ("leading"
    spacing, as diffusers' `DDPMScheduler.set_timesteps`): faster, and at some point worse. The
    noise comes from one CPU `torch.Generator`, drawn as diffusers' `DDPMScheduler.step(...,
    generator=g)` draws it, so the same loop written with diffusers gives the same pictures.

    Taught in: chapter 1 (A short history of generative models); chapter 2 goes deeper.

    Args:
        trained (`Trained`): what `train_diffusion` returned.
        n (`int`): how many pictures, drawn side by side.
        steps (`int`, *optional*): denoising steps, from 1 to T; defaults to T.
        seed (`int`, defaults to 0): the seed of the starting noise and of every step's noise.

    Returns:
        `tuple(torch.Tensor, int)`: the pictures, shape (n, 1, H, W), mapped back to [0, 1], and
        the number of network calls (`steps`).
    """
    n = _check_int("n", n, 1, 10_000)
    abar = trained.extra["alphas_cumprod"]
    T = abar.shape[0]
    steps = T if steps is None else _check_int("steps", steps, 1, T)
    model = trained.model
    g = torch.Generator().manual_seed(seed)
    # 1. start from pure noise, x_T ~ N(0, I)
    x = torch.randn(n, 1, model.size, model.size, generator=g)
    timesteps = timesteps_for(steps, T)
    for i, t in enumerate(timesteps.tolist()):
        prev_t = int(timesteps[i + 1]) if i + 1 < len(timesteps) else -1
        # 2. ε̂ = ε_θ(x_t, t), one network call
        eps = model(x, torch.full((n,), t, dtype=torch.long))
        # 3. x_prev = μ̃ + σ_t z (DDPM's step, diffusers' clip_sample=True)
        x, _ = p_sample(x, eps, t, prev_t, abar, clip_sample=True, generator=g)
    # 4. [-1, 1] -> [0, 1]
    return ((x + 1) / 2).clamp(0, 1), len(timesteps)


# --------------------------------------------------------------------------------------------
# Measuring the weaknesses
# --------------------------------------------------------------------------------------------


def diversity(images: torch.Tensor) -> float:
    """
    Mean distance between two different pictures of a set: the share of pixels in which they differ.

    A model that makes the same few pictures again and again (mode collapse) scores far below its
    training data. Taught in: chapter 1.
    """
    x = _check_images(images).flatten(1).double()
    d = torch.cdist(x, x, p=1) / x.shape[1]  # mean |a - b| per pixel for every pair
    n = len(x)
    return float(d.sum() / (n * (n - 1))) if n > 1 else 0.0


def mid_grey_share(images: torch.Tensor, low: float = 0.2, high: float = 0.8) -> float:
    """
    Share of pixels that are neither clearly black nor clearly white (between `low` and `high`).

    The data are pure black and white, so this is 0 for them; a blurry model scores high.
    Taught in: chapter 1.
    """
    x = _check_images(images)
    return float(((x > low) & (x < high)).float().mean())


def nearest_distance(images: torch.Tensor, data: torch.Tensor) -> float:
    """
    For each picture, the share of pixels in which it differs from the closest training picture
    (after rounding it to black and white); averaged over the pictures. Lower is more cat-like.

    Taught in: chapter 1.
    """
    x = (_check_images(images).flatten(1) > 0.5).double()
    y = _check_images(data, "data").flatten(1).double()
    return float((torch.cdist(x, y, p=1).min(dim=1).values / x.shape[1]).mean())


def kind_coverage(images: torch.Tensor, data: torch.Tensor, kinds: torch.Tensor) -> torch.Tensor:
    """
    How the pictures spread over the four `KINDS` of cat: each picture takes the kind of its closest
    training picture. Returns the share of each kind, shape (4,), summing to 1. Taught in: chapter 1.
    """
    x = _check_images(images).flatten(1).double()
    y = _check_images(data, "data").flatten(1).double()
    nearest = torch.cdist(x, y, p=1).argmin(dim=1)
    return torch.bincount(kinds[nearest], minlength=len(KINDS)).double() / len(x)
