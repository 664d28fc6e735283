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

REPO_ROOT = Path(__file__).resolve().parents[2]
MODEL_NAME = "minisd-cats"
MODEL_DIR = REPO_ROOT / "assets" / "models" / MODEL_NAME


@dataclass
class MiniSDConfig:
    # --- where things go
    out_dir: Path = MODEL_DIR  # the shipped model, in diffusers' folder format
    work_dir: Path = REPO_ROOT / "build" / "minisd"  # data cache, checkpoints, loss logs (git-ignored)
    seed: int = 0

    # --- data: procedurally drawn captioned cats (see data.py)
    n_images: int = 24_000  # training pictures, drawn once and cached
    caption_attr_drop: float = 0.12  # chance to leave each of pattern/background/style out of a caption
    # Chance to leave the fur colour out of a U-Net caption as well. Real captions never say everything; a U-Net
    # trained on some that leave the fur out follows the fur word less without guidance, so guidance has more to
    # add: on seen prompts, guidance 1.0 fell 19-27 points below 7.5 at 0.04-0.12 against 6-12 at 0 (pixel rules,
    # the model card's tables). At 0.12 held-out combinations fell to 69 % by the tiny CLIP.
    caption_fur_drop: float = 0.04
    caption_drop: float = 0.1  # chance of an empty caption, so classifier-free guidance works (0.2: worse)
    n_portraits: int = 8_000  # close-ups of cats' faces, for the second U-Net stage (`unet_portraits`)

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
    # The judge (metrics.ClipJudge) is this CLIP with its image tower tuned further on pictures of every
    # combination, held-out ones included; the text tower, which conditions the U-Net, stays frozen. Untuned,
    # it read only about 83 % of real held-out pictures right (100 % of seen ones).
    judge_images: int = 6_000
    judge_portraits: int = 2_000  # close-ups, so that the judge reads a face's fur, backdrop and style too
    judge_steps: int = 400
    judge_lr: float = 2e-4

    # --- autoencoder: 64x64x3 pixels <-> 16x16x4 latents (a factor 4 per side, SD uses 8)
    vae_channels: tuple[int, ...] = (16, 32, 64)
    latent_channels: int = 4
    # 4,000 steps of batch 32: a shorter run (2,400 of 16) blurred sprite pixels so much that only about
    # 81 % of pixel-art pictures still read as pixel art after a trip through the VAE (now 99 %).
    vae_steps: int = 4000
    vae_batch: int = 32
    vae_lr: float = 1e-3
    vae_kl_weight: float = 1e-6
    # Second stage: the same autoencoder trained further on drawn cats and crops of real photos (half of each
    # batch), so that a photo survives the trip through it (photos.py; MAU's photo is never a training picture).
    # As shipped only the encoder learns: every picture text-to-image makes is drawn by the decoder, and the
    # U-Net stays the first stage's. MAU's round trip: grey SSIM 0.66, CIEDE2000 11.0 (first stage: 0.65, 17.4).
    vae_photo_steps: int = 1_200
    vae_photo_lr: float = 6e-4
    vae_photo_crops: int = 20_000
    # Train the decoder too? Not as shipped. Measured with the same U-Net, on the 192 seen prompts of
    # `make eval-model` by the pixel rules (91.7 % as shipped; the bound is 90 %), MAU's round trip beside it:
    # * decoder trained, no other term (2,000 steps, 96 prompts): 74 % against 94 %; MAU 0.79 / 6.4;
    # * 2,400 steps with `vae_photo_ssim` 0.1, `vae_anchor_weight` 1 and `vae_keep_decoder` 1 (batch 8):
    #   89.1 %; MAU 0.78 / 7.1, drawn cats 0.905 / 4.8 (first stage 0.883 / 5.7);
    # * the same with `vae_keep_decoder` 3 on 16 latents a step: 90.6 %; MAU 0.75 / 10.9.
    # The decoder's few hundred thousand weights trade photos against the U-Net's crisp drawings.
    vae_photo_decoder: bool = False
    vae_photo_ssim: float = 0.0  # weight of 1 - SSIM of the grey levels in the loss (train.grey_ssim_loss)
    vae_anchor_weight: float = 0.0  # drawn cats keep their first-stage latents (squared error, U-Net units)
    vae_keep_decoder: float = 0.0  # L1 weight: the U-Net's own latents decode as before (train._decoder_bank)
    vae_keep_bank: int = 512  # latents drawn by the U-Net for that (20 DDIM steps, guidance 7.5)
    vae_keep_batch: int = 8  # of them in each step

    # --- U-Net: two levels, 16x16 and 8x8, with convolutions at both; cross-attention at 8x8 (down, middle and
    # up) and on the way down at 16x16. On a CPU the cost of a call this small is mostly the number of layers,
    # not their width, so the U-Net is shallow: one call on a batch of two takes about 13 ms on two cores.
    unet_channels: tuple[int, ...] = (32, 64)
    # Cross-attention on the way down at 16x16 too, where a style's fine detail (screentone, sprite pixels, soft
    # shading) is drawn. With the fur left out of 4 % of captions in every run (same data, CLIP and VAE), one
    # training with it composed held-out combinations at 81 % by both judges, against 79-81 % (pixel rules) and
    # 79 % (tiny CLIP) in two trainings without it: within what two trainings of one recipe differ by, so no
    # proof that it composes better. Guidance added 25 points on seen prompts, against 19-22 without it. It
    # costs a transformer block at 16x16: 15 to 35 % more time per picture on a 2-core Xeon with AMX (two
    # measurements), and 30 % more training time (54.6 min against 42.1 on that CPU).
    unet_down: tuple[str, ...] = ("CrossAttnDownBlock2D", "CrossAttnDownBlock2D")
    unet_up: tuple[str, ...] = ("CrossAttnUpBlock2D", "UpBlock2D")
    unet_heads: tuple[int, ...] = (1, 2)  # attention heads per level: 64 channels / 2 heads = 32 per head
    # Two paths for the timestep and the prompt into every ResNet block (beside cross-attention):
    # * `unet_pool_heads`: an attention pooling of the encoder's token states is added to the timestep
    #   embedding (diffusers' `addition_embed_type="text"`, as DeepFloyd IF does; SDXL adds a pooled prompt
    #   too). The plain StableDiffusionPipeline feeds it, since it reads only `encoder_hidden_states`.
    #   0 = off, as in Stable Diffusion 1.x.
    # * `unet_time_scale_shift`: how a ResNet block takes that embedding. "default" (SD 1.x) adds it to the
    #   features just before the block's second GroupNorm. At 16x16, 16 groups on 32 channels: each group
    #   holds two channels, and the norm subtracts their common mean, so half of what was added is removed and
    #   the rest is rescaled by statistics of the whole picture (a big black cat changes them).
    #   "scale_shift" applies it after the norm, as (1 + scale) * h + shift (FiLM; ADM's adaptive group
    #   norm, also used by Kandinsky and unCLIP in diffusers).
    # Both are on as shipped: measured on their own and together, with the same data, CLIP, VAE and 5,000
    # steps, they lifted seen adherence from 88 to 93 % (pixel rules) and kept held-out combinations at
    # 83-85 % by both judges. The pooled prompt alone reached 91 % seen but only 75 % held-out (tiny CLIP);
    # scale and shift alone, 88 % seen. The model card (card.py, "Limitations") gives the four variants.
    unet_pool_heads: int = 4
    unet_time_scale_shift: str = "scale_shift"
    unet_steps: int = 5_000
    unet_batch: int = 128
    unet_lr: float = 1e-3
    # The shipped weights are an exponential moving average (EMA) of the trained ones. The EMA composes held-out
    # combinations better and leaves guidance more to do; 6,000 steps fitted seen prompts no better (93 %) and
    # guidance 1.0 fell only 2 points below 7.5 (the model card's table). This is a cap: the decay warms up as
    # (1 + step) / (10 + step), which reaches 0.999 only at step 8,991, so in 5,000 steps the cap never binds
    # (0.998 at the last step; a cap of 0.9995 trained byte-identical weights on the same machine).
    ema_decay: float = 0.999
    # Min-SNR loss weighting (Hang et al. 2023, gamma = 5 in the paper); 0 = the plain DDPM loss, which
    # trained the shipped model. Beware: a model that follows its prompt well without guidance makes
    # guidance (chapter 7) show little; `make eval-model` measures both. With gamma = 5 this U-Net fitted
    # the seen combinations better (96 % by the pixel rules) but composed held-out ones worse (73 % by the
    # tiny CLIP), and guidance 1.0 fell only 4 points below 7.5 (the model card's table).
    unet_snr_gamma: float = 0.0
    # An optional second stage: the U-Net trained further from the first stage's EMA weights, with close-ups
    # of faces as a share of every batch (`--portrait-steps 1500`). Off (0) as shipped: three such runs (a
    # quarter to a half of each batch close-ups, learning rate 1.5e-4 to 3e-4, 1,500 steps) taught close-ups
    # but cost whole cats 20 points of seen adherence by the pixel rules (69-75 % against 94 % on 96 prompts;
    # sprites and photo-style cats drawn as cartoons, now and then a face where a whole cat was asked for).
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
    # bfloat16 autocast in training where the hardware supports it (see train._autocast): about 20 %
    # faster on a CPU with AVX-512 BF16 (the shipped model was trained so); float32 where it is not.
    bf16: bool = True

    # --- noise schedule (the same as Stable Diffusion 1.x)
    num_train_timesteps: int = 1000
    beta_start: float = 0.00085
    beta_end: float = 0.012
    beta_schedule: str = "scaled_linear"

    checkpoint_every: int = 500
    extra: dict = field(default_factory=dict)
