"""The denoiser's stages: ``unet`` (from random weights, on the full-body cats) and ``unet_portraits``
(trained further on close-ups too), with what they share: the U-Net and its noise schedule, the
cached latents, the captions of a batch and the ε-prediction loss (optionally Min-SNR weighted)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from course_utils.diffusion import q_sample

from . import data as D
from .config import MiniSDConfig
from .data_stages import batch_to_tensor, load_data
from .loop import autocast, train_device, train_loop, write_timing
from .text_stages import load_tokenizer, tokenize


# --- stage: unet ----------------------------------------------------------------------------------
def build_unet(cfg: MiniSDConfig):
    from diffusers import UNet2DConditionModel

    torch.manual_seed(cfg.seed)
    pooled = dict(addition_embed_type="text", addition_embed_type_num_heads=cfg.unet_pool_heads) \
        if cfg.unet_pool_heads else {}
    return UNet2DConditionModel(
        sample_size=D.SIZE // 4, in_channels=cfg.latent_channels, out_channels=cfg.latent_channels,
        down_block_types=cfg.unet_down, up_block_types=cfg.unet_up,
        block_out_channels=cfg.unet_channels, layers_per_block=1, norm_num_groups=16,
        # Beware diffusers' naming: for this U-Net, `attention_head_dim` is read as the NUMBER of heads
        # per level (and `num_attention_heads` is refused), so the heads are given here.
        cross_attention_dim=cfg.text_width, attention_head_dim=list(cfg.unet_heads),
        resnet_time_scale_shift=cfg.unet_time_scale_shift, **pooled)


def min_snr_weight(alpha_bar: torch.Tensor, gamma: float) -> torch.Tensor:
    """Loss weight min(SNR, γ) / SNR per picture for ε-prediction ("Min-SNR", Hang et al. 2023).

    SNR = ᾱ / (1 − ᾱ). The nearly clean timesteps (large SNR), where the loss is easy and teaches only
    fine detail, count less, so more of the training goes to the noisy ones that decide colour and
    layout. ``gamma = 0`` gives weight 1 everywhere: the plain DDPM loss.
    """
    if not gamma:
        return torch.ones_like(alpha_bar)
    snr = alpha_bar / (1 - alpha_bar)
    return snr.clamp(max=gamma) / snr


def build_scheduler(cfg: MiniSDConfig, kind: str = "ddim"):
    from diffusers import DDIMScheduler, DDPMScheduler

    common = dict(num_train_timesteps=cfg.num_train_timesteps, beta_start=cfg.beta_start,
                  beta_end=cfg.beta_end, beta_schedule=cfg.beta_schedule, clip_sample=False,
                  prediction_type="epsilon")
    if kind == "ddpm":
        return DDPMScheduler(**common)
    return DDIMScheduler(**common, set_alpha_to_one=False, steps_offset=1)


def encode_all(cfg, vae, images, dev, name: str = "latents") -> torch.Tensor:
    path = cfg.work_dir / f"{name}.pt"
    if path.exists():
        return torch.load(path, weights_only=True)
    gen = torch.Generator().manual_seed(cfg.seed + 3)
    out = []
    with torch.no_grad():
        for i in tqdm(range(0, len(images), 256), desc="encoding latents"):
            post = vae.encode(batch_to_tensor(images[i:i + 256]).to(dev)).latent_dist
            out.append((post.mean.cpu() , post.std.cpu()))
    mean = torch.cat([m for m, _ in out])
    std = torch.cat([s for _, s in out])
    lat = torch.stack([mean, std], 1) * vae.config.scaling_factor  # (N, 2, C, h, w)
    del gen
    torch.save(lat, path)
    return lat


def stage_unet(cfg: MiniSDConfig, init_from: Path | None = None) -> Path:
    """The denoiser, from random weights (or `init_from`), on the full-body pictures."""
    return _train_unet(cfg, "unet", init_from=init_from, vae_name="vae", steps=cfg.unet_steps, lr=cfg.unet_lr,
                       warmup=300)


def stage_unet_portraits(cfg: MiniSDConfig) -> Path | None:
    """The denoiser trained further, from the `unet` stage's weights, on full-body pictures and close-ups
    (a `portrait_share` of each batch), in the latents of the photo-trained autoencoder (`vae_photos`).
    It learns what a face filling the frame looks like in each style, which image-to-image of a close-up
    photo (MAU's) needs, and it relearns the slightly moved latents of the new autoencoder."""
    if not cfg.portrait_steps:  # off as shipped (the model card says why)
        return None
    return _train_unet(cfg, "unet_portraits", init_from=cfg.work_dir / "unet", vae_name="vae_photos",
                       steps=cfg.portrait_steps, lr=cfg.portrait_lr, warmup=100, portraits=True)


def _captions(cfg: MiniSDConfig, specs, rng: np.random.Generator, n_full: int | None) -> tuple[np.ndarray, list[str]]:
    """A U-Net batch: picture indices and their captions (`caption_drop` of them empty). With `n_full`, the
    pictures from that index on are close-ups, and a `portrait_share` of the batch is drawn from them."""
    if n_full is not None:  # a share of each batch from the close-ups, the rest from the full-body pictures
        k = int(rng.binomial(cfg.unet_batch, cfg.portrait_share))
        idx = np.concatenate([rng.integers(0, n_full, cfg.unet_batch - k), rng.integers(n_full, len(specs), k)])
    else:
        idx = rng.integers(0, len(specs), cfg.unet_batch)
    caps = ["" if rng.random() < cfg.caption_drop else
            D.caption(specs[i], rng, drop_p=cfg.caption_attr_drop, fur_drop_p=cfg.caption_fur_drop) for i in idx]
    return idx, caps


def _eps_loss(cfg: MiniSDConfig, unet, text_encoder, tok, lat: torch.Tensor, specs, dev, n_full: int | None):
    """The U-Net stage's loss function: the simple DDPM loss, ε-prediction, on a sample of the VAE posterior
    of each picture (`lat` holds means and standard deviations), optionally weighted (see min_snr_weight)."""
    abar = build_scheduler(cfg, "ddpm").alphas_cumprod.to(dev)

    def loss_fn(rng, gen):
        idx, caps = _captions(cfg, specs, rng, n_full)
        with torch.no_grad(), autocast(cfg, dev):
            cond = text_encoder(tokenize(tok, caps).to(dev)).last_hidden_state.float()
        m, s = lat[idx, 0], lat[idx, 1]
        x0 = (m + s * torch.randn(m.shape, generator=gen)).to(dev)  # a sample of the VAE posterior
        noise = torch.randn(x0.shape, generator=gen).to(dev)
        t = torch.randint(0, cfg.num_train_timesteps, (len(idx),), generator=gen).to(dev)
        xt = q_sample(x0, t, noise, abar)  # q(x_t | x_0) in closed form, chapter 2's function
        with autocast(cfg, dev):
            pred = unet(xt, t, cond).sample.float()
        w = min_snr_weight(abar[t], cfg.unet_snr_gamma)
        return (F.mse_loss(pred, noise, reduction="none").mean((1, 2, 3)) * w).mean()

    return loss_fn


def _unet_latents(cfg: MiniSDConfig, vae_name: str, portraits: bool, dev):
    """The training pictures' latents in the autoencoder `vae_name` (cached), their specs, and with
    `portraits` the close-ups' appended (then also the number of full-body pictures before them)."""
    from diffusers import AutoencoderKL

    vae = AutoencoderKL.from_pretrained(cfg.work_dir / vae_name).to(dev).eval()
    images, specs = load_data(cfg)
    lat = encode_all(cfg, vae, images, dev, name="latents" if vae_name == "vae" else f"latents_{vae_name}")
    if not portraits:
        return lat, specs, None
    close, close_specs = load_data(cfg, "portraits")
    close_lat = encode_all(cfg, vae, close, dev, name=f"latents_portraits_{vae_name}")
    return torch.cat([lat, close_lat]), specs + close_specs, len(images)


def _train_unet(cfg: MiniSDConfig, name: str, *, init_from: Path | None, vae_name: str, steps: int, lr: float,
                warmup: int, portraits: bool = False) -> Path:
    from transformers import CLIPTextModel

    from .ema import UNetEMA

    out = cfg.work_dir / name
    if (out / "config.json").exists():
        return out
    dev = train_device()
    tok = load_tokenizer(cfg)
    text_encoder = CLIPTextModel.from_pretrained(cfg.work_dir / "clip").to(dev).eval()
    lat, specs, n_full = _unet_latents(cfg, vae_name, portraits, dev)
    unet = build_unet(cfg).to(dev)
    if init_from is not None:  # continue from trained weights (e.g. the shipped model) instead of random ones
        from diffusers import UNet2DConditionModel

        unet.load_state_dict(UNet2DConditionModel.from_pretrained(init_from).state_dict())
    ema = UNetEMA(unet.parameters(), decay=cfg.ema_decay)

    def snapshot() -> None:  # the EMA weights so far, for `--from-snapshot`
        if cfg.unet_snapshot:
            ema.store(unet.parameters())
            ema.copy_to(unet.parameters())
            unet.save_pretrained(cfg.work_dir / f"{name}_snapshot", safe_serialization=True)
            ema.restore(unet.parameters())

    opt = torch.optim.AdamW(unet.parameters(), lr=lr, weight_decay=0.01)
    _, elapsed = train_loop(cfg, name, unet, opt, _eps_loss(cfg, unet, text_encoder, tok, lat, specs, dev, n_full),
                            steps=steps, lr=lr, warmup=warmup, seeds=(cfg.seed + 4, cfg.seed + 4), state={"ema": ema},
                            after_step=lambda step: ema.step(unet.parameters()), on_checkpoint=snapshot)
    ema.copy_to(unet.parameters())  # the shipped weights are the moving average
    unet.cpu().save_pretrained(out, safe_serialization=True)
    write_timing(cfg, name, elapsed())
    return out
