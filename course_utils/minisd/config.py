"""Architecture and training settings of the embedded model, in one commented dataclass.

The embedded model ("minisd-cats") is built like Stable Diffusion 1.x, only small: a CLIP text
encoder, a KL autoencoder (VAE) and a text-conditioned U-Net, with a DDIM scheduler. Two differences,
both in the U-Net's ResNet blocks: they also hear a pooling of the prompt, and they apply the timestep
after their group norm instead of before it (see `unet_pool_heads` and `unet_time_scale_shift`).
Taught in: chapter 4 (the parts of the pipeline) and chapter 6 (what they cost).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..paths import MODELS, REPO_ROOT

MODEL_NAME = "minisd-cats"
MODEL_DIR = MODELS / MODEL_NAME


@dataclass
class MiniSDConfig:
    """The settings of `python -m course_utils.minisd.train`, as shipped. What other values measured (the runs
    behind these choices) is in the model card, ``assets/models/minisd-cats/README.md`` (written by card.py)."""

    # --- where things go
    out_dir: Path = MODEL_DIR  # the shipped model, in diffusers' folder format
    work_dir: Path = REPO_ROOT / "build" / "minisd"  # data cache, checkpoints, loss logs (git-ignored)
    seed: int = 0

    # --- data: procedurally drawn captioned cats (see data.py)
    n_images: int = 24_000  # training pictures, drawn once and cached
    caption_attr_drop: float = 0.12  # chance to leave each of pattern/background/style out of a caption
    caption_fur_drop: float = 0.04  # chance to leave the fur colour out of a U-Net caption as well
    caption_drop: float = 0.1  # chance of an empty caption, so classifier-free guidance works
    n_portraits: int = 8_000  # close-ups of cats' faces, for the stages `vae_photos` and `unet_portraits`

    # --- tokenizer and text encoder (CLIP-style: trained contrastively with an image tower)
    max_length: int = 32  # tokens per prompt (Stable Diffusion 1.x uses 77)
    text_width: int = 128  # width of each token embedding (SD 1.x: 768)
    text_layers: int = 4
    text_heads: int = 4
    vision_layers: int = 3
    vision_patch: int = 16  # 64x64 pictures -> a 4x4 grid of patches
    projection_dim: int = 128
    clip_steps: int = 1200
    clip_batch: int = 128
    clip_lr: float = 5e-4
    # The judge (metrics.ClipJudge): this CLIP with its image tower tuned further on pictures of every
    # combination, held-out ones included; the text tower, which conditions the U-Net, stays frozen.
    judge_images: int = 6_000
    judge_portraits: int = 2_000  # close-ups, so that the judge reads a face's fur, backdrop and style too
    judge_steps: int = 400
    judge_lr: float = 2e-4

    # --- autoencoder: 64x64x3 pixels <-> 16x16x4 latents (a factor 4 per side, SD uses 8)
    vae_channels: tuple[int, ...] = (16, 32, 64)
    latent_channels: int = 4
    vae_steps: int = 4000
    vae_batch: int = 32
    vae_lr: float = 1e-3
    vae_kl_weight: float = 1e-6
    # Second stage (`vae_photos`): the same autoencoder trained further on drawn cats and crops of real photos,
    # half of each batch (photos.py; MAU's photo is never a training picture).
    vae_photo_steps: int = 1_200
    vae_photo_lr: float = 6e-4
    vae_photo_crops: int = 20_000
    vae_photo_decoder: bool = False  # train the decoder too (as shipped only the encoder learns)
    vae_photo_ssim: float = 0.0  # weight of 1 - SSIM of the grey levels in the loss (train.grey_ssim_loss)
    vae_anchor_weight: float = 0.0  # drawn cats keep their first-stage latents (squared error, U-Net units)
    vae_keep_decoder: float = 0.0  # L1 weight: the U-Net's own latents decode as before (train._decoder_bank)
    vae_keep_bank: int = 512  # latents drawn by the U-Net for that (20 DDIM steps, guidance 7.5)
    vae_keep_batch: int = 8  # of them in each step

    # --- U-Net: two levels, 16x16 and 8x8, convolutions at both; shallow, since on a CPU the cost of a call this
    # small is mostly the number of layers, not their width
    unet_channels: tuple[int, ...] = (32, 64)
    # cross-attention at 8x8 (down, middle and up) and on the way down at 16x16 (--no-cross-attention-16: 8x8 only)
    unet_down: tuple[str, ...] = ("CrossAttnDownBlock2D", "CrossAttnDownBlock2D")
    unet_up: tuple[str, ...] = ("CrossAttnUpBlock2D", "UpBlock2D")
    unet_heads: tuple[int, ...] = (1, 2)  # attention heads per level: 64 channels / 2 heads = 32 per head
    # Heads of an attention pooling of the prompt's token states, added to the timestep embedding of every ResNet
    # block (diffusers' `addition_embed_type="text"`, as in DeepFloyd IF; the plain StableDiffusionPipeline feeds
    # it). 0 = off, as in Stable Diffusion 1.x.
    unet_pool_heads: int = 4
    # How a ResNet block takes that embedding: "scale_shift" after its GroupNorm, as (1 + scale) * h + shift
    # (ADM's adaptive group norm); "default" adds it before the norm, as SD 1.x does.
    unet_time_scale_shift: str = "scale_shift"
    unet_steps: int = 5_000
    unet_batch: int = 128
    unet_lr: float = 1e-3
    # Cap of the decay of the weights' exponential moving average (EMA), which is what is shipped; the decay
    # warms up as (1 + step) / (10 + step) below it (ema.UNetEMA).
    ema_decay: float = 0.999
    unet_snapshot: bool = False  # at every checkpoint, also save the EMA weights so far as <stage>_snapshot/
    unet_snr_gamma: float = 0.0  # Min-SNR loss weighting (Hang et al. 2023, e.g. 5); 0 = the plain DDPM loss
    # An optional second stage (`unet_portraits`, e.g. `--portrait-steps 1500`): the U-Net trained further from
    # the first stage's EMA weights with close-ups of faces as a `portrait_share` of every batch. 0 = off.
    portrait_steps: int = 0
    portrait_lr: float = 1.5e-4
    portrait_share: float = 0.25
    # A few-step student distilled from the U-Net (distill.py: latent consistency distillation, the teacher's
    # guidance folded in), shipped beside it as unet_lcm/ with an LCMScheduler (scheduler_lcm/). 0 steps: no student.
    lcm_steps: int = 600
    lcm_batch: int = 64
    lcm_lr: float = 1e-4
    lcm_guidance: float = 6.0  # the teacher's guidance scale on its trajectories (the student needs none)
    lcm_grid: int = 50  # the teacher's DDIM grid: one step jumps 1000 / 50 = 20 training timesteps
    lcm_target_decay: float = 0.95  # the target network: an exponential moving average of the student
    lcm_shuffle: float = 0.5  # share of the batch whose caption is another training picture's (not its own)
    # bfloat16 autocast in training where the hardware supports it (see train.autocast); float32 where it is not
    bf16: bool = True

    # --- noise schedule (the same as Stable Diffusion 1.x)
    num_train_timesteps: int = 1000
    beta_start: float = 0.00085
    beta_end: float = 0.012
    beta_schedule: str = "scaled_linear"

    checkpoint_every: int = 500
    extra: dict = field(default_factory=dict)
