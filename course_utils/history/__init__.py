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

The package reads in the chapter's order, nanoGPT-style, each family in one file (its settings as a
commented dataclass, the network, the training loop, the sampler):

    data            the cat silhouettes
    training        what the training loops share (the `Trained` result, mini-batches, one thread)
    gan, vae, autoregressive, ddpm
                    the four families
    measures        each family's weakness as a number
    painters        all four at once (the practical path)
    figures         rows of samples, and how each family paints a cat
    timeline        the practical path's timeline of image generation

Every random draw uses a seeded `torch.Generator` or `np.random.default_rng`, so the same settings
give the same models and pictures on the same machine and library versions. Training and sampling
run on one CPU thread (see `training.one_thread`).

Taught in: chapter 1 (A short history of generative models), technical and practical paths.
"""

from .autoregressive import ARConfig, AutoregressiveNet, MaskedLinear, sample_autoregressive, train_autoregressive
from .data import KINDS, cat_silhouettes
from .ddpm import Denoiser, DiffusionConfig, sample_diffusion, train_diffusion
from .figures import painting_figure, picture_rows, sample_grid
from .gan import Discriminator, GANConfig, Generator, gan_value, sample_gan, train_gan
from .measures import diversity, kind_coverage, mid_grey_share, nearest_distance
from .painters import FAMILIES, sample, train_all
from .timeline import ERAS, MILESTONES, course_timeline, timeline_figure
from .training import StepCallback, Trained
from .vae import VAE, VAEConfig, sample_vae, train_vae, vae_latent_map, vae_loss

__all__ = [
    "ERAS",
    "FAMILIES",
    "KINDS",
    "MILESTONES",
    "ARConfig",
    "AutoregressiveNet",
    "Denoiser",
    "DiffusionConfig",
    "Discriminator",
    "GANConfig",
    "Generator",
    "MaskedLinear",
    "StepCallback",
    "Trained",
    "VAE",
    "VAEConfig",
    "cat_silhouettes",
    "course_timeline",
    "diversity",
    "gan_value",
    "kind_coverage",
    "mid_grey_share",
    "nearest_distance",
    "painting_figure",
    "sample_grid",
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
